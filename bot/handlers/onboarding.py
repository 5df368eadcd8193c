"""/start (language, consent, time zone, region), /language, /timezone, shared locations, /help,
/announcements."""

from __future__ import annotations

import asyncio
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import filters

from bot.content import ContentPack, Html
from bot.context import BotContext, Services
from bot.domain.timezones import TimezoneError, parse_timezone, zone_at
from bot.domain.travel import local_name
from bot.handlers import repeats, travel
from bot.handlers.common import (
    chunked,
    command_args,
    consented_user,
    drop_buttons,
    event,
    keyboard,
    reply,
    shorten,
    user_id,
)
from bot.handlers.routes import Router
from bot.storage.users import User
from bot.views.callbacks import ConsentButton, LanguageButton, RegionButton, ZoneButton
from bot.views.commands import PATIENT_COMMAND_GROUPS, describe
from bot.views.doses import help_keyboard, next_dose_text

routes = Router("onboarding")


@routes.command("start")
async def start(update: Update, context: BotContext) -> None:
    services = context.services
    pack = context.pack
    user = context.user
    event("start", update, returning=bool(user and user.has_consented))
    if user and not user.has_consented and user.unreachable_at is not None:
        # A caregiver (a row without consent) who had blocked the bot presses Restart.
        await services.users.mark_reachable(user.user_id)
    if user and user.has_consented:
        if user.unreachable_at is not None:
            # They had blocked the bot and are back (Telegram's "Restart" sends /start).
            await services.users.mark_reachable(user.user_id)
            await services.plans.regenerate(user.user_id)
            event("user_reachable_again", update)
        # The help button rides on the welcome back (a patient from before the button, or one
        # who cleared the chat, gets it again); the settings buttons follow in their own
        # message, as a message with inline buttons cannot carry a reply keyboard.
        await reply(
            update,
            pack.text(
                "onboarding.welcome_back",
                timezone=_zone_name(user, services),
                region=pack.region(user.region).name,
            ),
            help_keyboard(pack),
        )
        await reply(update, pack.text("onboarding.change_settings"), _settings_keyboard(context))
        return
    await reply(update, pack.text("onboarding.welcome"), _welcome_keyboard(context, pack))


def _welcome_keyboard(context: BotContext, pack: ContentPack) -> InlineKeyboardMarkup:
    """Agree / Not now in the welcome's language, and a switch to each other language. Before
    consent nothing is stored, so the chosen language rides on the consent button."""
    chosen = pack.language.code if pack.language.code != context.language else ""
    return keyboard(
        [
            [
                (pack.text("onboarding.consent_button"), ConsentButton("yes", chosen).pack()),
                (pack.text("onboarding.decline_button"), ConsentButton("no", chosen).pack()),
            ],
            _language_buttons(context, exclude=pack.language.code),
        ]
    )


def _language_buttons(context: BotContext, *, exclude: str | None = None) -> list[tuple[str, str]]:
    library = context.services.content.library
    return [
        (pack.language.name, LanguageButton(code).pack())
        for code, pack in library.packs.items()
        if code != exclude
    ]


@routes.command("language")
async def language_command(update: Update, context: BotContext) -> None:
    """/language: the languages the bot speaks, as buttons; works before consent too."""
    pack = context.pack
    await reply(
        update,
        pack.text("language.choose", current=pack.language.name),
        keyboard(chunked(_language_buttons(context), 2)),
    )


@routes.button(LanguageButton)
async def language_pressed(update: Update, context: BotContext, button: LanguageButton) -> None:
    services = context.services
    library = services.content.library
    if button.language not in library.packs:
        await context.query.answer(context.pack.text("errors.stale_button"))
        return
    await context.query.answer()
    chosen = library.get(button.language)
    user = context.user
    if user is None or not user.has_consented:
        # Nothing may be stored yet: show the welcome again, in the chosen language.
        event("welcome_language_switched", update, language=button.language)
        await drop_buttons(context.query)
        await reply(update, chosen.text("onboarding.welcome"), _welcome_keyboard(context, chosen))
        return
    await services.languages.choose(user.user_id, button.language)
    event("language_set", update, language=button.language)
    await drop_buttons(context.query)
    # The help button again, now labelled in the chosen language.
    await reply(
        update, chosen.text("language.set", language=chosen.language.name), help_keyboard(chosen)
    )


