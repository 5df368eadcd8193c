"""Data written straight to a database file before ``python -m bot`` starts (tests, benchmarks)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bot.domain.audience import Segment
from bot.storage.broadcasts import BroadcastStore
from bot.storage.db import Database
from bot.storage.users import UserStore


async def seed_broadcast(path: Path, recipients: Sequence[int], admin_id: int, body: str) -> int:
    """Consented recipients and a broadcast to them, as if an admin had just pressed Confirm."""
    now = datetime.now(UTC)
    database = await Database.open(path)
    try:
        users = UserStore(database)
        for user_id in recipients:
            await users.record_consent(user_id, now)
        store = BroadcastStore(database)
        draft = await store.create_draft(admin_id, Segment.ALL, body, now)
        started = await store.confirm(draft.broadcast_id, recipients, now)
        assert started is not None
        return started.broadcast_id
    finally:
        await database.close()
