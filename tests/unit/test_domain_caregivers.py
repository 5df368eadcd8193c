"""Caregiver rules as pure functions: the delay, the invite payload, who may accept, which
alerts a reminder plans, the dose-safety check an alert passes, and what an alert says."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.domain.caregivers import (
    DELAY_MAX,
    DELAY_MIN,
    MAX_CAREGIVERS,
    START_PAYLOAD_MAX,
    AlertDose,
    AlertKind,
    AlertOutcome,
    DelayError,
    InviteProblem,
    InviteState,
    Said,
    dose_check,
    invite_payload,
    invite_problem,
    invite_token,
    parse_delay,
    plan_notices,
    planned_mg,
    what_to_say,
)
from bot.domain.missed import PastDose, Record
from bot.domain.plans import Dose, Plan, Step
from bot.domain.safety import SAFE_GAP, Verdict
from bot.domain.schedule import slots_between

NOW = datetime(2026, 1, 11, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("30", 30),
        ("90m", 90),
        ("90 min", 90),
        ("1h", 60),
        ("1h30", 90),
        ("2 h 30 min", 150),
        ("3h", 180),
        ("3 hours", 180),
        ("1 hour", 60),
    ],
)
def test_delays_from_30_minutes_to_3_hours(text: str, minutes: int) -> None:
    assert parse_delay(text) == timedelta(minutes=minutes)


@pytest.mark.parametrize("text", ["", "29", "3h1", "181", "4h", "soon", "-30", "1.5h", "h", "m"])
def test_other_delays_are_refused(text: str) -> None:
    with pytest.raises(DelayError):
        parse_delay(text)


@given(
    st.text(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-", min_size=20, max_size=61
    )
)
def test_an_invite_payload_fits_telegram_and_reads_back(token: str) -> None:
    payload = invite_payload(token)
    assert len(payload) <= START_PAYLOAD_MAX
    assert invite_token(payload) == token


@pytest.mark.parametrize(
    "payload", ["", "cg_", "cg_short", "xx_" + "A" * 32, "cg_" + "A" * 62, "cg_" + "A" * 31 + "!"]
)
def test_other_start_payloads_are_not_invites(payload: str) -> None:
    assert invite_token(payload) is None


def _problem(
    invite: InviteState | None, *, opener: int = 2, linked: bool = False, count: int = 0
) -> InviteProblem | None:
    return invite_problem(invite, opener, NOW, already_linked=linked, linked_count=count)


def test_who_may_accept_an_invite() -> None:
    fresh = InviteState(patient_id=1, expires_at=NOW + timedelta(hours=1), used=False)
    assert _problem(fresh) is None
    assert _problem(None) is InviteProblem.UNKNOWN
    assert _problem(fresh, opener=1) is InviteProblem.OWN
    assert _problem(InviteState(1, NOW + timedelta(hours=1), True)) is InviteProblem.USED
    assert _problem(InviteState(1, NOW, False)) is InviteProblem.EXPIRED  # expiry is exclusive
    assert _problem(fresh, linked=True) is InviteProblem.ALREADY_LINKED
    assert _problem(fresh, count=MAX_CAREGIVERS - 1) is None
    assert _problem(fresh, count=MAX_CAREGIVERS) is InviteProblem.FULL


def _doses(*records: Record) -> list[PastDose]:
    """Doses twelve hours apart, the last one the alert's own."""
    return [
        PastDose(index, NOW - timedelta(hours=12 * (len(records) - 1 - index)), record)
        for index, record in enumerate(records)
    ]


def test_what_an_alert_says() -> None:
    unanswered = AlertKind.UNANSWERED
    assert what_to_say(unanswered, _doses(Record.TAKEN, Record.NONE)) is Said.UNANSWERED
    assert (
        what_to_say(unanswered, _doses(Record.TAKEN, Record.NONE, Record.NONE)) is Said.TWO_MISSED
    )
    assert what_to_say(unanswered, _doses(Record.SKIPPED, Record.NONE)) is Said.TWO_MISSED
    # Once per run: the third in a row is told as one more unanswered dose.
    assert what_to_say(unanswered, _doses(Record.NONE, Record.NONE, Record.NONE)) is Said.UNANSWERED
    # Answered since: nothing to say.
    assert what_to_say(unanswered, _doses(Record.NONE, Record.TAKEN)) is AlertOutcome.ANSWERED
    assert what_to_say(unanswered, _doses(Record.NONE, Record.SKIPPED)) is AlertOutcome.ANSWERED
    assert what_to_say(unanswered, []) is AlertOutcome.ANSWERED
    # Paused before: nothing is known about it, so this is not "two in a row".
    assert what_to_say(unanswered, _doses(Record.NOT_REMINDED, Record.NONE)) is Said.UNANSWERED
    assert what_to_say(AlertKind.TAPER_STEP, []) is Said.TAPER_STEP
    assert what_to_say(AlertKind.TAPER_END, []) is Said.TAPER_END
    assert what_to_say(AlertKind.STEP_DOWN, []) is Said.STEP_DOWN


