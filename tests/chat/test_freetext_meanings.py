"""What the bot does with each meaning of free text (issue 20), through the Bot API stand-in.

The recognition engine (bot/domain/understanding.py) is rebuilt elsewhere; today it produces
only EMERGENCY, RAN_OUT, WANTS_TO_STOP and OTHER. The other meanings are stood in for by
replacing ``understand`` in the handler with one that returns the Reading a test needs.
"""

from __future__ import annotations

import logging

import pytest

from bot.content import ContentLibrary, ContentPack
from bot.domain.lexicon import Lexicon
from bot.domain.redflags import Category
from bot.domain.understanding import Meaning, Reading
from bot.handlers import freetext
from bot.storage.doses import Status
from tests.conftest import RunningBot
from tests.reminder_helpers import (
    advance_until_messages,
    at,
    only_undo,
    press_and_wait_edit,
    save_plan,
)

USER = 6006


def reads_as(monkeypatch: pytest.MonkeyPatch, reading: Reading) -> None:
    """Every free text now means ``reading`` (a stand-in for the engine being rebuilt)."""

    def understand(text: str, rules: Lexicon) -> Reading:
        return reading

    monkeypatch.setattr(freetext, "understand", understand)


async def patient_with_a_plan(bot: RunningBot) -> None:
    """In UTC, in the UK, with doses at 12:00 and 20:00 from today."""
    await bot.onboard(USER, zone="UTC", region="uk")
    await save_plan(bot, USER, "/schedule custom today 12:00,20:00 10x10")


async def noon_dose_unanswered(bot: RunningBot) -> None:
    """The 12:00 reminder went out 20 minutes ago and has no answer."""
    await patient_with_a_plan(bot)
    await advance_until_messages(bot, USER, at(12))
    bot.clock.set(at(12, 20))


# ----------------------------------------------------------------- units


def test_the_question_line_names_the_region_number_or_the_local_one(
    library: ContentLibrary,
) -> None:
    english, russian = library.get("en"), library.get("ru")
    assert freetext.question_now_line(english, "eu") == "If this is happening now, call <b>112</b>."
    assert freetext.question_now_line(english, "us") == "If this is happening now, call <b>911</b>."
    assert freetext.question_now_line(english, None) == (
        "If this is happening now, call your local emergency number."
    )
    assert freetext.question_now_line(russian, "ru") == (
        "Если это происходит прямо сейчас, звоните <b>112</b>."
    )
    assert "местному номеру" in freetext.question_now_line(russian, "other")


def test_every_meaning_has_an_answer() -> None:
    handled_before = {Meaning.EMERGENCY, Meaning.RAN_OUT, Meaning.WANTS_TO_STOP, Meaning.OTHER}
    assert set(freetext._ANSWERS) == set(Meaning) - handled_before


def test_the_ask_back_buttons(pack: ContentPack) -> None:
    markup = freetext.ask_back_keyboard(pack)
    labels = [button.text for row in markup.inline_keyboard for button in row]
    assert labels == ["Someone is unwell now", "A question", "About my doses"]
    data = [button.callback_data for row in markup.inline_keyboard for button in row]
    assert data == ["ask:unwell", "ask:question", "ask:doses"]


# ----------------------------------------------------------------- questions


