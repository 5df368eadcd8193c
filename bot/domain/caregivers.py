"""Caregiver rules: invites, the alert delay, how many links, which alerts a reminder plans,
and what an alert says.

An unanswered-dose alert asks the one dose-safety check (``bot.domain.safety``) before it is
sent, with the alert's dose as the candidate: :func:`dose_check` feeds it from the plan.

Pure: no Telegram, no database. The caller passes instants, the plan and the recent doses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.domain.missed import PastDose, Record, missed_in_a_row
from bot.domain.plans import Plan, Step, step_change
from bot.domain.safety import Candidate, Check, Schedule, Verdict, check
from bot.domain.schedule import next_slot_after, slots_between, step_on

MAX_CAREGIVERS = 3  # per patient; a caregiver may be linked to any number of patients
INVITE_VALID_FOR = timedelta(hours=24)
DELAY_MIN = timedelta(minutes=30)
DELAY_MAX = timedelta(hours=3)
DEFAULT_DELAY = timedelta(hours=1)
DELAY_CHOICES = (30, 60, 90, 120, 180)  # minutes offered as buttons
TWO_IN_A_ROW = 2

# The /start payload of an invite: Telegram allows 1-64 characters of [A-Za-z0-9_-].
INVITE_PREFIX = "cg_"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,61}")
START_PAYLOAD_MAX = 64


class AlertKind(StrEnum):
    """Why an alert row exists."""

    UNANSWERED = "unanswered"  # a reminder was sent; told if still unanswered after the delay
    TAPER_STEP = "taper_step"  # the first dose of a taper step was reminded
    TAPER_END = "taper_end"  # the last dose of a taper that stops was reminded
    STEP_DOWN = "step_down"  # the first dose of a lower step of another plan was reminded


class Said(StrEnum):
    """What the message said (an unanswered dose may be the second missed in a row, and the
    next dose may be too near to take the missed one)."""

    UNANSWERED = "unanswered"
    TWO_MISSED = "two_missed"
    NEXT_SOON = "next_soon"  # unanswered, and the next dose is near: skip the missed one
    TWO_MISSED_NEXT_SOON = "two_missed_next_soon"
    TAPER_STEP = "taper_step"
    TAPER_END = "taper_end"
    STEP_DOWN = "step_down"


# The alerts about the plan itself: due when their reminder is sent, never about one dose.
PLAN_NOTICES = {
    AlertKind.TAPER_STEP: Said.TAPER_STEP,
    AlertKind.TAPER_END: Said.TAPER_END,
    AlertKind.STEP_DOWN: Said.STEP_DOWN,
}


class AlertOutcome(StrEnum):
    """How an alert's life ended (the transitions are in ``bot.storage.caregivers``)."""

    SENT = "sent"  # Telegram accepted it
    ANSWERED = "answered"  # the patient pressed Taken or Skip first: nothing to tell
    SUPERSEDED = "superseded"  # a later dose time has passed (or the plan changed): too late
    RECENTLY_TAKEN = "recently_taken"  # a dose was recorded as taken under 2 hours ago
    CANCELLED = "cancelled"  # its dose is no longer planned (the plan changed): nothing to tell
    UNREACHABLE = "unreachable"  # the caregiver blocked the bot
    REJECTED = "rejected"  # Telegram refused it (a 400): sending again would fail again
    GIVEN_UP = "given_up"  # every retry failed


class InviteProblem(StrEnum):
    UNKNOWN = "unknown"  # no such token (mistyped, or erased with its patient)
    EXPIRED = "expired"
    USED = "used"
    OWN = "own"  # the patient opened their own link
    ALREADY_LINKED = "already_linked"
    FULL = "full"  # the patient has MAX_CAREGIVERS already


class DelayError(ValueError):
    """Not a delay between 30 minutes and 3 hours."""


_DELAY = re.compile(r"(?:(\d{1,2})\s*h)?\s*(?:(\d{1,3})\s*(?:m|min|mins|minutes)?)?")


def parse_delay(text: str) -> timedelta:
    """``90``, ``90m``, ``1h``, ``1h30`` or ``2 h 30 min``: between 30 minutes and 3 hours."""
    cleaned = text.strip().lower().replace("hours", "h").replace("hour", "h")
    match = _DELAY.fullmatch(cleaned)
    if not cleaned or match is None or not any(match.groups()):
        raise DelayError(text)
    hours, minutes = (int(part) if part else 0 for part in match.groups())
    delay = timedelta(hours=hours, minutes=minutes)
    if not DELAY_MIN <= delay <= DELAY_MAX:
        raise DelayError(text)
    return delay


def valid_delay_minutes(minutes: int) -> bool:
    return DELAY_MIN <= timedelta(minutes=minutes) <= DELAY_MAX


def invite_payload(token: str) -> str:
    payload = INVITE_PREFIX + token
    if len(payload) > START_PAYLOAD_MAX or _TOKEN.fullmatch(token) is None:
        raise ValueError("an invite token must fit Telegram's /start parameter")
    return payload


def invite_token(payload: str) -> str | None:
    """The token of an invite's /start payload, or None if the payload is not one."""
    if not payload.startswith(INVITE_PREFIX) or len(payload) > START_PAYLOAD_MAX:
        return None
    token = payload[len(INVITE_PREFIX) :]
    return token if _TOKEN.fullmatch(token) else None


