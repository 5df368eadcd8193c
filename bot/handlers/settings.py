"""/settings: every setting in one place, one row each, and a button to change it.

The page is built from ``ROWS``, one entry per setting: its key (the row's button is
``set:<key>``, its texts ``settings.label_<key>`` and ``settings.button_<key>``), how to say its
current value, and what its button opens: the setting's own command or flow, so there is one
way to change each thing. A new setting (simple mode, supply) is one more entry here and its
two texts in each language of the pack.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from telegram import InlineKeyboardMarkup, Update

from bot.content import ContentPack, Html
from bot.context import BotContext
from bot.handlers import caregivers, onboarding, repeats
from bot.handlers.common import edit_query_message, event, keyboard, reply
from bot.handlers.routes import STALE, Router
from bot.storage.users import User
from bot.views.callbacks import AnnouncementsButton, SettingsButton
from bot.views.doses import simple_mode_keyboard

routes = Router("settings")


async def _language(context: BotContext, user: User) -> str:
    return context.pack.language.name


async def _timezone(context: BotContext, user: User) -> str:
    # A trip is stored as its spec (bot/domain/travel.py); the page names the local zone.
    return context.zone.key


async def _region(context: BotContext, user: User) -> str:
    if user.region is None:
        return context.pack.text("settings.not_set")
    return context.pack.region(user.region).name


async def _repeats(context: BotContext, user: User) -> str:
    return repeats.repeat_label(context.pack, user.repeat_minutes)


async def _simple(context: BotContext, user: User) -> str:
    return context.pack.text("settings.on" if user.simple_mode else "settings.off")


async def _caregiver(context: BotContext, user: User) -> str:
    links = await context.services.caregivers.caregivers_of(user.user_id)
    if not links:
        return context.pack.text("settings.caregiver_none")
    return ", ".join(link.caregiver_name for link in links)


async def _announcements(context: BotContext, user: User) -> str:
    return context.pack.text("settings.on" if user.announcements else "settings.off")


async def _open_language(update: Update, context: BotContext, user: User) -> None:
    await onboarding.language_command(update, context)


async def _open_timezone(update: Update, context: BotContext, user: User) -> None:
    await onboarding.ask_timezone(update, context)


async def _open_region(update: Update, context: BotContext, user: User) -> None:
    await onboarding.ask_region(update, context)


async def _open_repeats(update: Update, context: BotContext, user: User) -> None:
    await repeats.ask_repeats(update, context)


async def _open_simple(update: Update, context: BotContext, user: User) -> None:
    """What /simple shows: the state and the button that switches it."""
    on = user.simple_mode
    state = context.pack.text(f"simple.state_{'on' if on else 'off'}")
    await reply(update, state, simple_mode_keyboard(context.pack, on))


async def _open_caregiver(update: Update, context: BotContext, user: User) -> None:
    await caregivers.caregiver_command(update, context, typed=False)


async def _open_announcements(update: Update, context: BotContext, user: User) -> None:
    """What /announcements on|off does, as two buttons."""
    pack = context.pack
    now = pack.text("settings.on" if user.announcements else "settings.off")
    await reply(
        update,
        pack.text("settings.announcements_choose", current=now),
        keyboard(
            [
                [
                    (pack.text("settings.button_on"), AnnouncementsButton("on").pack()),
                    (pack.text("settings.button_off"), AnnouncementsButton("off").pack()),
                ]
            ]
        ),
    )


Value = Callable[[BotContext, User], Awaitable[str]]
Opener = Callable[[Update, BotContext, User], Awaitable[None]]


@dataclass(frozen=True)
class SettingRow:
    key: str  # set:<key>; texts settings.label_<key> and settings.button_<key>
    value: Value  # the current value, in the patient's language
    open: Opener  # what its button opens: the setting's own command or flow


ROWS: tuple[SettingRow, ...] = (
    SettingRow("language", _language, _open_language),
    SettingRow("timezone", _timezone, _open_timezone),
    SettingRow("region", _region, _open_region),
    SettingRow("repeats", _repeats, _open_repeats),
    SettingRow("simple", _simple, _open_simple),
    SettingRow("caregiver", _caregiver, _open_caregiver),
    SettingRow("announcements", _announcements, _open_announcements),
)
_BY_KEY = {row.key: row for row in ROWS}


async def settings_page(context: BotContext, user: User) -> tuple[Html, InlineKeyboardMarkup]:
    """The page: one line per row with its current value, one button per row."""
    pack: ContentPack = context.pack
    lines = [pack.text("settings.header")]
    for row in ROWS:
        lines.append(
            pack.text(
                "settings.line",
                label=pack.text(f"settings.label_{row.key}"),
                value=await row.value(context, user),
            )
        )
    buttons = [
        [(str(pack.text(f"settings.button_{row.key}")), SettingsButton(row.key).pack())]
        for row in ROWS
    ]
    return Html("\n".join(lines)), keyboard(buttons)


@routes.command("settings", consented=True)
async def settings_command(update: Update, context: BotContext) -> None:
    text, markup = await settings_page(context, context.patient)
    event("settings_shown", update)
    await reply(update, text, markup)


@routes.button(SettingsButton, unconsented=STALE)
async def settings_pressed(update: Update, context: BotContext, button: SettingsButton) -> None:
    """A row's button: open that setting's own flow (the page stays as it is)."""
    row = _BY_KEY.get(button.key)
    if row is None:
        await context.query.answer(context.pack.text(STALE))
        return
    await context.query.answer()
    event("settings_opened", update, row=row.key)
    await row.open(update, context, context.patient)


@routes.button(AnnouncementsButton, unconsented=STALE)
async def announcements_pressed(
    update: Update, context: BotContext, button: AnnouncementsButton
) -> None:
    """On or Off under the announcements row: as ``/announcements on|off``."""
    await context.query.answer()
    text = await onboarding.set_announcements(update, context, button.choice == "on")
    await edit_query_message(context.query, text)
