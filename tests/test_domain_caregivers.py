"""Caregiver rules as pure functions: the delay, the invite payload, who may accept, and what
an alert says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.caregivers import (
    MAX_CAREGIVERS,
    START_PAYLOAD_MAX,
    AlertKind,
    DelayError,
    InviteProblem,
    InviteState,
    Said,
    invite_payload,
    invite_problem,
    invite_token,
    parse_delay,
    what_to_say,
)
from bot.domain.missed import PastDose, Record

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
    assert what_to_say(unanswered, _doses(Record.NONE, Record.TAKEN)) is None
    assert what_to_say(unanswered, _doses(Record.NONE, Record.SKIPPED)) is None
    assert what_to_say(unanswered, []) is None
    # Paused before: nothing is known about it, so this is not "two in a row".
    assert what_to_say(unanswered, _doses(Record.NOT_REMINDED, Record.NONE)) is Said.UNANSWERED
    assert what_to_say(AlertKind.TAPER_STEP, []) is Said.TAPER_STEP