def test_what_an_alert_says_after_the_dose_safety_check() -> None:
    unanswered, one = AlertKind.UNANSWERED, _doses(Record.NONE)
    two = _doses(Record.TAKEN, Record.NONE, Record.NONE)
    # A later dose time has passed, or the plan changed: too late to check on this one.
    assert what_to_say(unanswered, one, Verdict.SUPERSEDED) is AlertOutcome.SUPERSEDED
    assert what_to_say(unanswered, two, Verdict.SUPERSEDED) is AlertOutcome.SUPERSEDED
    # A dose was taken lately: nothing to check on.
    assert what_to_say(unanswered, one, Verdict.RECENTLY_TAKEN) is AlertOutcome.RECENTLY_TAKEN
    # The next dose is near: said, worded "skip the missed one".
    assert what_to_say(unanswered, one, Verdict.NEXT_SOON) is Said.NEXT_SOON
    assert what_to_say(unanswered, two, Verdict.NEXT_SOON) is Said.TWO_MISSED_NEXT_SOON
    assert what_to_say(unanswered, one, Verdict.OFFER) is Said.UNANSWERED
    # Answered wins (its own outcome); an alert about the plan is never checked.
    answered = _doses(Record.NONE, Record.TAKEN)
    assert what_to_say(unanswered, answered, Verdict.SUPERSEDED) is AlertOutcome.ANSWERED
    assert what_to_say(AlertKind.TAPER_END, [], Verdict.SUPERSEDED) is Said.TAPER_END


def _step(days: int, *doses: tuple[int, str]) -> Step:
    return Step(tuple(Dose(time(hour), Decimal(mg)) for hour, mg in doses), days)


TWICE_10 = _step(3, (8, "10"), (20, "10"))
TWICE_5 = _step(3, (8, "5"), (20, "5"))
ONCE_10 = _step(3, (20, "10"))  # the same daily total as TWICE_5: not a step down


def test_which_plan_alerts_a_reminder_plans() -> None:
    def notices(
        kind: str,
        steps: tuple[Step, ...],
        number: int,
        *,
        start: bool = True,
        last: bool = False,
        ends: bool = False,
    ) -> tuple[AlertKind, ...]:
        return plan_notices(kind, steps, number, step_start=start, last_dose=last, plan_ends=ends)

    down = (TWICE_10, TWICE_5)
    # A custom plan (or any other but a taper): only a step with a lower daily total.
    assert notices("custom", down, 2) == (AlertKind.STEP_DOWN,)
    assert notices("standard", down, 2) == (AlertKind.STEP_DOWN,)
    assert notices("custom", down, 1) == ()
    assert notices("custom", down, 2, start=False) == ()
    assert notices("custom", (TWICE_5, TWICE_10), 2) == ()  # up
    assert notices("custom", (TWICE_5, ONCE_10), 2) == ()  # other times, the same total
    assert notices("custom", down, 3) == ()  # a step the plan no longer has
    # A taper: every step, as before; its last dose when it stops (instead of a step start).
    assert notices("taper", down, 1) == (AlertKind.TAPER_STEP,)
    assert notices("taper", down, 2) == (AlertKind.TAPER_STEP,)
    assert notices("taper", down, 2, start=False, last=True, ends=True) == (AlertKind.TAPER_END,)
    assert notices("taper", down, 2, start=True, last=True, ends=True) == (AlertKind.TAPER_END,)
    # A taper whose last dose continues does not end; nor does a custom plan's last step.
    assert notices("taper", down, 2, start=False, last=True) == ()
    assert notices("custom", down, 2, start=False, last=True) == ()


LONDON = ZoneInfo("Europe/London")  # UTC+0 in January: wall times read as UTC instants
DAY = date(2026, 1, 12)


def _plan(*hours: int, mg: str = "10", kind: str = "custom") -> Plan:
    step = Step.same_at([time(hour) for hour in hours], Decimal(mg), 10)
    return Plan(kind, DAY - timedelta(days=1), (step,), False)  # type: ignore[arg-type]


def _at(hour: int, minute: int = 0) -> datetime:
    return datetime(DAY.year, DAY.month, DAY.day, hour, minute, tzinfo=UTC)


