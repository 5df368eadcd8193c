"""The monotonic clocks: the real one the bot runs on, and the virtual one the tests run on."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.clock import SYSTEM_MONOTONIC
from tests.virtual_time import VirtualMonotonic


async def test_the_real_clock_waits_for_an_event_or_a_timeout() -> None:
    event = asyncio.Event()
    started = time.monotonic()
    assert await SYSTEM_MONOTONIC.wait(event, 0.05) is False
    assert time.monotonic() - started >= 0.05
    asyncio.get_running_loop().call_later(0.01, event.set)
    assert await SYSTEM_MONOTONIC.wait(event, 5.0) is True
    assert time.monotonic() - started < 1.0
    assert SYSTEM_MONOTONIC.monotonic() == pytest.approx(time.monotonic(), abs=0.01)


async def test_idle_waits_are_skipped_in_full(monotonic: VirtualMonotonic) -> None:
    real, virtual = time.monotonic(), monotonic.monotonic()
    await monotonic.sleep(120)
    assert monotonic.monotonic() - virtual >= 120  # the whole wait, in virtual seconds
    assert time.monotonic() - real < 1.0  # without waiting it out
    assert monotonic.skipped >= 119


async def test_timers_fire_in_the_order_of_their_deadlines(monotonic: VirtualMonotonic) -> None:
    woke: list[str] = []

    async def after(seconds: float, name: str) -> None:
        await monotonic.sleep(seconds)
        woke.append(name)

    start = monotonic.monotonic()
    await asyncio.gather(after(3, "c"), after(1, "a"), after(2, "b"), after(2, "b2"))
    assert woke == ["a", "b", "b2", "c"]  # equal deadlines in the order they were set
    assert 3 <= monotonic.monotonic() - start < 4


async def test_waiting_for_an_event_ends_when_it_is_set_or_at_the_timeout(
    monotonic: VirtualMonotonic,
) -> None:
    event = asyncio.Event()

    async def set_later() -> None:
        await monotonic.sleep(2)
        event.set()

    start = monotonic.monotonic()
    setter = asyncio.create_task(set_later())
    assert await monotonic.wait(event, 30) is True
    assert 2 <= monotonic.monotonic() - start < 3  # at the set, not at the timeout
    await setter
    event.clear()
    start = monotonic.monotonic()
    assert await monotonic.wait(event, 30) is False
    assert monotonic.monotonic() - start >= 30


async def test_no_skip_while_the_loop_has_work(monotonic: VirtualMonotonic) -> None:
    """Callbacks ready to run are work: the clock only skips once nothing else can happen."""
    start = monotonic.monotonic()
    sleeper = asyncio.create_task(monotonic.sleep(60))
    for _ in range(500):
        await asyncio.sleep(0)
    assert monotonic.monotonic() - start < 1.0
    assert not sleeper.done()
    await sleeper
    assert monotonic.monotonic() - start >= 60


async def test_no_skip_while_a_thread_works(monotonic: VirtualMonotonic) -> None:
    """A query or an executor job is under way: real time must run for it, as it would."""
    start = monotonic.monotonic()
    sleeper = asyncio.create_task(monotonic.sleep(60))
    await asyncio.to_thread(time.sleep, 0.2)
    elapsed = monotonic.monotonic() - start
    assert 0.2 <= elapsed < 1.0
    assert not sleeper.done()
    await sleeper
    assert monotonic.monotonic() - start >= 60


async def test_real_time_still_counts_while_the_loop_is_busy(monotonic: VirtualMonotonic) -> None:
    """A timer falls due when real time reaches it, skip or no skip (the loop never idles)."""
    sleeper = asyncio.create_task(monotonic.sleep(0.1))
    deadline = time.monotonic() + 5
    while not sleeper.done() and time.monotonic() < deadline:  # noqa: ASYNC110 - busy on purpose
        await asyncio.sleep(0)  # never idle: no skip can happen
    assert sleeper.done()
