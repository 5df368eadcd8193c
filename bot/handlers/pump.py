"""/pump (issue 21): pump mode on or off, the clinic's next refill date, the alarm date, the
clinic's phone; the "Refill done" button. Texts: ``pump.*`` (fact sheet 2.13)."""

from __future__ import annotations

from datetime import date

from telegram import Update

from bot.context import BotContext
from bot.domain.refills import DateProblem, parse_date, parse_phone
from bot.handlers.common import command_args, event, reply, user_id
from bot.handlers.routes import Router
from bot.views import pump as pump_views
from bot.views.callbacks import PumpButton, RefillDoneButton
from bot.views.doses import local_when

routes = Router("pump")

_CLEAR = ("none", "-", "нет", "clear")


@routes.command("pump", consented=True)
async def pump_command(update: Update, context: BotContext) -> None:
    """``/pump``: the overview; ``on|off``, ``refill <date>``, ``alarm <date>|none``,
    ``phone <number>|none`` change one thing."""
    pack = context.pack
    text = update.effective_message.text if update.effective_message else None
    args = command_args(text)
    word = args[0].lower() if args else ""
    rest = " ".join(args[1:])
    if not args:
        pump = await context.services.pump.pump(context.patient.user_id)
        await reply(
            update,
            pump_views.overview(pack, pump, context.patient.region, context.today),
            pump_views.overview_keyboard(pack, pump),
        )
    elif word in ("on", "off") and len(args) == 1:
        await _set_mode(update, context, word == "on")
    elif word == "alarm" and rest.lower() in _CLEAR:
        await context.services.pump.set_alarm_date(context.patient.user_id, None)
        await reply(update, pack.text("pump.alarm_cleared"))
    elif word in ("refill", "alarm") and rest:
        await _set_date(update, context, word, rest)
    elif word == "phone" and rest:
        await _set_phone(update, context, rest)
    else:
        await reply(update, pack.text("pump.usage"))


async def _set_mode(update: Update, context: BotContext, on: bool) -> None:
    await context.services.pump.set_mode(user_id(update), on)
    event("pump_mode_set", update, on=int(on))
    await reply(update, context.pack.text("pump.now_on" if on else "pump.now_off"))


async def _set_date(update: Update, context: BotContext, word: str, rest: str) -> None:
    """``/pump refill <date>`` (the next refill at the clinic) or ``/pump alarm <date>``."""
    services = context.services
    pack = context.pack
    user = context.patient
    today = context.today
    try:
        # The alarm date may already be behind the patient (it is the clinic's figure).
        day = parse_date(rest, today, allow_past=word == "alarm")
    except DateProblem as problem:
        event("pump_date_refused", update, reason=problem.reason)
        await reply(update, pack.text(f"pump.date_{_reason(problem)}", value=rest))
        return
    if word == "alarm":
        await services.pump.set_alarm_date(user.user_id, day)
        await reply(update, pack.text("pump.alarm_saved", date=pack.long_date(day, today)))
        return
    first = await services.pump.set_refill(user.user_id, day)
    event("pump_refill_set", update)
    when = pack.long_date(day, today)
    if first is None:
        await reply(update, pack.text("pump.refill_saved_none_left", date=when))
    else:
        first_dose = local_when(pack, first, context.zone)
        await reply(update, pack.text("pump.refill_saved", date=when, first=first_dose))


async def _set_phone(update: Update, context: BotContext, rest: str) -> None:
    """``/pump phone <number>`` (the clinic's), or ``none`` to clear it."""
    pump = context.services.pump
    pack = context.pack
    if rest.lower() in _CLEAR:
        await pump.set_clinic_phone(context.patient.user_id, None)
        await reply(update, pack.text("pump.phone_cleared"))
        return
    phone = parse_phone(rest)
    if phone is None:
        await reply(update, pack.text("pump.phone_invalid", value=rest))
        return
    await pump.set_clinic_phone(context.patient.user_id, phone)
    await reply(update, pack.text("pump.phone_saved", phone=phone))


def _reason(problem: DateProblem) -> str:
    return {"format": "invalid", "past": "past", "far": "far"}[problem.reason]


@routes.button(PumpButton)
async def pump_pressed(update: Update, context: BotContext, button: PumpButton) -> None:
    on = button.choice == "on"
    if not await context.services.pump.set_mode(user_id(update), on):
        await context.query.answer(context.pack.text("onboarding.need_consent"))
        return
    await context.query.answer()
    event("pump_mode_set", update, on=int(on))
    await reply(update, context.pack.text("pump.now_on" if on else "pump.now_off"))


@routes.button(RefillDoneButton)
async def refill_done_pressed(
    update: Update, context: BotContext, button: RefillDoneButton
) -> None:
    pack = context.pack
    try:
        day: date | None = date.fromisoformat(button.refill_on)
    except ValueError:
        day = None
    if day is None:
        await context.query.answer(pack.text("errors.stale_button"))
        return
    await context.query.answer()
    if not await context.services.pump.refill_done(user_id(update), day):
        await reply(update, pack.text("pump.done_stale"))
        return
    event("pump_refill_done", update)
    await reply(update, pack.text("pump.done_ask_next", date=pack.long_date(day, context.today)))
