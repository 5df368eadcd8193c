"""How unanswered reminders repeat: the question at the end of onboarding and under /settings,
and its buttons. The repeats themselves are sent by the dispatcher (bot/services/reminders.py)."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update

from bot.content import ContentPack, Html
from bot.context import BotContext
from bot.domain.repeats import ONCE, REPEAT_CHOICES
from bot.handlers.common import edit_query_message, event, keyboard, reply
from bot.handlers.routes import STALE, Router
from bot.views.callbacks import RepeatButton

routes = Router("repeats")


def repeat_label(pack: ContentPack, minutes: int) -> Html:
    """ "Once, with one follow-up" or "Every 10 minutes until answered"."""
    if minutes == ONCE:
        return pack.text("repeats.once")
    return pack.text("repeats.every", minutes=minutes)


def _keyboard(pack: ContentPack, current: int) -> InlineKeyboardMarkup:
    rows = []
    for minutes in REPEAT_CHOICES:
        label = repeat_label(pack, minutes)
        if minutes == current:
            label = pack.text("repeats.chosen", choice=label)
        rows.append([(str(label), RepeatButton(minutes).pack())])
    return keyboard(rows)


async def ask_repeats(update: Update, context: BotContext, *, first: bool = False) -> None:
    """The choice, with the current one marked; ``first``: the last question of onboarding."""
    pack = context.pack
    user = context.user
    current = user.repeat_minutes if user else ONCE
    key = "repeats.ask_first" if first else "repeats.ask"
    await reply(
        update, pack.text(key, current=repeat_label(pack, current)), _keyboard(pack, current)
    )


@routes.button(RepeatButton, unconsented=STALE)
async def repeat_pressed(update: Update, context: BotContext, button: RepeatButton) -> None:
    pack = context.pack
    await context.query.answer()
    await context.services.users.set_repeat_minutes(context.patient.user_id, button.minutes)
    event("repeats_set", update, minutes=button.minutes)
    await edit_query_message(
        context.query, pack.text("repeats.set", choice=repeat_label(pack, button.minutes))
    )
