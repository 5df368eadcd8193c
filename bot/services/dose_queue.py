"""The dose rows as a queue of the delivery engine (``bot.delivery.queue.Queue``).

Each claimed row is one of four messages (a reminder, a missed-dose notice, a follow-up, a
repeat: :class:`DoseMessage`) or a quiet end (:class:`DoseDrop`); :meth:`DoseQueue.settle`
turns the courier's outcome into the row's transition, all of them in ``bot.storage.doses``
(the table "The life of a dose row" in docs/architecture.md). The instants that follow from
when a message left (the follow-up, the next repeat) are worked out here, from the domain
rules, not in storage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.delivery.queue import Outcome, Settled
from bot.domain.missed import SEVERAL_MISSED_LOOKBACK, MissedAction
from bot.domain.repeats import FOLLOW_UP_AFTER, ONCE, next_repeat
from bot.storage.doses import Action, DoseStore, DueEvent

# A repeat held up in the send budget (a burst) is followed by the next one no sooner than this.
MIN_REPEAT_GAP = timedelta(minutes=5)


class DoseMessage(StrEnum):
    REMINDER = "reminder"  # the dose is due (or late): with its buttons
    MISSED_NOTICE = "missed_notice"  # the dose must not be taken now: said why, no buttons
    FOLLOW_UP = "follow_up"  # "did you take it?"
    REPEAT = "repeat"  # the next repeat of an unanswered reminder


class DoseDrop(StrEnum):
    """Why a claimed row ends with nothing sent."""

    MISSED = "missed"  # passed silently: a later dose time has passed, or the plan changed
    FOLLOW_UP_DROPPED = "follow_up_dropped"  # its follow-up or repeat would help nobody now


@dataclass(frozen=True)
class DoseSent:
    """What a dose message was (``Letter.detail``), for the queue to record it."""

    message: DoseMessage
    following: datetime | None = None  # REPEAT: the next repeat (None: the last)
    action: MissedAction | None = None  # MISSED_NOTICE: what the rule said
    retire: int | None = None  # MISSED_NOTICE: the live reminder it replaces (its buttons go)


class DoseQueue:
    def __init__(self, doses: DoseStore) -> None:
        self._doses = doses

    async def claim(self, now: datetime, limit: int) -> list[DueEvent]:
        # With each row the doses the several-missed warning looks at (its reminder's words).
        return await self._doses.claim_due(now, limit, recent=SEVERAL_MISSED_LOOKBACK)

    async def mark_in_flight(self, items: Sequence[DueEvent], now: datetime) -> None:
        for due in items:
            await self._doses.mark_in_flight(due.event.event_id, now)

    async def recover(self, now: datetime) -> int:
        return await self._doses.recover_claims(now)

    async def next_due_at(self) -> datetime | None:
        return await self._doses.next_action_at()

    async def settle(self, item: DueEvent, settled: Settled) -> bool:
        event = item.event
        at = settled.at
        outcome = settled.outcome
        if outcome is Outcome.SENT:
            assert isinstance(settled.detail, DoseSent) and settled.message_id is not None
            return await self._record_sent(item, settled.detail, settled.message_id, at)
        if outcome is Outcome.DROPPED:
            if settled.reason == DoseDrop.FOLLOW_UP_DROPPED:
                await self._doses.record_follow_up_dropped(event.event_id, at)
            else:
                await self._doses.record_missed_notice(event.event_id, None, at)
        elif outcome is Outcome.RELEASED:
            # Claimed, its message never left: the row as it was; the next start sends it as
            # a first send rather than a repeat.
            await self._doses.release_unsent(event)
        elif outcome is Outcome.UNREACHABLE:
            # Also releases this row's claim: no restart re-sends it, nothing more goes out.
            await self._doses.mark_unreachable(event.user_id, at)
        elif outcome is Outcome.GAVE_UP:
            if item.action is Action.FOLLOW_UP:
                await self._doses.record_missed_notice(event.event_id, None, at)
            else:  # the patient got nothing: the next reminder that reaches them says so
                await self._doses.record_given_up(event.event_id, at)
        else:
            await self._doses.release_claim(
                event.event_id, settled.retry_at or at, outcome_unknown=settled.possible_repeat
            )
        return True

    async def _record_sent(
        self, item: DueEvent, sent: DoseSent, message_id: int, sent_at: datetime
    ) -> bool:
        """``sent_at``: when it left, not when it was claimed (in a burst the pacer may have
        held it a while). False: a repeat whose dose was answered while it was on its way."""
        event = item.event
        if sent.message is DoseMessage.REMINDER:
            repeats = item.repeat_minutes != ONCE
            await self._doses.record_reminder_sent(
                event.event_id,
                message_id,
                sent_at,
                next_repeat(event.due_at, sent_at, item.repeat_minutes)
                if repeats
                else sent_at + FOLLOW_UP_AFTER,
                caregivers=item.has_caregivers,
                # A caregiver is told at the same time whatever the patient's repeats.
                caregiver_base=sent_at + FOLLOW_UP_AFTER,
            )
        elif sent.message is DoseMessage.MISSED_NOTICE:
            await self._doses.record_missed_notice(event.event_id, message_id, sent_at)
        elif sent.message is DoseMessage.FOLLOW_UP:
            await self._doses.record_follow_up_sent(event.event_id, message_id, sent_at)
        else:
            following = sent.following
            if following is not None:
                following = max(following, sent_at + MIN_REPEAT_GAP)
            return await self._doses.record_repeat_sent(
                event.event_id, message_id, sent_at, following
            )
        return True
