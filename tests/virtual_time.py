"""Virtual monotonic time: Telegram's limits applied in full, without waiting them out.

The send budget and the Bot API stand-in read one :class:`bot.clock.Monotonic`. In tests it is a
:class:`VirtualMonotonic`: real monotonic time plus every stretch it skipped. Whenever the event
loop has nothing to do but wait for this clock's timers (no callback ready, nothing arriving on
a socket, no database query or worker thread under way), the clock jumps to its earliest timer.
So a test of the 30-a-second limit, of a 429's retry_after or of the 2-minute give-up takes as
long as its work, while every rule is still applied to the seconds that the bot and the
stand-in both read: nothing is shortened, only idle waiting is skipped.

Skipping while a thread is still working would let the budget's timers run ahead of work that
real time waits for (a reply's queries, say, while a burst of reminders takes the slots), so
thread work holds the clock: every aiosqlite call and every ``run_in_executor``/``to_thread``
job (:func:`hold_for_threads`).

The loop's own timers (``asyncio.sleep``, timeouts) stay real: a test waiting for a condition
with a real timeout gives the bot that much real time, however far virtual time moves.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

import aiosqlite
import pytest

# Turns of the event loop in a row with nothing ready before the clock skips: one quiet turn
# may only mean a callback further down the same turn has not run yet.
QUIET_TURNS = 3


class VirtualMonotonic:
    """A :class:`bot.clock.Monotonic` that skips ahead whenever only its timers are awaited."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._timers: list[tuple[float, int, asyncio.Future[None]]] = []  # heap by deadline
        self._order = itertools.count()  # equal deadlines fire in the order they were set
        self._busy = 0
        self._not_busy: asyncio.Event | None = None
        self._advancer: asyncio.Task[None] | None = None
        self.skipped = 0.0  # seconds skipped in all (a test may report it)

    # ------------------------------------------------------------ bot.clock.Monotonic

    def monotonic(self) -> float:
        return time.monotonic() + self._offset

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        timer = self._timer(seconds)
        try:
            await timer
        finally:
            timer.cancel()

    async def wait(self, event: asyncio.Event, timeout: float | None) -> bool:  # noqa: ASYNC109
        if event.is_set():
            return True
        if timeout is None:
            await event.wait()
            return True
        if timeout <= 0:
            await asyncio.sleep(0)
            return event.is_set()
        timer = self._timer(timeout)
        setter = asyncio.ensure_future(event.wait())
        try:
            await asyncio.wait((timer, setter), return_when=asyncio.FIRST_COMPLETED)
        finally:
            timer.cancel()
            setter.cancel()
        return event.is_set()

    # ------------------------------------------------------------ work outside the loop

    @contextlib.contextmanager
    def busy(self) -> Iterator[None]:
        """Work under way outside the event loop (a thread): the clock does not skip meanwhile."""
        self._busy += 1
        try:
            yield
        finally:
            self._done()

    def _done(self) -> None:
        self._busy -= 1
        if self._busy == 0 and self._not_busy is not None:
            self._not_busy.set()

    async def close(self) -> None:
        if self._advancer is not None:
            self._advancer.cancel()
            await asyncio.gather(self._advancer, return_exceptions=True)
            self._advancer = None

    # ------------------------------------------------------------ timers

    def _timer(self, seconds: float) -> asyncio.Future[None]:
        loop = asyncio.get_running_loop()
        timer: asyncio.Future[None] = loop.create_future()
        heapq.heappush(self._timers, (self.monotonic() + seconds, next(self._order), timer))
        if self._advancer is None or self._advancer.done():
            self._advancer = loop.create_task(self._advance(), name="virtual-time")
        return timer

    def _next_deadline(self) -> float | None:
        while self._timers and self._timers[0][2].done():  # cancelled: nobody waits any more
            heapq.heappop(self._timers)
        return self._timers[0][0] if self._timers else None

    def _fire_due(self) -> None:
        now = self.monotonic()
        while self._timers and self._timers[0][0] <= now:
            _, _, timer = heapq.heappop(self._timers)
            if not timer.done():
                timer.set_result(None)

    async def _advance(self) -> None:
        """Fire timers as they fall due, and skip to the next one whenever the loop is idle."""
        loop = asyncio.get_running_loop()
        ready: deque[Any] | None = getattr(loop, "_ready", None)
        if ready is None:
            raise RuntimeError("virtual time needs CPython's asyncio event loop")
        quiet = 0
        while (deadline := self._next_deadline()) is not None:
            self._fire_due()
            if self._busy:
                # A thread is working: real time runs meanwhile, and may reach the next timer.
                quiet = 0
                if self._not_busy is None:
                    self._not_busy = asyncio.Event()
                self._not_busy.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._not_busy.wait(), max(0.0, deadline - self.monotonic())
                    )
                continue
            # Let a turn of the loop pass: this task is not in ``ready`` while it runs, so an
            # empty ``ready`` means nothing else was scheduled, by a callback or by a socket.
            await asyncio.sleep(0)
            if ready:
                quiet = 0
                continue
            quiet += 1
            if quiet < QUIET_TURNS:
                continue
            quiet = 0
            deadline = self._next_deadline()
            if deadline is not None and (gap := deadline - self.monotonic()) > 0:
                self._offset += gap
                self.skipped += gap
            self._fire_due()


def hold_for_threads(clock: VirtualMonotonic, monkeypatch: pytest.MonkeyPatch) -> None:
    """Count every aiosqlite call and executor job as work under way (see the module doc)."""
    for name in ("_execute", "_connect"):
        original: Callable[..., Any] = getattr(aiosqlite.Connection, name)
        monkeypatch.setattr(aiosqlite.Connection, name, _held(clock, original))
    loop = asyncio.get_running_loop()
    run_in_executor = loop.run_in_executor

    def held_run_in_executor(executor: Any, func: Callable[..., Any], *args: Any) -> Any:
        future = run_in_executor(executor, func, *args)
        clock._busy += 1
        future.add_done_callback(lambda _: clock._done())
        return future

    monkeypatch.setattr(loop, "run_in_executor", held_run_in_executor)


def _held(clock: VirtualMonotonic, original: Callable[..., Any]) -> Callable[..., Any]:
    async def held(*args: Any, **kwargs: Any) -> Any:
        with clock.busy():
            return await original(*args, **kwargs)

    return held
