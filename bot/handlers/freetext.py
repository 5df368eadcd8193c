"""Free text (red flags first), unknown commands, non-text messages and group chats."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.content import ContentLibrary, Html
from bot.context import BotContext
from bot.domain.redflags import Intent, Recognised, classify
from bot.handlers.checkins import take_note
from bot.handlers.common import event, reply
from bot.views import HELP_BUTTON_MARK, emergency_reply, help_keyboard


async def private_chats_only(update: Update, context: BotContext) -> None:
    """Runs before every other handler: outside a private chat, explain and stop."""
    chat = update.effective_chat
    if chat is None or chat.type == chat.PRIVATE:
        return
    event("group_refused", update, chat_type=chat.type)
    if update.effective_message is not None and update.callback_query is None:
        await reply(update, context.pack.text("group.private_only"))
    elif update.callback_query is not None:
        await update.callback_query.answer()
    raise ApplicationHandlerStop


async def help_button(update: Update, context: BotContext) -> None:
    """The "🆘 Help now" button, in whatever the chat was doing: before consent, during
    onboarding, while a check-in waits for its note, during guided plan entry. It runs in its own
    group before every other text handler (bot/app.py) and leaves their state as it was.

    Answered at once with the /emergency topic (the region's numbers, else "your local
    emergency number", then the red-flag signs) and the keyboard again."""
    message = update.effective_message
    text = message.text if message is not None else None
    if not text or not is_help_button(text, context.services.content.library):
        return
    event("help_button", update)
    region = await _region(update, context)
    pack = context.pack
    await reply(update, pack.render_topic("emergency", region), help_keyboard(pack))
    raise ApplicationHandlerStop


def is_help_button(text: str, library: ContentLibrary) -> bool:
    """The help button's label in any language (a keyboard sent in another language, or before
    a language switch, still works), or any text the button's mark starts."""
    typed = " ".join(text.split()).casefold()
    if typed.startswith(HELP_BUTTON_MARK):
        return True
    labels = (pack.text("emergency.button") for pack in library.packs.values())
    return any(typed == " ".join(label.split()).casefold() for label in labels)


async def free_text(update: Update, context: BotContext) -> None:
    """Emergency first, then ran out / stopped, then the wish to stop; a question about any
    of them also gets the matching quick-fact topic after the answer."""
    if await take_note(update, context):  # a check-in was waiting for this note
        return
    pack = context.pack
    message = update.effective_message
    assert message is not None
    recognised = classify(message.text or "", pack.intents)
    event(
        "free_text",
        update,
        intent=recognised.intent.label,
        categories=",".join(sorted(recognised.categories)),
        question=int(recognised.is_question),
    )
    region = await _region(update, context)
    if recognised.intent is Intent.EMERGENCY:
        await reply(update, emergency_reply(pack, recognised, region))
    elif recognised.intent is Intent.RAN_OUT:
        await reply(update, pack.text("stop.ran_out", emergency_line=pack.emergency_line(region)))
    elif recognised.intent is Intent.WANTS_TO_STOP:
        await reply(update, pack.text("stop.guidance"))
    else:
        await reply(
            update, pack.text("freetext.pointer", emergency_line=pack.emergency_line(region))
        )
        return
    await _answer_the_question(update, context, recognised, region)


async def unknown_command(update: Update, context: BotContext) -> None:
    event("unknown_command", update)
    await reply(update, context.pack.text("freetext.unknown_command"))


async def non_text(update: Update, context: BotContext) -> None:
    event("non_text", update)
    pack = context.pack
    region = await _region(update, context)
    await reply(update, pack.text("freetext.non_text", emergency_line=pack.emergency_line(region)))


async def edited_message(update: Update, context: BotContext) -> None:
    """An edit is not a new request (an edited command must not run twice), but an emergency
    written into an edit still gets the emergency answer."""
    message = update.edited_message
    assert message is not None
    pack = context.pack
    recognised = classify(message.text or message.caption or "", pack.intents)
    event("edited_message", update, intent=recognised.intent.label)
    if recognised.intent is Intent.EMERGENCY:
        await reply(update, emergency_reply(pack, recognised, await _region(update, context)))
    else:
        await reply(update, pack.text("input.edited"))


async def _answer_the_question(
    update: Update, context: BotContext, recognised: Recognised, region: str | None
) -> None:
    topic = recognised.topic
    if not recognised.is_question or topic is None:
        return
    pack = context.pack
    event("fact_shown", update, topic=topic, after=recognised.intent.label)
    intro = pack.text("redflag.question_topic")
    await reply(update, Html(f"{intro}\n\n{pack.render_topic(topic, region)}"))


async def _region(update: Update, context: BotContext) -> str | None:
    if update.effective_user is None:
        return None
    user = await context.services.users.get(update.effective_user.id)
    return user.region if user else None
