"""The paid lane's rate rule (bot.delivery.budget.paid_capacity): it follows the event loop's
smoothed lag, down fast under lasting lag, back up quickly while the loop is on time."""

from __future__ import annotations

from bot.delivery.budget import LAG_HIGH, LAG_LOW, LAG_SMOOTHING, PAID_FLOOR, paid_capacity

CEILING = 970


def _smoothed(lags: list[float]) -> list[float]:
    """The smoothed lag after each tick, as SendBudget._watch_lag computes it."""
    smoothed, seen = 0.0, []
    for lag in lags:
        smoothed += LAG_SMOOTHING * (lag - smoothed)
        seen.append(smoothed)
    return seen


def test_halved_when_the_loop_runs_late_never_below_the_floor() -> None:
    assert paid_capacity(800, LAG_HIGH * 2, CEILING) == 400
    assert paid_capacity(PAID_FLOOR, LAG_HIGH * 2, CEILING) == PAID_FLOOR


def test_raised_by_a_tenth_while_on_time_up_to_the_ceiling() -> None:
    assert paid_capacity(400, 0.0, CEILING) == 440
    assert paid_capacity(PAID_FLOOR, 0.0, CEILING) == PAID_FLOOR * 2
    assert paid_capacity(960, 0.0, CEILING) == CEILING


def test_kept_between_the_two_marks() -> None:
    assert paid_capacity(500, (LAG_LOW + LAG_HIGH) / 2, CEILING) == 500


def test_one_late_tick_is_no_overload_but_lasting_lag_is() -> None:
    capacity = CEILING
    for lag in _smoothed([0.09] + [0.0] * 5):  # one claimed batch composed at once
        capacity = paid_capacity(capacity, lag, CEILING)
    assert capacity == CEILING
    for lag in _smoothed([0.09] * 5):  # half a second of lag
        capacity = paid_capacity(capacity, lag, CEILING)
    assert capacity < CEILING // 2


def test_back_from_half_within_a_second() -> None:
    capacity = CEILING // 2
    for _ in range(10):  # ten on-time ticks: one second
        capacity = paid_capacity(capacity, 0.0, CEILING)
    assert capacity == CEILING
