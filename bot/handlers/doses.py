"""Taken / Skip / Snooze presses on reminders (and on /missed answers), simple mode's "More",
and Undo for a mis-tapped Taken or Skip."""

from __future__ import annotations

import contextlib

from telegram import InlineKeyboardMarkup, MaybeInaccessibleMessage, Update
from telegram.error import BadRequest, TelegramError

from bot.content import ContentPack, Html
from bot.context import BotContext
from bot.domain.missed import SEVERAL_MISSED, MissedAction, MissedAdvice
from bot.domain.plans import format_mg
from bot.handlers.common import drop_buttons, event, keyboard, reply, user_id
from bot.handlers.routes import Router
from bot.storage.doses import ANSWERABLE_STATUSES, DoseEvent, UndoOutcome
from bot.views.callbacks import DoseButton, DoseMoreButton, UndoButton
from bot.views.doses import (
    dose_keyboard,
    local_when,
    missed_advice_text,
    more_keyboard,
    next_dose_text,
    skip_line,
    undo_keyboard,
)

routes = Router("doses")


@routes.button(DoseButton)
async def dose_pressed(update: Update, context: BotContext, button: DoseButton) -> None:
    """Record the answer if the dose is the presser's own and still open; edit the message."""
    pack = context.pack
    message = context.query.message
    if message is None:
        await context.query.answer(pack.text("errors.stale_button"))
        return
    owner = user_id(update)
    dose = await context.services.doses.get_event(button.event_id, owner)
    reminder_messages = (
        (dose.message_id, dose.followup_message_id, dose.repeat_message_id) if dose else ()
    )
    on_its_message = message.message_id in reminder_messages
    # /missed answers live on a message of their own; they may record Taken or Skip only.
    from_missed = dose is not None and not on_its_message and button.answer != "snooze"
    recorded = None
    if dose is not None and (on_its_message or from_missed):
        recorded = await context.services.plans.answer(owner, button.event_id, button.answer)
    if recorded is None:
        event("dose_button_refused", update)
        await context.query.answer(pack.text("errors.stale_button"))
        return
    event("dose_answered", update, event=button.event_id, answer=button.answer)
    await context.query.answer()
    note = await _recorded_note(context, owner, button.answer, recorded)
    # The message now says what was recorded; its dose buttons are gone, and a Taken or Skip
    # can be undone for a few minutes (a mis-tap).
    markup = None
    if recorded.answer_id is not None:
        markup = undo_keyboard(pack, recorded.event_id, recorded.answer_id)
    try:
        await context.query.edit_message_text(note, reply_markup=markup)
    except BadRequest as error:
        if "not found" not in str(error).lower():
            raise
        # Pressed just as a repeat replaced (deleted) this reminder: say it in a new message.
        await reply(update, note, markup)
    if from_missed:
        await _drop_reminder_buttons(context, message, reminder_messages)


async def _recorded_note(context: BotContext, owner: int, answer: str, recorded: DoseEvent) -> Html:
    """ "Recorded as taken / skipped / snoozed", and what follows from it for the next dose."""
    services = context.services
    pack = context.pack
    user = context.user
    simple = bool(user and user.simple_mode)
    zone = context.zone
    at = services.clock.now()
    if answer == "snooze":
        assert recorded.next_action_at is not None
        at = recorded.next_action_at
    today = context.today
    note = pack.text(
        f"simple.recorded_{answer}" if simple else f"reminder.recorded_{answer}",
        mg=format_mg(recorded.mg),
        due=local_when(pack, recorded.due_at, zone, today),
        time=local_when(pack, at, zone, today),
    )
    if answer == "taken" and not (user and user.reminders_paused):
        # "Recorded as taken" also says when the next dose is, and whether to skip it: a dose
        # recorded late may put the next dose time less than 2 hours after it. Simple mode
        # leaves out the next time, never the "skip it".
        coming = await services.missed.next_dose(owner, zone, services.clock.now())
        if coming is not None and simple and not coming.check.offers:
            note = Html(f"{note}\n{skip_line(pack, coming, zone, today)}")
        elif coming is not None and not simple:
            after = next_dose_text(pack, "missed.next", "next", coming, zone, today)
            note = Html(f"{note}\n{after}")
    if answer == "skip":
        in_a_row = await services.missed.in_a_row(owner, services.clock.now())
        if in_a_row == SEVERAL_MISSED:  # once per run; the next reminder stays quiet about it
            several = pack.text(
                "missed.several",
                count=in_a_row,
                emergency_line=pack.emergency_line(user.region if user else None),
            )
            note = Html(f"{note}\n\n{several}")
    return note


