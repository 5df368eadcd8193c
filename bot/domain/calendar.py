"""Which events a /calendar file holds, and how a newer file replaces an older one.

A patient imports the file into a phone calendar (Google, Apple) and, when the plan changes,
imports a newer one. An event is known by its UID, and of two versions of it the one with the
higher SEQUENCE is the newer, DTSTAMP breaking a tie (RFC 5545 3.8.4.7, 3.8.7.4; RFC 5546
2.1.4), so:

- the UID of a dose is the same in every file: a keyed hash of the patient's random calendar
  key with the dose's local date and time. Not the plan, so a changed plan updates the events
  in place instead of adding a second set; not the Telegram id, and no date, time or dose in
  clear (the hash is keyed with a random secret, so it cannot be guessed back from the date);
- SEQUENCE is the moment the file is made, in seconds since 2026-01-01 UTC: every newer file
  is a higher revision, whatever changed (a new plan, a step held longer, a new time zone),
  and the number stays a 32-bit integer until 2094;
- a dose time that an earlier version of the plan had, and that the current plan no longer
  has, is written again with ``STATUS:CANCELLED`` (see :func:`dropped_doses`).

Pure: no Telegram, no database, no clock.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.plans import Plan, Step
from bot.domain.schedule import DoseSlot, slots_between

UID_DOMAIN = "baclofen-bot"
SEQUENCE_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
_UID_CHARS = 26  # 130 bits of the digest in base32: no collision in any one calendar


def event_uid(key: str, local_date: date, local_time: time) -> str:
    """The UID of the dose at ``local_date`` ``local_time`` in the calendar of ``key``.

    Lower-case base32 (letters and the digits 2 to 7), so no run of the Telegram id's digits
    can appear in it by chance.
    """
    message = f"{local_date.isoformat()}T{local_time:%H:%M}".encode()
    digest = hmac.new(key.encode(), message, hashlib.sha256).digest()
    name = base64.b32encode(digest).decode().lower()[:_UID_CHARS]
    return f"{name}@{UID_DOMAIN}"


def sequence(made_at: datetime) -> int:
    """SEQUENCE of every event of a file made at ``made_at``: higher in every later file."""
    return max(0, int((made_at - SEQUENCE_EPOCH).total_seconds()))


@dataclass(frozen=True)
class HeldStep:
    """A step made longer after the plan was saved (the ``holds`` rows)."""

    step_number: int
    extra_days: int
    chosen_at: datetime


@dataclass(frozen=True)
class PastVersion:
    """A version of a plan that may be in a patient's calendar: it was the plan until
    ``replaced_at`` (a newer plan saved, or a step held longer)."""

    plan: Plan
    replaced_at: datetime


def past_versions(
    plan: Plan, holds: Sequence[HeldStep], superseded_at: datetime | None
) -> list[PastVersion]:
    """Every version of a stored plan that is no longer the plan.

    A hold lengthens one step in place, so the plan before each hold is the stored one with
    the later holds taken back (newest first). The stored plan itself is a past version once
    it is superseded.
    """
    versions: list[PastVersion] = []
    if superseded_at is not None:
        versions.append(PastVersion(plan, superseded_at))
    current = plan
    for hold in sorted(holds, key=lambda item: item.chosen_at, reverse=True):
        index = hold.step_number - 1
        if not 0 <= index < len(current.steps):
            break
        step = current.steps[index]
        days = step.days - hold.extra_days
        if days < 1:
            break  # not a hold of this plan as stored: stop rather than guess
        steps = list(current.steps)
        steps[index] = Step(step.doses, days)
        current = replace(current, steps=tuple(steps))
        versions.append(PastVersion(current, hold.chosen_at))
    return versions


def dropped_doses(
    coming: Iterable[DoseSlot],
    past: Iterable[PastVersion],
    zone: ZoneInfo,
    start_utc: datetime,
    end_utc: datetime,
    *,
    file_days: int,
) -> list[DoseSlot]:
    """Doses of past versions in ``[start_utc, end_utc)`` whose local date and time the
    current plan (``coming``, the same window) no longer has, earliest first.

    Only what an earlier file can have held: a version replaced at T was sent at T at the
    latest, and a file holds ``file_days`` days, so nothing of it lies after T + file_days.
    A dose time the current plan still has is never among them, so a cancelled event never
    shares its UID with a dose to take.
    """
    kept = {(slot.local_date, slot.local_time) for slot in coming}
    dropped: dict[tuple[date, time], DoseSlot] = {}
    for version in past:
        last = min(end_utc, version.replaced_at + timedelta(days=file_days))
        for slot in slots_between(version.plan, zone, start_utc, last):
            key = (slot.local_date, slot.local_time)
            if key not in kept and key not in dropped:
                dropped[key] = slot
    return sorted(dropped.values(), key=lambda slot: slot.due_utc)
