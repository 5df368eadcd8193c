"""Taken / Skip / Snooze presses on reminders (and on /missed answers)."""

from __future__ import annotations

import re

from telegram import Update

from bot.context import BotContext
from bot.domain.plans import format_mg
from bot.handlers.common import event, user_id
from bot.views import DOSE_ANSWERS, local_hhmm

_DATA = re.compile(r"^dose:(\d{1,18}):(" + "|".join(DOSE_ANSWERS) + r")$")


async def dose_pressed(update: Update, context: BotContext) -> None:
    """Record the answer if the dose is the presser's own and still open; edit the message."""
    query = update.callback_query
    assert query is not None
    services = context.services
    pack = services.pack
    match = _DATA.match(query.data or "")
    message = query.message
    if match is None or message is None:
        await query.answer(pack.text("errors.stale_button"))
        return
    event_id, answer = int(match.group(1)), match.group(2)
    owner = user_id(update)
    dose = await services.doses.get_event(event_id, owner)
    on_its_message = dose is not None and message.message_id in (
        dose.message_id,
        dose.followup_message_id,
    )
    # /missed answers live on a message of their own; they may record Taken or Skip only.
    from_missed = dose is not None and not on_its_message and answer != "snooze"
    if dose is None or not (on_its_message or from_missed):
        event("dose_button_refused", update)
        await query.answer(pack.text("errors.stale_button"))
        return
    recorded = await services.reminders.answer(owner, event_id, answer)
    if recorded is None:
        event("dose_button_refused", update)
        await query.answer(pack.text("errors.stale_button"))
        return
    event("dose_answered", update, event=event_id, answer=answer)
    await query.answer()
    user = await services.users.get(owner)
    zone = services.reminders.zone_for(user.timezone if user else None)
    at = services.clock.now()
    if answer == "snooze":
        assert recorded.next_action_at is not None
        at = recorded.next_action_at
    note = pack.text(
        f"reminder.recorded_{answer}",
        mg=format_mg(recorded.mg),
        due=local_hhmm(recorded.due_at, zone),
        time=local_hhmm(at, zone),
    )
    # The message now says what was recorded, and its buttons are gone.
    await query.edit_message_text(note, reply_markup=None)
