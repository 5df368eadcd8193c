"""The one dose-safety check: may a message invite this dose now?

Every message that names a dose asks it before it offers the dose (a reminder on time or
late, a follow-up, a snooze, ``/missed``, a caregiver alert), and the replies that name the
next dose (after Taken, after a zone or plan change, ``/today``) ask it ahead of time for the
dose they name. Fact sheet 2.6: take a missed dose as soon as you remember, unless the next
dose is less than 2 hours away; never take two doses together.

The check reads the plan's schedule and every recorded intake, whichever plan it belonged to:

- a dose is **superseded** when it is not the current plan's (the plan was replaced, or its
  amount changed), or when a later dose time of the plan has already passed;
- it is **recently taken** when any intake was recorded less than the window ago (the
  patient may have taken this dose late and tapped another message);
- the **next dose is near** when the plan's next dose comes in less than the window;
- otherwise it may be offered.

The window is 2 hours. A plan whose prescriber set two doses closer than that (the patient
confirmed it) uses its own spacing less the 10 minutes a reminder may be late (at least half
its spacing), so its doses on time are still offered and a late one is not pushed nearer.

Pure: the caller passes ``now``, the instants and the intakes; nothing here reads a clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

SAFE_GAP = timedelta(hours=2)  # NHS: less than 2 hours before the next dose -> skip it
# How late a reminder may leave and still be "on time" (bot.services.plans.LATE_AFTER).
ON_TIME = timedelta(minutes=10)


class Verdict(StrEnum):
    """The outcome of the check: what a message may say about the dose."""

    OFFER = "offer"  # the dose may be offered ("if you have not taken it yet, take it")
    RECENTLY_TAKEN = "recently_taken"  # an intake was recorded less than the window ago
    NEXT_SOON = "next_soon"  # the next planned dose is less than the window away: skip
    SUPERSEDED = "superseded"  # another plan's dose or amount, or a later dose time passed


@dataclass(frozen=True)
class Candidate:
    """The dose a message would offer."""

    due: datetime  # aware
    current: bool = True  # the current plan's dose time at the current plan's amount


@dataclass(frozen=True)
class Schedule:
    """What the check needs to know around the candidate, all aware instants."""

    intakes: tuple[datetime, ...] = ()  # every recorded Taken, any plan
    previous_due: datetime | None = None  # the plan's dose time before the candidate
    latest_due: datetime | None = None  # the plan's latest dose time at or before now
    next_due: datetime | None = None  # the plan's next dose time after now


@dataclass(frozen=True)
class Check:
    verdict: Verdict
    taken_at: datetime | None = None  # RECENTLY_TAKEN: the intake that decided it

    @property
    def offers(self) -> bool:
        return self.verdict is Verdict.OFFER


def _utc(value: datetime) -> datetime:
    # Compare in UTC: two datetimes in one ZoneInfo compare as wall clocks (off across DST).
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("the dose-safety check needs aware datetimes")
    return value.astimezone(UTC)


def window(spacing: timedelta | None) -> timedelta:
    """How far from another intake (or from the next dose) a dose may be offered.

    ``spacing`` is the plan's own time between the two dose times concerned (None: unknown).
    """
    if spacing is None or spacing >= SAFE_GAP:
        return SAFE_GAP
    return max(spacing - ON_TIME, spacing / 2, timedelta(0))


def check(candidate: Candidate, now: datetime, schedule: Schedule) -> Check:
    """May a message sent at ``now`` offer ``candidate``?"""
    now = _utc(now)
    due = _utc(candidate.due)
    if not candidate.current:
        return Check(Verdict.SUPERSEDED)
    if schedule.latest_due is not None and _utc(schedule.latest_due) > due:
        return Check(Verdict.SUPERSEDED)
    before = due - _utc(schedule.previous_due) if schedule.previous_due is not None else None
    recent = [
        _utc(at) for at in schedule.intakes if timedelta(0) <= now - _utc(at) < window(before)
    ]
    if recent:
        return Check(Verdict.RECENTLY_TAKEN, taken_at=max(recent))
    if schedule.next_due is not None:
        following = _utc(schedule.next_due)
        if following - now < window(following - due):
            return Check(Verdict.NEXT_SOON)
    return Check(Verdict.OFFER)


def check_ahead(
    due: datetime,
    intakes: Iterable[datetime],
    *,
    previous_due: datetime | None,
    next_due: datetime | None,
) -> Check:
    """What the dispatcher will decide when the dose ``due`` falls due, from what is recorded
    now (for replies that name the next dose: "your next dose ... skip it")."""
    return check(
        Candidate(due),
        due,
        Schedule(
            intakes=tuple(intakes), previous_due=previous_due, latest_due=due, next_due=next_due
        ),
    )
