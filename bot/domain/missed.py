"""The missed-dose rule: take it now, unless the next dose is near; never double.

One rule for ``/missed``, the Missed buttons and doses that fell due while the bot was down
(fact sheet 2.6). It reads the plan's schedule, not the reminders' answer states:

- Only the **latest** dose time that has passed can be taken late. An earlier dose whose
  following dose time has also passed is superseded: it is reported as missed, never "take it
  now" (taking it would put two doses close together).
- The **next** dose is the next time in the plan, whether or not a reminder was sent or
  answered for it.
- A dose recorded as taken less than two hours ago means no other dose now, whatever else
  is open: the patient may have taken the open dose and tapped the wrong message.
- A dose that fell due without a reminder (reminders paused, or before the plan was saved)
  is never offered: nothing is known about it, so the answer is the general rule and "if you
  are not sure whether you took it, do not take it now". A dose the bot already told the
  patient to skip (``missed``) is not offered again either.
- Every "take it" answer is worded "if you have not taken it yet": the bot only knows what
  was tapped.

Whether the latest dose may be offered is the one dose-safety check
(:mod:`bot.domain.safety`), which every other message that names a dose asks too.

Pure: the caller passes ``now``, the recent doses and the next planned instant.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from bot.domain.safety import SAFE_GAP, Candidate, Schedule, Verdict, check

SKIP_IF_NEXT_WITHIN = SAFE_GAP  # NHS: less than 2 hours before the next dose -> skip
# Two intakes closer than this count as "together" (the same NHS threshold, from the other side).
RECENT_INTAKE_WITHIN = SKIP_IF_NEXT_WITHIN
# A dose more than a day old is not "as soon as you remember" any more; only a plan that has
# ended (no next dose) can leave its latest dose that old, and then it is not taken late.
STALE_AFTER = timedelta(hours=24)
SEVERAL_MISSED = 3  # this many doses in a row without a Taken: the withdrawal warning
# The latest doses read to see such a run: a little more, since only reaching it matters.
SEVERAL_MISSED_LOOKBACK = SEVERAL_MISSED + 2


class Record(StrEnum):
    """What the bot knows about a past dose."""

    TAKEN = "taken"
    SKIPPED = "skipped"
    NONE = "none"  # reminded (or not) but never answered
    NOT_REMINDED = "not_reminded"  # due while reminders were paused: nothing is known
    MISSED = "missed"  # the bot said to skip it (or its time passed): not offered again


@dataclass(frozen=True)
class PastDose:
    event_id: int
    due: datetime  # aware
    record: Record
    recorded_at: datetime | None = None  # when Taken or Skip was recorded
    current: bool = True  # a dose time of the current plan, at the current plan's amount


class MissedAction(StrEnum):
    TAKE_NOW = "take_now"  # the latest dose has no record; take it if not taken yet
    SKIP = "skip"  # ... but the next dose is less than 2 hours away: skip it
    RECENTLY_TAKEN = "recently_taken"  # a dose was recorded as taken under 2 hours ago
    SUPERSEDED = "superseded"  # too old, another plan's, or already told to skip: not now
    NOT_REMINDED = "not_reminded"  # due without a reminder: nothing known, so not now
    NOTHING_OPEN = "nothing_open"  # the latest dose has a record
    NOTHING_DUE = "nothing_due"  # no dose has fallen due yet


@dataclass(frozen=True)
class MissedAdvice:
    action: MissedAction
    dose: PastDose | None  # the latest dose that fell due (what the advice is about)
    next_due: datetime | None  # the next planned dose after now
    superseded: tuple[PastDose, ...]  # earlier doses without a record: missed, not made up
    missed_in_a_row: int  # latest doses in a row without Taken (skipped or unanswered)
    taken_at: datetime | None = None  # RECENTLY_TAKEN: when that intake was recorded

    @property
    def can_take(self) -> bool:
        return self.action is MissedAction.TAKE_NOW

    @property
    def several_missed(self) -> bool:
        return self.missed_in_a_row >= SEVERAL_MISSED


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime")


def _utc(value: datetime) -> datetime:
    # Compare in UTC: two datetimes with the same ZoneInfo compare as wall clocks, which is off
    # by an hour across a daylight-saving change.
    return value.astimezone(UTC)


def missed_in_a_row(doses: Iterable[PastDose]) -> int:
    """How many of the latest doses in a row were skipped or never answered.

    A dose due while reminders were paused ends the run: nothing is known about it, and a
    warning about missed doses would then be a guess.
    """
    count = 0
    for dose in sorted(doses, key=lambda item: _utc(item.due), reverse=True):
        if dose.record in (Record.SKIPPED, Record.NONE, Record.MISSED):
            count += 1
        else:
            break
    return count


def missed_dose_advice(
    now: datetime,
    history: Iterable[PastDose],
    next_due: datetime | None,
    planned: Iterable[datetime] = (),
) -> MissedAdvice:
    """Decide what to tell a patient about the dose they may have missed.

    ``history`` holds the recent planned doses (any order; those not yet due are ignored);
    ``next_due`` is the next planned dose after ``now`` from the plan, or None if the plan has
    no more doses; ``planned`` the plan's dose times of the last day, in the patient's zone
    now (the spacing the plan sets; without them, the rows' own times are used).
    """
    _require_aware(now, "now")
    if next_due is not None:
        _require_aware(next_due, "next_due")
    now_utc = _utc(now)
    # On a tie (a plan replaced today has a row at the same time as the old one), the
    # current plan's row is the latest.
    past = sorted(
        (dose for dose in history if _utc(dose.due) <= now_utc),
        key=lambda d: (_utc(d.due), d.current),
    )
    if not past:
        return MissedAdvice(MissedAction.NOTHING_DUE, None, next_due, (), 0)
    latest = past[-1]
    streak = missed_in_a_row(past)
    earlier = _superseded(past)

    def advice(action: MissedAction, taken_at: datetime | None = None) -> MissedAdvice:
        return MissedAdvice(action, latest, next_due, earlier, streak, taken_at=taken_at)

    if latest.record in (Record.TAKEN, Record.SKIPPED):
        return advice(MissedAction.NOTHING_OPEN)
    if now_utc - _utc(latest.due) > STALE_AFTER:
        return advice(MissedAction.SUPERSEDED)
    verdict = check(
        Candidate(latest.due, current=latest.current),
        now_utc,
        Schedule(
            intakes=tuple(
                dose.recorded_at
                for dose in past
                if dose.record is Record.TAKEN and dose.recorded_at is not None
            ),
            previous_due=_previous_due(past, planned),
            next_due=next_due,
        ),
    )
    if verdict.verdict is Verdict.RECENTLY_TAKEN:
        return advice(MissedAction.RECENTLY_TAKEN, taken_at=verdict.taken_at)
    return advice(_action(latest, verdict.verdict))


def _superseded(past: list[PastDose]) -> tuple[PastDose, ...]:
    """Earlier doses with no record since the last answered one: their time has passed."""
    superseded: list[PastDose] = []
    for dose in reversed(past[:-1]):
        if dose.record in (Record.TAKEN, Record.SKIPPED):
            break
        superseded.append(dose)
    return tuple(reversed(superseded))


def _previous_due(past: list[PastDose], planned: Iterable[datetime]) -> datetime | None:
    """The planned dose time before the latest dose (``past[-1]``): from the plan's times of
    the last day, else from the current plan's earlier rows."""
    latest_due = _utc(past[-1].due)
    before = [_utc(at) for at in planned if _utc(at) < latest_due]
    if not before:
        before = [_utc(dose.due) for dose in past[:-1] if dose.current]
    return max(before) if before else None


def _action(latest: PastDose, verdict: Verdict) -> MissedAction:
    """The answer for an open latest dose, the check's verdict (not RECENTLY_TAKEN) read
    first: too old or told to skip, then never reminded, then the next dose near."""
    if verdict is Verdict.SUPERSEDED or latest.record is Record.MISSED:
        return MissedAction.SUPERSEDED
    if latest.record is Record.NOT_REMINDED:
        return MissedAction.NOT_REMINDED
    if verdict is Verdict.NEXT_SOON:
        return MissedAction.SKIP
    return MissedAction.TAKE_NOW
