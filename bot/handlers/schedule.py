"""/schedule (guided and typed), /taper, /plan, /today, /missed, /pause, /resume, /tablets."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from telegram import Update

from bot.content import ContentPack, Html
from bot.content.keys import MESSAGES
from bot.context import BotContext
from bot.domain.plans import (
    Plan,
    PlanCheck,
    PlanError,
    big_drop,
    close_times,
    format_mg,
    parse_custom_command,
    parse_mg,
    parse_standard_command,
    parse_taper_command,
    prescriber_checks,
)
from bot.domain.schedule import step_on
from bot.domain.tablets import is_scored_mark, unmakeable_doses
from bot.handlers.common import (
    command_args,
    consented_user,
    drop_buttons,
    event,
    keyboard,
    reply,
    shorten,
)
from bot.handlers.doses import missed_keyboard
from bot.handlers.facts import send_topic
from bot.handlers.report import send_plan_picture
from bot.handlers.routes import Router
from bot.services.plans import Saved
from bot.session import PendingPlan
from bot.storage.doses import Status
from bot.storage.users import User
from bot.views import pump as pump_views
from bot.views.callbacks import PlanButton, ScheduleButton
from bot.views.doses import (
    missed_advice_text,
    next_dose_text,
    plan_summary,
    skip_line,
    today_view,
)
from bot.views.supply import plan_line as supply_plan_line

routes = Router("schedule")

# ----------------------------------------------------------------- /schedule


@routes.command("schedule", consented=True)
async def schedule_command(update: Update, context: BotContext) -> None:
    pack = context.pack
    args = command_args(_text(update))
    if not args:
        await send_schedule_menu(update, context)
        return
    kind, rest = args[0].lower(), args[1:]
    today = context.today
    try:
        if kind == "standard":
            plan = parse_standard_command(rest, today)
        elif kind == "custom":
            plan = parse_custom_command(rest, today)
        else:
            await reply(update, pack.text("schedule.usage"))
            return
    except PlanError as error:
        event("plan_invalid", update, code=error.code)
        await reply(update, plan_error_text(pack, error, usage="schedule.usage"))
        return
    await offer_plan(update, context, plan)


async def send_schedule_menu(update: Update, context: BotContext) -> None:
    """The guided /schedule's first choice (also offered when asked to move the reminders)."""
    pack = context.pack
    await reply(
        update,
        pack.text("schedule.menu"),
        keyboard(
            [
                [(pack.text("schedule.button_standard"), ScheduleButton("standard").pack())],
                [(pack.text("schedule.button_doses"), ScheduleButton("doses").pack())],
                [(pack.text("schedule.button_custom"), ScheduleButton("custom").pack())],
            ]
        ),
    )


@routes.command("taper", consented=True)
async def taper_command(update: Update, context: BotContext) -> None:
    pack = context.pack
    args = command_args(_text(update))
    if not args:
        await reply(update, pack.text("taper.usage"))
        return
    try:
        plan = parse_taper_command(args, context.today)
    except PlanError as error:
        event("plan_invalid", update, code=error.code)
        await reply(update, plan_error_text(pack, error, usage="taper.usage"))
        return
    await offer_plan(update, context, plan)


def plan_error_text(pack: ContentPack, error: PlanError, *, usage: str) -> Html:
    if error.code == "args_missing":
        return Html(f"{pack.text('plan_error.args_missing')}\n{pack.text(usage)}")
    key = f"plan_error.{error.code}"
    allowed = MESSAGES.get(key, frozenset())
    params = {name: shorten(value) for name, value in error.params.items() if name in allowed}
    return pack.text(key, **params)


