"""Inline keyboards from (label, callback_data) rows: used by the views and the handlers alike
(a view must not reach up into the handlers for them)."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardMarkup

from bot.delivery.letters import Buttons


def keyboard(rows: Sequence[Sequence[tuple[str, str]]]) -> InlineKeyboardMarkup:
    """Inline keyboard from rows of (label, callback_data)."""
    return Buttons(tuple(tuple(row) for row in rows)).markup()


def chunked(items: Sequence[tuple[str, str]], size: int) -> list[list[tuple[str, str]]]:
    return [list(items[index : index + size]) for index in range(0, len(items), size)]
