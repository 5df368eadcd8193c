"""The first handlers every update meets: flood control, and updates the bot never acts on."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.context import BotContext
from bot.domain.flood import Verdict
from bot.handlers.common import event, reply
from bot.handlers.freetext import edited_message


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
            stored = await context.load_user()
            pack = context.pack
            emergency_line = pack.emergency_line(stored.region if stored else None)
            await reply(update, pack.text("input.flood", emergency_line=emergency_line))
    raise ApplicationHandlerStop


async def not_acted_on(update: Update, context: BotContext) -> None:
    """Edits, channel posts, business messages and buttons on inline messages stop here.

    An edit is not a new request (an edited /deleteme must not ask again), yet an edited text
    in a private chat gets an answer, the emergency one if it mentions an emergency. Other
    edits (a live location moving) pass in silence. The bot has no inline mode, so a button
    without a message is not one of its own.
    """
    edited = update.edited_message
    if edited is not None and edited.chat.type == edited.chat.PRIVATE:
        if edited.text or edited.caption:
            await edited_message(update, context)
        raise ApplicationHandlerStop
    if (
        edited is not None
        or update.channel_post is not None
        or update.edited_channel_post is not None
        or update.business_message is not None
        or update.edited_business_message is not None
    ):
        event("update_ignored", update)
        raise ApplicationHandlerStop
    query = update.callback_query
    if query is not None and query.message is None:
        event("inline_button_refused", update)
        await query.answer(context.pack.text("errors.stale_button"))
        raise ApplicationHandlerStop
