"""Small helpers shared by the handlers."""

from __future__ import annotations

import logging

from telegram import (
    CallbackQuery,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.error import BadRequest

from bot.context import BotContext
from bot.delivery.letters import LetterPost
from bot.storage.users import User

# The handlers' shorthand for the keyboards (their home is bot/views/keyboards.py).
from bot.views.keyboards import chunked as chunked
from bot.views.keyboards import keyboard as keyboard

log = logging.getLogger("bot.events")


def event(name: str, update: Update | None = None, **ids: object) -> None:
    """Log an event by name with ids only: never message text, doses or other health data."""
    user = update.effective_user.id if update and update.effective_user else None
    details = " ".join(f"{key}={value}" for key, value in ids.items())
    log.info("%s user=%s %s", name, user, details)


async def reply(
    update: Update, text: str, markup: InlineKeyboardMarkup | ReplyKeyboardMarkup | None = None
) -> int | None:
    """Answer in the chat the update came from, as Telegram HTML; return the message's id.

    Through ``LetterPost``, not ``chat.send_message``: a reply's answer would otherwise be
    parsed into a whole ``Message`` for the one id a handler may keep (issue 24). Parse mode
    (HTML) and no link previews still come from the Application's Defaults."""
    chat = update.effective_chat
    if chat is None:
        return None
    return await LetterPost.of(update.get_bot()).send(chat.id, text, markup)


def user_id(update: Update) -> int:
    user = update.effective_user
    if user is None:  # handlers are registered only for updates with a user
        raise LookupError("update has no user")
    return user.id


async def consented_user(update: Update, context: BotContext) -> User | None:
    """The stored user (``context.user``), or None after telling them to /start first."""
    user = await context.load_user()
    if user is None or not user.has_consented:
        await reply(update, context.pack.text("onboarding.need_consent"))
        return None
    return user


def command_args(text: str | None) -> list[str]:
    """Arguments after the command word, split on white space."""
    return (text or "").split()[1:]


async def drop_buttons(query: CallbackQuery) -> None:
    """Remove the keyboard of the pressed message. A replayed press on a message whose keyboard
    is already gone is not an error."""
    if isinstance(query.message, Message) and query.message.reply_markup is None:
        return
    try:  # two quick presses: the second is told "message is not modified"
        await query.edit_message_reply_markup(None)
    except BadRequest as error:
        if "not modified" not in str(error).lower():
            raise


async def edit_query_message(
    query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Replace the pressed message's text and buttons; a replayed press that would change
    nothing ("message is not modified") is not an error."""
    try:
        await query.edit_message_text(text, reply_markup=markup)
    except BadRequest as error:
        if "not modified" not in str(error).lower():
            raise


def shorten(text: str, limit: int = 40) -> str:
    """User text quoted back in a reply: cut so the reply stays well inside one message."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