@dataclass(frozen=True)
class InviteState:
    patient_id: int
    expires_at: datetime
    used: bool


def invite_problem(
    invite: InviteState | None,
    opener_id: int,
    now: datetime,
    *,
    already_linked: bool,
    linked_count: int,
) -> InviteProblem | None:
    """Why this person cannot accept this invite now, or None if they can."""
    if invite is None:
        return InviteProblem.UNKNOWN
    if invite.patient_id == opener_id:
        return InviteProblem.OWN
    if invite.used:
        return InviteProblem.USED
    if now >= invite.expires_at:
        return InviteProblem.EXPIRED
    if already_linked:
        return InviteProblem.ALREADY_LINKED
    if linked_count >= MAX_CAREGIVERS:
        return InviteProblem.FULL
    return None


def plan_notices(
    kind: str,
    steps: Sequence[Step],
    step_number: int,
    *,
    step_start: bool,
    last_dose: bool,
    plan_ends: bool,
) -> tuple[AlertKind, ...]:
    """The alerts about the plan that the reminder of this dose plans (due at once).

    The last dose of a taper that stops: the taper ends (said instead of its step starting, if
    both fall on one dose). The first dose of each taper step. In any other plan, the first
    dose of a step whose daily total is lower than the step before.
    """
    if kind == "taper" and plan_ends and last_dose:
        return (AlertKind.TAPER_END,)
    if not step_start:
        return ()
    if kind == "taper":
        return (AlertKind.TAPER_STEP,)
    if 1 < step_number <= len(steps):
        change = step_change(steps[step_number - 2], steps[step_number - 1])
        if change.direction == "down":
            return (AlertKind.STEP_DOWN,)
    return ()


def planned_mg(plan: Plan, day: date, at: time) -> Decimal | None:
    """The plan's amount at the wall time ``at`` on the plan day ``day`` (None: no dose)."""
    found = step_on(plan, day)
    if found is None:
        return None
    _, step = found
    return next((dose.mg for dose in step.doses if dose.at == at), None)


# Far enough back to find the dose time before any dose: every plan day has a dose.
_LOOK_BACK = timedelta(days=2)


@dataclass(frozen=True)
class AlertDose:
    """The dose an unanswered-dose alert is about, as it was planned and recorded."""

    due: datetime  # aware
    day: date  # its plan day and wall time (the same in any zone)
    at: time
    mg: Decimal
    of_active_plan: bool  # it belongs to the patient's plan in force


def dose_check(
    dose: AlertDose,
    plan: Plan | None,
    zone: ZoneInfo,
    intakes: Iterable[datetime],
    now: datetime,
) -> Check:
    """The dose-safety check for an alert's dose at ``now``, from the patient's active plan
    (None: they have none) in their zone and every intake recorded lately (any plan)."""
    current = (
        plan is not None and dose.of_active_plan and planned_mg(plan, dose.day, dose.at) == dose.mg
    )
    if plan is None or not current:
        return check(Candidate(dose.due, current=False), now, Schedule(intakes=tuple(intakes)))
    before = slots_between(plan, zone, dose.due - _LOOK_BACK, dose.due)
    # From the dose itself up to now, inclusive: the last one is the latest dose time passed.
    passed = slots_between(plan, zone, dose.due, now + timedelta(microseconds=1))
    following = next_slot_after(plan, zone, now)
    return check(
        Candidate(dose.due),
        now,
        Schedule(
            intakes=tuple(intakes),
            previous_due=before[-1].due_utc if before else None,
            latest_due=passed[-1].due_utc if passed else None,
            next_due=following.due_utc if following else None,
        ),
    )


def what_to_say(
    kind: AlertKind, doses: Iterable[PastDose], verdict: Verdict = Verdict.OFFER
) -> Said | AlertOutcome:
    """What an alert due now says, or why it says nothing (its outcome).

    ``doses`` are the patient's doses up to and including its own (its own is the latest;
    order does not matter); ``verdict`` is the dose-safety check on its own dose now.

    An alert about the plan (a taper step, a taper's end, a step down) is always said. An
    unanswered-dose alert whose dose has a Taken or Skip since says nothing; nor does one whose
    dose is superseded (a later dose time has passed, or the plan changed) or when an intake
    was recorded lately (nothing to check on). When the next dose is near it says so: skip the
    missed one. The second dose in a row without a Taken is said as such, once per run: later
    ones in the same run are told as plain unanswered doses.
    """
    if kind in PLAN_NOTICES:
        return PLAN_NOTICES[kind]
    listed = list(doses)
    latest = max(listed, key=lambda dose: dose.due, default=None)
    if latest is None or latest.record in (Record.TAKEN, Record.SKIPPED):
        return AlertOutcome.ANSWERED
    if verdict is Verdict.SUPERSEDED:
        return AlertOutcome.SUPERSEDED
    if verdict is Verdict.RECENTLY_TAKEN:
        return AlertOutcome.RECENTLY_TAKEN
    two = missed_in_a_row(listed) == TWO_IN_A_ROW
    if verdict is Verdict.NEXT_SOON:
        return Said.TWO_MISSED_NEXT_SOON if two else Said.NEXT_SOON
    return Said.TWO_MISSED if two else Said.UNANSWERED
