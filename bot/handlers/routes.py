"""Feature-owned routes, in the manner of aiogram's ``Router``: each handler module declares its
commands, typed buttons and message handlers on its own :class:`Router`; ``bot/app.py`` only
includes the routers, in order.

A button route unpacks the typed button (``bot/views/callbacks.py``) before the handler runs and
answers "this button is no longer active" for anything that is not exactly such a button
(stale, forged, mangled), so a handler receives the button, never raw ``callback_data``.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler
from telegram.ext.filters import BaseFilter

from bot.context import BotContext
from bot.views.callbacks import CallbackData

Handler = Callable[[Update, BotContext], Coroutine[Any, Any, None]]
H = TypeVar("H", bound=Handler)  # a decorated handler keeps its own signature
B = TypeVar("B", bound=CallbackData)
ButtonHandler = Callable[[Update, BotContext, B], Coroutine[Any, Any, None]]
STALE = "errors.stale_button"


class Router:
    def __init__(self, name: str) -> None:
        self.name = name
        self.handlers: list[BaseHandler[Update, Any, Any]] = []

    def command(self, *names: str, filters: BaseFilter | None = None) -> Callable[[H], H]:
        """``/name`` (any of ``names``)."""

        def register(handler: H) -> H:
            self.handlers.append(CommandHandler(list(names), handler, filters=filters))
            return handler

        return register

    def commands(self, names: Sequence[str], handler: Handler) -> None:
        """Several commands served by one handler (the fact topics)."""
        self.handlers.append(CommandHandler(list(names), handler))

    def button(
        self, kind: type[B], *, stale: str = STALE
    ) -> Callable[[ButtonHandler[B]], ButtonHandler[B]]:
        """A press of a ``kind`` button: the handler gets it unpacked; anything else under its
        prefix is answered with the ``stale`` text and reaches no handler."""

        def register(handler: ButtonHandler[B]) -> ButtonHandler[B]:
            async def route(update: Update, context: BotContext) -> None:
                query = update.callback_query
                assert query is not None
                button = kind.unpack(query.data)
                if button is None:
                    await query.answer(context.pack.text(stale))
                    return
                await handler(update, context, button)

            self.handlers.append(CallbackQueryHandler(route, pattern=kind.pattern()))
            return handler

        return register

    def callback(self, pattern: Callable[[object], bool] | str) -> Callable[[H], H]:
        """A press matched by ``pattern``, raw: for a handler that reads its button itself (it
        answers a malformed one in its own words) and the admin buttons' per-verb filters."""

        def register(handler: H) -> H:
            self.handlers.append(CallbackQueryHandler(handler, pattern=pattern))
            return handler

        return register

    def message(self, filters: BaseFilter) -> Callable[[H], H]:
        def register(handler: H) -> H:
            self.handlers.append(MessageHandler(filters, handler))
            return handler

        return register

    def register(self, application: Any) -> None:
        """Add this router's handlers to ``application`` (group 0, in declaration order)."""
        for handler in self.handlers:
            application.add_handler(handler)
