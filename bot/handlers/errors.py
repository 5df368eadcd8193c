"""The one error handler: log ids and the error type, apologise to the user where possible."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

from bot.context import BotContext
from bot.handlers.common import reply

log = logging.getLogger("bot.errors")


async def on_error(update: object, context: BotContext) -> None:
    error = context.error
    user = (
        update.effective_user.id if isinstance(update, Update) and update.effective_user else None
    )
    update_id = update.update_id if isinstance(update, Update) else None
    # Blocked, rate-limited or unreachable: an apology could not get through either. A
    # BadRequest (a NetworkError subclass in PTB) is our own mistake and gets the apology.
    if isinstance(error, Forbidden | RetryAfter) or (
        isinstance(error, NetworkError) and not isinstance(error, BadRequest)
    ):
        log.warning(
            "telegram_error kind=%s user=%s update=%s", type(error).__name__, user, update_id
        )
        return
    # exc_info gives the stack for developers; our own exceptions never carry message text.
    log.error(
        "handler_failed kind=%s user=%s update=%s",
        type(error).__name__,
        user,
        update_id,
        exc_info=error,
    )
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await reply(update, context.pack.text("errors.generic"))
        except Exception:  # the apology is best effort; the original error is already logged
            log.warning("apology_failed user=%s update=%s", user, update_id)
