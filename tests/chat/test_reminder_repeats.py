"""Reminders that repeat until answered, and /settings, through the Bot API stand-in with the
fake clock (issue 22).

A repeat replaces the reminder before it (that one is deleted), so the chat's live messages
shrink while the bot's sendMessage calls grow: these tests count calls, not live messages.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.storage.doses import Status
from tests.conftest import RunningBot
from tests.reminder_helpers import save_plan, tap
from tests.said import ending, opening

USER = 22_001
DAY = datetime(2026, 1, 11, tzinfo=UTC)
REPEAT = "has no answer yet"


def _sends(bot: RunningBot, user: int) -> list[str]:
    """Texts of every message the bot sent to ``user`` (sendMessage answered 200), in order."""
    return [
        str(call.params["text"])
        for call in bot.api.calls_of("sendMessage")
        if call.params.get("chat_id") == user and call.status == 200
    ]


async def _at(bot: RunningBot, user: int, instant: datetime, count: int = 1) -> list[str]:
    """Move the clock to ``instant``; the texts of the ``count`` messages sent then (none
    more: the pass that sent them, deletes included, has finished)."""
    before = len(_sends(bot, user))
    bot.clock.set(instant)
    if count:
        await bot.api.wait_for(
            "sendMessage",
            lambda call: call.params.get("chat_id") == user and call.status == 200,
            count=before + count,
        )
    await bot.services.reminders.run_due()
    sent = _sends(bot, user)[before:]
    assert len(sent) == count, sent
    return sent


def _live(bot: RunningBot, user: int) -> list[dict[str, Any]]:
    """The messages in the chat that still carry dose buttons."""
    return [
        message
        for message in bot.api.messages_to(user)
        if message["reply_markup"] and "dose:" in str(message["reply_markup"])
    ]


async def _choose_repeats(bot: RunningBot, user: int, minutes: int) -> str:
    """/settings → the repeats row → a choice; returns the confirmation (the edited question)."""
    [page] = await bot.say(user, "/settings")
    page_message = bot.last_message(user)
    assert "set:repeats" in bot.buttons(page_message).values(), page
    [question] = await bot.press(user, page_message["message_id"], "set:repeats", replies=1)
    asked = bot.last_message(user)
    assert f"rep:{minutes}" in bot.buttons(asked).values(), question
    await bot.press(user, asked["message_id"], f"rep:{minutes}")
    await bot.api.wait_for(
        "editMessageText", lambda call: call.params.get("message_id") == asked["message_id"]
    )
    edited = next(m for m in bot.api.messages_to(user) if m["message_id"] == asked["message_id"])
    return str(edited["text"])


async def _reminded_at_ten(bot: RunningBot, every_minutes: int, second_dose: str) -> datetime:
    """A patient in UTC who chose repeats every ``every_minutes`` minutes, with doses at 10:00
    and ``second_dose``: the 10:00 reminder has just gone out. Returns 10:00."""
    await bot.onboard(USER, zone="UTC")
    await _choose_repeats(bot, USER, every_minutes)
    await save_plan(bot, USER, f"/schedule custom today 10:00,{second_dose} 10x5")
    due = DAY.replace(hour=10)
    await _at(bot, USER, due)
    return due


async def _event(bot: RunningBot, user: int, due: datetime) -> Any:
    [event] = [
        event
        for event in await bot.services.doses.events_between(user, due, due + timedelta(minutes=1))
    ]
    return event


async def test_repeats_every_10_minutes_replace_each_other_and_stop_at_taken(
    bot: RunningBot,
) -> None:
    await bot.onboard(USER, zone="UTC")
    chosen = await _choose_repeats(bot, USER, 10)
    assert "Every 10 minutes until answered" in chosen
    await save_plan(bot, USER, "/schedule custom today 10:00,16:00 10x5")
    due = DAY.replace(hour=10)
    [reminder] = await _at(bot, USER, due)
    assert opening(bot.pack, "reminder.dose") in reminder
    assert "I will ask again at 10:10" in reminder
    first = _live(bot, USER)
    assert len(first) == 1

    [repeat] = await _at(bot, USER, due + timedelta(minutes=10))
    assert "Your <b>10 mg</b> dose due at 10:00 has no answer yet" in repeat
    assert "take it now" in repeat and "Next reminder at 10:20" in repeat
    # The repeat is a new message (it notifies); the reminder before it is deleted.
    [live] = _live(bot, USER)
    assert live["text"] == repeat
    deleted = [call.params["message_id"] for call in bot.api.calls_of("deleteMessage")]
    assert deleted == [first[0]["message_id"]]

    [second] = await _at(bot, USER, due + timedelta(minutes=20))
    assert "Next reminder at 10:30" in second
    [live] = _live(bot, USER)
    assert live["text"] == second
    edited = await tap(bot, USER, live, "taken")
    assert "recorded as taken" in edited["text"]
    assert _live(bot, USER) == []

    # The first answer ends the run: nothing more about this dose.
    for minutes in (30, 40, 60, 120):
        await _at(bot, USER, due + timedelta(minutes=minutes), count=0)
    event = await _event(bot, USER, due)
    assert (event.status, event.repeats_sent) == (Status.TAKEN, 2)
    # No reminder twice: one reminder and two repeats in all.
    assert (
        len([text for text in _sends(bot, USER) if opening(bot.pack, "reminder.dose") in text]) == 1
    )
    assert len([text for text in _sends(bot, USER) if REPEAT in text]) == 2


async def test_repeats_stop_two_hours_before_the_next_dose_with_the_skip_text(
    bot: RunningBot,
) -> None:
    """Doses at 10:00 and 13:00: the check offers the 10:00 dose until 11:00; the repeat due
    at 11:10 is the missed-dose rule's "skip it" (fact sheet 2.6) and the dose is missed."""
    due = await _reminded_at_ten(bot, 10, "13:00")
    next_dose = DAY.replace(hour=13)
    for minutes in range(10, 61, 10):
        instant = due + timedelta(minutes=minutes)
        [repeat] = await _at(bot, USER, instant)
        assert REPEAT in repeat
        # Never inside the skip window: every repeat that offers the dose is 2 hours or more
        # before the next one.
        assert next_dose - instant >= timedelta(hours=2)
        assert len(_live(bot, USER)) == 1
    [last] = await _at(bot, USER, due + timedelta(minutes=70))
    assert "Your next dose is less than 2 hours away (at 13:00)" in last
    assert "<b>skip the missed dose</b>" in last
    assert "Do not take two doses together" in last
    # The skip notice has no buttons, and the last repeat went with its buttons.
    assert _live(bot, USER) == []
    event = await _event(bot, USER, due)
    assert event.status is Status.MISSED
    for minutes in range(80, 180, 10):
        await _at(bot, USER, due + timedelta(minutes=minutes), count=0)
    [reminder] = await _at(bot, USER, next_dose)
    assert opening(bot.pack, "reminder.dose") in reminder and "13:00" in reminder


