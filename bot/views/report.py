"""Words for /report, the /plan picture and /calendar: the domain's rows and slots turned into
the renderers' specs (``bot/reports/specs.py``), every label from the content pack.

The PDF, the CSV, the picture and the calendar are not Telegram HTML, so the texts are made
plain here (tags dropped, entities decoded) before they leave for the renderer.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.content import ContentPack
from bot.domain.calendar import event_uid, sequence
from bot.domain.checkins import Severity, SideEffect
from bot.domain.plans import Plan, Step, format_mg
from bot.domain.report import (
    CheckInRecord,
    Period,
    PlanRecord,
    Report,
    ReportRow,
    UndoneRecord,
    staircase,
)
from bot.domain.schedule import DoseSlot
from bot.reports.specs import (
    CalendarEvent,
    CalendarSpec,
    ChartSpec,
    PdfSpec,
    StairSpec,
    TableSpec,
)
from bot.views.doses import doses_text, plan_summary, wall

_TAG = re.compile(r"<[^>]+>")
CALENDAR_PRODUCT = "-//Baclofen companion bot//Dose calendar//EN"
CALENDAR_EVENT_MINUTES = 10


def plain(text: str) -> str:
    """Telegram HTML as plain text."""
    return html.unescape(_TAG.sub("", text))


def _text(pack: ContentPack, key: str, /, **params: object) -> str:
    return plain(pack.text(key, **params))


def _day(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def _short_day(day: date) -> str:
    return day.strftime("%d.%m")


def period_name(pack: ContentPack, period: Period) -> str:
    return _text(pack, f"report.period_{period.value}")


def _dates(row: ReportRow) -> str:
    if row.first_day == row.last_day:
        return _day(row.first_day)
    return f"{_day(row.first_day)} – {_day(row.last_day)}"


def _step_cell(pack: ContentPack, row: ReportRow) -> str:
    if row.maintenance:
        return _text(pack, "report.maintenance_cell")
    return _text(pack, "report.step_cell", step=row.step_number, steps=row.step_count)


def _doses_cell(pack: ContentPack, row: ReportRow) -> str:
    step = Step(row.doses, 1)
    daily = format_mg(row.daily_mg)
    return _text(pack, "report.doses_cell", doses=doses_text(pack, step), daily=daily)


def _severity(pack: ContentPack, checkin: CheckInRecord, effect: SideEffect) -> str:
    value = checkin.side_effects.get(effect.value, int(Severity.NONE))
    return _text(pack, f"checkin.severity_{value}")


def _checkin_cell(pack: ContentPack, checkin: CheckInRecord) -> str:
    if checkin.stiffness is not None and not checkin.side_effects:
        # Simple mode asks only the stiffness score: side effects were not asked, not "none".
        return _text(
            pack,
            "report.checkin_cell_stiffness",
            date=_short_day(checkin.local_date),
            stiffness=checkin.stiffness,
        )
    return _text(
        pack,
        "report.checkin_cell",
        date=_short_day(checkin.local_date),
        stiffness=checkin.stiffness if checkin.stiffness is not None else "-",
        **{effect.value: _severity(pack, checkin, effect) for effect in SideEffect},
    )


def _undone_line(pack: ContentPack, item: UndoneRecord) -> str:
    """ "10 mg due at 08:00: recorded as taken at 08:02, undone at 08:04" (times local; the
    undo's date only when it is another day, which the 5-minute window makes rare)."""
    return _text(
        pack,
        f"report.undone_{item.status}",
        date=_short_day(item.local_date),
        mg=format_mg(item.mg),
        due=item.due_local.strftime("%H:%M"),
        answered=item.answered_local.strftime("%H:%M"),
        undone=item.undone_local.strftime("%H:%M"),
    )


def _row_cells(pack: ContentPack, row: ReportRow) -> tuple[str, ...]:
    return (
        _step_cell(pack, row),
        _dates(row),
        _doses_cell(pack, row),
        str(row.taken),
        str(row.skipped),
        str(row.missed),
        str(row.not_reminded),
        "\n".join(_checkin_cell(pack, item) for item in row.checkins) or "-",
        "\n".join(
            _text(pack, "report.hold_cell", days=item.extra_days, date=_short_day(item.local_date))
            for item in row.holds
        )
        or "-",
    )


def table_header(pack: ContentPack) -> tuple[str, ...]:
    """The PDF table's column headings in the pack's language."""
    return tuple(
        _text(pack, f"report.col_{name}")
        for name in (
            "step",
            "dates",
            "doses",
            "taken",
            "skipped",
            "missed",
            "not_reminded",
            "checkins",
            "holds",
        )
    )


def report_table(pack: ContentPack, report: Report) -> TableSpec:
    return TableSpec(table_header(pack), tuple(_row_cells(pack, row) for row in report.rows))


def report_csv_table(pack: ContentPack, report: Report) -> TableSpec:
    """The same rows as the PDF, with dates in ISO form and numbers alone, for a spreadsheet."""
    starts = {record.plan_id: record.plan.start for record in report.plans}
    header = (
        _text(pack, "report.csv_plan_start"),
        *table_header(pack)[:1],
        _text(pack, "report.csv_first_day"),
        _text(pack, "report.csv_last_day"),
        table_header(pack)[2],
        _text(pack, "report.csv_daily_mg"),
        *table_header(pack)[3:],
        _text(pack, "report.csv_notes"),
    )
    rows = []
    for row in report.rows:
        cells = _row_cells(pack, row)
        rows.append(
            (
                starts[row.plan_id].isoformat(),
                cells[0],
                row.first_day.isoformat(),
                row.last_day.isoformat(),
                plain(doses_text(pack, Step(row.doses, 1))),
                format_mg(row.daily_mg),
                *(cell.replace("\n", "; ") for cell in cells[3:]),
                "; ".join(
                    [item.note for item in row.checkins if item.note]
                    + [_undone_line(pack, item) for item in row.undone]
                ),
            )
        )
    return TableSpec(header, tuple(rows))


def report_chart_spec(pack: ContentPack, report: Report) -> ChartSpec:
    return ChartSpec(
        days=tuple(point.day for point in report.days),
        planned_mg=tuple(float(point.planned_mg) for point in report.days),
        taken_mg=tuple(float(point.taken_mg) for point in report.days),
        stiffness=report.stiffness,
        title=_text(pack, "report.chart_title"),
        dose_axis=_text(pack, "report.chart_dose_axis"),
        stiffness_axis=_text(pack, "report.chart_stiffness_axis"),
        planned_label=_text(pack, "report.chart_planned"),
        taken_label=_text(pack, "report.chart_taken"),
        stiffness_label=_text(pack, "report.chart_stiffness"),
        empty=_text(pack, "report.chart_empty"),
    )


def _plan_lines(
    pack: ContentPack, records: Sequence[PlanRecord], zone: ZoneInfo, today: date
) -> list[str]:
    lines: list[str] = []
    for record in records:
        if len(records) > 1:
            key = "report.plan_ended" if record.ended_on else "report.plan_active"
            params: dict[str, object] = {"start": _day(record.plan.start)}
            if record.ended_on:
                params["end"] = _day(record.ended_on)
            lines.append(_text(pack, key, **params))
        # /plan's own lines: the report shows the plan exactly as the patient saw it.
        lines.extend(plain(plan_summary(pack, record.plan, zone, today)).splitlines()[1:])
    return lines


def _facts(
    pack: ContentPack,
    report: Report,
    zone: ZoneInfo,
    *,
    name: str | None,
    made_at: datetime,
    pump_line: str | None,
    supply_line: str | None,
) -> list[str]:
    """The lines under the title: the period, who, which plan kinds, when it was made."""
    kinds = sorted({_text(pack, f"plan.kind_{record.plan.kind}") for record in report.plans})
    facts = [
        _text(
            pack,
            "report.period",
            period=period_name(pack, report.period),
            start=_day(report.first_day),
            end=_day(report.last_day),
        ),
    ]
    if name:
        facts.append(_text(pack, "report.patient", name=name))
    if kinds:
        facts.append(_text(pack, "report.kind", kind=", ".join(kinds)))
    facts.append(
        _text(
            pack,
            "report.made",
            date=made_at.astimezone(zone).strftime("%d.%m.%Y %H:%M"),
            timezone=zone.key,
        )
    )
    if pump_line:  # issue 21: the next pump refill date the clinic gave
        facts.append(plain(pump_line))
    if supply_line:  # issue 21: the day the tablet or liquid supply runs out, as /plan says
        facts.append(plain(supply_line))
    return facts


def _note_lines(pack: ContentPack, report: Report) -> tuple[str, ...]:
    """The patient's check-in notes, each with its step and date."""
    return tuple(
        _text(
            pack,
            "report.note_line",
            step=_step_cell(pack, row),
            date=_short_day(item.local_date),
            note=item.note,
        )
        for row in report.rows
        for item in row.checkins
        if item.note
    )


def _correction_lines(pack: ContentPack, report: Report) -> tuple[str, ...]:
    """The answers the patient undid, each with its step."""
    return tuple(
        _text(pack, "report.undone_line", step=_step_cell(pack, row), line=_undone_line(pack, item))
        for row in report.rows
        for item in row.undone
    )


def report_pdf_spec(
    pack: ContentPack,
    report: Report,
    zone: ZoneInfo,
    *,
    name: str | None,
    made_at: datetime,
    pump_line: str | None = None,
    supply_line: str | None = None,
) -> PdfSpec:
    facts = _facts(
        pack,
        report,
        zone,
        name=name,
        made_at=made_at,
        pump_line=pump_line,
        supply_line=supply_line,
    )
    return PdfSpec(
        title=_text(pack, "report.title"),
        facts=tuple(facts),
        plan_heading=_text(pack, "report.plan_heading"),
        plan_lines=tuple(_plan_lines(pack, report.plans, zone, made_at.astimezone(zone).date())),
        table_heading=_text(pack, "report.table_heading"),
        table=report_table(pack, report),
        empty_table=_text(pack, "report.no_rows"),
        chart_heading=_text(pack, "report.chart_heading"),
        chart=report_chart_spec(pack, report),
        notes_heading=_text(pack, "report.notes_heading"),
        notes=_note_lines(pack, report),
        footer=_text(pack, "report.footer"),
        author=_text(pack, "report.author"),
        made_at=made_at,
        corrections_heading=_text(pack, "report.undone_heading"),
        corrections=_correction_lines(pack, report),
    )


def _short_doses(pack: ContentPack, step: Step) -> str:
    uniform = step.uniform_mg
    if uniform is not None:
        return _text(pack, "picture.doses_uniform", mg=format_mg(uniform), count=len(step.doses))
    amounts = "+".join(format_mg(dose.mg) for dose in step.doses)
    return _text(pack, "picture.doses_mixed", mg=amounts)


def plan_picture_spec(
    pack: ContentPack, plan: Plan, today: date, runs_out: date | None = None
) -> StairSpec:
    """The /plan picture; ``runs_out``: the last day the recorded supply covers (issue 21)."""
    stairs = staircase(plan)
    return StairSpec(
        starts=tuple(item.first_day for item in stairs),
        days=tuple(item.days for item in stairs),
        daily_mg=tuple(float(item.daily_mg) for item in stairs),
        labels=tuple(
            _text(
                pack,
                "picture.step_label",
                step=item.number,
                doses=_short_doses(pack, plan.steps[item.number - 1]),
            )
            for item in stairs
        ),
        continues=not plan.ends_after_last_step,
        continues_label=_text(pack, "picture.continues"),
        today=today,
        today_label=_text(pack, "picture.today"),
        title=_text(pack, "picture.title", kind=_text(pack, f"plan.kind_{plan.kind}")),
        dose_axis=_text(pack, "picture.dose_axis"),
        runs_out=runs_out,
        runs_out_label=""
        if runs_out is None
        else _text(pack, "picture.runs_out", date=pack.long_date(runs_out, today)),
    )


def _dose_event(
    pack: ContentPack, calendar_key: str, slot: DoseSlot, zone: ZoneInfo
) -> CalendarEvent:
    mg = format_mg(slot.mg)
    local = wall(slot.due_utc, zone)  # a travelling patient's local clock
    if slot.is_maintenance:
        title = _text(pack, "calendar.event_maintenance", mg=mg)
    else:
        title = _text(pack, "calendar.event", mg=mg, step=slot.step_number, steps=slot.step_count)
    return CalendarEvent(
        uid=event_uid(calendar_key, slot.local_date, slot.local_time),
        start_utc=slot.due_utc,
        minutes=CALENDAR_EVENT_MINUTES,
        title=title,
        description=_text(
            pack,
            "calendar.event_description",
            mg=mg,
            time=local.strftime("%H:%M"),
            day=slot.day_number,
            step=slot.step_number,
            steps=slot.step_count,
        ),
    )


def _cancelled_event(
    pack: ContentPack, calendar_key: str, slot: DoseSlot, zone: ZoneInfo
) -> CalendarEvent:
    # Worded as "no dose" too, for a calendar app that keeps the event but ignores STATUS.
    return CalendarEvent(
        uid=event_uid(calendar_key, slot.local_date, slot.local_time),
        start_utc=slot.due_utc,
        minutes=CALENDAR_EVENT_MINUTES,
        title=_text(pack, "calendar.event_cancelled"),
        description=_text(
            pack,
            "calendar.event_cancelled_description",
            time=wall(slot.due_utc, zone).strftime("%H:%M"),
        ),
        cancelled=True,
    )


def calendar_spec(
    pack: ContentPack,
    calendar_key: str,
    slots: Sequence[DoseSlot],
    zone: ZoneInfo,
    *,
    made_at: datetime,
    dropped: Sequence[DoseSlot] = (),
) -> CalendarSpec:
    """The coming doses (``slots``) and, cancelled, the dose times an earlier file may hold
    that the plan no longer has (``dropped``). Event ids: :func:`bot.domain.calendar.event_uid`
    (never the plan or the user id)."""
    events = [_dose_event(pack, calendar_key, slot, zone) for slot in slots]
    events.extend(_cancelled_event(pack, calendar_key, slot, zone) for slot in dropped)
    events.sort(key=lambda event: event.start_utc)
    return CalendarSpec(
        name=_text(pack, "calendar.name"),
        zone=zone.key,
        events=tuple(events),
        product=CALENDAR_PRODUCT,
        made_at=made_at,
        sequence=sequence(made_at),
    )
