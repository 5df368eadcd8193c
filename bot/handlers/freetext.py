"""Free text (red flags first), unknown commands, non-text messages and group chats."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.context import BotContext
from bot.domain.redflags import Intent, classify
from bot.handlers.common import event, reply


async def private_chats_only(update: Update, context: BotContext) -> None:
    """Runs before every other handler: outside a private chat, explain and stop."""
    chat = update.effective_chat
    if chat is None or chat.type == chat.PRIVATE:
        return
    event("group_refused", update, chat_type=chat.type)
    if update.effective_message is not None and update.callback_query is None:
        await reply(update, context.services.pack.text("group.private_only"))
    elif update.callback_query is not None:
        await update.callback_query.answer()
    raise ApplicationHandlerStop


async def free_text(update: Update, context: BotContext) -> None:
    services = context.services
    pack = services.pack
    message = update.effective_message
    assert message is not None
    intent = classify(message.text or "")
    event("free_text", update, intent=intent.value)
    if intent is Intent.EMERGENCY:
        await _emergency_reply(update, context)
    elif intent is Intent.WANTS_TO_STOP:
        await reply(update, pack.text("stop.guidance"))
    else:
        await reply(update, pack.text("freetext.pointer"))


async def unknown_command(update: Update, context: BotContext) -> None:
    event("unknown_command", update)
    await reply(update, context.services.pack.text("freetext.unknown_command"))


async def non_text(update: Update, context: BotContext) -> None:
    event("non_text", update)
    await reply(update, context.services.pack.text("freetext.non_text"))


async def edited_message(update: Update, context: BotContext) -> None:
    """An edit is not a new request (an edited command must not run twice), but an emergency
    written into an edit still gets the emergency answer."""
    message = update.edited_message
    assert message is not None
    intent = classify(message.text or message.caption or "")
    event("edited_message", update, intent=intent.value)
    if intent is Intent.EMERGENCY:
        await _emergency_reply(update, context)
    else:
        await reply(update, context.services.pack.text("input.edited"))


async def _emergency_reply(update: Update, context: BotContext) -> None:
    services = context.services
    pack = services.pack
    region = None
    if update.effective_user is not None:
        user = await services.users.get(update.effective_user.id)
        region = user.region if user else None
    await reply(update, pack.text("redflag.reply", emergency_line=pack.emergency_line(region)))
