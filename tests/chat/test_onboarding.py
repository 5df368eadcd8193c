"""/start, consent, time zone and region, /help, /announcements through the Bot API stand-in."""

from __future__ import annotations

import html
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from telegram.ext import CommandHandler

from bot.content import ContentLibrary
from bot.domain.timezones import COMMON_ZONES
from bot.views.commands import ADMIN_COMMANDS
from tests.conftest import RunningBot

USER = 1001


async def test_start_asks_for_consent_and_stores_nothing_before(bot: RunningBot) -> None:
    [welcome] = await bot.say(USER, "/start")
    assert "not medical advice" in welcome
    assert "emergency" in welcome
    assert set(bot.buttons(bot.last_message(USER)).values()) == {
        "consent:yes",
        "consent:no",
        "lang:ru",
    }
    assert await bot.services.users.get(USER) is None


async def test_declining_consent_stores_nothing(bot: RunningBot) -> None:
    await bot.say(USER, "/start")
    message = bot.last_message(USER)
    [declined] = await bot.press(USER, message["message_id"], "consent:no", replies=1)
    assert "stored nothing" in declined
    assert await bot.services.users.get(USER) is None
    assert bot.api.messages_to(USER)[0]["reply_markup"] is None


async def test_full_onboarding_by_buttons(bot: RunningBot) -> None:
    await bot.say(USER, "/start")
    welcome = bot.last_message(USER)
    [ask_zone] = await bot.press(USER, welcome["message_id"], "consent:yes", replies=1)
    assert "time zone" in ask_zone
    zone_buttons = bot.buttons(bot.last_message(USER))
    assert zone_buttons["Kolkata"] == "tz:Asia/Kolkata"  # the city, in the patient's language
    [zone_set, ask_region] = await bot.press(
        USER, bot.last_message(USER)["message_id"], "tz:Asia/Kolkata", replies=2
    )
    # 09:00 UTC is 14:30 in India (UTC+05:30).
    assert "Asia/Kolkata" in zone_set
    assert "14:30" in zone_set
    assert "emergency" in ask_region
    [done, repeats] = await bot.press(
        USER, bot.last_message(USER)["message_id"], "region:us", replies=2
    )
    assert "911" in done
    assert "how should it come back?" in repeats
    user = await bot.services.users.get(USER)
    assert user is not None
    assert (user.timezone, user.region) == ("Asia/Kolkata", "us")
    assert user.consented_at == int(bot.clock.now().timestamp())


async def test_returning_user_sees_settings(bot: RunningBot) -> None:
    await bot.onboard(USER, zone="America/New_York", region="us")
    again, _settings = await bot.say(USER, "/start", replies=2)
    assert "America/New_York" in again
    assert "United States" in again
    # The welcome back carries the help button; the settings buttons come in the next message.
    assert bot.messages(USER)[-2]["reply_markup"]["keyboard"] == [[{"text": "🆘 Help now"}]]
    assert "tz:America/New_York" in bot.buttons(bot.last_message(USER)).values()


async def test_timezone_typed_in_any_case(bot: RunningBot) -> None:
    await bot.onboard(USER)
    [reply] = await bot.say(USER, "/timezone pacific/kiritimati")
    assert "Pacific/Kiritimati" in reply
    assert "23:00" in reply  # 09:00 UTC is 23:00 at UTC+14
    user = await bot.services.users.get(USER)
    assert user is not None
    assert user.timezone == "Pacific/Kiritimati"


async def test_invalid_timezone_explains_with_example(bot: RunningBot) -> None:
    await bot.onboard(USER, zone="Europe/Berlin")
    for bad in ("Mars/Olympus", "Europe/Berlin; DROP TABLE users", "+05:30", "x" * 300):
        [reply] = await bot.say(USER, f"/timezone {bad}")
        assert "/timezone Europe/Berlin" in reply
    user = await bot.services.users.get(USER)
    assert user is not None
    assert user.timezone == "Europe/Berlin"


async def test_timezone_without_argument_shows_usage(bot: RunningBot) -> None:
    await bot.onboard(USER)
    [reply] = await bot.say(USER, "/timezone")
    assert "/timezone Europe/Berlin" in reply


async def test_timezone_before_consent_asks_for_start(bot: RunningBot) -> None:
    [reply] = await bot.say(USER, "/timezone Europe/Berlin")
    assert "/start" in reply
    assert await bot.services.users.get(USER) is None


@pytest.mark.parametrize(
    ("latitude", "longitude", "zone"),
    [
        (54.99, 73.37, "Asia/Omsk"),  # the longitude guess said UTC+5; Omsk is UTC+6
        (59.94, 30.31, "Europe/Moscow"),  # St Petersburg: UTC+2 by longitude, UTC+3 by law
        (40.42, -3.70, "Europe/Madrid"),  # west of Greenwich, on Central European Time
        (54.71, 20.51, "Europe/Kaliningrad"),
        (28.61, 77.21, "Asia/Kolkata"),  # New Delhi: UTC+05:30, no whole-hour guess fits
    ],
)
async def test_shared_location_sets_the_zone_of_the_place(
    bot: RunningBot, latitude: float, longitude: float, zone: str
) -> None:
    await bot.onboard(USER, zone="UTC")
    before = bot.sent_count(USER)
    bot.api.share_location(USER, latitude, longitude)
    [reply] = await bot.next_messages(USER, before, 1)
    assert zone in reply
    # 09:00 UTC on 11 January, in the place's winter time.
    assert bot.clock.now().astimezone(ZoneInfo(zone)).strftime("%H:%M") in reply
    user = await bot.services.users.get(USER)
    assert user is not None
    assert user.timezone == zone


