"""The bulk-send pacer: reminders are served before broadcasts, nobody is lost."""

from __future__ import annotations

import asyncio

from bot.services.pacing import Priority, SendPacer


async def test_reminders_go_before_waiting_broadcasts() -> None:
    pacer = SendPacer(rate=1000.0)
    order: list[str] = []

    async def send(name: str, priority: Priority) -> None:
        await pacer.wait_turn(priority)
        order.append(name)

    tasks = [asyncio.create_task(send(f"broadcast-{n}", Priority.BROADCAST)) for n in range(5)]
    tasks.append(asyncio.create_task(send("reminder", Priority.REMINDER)))
    await asyncio.gather(*tasks)
    await pacer.close()
    assert order[0] == "reminder"
    assert order[1:] == [f"broadcast-{n}" for n in range(5)]  # first come, first served


async def test_close_releases_nothing_twice() -> None:
    pacer = SendPacer(rate=1.0)
    await pacer.wait_turn(Priority.REMINDER)  # the first slot is free
    waiter = asyncio.create_task(pacer.wait_turn(Priority.BROADCAST))
    await asyncio.sleep(0)
    assert pacer.waiting == 1
    await pacer.close()
    assert pacer.waiting == 0
    await asyncio.gather(waiter, return_exceptions=True)
    assert waiter.cancelled()
