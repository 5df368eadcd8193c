"""Step check-ins: when to ask, and the scales. Pure: no Telegram, no database.

Titration finds the lowest dose that works, and the prescriber decides from how the patient
did at each step. So before each increase the bot asks how the patient is doing; it never
changes a dose from the answers (fact sheet 2.4: the label's schedule is adjusted to response
and tolerability, by the prescriber).
"""

from __future__ import annotations

from datetime import time
from enum import IntEnum, StrEnum

from bot.domain.plans import Step

MAX_STIFFNESS = 10  # stiffness and spasms on a 0-10 numeric rating scale
HOLD_DAYS = (1, 2, 3, 4, 5, 6, 7)  # "stay at this dose longer" extends a step by this many


class Severity(IntEnum):
    NONE = 0
    MILD = 1
    STRONG = 2


class SideEffect(StrEnum):
    """Asked at every check-in: the label's most frequent side effects (fact sheet 2.8)."""

    DROWSINESS = "drowsiness"
    DIZZINESS = "dizziness"
    WEAKNESS = "weakness"
    NAUSEA = "nausea"


def asks_before_increase(
    steps: tuple[Step, ...], step_number: int, day_number: int, local_time: time
) -> bool:
    """Is this the last dose of a step whose next step raises the daily dose?

    ``day_number`` is 1-based from the plan start. The check-in follows that dose: the
    evening before the increase, for the usual plan whose last dose of the day is at night.
    """
    if not 1 <= step_number < len(steps):
        return False
    step, following = steps[step_number - 1], steps[step_number]
    if following.daily_mg <= step.daily_mg:
        return False
    last_day = sum(item.days for item in steps[:step_number])
    return day_number == last_day and local_time == step.doses[-1].at