async def offer_plan(update: Update, context: BotContext, plan: Plan) -> None:
    """Show the plan as understood and ask to save it (with the high-dose check)."""
    services = context.services
    pack = context.pack
    user = context.user
    zone = context.zone
    today = context.today
    current = await services.doses.active_plan(user.user_id) if user else None
    on_today = step_on(current.plan, today) if current else None
    current_daily = on_today[1].daily_mg if on_today else None
    checks = prescriber_checks(plan, current_daily)
    needs_confirmation = bool(checks)
    pending = PendingPlan(plan, needs_confirmation)
    context.session.plan_to_save = pending  # before the summary is sent: no press can beat it
    text = pack.text("schedule.summary", plan=plan_summary(pack, plan, zone, today))
    if plan.start > today and on_today is not None:
        waits = pack.text("schedule.waits_note", start=pack.long_date(plan.start, today))
        text = Html(f"{text}\n\n{waits}")
    if user is not None and user.tablet_mg is not None:
        unmakeable = unmakeable_doses(plan, user.tablet_mg, user.tablet_scored)
        if unmakeable:
            note = pack.text(
                "schedule.tablets_cannot_make",
                strength=format_mg(user.tablet_mg),
                doses=", ".join(f"{format_mg(mg)} mg" for mg in unmakeable),
            )
            text = Html(f"{text}\n\n{note}")
    cancel = (pack.text("schedule.button_cancel"), PlanButton("cancel").pack())
    if needs_confirmation:
        warnings = [_check_text(pack, plan, check, current_daily) for check in checks]
        warnings.append(pack.text("schedule.confirm_needed"))
        text = Html("\n\n".join([text, *warnings]))
        buttons = [
            [(pack.text("schedule.button_confirm_high"), PlanButton("save_high").pack()), cancel]
        ]
    else:
        buttons = [[(pack.text("schedule.button_save"), PlanButton("save").pack()), cancel]]
    event("plan_offered", update, kind=plan.kind, checks=",".join(checks))
    pending.message_id = await reply(update, text, keyboard(buttons))


@routes.callback(PlanButton.pattern())
async def plan_decision_pressed(update: Update, context: BotContext) -> None:
    query = context.query
    services = context.services
    pack = context.pack
    await query.answer()
    pending = _take_pending_plan(context, query.message.message_id if query.message else None)
    await drop_buttons(query)
    user = await consented_user(update, context)
    if user is None:
        return
    button = PlanButton.unpack(query.data)
    if button is None:
        await reply(update, pack.text("schedule.expired"))
        return
    if button.decision == "cancel":
        await reply(update, pack.text("schedule.cancelled"))
        return
    if pending is None:
        await reply(update, pack.text("schedule.expired"))
        return
    confirmed_high = button.decision == "save_high"
    if pending.needs_confirmation and not confirmed_high:
        await reply(update, pack.text("schedule.expired"))
        return
    high_dose = pending.plan.needs_high_dose_confirmation()
    # Issue 21: no supply recorded yet: one line under "Saved" pointing to /supply. Asked
    # before the save, so the confirmation follows the save as quickly as before.
    hint = await _supply_hint(context, user.user_id)
    saved = await services.plans.save(user.user_id, pending.plan, high_dose_confirmed=high_dose)
    if saved is Saved.NOW:
        # On a trip moving gradually: the moves go on in the new plan's gaps.
        await services.travel.replan(user.user_id)
    event("plan_saved", update, kind=pending.plan.kind, confirmed=int(pending.needs_confirmation))
    if saved is Saved.WAITS:
        # The plan starts on a later day: the current reminders go on until then.
        await _reply_with_next_dose(
            update,
            context,
            user,
            "schedule.saved_waiting",
            "next",
            extra=hint,
            start=context.pack.long_date(pending.plan.start, context.today),
        )
        return
    await _reply_with_next_dose(update, context, user, "schedule.saved", "first", extra=hint)


def _check_text(
    pack: ContentPack, plan: Plan, check: PlanCheck, current_daily: Decimal | None
) -> Html:
    if check is PlanCheck.HIGH_DAILY:
        return pack.text("schedule.high_dose", daily=format_mg(plan.max_daily_total()))
    if check is PlanCheck.ABOVE_LABEL_INTAKE:
        return pack.text("schedule.above_label_intake", mg=format_mg(max(plan.all_mg())))
    if check is PlanCheck.FAST_TAPER:
        return pack.text("schedule.fast_taper", days=plan.titration_days())
    if check is PlanCheck.CLOSE_TIMES:
        pair = close_times(plan)
        assert pair is not None
        return pack.text(
            "schedule.close_times",
            first=pair[0].strftime("%H:%M"),
            second=pair[1].strftime("%H:%M"),
        )
    if check is PlanCheck.BIG_DROP_FROM_CURRENT:
        assert current_daily is not None
        return pack.text(
            "schedule.big_drop_current",
            from_mg=format_mg(current_daily),
            to_mg=format_mg(plan.steps[0].daily_mg),
        )
    drop = big_drop(plan)
    assert drop is not None
    earlier, later = drop
    return pack.text(
        "schedule.big_drop",
        from_mg=format_mg(earlier.daily_mg),
        to_mg=format_mg(later.daily_mg),
    )


