"""The first handlers every update meets: flood control, and updates the bot never acts on."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.context import BotContext
from bot.domain.flood import Verdict
from bot.handlers.common import event, reply


async def flood_control(update: Update, context: BotContext) -> None:
    """A user over the limit gets one polite notice; then their updates are dropped for a
    while. Other users are not affected: the count is per user."""
    user = update.effective_user
    if user is None:
        return
    services = context.services
    verdict = services.flood.check(user.id, services.clock.now())
    if verdict is Verdict.ALLOW:
        return
    if verdict is Verdict.NOTIFY:
        event("flood_throttled", update)
        chat = update.effective_chat
        if chat is not None and chat.type == chat.PRIVATE:
            stored = await services.users.get(user.id)
            pack = services.pack
            emergency_line = pack.emergency_line(stored.region if stored else None)
            await reply(update, pack.text("input.flood", emergency_line=emergency_line))
    raise ApplicationHandlerStop


async def ignore(update: Update, context: BotContext) -> None:
    """Channel posts, business messages and edits outside private chats: not for this bot."""
    raise ApplicationHandlerStop
