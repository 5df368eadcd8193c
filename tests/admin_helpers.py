"""Helpers for admin tests: many users at once, a broadcast from preview to summary."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from bot.storage.admin import AdminStore, AuditEntry
from tests.conftest import ADMIN_ID, RunningBot

SUMMARY_MARK = "Broadcast #"


async def add_users(bot: RunningBot, user_ids: Iterable[int]) -> None:
    """Consented users straight in the database (onboarding each through chat would be slow)."""
    for user_id in user_ids:
        await bot.services.users.record_consent(user_id, bot.clock.now())
        await bot.services.users.set_timezone(user_id, "UTC")


async def preview(bot: RunningBot, text: str) -> tuple[str, dict[str, Any]]:
    """Send ``/broadcast text`` as the admin; return the preview text and the control message."""
    [body, _] = await bot.say(ADMIN_ID, f"/broadcast {text}", replies=2)
    return body, bot.last_message(ADMIN_ID)


async def press_control(bot: RunningBot, control: dict[str, Any], label: str) -> list[str]:
    """Press the button whose label contains ``label`` on a control message; return replies."""
    current = next(
        m for m in bot.api.messages_to(ADMIN_ID) if m["message_id"] == control["message_id"]
    )
    [data] = [data for text, data in bot.buttons(current).items() if label in text]
    replies = 0 if data.startswith("adm:seg:") else 1
    return await bot.press(ADMIN_ID, control["message_id"], data, replies=replies)


async def wait_for_summary(bot: RunningBot, count: int = 1, timeout: float = 20) -> str:  # noqa: ASYNC109
    """Wait until the admin has had ``count`` broadcast summaries; return the last one."""
    await bot.api.wait_for(
        "sendMessage",
        lambda call: (
            call.params.get("chat_id") == ADMIN_ID
            and call.status == 200
            and "is done:" in str(call.params.get("text"))
        ),
        count=count,
        timeout=timeout,
    )
    done = [m["text"] for m in bot.api.messages_to(ADMIN_ID) if "is done:" in (m["text"] or "")]
    return str(done[-1])


def received(bot: RunningBot, user_id: int, mark: str = "News from your clinic") -> list[str]:
    return [m["text"] for m in bot.api.messages_to(user_id) if mark in (m["text"] or "")]


async def audit_log(bot: RunningBot, count: int) -> list[AuditEntry]:
    """The audit log once it has ``count`` entries (an action is audited after its reply)."""
    store = AdminStore(bot.services.db)
    async with asyncio.timeout(5):
        while len(entries := await store.audit_log()) < count:  # noqa: ASYNC110 - a row, no event
            await asyncio.sleep(0.01)
    return entries
