"""What a renderer needs, as plain data: every text already worded from the content pack, so
a renderer never sees the pack, a user id or the database, and a spec crosses to a worker
process as it is (everything here pickles)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class ChartSpec:
    """Dose over time with the taken doses, and the stiffness score on the same time axis."""

    days: tuple[date, ...]
    planned_mg: tuple[float, ...]
    taken_mg: tuple[float, ...]
    stiffness: tuple[tuple[date, int], ...]
    title: str
    dose_axis: str
    stiffness_axis: str
    planned_label: str
    taken_label: str
    stiffness_label: str
    empty: str  # shown when no day has a planned dose


@dataclass(frozen=True)
class StairSpec:
    """The /plan picture: one bar of the daily total per step, labelled with its doses."""

    starts: tuple[date, ...]  # first day of each step
    days: tuple[int, ...]
    daily_mg: tuple[float, ...]
    labels: tuple[str, ...]  # per step, e.g. "Step 2: 10 mg x 3"
    continues: bool  # the last step's doses go on as maintenance
    continues_label: str
    today: date | None  # a marker, when inside the picture
    today_label: str
    title: str
    dose_axis: str
    # Issue 21: the last day the recorded supply covers, a marker when inside the picture.
    runs_out: date | None = None
    runs_out_label: str = ""


@dataclass(frozen=True)
class TableSpec:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class PdfSpec:
    title: str
    facts: tuple[str, ...]  # period, patient name (only if typed), zone, made on
    plan_heading: str
    plan_lines: tuple[str, ...]
    table_heading: str
    table: TableSpec
    empty_table: str  # instead of the table when no step is in the period
    chart_heading: str
    chart: ChartSpec
    notes_heading: str
    notes: tuple[str, ...]  # the patient's check-in notes, with their step and date
    footer: str
    author: str  # the PDF's producer metadata (never the patient)
    made_at: datetime
    corrections_heading: str = ""
    # Answers the patient undone (a mis-tap): "recorded as taken at 08:02, undone at 08:04".
    corrections: tuple[str, ...] = ()


@dataclass(frozen=True)
class CalendarEvent:
    uid: str  # the same for the same local date and time in every file (bot/domain/calendar.py)
    start_utc: datetime
    minutes: int
    title: str
    description: str
    cancelled: bool = False  # an earlier plan's dose time that the plan no longer has


@dataclass(frozen=True)
class CalendarSpec:
    name: str
    zone: str  # IANA name; event times are written in it, with its VTIMEZONE
    events: tuple[CalendarEvent, ...]  # by start time
    product: str
    made_at: datetime  # every event's DTSTAMP
    sequence: int  # every event's SEQUENCE: higher in every later file