@pytest.mark.parametrize(
    ("latitude", "longitude"), [(40.0, -30.0), (-50.0, -120.0), (123.0, 0.0), (0.0, 181.0)]
)
async def test_a_location_at_sea_or_out_of_range_keeps_the_zone_and_says_so(
    bot: RunningBot, latitude: float, longitude: float
) -> None:
    await bot.onboard(USER, zone="Europe/Berlin")
    before = bot.sent_count(USER)
    bot.api.share_location(USER, latitude, longitude)
    [reply] = await bot.next_messages(USER, before, 1)
    assert reply == bot.pack.text("timezone.location_invalid")
    assert "/timezone Europe/Berlin" in reply
    user = await bot.services.users.get(USER)
    assert user is not None
    assert user.timezone == "Europe/Berlin"


RUSSIAN_ZONES = {
    "Калининград": "Europe/Kaliningrad",
    "Москва": "Europe/Moscow",
    "Самара": "Europe/Samara",
    "Екатеринбург": "Asia/Yekaterinburg",
    "Омск": "Asia/Omsk",
    "Новосибирск": "Asia/Novosibirsk",
    "Красноярск": "Asia/Krasnoyarsk",
    "Иркутск": "Asia/Irkutsk",
    "Владивосток": "Asia/Vladivostok",
}
# West to east, three to a row.
RUSSIAN_BUTTONS = [
    [(city, f"tz:{zone}") for city, zone in list(RUSSIAN_ZONES.items())[start : start + 3]]
    for start in (0, 3, 6)
]


def rows(message: dict[str, Any]) -> list[list[tuple[str, str]]]:
    markup = message.get("reply_markup") or {}
    return [
        [(button["text"], button["callback_data"]) for button in row]
        for row in markup.get("inline_keyboard", [])
    ]


async def test_a_russian_patient_picks_from_the_russian_zones(
    bot: RunningBot, library: ContentLibrary
) -> None:
    russian = library.get("ru")
    await bot.say(USER, "/start", language_code="ru")
    welcome = bot.last_message(USER)
    consent = bot.buttons(welcome)[russian.text("onboarding.consent_button")]
    [ask_zone] = await bot.press(USER, welcome["message_id"], consent, replies=1)
    assert ask_zone == russian.text("onboarding.ask_timezone")
    assert rows(bot.last_message(USER)) == RUSSIAN_BUTTONS
    omsk = bot.buttons(bot.last_message(USER))["Омск"]
    [zone_set, ask_region] = await bot.press(
        USER, bot.last_message(USER)["message_id"], omsk, replies=2
    )
    assert "Asia/Omsk" in zone_set
    assert "15:00" in zone_set  # 09:00 UTC is 15:00 in Omsk (UTC+6)
    assert ask_region == russian.text("onboarding.ask_region")
    user = await bot.services.users.get(USER)
    assert user is not None
    assert user.timezone == "Asia/Omsk"
    # /timezone without a name offers the same nine, and "I am travelling".
    [usage] = await bot.say(USER, "/timezone")
    assert usage == russian.text("timezone.usage")
    assert rows(bot.last_message(USER)) == [
        *RUSSIAN_BUTTONS,
        [(russian.text("travel.button"), "trv:where")],
    ]


async def test_an_english_patient_keeps_the_common_zones(bot: RunningBot) -> None:
    await bot.onboard(USER)
    await bot.say(USER, "/timezone")
    assert [data for row in rows(bot.last_message(USER)) for _, data in row] == [
        *(f"tz:{zone}" for zone in COMMON_ZONES),
        "trv:where",
    ]
    assert [len(row) for row in rows(bot.last_message(USER))] == [3, 3, 3, 1]


async def test_help_lists_every_command_of_the_menu_and_every_handler(bot: RunningBot) -> None:
    await bot.api.wait_for("setMyCommands")
    menu = bot.api.commands_for()
    [text] = await bot.say(USER, "/help")
    listed = [
        (name, html.unescape(summary))
        for name, summary in re.findall(r"^/([a-z]+): (.+)$", text, flags=re.MULTILINE)
    ]
    # Same commands, same order, same descriptions as the menu Telegram shows.
    assert listed == [(item["command"], item["description"]) for item in menu]
    # ...and every command a patient can send is in it (admin commands have their own menu).
    handled = {
        name
        for handlers in bot.application.handlers.values()
        for handler in handlers
        if isinstance(handler, CommandHandler)
        for name in handler.commands
    }
    assert handled - set(ADMIN_COMMANDS) == {name for name, _ in listed}
    for command in ("schedule", "plan", "today", "missed", "taper", "pause", "resume", "tablets"):
        assert f"/{command}:" in text
    # Grouped under the pack's headings: urgent help (/emergency) first, then the plan.
    headings = [line for line in text.splitlines() if line.startswith("<b>")]
    assert headings[1:4] == [
        "<b>Urgent help</b>",
        "<b>Your plan and reminders</b>",
        "<b>Your doses</b>",
    ]
    assert listed[0][0] == "emergency"


async def test_commands_registered_at_start(bot: RunningBot) -> None:
    await bot.api.wait_for("setMyCommands")
    names = {command["command"] for command in bot.api.commands_for()}
    assert {"start", "help", "timezone", "facts", "halflife", "missed", "emergency"} <= names


async def test_announcements_toggle(bot: RunningBot) -> None:
    await bot.onboard(USER)
    [off] = await bot.say(USER, "/announcements off")
    assert "dose reminders are not affected" in off
    user = await bot.services.users.get(USER)
    assert user is not None
    assert not user.announcements
    await bot.say(USER, "/announcements on")
    user = await bot.services.users.get(USER)
    assert user is not None
    assert user.announcements
    [usage] = await bot.say(USER, "/announcements maybe")
    assert bot.pack.text("announcements.usage") in usage
