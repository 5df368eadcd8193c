"""The missed-dose rule: take it now, unless the next dose is near; never double.

One rule for ``/missed``, the Missed button and doses that fell due while the bot was down.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

SKIP_IF_NEXT_WITHIN = timedelta(hours=2)  # NHS: less than 2 hours before the next dose -> skip


class MissedAction(StrEnum):
    TAKE_NOW = "take_now"
    SKIP = "skip"


@dataclass(frozen=True)
class MissedAdvice:
    action: MissedAction
    next_due: datetime | None


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime")


def missed_dose_advice(now: datetime, next_due: datetime | None) -> MissedAdvice:
    """SKIP when the next dose is due in less than two hours (or is already due); else TAKE_NOW.

    The gap is real elapsed time, whatever zones ``now`` and ``next_due`` carry.
    There is no "double" answer: a missed dose is never made up with an extra one.
    """
    _require_aware(now, "now")
    if next_due is None:
        return MissedAdvice(MissedAction.TAKE_NOW, None)
    _require_aware(next_due, "next_due")
    # Subtract in UTC: two datetimes with the same ZoneInfo subtract as wall clocks, which is
    # off by an hour across a daylight-saving change.
    if next_due.astimezone(UTC) - now.astimezone(UTC) < SKIP_IF_NEXT_WITHIN:
        return MissedAdvice(MissedAction.SKIP, next_due)
    return MissedAdvice(MissedAction.TAKE_NOW, next_due)
