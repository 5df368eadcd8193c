"""Pump refills (issue 21): when the refill reminders are due, and the dates a patient types.

Pure rules, no I/O. The refill date is always the one the clinic gave (fact sheet 2.13: the
clinic works it out from the pump readout); nothing here estimates one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# Days before the refill date on which the patient is reminded, at REMIND_AT local time.
DAYS_BEFORE: tuple[int, ...] = (14, 7, 3, 1, 0)
REMIND_AT = time(10, 0)
# The caregivers are told the morning after the refill day if "refill done" was not pressed.
MISSED_AFTER_DAYS = 1
# A refill date further ahead than this is almost surely a typing mistake (clinics give every
# few months: 2.13); the patient is asked to check it.
LATEST_AHEAD = timedelta(days=366)
PHONE_MAX = 32

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DMY = re.compile(r"^(\d{1,2})[./](\d{1,2})[./](\d{4})$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{4,30}$")


def kind_for(days_before: int) -> str:
    return f"d{days_before}"


def local_instant(day: date, zone: ZoneInfo) -> datetime:
    """``day`` at REMIND_AT on the local wall clock, in UTC (zoneinfo: right across DST; a
    wall time that does not exist that day is read with fold=0, i.e. after the gap)."""
    local = datetime.combine(day, REMIND_AT, tzinfo=zone)
    # Round-trip through UTC normalises a time in a spring-forward gap.
    return local.astimezone(UTC)


@dataclass(frozen=True)
class Planned:
    kind: str
    due_at: datetime  # UTC


def reminder_plan(refill_on: date, zone: ZoneInfo, now: datetime) -> list[Planned]:
    """The reminders for a refill on ``refill_on``: 14, 7, 3 and 1 day before and on the day,
    each at 10:00 local, left out once past; then the caregivers' check the morning after."""
    planned = [
        Planned(kind_for(days), local_instant(refill_on - timedelta(days=days), zone))
        for days in DAYS_BEFORE
    ]
    planned.append(
        Planned("cg_missed", local_instant(refill_on + timedelta(days=MISSED_AFTER_DAYS), zone))
    )
    return [item for item in planned if item.due_at > now]


class DateProblem(Exception):
    """Why a typed date was refused: 'format', 'past' or 'far'."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_date(text: str, today: date, *, allow_past: bool = False) -> date:
    """A typed date: 2027-04-05, 5.4.2027 or 05/04/2027 (day first). Not in the past (unless
    ``allow_past``) and not more than a year ahead; else :class:`DateProblem`."""
    value = text.strip()
    found = _ISO.match(value)
    try:
        if found:
            day = date(int(found[1]), int(found[2]), int(found[3]))
        elif found := _DMY.match(value):
            day = date(int(found[3]), int(found[2]), int(found[1]))
        else:
            raise DateProblem("format")
    except ValueError:
        raise DateProblem("format") from None
    if day < today and not allow_past:
        raise DateProblem("past")
    if day - today > LATEST_AHEAD:
        raise DateProblem("far")
    return day


def parse_phone(text: str) -> str | None:
    """A clinic phone number as typed (digits, spaces, +, -, brackets), or None."""
    value = " ".join(text.split())
    if len(value) > PHONE_MAX or not _PHONE.match(value):
        return None
    if sum(char.isdigit() for char in value) < 5:
        return None
    return value
