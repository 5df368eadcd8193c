"""Delivers broadcasts from the outbox, paced, after dose reminders, resumable after a restart.

One background task claims outbox rows one by one, at most ``MAX_IN_FLIGHT`` at a time, and
sends them through the one send budget (``bot.delivery.budget``) at the lowest priority: replies,
reminders and notices always get a slot first. Before every batch it asks the reminder
dispatcher whether a dose is being sent or falls due within two seconds; if so it waits:
reminders go first, with the whole rate limit to themselves.

Outcomes, per recipient:
- delivered: ``sent``;
- 403, or "chat not found": ``unreachable``; the user is marked unreachable as for reminders;
- 429: the budget pauses every send for ``retry_after`` and retries; a row still refused after
  its give-up time is released and tried again later;
- 5xx, or a connection that could not be opened: retried with backoff, up to MAX_ATTEMPTS;
- a connection that broke after the request left (or a crash mid-send): ``unknown``, never
  re-sent, so nobody gets an announcement twice; a row claimed but still waiting for its slot
  at a crash goes back to pending;
- any other refusal (400): ``failed``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta

from telegram.error import TelegramError

from bot.delivery.budget import Priority, sending_as
from bot.delivery.courier import Letter, Rules
from bot.delivery.queue import Outcome, Settled
from bot.delivery.send_errors import SendFailure
from bot.services.outgoing import Outgoing
from bot.services.reminders import ReminderService
from bot.storage.broadcasts import BroadcastStore, Delivery, OutboxItem, Progress, ending
from bot.storage.doses import DoseStore
from bot.views.admin import summary_text

log = logging.getLogger(__name__)

BATCH_SIZE = 10  # sends between two looks at the reminders
# Rows claimed and not yet answered. Enough to keep the budget's broadcast share busy (a send
# takes milliseconds; the budget spaces them), few enough that, when doses fall due, only these
# can still go out before the reminders.
MAX_IN_FLIGHT = BATCH_SIZE
MAX_ATTEMPTS = 6
REMINDERS_BUSY_RECHECK = 0.25  # seconds
# Stop this long before reminders fall due (a batch, then a clear second), so the rate limit is
# theirs from their first second.
REMINDER_HEADROOM = timedelta(seconds=2)
IDLE_RECHECK = 30.0  # seconds; confirming a broadcast or a clock jump wakes the worker sooner
ERROR_PAUSE = 5.0  # seconds, after an unexpected error (e.g. the database was busy)
STOP_GRACE = 10.0  # seconds to let the worker and messages in flight finish at shutdown


# What a failed send means for an announcement: a 429 the budget passed back is released as it
# was (due now, no attempt counted); a request that may have arrived is never repeated; a 5xx
# or a connection never opened is retried, 5 s doubling to 5 min, up to MAX_ATTEMPTS.
RULES = Rules(
    max_attempts=MAX_ATTEMPTS,
    backoff_base=timedelta(seconds=5),
    backoff_cap=timedelta(seconds=300),
    failures={
        SendFailure.UNREACHABLE: Outcome.UNREACHABLE,
        SendFailure.REJECTED: Outcome.REJECTED,
        SendFailure.RATE_LIMITED: Outcome.RELEASED,
        SendFailure.MAY_HAVE_ARRIVED: Outcome.UNKNOWN,
        SendFailure.SERVER_ERROR: Outcome.RETRY,
        SendFailure.NEVER_SENT: Outcome.RETRY,
    },
)


class OutboxWorker:
    """The broadcast queue's pace (after dose reminders, a few in flight) and its policy; the
    courier sends each claimed row and settles it."""

    name = "broadcast"
    priority = Priority.BROADCAST

    def __init__(
        self,
        *,
        store: BroadcastStore,
        doses: DoseStore,
        reminders: ReminderService,
        outgoing: Outgoing,
    ) -> None:
        self._store = store
        self._doses = doses
        self._reminders = reminders
        self._languages = outgoing.languages
        engine = outgoing.engine
        self._clock = engine.clock
        self._bot = engine.bot
        self._slots = asyncio.Semaphore(MAX_IN_FLIGHT)
        self._metrics = engine.metrics
        self._wake = asyncio.Event()
        self._in_flight: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._courier = engine.courier(store, self, RULES)

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        unknown = await self._courier.recover()
        if unknown:
            log.warning("broadcast_claims_unknown count=%d", unknown)
        self._clock.subscribe(self.wake)
        self._task = asyncio.create_task(self._run(), name="broadcast-outbox")

    async def stop(self) -> None:
        """Let messages in flight finish (briefly), then stop; the rest waits for the next start."""
        self._stopping = True
        self.wake()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout=STOP_GRACE)
            except TimeoutError:  # e.g. waiting out a long retry_after: nothing claimed then
                log.warning("broadcast_worker_stop_timeout")
            self._task = None
        if self._in_flight:
            _, late = await asyncio.wait(self._in_flight, timeout=STOP_GRACE)
            for task in late:  # their rows stay claimed and become "unknown" at the next start
                task.cancel()

    def wake(self) -> None:
        """Look for work now (a broadcast was confirmed, or the clock jumped)."""
        self._wake.set()

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                delay = await self._step()
            except Exception:
                log.exception("broadcast_worker_failed")
                delay = ERROR_PAUSE
            if delay > 0 and not self._stopping:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=delay)

    async def _step(self) -> float:
        """Send one batch; return how long to wait before the next look."""
        if await self._reminders.has_due_work(within=REMINDER_HEADROOM):
            return REMINDERS_BUSY_RECHECK
        launched = 0
        while launched < BATCH_SIZE:
            await self._slots.acquire()
            # Claimed one at a time; marked in flight when its request leaves (the courier).
            claimed = await self._store.claim(self._clock.now(), 1)
            if not claimed:
                self._slots.release()
                break
            [item] = claimed
            task = asyncio.create_task(self._deliver(item))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
            launched += 1
        if launched:
            self._metrics.broadcast_remaining.set(await self._store.remaining())
            return 0.0
        await self._settle()
        next_at = await self._courier.next_due_at()
        if next_at is None:
            return IDLE_RECHECK
        return min(IDLE_RECHECK, max(0.0, (next_at - self._clock.now()).total_seconds()))

    async def _settle(self) -> None:
        """Nothing due: wait for messages in flight, then close and report finished broadcasts."""
        if self._in_flight:
            await asyncio.wait(set(self._in_flight))
        await self._store.finish_completed(self._clock.now())
        self._metrics.broadcast_remaining.set(await self._store.remaining())
        for progress in await self._store.unreported():
            await self._report(progress)

    # ------------------------------------------------------------ delivery

    async def _deliver(self, item: OutboxItem) -> None:
        try:
            await self._courier.deliver(item)
        finally:
            self._slots.release()

    # ------------------------------------------------------------ the policy

    def ids(self, item: OutboxItem) -> str:
        return f"broadcast={item.broadcast_id} user={item.user_id}"

    def attempts(self, item: OutboxItem) -> int:
        return item.attempts

    def recipient(self, item: OutboxItem) -> int:
        return item.user_id

    async def compose(self, item: OutboxItem, now: datetime) -> Letter:
        return Letter(item.user_id, item.body)

    async def settled(self, item: OutboxItem, settled: Settled) -> None:
        outcome = settled.outcome
        if outcome is Outcome.UNREACHABLE:
            # The same as for a reminder: the user blocked the bot, so their reminders stop too.
            await self._doses.mark_unreachable(item.user_id, self._clock.now())
            log.warning("user_unreachable user=%d", item.user_id)
        elif outcome is Outcome.UNKNOWN:
            # Not repeated: an announcement twice is worse than one that may be missing.
            log.warning("broadcast_outcome_unknown broadcast=%d user=%d", *_ids(item))
        elif outcome is Outcome.RELEASED:
            log.warning("broadcast_rate_limited broadcast=%d user=%d", *_ids(item))
        if outcome is Outcome.SENT:
            self._count(Delivery.SENT)
        elif outcome not in (Outcome.RETRY, Outcome.RELEASED):
            self._count(ending(settled))

    def _count(self, delivery: Delivery) -> None:
        self._metrics.broadcast_messages.labels(delivery.value).inc()

    async def _report(self, progress: Progress) -> None:
        broadcast = progress.broadcast
        if broadcast.created_by is not None:
            try:
                with sending_as(Priority.NOTICE):
                    await self._bot.send_message(
                        broadcast.created_by,
                        summary_text(self._languages.pack(broadcast.created_by), progress),
                    )
            except TelegramError as error:
                log.warning(
                    "broadcast_report_failed broadcast=%d kind=%s",
                    broadcast.broadcast_id,
                    type(error).__name__,
                )
        await self._store.mark_reported(broadcast.broadcast_id, self._clock.now())
        log.info("broadcast_finished broadcast=%d sent=%d", broadcast.broadcast_id, progress.sent)


def _ids(item: OutboxItem) -> tuple[int, int]:
    return item.broadcast_id, item.user_id
