"""The one place where the current time enters the code.

Everything that needs "now" receives a :class:`Clock`. Production uses :class:`SystemClock`;
tests use :class:`FakeClock` and move time forward without sleeping. Rates and waits (the send
budget, the Bot API stand-in's limits) read a :class:`Monotonic` instead: production uses
:data:`SYSTEM_MONOTONIC`, tests a virtual one that skips ahead whenever only time is awaited.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...

    def subscribe(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` whenever time jumps (only fake clocks ever jump)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def subscribe(self, listener: Callable[[], None]) -> None:
        """Real time never jumps, so there is nothing to notify."""


class FakeClock:
    """A clock that only moves when told to; listeners hear about every move."""

    def __init__(self, start: datetime) -> None:
        self._now = _require_utc(start)
        self._listeners: list[Callable[[], None]] = []

    def now(self) -> datetime:
        return self._now

    def subscribe(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def set(self, instant: datetime) -> None:
        self._now = _require_utc(instant)
        for listener in list(self._listeners):
            listener()

    def advance(self, delta: timedelta) -> None:
        self.set(self._now + delta)


def _require_utc(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("the clock needs an aware datetime")
    return instant.astimezone(UTC)


class ShiftedClock:
    """Real time plus an offset that only grows: the demo's time machine.

    Time runs on by itself, as it does for a patient, and :meth:`advance` jumps it forward;
    listeners hear about every jump, like those of :class:`FakeClock`. Never backward: the
    database would then hold answers recorded "in the future".
    """

    def __init__(self, start: datetime | None = None) -> None:
        # ``start`` sets where the demo's time begins (tests pin it, so what "+1 day" reaches
        # does not depend on the hour they run at); by default it is the real time.
        self._offset = timedelta(0) if start is None else _require_utc(start) - datetime.now(UTC)
        self._listeners: list[Callable[[], None]] = []

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def subscribe(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def advance(self, delta: timedelta) -> None:
        if delta < timedelta(0):
            raise ValueError("the clock only moves forward")
        self._offset += delta
        for listener in list(self._listeners):
            listener()

    def advance_to(self, instant: datetime) -> None:
        """Jump to ``instant`` (already past: stay where we are)."""
        self.advance(max(timedelta(0), _require_utc(instant) - self.now()))


class Monotonic(Protocol):
    """Seconds that only move forward, for rates and waits (dates come from :class:`Clock`).

    The send budget and the Bot API stand-in's limits read and wait on it, so tests can run
    Telegram's limits on virtual time (tests/virtual_time.py) instead of waiting them out.
    """

    def monotonic(self) -> float:
        """Seconds from an arbitrary start; never goes back."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time."""
        ...

    async def wait(self, event: asyncio.Event, timeout: float | None) -> bool:  # noqa: ASYNC109
        """Wait until ``event`` is set or ``timeout`` seconds passed (None: no limit); return
        whether it was set. (A parameter, not ``asyncio.timeout``: the seconds are this
        clock's, which the loop's timers do not know.)"""
        ...


class SystemMonotonic:
    """Real time: ``time.monotonic`` and the event loop's own timers."""

    # The functions themselves, not wrappers: the budget reads the time on every grant.
    monotonic = staticmethod(time.monotonic)
    sleep = staticmethod(asyncio.sleep)

    async def wait(self, event: asyncio.Event, timeout: float | None) -> bool:  # noqa: ASYNC109
        try:
            await asyncio.wait_for(event.wait(), timeout=timeout)
        except TimeoutError:
            return False
        return True


SYSTEM_MONOTONIC = SystemMonotonic()
