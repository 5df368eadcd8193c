"""A text message sent as one ``sendMessage`` JSON body, answered with just its message id: the
courier's letters and the handlers' replies.

Why not ``Bot.send_message``: a profile of the paid burst (10,000 reminders, issue 24) put
python-telegram-bot's own work at about a third of the bot's CPU per reminder: each parameter
wrapped in a ``RequestParameter``, the defaults inserted, and the answer parsed into a
``Message`` with its ``User`` and ``Chat``, all for the one number the queue keeps. A
courier's letter is always the same shape (a chat, an HTML text, maybe inline buttons), so it
is written here once, as the Bot API takes it.

What stays the same as every other send: it passes the one send budget
(``SendBudget.process_request``: priority, the paid lane, the per-chat pace, a 429's pause,
``on_leave``), and the answer goes through python-telegram-bot's request class, so a refusal is
the same ``TelegramError`` (``Forbidden``, ``BadRequest``, ``RetryAfter``, ``TimedOut`` ...)
that ``bot.delivery.send_errors`` classifies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, ReplyKeyboardMarkup
from telegram.ext import BaseRateLimiter, ExtBot
from telegram.request import BaseRequest, RequestData

# Not exported by python-telegram-bot, but the one way to hand ``BaseRequest.post`` values that
# need no conversion (the transport already reaches into ``telegram._utils`` the same way).
from telegram.request._requestparameter import RequestParameter

SEND_MESSAGE = "sendMessage"


@dataclass(frozen=True, slots=True)
class Buttons:
    """Inline buttons as rows of (label, callback_data): what a letter carries, written as the
    Bot API's JSON when it is sent. Building python-telegram-bot's button objects for every
    reminder (each attribute set through a frozen object's checks, then read back out by
    ``to_dict``) was a tenth of the CPU per reminder; :meth:`markup` gives them where a
    handler edits a message."""

    rows: tuple[tuple[tuple[str, str], ...], ...]

    def json(self) -> dict[str, Any]:
        return {
            "inline_keyboard": [
                [{"text": label, "callback_data": data} for label, data in row] for row in self.rows
            ]
        }

    def markup(self) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(label, callback_data=data) for label, data in row]
                for row in self.rows
            ]
        )


class LetterPost:
    """Sends a letter the way ``Bot.send_message`` would, with the bot's defaults."""

    def __init__(
        self,
        request: BaseRequest,
        url: str,
        limiter: BaseRateLimiter[Any] | None,
        defaults: dict[str, Any],
    ) -> None:
        self._request = request
        self._url = url
        self._limiter = limiter
        self._defaults = defaults

    @classmethod
    def of(cls, bot: Bot) -> LetterPost:
        if not isinstance(bot, ExtBot):
            return cls(bot.request, f"{bot.base_url}/{SEND_MESSAGE}", None, {})
        defaults: dict[str, Any] = {}
        if bot.defaults is not None:
            if bot.defaults.parse_mode is not None:
                defaults["parse_mode"] = bot.defaults.parse_mode
            if bot.defaults.link_preview_options is not None:
                defaults["link_preview_options"] = bot.defaults.link_preview_options.to_dict()
        return cls(bot.request, f"{bot.base_url}/{SEND_MESSAGE}", bot.rate_limiter, defaults)

    async def send(
        self,
        chat_id: int,
        text: str,
        markup: Buttons | InlineKeyboardMarkup | ReplyKeyboardMarkup | None,
    ) -> int:
        """Send it; return the new message's id (a refusal raises the ``TelegramError``)."""
        data: dict[str, Any] = {"chat_id": chat_id, "text": text, **self._defaults}
        if isinstance(markup, Buttons):
            data["reply_markup"] = markup.json()
        elif markup is not None:
            data["reply_markup"] = markup.to_dict()

        async def post() -> dict[str, Any]:
            # Built at the last moment: the budget may have added ``allow_paid_broadcast``.
            # The values are already in the Bot API's JSON shape, so each goes in as it is
            # (``RequestParameter.from_input`` would look into every one for files).
            body = RequestData(
                [RequestParameter(name, value, None) for name, value in data.items()]
            )
            answer = await self._request.post(self._url, body)
            assert isinstance(answer, dict)
            return answer

        answer: object
        if self._limiter is None:
            answer = await post()
        else:
            answer = await self._limiter.process_request(
                callback=post,
                args=(),
                kwargs={},
                endpoint=SEND_MESSAGE,
                data=data,
                rate_limit_args=None,
            )
        assert isinstance(answer, dict)
        return int(answer["message_id"])
