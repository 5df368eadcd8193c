"""Tests of the Telegram Bot API stand-in, driven by a real ``telegram.Bot``."""

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MenuButtonCommands,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes
from telegram.warnings import PTBUserWarning

from bot.clock import Monotonic
from bot.emulator.api import BOT_USER_ID, TEST_TOKEN, FakeBotAPI

ApiFactory = Callable[..., Awaitable[FakeBotAPI]]


async def assert_no_leaked_tasks() -> None:
    await asyncio.sleep(0)
    leaked = asyncio.all_tasks() - {asyncio.current_task()}
    assert not leaked, f"leaked tasks: {leaked}"


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    fake = FakeBotAPI()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()
    await assert_no_leaked_tasks()


@pytest.fixture
async def api_factory() -> AsyncIterator[ApiFactory]:
    """Start FakeBotAPI instances with custom settings; all are closed at teardown."""
    started: list[FakeBotAPI] = []

    async def make(
        *, global_rate: float | None = None, per_chat_rate: float | None = None
    ) -> FakeBotAPI:
        fake = FakeBotAPI(global_rate=global_rate, per_chat_rate=per_chat_rate)
        await fake.start()
        started.append(fake)
        return fake

    try:
        yield make
    finally:
        for fake in started:
            await fake.close()
    await assert_no_leaked_tasks()