@routes.button(ConsentButton)
async def consent_pressed(update: Update, context: BotContext, button: ConsentButton) -> None:
    services = context.services
    pack = context.pack
    await context.query.answer()
    if button.choice == "no":
        event("consent_declined", update)
        await drop_buttons(context.query)
        # Nothing is stored, but the help button is no stored data: it is theirs too.
        await reply(update, pack.text("onboarding.declined"), help_keyboard(pack))
        return
    library = services.content.library
    language = button.language if button.language in library.packs else context.language
    await services.users.record_consent(user_id(update), services.clock.now(), language)
    services.languages.remember(user_id(update), language)
    event("consent_given", update, language=language)
    await drop_buttons(context.query)
    await reply(update, context.pack.text("onboarding.ask_timezone"), _zone_keyboard(context.pack))


@routes.callback(ZoneButton.pattern())
async def zone_pressed(update: Update, context: BotContext) -> None:
    query = context.query
    user = await consented_user(update, context)
    if user is None:
        await query.answer()
        return
    button = ZoneButton.unpack(query.data)
    try:
        zone = parse_timezone(button.zone if button else "")
    except TimezoneError:
        await query.answer(context.pack.text("errors.stale_button"))
        return
    await query.answer()
    await drop_buttons(query)
    await _apply_zone(update, context, user, zone, key="timezone.set")


@routes.command("timezone", consented=True)
async def timezone_command(update: Update, context: BotContext) -> None:
    pack = context.pack
    args = command_args(update.effective_message.text if update.effective_message else None)
    if not args:
        await ask_timezone(update, context)
        return
    try:
        zone = parse_timezone(" ".join(args))
    except TimezoneError:
        event("timezone_invalid", update)
        await reply(update, pack.text("timezone.invalid", value=shorten(" ".join(args), 64)))
        return
    await _apply_zone(update, context, context.patient, zone, key="timezone.set")


async def ask_timezone(update: Update, context: BotContext) -> None:
    """How to set the time zone, with the language's zone buttons (also from /settings). "I am
    travelling" under the zones: the question of how the doses move comes with the zone
    chosen, whichever way it is given."""
    markup = keyboard([*_zone_buttons(context.pack), travel.travelling_row(context.pack)])
    await reply(update, context.pack.text("timezone.usage"), markup)


async def ask_region(update: Update, context: BotContext) -> None:
    """The region buttons (also from /settings); a press sets it (``region_pressed``)."""
    await reply(update, context.pack.text("onboarding.ask_region"), _region_keyboard(context))


@routes.message(filters.ChatType.PRIVATE & filters.LOCATION)
async def location_shared(update: Update, context: BotContext) -> None:
    pack = context.pack
    user = await consented_user(update, context)
    if user is None:
        return
    message = update.effective_message
    location = message.location if message else None
    # In a thread: the first lookup of the process loads the zone boundaries (tens of ms).
    name = (
        await asyncio.to_thread(zone_at, location.latitude, location.longitude)
        if location
        else None
    )
    if name is None:  # out of range, at sea, or a zone this machine does not have
        await reply(update, pack.text("timezone.location_invalid"))
        return
    await _apply_zone(update, context, user, ZoneInfo(name), key="timezone.from_location")


async def _apply_zone(
    update: Update, context: BotContext, user: User, zone: ZoneInfo, *, key: str
) -> None:
    services = context.services
    pack = context.pack
    if await services.travel.asks(user, zone):
        # A plan's doses would move: the patient chooses how (home times, gradually, at
        # once) and sees the next doses before anything is saved.
        await travel.ask_choice(update, context, user, zone.key)
        return
    await services.users.set_timezone(user.user_id, zone.key)
    await services.plans.regenerate(user.user_id)
    event("timezone_set", update)
    now = services.clock.now()
    local_time = now.astimezone(zone).strftime("%H:%M")
    text = pack.text(key, timezone=zone.key, local_time=local_time)
    if not user.reminders_paused:
        # A plan's dose times are clock times: they stay 08:00 and 20:00, now in this zone.
        # The reply names the dose that will actually be reminded, after the safety check: a
        # dose taken by the old clock may make the next one by the new clock too close.
        coming = await services.missed.next_dose(user.user_id, zone, now)
        if coming is not None:
            note = next_dose_text(
                pack,
                "timezone.plan_moves",
                "next",
                coming,
                zone,
                now.astimezone(zone).date(),
                timezone=zone.key,
            )
            text = Html(f"{text}\n\n{note}")
    await reply(update, text, help_keyboard(pack))
    if user.region is None:
        await reply(update, pack.text("onboarding.ask_region"), _region_keyboard(context))


