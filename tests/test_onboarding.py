"""/start, consent, time zone and region, /help, /announcements through the Bot API stand-in."""

from __future__ import annotations

import html
import re

from telegram.ext import CommandHandler

from bot.commands import ADMIN_COMMANDS
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
    [done] = await bot.press(USER, bot.last_message(USER)["message_id"], "region:us", replies=1)
    assert "911" in done
    user = await bot.services.users.get(USER)
    assert user is not None
    assert (user.timezone, user.region) == ("Asia/Kolkata", "us")
    assert user.consented_at == int(bot.clock.now().timestamp())


async def test_returning_user_sees_settings(bot: RunningBot) -> None:
    await bot.onboard(USER, zone="America/New_York", region="us")
    [again] = await bot.say(USER, "/start")
    assert "America/New_York" in again
    assert "United States" in again


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


async def test_shared_location_sets_a_fixed_offset_zone(bot: RunningBot) -> None:
    await bot.onboard(USER)
    before = bot.sent_count(USER)
    bot.api.share_location(USER, 28.6, 77.2)  # New Delhi: longitude 77.2 -> UTC+5
    [reply] = await bot.next_messages(USER, before, 1)
    assert "Etc/GMT-5" in reply
    assert "/timezone Europe/Berlin" in reply


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
    # Grouped under the pack's headings, plan first.
    headings = [line for line in text.splitlines() if line.startswith("<b>")]
    assert headings[1:3] == ["<b>Your plan and reminders</b>", "<b>Your doses</b>"]


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
    assert "/announcements on" in usage