@pytest.fixture(autouse=True)
def ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt in to PTB's timedelta time periods.

    Without it, merely constructing ``RetryAfter`` emits a PTBDeprecationWarning, which the
    project's ``filterwarnings = ["error"]`` turns into a failure.
    """
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


def make_bot(api: FakeBotAPI, token: str = TEST_TOKEN) -> Bot:
    return Bot(token, base_url=f"{api.url}/bot", base_file_url=f"{api.url}/file/bot")


def keyboard(*labels: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=label.lower()) for label in labels]]
    )


async def test_get_me(api: FakeBotAPI) -> None:
    async with make_bot(api) as bot:
        me = await bot.get_me()
    assert me.id == BOT_USER_ID
    assert me.is_bot
    assert me.username == "baclofen_test_bot"
    assert bot.username == "baclofen_test_bot"
    assert [call.status for call in api.calls_of("getMe")] == [200, 200]


async def test_send_and_edit_message(api: FakeBotAPI) -> None:
    async with make_bot(api) as bot:
        sent = await bot.send_message(
            42, "Take <b>5 mg</b>?", parse_mode=ParseMode.HTML, reply_markup=keyboard("Yes", "No")
        )
        assert sent.message_id == 1
        assert sent.chat.id == 42
        assert sent.from_user is not None
        assert sent.from_user.id == BOT_USER_ID
        assert sent.reply_markup == keyboard("Yes", "No")

        edited = await bot.edit_message_text("Taken.", chat_id=42, message_id=sent.message_id)
        assert isinstance(edited, Message)
        assert edited.text == "Taken."
        assert edited.edit_date is not None

        with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
            await bot.edit_message_text("Taken.", chat_id=42, message_id=sent.message_id)
        with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
            await bot.edit_message_text("x", chat_id=42, message_id=99)

        await bot.edit_message_reply_markup(42, sent.message_id, reply_markup=keyboard("Undo"))

    assert api.messages_to(42) == [
        {
            "message_id": 1,
            "text": "Taken.",
            "reply_markup": keyboard("Undo").to_dict(),
            "parse_mode": None,
            "edited": True,
            "document": None,
            "photo": False,
        }
    ]
    assert api.last_text(42) == "Taken."
    send = api.calls_of("sendMessage")[0]
    assert send.params["chat_id"] == 42
    assert send.params["parse_mode"] == "HTML"
    assert send.params["reply_markup"] == keyboard("Yes", "No").to_dict()
    assert [c.status for c in api.calls_of("editMessageText")] == [200, 400, 400]


async def test_get_updates_parses_command_and_callback(api: FakeBotAPI) -> None:
    async with make_bot(api) as bot:
        first = api.send_text(7, "/start hello", first_name="Ann", language_code="de")
        sent = await bot.send_message(7, "Pick one", reply_markup=keyboard("A", "B"))
        query_id = api.press_button(7, sent.message_id, "a")

        updates = await bot.get_updates(timeout=0)
        assert [u.update_id for u in updates] == [first, first + 1]

        message = updates[0].message
        assert message is not None
        assert message.text == "/start hello"
        assert message.chat.id == 7
        assert message.chat.type == "private"
        assert message.from_user is not None
        assert message.from_user.first_name == "Ann"
        assert message.from_user.language_code == "de"
        assert message.parse_entities() == {message.entities[0]: "/start"}
        assert message.entities[0].type == "bot_command"

        query = updates[1].callback_query
        assert query is not None
        assert query.id == query_id
        assert query.data == "a"
        assert isinstance(query.message, Message)
        assert query.message.message_id == sent.message_id
        assert query.message.reply_markup == keyboard("A", "B")
        assert await query.answer("ok")
        with pytest.raises(BadRequest, match=r"(?i)query is too old"):
            await bot.answer_callback_query(query_id)

        # Unconfirmed updates are delivered again; offset confirms them.
        assert len(await bot.get_updates(timeout=0)) == 2
        assert await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0) == ()
        assert await bot.get_updates(timeout=0) == ()


async def test_group_message_and_location(api: FakeBotAPI) -> None:
    async with make_bot(api) as bot:
        api.send_text(7, "/dose@baclofen_test_bot 10", chat_id=-1001, chat_type="supergroup")
        api.share_location(7, 52.52, 13.405)
        group_update, location_update = await bot.get_updates(timeout=0)
    group_message = group_update.message
    assert group_message is not None
    assert group_message.chat.type == "supergroup"
    assert group_message.chat.title
    assert group_message.entities[0].length == len("/dose@baclofen_test_bot")
    location = location_update.message.location  # type: ignore[union-attr]
    assert location is not None
    assert (location.latitude, location.longitude) == (52.52, 13.405)


async def test_long_poll_returns_promptly_on_push(api: FakeBotAPI) -> None:
    async with make_bot(api) as bot:
        poll = asyncio.create_task(bot.get_updates(timeout=10))
        await api.wait_until_polling()
        started = time.monotonic()
        update_id = api.send_text(5, "hi")
        updates = await asyncio.wait_for(poll, timeout=2)
        assert time.monotonic() - started < 1
        assert [u.update_id for u in updates] == [update_id]


async def test_long_poll_times_out_empty(api: FakeBotAPI) -> None:
    async with make_bot(api) as bot:
        started = time.monotonic()
        assert await bot.get_updates(timeout=timedelta(seconds=0.1)) == ()
        assert 0.09 <= time.monotonic() - started < 1
    assert api.calls_of("getUpdates")[0].params["timeout"] == 0.1


async def test_close_releases_long_poll(api_factory: ApiFactory) -> None:
    api = await api_factory()
    async with make_bot(api) as bot:
        poll = asyncio.create_task(bot.get_updates(timeout=30))
        await api.wait_until_polling()
        await asyncio.wait_for(api.close(), timeout=2)
        assert await asyncio.wait_for(poll, timeout=2) == ()


async def test_newer_poll_terminates_older(api: FakeBotAPI) -> None:
    # A Bot has a single connection for getUpdates, so use two bots like two bot instances.
    async with make_bot(api) as first, make_bot(api) as second:
        old = asyncio.create_task(first.get_updates(timeout=10))
        await api.wait_until_polling()
        new = asyncio.create_task(second.get_updates(timeout=10))
        with pytest.raises(Conflict, match="terminated by other getUpdates"):
            await asyncio.wait_for(old, timeout=2)
        api.send_text(1, "x")
        assert len(await asyncio.wait_for(new, timeout=2)) == 1


async def test_retry_after_injection(api: FakeBotAPI) -> None:
    api.fail("sendMessage", status=429, retry_after=3)
    async with make_bot(api) as bot:
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(1, "hello")
        assert caught.value.retry_after == timedelta(seconds=3)
        await bot.send_message(1, "hello")  # the fault is consumed
    assert [c.status for c in api.calls_of("sendMessage")] == [429, 200]
    assert api.retry_after_count == 1
    assert api.messages_to(1)[0]["message_id"] == 1


async def test_forbidden_injection_and_blocked_chat(api: FakeBotAPI) -> None:
    api.fail("sendMessage", status=403, chat_id=2)
    api.blocked.add(3)
    async with make_bot(api) as bot:
        await bot.send_message(1, "other chat, fault not consumed")
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await bot.send_message(2, "x")
        await bot.send_message(2, "fault consumed")
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await bot.send_message(3, "x")
    assert [c.status for c in api.calls_of("sendMessage")] == [200, 403, 200, 403]
    assert api.messages_to(3) == []


async def test_server_error_and_dropped_connection(api: FakeBotAPI) -> None:
    api.fail("sendMessage", status=500, times=2)
    api.fail("sendChatAction", status=0)
    async with make_bot(api) as bot:
        for _ in range(2):
            with pytest.raises(NetworkError, match="Internal Server Error"):
                await bot.send_message(1, "x")
        with pytest.raises(NetworkError):
            await bot.send_chat_action(1, "typing")
        assert await bot.send_chat_action(1, "typing")
        await bot.send_message(1, "recovered")
    assert api.last_text(1) == "recovered"
    assert [c.status for c in api.calls_of("sendChatAction")] == [0, 200]


async def test_global_rate_limit(api_factory: ApiFactory) -> None:
    api = await api_factory(global_rate=5)
    async with make_bot(api) as bot:
        for chat_id in range(1, 6):
            await bot.send_message(chat_id, "ok")
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(6, "too fast")
        assert caught.value.retry_after == timedelta(seconds=1)
        assert await bot.send_chat_action(6, "typing")  # not a rate-limited method
    assert api.retry_after_count == 1
    assert [c.status for c in api.calls_of("sendMessage")] == [200] * 5 + [429]


async def test_rate_windows_count_seconds_on_the_stand_ins_clock(monotonic: Monotonic) -> None:
    """The limits follow the clock the stand-in was given (virtual here): a second on it frees
    the window, however little real time passed."""
    api = FakeBotAPI(global_rate=2, clock=monotonic)
    await api.start()
    async with make_bot(api) as bot:
        await bot.send_message(1, "one")
        await bot.send_message(2, "two")
        with pytest.raises(RetryAfter):
            await bot.send_message(3, "too fast")
        started = time.monotonic()
        await monotonic.sleep(1.0)
        await bot.send_message(3, "the next second")
        assert time.monotonic() - started < 0.9  # skipped, not waited out
    await api.close()
    calls = api.calls_of("sendMessage")
    assert [c.status for c in calls] == [200, 200, 429, 200]
    assert calls[3].at - calls[0].at >= 1.0


async def test_per_chat_rate_limit(api_factory: ApiFactory) -> None:
    api = await api_factory(per_chat_rate=2)
    async with make_bot(api) as bot:
        sent = await bot.send_message(1, "one")
        await bot.edit_message_text("two", chat_id=1, message_id=sent.message_id)
        with pytest.raises(RetryAfter):
            await bot.send_message(1, "three")
        await bot.send_message(2, "other chat is fine")
    assert api.retry_after_count == 1


async def test_wrong_token_is_invalid(api: FakeBotAPI) -> None:
    with pytest.raises(InvalidToken, match="rejected by the server"):
        async with make_bot(api, token="987654321:WRONG-token-abcdefghijklmnopqrstuvwxyz0"):
            pass
    assert [c.status for c in api.calls] == [401]


async def test_unknown_method_is_not_found(api: FakeBotAPI) -> None:
    async with make_bot(api) as bot:
        with pytest.raises(EndPointNotFound):
            await bot.do_api_request("sendTelepathy", api_kwargs={"chat_id": 1})
    assert api.calls[-1].status == 404


async def test_send_document_bytes(api: FakeBotAPI) -> None:
    async with make_bot(api) as bot:
        sent = await bot.send_document(
            9, b"date,dose\n2024-01-01,5\n", filename="doses.csv", caption="Your log"
        )
    assert sent.document is not None
    assert sent.document.file_name == "doses.csv"
    assert sent.caption == "Your log"
    call = api.calls_of("sendDocument")[0]
    assert call.params["chat_id"] == 9
    assert call.params["document"]["filename"] == "doses.csv"
    assert call.params["document"]["content"] == b"date,dose\n2024-01-01,5\n"
    assert api.messages_to(9)[0]["document"] == "doses.csv"
    assert api.last_text(9) == "Your log"


async def test_commands_menu_and_webhook(api: FakeBotAPI) -> None:
    async with make_bot(api) as bot:
        assert await bot.set_my_commands([BotCommand("start", "Start"), BotCommand("dose", "Log")])
        assert await bot.set_my_commands([BotCommand("start", "Starten")], language_code="de")
        assert await bot.set_my_commands(
            [BotCommand("admin", "Admin")], scope=BotCommandScopeChat(5)
        )
        assert [c.command for c in await bot.get_my_commands()] == ["start", "dose"]
        assert [c.description for c in await bot.get_my_commands(language_code="de")] == ["Starten"]
        assert await bot.delete_my_commands(language_code="de")
        assert await bot.get_my_commands(language_code="de") == ()
        with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
            await bot.set_my_commands([BotCommand("Bad-Name", "x")])
        assert await bot.set_chat_menu_button(menu_button=MenuButtonCommands())
        assert await bot.get_chat_menu_button() == MenuButtonCommands()

        assert await bot.set_webhook("https://example.org/hook")
        assert (await bot.get_webhook_info()).url == "https://example.org/hook"
        with pytest.raises(Conflict, match="webhook is active"):
            await bot.get_updates(timeout=0)
        api.send_text(1, "/start")
        assert await bot.delete_webhook(drop_pending_updates=True)
        info = await bot.get_webhook_info()
        assert (info.url, info.pending_update_count) == ("", 0)
        assert await bot.log_out()
        assert await bot.close()
    assert api.commands_for(BotCommandScopeChat(5).to_dict()) == [
        {"command": "admin", "description": "Admin"}
    ]
    assert api.commands_for(language_code="de") == []
    assert api.calls_of("setMyCommands")[0].params["commands"][0] == {
        "command": "start",
        "description": "Start",
    }


async def test_html_validation_and_delete(api: FakeBotAPI) -> None:
    async with make_bot(api) as bot:
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            await bot.send_message(1, "<b>unclosed", parse_mode=ParseMode.HTML)
        with pytest.raises(BadRequest, match=r'(?i)unsupported start tag "br"'):
            await bot.send_message(1, "a<br>b", parse_mode=ParseMode.HTML)
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            await bot.send_message(1, "1 < 2", parse_mode=ParseMode.HTML)
        with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
            await bot.send_message(
                1,
                "x",
                reply_markup=InlineKeyboardMarkup.from_button(
                    InlineKeyboardButton("x", callback_data="x" * 65)
                ),
            )
        ok = await bot.send_message(1, "1 &lt; 2 &amp; <i>fine</i>", parse_mode=ParseMode.HTML)
        api.send_text(1, "user message")
        user_message_id = api.pushed_updates[-1]["message"]["message_id"]
        assert user_message_id == ok.message_id + 1
        assert await bot.delete_message(1, user_message_id)
        assert await bot.delete_message(1, ok.message_id)
        with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
            await bot.delete_message(1, ok.message_id)
        assert api.messages_to(1) == []
        # Only messages sent less than 48 hours ago can be deleted (Bot API deleteMessage).
        old = await bot.send_message(1, "from the day before yesterday")
        api._chat_messages[1][old.message_id]["date"] -= 48 * 3600
        with pytest.raises(BadRequest, match=r"(?i)message can't be deleted"):
            await bot.delete_message(1, old.message_id)
    assert [m["message_id"] for m in api.messages_to(1)] == [old.message_id]


async def test_wait_for(api: FakeBotAPI) -> None:
    async with make_bot(api) as bot:
        waiter = asyncio.create_task(
            api.wait_for("sendMessage", lambda c: c.params["chat_id"] == 2, count=2)
        )
        for chat_id in (1, 2, 3, 2):
            await bot.send_message(chat_id, f"to {chat_id}")
        calls = await asyncio.wait_for(waiter, timeout=2)
        assert [c.params["text"] for c in calls] == ["to 2", "to 2"]
        # Already recorded calls count.
        assert len(await api.wait_for("sendMessage", count=4, timeout=0.05)) == 4
    with pytest.raises(AssertionError, match=r"waiting for 1 matching sendDocument(?s:.*)to 3"):
        await api.wait_for("sendDocument", timeout=0.05)


async def test_application_polling_round_trip(api: FakeBotAPI) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(
            f"Hello {update.effective_user.first_name}",  # type: ignore[union-attr]
            reply_markup=keyboard("Go"),
        )

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer()
        await query.edit_message_text(f"Pressed {query.data}")

    app = (
        Application.builder()
        .token(TEST_TOKEN)
        .base_url(f"{api.url}/bot")
        .base_file_url(f"{api.url}/file/bot")
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=timedelta(seconds=5))
        api.send_text(11, "/start", first_name="Kim")
        (reply,) = await api.wait_for("sendMessage")
        assert reply.params["text"] == "Hello Kim"
        message_id = api.messages_to(11)[0]["message_id"]
        api.press_button(11, message_id, "go")
        await api.wait_for("editMessageText")
        await api.wait_for("answerCallbackQuery")
        await app.updater.stop()
        await app.stop()
    assert api.messages_to(11)[0]["text"] == "Pressed go"
    assert api.messages_to(11)[0]["reply_markup"] is None


def _png_header(width: int, height: int) -> bytes:
    """Enough of a PNG for its size to be read: the signature and the IHDR chunk."""
    ihdr = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 6, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + len(ihdr).to_bytes(4, "big") + b"IHDR" + ihdr + b"\0" * 4


@pytest.mark.parametrize(
    ("photo", "error"),
    [
        (_png_header(6000, 4001), "PHOTO_INVALID_DIMENSIONS"),  # width + height over 10000
        (_png_header(2100, 100), "PHOTO_INVALID_DIMENSIONS"),  # sides more than 20 to 1
        (b"GIF89a not a photo", "IMAGE_PROCESS_FAILED"),
        (_png_header(100, 100) + b"\0" * (10 * 1024 * 1024), "file is too big"),
    ],
)
async def test_send_photo_limits(api: FakeBotAPI, photo: bytes, error: str) -> None:
    async with make_bot(api) as bot:
        with pytest.raises(BadRequest, match=f"(?i){error}"):
            await bot.send_photo(9, photo)
    assert api.messages_to(9) == []


async def test_send_photo_keeps_the_bytes_and_its_size(api: FakeBotAPI) -> None:
    photo = _png_header(2000, 100)  # exactly 20 to 1 is allowed
    async with make_bot(api) as bot:
        sent = await bot.send_photo(9, photo, caption="<b>Plan</b>", parse_mode=ParseMode.HTML)
        with (
            pytest.warns(PTBUserWarning),
            pytest.raises(BadRequest, match=r"(?i)does not take parameter disable_web_page"),
        ):
            await bot.do_api_request(
                "sendPhoto",
                api_kwargs={"chat_id": 9, "photo": "AgAC", "disable_web_page_preview": True},
            )
        with pytest.raises(BadRequest, match=r"(?i)caption is too long"):
            await bot.send_photo(9, photo, caption="x" * 1025)
    assert (sent.photo[0].width, sent.photo[0].height) == (2000, 100)
    [call] = [call for call in api.calls_of("sendPhoto") if call.status == 200]
    assert call.params["photo"]["content"] == photo
    assert api.files[sent.photo[0].file_id]["content"] == photo
