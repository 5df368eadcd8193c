"""Free text (red flags first), the help button, ask-back and everyday-request buttons,
unknown commands, non-text messages and group chats."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import ApplicationHandlerStop

from bot.content import ContentLibrary, ContentPack, Html
from bot.context import BotContext, Services
from bot.domain.plans import format_mg
from bot.domain.redflags import Category
from bot.domain.understanding import Meaning, Reading, understand
from bot.handlers.checkins import take_note
from bot.handlers.common import consented_user, drop_buttons, event, keyboard, reply
from bot.handlers.facts import facts_menu, menu_keyboard
from bot.handlers.schedule import (
    pause_command,
    send_missed_advice,
    send_schedule_menu,
    today_command,
)
from bot.storage.doses import ANSWERABLE_STATUSES, DoseEvent
from bot.storage.refills import Pump
from bot.views import pump as pump_views
from bot.views.callbacks import AskButton, DoseButton
from bot.views.doses import HELP_BUTTON_MARK, emergency_reply, help_keyboard, local_when
from bot.views.supply import my_supply_keyboard


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
    a language switch, still works), or the button's mark alone. Only the label: a message that
    starts with the mark and says more ("🆘 I want to end it") is read as free text, so it gets
    the answer its words need (the crisis line for self-harm)."""
    typed = " ".join(text.split()).casefold()
    if typed == HELP_BUTTON_MARK:
        return True
    labels = (pack.text("emergency.button") for pack in library.packs.values())
    return any(typed == " ".join(label.split()).casefold() for label in labels)


async def free_text(update: Update, context: BotContext) -> None:
    """What the message means decides the answer (``bot.domain.understanding``): an emergency
    first, then ran out / stopped, then the wish to stop (a question about any of them also
    gets its quick-fact topic after the answer); a question gets its topic; everyday requests
    get their answer or buttons; a message the bot is not sure about asks back."""
    if await take_note(update, context):  # a check-in was waiting for this note
        return
    pack = context.pack
    message = update.effective_message
    assert message is not None
    reading = understand(message.text or "", pack.intents)
    # Ids only: the meaning and the categories found, never the text.
    event(
        "free_text",
        update,
        meaning=reading.meaning.value,
        categories=",".join(sorted(reading.categories)),
        question=int(reading.is_question),
        topic=reading.topic or "-",
    )
    region = await _region(update, context)
    meaning = reading.meaning
    if meaning is Meaning.EMERGENCY and Category.PUMP in reading.categories:
        await _pump_alarm(update, context, reading, region)
    elif meaning is Meaning.EMERGENCY:
        await reply(update, emergency_reply(pack, reading.categories, region), help_keyboard(pack))
    elif meaning is Meaning.RAN_OUT:
        await reply(
            update,
            pack.text("stop.ran_out", emergency_line=pack.emergency_line(region)),
            my_supply_keyboard(pack),  # issue 21: "📦 My supply" leads to /supply
        )
    elif meaning is Meaning.WANTS_TO_STOP:
        await reply(update, pack.text("stop.guidance"))
    else:
        await _ANSWERS.get(meaning, _pointer)(update, context, reading, region)
        return
    await _answer_the_question(update, context, reading, region)


Answer = Callable[[Update, BotContext, Reading, str | None], Awaitable[None]]


async def _pump_alarm(
    update: Update, context: BotContext, reading: Reading, region: str | None
) -> None:
    """A pump alarm (issue 21, fact sheet 2.13): what each alarm means and what to do; when
    the message also names another red flag (withdrawal or overdose signs), the emergency
    answer comes first. A patient's caregivers are told."""
    pack = context.pack
    services = context.services
    patient = update.effective_user.id if update.effective_user else None
    pump = await services.pump.pump(patient) if patient is not None else None
    guidance = pump_views.alarm_answer(pack, pump or Pump(False, None, None, None), region)
    others = set(reading.categories) - {Category.PUMP}
    text = (
        Html(f"{emergency_reply(pack, reading.categories, region)}\n\n{guidance}")
        if others
        else guidance
    )
    event("pump_alarm_answered", update, emergency_first=int(bool(others)))
    await reply(update, text, help_keyboard(pack))
    if patient is not None and await services.caregivers.caregivers_of(patient):
        await services.pump.alarm_written(patient, has_caregivers=True)


async def _question(
    update: Update, context: BotContext, reading: Reading, region: str | None
) -> None:
    """A question: "if this is happening now, call ..." first, then its topic; with no topic
    found, the topics to choose from (the /facts menu)."""
    pack = context.pack
    now = question_now_line(pack, region)
    topic = reading.topic
    if topic is None or topic not in pack.topics:
        event("facts_offered", update, after=reading.meaning.value)
        await reply(update, Html(f"{now}\n\n{pack.text('facts.menu')}"), menu_keyboard(context))
        return
    event("fact_shown", update, topic=topic, after=reading.meaning.value)
    await reply(update, Html(f"{now}\n\n{pack.render_topic(topic, region)}"))


def question_now_line(pack: ContentPack, region: str | None) -> Html:
    """ "If this is happening now, call 112." with the region's number, else the local one."""
    number = pack.region(region).emergency
    if not number:
        return pack.text("freetext.question_now_unknown")
    return pack.text("freetext.question_now", number=number)


async def _forgot_dose(
    update: Update, context: BotContext, reading: Reading, region: str | None
) -> None:
    """Exactly what /missed answers: the missed-dose rule for the latest dose."""
    await send_missed_advice(update, context)