async def test_snooze_stops_the_repeats_until_the_snoozed_reminder(bot: RunningBot) -> None:
    due = await _reminded_at_ten(bot, 10, "18:00")
    await _at(bot, USER, due + timedelta(minutes=10))
    [live] = _live(bot, USER)
    snoozed = await tap(bot, USER, live, "snooze")
    assert "snoozed" in snoozed["text"]
    await _at(bot, USER, due + timedelta(minutes=20), count=0)
    # The snoozed reminder (15 minutes after the press), then the run starts again.
    [back] = await _at(bot, USER, due + timedelta(minutes=25))
    assert opening(bot.pack, "reminder.snoozed") in back
    assert "I will ask again at 10:35" in back
    [again] = await _at(bot, USER, due + timedelta(minutes=35))
    assert REPEAT in again
    assert len(_live(bot, USER)) == 1


async def test_once_keeps_one_follow_up_and_no_repeats(bot: RunningBot) -> None:
    """The default: today's behaviour, a follow-up after 30 minutes and nothing more."""
    await bot.onboard(USER, zone="UTC")
    await save_plan(bot, USER, "/schedule custom today 10:00,18:00 10x5")
    due = DAY.replace(hour=10)
    await _at(bot, USER, due)
    await _at(bot, USER, due + timedelta(minutes=10), count=0)
    [follow_up] = await _at(bot, USER, due + timedelta(minutes=30))
    assert opening(bot.pack, "reminder.follow_up") in follow_up
    assert len(_live(bot, USER)) == 2  # the follow-up is a second message, as before
    for minutes in (40, 60, 120):
        await _at(bot, USER, due + timedelta(minutes=minutes), count=0)
    assert bot.api.calls_of("deleteMessage") == []


