"""Feature-owned routes, in the manner of aiogram's ``Router``: each handler module declares its
commands, typed buttons and message handlers on its own :class:`Router`; ``bot/app.py`` only
includes the routers, in order.

A button route unpacks the typed button (``bot/views/callbacks.py``) before the handler runs and
answers "this button is no longer active" for anything that is not exactly such a button
(stale, forged, mangled), so a handler receives the button, never raw ``callback_data``; the
press itself is ``context.query``.

Every route reads the sender's stored row before its handler runs (``context.user``, with
``context.zone`` and ``context.today``), once per update. ``consented=True`` on a command (or
``unconsented=<text>`` on a button) runs the handler only for a user who has consented, so its
handler starts with ``context.patient`` instead of a check of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from typing import Any, Concatenate, ParamSpec, TypeVar

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler
from telegram.ext.filters import BaseFilter

from bot.context import BotContext
from bot.handlers.common import consented_user
from bot.views.callbacks import CallbackData

Handler = Callable[[Update, BotContext], Coroutine[Any, Any, None]]
H = TypeVar("H", bound=Handler)  # a decorated handler keeps its own signature
P = ParamSpec("P")
# A command handler; it may take more (keyword) arguments when another handler calls it.
CommandHandlerFn = Callable[Concatenate[Update, BotContext, P], Coroutine[Any, Any, None]]
B = TypeVar("B", bound=CallbackData)
ButtonHandler = Callable[[Update, BotContext, B], Coroutine[Any, Any, None]]
STALE = "errors.stale_button"
NEED_CONSENT = "onboarding.need_consent"


def _loading(handler: Handler) -> Handler:
    """``handler`` after the sender's row is read (``context.user``, once per update)."""

    async def route(update: Update, context: BotContext) -> None:
        await context.load_user()
        await handler(update, context)

    return route


class Router:
    def __init__(self, name: str) -> None:
        self.name = name
        self.handlers: list[BaseHandler[Update, Any, Any]] = []

    def command(
        self,
        *names: str,
        filters: BaseFilter | None = None,
        consented: bool = False,
        loads_user: bool = True,
    ) -> Callable[[CommandHandlerFn[P]], CommandHandlerFn[P]]:
        """``/name`` (any of ``names``). ``consented``: only for a user who has consented;
        anyone else is told to /start first and the handler does not run (``context.patient``
        is theirs). ``loads_user=False``: a handler that reads no row (/help, the facts) is
        spared the read. The decorated name is the route itself, so another handler that
        calls it (a button opening a command's answer) gets the same check."""

        def register(handler: CommandHandlerFn[P]) -> CommandHandlerFn[P]:
            async def route(
                update: Update, context: BotContext, /, *args: P.args, **kwargs: P.kwargs
            ) -> None:
                if consented:
                    if await consented_user(update, context) is None:
                        return
                elif loads_user:
                    await context.load_user()
                await handler(update, context, *args, **kwargs)

            self.handlers.append(CommandHandler(list(names), route, filters=filters))
            return route

        return register

    def commands(self, names: Sequence[str], handler: Handler, *, loads_user: bool = True) -> None:
        """Several commands served by one handler (the fact topics)."""
        route = _loading(handler) if loads_user else handler
        self.handlers.append(CommandHandler(list(names), route))

    def button(
        self,
        kind: type[B],
        *,
        stale: str = STALE,
        unconsented: str | None = None,
        loads_user: bool = True,
    ) -> Callable[[ButtonHandler[B]], ButtonHandler[B]]:
        """A press of a ``kind`` button: the handler gets it unpacked (the press itself is
        ``context.query``); anything else under its prefix is answered with the ``stale`` text
        and reaches no handler. ``unconsented``: the answer to a press from someone who has
        not consented; given, the handler runs only for a consented user
        (``context.patient``)."""

        def register(handler: ButtonHandler[B]) -> ButtonHandler[B]:
            async def route(update: Update, context: BotContext) -> None:
                query = context.query
                button = kind.unpack(query.data)
                if button is None:
                    await query.answer(context.pack.text(stale))
                    return
                if loads_user or unconsented is not None:
                    user = await context.load_user()
                    if unconsented is not None and (user is None or not user.has_consented):
                        await query.answer(context.pack.text(unconsented))
                        return
                await handler(update, context, button)

            self.handlers.append(CallbackQueryHandler(route, pattern=kind.pattern()))
            return handler

        return register

    def callback(self, pattern: Callable[[object], bool] | str) -> Callable[[H], H]:
        """A press matched by ``pattern``, raw: for a handler that reads its button itself (it
        answers a malformed one in its own words) and the admin buttons' per-verb filters."""

        def register(handler: H) -> H:
            self.handlers.append(CallbackQueryHandler(_loading(handler), pattern=pattern))
            return handler

        return register

    def message(self, filters: BaseFilter) -> Callable[[H], H]:
        def register(handler: H) -> H:
            self.handlers.append(MessageHandler(filters, _loading(handler)))
            return handler

        return register

    def register(self, application: Any) -> None:
        """Add this router's handlers to ``application`` (group 0, in declaration order)."""
        for handler in self.handlers:
            application.add_handler(handler)
