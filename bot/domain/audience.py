"""Who is where in their plan, and which broadcast segment that puts them in.

Pure: the caller passes the plan's span and the user's local ``today``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from bot.domain.plans import Plan, PlanKind


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


@dataclass(frozen=True)
class PlanSpan:
    """All a phase depends on: the kind of plan and the local day its last step ends."""

    kind: PlanKind
    last_step_day: date
    ends_after_last_step: bool

    @classmethod
    def of(cls, plan: Plan) -> PlanSpan:
        return cls(plan.kind, plan.last_step_day(), plan.ends_after_last_step)


def plan_phase(span: PlanSpan, today: date) -> Phase:
    past_last_step = today > span.last_step_day
    if span.kind == "taper":
        return Phase.TAPER_ENDED if past_last_step and span.ends_after_last_step else Phase.TAPERING
    return Phase.MAINTENANCE if past_last_step else Phase.TITRATION


def in_segment(segment: Segment, phase: Phase | None) -> bool:
    """``phase`` is None for a user without an active plan: only "all" reaches them."""
    return segment is Segment.ALL or (phase is not None and phase.value == segment.value)
