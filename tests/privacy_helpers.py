"""Helpers for privacy and hostile-input tests: what is stored, and waiting for the bot."""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Awaitable, Callable
from typing import Any

from bot.storage.privacy import PrivacyStore, StoredRecords
from tests.conftest import RunningBot


async def stored(bot: RunningBot, user_id: int) -> StoredRecords | None:
    """Every row the bot holds about ``user_id``, column by column."""
    return await PrivacyStore(bot.services.db).records(user_id)


async def row_counts(bot: RunningBot, user_id: int) -> dict[str, int]:
    counts = {}
    for table in ("users", "plans", "dose_events"):
        row = await bot.services.db.fetch_one(
            f"SELECT COUNT(*) FROM {table} WHERE user_id = ?",  # noqa: S608 - fixed names
            (user_id,),
        )
        assert row is not None
        counts[table] = int(row[0])
    return counts


async def integrity(bot: RunningBot) -> str:
    row = await bot.services.db.fetch_one("PRAGMA integrity_check")
    assert row is not None
    return str(row[0])


async def eventually(
    condition: Callable[[], bool | Awaitable[bool]],
    timeout: float = 5.0,  # noqa: ASYNC109 - a bound, never a measurement
) -> None:
    """Wait until ``condition()`` holds (state the bot changes without sending anything)."""
    async with asyncio.timeout(timeout):
        while True:
            result = condition()
            if await result if inspect.isawaitable(result) else result:
                return
            await asyncio.sleep(0.01)


def sent_documents(bot: RunningBot, chat_id: int) -> dict[str, bytes]:
    """File name -> content of every document sent to ``chat_id``."""
    return {
        call.params["document"]["filename"]: call.params["document"]["content"]
        for call in bot.api.calls_of("sendDocument")
        if call.params.get("chat_id") == chat_id and call.status == 200
    }


def json_document(bot: RunningBot, chat_id: int) -> dict[str, Any]:
    [content] = [data for name, data in sent_documents(bot, chat_id).items() if ".json" in name]
    document: dict[str, Any] = json.loads(content)
    return document


async def press_as(bot: RunningBot, presser: int, chat_id: int, message_id: int, data: str) -> str:
    """Press a button as ``presser``, maybe on another chat's message (as a forwarded message
    or a forged update would); return the text of the bot's answer."""
    query_id = bot.api.press_button(presser, message_id, data, chat_id=chat_id)
    [call] = await bot.api.wait_for(
        "answerCallbackQuery", lambda call: call.params.get("callback_query_id") == query_id
    )
    return str(call.params.get("text", ""))
