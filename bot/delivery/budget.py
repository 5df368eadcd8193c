"""The one outgoing budget: every request the bot makes passes through :class:`SendBudget`.

PTB hands each Bot API request to the Application's rate limiter; this is ours. Messages that
Telegram counts (sends and edits) wait for a slot under both of its limits, about 30 a second
overall and about 1 a second per chat, and the slots go in strict priority order:

1. replies to a patient who just wrote or pressed a button (the default: handlers set nothing),
2. dose reminders, follow-ups and missed-dose notices,
3. other notices (e.g. an admin's broadcast report),
4. broadcasts.

A slot is held from its grant until a second after the answer: whenever the request reached
Telegram, it was inside that span, so however the network (or a busy event loop) delays and
bunches requests, Telegram never counts more than ``rate`` of ours in one second, nor two in
one chat. (Holding it a second after the request *left* instead was tried: a loaded process
writes requests late, and the stand-in then answered 429s.)

A 429 pauses every counted send for its ``retry_after`` (Telegram does not say which limit was
hit), and the request then waits for a slot again, keeping its place. Nothing is dropped after a
fixed count: a request is retried until it is delivered or older than ``give_up_after``; a reply
then ends in :class:`ReplyGivenUp` (logged and counted), anything else in the last RetryAfter for
its caller to reschedule. So RetryAfter never reaches the error handler.

Callers say what they send with :func:`sending_as`, a context variable, so PTB's methods are
called as usual. ``on_leave`` runs once the slot is granted, right before the request leaves:
the reminder dispatcher marks its row "in flight" there, so that after a crash only requests
that really left are re-sent as possible repeats.

Optional paid broadcasting (``allow_paid_broadcast``, up to 1000 messages a second for a fee in
Stars) is used only for dose reminders, and only when the free overall budget is used up. Its
rate also follows the event loop's lag: one process cannot send a thousand a second and still
answer patients promptly, so it sends what it can while replies stay first.

Telegram's per-chat limit means two messages to one chat leave a second apart, replies too.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta
from enum import IntEnum
from typing import Any

from telegram.error import RetryAfter, TimedOut
from telegram.ext import BaseRateLimiter

from bot.botapi_rules import COUNTED_METHODS, accepts
from bot.clock import SYSTEM_MONOTONIC, Monotonic
from bot.metrics import Metrics

log = logging.getLogger(__name__)

FREE_RATE = 30.0  # Telegram: about 30 messages a second overall, free
PER_CHAT_INTERVAL = 1.0  # Telegram: about one message a second in a private chat
PAID_RATE = 1000.0  # with allow_paid_broadcast, up to 1000 a second overall
GIVE_UP_AFTER = timedelta(minutes=2)
PAID_IN_FLIGHT = 32  # paid-lane requests at once: half of bot.app's connection pool
# The paid lane's rate follows the event loop's lag (see SendBudget._watch_lag).
LAG_TICK = 0.1  # seconds between looks
LAG_HIGH = 0.05  # the smoothed lag this late: halve the paid rate
LAG_LOW = 0.01  # this close to on time: raise it by a tenth (at least PAID_STEP)
# The newest tick's weight in the smoothed lag. One late tick (a claimed batch of reminders
# being composed at once: 60-90 ms on this machine) is no overload, and halving on it kept the
# paid lane at a third of its rate through a burst; lag that lasts half a second is.
LAG_SMOOTHING = 0.3
PAID_FLOOR = 10  # messages a second: never less, so a burst keeps moving
PAID_STEP = 10
WINDOW = 1.0  # seconds: Telegram's limits count messages per second
_SCAN_LIMIT = 1000  # waiters looked at per priority and pass (those ahead wait for their chat)
_IN_FLIGHT = float("inf")

# Parameters PTB's Defaults add to every method it builds through one helper, whether or not the
# method takes them (editMessageReplyMarkup gets parse_mode and link_preview_options). Telegram
# documents which method takes which; a parameter it does not take is not sent.
_DEFAULTED = ("parse_mode", "link_preview_options", "disable_notification", "protect_content")


class Priority(IntEnum):
    REPLY = 0
    REMINDER = 1
    NOTICE = 2
    BROADCAST = 3


@dataclass(frozen=True)
class Outgoing:
    priority: Priority
    on_leave: Callable[[], Awaitable[None]] | None = None


_outgoing: ContextVar[Outgoing | None] = ContextVar("outgoing", default=None)


@contextlib.contextmanager
def sending_as(
    priority: Priority, on_leave: Callable[[], Awaitable[None]] | None = None
) -> Iterator[None]:
    """Bot API calls made inside this block are sent with ``priority`` (and ``on_leave``)."""
    token = _outgoing.set(Outgoing(priority, on_leave))
    try:
        yield
    finally:
        _outgoing.reset(token)


class ReplyGivenUp(TimedOut):
    """A reply could not get through Telegram's limits within ``give_up_after``."""

    def __init__(self) -> None:
        super().__init__("reply given up: rate limited for too long")