async def test_a_question_gets_the_now_line_then_its_topic(
    bot: RunningBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    await bot.onboard(USER, region="uk")
    reads_as(monkeypatch, Reading(Meaning.QUESTION, topic="interactions", is_question=True))
    [answer] = await bot.say(USER, "Can I drink alcohol with baclofen?")
    first, rest = answer.split("\n\n", 1)
    assert first == "If this is happening now, call <b>999</b>."
    assert rest.startswith("<b>Alcohol and other medicines</b>")
    assert "Source:" in rest


async def test_a_question_without_a_topic_lists_the_topics(
    bot: RunningBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads_as(monkeypatch, Reading(Meaning.QUESTION, is_question=True))
    [answer] = await bot.say(USER, "what about the thing?")
    assert answer.startswith("If this is happening now, call your local emergency number.")
    assert "<b>Quick facts</b>: pick a topic" in answer
    buttons = bot.buttons(bot.last_message(USER))
    assert buttons["Alcohol and other medicines"] == "fact:interactions"
    [topic] = await bot.press(
        USER, bot.last_message(USER)["message_id"], "fact:pregnancy", replies=1
    )
    assert "Source:" in topic


async def test_an_alarm_that_is_a_question_answers_the_alarm_first(
    bot: RunningBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    await bot.onboard(USER, region="us")
    reads_as(
        monkeypatch,
        Reading(
            Meaning.EMERGENCY,
            frozenset({Category.OVERDOSE}),
            topic="overdose",
            is_question=True,
        ),
    )
    alarm, topic = await bot.say(USER, "I took 10 tablets, what happens now?", replies=2)
    assert alarm.startswith("<b>This may be an emergency.</b> Emergency number (United States)")
    assert topic.startswith("You asked about this")
    assert "<b>Overdose" in topic


# ----------------------------------------------------------------- ask back


async def test_unsure_asks_back_and_each_button_answers(
    bot: RunningBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    await noon_dose_unanswered(bot)
    reads_as(monkeypatch, Reading(Meaning.UNSURE))
    [asked] = await bot.say(USER, "my husband and the baclofen, 20mg")
    assert "I did not understand" not in asked
    assert asked.rstrip().endswith(
        "If something is wrong with your health right now: "
        "Emergency number (United Kingdom): <b>999</b>"
    )
    ask = bot.last_message(USER)
    assert bot.buttons(ask) == {
        "Someone is unwell now": "ask:unwell",
        "A question": "ask:question",
        "About my doses": "ask:doses",
    }
    [emergency] = await bot.press(USER, ask["message_id"], "ask:unwell", replies=1)
    assert emergency.startswith("<b>Emergency: when to call for help</b>")
    assert "<b>999</b>" in emergency and "has a seizure (fit)" in emergency
    assert bot.last_message(USER)["reply_markup"]["keyboard"] == [[{"text": "🆘 Help now"}]]
    # The pressed message's buttons are gone; a new ask-back offers the others.
    assert (
        bot.buttons(next(m for m in bot.messages(USER) if m["message_id"] == ask["message_id"]))
        == {}
    )
    await bot.say(USER, "hmm baclofen")
    [facts] = await bot.press(USER, bot.last_message(USER)["message_id"], "ask:question", replies=1)
    assert "<b>Quick facts</b>" in facts
    assert "fact:interactions" in bot.buttons(bot.last_message(USER)).values()
    await bot.say(USER, "hmm baclofen")
    [doses] = await bot.press(USER, bot.last_message(USER)["message_id"], "ask:doses", replies=1)
    assert "About your doses" in doses
    choice = bot.last_message(USER)
    assert bot.buttons(choice) == {"I missed a dose": "ask:missed", "Today's doses": "ask:today"}
    [missed] = await bot.press(USER, choice["message_id"], "ask:missed", replies=1)
    [by_command] = await bot.say(USER, "/missed")
    assert missed == by_command
    assert "<b>If you have not taken it yet, take it now</b>" in missed
    await bot.say(USER, "hmm baclofen")
    await bot.press(USER, bot.last_message(USER)["message_id"], "ask:doses", replies=1)
    [today] = await bot.press(USER, bot.last_message(USER)["message_id"], "ask:today", replies=1)
    [by_command] = await bot.say(USER, "/today")
    assert today == by_command


async def test_unsure_in_russian_before_consent(
    bot: RunningBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads_as(monkeypatch, Reading(Meaning.UNSURE))
    bot.api.send_text(USER, "муж и баклофен", language_code="ru")
    [asked] = await bot.next_messages(USER, 0, 1)
    assert asked.startswith("Не совсем понятно, о чём ваше сообщение.")
    assert "Позвоните по <b>местному номеру экстренной помощи</b>." in asked
    assert list(bot.buttons(bot.last_message(USER))) == [
        "Кому-то плохо сейчас",
        "У меня вопрос",
        "О моих дозах",
    ]


async def test_a_forged_ask_button_is_refused(bot: RunningBot) -> None:
    await bot.onboard(USER)
    before = bot.sent_count(USER)
    await bot.press(USER, bot.last_message(USER)["message_id"], "ask:panic")
    call = bot.api.calls_of("answerCallbackQuery")[-1]
    assert call.params.get("text") == "This button is no longer active."
    assert bot.sent_count(USER) == before


# ----------------------------------------------------------------- everyday requests


async def test_forgot_a_dose_answers_exactly_as_missed(
    bot: RunningBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    await noon_dose_unanswered(bot)
    reads_as(monkeypatch, Reading(Meaning.FORGOT_DOSE))
    [answer] = await bot.say(USER, "I forgot my morning dose")
    by_words = bot.last_message(USER)
    [by_command] = await bot.say(USER, "/missed")
    assert answer == by_command
    assert bot.buttons(by_words) == bot.buttons(bot.last_message(USER))
    assert "✅ Taken" in bot.buttons(by_words)


@pytest.mark.parametrize(
    ("meaning", "text", "expected"),
    [
        pytest.param(Meaning.FORGOT_DOSE, "forgot my pill", "less than 2 hours", id="forgot"),
        pytest.param(Meaning.TOOK_IT, "took it", "/start", id="took-it"),
    ],
)
async def test_before_consent_and_a_plan_forgot_gets_the_topic_and_took_it_start(
    bot: RunningBot, monkeypatch: pytest.MonkeyPatch, meaning: Meaning, text: str, expected: str
) -> None:
    """ "Forgot" without a plan gives the missed-dose topic; "took it" before consent asks
    for /start."""
    reads_as(monkeypatch, Reading(meaning))
    [answer] = await bot.say(USER, text)
    assert expected in answer


async def test_took_it_offers_and_records_only_on_a_press(
    bot: RunningBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    await patient_with_a_plan(bot)
    reads_as(monkeypatch, Reading(Meaning.TOOK_IT))
    [none_due] = await bot.say(USER, "took it")  # 09:00: no dose is due yet
    assert "I have no open dose to record right now" in none_due
    [reminder] = await advance_until_messages(bot, USER, at(12))
    bot.clock.set(at(12, 10))
    [offer] = await bot.say(USER, "done, took my tablet")
    assert offer == (
        "Do you want me to record your latest open dose (<b>10 mg</b> due at 12:00) as taken?"
    )
    message = bot.last_message(USER)
    [data] = bot.buttons(message).values()
    recent = await bot.services.doses.recent_doses(USER, bot.clock.now(), 1)
    assert recent[0].status is Status.SENT  # nothing recorded by the words alone
    assert data == f"dose:{recent[0].event_id}:taken"
    edited = await press_and_wait_edit(bot, USER, message, data)
    assert "recorded as taken (12:10)" in edited["text"]
    assert only_undo(edited)
    recent = await bot.services.doses.recent_doses(USER, bot.clock.now(), 1)
    assert recent[0].status is Status.TAKEN
    # The reminder's own buttons are gone too: it cannot be answered twice.
    await bot.api.wait_for(
        "editMessageReplyMarkup",
        lambda call: call.params.get("message_id") == reminder["message_id"],
    )
    current = next(m for m in bot.messages(USER) if m["message_id"] == reminder["message_id"])
    assert current["reply_markup"] is None
    [again] = await bot.say(USER, "took it")
    assert "I have no open dose to record right now" in again


async def test_pause_reminders_says_it_is_not_stopping_and_offers_both(
    bot: RunningBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    await bot.onboard(USER, zone="UTC")
    await save_plan(bot, USER, "/schedule custom today 12:00,20:00 10x10")
    reads_as(monkeypatch, Reading(Meaning.PAUSE_REMINDERS))
    [offer] = await bot.say(USER, "stop the reminders please")
    assert offer.startswith("<b>Pausing reminders does not stop your medicine.</b>")
    assert "never stop it suddenly" in offer
    message = bot.last_message(USER)
    assert bot.buttons(message) == {
        "Pause reminders": "ask:pause",
        "Change dose times": "ask:times",
    }
    [paused] = await bot.press(USER, message["message_id"], "ask:pause", replies=1)
    assert paused.startswith("Reminders are paused. <b>This does not stop your medicine</b>")
    user = await bot.services.users.get(USER)
    assert user is not None and user.reminders_paused
    await bot.say(USER, "move my reminders")
    [menu] = await bot.press(USER, bot.last_message(USER)["message_id"], "ask:times", replies=1)
    assert "sched:standard" in bot.buttons(bot.last_message(USER)).values(), menu


async def test_thanks_gets_a_short_reply_with_the_help_button(
    bot: RunningBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads_as(monkeypatch, Reading(Meaning.THANKS))
    [answer] = await bot.say(USER, "thank you!")
    assert answer.startswith("😊 I am here whenever you need me.")
    assert "emergency" not in answer.lower()
    assert bot.last_message(USER)["reply_markup"]["keyboard"] == [[{"text": "🆘 Help now"}]]


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("thanks", "en"),
        ("Thank you!", "en"),
        ("ok", "en"),
        ("OK 👍", "en"),
        ("спасибо", "ru"),
        ("Спасибо большое!", "ru"),
        ("ок", "ru"),
        ("ok", "ru"),
    ],
)
async def test_thanks_and_ok_get_the_short_reply_through_the_real_engine(
    bot: RunningBot, library: ContentLibrary, text: str, language: str
) -> None:
    # Issue 23: these used to get "I did not understand" with the emergency number.
    pack = library.get(language)
    bot.api.send_text(USER, text, language_code=language)
    [answer] = await bot.next_messages(USER, 0, 1)
    assert answer == pack.text("freetext.thanks")
    assert bot.last_message(USER)["reply_markup"]["keyboard"] == [
        [{"text": pack.text("emergency.button")}]
    ]


# ----------------------------------------------------------------- the engine of today


async def test_the_meanings_of_today_through_the_real_engine(bot: RunningBot) -> None:
    await bot.onboard(USER, region="uk")
    [alarm] = await bot.say(USER, "he is having a seizure")
    assert alarm.startswith("<b>This may be an emergency.</b>")
    assert bot.last_message(USER)["reply_markup"]["keyboard"] == [[{"text": "🆘 Help now"}]]
    await bot.assert_replies(
        USER,
        [
            ("I have run out of baclofen", "act today"),
            ("I want to stop baclofen", "do not stop baclofen suddenly"),
            ("purple bicycle on the roof", "I did not understand that"),
        ],
    )


async def test_logs_name_the_meaning_never_the_text(
    bot: RunningBot, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.events")
    reads_as(monkeypatch, Reading(Meaning.QUESTION, topic="pregnancy", is_question=True))
    await bot.say(USER, "is it safe while pregnant with twins")
    lines = [record.getMessage() for record in caplog.records if record.name == "bot.events"]
    [line] = [line for line in lines if line.startswith("free_text ")]
    assert "meaning=question" in line and "topic=pregnancy" in line
    assert not any("twins" in line or "pregnant" in line for line in lines)
