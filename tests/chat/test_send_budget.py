"""The one outgoing budget, through a stand-in that enforces Telegram's limits (about 30
messages a second overall, 1 a second per chat, 429 past them), both on one virtual monotonic
clock (tests/virtual_time.py): the limits in full, without waiting out the seconds."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from telegram.error import RetryAfter

from bot.clock import SYSTEM_MONOTONIC, Monotonic
from bot.delivery.budget import Priority, ReplyGivenUp, SendBudget, sending_as
from bot.emulator.api import FakeBotAPI
from tests.conftest import START, RunningBot
from tests.said import opening
from tests.seed import seed_due_doses, seed_repeats_due

PATIENTS = range(20_001, 20_101)  # 100 at once (the benchmark runs 1,000)
LIMITS_ON = {"SEND_RATE": "30", "SEND_RATE_PER_CHAT": "1"}  # Telegram's limits
REPLY_TIMEOUT = 120.0  # seconds; every reply must come, however long the queue


@pytest.fixture
async def api(monotonic: Monotonic) -> AsyncIterator[FakeBotAPI]:
    server = FakeBotAPI(global_rate=30, per_chat_rate=1, clock=monotonic)
    await server.start()
    yield server
    await server.close()


def _failures(caplog: pytest.LogCaptureFixture) -> list[str]:
    """What reached the error handler, or any traceback."""
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "bot.errors" or record.exc_info is not None
    ]


async def _reply(bot: RunningBot, user: int, before: int, count: int = 1) -> list[str]:
    await bot.api.wait_for(
        "sendMessage",
        lambda call: call.params.get("chat_id") == user and call.status == 200,
        count=before + count,
        timeout=REPLY_TIMEOUT,
    )
    return [str(m["text"]) for m in bot.api.messages_to(user)[before:]]


async def _press(bot: RunningBot, user: int, data: str, replies: int) -> list[str]:
    before = bot.sent_count(user)
    query = bot.api.press_button(user, bot.last_message(user)["message_id"], data)
    await bot.api.wait_for(
        "answerCallbackQuery",
        lambda call: call.params.get("callback_query_id") == query,
        timeout=REPLY_TIMEOUT,
    )
    return await _reply(bot, user, before, replies)


async def _onboard_and_schedule(bot: RunningBot, user: int) -> str:
    bot.api.send_text(user, "/start")
    await _reply(bot, user, 0)
    await _press(bot, user, "consent:yes", 1)
    before = bot.sent_count(user)
    bot.api.send_text(user, "/timezone Europe/Berlin")
    await _reply(bot, user, before, 2)
    await _press(bot, user, "region:uk", 2)  # "All set", then how reminders repeat
    before = bot.sent_count(user)
    bot.api.send_text(user, "/schedule custom today 22:00 10x5")
    [summary] = await _reply(bot, user, before)
    assert opening(bot.pack, "schedule.summary") in summary, summary
    [saved] = await _press(bot, user, "plan:save", 1)
    return saved


@pytest.mark.slow
async def test_many_patients_onboarding_at_once_all_get_every_reply(
    start_bot: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    bot: RunningBot = await start_bot(**LIMITS_ON)
    saved = await asyncio.gather(*(_onboard_and_schedule(bot, user) for user in PATIENTS))
    assert all("Saved" in text for text in saved)
    # Kept within the limits: Telegram never had to refuse one, nothing reached the handler.
    assert bot.api.retry_after_count == 0
    assert _failures(caplog) == []
    metrics = bot.services.metrics
    assert metrics.replies_given_up._value.get() == 0
    waited = metrics.registry.get_sample_value(
        "bot_send_queue_seconds_count", {"priority": "reply"}
    )
    assert waited is not None and waited >= len(PATIENTS) * 10  # every counted reply queued
    depth = metrics.registry.get_sample_value("bot_send_queue_depth", {"priority": "reply"})
    assert depth == 0
    # The stand-in refuses undocumented parameters: edits of keyboards went without parse_mode.
    edits = bot.api.calls_of("editMessageReplyMarkup")
    assert edits
    assert all(call.status == 200 and "parse_mode" not in call.params for call in edits)


async def test_a_reply_is_retried_through_429s_until_delivered(
    start_bot: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    bot: RunningBot = await start_bot(**LIMITS_ON)
    user = PATIENTS[0]
    # More refusals than PTB's AIORateLimiter(max_retries=3) would have taken.
    bot.api.fail("sendMessage", status=429, retry_after=1, times=5, chat_id=user)
    bot.api.send_text(user, "/help")
    [help_text] = await _reply(bot, user, 0)
    assert "What I can do" in help_text
    assert [c.status for c in bot.api.calls_of("sendMessage")] == [429] * 5 + [200]
    assert bot.services.metrics.rate_limited._value.get() == 5
    assert _failures(caplog) == []


async def test_a_reply_goes_before_a_reminder_burst(
    start_bot: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    burst = range(30_001, 30_241)  # 240 reminders: 8 s of the whole budget
    await seed_due_doses(tmp_path / "bot.sqlite3", burst, [timedelta(0)], now=START)
    bot: RunningBot = await start_bot(**LIMITS_ON)
    await bot.api.wait_for_requests("sendMessage", count=40, timeout=30)
    user = PATIENTS[0]
    bot.api.send_text(user, "/help")
    await _reply(bot, user, 0)
    reminders_before = sum(
        1
        for call in bot.api.calls_of("sendMessage")
        if call.params["chat_id"] in burst and call.status == 200
    )
    # The reply took the next free slot: far fewer reminders went first than were waiting.
    assert reminders_before < len(burst) // 2
    await bot.api.wait_for(
        "sendMessage",
        lambda call: call.params["chat_id"] in burst and call.status == 200,
        count=len(burst),
        timeout=60,
    )
    assert bot.api.retry_after_count == 0
    assert bot.api.paid_messages == 0  # paid broadcasting is off by default
    assert _failures(caplog) == []


async def test_repeats_wait_behind_a_reply(
    start_bot: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Repeats are dose messages in the one budget: a reply goes before a burst of them, and
    each patient gets their repeat once."""
    caplog.set_level(logging.WARNING)
    burst = range(31_001, 31_241)  # 240 repeats due at once: 8 s of the whole budget
    await seed_repeats_due(tmp_path / "bot.sqlite3", burst, now=START)
    bot: RunningBot = await start_bot(**LIMITS_ON)
    await bot.api.wait_for_requests("sendMessage", count=40, timeout=30)
    user = PATIENTS[0]
    bot.api.send_text(user, "/help")
    await _reply(bot, user, 0)

    def repeats() -> list[int]:
        return [
            call.params["chat_id"]
            for call in bot.api.calls_of("sendMessage")
            if call.params["chat_id"] in burst
            and call.status == 200
            and "has no answer yet" in call.params["text"]
        ]

    # The reply took the next free slot: far fewer repeats went first than were waiting.
    assert len(repeats()) < len(burst) // 2
    await bot.api.wait_for(
        "sendMessage",
        lambda call: call.params["chat_id"] in burst and call.status == 200,
        count=len(burst),
        timeout=60,
    )
    await bot.services.reminders.run_due()
    assert sorted(repeats()) == list(burst)  # every one, none twice
    assert bot.api.retry_after_count == 0
    assert _failures(caplog) == []


