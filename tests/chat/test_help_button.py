"""The "🆘 Help now" button: always in reach, answered in every state of the chat (issue 20)."""

from __future__ import annotations

from typing import Any

from bot.content import ContentLibrary
from bot.handlers.freetext import is_help_button
from tests.conftest import RunningBot
from tests.reminder_helpers import press_and_wait_edit, save_plan

USER = 4242
HELP_EN = "🆘 Help now"
HELP_RU = "🆘 Срочно нужна помощь"


def help_keyboard_of(message: dict[str, Any]) -> dict[str, Any]:
    markup: dict[str, Any] = message["reply_markup"]
    assert markup is not None, message
    assert markup["keyboard"] == [[{"text": HELP_EN}]], markup
    return markup


def assert_emergency_answer(text: str, line: str) -> None:
    assert text.startswith("<b>Emergency: when to call for help</b>"), text
    assert line in text
    assert "has a seizure (fit)" in text  # the red-flag signs follow the number
    assert "slow, shallow or difficult breathing" in text


def test_the_label_is_recognised_in_every_language_and_by_its_mark(
    library: ContentLibrary,
) -> None:
    for label in (HELP_EN, HELP_RU, "  🆘   help NOW ", "🆘"):
        assert is_help_button(label, library)
    for other in ("help now", "help", "I need help now", "", "Срочно", "🆘 I want to end it"):
        assert not is_help_button(other, library)


async def test_before_consent_with_the_generic_line(bot: RunningBot) -> None:
    [answer] = await bot.say(USER, HELP_EN)
    assert_emergency_answer(answer, "Call <b>your local emergency number</b>.")
    help_keyboard_of(bot.last_message(USER))
    assert await bot.services.users.get(USER) is None  # nothing stored


async def test_the_russian_label_before_consent_answers_in_russian(bot: RunningBot) -> None:
    bot.api.send_text(USER, HELP_RU, language_code="ru")
    [answer] = await bot.next_messages(USER, 0, 1)
    assert answer.startswith("<b>Экстренная ситуация: когда звонить за помощью</b>")
    assert "Позвоните по <b>местному номеру экстренной помощи</b>." in answer
    markup = bot.last_message(USER)["reply_markup"]
    assert markup["keyboard"] == [[{"text": HELP_RU}]]


async def test_the_mark_with_words_is_read_as_free_text(bot: RunningBot) -> None:
    [answer] = await bot.say(USER, "🆘 I want to hurt myself")
    assert answer.startswith("<b>Please reach out for help now.</b>")  # the self-harm answer


async def test_during_onboarding_and_then_onboarding_goes_on(bot: RunningBot) -> None:
    await bot.say(USER, "/start")
    welcome = bot.last_message(USER)
    await bot.press(USER, welcome["message_id"], "consent:yes", replies=1)
    [answer] = await bot.say(USER, HELP_EN)  # while the time zone is asked
    assert_emergency_answer(answer, "Call <b>your local emergency number</b>.")
    setting, _ask_region = await bot.say(USER, "/timezone Europe/London", replies=2)
    assert "Europe/London" in setting
    help_keyboard_of(bot.messages(USER)[-2])  # "Time zone set" carries the button
    [answer] = await bot.say(USER, HELP_EN)  # while the region is asked
    assert "your local emergency number" in answer
    [done, _repeats] = await bot.press(
        USER, bot.messages(USER)[-2]["message_id"], "region:uk", replies=2
    )
    assert "All set" in done
    help_keyboard_of(bot.messages(USER)[-2])  # the end of onboarding brings the button
    [answer] = await bot.say(USER, HELP_EN)
    assert_emergency_answer(answer, "Emergency number (United Kingdom): <b>999</b>")


async def test_help_and_emergency_carry_the_keyboard(bot: RunningBot) -> None:
    await bot.onboard(USER, region="us")
    await bot.say(USER, "/help")
    help_keyboard_of(bot.last_message(USER))
    markup = help_keyboard_of(bot.last_message(USER))
    assert markup["is_persistent"] is True
    assert markup["resize_keyboard"] is True
    [answer] = await bot.say(USER, "/emergency")
    assert_emergency_answer(answer, "<b>911</b>")
    help_keyboard_of(bot.last_message(USER))


async def test_during_a_check_in_waiting_for_its_note(bot: RunningBot) -> None:
    await bot.onboard(USER, zone="UTC", region="us")
    await save_plan(bot, USER, "/schedule custom today 10:00 10x5")
    await bot.say(USER, "/checkin")
    message = bot.last_message(USER)
    message = await press_and_wait_edit(bot, USER, message, _data(message, "3"))
    for _ in range(4):
        message = await press_and_wait_edit(bot, USER, message, _data(message, "none"))
    [answer] = await bot.say(USER, HELP_EN)  # the note is waiting: the button is not the note
    assert_emergency_answer(answer, "<b>911</b>")
    [done] = await bot.say(USER, "legs a bit stiff in the evening")  # the note, still waiting
    assert "Check-in for step 1 recorded" in done
    checkins = await bot.services.checkins.progress(USER, bot.services.zones.zone_for("UTC"))
    assert checkins is not None


async def test_during_guided_plan_entry_the_guide_goes_on(bot: RunningBot) -> None:
    await bot.onboard(USER, region="us")
    await bot.say(USER, "/schedule")
    await bot.press(USER, bot.last_message(USER)["message_id"], "sched:standard", replies=1)
    asked_start = bot.last_message(USER)
    [answer] = await bot.say(USER, HELP_EN)
    assert_emergency_answer(answer, "<b>911</b>")
    [times] = await bot.press(USER, asked_start["message_id"], "sched:start:today", replies=1)
    assert "sched:times:" in str(bot.last_message(USER)["reply_markup"]), times
    # A plan summary waiting for Save: the button answers, the summary's Save still saves.
    # (11:00: a dose due the moment it is saved would race the confirmation for the chat.)
    [summary] = await bot.say(USER, "/schedule custom today 11:00 10x5")
    summary_id = bot.last_message(USER)["message_id"]
    [answer] = await bot.say(USER, HELP_EN)
    assert "<b>911</b>" in answer
    [saved] = await bot.press(USER, summary_id, "plan:save", replies=1)
    assert "Saved" in saved, summary


async def test_the_menu_has_emergency_near_the_top_in_both_languages(bot: RunningBot) -> None:
    await bot.api.wait_for("setMyCommands", count=2)
    for language in ("", "ru"):
        names = [item["command"] for item in bot.api.commands_for(language_code=language)]
        assert names.index("emergency") == 0, names


def _data(message: dict[str, Any], label: str) -> str:
    markup = message.get("reply_markup") or {}
    return next(
        str(button["callback_data"])
        for row in markup.get("inline_keyboard", [])
        for button in row
        if button["text"] == label
    )
