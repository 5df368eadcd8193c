"""Supply projection (bot/domain/supply.py): units per dose, the run-out day, reminder days.

The property test plays random plans (through the real schedule, ``slots_between``) and random
answer histories, and checks the projected run-out day against a dose-by-dose simulated count.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.plans import Plan, Step
from bot.domain.schedule import slots_between
from bot.domain.supply import (
    DoseUse,
    Product,
    Refusal,
    ReminderKind,
    Use,
    count_units,
    project,
    reminders_due,
    units_per_dose,
)

TEN_SCORED = Product("tablet", Decimal(10), scored=True)
ZONE = ZoneInfo("Europe/Berlin")
MORNING, NOON, NIGHT = time(8), time(14), time(20)


def titration(start: date) -> Plan:
    steps = tuple(Step.same_at((MORNING, NOON, NIGHT), Decimal(mg), 3) for mg in (5, 10, 15, 20))
    return Plan("standard", start, steps, ends_after_last_step=False)


def planned(plan: Plan, since: datetime, days: int = 400) -> list[DoseUse]:
    slots = slots_between(plan, ZONE, since, since + timedelta(days=days))
    return [DoseUse(slot.local_date, slot.mg) for slot in slots]


def test_units_whole_and_half_tablets() -> None:
    assert units_per_dose(Decimal(5), TEN_SCORED) == 1  # half a tablet
    assert units_per_dose(Decimal(20), TEN_SCORED) == 4
    assert units_per_dose(Decimal(5), Product("tablet", Decimal(10))) is None  # not scored
    assert units_per_dose(Decimal("7.5"), TEN_SCORED) is None


def test_titration_with_forty_scored_tens() -> None:
    # 40 tablets = 80 halves. Days 1-3: 3 halves a day (9); days 4-6: 6 a day (18, 27 total);
    # days 7-9: 9 a day (27, 54); days 10-12: 12 a day: day 10 -> 66, day 11 -> 78, day 12
    # needs 12 more with 2 left: the supply covers up to day 11.
    start = date(2026, 12, 1)
    plan = titration(start)
    since = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
    result = project(TEN_SCORED, count_units(Decimal(40), TEN_SCORED), [], planned(plan, since))
    assert result.run_out == date(2026, 12, 11)
    assert result.order_by == date(2026, 12, 1)
    assert result.left_units == 80


def test_skips_do_not_count_and_unanswered_do() -> None:
    day = date(2026, 12, 1)
    history = [DoseUse(day, Decimal(10)), DoseUse(day, Decimal(10), Use.NOT_USED)]
    result = project(TEN_SCORED, 10, history, [DoseUse(day + timedelta(days=1), Decimal(10))])
    assert result.left_units == 8


def test_taper_counts_halves() -> None:
    # 15 mg -> 10 -> 5 mg a day with 10 mg scored tablets: 3, 2, 1 halves a day.
    plan = Plan(
        "taper",
        date(2026, 12, 1),
        tuple(Step.same_at((NIGHT,), Decimal(mg), 2) for mg in (15, 10, 5)),
        ends_after_last_step=True,
    )
    since = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
    doses = planned(plan, since)
    assert [units_per_dose(dose.mg, TEN_SCORED) for dose in doses] == [3, 3, 2, 2, 1, 1]
    short = project(TEN_SCORED, 9, [], doses, plan_ends=True)  # 4.5 tablets
    assert short.run_out == date(2026, 12, 3)
    enough = project(TEN_SCORED, 12, [], doses, plan_ends=True)
    assert enough.run_out is None and enough.covers_plan


def test_unscored_taper_refuses_halves() -> None:
    result = project(
        Product("tablet", Decimal(10)), 20, [], [DoseUse(date(2026, 12, 1), Decimal(5))]
    )
    assert result.refusal is Refusal.UNMAKEABLE and result.unmakeable_mg == Decimal(5)


def test_liquid_refuses_without_its_strength() -> None:
    result = project(Product("liquid"), 10000, [], [DoseUse(date(2026, 12, 1), Decimal(5))])
    assert result.refusal is Refusal.NO_LIQUID_STRENGTH and result.run_out is None
    with pytest.raises(ValueError, match="no liquid strength"):
        units_per_dose(Decimal(5), Product("liquid"))
    liquid = Product("liquid", mg_per_ml=Decimal(1))  # 5 mg/5 mL
    ok = project(
        liquid,
        count_units(Decimal(30), liquid),
        [],
        [DoseUse(date(2026, 12, 1) + timedelta(days=n), Decimal(10)) for n in range(5)],
    )
    assert ok.run_out == date(2026, 12, 3)


@pytest.mark.parametrize("typed", ["-1", "2.5", "3.25", "2001"])
def test_bad_tablet_counts(typed: str) -> None:
    with pytest.raises(ValueError, match=r"negative|not whole|too many"):
        count_units(Decimal(typed), Product("tablet", Decimal(10), scored=typed != "2.5"))


def test_reminder_days_and_ordered_snooze() -> None:
    result = project(
        TEN_SCORED,
        40,
        [],
        [DoseUse(date(2026, 12, 1) + timedelta(days=n), Decimal(10)) for n in range(60)],
    )
    run_out = result.run_out
    assert run_out == date(2026, 12, 20) and result.order_by == date(2026, 12, 10)
    assert reminders_due(result, date(2026, 12, 10), ordered=False) == [ReminderKind.ORDER]
    assert reminders_due(result, date(2026, 12, 18), ordered=False) == [ReminderKind.TWO_DAYS]
    assert reminders_due(result, date(2026, 12, 20), ordered=False) == [ReminderKind.LAST_DAY]
    assert reminders_due(result, date(2026, 12, 11), ordered=False) == []
    assert reminders_due(result, date(2026, 12, 18), ordered=True) == []
    assert reminders_due(result, date(2026, 12, 20), ordered=True) == [ReminderKind.LAST_DAY]


# --- the property ---------------------------------------------------------------------------

_MG = st.sampled_from([Decimal(5), Decimal(10), Decimal(15), Decimal(20), Decimal(30)])
_TIMES = st.lists(
    st.sampled_from([time(7), time(12), time(17), time(22)]), min_size=1, max_size=4, unique=True
)


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    steps = []
    for _ in range(draw(st.integers(1, 5))):
        times = sorted(draw(_TIMES))
        steps.append(Step.same_at(times, draw(_MG), draw(st.integers(1, 6))))
    ends = draw(st.booleans())
    return Plan("taper" if ends else "custom", date(2026, 12, 1), tuple(steps), ends)


def simulate(
    product: Product, on_hand: int, history: list[DoseUse], future: list[DoseUse]
) -> date | None:
    """Dose by dose: take each used dose from the count; the first dose it cannot cover
    makes the day before it the run-out day."""
    count = Fraction(on_hand)
    for dose in history:
        if dose.use is Use.USED:
            count = max(
                count - Fraction(dose.mg) / Fraction(product.strength_mg or 1) * 2, Fraction(0)
            )
    count = max(count, Fraction(0))
    for dose in future:
        if dose.use is not Use.USED:
            continue
        need = Fraction(dose.mg) / Fraction(product.strength_mg or 1) * 2
        if count < need:
            return dose.local_date - timedelta(days=1)
        count -= need
    return None


@settings(max_examples=200, deadline=None)
@given(
    plan=plans(),
    on_hand=st.integers(0, 200),
    split=st.integers(0, 20),
    uses=st.lists(st.sampled_from([Use.USED, Use.NOT_USED]), min_size=200, max_size=200),
)
def test_projected_run_out_is_the_simulated_day(
    plan: Plan, on_hand: int, split: int, uses: list[Use]
) -> None:
    product = Product("tablet", Decimal(5), scored=True)
    since = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
    doses = [
        DoseUse(dose.local_date, dose.mg, uses[n % len(uses)])
        for n, dose in enumerate(planned(plan, since, days=200))
    ]
    history, future = doses[:split], doses[split:]
    # Past doses as a history with answers; future doses as paused (NOT_USED) or planned.
    result = project(product, on_hand, history, future, plan_ends=plan.ends_after_last_step)
    assert result.ok
    assert result.run_out == simulate(product, on_hand, history, future)
    if result.run_out is not None:
        assert result.order_by == result.run_out - timedelta(days=10)