async def _drop_reminder_buttons(
    context: BotContext, pressed: MaybeInaccessibleMessage, reminders: tuple[int | None, ...]
) -> None:
    """The reminder of a dose answered from /missed must not offer Taken any more."""
    if pressed.chat is None:
        return
    for message_id in reminders:
        if message_id is None:
            continue
        with contextlib.suppress(TelegramError):  # already without buttons, or deleted
            await context.bot.edit_message_reply_markup(
                pressed.chat.id, message_id, reply_markup=None
            )


@routes.button(DoseMoreButton)
async def more_pressed(update: Update, context: BotContext, button: DoseMoreButton) -> None:
    """Simple mode's "More": the same reminder message shows Skip and Snooze too (an edit of
    its keyboard, no new message), while the dose is still open to an answer."""
    pack = context.pack
    message = context.query.message
    dose = None
    if message is not None:
        dose = await context.services.doses.get_event(button.event_id, user_id(update))
    if (
        dose is None
        or message is None
        or message.message_id not in (dose.message_id, dose.followup_message_id)
        or dose.status not in ANSWERABLE_STATUSES
    ):
        event("dose_more_refused", update)
        await context.query.answer(pack.text("errors.stale_button"))
        return
    await context.query.answer()
    event("dose_more", update, event=dose.event_id)
    await context.query.edit_message_reply_markup(more_keyboard(pack, dose.event_id))


@routes.button(UndoButton)
async def undo_pressed(update: Update, context: BotContext, button: UndoButton) -> None:
    """Undo a Taken or Skip pressed by mistake, within the Undo window. The confirmation is
    edited back into what may be done about the dose now, asked of the dose-safety check as
    /missed asks it: an Undo after a late Taken must not offer a dose close to the next one."""
    pack = context.pack
    if context.query.message is None:
        await context.query.answer(pack.text("errors.stale_button"))
        return
    undo = await context.services.plans.undo(user_id(update), button.event_id, button.answer_id)
    if undo.outcome is UndoOutcome.TOO_LATE:
        event("dose_undo_too_late", update, event=button.event_id)
        await context.query.answer(pack.text("undo.too_late"), show_alert=True)
        await drop_buttons(context.query)
        return
    if undo.outcome is not UndoOutcome.UNDONE or undo.event is None:
        # Already undone (a double tap: the message may show the dose buttons again by now,
        # so they stay), answered again since, or not this user's.
        event("dose_undo_refused", update, event=button.event_id)
        await context.query.answer(pack.text("errors.stale_button"))
        return
    event("dose_undone", update, event=button.event_id)
    await context.query.answer()
    dose = undo.event
    due = local_when(pack, dose.due_at, context.zone, context.today)
    done = pack.text(f"undo.done_{undo.status}", mg=format_mg(dose.mg), due=due)
    on_reminder = context.query.message.message_id in (dose.message_id, dose.followup_message_id)
    now_text, markup = await _after_undo(context, dose, on_reminder=on_reminder)
    await context.query.edit_message_text(Html(f"{done}\n\n{now_text}"), reply_markup=markup)


async def _after_undo(
    context: BotContext, dose: DoseEvent, *, on_reminder: bool
) -> tuple[Html, InlineKeyboardMarkup | None]:
    """What may be done about the undone dose now, and the buttons that do it (none unless
    the check still offers to take it)."""
    pack = context.pack
    user = context.user
    zone = context.zone
    advice = await context.services.missed.advice(dose.user_id, zone, context.services.clock.now())
    if user is not None and user.reminders_paused:
        return pack.text("undo.paused"), None
    if advice is None or advice.dose is None or advice.dose.event_id != dose.event_id:
        # A later dose time has passed, or the plan changed: this dose is not taken now.
        return pack.text("undo.not_now"), None
    markup = None
    if advice.action is MissedAction.TAKE_NOW:
        # Open again, and the check still offers it: the reminder's own buttons (a /missed
        # answer offers Taken and Skip only, as /missed does).
        simple = bool(user and user.simple_mode)
        if on_reminder:
            markup = dose_keyboard(pack, dose.event_id, simple=simple)
        else:
            markup = missed_keyboard(pack, advice)
    text = missed_advice_text(
        pack,
        advice,
        format_mg(dose.mg),
        zone,
        context.today,
        pack.emergency_line(user.region if user else None),
    )
    return text, markup


def missed_keyboard(pack: ContentPack, advice: MissedAdvice) -> InlineKeyboardMarkup | None:
    """Under /missed's advice (and an Undo's from a /missed answer): Taken only where taking
    it is the advice; Skip wherever the dose is still open."""
    dose = advice.dose
    if dose is None or advice.action in (MissedAction.NOTHING_OPEN, MissedAction.NOTHING_DUE):
        return None
    skip = (pack.text("reminder.button_skip"), DoseButton(dose.event_id, "skip").pack())
    if advice.action is MissedAction.TAKE_NOW:
        taken = (pack.text("reminder.button_taken"), DoseButton(dose.event_id, "taken").pack())
        return keyboard([[taken, skip]])
    return keyboard([[skip]])
