"""``python -m bot`` killed with SIGKILL in the middle of a broadcast, then restarted."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from pathlib import Path

import pytest

from bot.emulator.api import FakeBotAPI
from bot.services.outbox import MAX_IN_FLIGHT
from bot.storage.broadcasts import BroadcastStore, Delivery
from bot.storage.db import Database
from tests.conftest import ADMIN_ID, bot_env, start_process
from tests.privacy_helpers import eventually
from tests.seed import seed_broadcast

RECIPIENTS = range(11_001, 11_121)  # 120
BODY = "📣 <b>News from your clinic</b>\n\nRestart-proof."


async def _deliveries(path: Path, broadcast_id: int) -> dict[int, Delivery]:
    database = await Database.open(path)
    try:
        return await BroadcastStore(database).deliveries(broadcast_id)
    finally:
        await database.close()


def _received(api: FakeBotAPI) -> Counter[int]:
    """How many times each recipient got the broadcast (the stand-in keeps what it delivered)."""
    return Counter(
        user for user in RECIPIENTS for message in api.messages_to(user) if message["text"] == BODY
    )


@pytest.mark.process
async def test_sigkill_mid_broadcast_resumes_and_sends_nobody_two(
    tmp_path: Path, api: FakeBotAPI
) -> None:
    database = tmp_path / "bot.sqlite3"
    broadcast_id = await seed_broadcast(database, RECIPIENTS, ADMIN_ID, BODY)
    env = bot_env(api, database, LOG_LEVEL="WARNING", ADMIN_IDS=str(ADMIN_ID))
    # Hold answers in flight: Telegram has the message, the bot has not heard back yet.
    api.answer_delay["sendMessage"] = 0.2
    first = await start_process(env, tmp_path)
    try:
        await api.wait_for(
            "sendMessage", lambda call: call.params["chat_id"] in RECIPIENTS, count=30, timeout=20
        )
        # Kill while a request is in flight (arrived, not answered): sends come in waves as the
        # budget's slots free up, with pauses between them.
        await eventually(
            lambda: api.received["sendMessage"] > len(api.calls_of("sendMessage")), timeout=20
        )
    finally:
        first.send_signal(signal.SIGKILL)
        await first.wait()
    delivered_before_kill = sum(_received(api).values())
    assert 30 <= delivered_before_kill < len(RECIPIENTS)

    api.answer_delay.clear()
    second = await start_process(env, tmp_path)
    try:
        [summary] = await api.wait_for(
            "sendMessage",
            lambda call: call.params["chat_id"] == ADMIN_ID and "is done:" in call.params["text"],
            timeout=30,
        )
    finally:
        second.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(second.wait(), timeout=20) == 0

    received = _received(api)
    deliveries = await _deliveries(database, broadcast_id)
    assert max(received.values()) == 1  # nobody got it twice
    unknown = [user for user, status in deliveries.items() if status is Delivery.UNKNOWN]
    # Rows in flight at the kill are "unknown": not re-sent, whether or not they had arrived.
    assert 1 <= len(unknown) <= MAX_IN_FLIGHT  # only requests that had left
    for user in RECIPIENTS:
        if deliveries[user] is Delivery.SENT:
            assert received[user] == 1
        else:
            assert deliveries[user] is Delivery.UNKNOWN
            assert received[user] <= 1
    assert sum(received.values()) >= len(RECIPIENTS) - len(unknown)
    assert f"{len(unknown)} may or may not have arrived" in summary.params["text"]