@dataclass
class _Waiter:
    priority: Priority
    chat: int | str | None
    paid_ok: bool
    future: asyncio.Future[bool] = field(repr=False)  # the result: use the paid lane
    queued_at: float = 0.0


class _Lane:
    """Slots of one overall limit, taken from grant until a window after the answer."""

    def __init__(self, rate: float, max_in_flight: int | None = None) -> None:
        self.capacity = max(1, int(rate))
        self.max_in_flight = max_in_flight or self.capacity
        self.in_flight = 0
        self.held: list[float] = []  # heap: when slots of answered requests come free

    def free(self, now: float) -> bool:
        while self.held and self.held[0] <= now:
            heapq.heappop(self.held)
        return (
            self.in_flight < self.max_in_flight and self.in_flight + len(self.held) < self.capacity
        )

    def next_free(self) -> float | None:
        return self.held[0] if self.held else None


class SendBudget(BaseRateLimiter[None]):
    def __init__(
        self,
        *,
        rate: float = FREE_RATE,
        per_chat_interval: float = PER_CHAT_INTERVAL,
        paid_broadcast: bool = False,
        paid_rate: float = PAID_RATE,
        give_up_after: timedelta = GIVE_UP_AFTER,
        metrics: Metrics | None = None,
        clock: Monotonic = SYSTEM_MONOTONIC,
    ) -> None:
        # Every slot, pause and give-up is timed on this clock (tests run it on virtual time).
        self._clock = clock
        self._free = _Lane(rate)
        # The paid lane carries what the free one cannot, up to paid_rate in all.
        # It also keeps to a few requests at a time, half the connection pool, so that replies
        # always find a free connection however many reminders wait.
        self._paid = _Lane(max(0.0, paid_rate - rate), PAID_IN_FLIGHT) if paid_broadcast else None
        self._per_chat = per_chat_interval
        self._give_up_after = give_up_after.total_seconds()
        self.metrics = metrics or Metrics()
        # Each priority's series looked up once: ``labels()`` takes a lock and builds its key
        # on every call, twice per message sent.
        self._depth = {p: self.metrics.send_queue_depth.labels(p.name.lower()) for p in Priority}
        self._waited = {p: self.metrics.send_queue_seconds.labels(p.name.lower()) for p in Priority}
        self._queues: dict[Priority, deque[_Waiter]] = {p: deque() for p in Priority}
        self._chat_busy: dict[int | str, float] = {}  # chat -> free again at (inf: in flight)
        self._paused_until = 0.0
        self._changed = asyncio.Event()
        self._dispatcher: asyncio.Task[None] | None = None
        self._lag_watch: asyncio.Task[None] | None = None
        self._order = itertools.count()

    # ------------------------------------------------------------ BaseRateLimiter

    async def initialize(self) -> None:
        if self._paid is not None:
            self._lag_watch = asyncio.create_task(self._watch_lag(), name="send-budget-lag")

    async def shutdown(self) -> None:
        if self._lag_watch is not None:
            self._lag_watch.cancel()
            await asyncio.gather(self._lag_watch, return_exceptions=True)
            self._lag_watch = None
        if self._dispatcher is not None:
            self._dispatcher.cancel()
            await asyncio.gather(self._dispatcher, return_exceptions=True)
            self._dispatcher = None
        for queue in self._queues.values():
            for waiter in queue:
                waiter.future.cancel()
            queue.clear()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        for name in _DEFAULTED:
            if name in data and not accepts(endpoint, name):
                del data[name]
        outgoing = _outgoing.get() or Outgoing(Priority.REPLY)
        counted = endpoint in COUNTED_METHODS
        started = self._clock.monotonic()
        attempts = 0
        while True:
            paid = False
            if counted:
                paid_ok = outgoing.priority is Priority.REMINDER and accepts(
                    endpoint, "allow_paid_broadcast"
                )
                paid = await self._acquire(
                    outgoing.priority, data.get("chat_id"), paid_ok, retry=attempts > 0
                )
                if paid:
                    data["allow_paid_broadcast"] = True
                    self.metrics.paid_messages.inc()
                else:
                    data.pop("allow_paid_broadcast", None)
            left: float | None = None
            try:
                if outgoing.on_leave is not None:
                    await outgoing.on_leave()
                left = self._clock.monotonic()
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                attempts += 1
                seconds = _seconds(error.retry_after)
                self.metrics.rate_limited.inc()
                log.warning(
                    "rate_limited method=%s priority=%s retry_after_s=%.0f",
                    endpoint,
                    outgoing.priority.name.lower(),
                    seconds,
                )
                if counted:
                    self._pause(seconds)
                if self._clock.monotonic() + seconds - started > self._give_up_after:
                    if outgoing.priority is Priority.REPLY:
                        self.metrics.replies_given_up.inc()
                        log.error("reply_given_up method=%s", endpoint)
                        raise ReplyGivenUp() from None
                    raise
                if not counted:
                    await self._clock.sleep(seconds)
            finally:
                if counted:
                    self._release(data.get("chat_id"), paid, left=left)

    # ------------------------------------------------------------ slots

    async def _acquire(self, priority: Priority, chat: Any, paid_ok: bool, *, retry: bool) -> bool:
        """Wait for a slot; return whether it is on the paid lane. A retry keeps its place."""
        loop = asyncio.get_running_loop()
        waiter = _Waiter(
            priority,
            chat if isinstance(chat, int | str) else None,
            paid_ok and self._paid is not None,
            loop.create_future(),
            self._clock.monotonic(),
        )
        if retry:
            self._queues[priority].appendleft(waiter)
        else:
            self._queues[priority].append(waiter)
        self._depth_changed(priority)
        self._wake()
        try:
            return await waiter.future
        except asyncio.CancelledError:
            if waiter.future.done() and not waiter.future.cancelled():
                # Granted just as the caller was cancelled: give the slot back.
                self._release(waiter.chat, waiter.future.result(), left=None)
            else:
                with contextlib.suppress(ValueError):
                    self._queues[priority].remove(waiter)
                    self._depth_changed(priority)
            raise

    def _release(self, chat: Any, paid: bool, *, left: float | None) -> None:
        """The request was answered (or failed); ``left`` None: it never left."""
        lane = self._paid if paid and self._paid is not None else self._free
        lane.in_flight -= 1
        now = self._clock.monotonic()
        if left is not None:
            heapq.heappush(lane.held, now + WINDOW)
        if isinstance(chat, int | str):
            if left is not None:
                self._chat_busy[chat] = now + self._per_chat
            else:
                self._chat_busy.pop(chat, None)
        self._wake()

    def _pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self._clock.monotonic() + seconds)
        self._wake()

    def _wake(self) -> None:
        self._changed.set()
        if self._dispatcher is None or self._dispatcher.done():
            self._dispatcher = asyncio.create_task(self._dispatch(), name="send-budget")

    async def _dispatch(self) -> None:
        while any(self._queues.values()):
            self._changed.clear()
            wake_at = self._grant()
            if not any(self._queues.values()):
                break
            timeout = None if wake_at is None else max(0.0, wake_at - self._clock.monotonic())
            await self._clock.wait(self._changed, timeout)

    def _grant(self) -> float | None:
        """Hand out every slot that is free now; return when to look again (None: on a change)."""
        now = self._clock.monotonic()
        if now < self._paused_until:
            return self._paused_until
        self._forget_idle_chats(now)
        wake_at: float | None = None
        for priority in Priority:
            queue = self._queues[priority]
            index = 0
            granted = False
            # Skip waiters whose chat is busy (bounded: a chat holds few waiters).
            while index < len(queue) and index < _SCAN_LIMIT:
                waiter = queue[index]
                busy_until = self._busy_until(waiter, now)
                if busy_until > now:
                    wake_at = _earliest(wake_at, busy_until)
                    index += 1
                    continue
                if not self._free.free(now):
                    # Strict priority: nothing lower takes a free slot before this one; only
                    # reminders may still go on the paid lane.
                    if granted:
                        self._depth_changed(priority)
                    wake_at = _earliest(wake_at, self._free.next_free())
                    return self._grant_paid(now, priority, wake_at)
                del queue[index]
                granted = True
                self._hand_out(waiter, paid=False, now=now)
            if granted:
                self._depth_changed(priority)
        return wake_at

    def _grant_paid(self, now: float, blocked: Priority, wake_at: float | None) -> float | None:
        """The free lane is full: reminders may still go on the paid lane, if it is on."""
        if self._paid is None or blocked > Priority.REMINDER:
            return wake_at
        queue = self._queues[Priority.REMINDER]
        index = 0
        granted = False
        while index < len(queue) and index < _SCAN_LIMIT and self._paid.free(now):
            waiter = queue[index]
            busy_until = self._busy_until(waiter, now)
            if not waiter.paid_ok or busy_until > now:
                wake_at = _earliest(wake_at, busy_until if busy_until > now else None)
                index += 1
                continue
            del queue[index]
            granted = True
            self._hand_out(waiter, paid=True, now=now)
        if granted:
            self._depth_changed(Priority.REMINDER)
        return _earliest(wake_at, self._paid.next_free())

    def _busy_until(self, waiter: _Waiter, now: float) -> float:
        return self._chat_busy.get(waiter.chat, 0.0) if waiter.chat is not None else 0.0

    def _hand_out(self, waiter: _Waiter, *, paid: bool, now: float) -> None:
        lane = self._paid if paid and self._paid is not None else self._free
        lane.in_flight += 1
        if waiter.chat is not None:
            self._chat_busy[waiter.chat] = _IN_FLIGHT
        self._waited[waiter.priority].observe(now - waiter.queued_at)
        if waiter.future.done():  # cancelled while waiting: the slot goes back at once
            self._release(waiter.chat, paid, left=None)
        else:
            waiter.future.set_result(paid)

    async def _watch_lag(self) -> None:
        """Keep the paid lane to what this process can carry while it still answers patients.

        Paid reminders are limited by the process, not by Telegram: one core sends a few
        hundred a second at most, and a saturated event loop delays every update before its
        reply even reaches the queue. So the paid rate follows the loop's lag: halved when a
        tick comes late, raised step by step while ticks are on time.
        """
        assert self._paid is not None
        ceiling = self._paid.capacity
        # The loop's own (real) time, not self._clock: this measures how busy the process is.
        loop = asyncio.get_running_loop()
        smoothed = 0.0
        while True:
            planned = loop.time() + LAG_TICK
            await asyncio.sleep(LAG_TICK)
            smoothed += LAG_SMOOTHING * (loop.time() - planned - smoothed)
            self._paid.capacity = paid_capacity(self._paid.capacity, smoothed, ceiling)
            self.metrics.paid_rate.set(self._paid.capacity)

    def _forget_idle_chats(self, now: float) -> None:
        # Chats whose second has passed need no entry; keep the map as small as the traffic.
        if len(self._chat_busy) > 4096:
            self._chat_busy = {chat: at for chat, at in self._chat_busy.items() if at > now}

    def _depth_changed(self, priority: Priority) -> None:
        self._depth[priority].set(len(self._queues[priority]))

    @property
    def waiting(self) -> int:
        return sum(len(queue) for queue in self._queues.values())


def paid_capacity(capacity: int, lag: float, ceiling: int) -> int:
    """The paid lane's next rate from the event loop's smoothed lag (seconds): halved when the
    loop runs late, raised by a tenth while it is on time (back from half in about 0.7 s)."""
    if lag > LAG_HIGH:
        return max(PAID_FLOOR, capacity // 2)
    if lag < LAG_LOW:
        return min(ceiling, capacity + max(PAID_STEP, capacity // 10))
    return capacity


def _earliest(current: float | None, instant: float | None) -> float | None:
    if instant is None or instant == _IN_FLIGHT:
        return current
    return instant if current is None else min(current, instant)


def _seconds(wait: float | timedelta) -> float:
    return wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
