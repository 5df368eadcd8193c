"""Plan phases and broadcast segments (pure)."""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal

import pytest

from bot.domain.audience import Phase, PlanSpan, Segment, in_segment, plan_phase
from bot.domain.plans import Plan, PlanKind, Step

START = date(2026, 3, 1)
TIMES = (time(8), time(20))
STEPS = (Step.same_at(TIMES, Decimal(10), 3), Step.same_at(TIMES, Decimal(5), 2))  # ends 5 March


def _plan(kind: PlanKind, *, ends: bool = False) -> Plan:
    steps = STEPS if kind == "taper" else STEPS[::-1]
    return Plan(kind, START, steps, ends)


@pytest.mark.parametrize(
    ("kind", "ends", "today", "phase"),
    [
        ("standard", False, START - timedelta(days=2), Phase.TITRATION),  # not started yet
        ("standard", False, START, Phase.TITRATION),
        ("custom", False, date(2026, 3, 5), Phase.TITRATION),  # the last step's last day
        ("custom", False, date(2026, 3, 6), Phase.MAINTENANCE),
        ("taper", False, START, Phase.TAPERING),
        ("taper", False, date(2026, 4, 1), Phase.TAPERING),  # holds its last dose
        ("taper", True, date(2026, 3, 5), Phase.TAPERING),
        ("taper", True, date(2026, 3, 6), Phase.TAPER_ENDED),
    ],
)
def test_plan_phase(kind: PlanKind, ends: bool, today: date, phase: Phase) -> None:
    assert plan_phase(PlanSpan.of(_plan(kind, ends=ends)), today) is phase


def test_segments() -> None:
    assert in_segment(Segment.ALL, None)
    assert in_segment(Segment.ALL, Phase.TAPER_ENDED)
    assert in_segment(Segment.TITRATION, Phase.TITRATION)
    assert not in_segment(Segment.TITRATION, Phase.MAINTENANCE)
    assert not in_segment(Segment.MAINTENANCE, None)
    assert in_segment(Segment.TAPERING, Phase.TAPERING)
    assert not in_segment(Segment.TAPERING, Phase.TAPER_ENDED)
