"""When the next repeat of an unanswered reminder is due (bot.domain.repeats), pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.repeats import (
    FOLLOW_UP_AFTER,
    ONCE,
    REPEAT_CHOICES,
    REPEAT_FOR,
    next_repeat,
    valid_choice,
)

DUE = datetime(2026, 1, 11, 8, tzinfo=UTC)


def test_once_is_one_follow_up_and_no_repeat() -> None:
    assert timedelta(minutes=30) == FOLLOW_UP_AFTER
    assert next_repeat(DUE, DUE + FOLLOW_UP_AFTER, ONCE) is None


def test_the_choices_are_the_columns() -> None:
    assert REPEAT_CHOICES == (0, 10, 15, 30)
    assert [valid_choice(minutes) for minutes in (0, 5, 10, 15, 20, 30, 60)] == [
        True,
        False,
        True,
        True,
        False,
        True,
        False,
    ]


def test_a_run_ends_four_hours_after_the_dose_time() -> None:
    assert next_repeat(DUE, DUE + timedelta(hours=3, minutes=30), 30) == DUE + REPEAT_FOR
    assert next_repeat(DUE, DUE + REPEAT_FOR, 30) is None


@given(
    st.sampled_from(REPEAT_CHOICES[1:]),
    st.integers(0, 6 * 60),
)
def test_the_next_repeat_is_one_interval_on_and_never_past_the_end(
    minutes: int, sent_after: int
) -> None:
    sent = DUE + timedelta(minutes=sent_after)
    following = next_repeat(DUE, sent, minutes)
    if following is None:
        assert sent + timedelta(minutes=minutes) - DUE > REPEAT_FOR
    else:
        assert following == sent + timedelta(minutes=minutes)
        assert following - DUE <= REPEAT_FOR
