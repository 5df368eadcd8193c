"""Quick facts, red flags, the wish to stop, unknown input and group chats."""

from __future__ import annotations

import re

import pytest

from bot.content import TOPICS, ContentPack
from tests.conftest import RunningBot

USER = 2002


@pytest.mark.parametrize("topic", TOPICS)
async def test_every_topic_command_answers_with_its_source(
    bot: RunningBot, pack: ContentPack, topic: str
) -> None:
    [text] = await bot.say(USER, f"/{topic}")
    assert pack.topics[topic].title in text
    assert "Source:" in text
    first_source = pack.sources[pack.topics[topic].sources[0]].title
    assert first_source in text


async def test_facts_menu_buttons_open_topics(bot: RunningBot, pack: ContentPack) -> None:
    await bot.say(USER, "/facts")
    buttons = bot.buttons(bot.last_message(USER))
    assert set(buttons.values()) == {f"fact:{topic}" for topic in TOPICS}
    [text] = await bot.press(
        USER,
        bot.last_message(USER)["message_id"],
        buttons[pack.topics["withdrawal"].menu],
        replies=1,
    )
    assert pack.topics["withdrawal"].title in text


async def test_forged_fact_button_is_refused(bot: RunningBot) -> None:
    await bot.say(USER, "/facts")
    await bot.press(USER, bot.last_message(USER)["message_id"], "fact:../../etc/passwd")
    [answer] = bot.api.calls_of("answerCallbackQuery")[-1:]
    assert answer.params.get("text") == "This button is no longer active."


async def test_emergency_topic_uses_the_users_region(bot: RunningBot) -> None:
    [unknown] = await bot.say(USER, "/emergency")
    assert "your local emergency number" in unknown
    await bot.onboard(USER, region="ru")
    [russia] = await bot.say(USER, "/emergency")
    assert "112" in russia
    assert re.search(r"(?<!\d)03(?!\d)", russia) is None  # the legacy landline number


@pytest.mark.parametrize(
    "text",
    [
        "my husband had a seizure",
        "I can't breathe properly",
        "I think I took too many pills",
        "she won't wake up",
        "I'm seeing things, hallucinations since yesterday",
        "I have chest pain",
        "I fainted this morning",
        "I want to hurt myself",
        "I accidentally took a double dose",
    ],
)
async def test_red_flags_get_the_emergency_number_first(bot: RunningBot, text: str) -> None:
    await bot.onboard(USER, region="uk")
    [reply] = await bot.say(USER, text)
    first_line = reply.split("\n")[0]
    assert first_line.endswith("Emergency number (United Kingdom): <b>999</b>")
    assert first_line.startswith(
        ("<b>This may be an emergency.</b>", "<b>Please reach out for help now.</b>")
    )
    if "hurt myself" in text:
        assert "Samaritans: call 116 123" in reply  # the region's crisis line
    else:
        assert "NHS 111" in reply  # the region's urgent-advice line


async def test_red_flag_without_region_says_local_number(bot: RunningBot) -> None:
    [reply] = await bot.say(USER, "he is having a seizure")
    assert "your local emergency number" in reply


@pytest.mark.parametrize(
    "text", ["I want to stop baclofen", "how do I quit taking my meds", "can I come off it now?"]
)
async def test_wish_to_stop_gets_taper_guidance(bot: RunningBot, text: str) -> None:
    [reply] = await bot.say(USER, text)
    assert "do not stop baclofen suddenly" in reply
    assert "/taper" in reply


async def test_other_text_and_unknown_commands_point_to_help(bot: RunningBot) -> None:
    [other] = await bot.say(USER, "hello there")
    assert "/help" in other
    [unknown] = await bot.say(USER, "/frobnicate now")
    assert "/help" in unknown


async def test_sticker_gets_a_polite_answer(bot: RunningBot) -> None:
    before = bot.sent_count(USER)
    bot.api.push_update(
        {
            "message": {
                "message_id": 77,
                "date": 1_768_122_000,
                "chat": {"id": USER, "type": "private", "first_name": "Pat"},
                "from": {"id": USER, "is_bot": False, "first_name": "Pat"},
                "sticker": {
                    "file_id": "s1",
                    "file_unique_id": "u1",
                    "type": "regular",
                    "width": 512,
                    "height": 512,
                    "is_animated": False,
                    "is_video": False,
                },
            }
        }
    )
    [reply] = await bot.next_messages(USER, before, 1)
    assert "only read text" in reply


async def test_group_chat_is_refused_and_nothing_stored(bot: RunningBot) -> None:
    group = -100_555
    before = bot.sent_count(group)
    bot.api.send_text(USER, "/start", chat_id=group, chat_type="group")
    [reply] = await bot.next_messages(group, before, 1)
    assert "private chat" in reply
    assert await bot.services.users.get(USER) is None


async def test_a_failing_handler_gets_a_polite_apology(bot: RunningBot) -> None:
    """The one error handler: the user hears an apology, the bot keeps serving."""
    bot.api.fail("sendMessage", status=400, description="Bad Request: odd", chat_id=USER)
    before = bot.sent_count(USER)
    bot.api.send_text(USER, "/halflife")
    [apology] = await bot.next_messages(USER, before, 1)
    assert apology == "Sorry, something went wrong on my side. Please try again in a moment."
    [answer] = await bot.say(USER, "/halflife")
    assert "Source:" in answer
