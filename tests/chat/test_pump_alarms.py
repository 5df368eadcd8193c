"""Pump alarms in free text (issue 21) through the stand-in: what each alarm means and what to
do (fact sheet 2.13), in English and Russian; the emergency answer first when withdrawal or
overdose signs are in the same message; a linked caregiver is told of the alarm."""

from __future__ import annotations

import pytest

from tests.chat.test_caregivers import CARER, PATIENT, link_caregiver
from tests.conftest import RunningBot

USER = 4242
EN_GUIDANCE = ("a single tone</b>", "a two-tone alarm</b>", "Call your clinic immediately")
RU_GUIDANCE = ("один тон</b>", "двухтональный сигнал</b>", "Звоните в клинику немедленно")


async def speak_russian(bot: RunningBot) -> None:
    await bot.say(USER, "/language")
    [switched] = await bot.press(USER, bot.last_message(USER)["message_id"], "lang:ru", replies=1)
    assert "Русский" in switched, switched


@pytest.mark.parametrize(
    "text",
    ["pump is beeping", "pump alarm", "my pump is alarming", "the low reservoir alarm went off"],
)
async def test_alarm_answers_in_english(bot: RunningBot, text: str) -> None:
    await bot.onboard(USER, zone="Europe/London", region="uk")
    [answer] = await bot.say(USER, text)
    assert answer.startswith("🔔 <b>If your pump beeps</b>"), answer
    for part in EN_GUIDANCE:
        assert part in answer, (part, answer)
    assert "999" in answer and "itching" in answer, answer
    assert "Medtronic" not in answer and "Tesla" not in answer


@pytest.mark.parametrize("text", ["насос пищит", "помпа сигналит", "nasos pishchit"])
async def test_alarm_answers_in_russian(bot: RunningBot, text: str) -> None:
    await bot.onboard(USER, zone="Europe/Moscow", region="ru")
    await speak_russian(bot)
    [answer] = await bot.say(USER, text)
    assert answer.startswith("🔔 <b>Если помпа пищит</b>"), answer
    for part in RU_GUIDANCE:
        assert part in answer, (part, answer)
    assert "112" in answer, answer


@pytest.mark.parametrize(
    "text",
    [
        "my pump is beeping and I'm itching all over",
        "pump alarm and my stiffness is coming back",
        "pump alarm going off and he is very drowsy and breathing slowly",
    ],
)
async def test_emergency_first_with_signs(bot: RunningBot, text: str) -> None:
    await bot.onboard(USER, zone="Europe/London", region="uk")
    [answer] = await bot.say(USER, text)
    first = bot.pack.text("redflag.first", emergency_line="X").split("X")[0]
    assert answer.startswith(first), answer
    assert answer.index("999") < answer.index("If your pump beeps"), answer
    assert "a two-tone alarm</b>" in answer, answer


async def test_emergency_first_in_russian(bot: RunningBot) -> None:
    await bot.onboard(USER, zone="Europe/Moscow", region="ru")
    await speak_russian(bot)
    [answer] = await bot.say(USER, "помпа пищит и вернулась скованность, всё чешется")
    assert answer.index("112") < answer.index("Если помпа пищит"), answer


async def test_caregiver_told_of_an_alarm_message(bot: RunningBot) -> None:
    await bot.onboard(PATIENT, zone="Europe/Berlin", region="uk")
    await link_caregiver(bot)
    before = bot.sent_count(CARER)
    await bot.say(PATIENT, "pump is beeping")
    [alert] = await bot.next_messages(CARER, before, 1)
    assert "wrote to me about a pump alarm" in alert and "999" in alert, alert


async def test_no_caregiver_message_for_other_emergencies(bot: RunningBot) -> None:
    await bot.onboard(PATIENT, zone="Europe/Berlin", region="uk")
    await link_caregiver(bot)
    before = bot.sent_count(CARER)
    await bot.say(PATIENT, "I can't breathe")
    await bot.services.reminders.run_due()
    assert bot.sent_count(CARER) == before
