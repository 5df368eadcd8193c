"""The courier: claim → send → settle, the one loop every queue of outgoing messages runs on.

It owns what was written once per queue before: the batch loop, grouping by recipient (one
recipient's rows in order, recipients in parallel, the send budget pacing them), the stop path
(a claimed row whose request never left is released as it was), what a failed send means
(``bot.delivery.send_errors``) and what follows from it: backoff, the attempt limit, and the end
of a recipient's turn after a 403. A queue's policy says only what is due, what to say and what
is stale; its rules say which failures it retries.

Every send goes through the one send budget (``bot.delivery.budget``) with the policy's
priority; the row is marked in flight from the budget's ``on_leave``, right before its request
leaves, so that after a crash only requests that really left count as possibly arrived.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Generic, Protocol, TypeVar

from telegram import Bot, InlineKeyboardMarkup
from telegram.error import TelegramError

from bot.clock import Clock
from bot.delivery.budget import Priority, sending_as
from bot.delivery.letters import Buttons, LetterPost
from bot.delivery.queue import Outcome, Queue, Settled
from bot.delivery.send_errors import SendError, SendFailure
from bot.delivery.send_errors import classify as classify_send_error
from bot.metrics import Metrics

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Item_contra = TypeVar("Item_contra", contravariant=True)

_MAY_HAVE_LEFT = frozenset({SendFailure.SERVER_ERROR, SendFailure.MAY_HAVE_ARRIVED})

# Outcomes that are no failure: the recipient's turn goes on after them.
_FINE = frozenset({Outcome.SENT, Outcome.DROPPED})


@dataclass(frozen=True)
class Letter:
    """One message to send for a claimed row."""

    chat_id: int
    text: str
    markup: Buttons | InlineKeyboardMarkup | None = None
    detail: object = None  # handed back in ``Settled.detail`` (e.g. what an alert said)


@dataclass(frozen=True)
class Fanout:
    """Best-effort messages to several people for one row (a caregiver's copy of a pump alert):
    each is tried once, a failure is logged and passed over, and the row is then SENT."""

    letters: Sequence[Letter]


@dataclass(frozen=True)
class Drop:
    """Nothing to send now: the row ends as DROPPED, with the policy's word for why."""

    reason: str


class Policy(Protocol[Item_contra]):
    """What a queue decides for itself; the courier does the rest."""

    name: str  # the event name's stem in logs: "<name>_sent", "<name>_retry", ...
    priority: Priority

    def ids(self, item: Item_contra) -> str:
        """The row's ids for a log line ("alert=12"): ids only, never text or health data."""
        ...

    def attempts(self, item: Item_contra) -> int:
        """Failed attempts so far (0 on the first)."""
        ...

    def recipient(self, item: Item_contra) -> int:
        """Whose turn the row is in: one recipient's rows go in order."""
        ...

    async def compose(self, item: Item_contra, now: datetime) -> Letter | Fanout | Drop:
        """What to send now, or why nothing is (stale, answered, unreachable...)."""
        ...

    async def settled(self, item: Item_contra, settled: Settled) -> None:
        """After the queue recorded it: the policy's own side effects (metrics, logs, a user
        marked unreachable, a caregiver's note). An error here is logged, and changes nothing
        about the row: it is settled."""
        ...


def _retry_all() -> dict[SendFailure, Outcome]:
    return {
        SendFailure.UNREACHABLE: Outcome.UNREACHABLE,
        SendFailure.REJECTED: Outcome.REJECTED,
        SendFailure.RATE_LIMITED: Outcome.RETRY,
        SendFailure.SERVER_ERROR: Outcome.RETRY,
        SendFailure.MAY_HAVE_ARRIVED: Outcome.RETRY,
        SendFailure.NEVER_SENT: Outcome.RETRY,
    }


@dataclass(frozen=True)
class Rules:
    """A queue's delivery rules: how many attempts, how far apart, what each failure means."""

    max_attempts: int | None = 8  # None: never given up (the next pass tries again)
    backoff_base: timedelta = timedelta(seconds=15)
    backoff_cap: timedelta = timedelta(seconds=600)
    failures: Mapping[SendFailure, Outcome] = field(default_factory=_retry_all)
    # The least wait before a retry after this failure (e.g. a 400 retried only after 10 min).
    least_wait: Mapping[SendFailure, timedelta] = field(default_factory=dict)
    batch_size: int = 200
    # False: one claim per pass (a queue whose claim is a scan of every candidate).
    drain: bool = True
    # True: after a failed send the recipient's other rows of this batch are released.
    failure_ends_turn: bool = False

    def backoff(self, attempts: int) -> timedelta:
        return min(self.backoff_base * (1 << attempts), self.backoff_cap)


@dataclass
class _Trip:
    """One attempt at a row: whether its request has left (the budget's ``on_leave`` ran)."""

    left: bool = False


class Courier(Generic[Item]):
    """Runs one queue: each call of :meth:`run` sends everything that is due now."""

    def __init__(
        self,
        *,
        queue: Queue[Item],
        policy: Policy[Item],
        rules: Rules,
        clock: Clock,
        bot: Bot,
        metrics: Metrics,
    ) -> None:
        self._queue = queue
        self._policy = policy
        self._rules = rules
        self._clock = clock
        self._post = LetterPost.of(bot)
        self._metrics = metrics

    async def next_due_at(self) -> datetime | None:
        return await self._queue.next_due_at()

    async def recover(self) -> int:
        return await self._queue.recover(self._clock.now())

    async def run(self, stopping: Callable[[], bool]) -> datetime | None:
        """Send what is due; return the earliest retry instant asked for (None: none; a retry
        is also a due row, which the dispatcher's next wake-up reads)."""
        next_at = await self._queue.next_due_at()
        if next_at is not None and next_at > self._clock.now():
            return None  # one index read, no write lock: most passes have nothing due
        retries: list[datetime] = []
        while not stopping():
            batch = await self._queue.claim(self._clock.now(), self._rules.batch_size)
            if not batch:
                break
            turns: dict[int, list[Item]] = {}
            for item in batch:
                turns.setdefault(self._policy.recipient(item), []).append(item)
            await asyncio.gather(
                *(self._turn(items, stopping, retries) for items in turns.values())
            )
            if not self._rules.drain:
                break
        return min(retries, default=None)

    async def _turn(
        self, items: list[Item], stopping: Callable[[], bool], retries: list[datetime]
    ) -> None:
        """One recipient's rows in order; a 403 (or, by the rules, any failure) ends the turn."""
        ended = False
        for item in items:
            if ended or stopping():
                # Claimed, but its request never left: back as it was, for the next pass.
                now = self._clock.now()
                released = await self._settle(item, Settled(Outcome.RELEASED, now, retry_at=now))
                await self._after(item, released)
                continue
            settled = await self.deliver(item)
            if settled.retry_at is not None and settled.outcome is Outcome.RETRY:
                retries.append(settled.retry_at)
            ended = settled.outcome is Outcome.UNREACHABLE or (
                self._rules.failure_ends_turn and settled.outcome not in _FINE
            )

    async def deliver(self, item: Item) -> Settled:
        """Send one claimed row and settle it (for a queue that claims at its own pace)."""
        trip = _Trip()
        try:
            settled = await self._settle(item, await self._attempt(item, trip))
        except Exception:
            # Never let one row stop the others. Whatever broke, it counts as a failure of
            # the send: one that may have arrived if its request had left, else one that
            # never did (the queue's rules say what each means).
            log.exception("%s_failed %s", self._policy.name, self._policy.ids(item))
            kind = SendFailure.MAY_HAVE_ARRIVED if trip.left else SendFailure.NEVER_SENT
            failed = self._failed(item, None, self._rules.failures[kind], possible_repeat=trip.left)
            settled = await self._settle(item, failed)
        await self._after(item, settled)
        return settled

    async def _settle(self, item: Item, settled: Settled) -> Settled:
        applied = await self._queue.settle(item, settled)
        return settled if applied else replace(settled, applied=False)

    async def _after(self, item: Item, settled: Settled) -> None:
        try:
            await self._policy.settled(item, settled)
        except Exception:
            log.exception("%s_after_failed %s", self._policy.name, self._policy.ids(item))

    async def _attempt(self, item: Item, trip: _Trip) -> Settled:
        composed = await self._policy.compose(item, self._clock.now())
        if isinstance(composed, Drop):
            return Settled(Outcome.DROPPED, self._clock.now(), reason=composed.reason)
        if isinstance(composed, Fanout):
            for letter in composed.letters:
                try:
                    await self._send(item, letter, None)
                except TelegramError as raised:
                    log.info(
                        "%s_copy_failed %s chat=%d kind=%s",
                        self._policy.name,
                        self._policy.ids(item),
                        letter.chat_id,
                        type(raised).__name__,
                    )
            return Settled(Outcome.SENT, self._clock.now())
        try:
            message_id = await self._send(item, composed, trip)
        except TelegramError as raised:
            error = classify_send_error(raised)
            self._metrics.send_failed(error.name)
            outcome = self._rules.failures[error.kind]
            if outcome is Outcome.REJECTED:
                log.error(
                    "%s_rejected %s kind=%s", self._policy.name, self._policy.ids(item), error.name
                )
            # A 5xx or a time-out may have delivered it; a refusal or a connection never
            # opened did not.
            return self._failed(item, error, outcome, possible_repeat=error.kind in _MAY_HAVE_LEFT)
        return Settled(
            Outcome.SENT, self._clock.now(), message_id=message_id, detail=composed.detail
        )

    async def _send(self, item: Item, letter: Letter, trip: _Trip | None) -> int:
        """Through the send budget; with a ``trip``, the row is marked in flight as its
        request leaves (a best-effort copy is not)."""

        async def leaving() -> None:
            await self._queue.mark_in_flight([item], self._clock.now())
            assert trip is not None
            trip.left = True

        with sending_as(self._policy.priority, on_leave=leaving if trip is not None else None):
            return await self._post.send(letter.chat_id, letter.text, letter.markup)

    def _failed(
        self, item: Item, error: SendError | None, outcome: Outcome, *, possible_repeat: bool
    ) -> Settled:
        """A failed attempt: retried after the backoff (and any retry_after), or given up."""
        now = self._clock.now()
        if outcome is Outcome.RELEASED:
            return Settled(outcome, now, retry_at=now, error=error)  # due now, no attempt
        if outcome is not Outcome.RETRY:
            return Settled(outcome, now, error=error)
        attempts = self._policy.attempts(item)
        limit = self._rules.max_attempts
        if limit is not None and attempts + 1 >= limit:
            log.error(
                "%s_gave_up %s attempts=%d", self._policy.name, self._policy.ids(item), attempts + 1
            )
            return Settled(Outcome.GAVE_UP, now, error=error)
        wait = self._rules.backoff(attempts)
        if error is not None:
            wait = max(
                wait, error.retry_after or wait, self._rules.least_wait.get(error.kind, wait)
            )
        retry_at = now + wait
        log.info("%s_retry %s attempt=%d", self._policy.name, self._policy.ids(item), attempts + 1)
        return Settled(
            Outcome.RETRY, now, retry_at=retry_at, possible_repeat=possible_repeat, error=error
        )


@dataclass(frozen=True)
class Engine:
    """What every queue's courier sends with, built once at start (``bot.app``): the one clock,
    the bot (whose sends all pass the one send budget) and the metrics."""

    clock: Clock
    bot: Bot
    metrics: Metrics

    def courier(self, queue: Queue[Item], policy: Policy[Item], rules: Rules) -> Courier[Item]:
        return Courier(
            queue=queue,
            policy=policy,
            rules=rules,
            clock=self.clock,
            bot=self.bot,
            metrics=self.metrics,
        )


class OnCourier(Policy[Item]):
    """A queue's policy that runs its own courier (caregiver alerts, refill and supply
    reminders): the subclass says what the policy says; this is what the dispatcher calls."""

    def __init__(self, engine: Engine, queue: Queue[Item], rules: Rules) -> None:
        self._clock = engine.clock
        self._bot = engine.bot
        self._metrics = engine.metrics
        self._courier = engine.courier(queue, self, rules)

    async def next_action_at(self) -> datetime | None:
        return await self._courier.next_due_at()

    async def recover_claims(self) -> int:
        return await self._courier.recover()

    async def run_due(self, stopping: Callable[[], bool]) -> datetime | None:
        """Send what is due; return the earliest retry instant asked for (None: none; a retry
        is also a due row, which the dispatcher's next wake-up reads)."""
        return await self._courier.run(stopping)