# ----------------------------------------------------------------- views


@routes.command("plan", consented=True)
async def plan_command(update: Update, context: BotContext) -> None:
    services = context.services
    user = context.patient
    stored = await services.doses.active_plan(user.user_id)
    zone = context.zone
    today = context.today
    # Issue 21: a pump user's next refill date, under the plan (or alone).
    pump = pump_views.plan_line(context.pack, await services.pump.pump(user.user_id), today)
    if stored is None:
        text = context.pack.text("schedule.no_plan")
        await reply(update, Html(f"{text}\n\n{pump}") if pump else text)
        return
    summary = plan_summary(
        context.pack,
        stored.plan,
        zone,
        today,
        high_dose_confirmed=stored.high_dose_confirmed_at is not None,
    )
    # Under the plan: a pump user's next refill, and the day the tablet supply runs out.
    pump_part = f"\n\n{pump}" if pump else ""
    # One projection for the line and the picture (it reads the dose history).
    supply = await services.supply.state(user.user_id)
    projection = supply.projection if supply is not None else None
    line = supply_plan_line(context.pack, projection, today) if supply is not None else None
    supply_part = "" if line is None else f"\n\n{line}"
    await reply(update, Html(f"{summary}{pump_part}{supply_part}"))
    waiting = await services.doses.waiting_plan(user.user_id)
    if waiting is not None:
        pack = context.pack
        await reply(
            update,
            pack.text(
                "plan.waiting",
                start=pack.long_date(waiting.plan.start, today),
                plan=plan_summary(
                    pack,
                    waiting.plan,
                    zone,
                    today,
                    high_dose_confirmed=waiting.high_dose_confirmed,
                ),
            ),
        )
    runs_out = projection.run_out if projection is not None else None
    await send_plan_picture(update, context, user, stored, runs_out)


@routes.command("today", consented=True)
async def today_command(update: Update, context: BotContext) -> None:
    services = context.services
    user = context.patient
    zone = context.zone
    now = services.clock.now()
    local_midnight = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    start = local_midnight
    end = (local_midnight + timedelta(days=1, hours=2)).replace(hour=0)
    events = await services.doses.events_between(user.user_id, start, end)
    today = local_midnight.date()
    stored = await services.doses.active_plan(user.user_id)
    plan_id = stored.plan_id if stored else None
    # A replaced plan's rows of today show only where they hold an intake (it counts).
    todays = [
        item
        for item in events
        if item.local_date == today and (item.plan_id == plan_id or item.status is Status.TAKEN)
    ]
    pack = context.pack
    lines = [today_view(pack, todays, today, zone)]
    if stored is not None and stored.plan.start > today:
        lines.append(pack.text("today.plan_starts", start=pack.long_date(stored.plan.start, today)))
    waiting = await services.doses.waiting_plan(user.user_id)
    if waiting is not None:
        lines.append(pack.text("today.plan_waits", start=pack.long_date(waiting.plan.start, today)))
    if not user.reminders_paused:
        coming = await services.missed.next_dose(user.user_id, zone, now)
        if coming is not None and not coming.check.offers:
            lines.append(skip_line(pack, coming, zone, today))
    await reply(update, Html("\n\n".join(lines)))


@routes.command("missed")
async def missed_command(update: Update, context: BotContext) -> None:
    await send_missed_advice(update, context)


