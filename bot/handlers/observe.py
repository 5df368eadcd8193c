"""Counts every update for the metrics endpoint before any other handler sees it."""

from __future__ import annotations

from telegram import Update

from bot.context import BotContext

# Checked in this order; the first field an update carries names its type.
_UPDATE_TYPES = ("message", "callback_query", "edited_message", "my_chat_member")


async def count_update(update: Update, context: BotContext) -> None:
    kind = next((name for name in _UPDATE_TYPES if getattr(update, name) is not None), "other")
    context.services.metrics.update_handled(kind)