async def test_paid_broadcasting_carries_reminders_beyond_the_free_rate(
    start_bot: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    burst = range(40_001, 40_301)  # 300: ten seconds of the free rate alone
    await seed_due_doses(tmp_path / "bot.sqlite3", burst, [timedelta(0)], now=START)
    bot: RunningBot = await start_bot(**LIMITS_ON, PAID_BROADCAST="on")
    user = PATIENTS[0]
    bot.api.send_text(user, "/help")
    await _reply(bot, user, 0)
    calls = await bot.api.wait_for(
        "sendMessage",
        lambda call: call.params["chat_id"] in burst and call.status == 200,
        count=len(burst),
        timeout=60,
    )
    paid = [call for call in calls if call.params.get("allow_paid_broadcast") in (True, "true")]
    assert bot.api.paid_messages == len(paid) > 0
    assert bot.services.metrics.paid_messages._value.get() == len(paid)
    # Only dose reminders may cost Stars; the reply never does.
    [help_call] = [c for c in bot.api.calls_of("sendMessage") if c.params["chat_id"] == user]
    assert "allow_paid_broadcast" not in help_call.params
    assert len({call.params["chat_id"] for call in calls}) == len(burst)  # each once
    assert bot.api.retry_after_count == 0
    assert _failures(caplog) == []


# ---------------------------------------------------------------------- the queue itself


@pytest.mark.parametrize(
    "real_time",
    [
        False,
        # Once on the clock production runs on, waiting the seconds out: the dispatcher's
        # timeouts and sleeps are then the event loop's own (SYSTEM_MONOTONIC), which every
        # other test of the limits replaces.
        pytest.param(True, marks=pytest.mark.slow),
    ],
    ids=["virtual", "real"],
)
async def test_strict_priority_and_per_chat_spacing(monotonic: Monotonic, real_time: bool) -> None:
    clock = SYSTEM_MONOTONIC if real_time else monotonic
    budget = SendBudget(rate=2, per_chat_interval=0.3, clock=clock)
    started = time.monotonic()
    order: list[str] = []

    async def send(name: str, chat: int, priority: Priority) -> None:
        async def callback(*_args: Any, **_kwargs: Any) -> bool:
            order.append(name)
            return True

        with sending_as(priority):
            await budget.process_request(
                callback, (), {}, "sendMessage", {"chat_id": chat, "text": "x"}, None
            )

    tasks = [
        asyncio.create_task(send(f"broadcast-{n}", 100 + n, Priority.BROADCAST)) for n in range(4)
    ]
    await asyncio.sleep(0)
    tasks.append(asyncio.create_task(send("reminder", 200, Priority.REMINDER)))
    tasks.append(asyncio.create_task(send("reply-1", 300, Priority.REPLY)))
    tasks.append(asyncio.create_task(send("reply-2", 300, Priority.REPLY)))  # same chat
    await asyncio.gather(*tasks)
    await budget.shutdown()
    # Two slots were free at once: the first two broadcasts had them before the rest queued.
    # Then the replies, the reminder, the broadcasts; the second reply waits for its chat, so
    # the reminder goes in between.
    assert order[:2] == ["broadcast-0", "broadcast-1"]
    assert order[2:] == ["reply-1", "reminder", "reply-2", "broadcast-2", "broadcast-3"]
    # Seven sends at two a second: three seconds waited out, or skipped.
    assert (time.monotonic() - started >= 2.0) is real_time


async def test_slots_are_paced_in_the_clocks_seconds(monotonic: Monotonic) -> None:
    """On virtual time the budget keeps the same limit, in virtual seconds: never more than
    ``rate`` requests within one second, while the wait itself is skipped."""
    budget = SendBudget(rate=5, clock=monotonic)
    sent_at: list[float] = []

    async def callback(*_args: Any, **_kwargs: Any) -> bool:
        sent_at.append(monotonic.monotonic())
        return True

    async def send(chat: int) -> None:
        await budget.process_request(
            callback, (), {}, "sendMessage", {"chat_id": chat, "text": "x"}, None
        )

    started = time.monotonic()
    await asyncio.gather(*(send(chat) for chat in range(20)))  # four seconds' worth
    await budget.shutdown()
    assert len(sent_at) == 20
    assert all(later - earlier >= 1.0 for earlier, later in zip(sent_at, sent_at[5:], strict=False))
    assert sent_at[-1] - sent_at[0] >= 3.0
    assert time.monotonic() - started < 2.0  # skipped, not waited out


async def test_a_reply_refused_for_too_long_is_given_up_and_counted(monotonic: Monotonic) -> None:
    budget = SendBudget(give_up_after=timedelta(seconds=1.5), clock=monotonic)
    attempts = 0

    async def refused(*_args: Any, **_kwargs: Any) -> bool:
        nonlocal attempts
        attempts += 1
        raise RetryAfter(1)

    with pytest.raises(ReplyGivenUp):
        await budget.process_request(
            refused, (), {}, "sendMessage", {"chat_id": 1, "text": "x"}, None
        )
    await budget.shutdown()
    assert attempts == 2  # retried after the first pause, given up before a third
    assert budget.metrics.replies_given_up._value.get() == 1
    assert budget.metrics.rate_limited._value.get() == 2
    # A reminder is not given up as a reply: its RetryAfter goes back to the dispatcher.
    reminder_budget = SendBudget(give_up_after=timedelta(seconds=0.5), clock=monotonic)
    with sending_as(Priority.REMINDER), pytest.raises(RetryAfter):
        await reminder_budget.process_request(
            refused, (), {}, "sendMessage", {"chat_id": 2, "text": "x"}, None
        )
    await reminder_budget.shutdown()
    assert reminder_budget.metrics.replies_given_up._value.get() == 0