async def test_repeats_in_russian(bot: RunningBot) -> None:
    await bot.onboard(USER, zone="Europe/Moscow", region="ru")
    await bot.say(USER, "/language")
    await bot.press(USER, bot.last_message(USER)["message_id"], "lang:ru", replies=1)
    chosen = await _choose_repeats(bot, USER, 15)
    assert "Повтор напоминаний: <b>Каждые 15 минут до ответа</b>" in chosen
    [page] = await bot.say(USER, "/settings")
    assert "Повтор напоминаний: <b>Каждые 15 минут до ответа</b>" in page
    assert "Язык: <b>Русский</b>" in page
    [summary] = await bot.say(USER, "/schedule custom today 14:00,22:00 10x5")
    assert "план" in summary.lower()
    buttons = bot.buttons(bot.last_message(USER))
    await bot.press(
        USER, bot.last_message(USER)["message_id"], buttons["Сохранить план"], replies=1
    )
    due = DAY.replace(hour=11)  # 14:00 in Moscow
    [reminder] = await _at(bot, USER, due)
    assert "14:15" in reminder
    [repeat] = await _at(bot, USER, due + timedelta(minutes=15))
    assert "Доза <b>10 мг</b>, назначенная на 14:00, всё ещё без ответа" in repeat
    assert "Следующее напоминание — в 14:30" in repeat
    for word in ("напомнил", "понял", "понялa"):
        assert word not in repeat


async def _open_row(bot: RunningBot, page_id: int, key: str) -> tuple[str, dict[str, Any]]:
    """Press a /settings row: the text it opens and that message."""
    [text] = await bot.press(USER, page_id, f"set:{key}", replies=1)
    return text, bot.last_message(USER)


async def _settings_page_says(bot: RunningBot, *lines: str) -> None:
    """/settings, and each of ``lines`` is on the page it sends."""
    [page] = await bot.say(USER, "/settings")
    for line in lines:
        assert line in page, page


async def _settings_page_lists_every_row(bot: RunningBot) -> int:
    """/settings shows each setting as it is and a button a row; returns the page's id."""
    await _settings_page_says(
        bot,
        "Language: <b>English</b>",
        "Time zone: <b>Europe/Berlin</b>",
        "Region (emergency numbers): <b>United Kingdom</b>",
        "Reminder repeats: <b>Once, with one follow-up</b>",
        "Simple mode: <b>off</b>",
        "Caregiver: <b>none linked</b>",
        "Clinic announcements: <b>on</b>",
    )
    page_id: int = bot.last_message(USER)["message_id"]
    assert list(bot.buttons(bot.last_message(USER)).values()) == [
        "set:language",
        "set:timezone",
        "set:region",
        "set:repeats",
        "set:simple",
        "set:caregiver",
        "set:announcements",
    ]
    return page_id


async def _language_zone_and_region_rows(bot: RunningBot, page_id: int) -> None:
    """Language opens the choice; time zone and region are changed from their rows."""
    pack = bot.pack
    text, message = await _open_row(bot, page_id, "language")
    assert text == pack.text("language.choose", current="English")
    assert "lang:ru" in bot.buttons(message).values()
    text, message = await _open_row(bot, page_id, "timezone")
    assert text == pack.text("timezone.usage")
    assert "tz:Europe/London" in bot.buttons(message).values()
    [zone_set] = await bot.press(USER, message["message_id"], "tz:Europe/London", replies=1)
    assert "Europe/London" in zone_set
    text, message = await _open_row(bot, page_id, "region")
    assert text == pack.text("onboarding.ask_region")
    [region_set] = await bot.press(USER, message["message_id"], "region:us", replies=1)
    assert "United States" in region_set


async def _repeats_simple_caregiver_and_announcement_rows(bot: RunningBot, page_id: int) -> None:
    """Repeats every 30 minutes, simple mode on, the caregiver invite, announcements off."""
    pack = bot.pack
    text, message = await _open_row(bot, page_id, "repeats")
    assert text == pack.text("repeats.ask", current=pack.text("repeats.once"))
    assert "✓ Once, with one follow-up" in bot.buttons(message)
    await bot.press(USER, message["message_id"], "rep:30")
    text, message = await _open_row(bot, page_id, "simple")
    assert text == pack.text("simple.state_off")
    assert "simple:on" in bot.buttons(message).values()
    await bot.press(USER, message["message_id"], "simple:on")
    await bot.api.wait_for(
        "editMessageText", lambda call: call.params.get("message_id") == message["message_id"]
    )
    text, message = await _open_row(bot, page_id, "caregiver")
    assert "t.me/" in text  # /caregiver's own invite
    text, message = await _open_row(bot, page_id, "announcements")
    assert text == pack.text("settings.announcements_choose", current="on")
    await bot.press(USER, message["message_id"], "ann:off")
    await bot.api.wait_for(
        "editMessageText", lambda call: call.params.get("message_id") == message["message_id"]
    )


