"""Quick facts: /facts (inline menu) and one command per topic, all from the content pack."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update

from bot.content import TOPICS
from bot.context import BotContext
from bot.handlers.common import chunked, event, keyboard, reply
from bot.handlers.routes import Router
from bot.views.callbacks import FactButton
from bot.views.doses import help_keyboard

routes = Router("facts")


# The facts read no stored row (only /emergency reads the region, itself): no read per update.
@routes.command("facts", loads_user=False)
async def facts_menu(update: Update, context: BotContext) -> None:
    pack = context.pack
    await reply(update, pack.text("facts.menu"), menu_keyboard(context))


async def topic_command(update: Update, context: BotContext) -> None:
    """Every topic command lands here; the command word names the topic."""
    message = update.effective_message
    assert message is not None and message.text is not None
    topic = message.text.split()[0].lstrip("/").split("@")[0].lower()
    await send_topic(update, context, topic)


# Each fact topic is a command too; /missed is the schedule's (the patient's own latest dose
# first, then this topic).
routes.commands([topic for topic in TOPICS if topic != "missed"], topic_command, loads_user=False)


@routes.button(FactButton, loads_user=False)
async def topic_pressed(update: Update, context: BotContext, button: FactButton) -> None:
    topic = button.topic
    if topic not in TOPICS:
        await context.query.answer(context.pack.text("errors.stale_button"))
        return
    await context.query.answer()
    await send_topic(update, context, topic)


async def send_topic(update: Update, context: BotContext, topic: str) -> None:
    region = None
    if topic == "emergency" and update.effective_user is not None:
        user = await context.load_user()
        region = user.region if user else None
    event("fact_shown", update, topic=topic)
    pack = context.pack
    # /emergency brings the help button back too (its answer has no inline buttons).
    markup = help_keyboard(pack) if topic == "emergency" else None
    await reply(update, pack.render_topic(topic, region), markup)


def menu_keyboard(context: BotContext) -> InlineKeyboardMarkup:
    topics = context.pack.topics
    return keyboard(chunked([(topics[key].menu, FactButton(key).pack()) for key in TOPICS], 2))
