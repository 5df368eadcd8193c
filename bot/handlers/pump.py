"""/pump (issue 21): pump mode on or off, the clinic's next refill date, the alarm date, the
clinic's phone; the "Refill done" button. Texts: ``pump.*`` (fact sheet 2.13)."""

from __future__ import annotations

from datetime import date

from telegram import Update

from bot.context import BotContext
from bot.domain.refills import DateProblem, parse_date, parse_phone
from bot.handlers.common import command_args, event, reply, user_id
from bot.handlers.onboarding import consented_user
from bot.handlers.routes import Router
from bot.views import pump as pump_views
from bot.views.callbacks import PumpButton, RefillDoneButton
from bot.views.doses import local_when

routes = Router("pump")

_CLEAR = ("none", "-", "нет", "clear")


@routes.command("pump")
async def pump_command(update: Update, context: BotContext) -> None:
    user = await consented_user(update, context)
    if user is None:
        return
    services = context.services
    pack = context.pack
    text = update.effective_message.text if update.effective_message else None
    args = command_args(text)
    zone = services.zones.zone_for(user.timezone)
    today = services.zones.today(zone)
    word = args[0].lower() if args else ""
    rest = " ".join(args[1:])
    if not args:
        pump = await services.pump.pump(user.user_id)
        await reply(
            update,
            pump_views.overview(pack, pump, user.region, today),
            pump_views.overview_keyboard(pack, pump),
        )
        return
    if word in ("on", "off") and len(args) == 1:
        on = word == "on"
        await services.pump.set_mode(user.user_id, on)
        event("pump_mode_set", update, on=int(on))
        await reply(update, pack.text("pump.now_on" if on else "pump.now_off"))
        return
    if word in ("refill", "alarm") and rest:
        if word == "alarm" and rest.lower() in _CLEAR:
            await services.pump.set_alarm_date(user.user_id, None)
            await reply(update, pack.text("pump.alarm_cleared"))
            return
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
            await reply(
                update,
                pack.text("pump.refill_saved", date=when, first=local_when(pack, first, zone)),
            )
        return
    if word == "phone" and rest:
        if rest.lower() in _CLEAR:
            await services.pump.set_clinic_phone(user.user_id, None)
            await reply(update, pack.text("pump.phone_cleared"))
            return
        phone = parse_phone(rest)
        if phone is None:
            await reply(update, pack.text("pump.phone_invalid", value=rest))
            return
        await services.pump.set_clinic_phone(user.user_id, phone)
        await reply(update, pack.text("pump.phone_saved", phone=phone))
        return
    await reply(update, pack.text("pump.usage"))


def _reason(problem: DateProblem) -> str:
    return {"format": "invalid", "past": "past", "far": "far"}[problem.reason]


@routes.button(PumpButton)
async def pump_pressed(update: Update, context: BotContext, button: PumpButton) -> None:
    query = update.callback_query
    assert query is not None
    pack = context.pack
    on = button.choice == "on"
    if not await context.services.pump.set_mode(user_id(update), on):
        await query.answer(pack.text("onboarding.need_consent"))
        return
    await query.answer()
    event("pump_mode_set", update, on=int(on))
    await reply(update, pack.text("pump.now_on" if on else "pump.now_off"))


@routes.button(RefillDoneButton)
async def refill_done_pressed(
    update: Update, context: BotContext, button: RefillDoneButton
) -> None:
    query = update.callback_query
    assert query is not None
    pack = context.pack
    try:
        day: date | None = date.fromisoformat(button.refill_on)
    except ValueError:
        day = None
    if day is None:
        await query.answer(pack.text("errors.stale_button"))
        return
    await query.answer()
    services = context.services
    if not await services.pump.refill_done(user_id(update), day):
        await reply(update, pack.text("pump.done_stale"))
        return
    event("pump_refill_done", update)
    user = await services.users.get(user_id(update))
    today = services.zones.today(services.zones.zone_for(user.timezone if user else None))
    await reply(update, pack.text("pump.done_ask_next", date=pack.long_date(day, today)))
