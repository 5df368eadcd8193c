"""/simple and its toggle button: simple mode on or off (issue 22).

A stand-in until /settings lists it as one of its rows; the toggle button
(``SimpleModeButton``) and ``simple_pressed`` are what that row uses.
"""

from __future__ import annotations

from telegram import Update

from bot.context import BotContext
from bot.handlers.common import command_args, edit_query_message, event, reply, user_id
from bot.handlers.routes import Router
from bot.views.callbacks import SimpleModeButton
from bot.views.doses import simple_mode_keyboard

routes = Router("simple")


@routes.command("simple", consented=True)
async def simple_command(update: Update, context: BotContext) -> None:
    """``/simple`` shows the setting with a button to switch it; ``/simple on|off`` sets it."""
    user = context.patient
    pack = context.pack
    args = [arg.lower() for arg in command_args(update.effective_message.text)]  # type: ignore[union-attr]
    if args in (["on"], ["off"]):
        on = args == ["on"]
        await context.services.simple_mode.set(user.user_id, on)
        event("simple_mode_set", update, on=int(on))
        await reply(update, pack.text(f"simple.now_{'on' if on else 'off'}"))
        return
    if args:
        await reply(update, pack.text("simple.usage"))
        return
    on = user.simple_mode
    await reply(
        update, pack.text(f"simple.state_{'on' if on else 'off'}"), simple_mode_keyboard(pack, on)
    )


@routes.button(SimpleModeButton)
async def simple_pressed(update: Update, context: BotContext, button: SimpleModeButton) -> None:
    pack = context.pack
    on = button.choice == "on"
    if not await context.services.simple_mode.set(user_id(update), on):
        await context.query.answer(pack.text("onboarding.need_consent"))
        return
    await context.query.answer()
    event("simple_mode_set", update, on=int(on))
    await edit_query_message(
        context.query,
        pack.text(f"simple.now_{'on' if on else 'off'}"),
        simple_mode_keyboard(pack, on),
    )
