"""The missed-dose rule at its edges: take it now, unless the next dose is under two hours away."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.missed import (
    SKIP_IF_NEXT_WITHIN,
    MissedAction,
    MissedAdvice,
    missed_dose_advice,
)

NOW = datetime(2026, 3, 29, 12, 0, tzinfo=UTC)


def test_threshold_is_two_hours() -> None:
    assert timedelta(hours=2) == SKIP_IF_NEXT_WITHIN


def test_action_values() -> None:
    assert [action.value for action in MissedAction] == ["take_now", "skip"]
    assert str(MissedAction.SKIP) == "skip"


@pytest.mark.parametrize(
    ("until_next", "action"),
    [
        (timedelta(hours=2), MissedAction.TAKE_NOW),  # exactly 2 h: not "less than 2 hours"
        (timedelta(hours=2, seconds=1), MissedAction.TAKE_NOW),
        (timedelta(hours=6), MissedAction.TAKE_NOW),
        (timedelta(hours=1, minutes=59), MissedAction.SKIP),
        (timedelta(hours=1, minutes=59, seconds=59, microseconds=999999), MissedAction.SKIP),
        (timedelta(minutes=1), MissedAction.SKIP),
        (timedelta(0), MissedAction.SKIP),  # the next dose is due now
        (timedelta(minutes=-30), MissedAction.SKIP),  # the next dose is already due
    ],
)
def test_rule_edges(until_next: timedelta, action: MissedAction) -> None:
    next_due = NOW + until_next
    assert missed_dose_advice(NOW, next_due) == MissedAdvice(action, next_due)


def test_no_next_dose_means_take_now() -> None:
    assert missed_dose_advice(NOW, None) == MissedAdvice(MissedAction.TAKE_NOW, None)


def test_never_double() -> None:
    assert {action.value for action in MissedAction} == {"take_now", "skip"}


def test_offsets_do_not_matter_only_instants() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    now_local = NOW.astimezone(berlin)
    next_due = NOW + timedelta(hours=1, minutes=59)
    assert missed_dose_advice(now_local, next_due).action is MissedAction.SKIP
    assert missed_dose_advice(NOW, next_due.astimezone(berlin)).action is MissedAction.SKIP


def test_across_a_dst_change_uses_real_elapsed_time() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    # 01:30 CET, next dose 03:30 CEST on 2026-03-29: only one real hour apart
    now = datetime(2026, 3, 29, 1, 30, tzinfo=berlin)
    next_due = datetime(2026, 3, 29, 3, 30, tzinfo=berlin)
    assert missed_dose_advice(now, next_due).action is MissedAction.SKIP


def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2026, 3, 29, 12, 0)  # noqa: DTZ001
    with pytest.raises(ValueError, match="aware"):
        missed_dose_advice(naive, None)
    with pytest.raises(ValueError, match="aware"):
        missed_dose_advice(naive, NOW)
    with pytest.raises(ValueError, match="aware"):
        missed_dose_advice(NOW, naive)