def _dose(hour: int, mg: str = "10", *, active: bool = True) -> AlertDose:
    return AlertDose(_at(hour), DAY, time(hour), Decimal(mg), of_active_plan=active)


def _verdict(
    dose: AlertDose, plan: Plan | None, now: datetime, intakes: tuple[datetime, ...] = ()
) -> Verdict:
    return dose_check(dose, plan, LONDON, intakes, now).verdict


def test_the_check_drops_an_alert_once_a_later_dose_time_has_passed() -> None:
    """Issue 19: the 10:00 alert came 30 minutes after the 13:00 dose was taken."""
    plan = _plan(10, 13)
    assert _verdict(_dose(10), plan, _at(12, 59)) is Verdict.NEXT_SOON
    assert _verdict(_dose(10), plan, _at(13, 30)) is Verdict.SUPERSEDED
    assert _verdict(_dose(10), plan, _at(13, 30), (_at(13),)) is Verdict.SUPERSEDED


def test_the_check_says_skip_when_the_next_dose_is_near() -> None:
    """Issue 19: 4-hourly doses and a 3 h delay, the alert came 30 minutes before the next."""
    plan = _plan(8, 12, 16, 20)
    assert _verdict(_dose(8), plan, _at(11, 30)) is Verdict.NEXT_SOON
    assert _verdict(_dose(8), plan, _at(9, 59)) is Verdict.OFFER
    assert _verdict(_dose(8), plan, _at(10, 1)) is Verdict.NEXT_SOON
    # The last dose of the day: the next is tomorrow's first.
    assert _verdict(_dose(20), plan, _at(23, 30)) is Verdict.OFFER


def test_the_check_sees_every_recorded_intake_and_the_current_plan() -> None:
    plan = _plan(8, 20)
    assert _verdict(_dose(8), plan, _at(11), (_at(9, 30),)) is Verdict.RECENTLY_TAKEN
    assert _verdict(_dose(8), plan, _at(11), (_at(8, 59),)) is Verdict.OFFER
    # Another plan's dose, another amount, or no plan at all: superseded.
    assert _verdict(_dose(8, active=False), plan, _at(11)) is Verdict.SUPERSEDED
    assert _verdict(_dose(8, "5"), plan, _at(11)) is Verdict.SUPERSEDED
    assert _verdict(_dose(8), None, _at(11)) is Verdict.SUPERSEDED
    # A dose at a time the plan does not have (its plan was edited): superseded.
    assert _verdict(_dose(9), plan, _at(11)) is Verdict.SUPERSEDED


def test_planned_mg_reads_the_plan_day_and_wall_time() -> None:
    plan = Plan("custom", DAY, (TWICE_10, TWICE_5), False)
    assert planned_mg(plan, DAY, time(8)) == Decimal(10)
    assert planned_mg(plan, DAY + timedelta(days=3), time(20)) == Decimal(5)
    assert planned_mg(plan, DAY + timedelta(days=30), time(8)) == Decimal(5)  # maintenance
    assert planned_mg(plan, DAY, time(9)) is None
    assert planned_mg(plan, DAY - timedelta(days=1), time(8)) is None  # before the start


@given(
    hours=st.sets(st.integers(0, 23), min_size=1, max_size=6),
    pick=st.integers(0, 100),
    delay_minutes=st.integers(DELAY_MIN.seconds // 60, DELAY_MAX.seconds // 60),
)
def test_an_alert_said_as_unanswered_is_never_near_or_past_another_dose_time(
    hours: set[int], pick: int, delay_minutes: int
) -> None:
    """Whatever the dose times (2 hours apart or more) and the delay: an alert sent as a
    plain "still unanswered" has no later dose time passed and the next dose at least 2 hours
    away; it says "next dose soon, skip it" when it is nearer; it is dropped once a later dose
    time has passed."""
    ordered = sorted(hours)
    gaps = [b - a for a, b in zip(ordered, [*ordered[1:], ordered[0] + 24], strict=True)]
    assume(len(ordered) == 1 or min(gaps) >= 2)
    plan = _plan(*ordered)
    due = _at(ordered[pick % len(ordered)])
    now = due + timedelta(minutes=30 + delay_minutes)  # the follow-up, then the delay
    verdict = _verdict(_dose(due.hour), plan, now)
    slots = [slot.due_utc for slot in slots_between(plan, LONDON, due, now + timedelta(days=2))]
    following = min(slot for slot in slots if slot > now)
    if any(due < slot <= now for slot in slots):
        assert verdict is Verdict.SUPERSEDED
    elif following - now < SAFE_GAP:
        assert verdict is Verdict.NEXT_SOON
    else:
        assert verdict is Verdict.OFFER
