"""Pacing of bulk sends (reminders, broadcasts) within Telegram's overall limit.

Telegram allows about 30 messages a second for bulk notifications. Replies to a user who just
wrote are not bulk and are not paced here. Every bulk send waits for a slot; slots are handed
out evenly spaced, and a waiting reminder always gets the next slot before a waiting broadcast.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from enum import IntEnum

BULK_MESSAGES_PER_SECOND = 29.0  # a little under 30, so jitter never trips Telegram's limit


class Priority(IntEnum):
    REMINDER = 0
    BROADCAST = 1


class SendPacer:
    def __init__(self, rate: float = BULK_MESSAGES_PER_SECOND) -> None:
        self._interval = 1.0 / rate
        self._next_slot = 0.0  # monotonic time of the next free slot
        self._queue: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._dispatcher: asyncio.Task[None] | None = None

    async def wait_turn(self, priority: Priority) -> None:
        """Return when this send may go out."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._queue, (priority, next(self._order), future))
        if self._dispatcher is None or self._dispatcher.done():
            self._dispatcher = asyncio.create_task(self._hand_out_slots(), name="send-pacer")
        await future

    @property
    def waiting(self) -> int:
        return len(self._queue)

    async def _hand_out_slots(self) -> None:
        while self._queue:
            delay = self._next_slot - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            _, _, future = heapq.heappop(self._queue)
            if future.cancelled():
                continue
            future.set_result(None)
            # Real elapsed time, not the injected clock: this is throughput, not dose time.
            self._next_slot = max(self._next_slot, time.monotonic()) + self._interval

    async def close(self) -> None:
        if self._dispatcher is not None:
            self._dispatcher.cancel()
            await asyncio.gather(self._dispatcher, return_exceptions=True)
        for _, _, future in self._queue:
            future.cancel()
        self._queue.clear()
