"""Broadcasts through a stand-in that enforces Telegram's ~30 messages a second overall."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time
from decimal import Decimal

import pytest

from bot.clock import Monotonic
from bot.domain.plans import Plan, Step
from bot.emulator.api import FakeBotAPI
from bot.services.outbox import BATCH_SIZE
from tests.admin_helpers import add_users, press_control, preview, received, wait_for_summary
from tests.conftest import RunningBot, StartBot

RECIPIENTS = range(10_001, 10_301)  # 300
BLOCKED = set(range(10_001, 10_301, 30))  # 10 of them blocked the bot
AUDIENCE = RECIPIENTS[:120]
PATIENTS = range(9001, 9061)


@pytest.fixture
async def api(monotonic: Monotonic) -> AsyncIterator[FakeBotAPI]:
    server = FakeBotAPI(global_rate=30, clock=monotonic)
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def bot(start_bot: StartBot) -> RunningBot:
    """The bot at Telegram's overall rate (the other tests lift it, tests/conftest.py)."""
    started: RunningBot = await start_bot(SEND_RATE="30")
    return started


def _broadcast_sends(api: FakeBotAPI) -> list[int]:
    """Recipients of broadcast sendMessage calls that Telegram accepted, in order."""
    return [
        call.params["chat_id"]
        for call in api.calls_of("sendMessage")
        if call.status == 200 and call.params["chat_id"] in RECIPIENTS
    ]


async def test_300_recipients_each_get_it_once_within_the_rate_limit(bot: RunningBot) -> None:
    await add_users(bot, RECIPIENTS)
    bot.api.blocked.update(BLOCKED)
    body, control = await preview(bot, "Flu vaccines are available from Monday.")
    assert "300 recipient(s)" in control["text"]
    await press_control(bot, control, "Confirm")
    summary = await wait_for_summary(bot, timeout=60)

    assert "290 sent, 10 failed, 0 pending" in summary
    assert "10 blocked the bot" in summary
    deliveries = Counter(_broadcast_sends(bot.api))
    assert set(deliveries) == set(RECIPIENTS) - BLOCKED
    assert set(deliveries.values()) == {1}
    for user in BLOCKED:
        stored = await bot.services.users.get(user)
        assert stored is not None
        assert stored.unreachable_at is not None
    assert received(bot, RECIPIENTS[1]) == [body]
    # Paced below the limit: the stand-in never had to refuse a message for going too fast.
    assert bot.api.retry_after_count == 0
    # Progress is visible to operators as metrics.
    registry = bot.services.metrics.registry
    sample = registry.get_sample_value
    assert sample("bot_broadcast_messages_total", {"outcome": "sent"}) == 290
    assert sample("bot_broadcast_messages_total", {"outcome": "unreachable"}) == 10
    assert sample("bot_broadcast_remaining") == 0


async def test_reminders_due_during_a_broadcast_go_first(bot: RunningBot) -> None:
    """Sixty doses fall due mid-broadcast: the broadcast stands aside until they are all out."""
    await add_users(bot, [*AUDIENCE, *PATIENTS])
    today = bot.clock.now().date()
    for patient in PATIENTS:
        plan = Plan("custom", today, (Step.same_at([time(10, 0)], Decimal(10), 5),), False)
        await bot.services.plans.save(patient, plan, high_dose_confirmed=False)
    _, control = await preview(bot, "A long broadcast.")
    await press_control(bot, control, "Confirm")
    await bot.api.wait_for(
        "sendMessage", lambda call: call.params["chat_id"] in AUDIENCE, count=30, timeout=10
    )

    calls_before_due = len(bot.api.calls)
    bot.clock.set(datetime(2026, 1, 11, 10, 0, tzinfo=UTC))  # the doses fall due
    await bot.api.wait_for(
        "sendMessage",
        lambda call: (
            call.params["chat_id"] in PATIENTS
            and call.status == 200
            and "Time for your dose" in call.params["text"]
        ),
        count=len(PATIENTS),
        timeout=30,
    )
    last_reminder = max(
        index
        for index, call in enumerate(bot.api.calls)
        if call.method == "sendMessage" and call.params["chat_id"] in PATIENTS
    )
    alongside = {
        call.params["chat_id"]
        for call in bot.api.calls[calls_before_due:last_reminder]
        if call.method == "sendMessage" and call.params["chat_id"] in RECIPIENTS
    }
    # Only what was already claimed when they fell due went out alongside the reminders
    # (sharing the limit instead, the broadcast would have sent some 50 in those seconds).
    assert len(alongside) <= 2 * BATCH_SIZE

    summary = await wait_for_summary(bot, timeout=60)
    assert f"{len(AUDIENCE) + len(PATIENTS)} sent, 0 failed, 0 pending" in summary
    assert set(Counter(_broadcast_sends(bot.api)).values()) == {1}


async def test_a_rate_limit_pause_does_not_turn_into_a_burst(bot: RunningBot) -> None:
    """After a 429 every request waits; those held up must not then go out all at once."""
    await add_users(bot, AUDIENCE)
    bot.api.fail("sendMessage", status=429, retry_after=1, chat_id=AUDIENCE[40])
    _, control = await preview(bot, "Steady.")
    await press_control(bot, control, "Confirm")
    summary = await wait_for_summary(bot, timeout=60)
    assert f"{len(AUDIENCE)} sent, 0 failed, 0 pending" in summary
    assert bot.api.retry_after_count == 1  # only the one injected
