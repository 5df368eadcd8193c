"""/checkin, /progress, the check-in buttons, a typed note, and "stay at this dose longer"."""

from __future__ import annotations

from telegram import Update

from bot.context import BotContext
from bot.domain.checkins import MAX_STIFFNESS, Severity, SideEffect
from bot.domain.redflags import Intent, classify
from bot.handlers.common import edit_query_message, event, reply, user_id
from bot.handlers.routes import Router
from bot.storage.checkins import CheckIn
from bot.views.callbacks import CheckInButton, HoldButton
from bot.views.checkins import (
    checkin_done,
    checkin_intro,
    checkin_question,
    hold_days_keyboard,
    progress_view,
)
from bot.views.doses import emergency_reply

routes = Router("checkins")

MAX_NOTE = 1000


@routes.command("checkin", consented=True)
async def checkin_command(update: Update, context: BotContext) -> None:
    pack = context.pack
    started = await context.services.checkins.start(
        context.patient.user_id, context.zone, before_increase=False
    )
    if started is None:
        await reply(update, pack.text("checkin.no_plan"))
        return
    checkin, stored = started
    event("checkin_asked", update, checkin=checkin.checkin_id, step=checkin.step_number)
    text, markup = checkin_question(pack, checkin, checkin_intro(pack, checkin, stored.plan))
    await reply(update, text, markup)


@routes.command("progress", consented=True)
async def progress_command(update: Update, context: BotContext) -> None:
    zone = context.zone
    found = await context.services.checkins.progress(context.patient.user_id, zone)
    if found is None:
        await reply(update, context.pack.text("schedule.no_plan"))
        return
    stored, steps = found
    event("progress_shown", update, steps=len(steps))
    await reply(update, progress_view(context.pack, stored.plan, steps, zone, context.today))


@routes.button(CheckInButton, stale="checkin.expired")
async def checkin_pressed(update: Update, context: BotContext, button: CheckInButton) -> None:
    services = context.services
    pack = context.pack
    owner = user_id(update)
    checkin = await _checkin(context, owner, button.checkin_id, completed=False)
    if checkin is None:
        return
    if button.question != _current_question(checkin):
        # A button of a question already answered (a double tap, or an old message).
        await context.query.answer(pack.text("errors.stale_button"))
        return
    await context.query.answer()
    updated: CheckIn | None = None
    if button.question == "note":
        context.session.checkin_note = None
        await _finish(update, context, checkin, note=None, edit=True)
        return
    if button.question == "stiffness" and button.value.isdigit():
        if int(button.value) <= MAX_STIFFNESS:
            updated = await services.checkins.answer_stiffness(
                checkin.checkin_id, owner, int(button.value)
            )
    elif button.value.isdigit() and int(button.value) in set(Severity):
        updated = await services.checkins.answer_side_effect(
            checkin.checkin_id, owner, SideEffect(button.question), Severity(int(button.value))
        )
    if updated is None:
        await edit_query_message(context.query, pack.text("checkin.expired"))
        return
    event("checkin_answered", update, checkin=checkin.checkin_id, question=button.question)
    if button.question == "stiffness" and await services.simple_mode.is_on(owner):
        # Simple mode asks only the stiffness score: the check-in is done.
        await _finish(update, context, updated, note=None, edit=True)
        return
    if updated.stiffness is not None and updated.unanswered() is None:
        context.session.checkin_note = updated.checkin_id  # a typed message is the note
    text, markup = checkin_question(pack, updated)
    await edit_query_message(context.query, text, markup)


async def take_note(update: Update, context: BotContext) -> bool:
    """A message typed while a check-in waits for its note becomes that note (a red flag in
    it is still answered first). False when no check-in is waiting: ordinary free text."""
    session = context.session
    pending, session.checkin_note = session.checkin_note, None
    message = update.effective_message
    if pending is None or message is None or not message.text:
        return False
    services = context.services
    checkin = await services.checkins.get(int(pending), user_id(update))
    if checkin is None or checkin.completed_at is not None:
        return False
    recognised = classify(message.text, context.pack.intents)
    if recognised.intent is Intent.EMERGENCY:
        user = await context.load_user()
        event("checkin_note_red_flag", update, checkin=checkin.checkin_id)
        await reply(
            update,
            emergency_reply(context.pack, recognised.categories, user.region if user else None),
        )
    await _finish(update, context, checkin, note=message.text.strip()[:MAX_NOTE] or None)
    return True


async def _finish(
    update: Update, context: BotContext, checkin: CheckIn, *, note: str | None, edit: bool = False
) -> None:
    services = context.services
    pack = context.pack
    done = await services.checkins.finish(checkin.checkin_id, checkin.user_id, note)
    query = update.callback_query
    if done is None:
        if edit and query is not None:
            await edit_query_message(query, pack.text("checkin.expired"))
        return
    stored = await services.doses.active_plan(done.user_id)
    increase_ahead = (
        done.before_increase
        and stored is not None
        and stored.plan_id == done.plan_id
        and done.step_number < len(stored.plan.steps)
        and stored.plan.steps[done.step_number].daily_mg
        > stored.plan.steps[done.step_number - 1].daily_mg
    )
    event("checkin_done", update, checkin=done.checkin_id, hold_offered=int(increase_ahead))
    text, markup = checkin_done(pack, done, increase_ahead=increase_ahead)
    if edit and query is not None:
        await edit_query_message(query, text, markup)
    else:
        await reply(update, text, markup)


@routes.button(HoldButton, stale="checkin.expired")
async def hold_pressed(update: Update, context: BotContext, button: HoldButton) -> None:
    services = context.services
    pack = context.pack
    owner = user_id(update)
    checkin = await _checkin(context, owner, button.checkin_id, completed=True)
    if checkin is None:
        return
    await context.query.answer()
    if button.days == "ask":
        await edit_query_message(
            context.query,
            pack.text("checkin.ask_hold_days"),
            hold_days_keyboard(pack, checkin),
        )
        return
    if button.days == "0":
        event("hold_declined", update, checkin=checkin.checkin_id)
        await edit_query_message(context.query, pack.text("checkin.carry_on"))
        return
    stored = await services.checkins.hold(checkin, int(button.days), chosen_by=owner)
    if stored is None:
        await edit_query_message(context.query, pack.text("checkin.expired"))
        return
    await services.plans.regenerate(owner)
    event("step_held", update, checkin=checkin.checkin_id, days=int(button.days))
    next_start = stored.plan.step_start(checkin.step_number + 1)
    text = pack.text(
        "checkin.held",
        step=checkin.step_number,
        days=int(button.days),
        next_start=pack.long_date(next_start, context.today),
    )
    await edit_query_message(context.query, text)


async def _checkin(
    context: BotContext, owner: int, checkin_id: int, *, completed: bool
) -> CheckIn | None:
    """The presser's own check-in, if it is still open (``completed``: already done, as a
    hold button needs); otherwise the press is answered "expired" and None comes back."""
    checkin = await context.services.checkins.get(checkin_id, owner)
    if checkin is None or (checkin.completed_at is not None) != completed:
        await context.query.answer(context.pack.text("checkin.expired"))
        return None
    return checkin


def _current_question(checkin: CheckIn) -> str:
    if checkin.stiffness is None:
        return "stiffness"
    effect = checkin.unanswered()
    return effect.value if effect is not None else "note"