@routes.callback(RegionButton.pattern())
async def region_pressed(update: Update, context: BotContext) -> None:
    query = context.query
    services = context.services
    pack = context.pack
    user = await consented_user(update, context)
    button = RegionButton.unpack(query.data)
    region_key = button.region if button else ""
    if user is None:
        await query.answer()
        return
    if region_key not in pack.regions:
        await query.answer(pack.text("errors.stale_button"))
        return
    await query.answer()
    await drop_buttons(query)
    await services.users.set_region(user.user_id, region_key)
    event("region_set", update, region=region_key)
    if user.region is None:
        text = pack.text(
            "onboarding.done",
            timezone=_zone_name(user, services),
            region=pack.region(region_key).name,
            emergency_line=pack.emergency_line(region_key),
        )
    else:
        text = pack.text(
            "region.set",
            region=pack.region(region_key).name,
            emergency_line=pack.emergency_line(region_key),
        )
    # The end of onboarding (and a region changed later) brings the help button: a plain
    # message, unlike the welcome, time-zone and region questions with their inline buttons.
    await reply(update, text, help_keyboard(pack))
    if user.region is None:
        # The last question of onboarding: how reminders repeat ("once" until answered).
        await repeats.ask_repeats(update, context, first=True)


@routes.command("help", loads_user=False)
async def help_command(update: Update, context: BotContext) -> None:
    """Every patient command, grouped, from the table that also feeds the command menu."""
    pack = context.pack
    sections = []
    for group, names in PATIENT_COMMAND_GROUPS:
        lines = [pack.text(f"help.group_{group}")]
        for name in names:
            lines.append(pack.text("help.line", command=name, summary=describe(pack, name)))
        sections.append("\n".join(lines))
    await reply(
        update, pack.text("help.text", commands=Html("\n\n".join(sections))), help_keyboard(pack)
    )


@routes.command("announcements", consented=True)
async def announcements_command(update: Update, context: BotContext) -> None:
    args = [arg.lower() for arg in command_args(update.effective_message.text)]  # type: ignore[union-attr]
    if args not in (["on"], ["off"]):
        await reply(update, context.pack.text("announcements.usage"))
        return
    await reply(update, await set_announcements(update, context, args == ["on"]))


async def set_announcements(update: Update, context: BotContext, enabled: bool) -> Html:
    """Announcements on or off for the (consented) sender; the confirmation to show."""
    await context.services.users.set_announcements(context.patient.user_id, enabled)
    event("announcements_set", update, enabled=enabled)
    return context.pack.text("announcements.on" if enabled else "announcements.off")


def _zone_name(user: User, services: Services) -> str:
    return local_name(user.timezone) if user.timezone else services.settings.default_timezone.key


def _zone_buttons(pack: ContentPack) -> list[list[tuple[str, str]]]:
    """The language's zones (``zones`` in its language.toml), three to a row, named by city."""
    zones = pack.language.zones
    return chunked([(pack.zone_city(name), ZoneButton(name).pack()) for name in zones], 3)


def _region_buttons(context: BotContext) -> list[list[tuple[str, str]]]:
    regions = context.pack.regions.items()
    return chunked([(region.name, RegionButton(key).pack()) for key, region in regions], 2)


def _zone_keyboard(pack: ContentPack) -> InlineKeyboardMarkup:
    return keyboard(_zone_buttons(pack))


def _region_keyboard(context: BotContext) -> InlineKeyboardMarkup:
    return keyboard(_region_buttons(context))


def _settings_keyboard(context: BotContext) -> InlineKeyboardMarkup:
    languages = _language_buttons(context, exclude=context.language)
    return keyboard(_zone_buttons(context.pack) + _region_buttons(context) + [languages])