async def send_missed_advice(update: Update, context: BotContext) -> None:
    """What to do about the latest dose, from the user's own schedule when there is one;
    otherwise the general guidance. /missed, and free text saying a dose was forgotten."""
    services = context.services
    user = await context.load_user()
    if user is None:
        await send_topic(update, context, "missed")
        return
    pack = context.pack
    if user.reminders_paused:
        # Without reminders nothing is recorded, so the schedule cannot say what was taken.
        event("missed_advice", update, action="paused")
        await reply(update, Html(f"{pack.text('missed.paused')}\n\n{pack.render_topic('missed')}"))
        return
    now = services.clock.now()
    zone = context.zone
    advice = await services.missed.advice(user.user_id, zone, now)
    if advice is None:
        await send_topic(update, context, "missed")
        return
    event("missed_advice", update, action=advice.action.value, in_a_row=advice.missed_in_a_row)
    dose = advice.dose
    mg = ""
    if dose is not None:
        row = await services.doses.get_event(dose.event_id, user.user_id)
        mg = format_mg(row.mg) if row else ""
    text = missed_advice_text(
        pack,
        advice,
        mg,
        zone,
        context.today,
        pack.emergency_line(user.region),
    )
    await reply(update, text, missed_keyboard(pack, advice))


# ----------------------------------------------------------------- settings


@routes.command("pause", consented=True)
async def pause_command(update: Update, context: BotContext) -> None:
    user = context.patient
    pack = context.pack
    if user.reminders_paused:
        await reply(update, pack.text("pause.already_paused"))
        return
    await context.services.plans.pause(user.user_id)
    event("reminders_paused", update)
    await reply(update, pack.text("pause.paused"))


@routes.command("resume", consented=True)
async def resume_command(update: Update, context: BotContext) -> None:
    user = context.patient
    pack = context.pack
    if not user.reminders_paused:
        await reply(update, pack.text("pause.not_paused"))
        return
    _, unreminded = await context.services.plans.resume(user.user_id)
    event("reminders_resumed", update, not_reminded=unreminded)
    resumed = await context.reload_user()  # no longer paused
    await _reply_with_next_dose(
        update,
        context,
        resumed or user,
        "pause.resumed",
        "next",
        extra=pack.text("pause.not_reminded", count=unreminded) if unreminded else None,
    )


@routes.command("tablets", consented=True)
async def tablets_command(update: Update, context: BotContext) -> None:
    user = context.patient
    pack = context.pack
    args = [arg.lower() for arg in command_args(_text(update))]
    scored = is_scored_mark(args[1:])
    if not args or (len(args) > 1 and not scored):
        await reply(update, pack.text("tablets.usage"))
        return
    try:
        strength = parse_mg(args[0])
    except PlanError:
        await reply(update, pack.text("tablets.usage"))
        return
    if strength > Decimal(100):
        await reply(update, pack.text("tablets.usage"))
        return
    await context.services.users.set_tablets(user.user_id, format_mg(strength), scored)
    event("tablets_set", update)
    suffix = pack.text("tablets.scored_suffix") if scored else ""
    await reply(update, pack.text("tablets.set", strength=format_mg(strength), scored=Html(suffix)))


# ----------------------------------------------------------------- helpers


async def _reply_with_next_dose(
    update: Update,
    context: BotContext,
    user: User,
    key: str,
    placeholder: str,
    *,
    extra: Html | None = None,
    **params: object,
) -> None:
    """``key`` naming the next dose that will be reminded, after the dose-safety check (see
    :func:`bot.views.doses.next_dose_text`), or ``key_no_dose`` if there is none."""
    services = context.services
    zone = services.zones.zone_for(user.timezone)  # ``user`` may be the row read again
    now = services.clock.now()
    coming = (
        None if user.reminders_paused else await services.missed.next_dose(user.user_id, zone, now)
    )
    text = next_dose_text(
        context.pack, key, placeholder, coming, zone, services.zones.today(zone), **params
    )
    await reply(update, Html(f"{text}\n\n{extra}") if extra else text)


def _text(update: Update) -> str | None:
    return update.effective_message.text if update.effective_message else None


def _take_pending_plan(context: BotContext, message_id: int | None) -> PendingPlan | None:
    """The plan waiting on this very summary message; an older summary's buttons save nothing."""
    session = context.session
    pending = session.plan_to_save
    if pending is None or pending.message_id not in (None, message_id):
        return None
    session.plan_to_save = None
    return pending


async def _supply_hint(context: BotContext, user_id: int) -> Html | None:
    """Issue 21: under "Saved", a pointer to /supply for a patient with no supply recorded."""
    if await context.services.supply.has_supply(user_id):
        return None
    return context.pack.text("supply.after_plan")
