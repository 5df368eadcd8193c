"""Taken / Skip / Snooze presses on reminders (and on /missed answers)."""

from __future__ import annotations

import contextlib

from telegram import Update
from telegram.error import BadRequest, TelegramError

from bot.callbacks import DoseButton
from bot.content import Html
from bot.context import BotContext
from bot.domain.missed import SEVERAL_MISSED
from bot.domain.plans import format_mg
from bot.handlers.common import event, reply, user_id
from bot.views import local_when, next_dose_text


async def dose_pressed(update: Update, context: BotContext) -> None:
    """Record the answer if the dose is the presser's own and still open; edit the message."""
    query = update.callback_query
    assert query is not None
    services = context.services
    pack = context.pack
    button = DoseButton.unpack(query.data)
    message = query.message
    if button is None or message is None:
        await query.answer(pack.text("errors.stale_button"))
        return
    owner = user_id(update)
    dose = await services.doses.get_event(button.event_id, owner)
    reminder_messages = (
        (dose.message_id, dose.followup_message_id, dose.repeat_message_id) if dose else ()
    )
    on_its_message = message.message_id in reminder_messages
    # /missed answers live on a message of their own; they may record Taken or Skip only.
    from_missed = dose is not None and not on_its_message and button.answer != "snooze"
    if dose is None or not (on_its_message or from_missed):
        event("dose_button_refused", update)
        await query.answer(pack.text("errors.stale_button"))
        return
    recorded = await services.plans.answer(owner, button.event_id, button.answer)
    if recorded is None:
        event("dose_button_refused", update)
        await query.answer(pack.text("errors.stale_button"))
        return
    event("dose_answered", update, event=button.event_id, answer=button.answer)
    await query.answer()
    user = await services.users.get(owner)
    zone = services.zones.zone_for(user.timezone if user else None)
    at = services.clock.now()
    if button.answer == "snooze":
        assert recorded.next_action_at is not None
        at = recorded.next_action_at
    today = services.clock.now().astimezone(zone).date()
    note = pack.text(
        f"reminder.recorded_{button.answer}",
        mg=format_mg(recorded.mg),
        due=local_when(context.pack, recorded.due_at, zone, today),
        time=local_when(context.pack, at, zone, today),
    )
    if button.answer == "taken" and not (user and user.reminders_paused):
        # "Recorded as taken" also says when the next dose is, and whether to skip it: a dose
        # recorded late may put the next dose time less than 2 hours after it.
        coming = await services.missed.next_dose(owner, zone, services.clock.now())
        if coming is not None:
            after = next_dose_text(pack, "missed.next", "next", coming, zone, today)
            note = Html(f"{note}\n{after}")
    if button.answer == "skip":
        in_a_row = await services.missed.in_a_row(owner, services.clock.now())
        if in_a_row == SEVERAL_MISSED:  # once per run; the next reminder stays quiet about it
            several = pack.text(
                "missed.several",
                count=in_a_row,
                emergency_line=pack.emergency_line(user.region if user else None),
            )
            note = Html(f"{note}\n\n{several}")
    # The message now says what was recorded, and its buttons are gone.
    try:
        await query.edit_message_text(note, reply_markup=None)
    except BadRequest as error:
        if "not found" not in str(error).lower():
            raise
        # Pressed just as a repeat replaced (deleted) this reminder: say it in a new message.
        await reply(update, note)
    if from_missed and message.chat is not None:
        # The reminder of a dose answered from /missed must not offer Taken any more.
        for message_id in reminder_messages:
            if message_id is None:
                continue
            with contextlib.suppress(TelegramError):  # already without buttons, or deleted
                await context.bot.edit_message_reply_markup(
                    message.chat.id, message_id, reply_markup=None
                )
