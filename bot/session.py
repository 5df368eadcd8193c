"""What a chat is in the middle of between two updates: one typed :class:`Session` per user.

Each dialogue that waits for the patient's next press or message has one named slot here (a
:class:`Dialogue`), instead of loose ``user_data`` keys in each feature module. The session
lives in PTB's ``user_data``, in memory only: a restart forgets an unfinished dialogue (the
patient starts it again, and its buttons answer "no longer active"), and nothing half-done
reaches the database. Dialogues are independent: a plan can wait for Save while a check-in
waits for its note. ``docs/dialogues.md`` draws their states.

Broadcast drafts and caregiver invites are not here: they are rows in the database (an
admin's draft survives a restart; an invite is a token the other person redeems).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.domain.plans import Dose, Plan, Step, parse_mg, parse_time
from bot.domain.supply import Product


class Dialogue(StrEnum):
    """The dialogues a chat can be in the middle of (one slot each in :class:`Session`)."""

    SCHEDULE_GUIDE = "schedule_guide"  # guided standard plan: start -> times -> target
    DOSE_GUIDE = "dose_guide"  # guided "different doses at different times"
    PLAN_TO_SAVE = "plan_to_save"  # a plan summary waits for Save / Cancel
    CHECKIN_NOTE = "checkin_note"  # the next typed message is a check-in's note
    SUPPLY_COUNT = "supply_count"  # a product chosen by buttons waits for its count
    ERASURE = "erasure"  # /deleteme waits for its confirmation
    REPORT_NAME = "report_name"  # a name typed with /report waits for a period


@dataclass
class ScheduleGuide:
    """The guided standard plan so far: the start, then the dose times."""

    start: str | None = None  # "today" or "tomorrow"
    times: str | None = None  # one of the time presets, "08:00,14:00,20:00"


@dataclass
class DoseGuide:
    """The plan being built by buttons: ``steps`` done so far and the ``current`` one."""

    start: str  # "today" or "tomorrow"
    times: list[str] = field(default_factory=list)
    steps: list[tuple[dict[str, str], int]] = field(default_factory=list)
    current: dict[str, str] = field(default_factory=dict)  # time -> mg ("0": no dose)

    def next_time(self) -> str | None:
        return next((at for at in self.times if at not in self.current), None)

    def step_of(self, doses: dict[str, str], days: int) -> Step:
        chosen = [
            Dose(parse_time(at), parse_mg(mg)) for at, mg in sorted(doses.items()) if mg != "0"
        ]
        return Step(tuple(chosen), days)


@dataclass
class PendingPlan:
    plan: Plan
    needs_confirmation: bool
    message_id: int | None = None  # its summary, once sent: only those buttons can save it


@dataclass
class PendingErasure:
    nonce: str
    expires_at: datetime
    message_id: int | None = None  # known once the offer is sent


@dataclass
class Session:
    """One slot per :class:`Dialogue`; None (or empty) when that dialogue is not open."""

    schedule_guide: ScheduleGuide | None = None
    dose_guide: DoseGuide | None = None
    plan_to_save: PendingPlan | None = None
    checkin_note: int | None = None  # the check-in id
    supply_count: Product | None = None
    erasure: PendingErasure | None = None
    report_name: str | None = None

    def open(self) -> frozenset[Dialogue]:
        """The dialogues open now (for logs: names only, never their contents)."""
        return frozenset(
            Dialogue(slot.name) for slot in fields(self) if getattr(self, slot.name) is not None
        )

    def end_all(self) -> None:
        """Every dialogue ends (the patient's data is being erased)."""
        for slot in fields(self):
            setattr(self, slot.name, None)


_KEY = "session"


def session_in(user_data: dict[Any, Any] | None) -> Session:
    """The session kept in a user's ``user_data`` (made on first use)."""
    assert user_data is not None, "a session needs an update from a user"
    found = user_data.get(_KEY)
    if not isinstance(found, Session):
        found = user_data[_KEY] = Session()
    return found
