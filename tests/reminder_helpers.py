"""Helpers for reminder tests: set a plan as a user would, move the clock, read reminders."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from bot.emulator.api import FakeBotAPI
from bot.storage.db import Database
from tests.conftest import START, RunningBot

DAY = START.replace(hour=0)  # the day the fake clock starts on, at 09:00 UTC


def at(hour: int, minute: int = 0, *, days: int = 0) -> datetime:
    """``hour:minute`` UTC on the fake clock's first day, or ``days`` later."""
    return DAY + timedelta(days=days, hours=hour, minutes=minute)


@contextlib.asynccontextmanager
async def dying_process(bot: RunningBot) -> AsyncIterator[Database]:
    """The stopped bot's database as another process sees it: one that claims rows (and lets
    their requests leave) and dies before it records anything more."""
    database = await Database.open(bot.services.settings.database_path)
    try:
        yield database
    finally:
        await database.close()


async def restart_at(
    bot: RunningBot,
    start_bot: Callable[[], Awaitable[RunningBot]],
    instant: datetime,
    user: int,
    *,
    while_down: Callable[[], Awaitable[None]] | None = None,
) -> tuple[RunningBot, str]:
    """Stop the bot; time passes to ``instant`` while it is down (and ``while_down`` happens
    to it); start it again on the same database and clock. Returns the new bot and the first
    message it sends ``user``."""
    await bot.shutdown()
    if while_down is not None:
        await while_down()
    bot.clock.set(instant)
    restarted = await start_bot()
    [first] = await restarted.next_messages(user, restarted.sent_count(user), 1)
    return restarted, first


def assert_told_of_the_downtime(text: str) -> None:
    """The first message after a long downtime says so, and not to make up the doses."""
    assert "My reminders were not running for a while" in text
    assert "earlier dose times passed without a reminder. Do not make them up" in text


async def save_plan(bot: RunningBot, user: int, command: str, *, confirm: bool = False) -> str:
    """Type a /schedule or /taper command and press Save (or, with ``confirm``, "My
    prescriber set this", which the plan must ask for); return the confirmation text."""
    [summary] = await bot.say(user, command)
    assert "Please check your plan" in summary, summary
    assert ("only save this plan if your prescriber set it" in summary) == confirm, summary
    data = "plan:save_high" if confirm else "plan:save"
    [saved] = await bot.press(user, bot.last_message(user)["message_id"], data, replies=1)
    assert "Saved" in saved, saved
    return saved


def reminders_to(bot: RunningBot, user: int) -> list[dict[str, Any]]:
    return [
        message
        for message in bot.api.messages_to(user)
        if (message["reply_markup"] and "dose:" in str(message["reply_markup"]))
        or "Time for your dose" in (message["text"] or "")
        or "You missed the" in (message["text"] or "")
    ]


async def advance_until_messages(
    bot: RunningBot, user: int, instant: datetime, count: int = 1
) -> list[dict[str, Any]]:
    """Move the clock to ``instant`` and wait for ``count`` new messages to ``user``."""
    before = bot.sent_count(user)
    bot.clock.set(instant)
    await bot.next_messages(user, before, count)
    await bot.services.reminders.run_due()  # the pass that sent them has recorded them
    return bot.messages(user)[before:]


def only_undo(message: dict[str, Any]) -> bool:
    """The message has no dose button left, only Undo (a confirmed Taken or Skip)."""
    markup = message.get("reply_markup") or {}
    data = [button["callback_data"] for row in markup.get("inline_keyboard", []) for button in row]
    return len(data) == 1 and data[0].startswith("undo:")


def dose_data(message: dict[str, Any], answer: str) -> str:
    for row in message["reply_markup"]["inline_keyboard"]:
        for button in row:
            if button["callback_data"].endswith(f":{answer}"):
                return str(button["callback_data"])
    raise AssertionError(f"no {answer} button on {message}")


async def press_and_wait_edit(
    bot: RunningBot, user: int, message: dict[str, Any], data: str
) -> dict[str, Any]:
    """Press a button on ``message`` and return the message once the bot has edited it."""

    def edits() -> int:
        return sum(
            1
            for call in bot.api.calls_of("editMessageText")
            if call.params.get("message_id") == message["message_id"]
        )

    before = edits()
    await bot.press(user, message["message_id"], data)
    await bot.api.wait_for(
        "editMessageText",
        lambda call: call.params.get("message_id") == message["message_id"],
        count=before + 1,
    )
    for current in bot.api.messages_to(user):
        if current["message_id"] == message["message_id"]:
            return current
    raise AssertionError("edited message vanished")


async def tap(bot: RunningBot, user: int, message: dict[str, Any], answer: str) -> dict[str, Any]:
    """Press Taken / Skip / Snooze on a reminder and return the message as edited."""
    return await press_and_wait_edit(bot, user, message, dose_data(message, answer))


def reminder_texts(api: FakeBotAPI, user_id: int) -> list[str]:
    """Texts of the dose reminders the stand-in delivered to ``user_id``, in order."""
    return [
        str(message["text"])
        for message in api.messages_to(user_id)
        if "Time for your dose" in (message["text"] or "")
    ]


async def move_zone(
    bot: RunningBot, user: int, zone: str, choice: str = "at_once"
) -> tuple[str, str, str]:
    """``/timezone <zone>`` with a plan: the choice asked, the preview of ``choice`` and the
    reply to Save; returns the three texts."""
    [asked] = await bot.say(user, f"/timezone {zone}")
    question = bot.last_message(user)
    assert f"trv:choose:{choice}:{zone}" in bot.buttons(question).values(), asked
    [preview] = await bot.press(
        user, question["message_id"], f"trv:choose:{choice}:{zone}", replies=1
    )
    shown = bot.last_message(user)
    [saved] = await bot.press(user, shown["message_id"], f"trv:save:{choice}:{zone}", replies=1)
    return asked, preview, saved
