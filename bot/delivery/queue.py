"""The queue protocol and its outcomes, in the manner of APScheduler 4's data store: a row's life
is a few named transitions (claim, in flight, settle, recover), each one a method of the queue,
and how a delivery ended is one :class:`Outcome`, never a bag of flags."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:
    from bot.delivery.send_errors import SendError


class Outcome(StrEnum):
    """How one claimed row's delivery ended; each queue stores it in its own words."""

    SENT = "sent"  # Telegram accepted it
    DROPPED = "dropped"  # the policy found nothing to say now (stale, answered, cancelled)
    RETRY = "retry"  # not delivered: due again at ``retry_at`` (one attempt counted)
    RELEASED = "released"  # stopping: claimed, its request never left; back as it was
    UNREACHABLE = "unreachable"  # 403, or the chat does not exist: nothing more to them
    REJECTED = "rejected"  # any other 400: sending it again would fail again
    UNKNOWN = "unknown"  # the request left and its answer was lost; never repeated
    GAVE_UP = "gave_up"  # the last attempt failed


@dataclass(frozen=True)
class Settled:
    """What :meth:`Queue.settle` records: the outcome and what goes with it."""

    outcome: Outcome
    at: datetime  # when it was settled (for SENT: when Telegram accepted it)
    retry_at: datetime | None = None  # RETRY and RELEASED: when the row is due again
    message_id: int | None = None  # SENT: the message Telegram made
    # RETRY: the request may have reached Telegram (a 5xx, a time-out): a queue that can say
    # so marks the retry as a possible repeat, never a silent duplicate.
    possible_repeat: bool = False
    reason: str | None = None  # DROPPED: the policy's word for why (stored by the queue)
    detail: object = None  # SENT: what the policy composed for the queue to record
    error: SendError | None = None  # a failed send: what Telegram's answer meant
    # After settle: False when the row had moved on meanwhile (answered while its message was
    # on its way), so the transition did not apply as planned; the policy may take it back.
    applied: bool = True


Item = TypeVar("Item")


class Queue(Protocol[Item]):
    """A table of rows that fall due; all of its SQL is in ``bot.storage``."""

    async def claim(self, now: datetime, limit: int) -> Sequence[Item]:
        """Due rows, at most ``limit``, each now claimed (committed before anything is sent)."""
        ...

    async def mark_in_flight(self, items: Sequence[Item], now: datetime) -> None:
        """Their requests have a send slot and leave now: after a crash only these may have
        arrived (a queue that re-sends everything after a crash may do nothing here)."""
        ...

    async def settle(self, item: Item, settled: Settled) -> bool:
        """The one transition out of "claimed", by outcome; False if the row had moved on
        meanwhile and the transition did not apply as planned."""
        ...

    async def recover(self, now: datetime) -> int:
        """At start (or after a pass was cut short): rows a dead process left claimed go back
        (or end) by the queue's own recovery rule; return how many."""
        ...

    async def next_due_at(self) -> datetime | None:
        """The earliest instant a row falls due (None: none waits)."""
        ...
