"""The stand-in checks requests as the published Bot API documents them (bot/botapi_rules.py):
parameters a method does not take, text length after entity parsing, paid broadcasting."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, RetryAfter

from bot.botapi_rules import METHOD_PARAMETERS, accepts, unknown_parameters, visible_text
from bot.emulator.api import TEST_TOKEN, FakeBotAPI

CHAT = 5151


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    fake = FakeBotAPI()
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def bot(api: FakeBotAPI) -> AsyncIterator[Bot]:
    client = Bot(TEST_TOKEN, base_url=f"{api.url}/bot", base_file_url=f"{api.url}/file/bot")
    async with client:
        yield client


def test_the_table_matches_the_documented_methods() -> None:
    assert accepts("sendMessage", "parse_mode")
    assert accepts("sendMessage", "allow_paid_broadcast")
    assert not accepts("editMessageReplyMarkup", "parse_mode")
    assert not accepts("editMessageText", "allow_paid_broadcast")
    assert unknown_parameters("editMessageReplyMarkup", {"chat_id", "link_preview_options"}) == [
        "link_preview_options"
    ]
    assert "text" in METHOD_PARAMETERS["sendMessage"]


def test_visible_text_drops_tags_and_decodes_entities() -> None:
    assert visible_text("<b>5&nbsp;mg</b>", None) == "<b>5&nbsp;mg</b>"
    assert visible_text("<b>5 &lt; 10</b> &amp; <i>x</i>&#33;", "HTML") == "5 < 10 & x!"


async def test_a_parameter_the_method_does_not_take_is_refused(bot: Bot) -> None:
    with pytest.raises(BadRequest, match="does not take parameter bogus"):
        await bot.send_message(CHAT, "hi", api_kwargs={"bogus": 1})
    sent = await bot.send_message(
        CHAT,
        "hi",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("a", callback_data="a")]]),
    )
    # PTB puts parse_mode into every method built by its send helper: Telegram's docs say
    # editMessageReplyMarkup does not take it.
    with pytest.raises(BadRequest, match="does not take parameter parse_mode"):
        await bot.edit_message_reply_markup(
            CHAT, sent.message_id, reply_markup=None, api_kwargs={"parse_mode": "HTML"}
        )


async def test_length_is_counted_after_entity_parsing(bot: Bot) -> None:
    # 4096 visible characters: the tags and the entity's spelling do not count.
    text = "<b>" + "x" * 4090 + "</b>" + "&amp;" * 6
    await bot.send_message(CHAT, text, parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match="too long"):
        await bot.send_message(CHAT, text + "y", parse_mode=ParseMode.HTML)
    # The same characters without a parse mode are counted as they are.
    with pytest.raises(BadRequest, match="too long"):
        await bot.send_message(CHAT, text)


async def test_paid_broadcast_takes_the_higher_rate() -> None:
    api = FakeBotAPI(global_rate=2, paid_rate=5)
    await api.start()
    try:
        async with Bot(TEST_TOKEN, base_url=f"{api.url}/bot") as bot:
            for chat in (1, 2):
                await bot.send_message(chat, "free")
            with pytest.raises(RetryAfter):
                await bot.send_message(3, "free")
            for chat in range(10, 15):  # five a second with allow_paid_broadcast, here
                await bot.send_message(chat, "paid", allow_paid_broadcast=True)
            with pytest.raises(RetryAfter):
                await bot.send_message(20, "paid", allow_paid_broadcast=True)
    finally:
        await api.close()
    assert api.paid_messages == 5
