"""Who is where in their plan, and which broadcast segment that puts them in.

Pure: the caller passes the plan and the user's local ``today``.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from bot.domain.plans import Plan


class Phase(StrEnum):
    TITRATION = "titration"  # a standard or custom plan still within its steps (or not started)
    MAINTENANCE = "maintenance"  # past the last step: the last dose continues
    TAPERING = "tapering"  # a taper still running, or holding its last dose
    TAPER_ENDED = "taper_ended"  # a taper that stopped at zero after its last step


class Segment(StrEnum):
    """Who a broadcast goes to (always minus announcements-off and unreachable users)."""

    ALL = "all"
    TITRATION = "titration"
    MAINTENANCE = "maintenance"
    TAPERING = "tapering"


def plan_phase(plan: Plan, today: date) -> Phase:
    past_last_step = today > plan.last_step_day()
    if plan.kind == "taper":
        return Phase.TAPER_ENDED if past_last_step and plan.ends_after_last_step else Phase.TAPERING
    return Phase.MAINTENANCE if past_last_step else Phase.TITRATION


def in_segment(segment: Segment, phase: Phase | None) -> bool:
    """``phase`` is None for a user without an active plan: only "all" reaches them."""
    return segment is Segment.ALL or (phase is not None and phase.value == segment.value)
