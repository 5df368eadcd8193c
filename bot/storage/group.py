"""Group commit: the same write asked for by many tasks at about the same moment, done once.

Why: in a paid burst about a thousand reminders a second each mark their row in flight as its
request leaves and record it sent when Telegram answers. One statement per reminder, each its
own commit and its own trip to the database thread, cost about a fifth of the bot's CPU per
reminder (issue 24). The send budget hands out slots in rounds, so the marks of one round
arrive in the same turn of the event loop; collected until the next turn, they are one
``UPDATE … IN (…)`` or one ``executemany`` in one transaction.

What stays: each caller returns only once its own item is committed (a request still leaves
only after its row is marked), and a failed write fails every caller whose item was in it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

Item = TypeVar("Item")


class GroupCommit(Generic[Item]):
    """Collects items while the previous write runs (or until the event loop's next turn, when
    none does), then writes them with one call: under load the groups grow by themselves, and
    a lone item waits no longer than one turn."""

    def __init__(self, write: Callable[[list[Item]], Awaitable[None]]) -> None:
        self._write = write
        self._items: list[Item] = []
        self._done: asyncio.Future[None] | None = None
        self._writing: asyncio.Task[None] | None = None  # held: a bare task may be collected
        self._due = False  # a flush is planned for the next turn

    async def add(self, item: Item) -> None:
        """Wait until ``item`` is written (with whatever else came meanwhile)."""
        if self._done is None:
            self._done = asyncio.get_running_loop().create_future()
            # A caller cancelled while waiting (the bot stopping) must not leave the error of
            # a write nobody waits for unread.
            self._done.add_done_callback(_read_error)
        self._items.append(item)
        done = self._done
        if self._writing is None and not self._due:
            self._due = True
            asyncio.get_running_loop().call_soon(self._flush)
        # Shielded: one caller's cancellation must not cancel the others' write.
        await asyncio.shield(done)

    def _flush(self) -> None:
        self._due = False
        if self._writing is not None or not self._items:
            return
        items, done = self._items, self._done
        self._items, self._done = [], None
        assert done is not None
        self._writing = asyncio.get_running_loop().create_task(self._run(items, done))

    async def _run(self, items: list[Item], done: asyncio.Future[None]) -> None:
        try:
            await self._write(items)
        except asyncio.CancelledError:
            done.cancel()
            raise
        except Exception as error:  # handed to every caller as it is
            done.set_exception(error)
        else:
            done.set_result(None)
        finally:
            self._writing = None
            if self._items:  # what came in while this one was written
                self._flush()


def _read_error(done: asyncio.Future[None]) -> None:
    if not done.cancelled():
        done.exception()
