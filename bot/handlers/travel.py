"""A trip across time zones: "I am travelling", the choice (home times, gradually, at once),
the preview of the next three doses, Save / Cancel (rules: bot.domain.travel; the service:
bot.services.travel)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from telegram import InlineKeyboardMarkup, Update

from bot.content import ContentPack, Html
from bot.context import BotContext
from bot.domain.plans import format_mg
from bot.domain.timezones import TimezoneError, parse_timezone
from bot.domain.travel import Choice, TravelZone
from bot.handlers.common import chunked, drop_buttons, event, keyboard, reply
from bot.handlers.routes import STALE, Router
from bot.services.travel import Preview
from bot.storage.users import User
from bot.views.callbacks import TravelButton, ZoneButton
from bot.views.doses import help_keyboard, local_hhmm, local_when, next_dose_text, wall

routes = Router("travel")

_CHOICES = (Choice.HOME, Choice.GRADUAL, Choice.AT_ONCE)


def travelling_row(pack: ContentPack) -> list[tuple[str, str]]:
    """The "I am travelling" button, under the /timezone reply."""
    return [(pack.text("travel.button"), TravelButton("where").pack())]


async def ask_choice(update: Update, context: BotContext, user: User, zone_name: str) -> None:
    """The question: keep home times, move gradually, or move at once (nothing saved yet)."""
    services = context.services
    pack = context.pack
    zone = parse_timezone(zone_name)
    now = services.clock.now()
    home = services.travel.home(user)
    event("travel_asked", update)
    text = pack.text(
        "travel.ask",
        timezone=zone.key,
        local_time=now.astimezone(zone).strftime("%H:%M"),
        home=home.key,
    )
    buttons = [
        (
            pack.text(f"travel.{choice.value}_button"),
            TravelButton("choose", choice.value, zone.key).pack(),
        )
        for choice in _CHOICES
    ]
    await reply(update, text, keyboard([[button] for button in buttons]))


@routes.button(TravelButton, unconsented=STALE)
async def travel_pressed(update: Update, context: BotContext, button: TravelButton) -> None:
    pack = context.pack
    user = context.patient
    if button.action == "where":
        await context.query.answer()
        await reply(update, pack.text("travel.where"), _zone_keyboard(pack))
        return
    if button.action == "cancel":
        await context.query.answer()
        await drop_buttons(context.query)
        event("travel_cancelled", update)
        await reply(update, pack.text("travel.cancelled"), help_keyboard(pack))
        return
    try:
        local = parse_timezone(button.zone)
    except TimezoneError:
        await context.query.answer(pack.text(STALE))
        return
    choice = Choice(button.choice)
    await context.query.answer()
    await drop_buttons(context.query)
    if button.action == "choose":
        preview = await context.services.travel.preview(user, local, choice)
        await _show_preview(update, context, user, preview, choice, local.key)
        return
    await _save(update, context, user, choice, local.key)


async def _show_preview(
    update: Update,
    context: BotContext,
    user: User,
    preview: Preview | None,
    choice: Choice,
    local: str,
) -> None:
    services = context.services
    pack = context.pack
    now = services.clock.now()
    if preview is None:  # the plan was deleted meanwhile: nothing moves, the zone is set
        await _save(update, context, user, Choice.AT_ONCE, local)
        return
    zone = preview.zone
    today = wall(now, zone).date()
    lines = [
        pack.text(
            "travel.preview_line",
            when=local_when(pack, slot.due_utc, zone, today),
            mg=format_mg(slot.mg),
        )
        for slot in preview.doses
    ]
    doses = Html("\n".join(lines)) if lines else pack.text("travel.preview_none")
    if preview.first is not None and not preview.first.offers:
        # The dose-safety check says the first one will be skipped: the preview says so.
        skip = pack.text("travel.preview_skip", time=local_hhmm(preview.doses[0].due_utc, zone))
        doses = Html(f"{doses}\n\n{skip}")
    event("travel_previewed", update, choice=choice.value)
    text = pack.text(
        "travel.preview",
        choice=_choice_text(pack, choice, zone, local),
        timezone=local,
        doses=doses,
    )
    buttons = [
        (pack.text("travel.save_button"), TravelButton("save", choice.value, local).pack()),
        (pack.text("travel.cancel_button"), TravelButton("cancel").pack()),
    ]
    await reply(update, text, keyboard([buttons]))


def _choice_text(pack: ContentPack, choice: Choice, zone: ZoneInfo, local: str) -> Html:
    if choice is Choice.HOME and isinstance(zone, TravelZone):
        return pack.text("travel.choice_home", home=zone.home.key)
    if choice is Choice.GRADUAL and isinstance(zone, TravelZone) and zone.ends is not None:
        end = pack.day_time(zone.wall(zone.ends))
        return pack.text("travel.choice_gradual", timezone=local, end=end)
    return pack.text("travel.choice_at_once", timezone=local)


async def _save(
    update: Update, context: BotContext, user: User, choice: Choice, local: str
) -> None:
    services = context.services
    pack = context.pack
    zone = await services.travel.save(user, parse_timezone(local), choice)
    event("travel_saved", update, choice=choice.value)
    now = services.clock.now()
    today = wall(now, zone).date()
    text = pack.text("timezone.set", timezone=local, local_time=wall(now, zone).strftime("%H:%M"))
    if isinstance(zone, TravelZone) and zone.choice is Choice.HOME:
        note = pack.text("travel.saved_home", home=zone.home.key)
        key = "travel.next"
    elif isinstance(zone, TravelZone) and zone.ends is not None:
        end = pack.day_time(zone.wall(zone.ends))
        note = pack.text("travel.saved_gradual", timezone=local, end=end)
        key = "travel.next"
    else:
        note = None
        key = "timezone.plan_moves"
    parts = [str(text)]
    if note is not None:
        parts.append(str(note))
    if not user.reminders_paused:
        # The next dose that will really be reminded, after the dose-safety check: at once, a
        # dose taken by the old clock may make the next one by the new clock too close.
        coming = await services.missed.next_dose(user.user_id, zone, now)
        params = {"timezone": local} if key == "timezone.plan_moves" else {}
        parts.append(str(next_dose_text(pack, key, "next", coming, zone, today, **params)))
    await reply(update, Html("\n\n".join(parts)), help_keyboard(pack))


def _zone_keyboard(pack: ContentPack) -> InlineKeyboardMarkup:
    zones = pack.language.zones
    return keyboard(chunked([(pack.zone_city(name), ZoneButton(name).pack()) for name in zones], 3))