async def test_settings_shows_every_row_and_each_button_opens_its_flow(bot: RunningBot) -> None:
    await bot.onboard(USER, zone="Europe/Berlin", region="uk")
    page_id = await _settings_page_lists_every_row(bot)
    await _language_zone_and_region_rows(bot, page_id)
    await _repeats_simple_caregiver_and_announcement_rows(bot, page_id)
    user = await bot.services.users.get(USER)
    assert user is not None
    assert (user.announcements, user.repeat_minutes, user.region, user.simple_mode) == (
        False,
        30,
        "us",
        True,
    )

    await _settings_page_says(
        bot,
        "Time zone: <b>Europe/London</b>",
        "Region (emergency numbers): <b>United States</b>",
        "Reminder repeats: <b>Every 30 minutes until answered</b>",
        "Clinic announcements: <b>off</b>",
    )


async def test_settings_is_in_help_and_the_command_menu(bot: RunningBot) -> None:
    await bot.onboard(USER)
    [help_text] = await bot.say(USER, "/help")
    assert "/settings" in help_text
    assert "settings" in [command["command"] for command in bot.api.commands_for()]
    assert "settings" in [
        command["command"] for command in bot.api.commands_for(language_code="ru")
    ]


async def test_settings_buttons_refuse_strangers_and_forged_data(bot: RunningBot) -> None:
    await bot.onboard(USER)
    [_page] = await bot.say(USER, "/settings")
    page_id = bot.last_message(USER)["message_id"]
    before = bot.sent_count(USER)
    for data in ("set:nothing", "set:", "rep:7", "rep:-1", "ann:maybe"):
        await bot.press(USER, page_id, data)
    assert bot.sent_count(USER) == before
    user = await bot.services.users.get(USER)
    assert user is not None and user.repeat_minutes == 0 and user.announcements


async def test_a_run_ends_four_hours_after_the_dose_time(bot: RunningBot) -> None:
    """The next dose is 14 hours away: no skip window to stop the run, so it ends 4 hours
    after the dose time, the last repeat saying so; the dose stays answerable."""
    due = await _reminded_at_ten(bot, 30, "23:30")
    for half_hours in range(1, 8):
        [repeat] = await _at(bot, USER, due + timedelta(minutes=30 * half_hours))
        assert "Next reminder at" in repeat
    [last] = await _at(bot, USER, due + timedelta(hours=4))
    assert ending(bot.pack, "repeats.last") in last
    for minutes in range(270, 600, 30):
        await _at(bot, USER, due + timedelta(minutes=minutes), count=0)
    [live] = _live(bot, USER)
    assert "recorded as taken" in (await tap(bot, USER, live, "taken"))["text"]


async def test_repeats_survive_a_restart_without_a_duplicate(start_bot: Any) -> None:
    bot: RunningBot = await start_bot()
    due = await _reminded_at_ten(bot, 10, "16:00")
    await _at(bot, USER, due + timedelta(minutes=10))
    await bot.shutdown()
    bot = await start_bot()  # the same database, the same clock
    await _at(bot, USER, due + timedelta(minutes=15), count=0)
    [repeat] = await _at(bot, USER, due + timedelta(minutes=20))
    assert "Next reminder at 10:30" in repeat
    [live] = _live(bot, USER)  # the first process's repeat was replaced by this one
    assert live["text"] == repeat
    assert len([text for text in _sends(bot, USER) if REPEAT in text]) == 2


async def test_a_repeat_answered_on_its_way_is_taken_back(bot: RunningBot) -> None:
    """Taken pressed on the reminder while its repeat is in flight: the answer stands, the
    pressed message keeps what it recorded, and the repeat (which offers the dose) goes."""
    due = await _reminded_at_ten(bot, 10, "16:00")
    [reminder] = _live(bot, USER)
    before = len(_sends(bot, USER))
    bot.api.answer_delay["sendMessage"] = 1.0  # the repeat reaches Telegram, the answer waits
    bot.clock.set(due + timedelta(minutes=10))
    await bot.api.wait_for_requests("sendMessage", count=bot.api.received["sendMessage"] + 1)
    edited = await tap(bot, USER, reminder, "taken")
    assert "recorded as taken" in edited["text"]
    await bot.api.wait_for(
        "sendMessage",
        lambda call: call.params.get("chat_id") == USER and call.status == 200,
        count=before + 1,
    )
    await bot.services.reminders.run_due()
    bot.api.answer_delay.clear()
    assert REPEAT in _sends(bot, USER)[-1]
    assert _live(bot, USER) == []  # the repeat was deleted
    assert [m["text"] for m in bot.api.messages_to(USER)][-1] == edited["text"]
    event = await _event(bot, USER, due)
    assert (event.status, event.repeat_message_id) == (Status.TAKEN, None)