async def _took_it(
    update: Update, context: BotContext, reading: Reading, region: str | None
) -> None:
    """Offer to record the latest dose that is due and still open as taken; nothing is
    recorded unless the button is pressed (a Taken press, bot/handlers/doses.py)."""
    user = await consented_user(update, context)
    if user is None:
        return
    services = context.services
    pack = context.pack
    now = services.clock.now()
    dose = await latest_open_dose(services, user.user_id, now)
    if dose is None:
        event("took_it_offered", update, open=0)
        await reply(update, pack.text("freetext.took_nothing_open"))
        return
    due = local_when(pack, dose.due_at, context.zone, context.today)
    event("took_it_offered", update, open=1, event_id=dose.event_id)
    button = (pack.text("freetext.button_record_taken"), DoseButton(dose.event_id, "taken").pack())
    await reply(
        update,
        pack.text("freetext.took_offer", mg=format_mg(dose.mg), due=due),
        keyboard([[button]]),
    )


async def latest_open_dose(services: Services, user_id: int, now: datetime) -> DoseEvent | None:
    """The latest planned dose already due, if it is still open to an answer; None when that
    dose is already recorded (an earlier open one is not offered: "I took it" is about the
    latest) or none is due."""
    latest = await services.doses.recent_doses(user_id, now, 1)
    if not latest or latest[0].status not in ANSWERABLE_STATUSES:
        return None
    return latest[0]


async def _pause_reminders(
    update: Update, context: BotContext, reading: Reading, region: str | None
) -> None:
    """Stop or move the reminders: /pause or new dose times, and pausing is not stopping."""
    pack = context.pack
    await reply(
        update, pack.text("freetext.pause_offer"), _ask_keyboard(pack, ["pause"], ["times"])
    )


async def _thanks(
    update: Update, context: BotContext, reading: Reading, region: str | None
) -> None:
    pack = context.pack
    await reply(update, pack.text("freetext.thanks"), help_keyboard(pack))


async def _ask_back(
    update: Update, context: BotContext, reading: Reading, region: str | None
) -> None:
    """Not sure what it means: ask, with buttons; the message ends with the emergency line."""
    pack = context.pack
    await reply(
        update,
        pack.text("freetext.ask_back", emergency_line=pack.emergency_line(region)),
        ask_back_keyboard(pack),
    )


def ask_back_keyboard(pack: ContentPack) -> InlineKeyboardMarkup:
    return _ask_keyboard(pack, ["unwell"], ["question"], ["doses"])


def _ask_keyboard(pack: ContentPack, *rows: list[str]) -> InlineKeyboardMarkup:
    """Rows of ask-back choices, each labelled by its ``freetext.button_<choice>`` text."""
    return keyboard(
        [
            [(pack.text(f"freetext.button_{choice}"), AskButton(choice).pack()) for choice in row]
            for row in rows
        ]
    )


async def _pointer(
    update: Update, context: BotContext, reading: Reading, region: str | None
) -> None:
    pack = context.pack
    await reply(update, pack.text("freetext.pointer", emergency_line=pack.emergency_line(region)))


_ANSWERS: dict[Meaning, Answer] = {
    Meaning.QUESTION: _question,
    Meaning.FORGOT_DOSE: _forgot_dose,
    Meaning.TOOK_IT: _took_it,
    Meaning.PAUSE_REMINDERS: _pause_reminders,
    Meaning.THANKS: _thanks,
    Meaning.UNSURE: _ask_back,
}


async def ask_pressed(update: Update, context: BotContext) -> None:
    """A choice under an ask-back or a "stop the reminders" answer. The buttons of the pressed
    message go (one answer per question), except under the emergency choice's own answer."""
    query = context.query
    pack = context.pack
    button = AskButton.unpack(query.data)
    if button is None:
        await query.answer(pack.text("errors.stale_button"))
        return
    await query.answer()
    event("ask_pressed", update, choice=button.choice)
    await drop_buttons(query)
    choice = button.choice
    if choice == "unwell":
        region = await _region(update, context)
        await reply(update, pack.render_topic("emergency", region), help_keyboard(pack))
    elif choice == "question":
        await facts_menu(update, context)
    elif choice == "doses":
        markup = _ask_keyboard(pack, ["missed", "today"])
        await reply(update, pack.text("freetext.doses_choice"), markup)
    elif choice == "missed":
        await send_missed_advice(update, context)
    elif choice == "today":
        await today_command(update, context)
    elif choice == "pause":
        await pause_command(update, context)
    elif await consented_user(update, context) is not None:  # "times": the guided /schedule
        await send_schedule_menu(update, context)


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
    reading = understand(message.text or message.caption or "", pack.intents)
    event("edited_message", update, meaning=reading.meaning.value)
    if reading.meaning is Meaning.EMERGENCY:
        region = await _region(update, context)
        await reply(update, emergency_reply(pack, reading.categories, region), help_keyboard(pack))
    else:
        await reply(update, pack.text("input.edited"))


async def _answer_the_question(
    update: Update, context: BotContext, reading: Reading, region: str | None
) -> None:
    """After an alarm, a stop or a ran-out answer: the topic the question asked for."""
    topic = reading.topic
    if not reading.is_question or topic is None or topic not in context.pack.topics:
        return
    pack = context.pack
    event("fact_shown", update, topic=topic, after=reading.meaning.value)
    intro = pack.text("redflag.question_topic")
    await reply(update, Html(f"{intro}\n\n{pack.render_topic(topic, region)}"))


async def _region(update: Update, context: BotContext) -> str | None:
    if update.effective_user is None:
        return None
    user = await context.load_user()
    return user.region if user else None
