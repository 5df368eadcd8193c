"""The test harness: the real Application, over HTTP, against a local Bot API stand-in.

Each test gets a fresh stand-in on 127.0.0.1, a real SQLite file in a temporary folder, a
:class:`FakeClock` that only moves when the test moves it, and a virtual monotonic clock shared
by the bot's send budget and the stand-in's rate limits, which skips ahead whenever only time is
awaited (tests/virtual_time.py): Telegram's limits and retry_after apply in full, in virtual
seconds. Tests of a separate bot process keep real time (the process cannot share the clock).
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings

from bot.app import BotApplication, build_application, serve
from bot.clock import SYSTEM_MONOTONIC, FakeClock, Monotonic
from bot.config import Settings, load_settings
from bot.content import ContentLibrary, ContentPack, load_library
from bot.context import SERVICES_KEY, Services
from bot.emulator.api import TEST_TOKEN, FakeBotAPI
from tests.virtual_time import VirtualMonotonic, hold_for_threads

ROOT = Path(__file__).resolve().parent.parent
CONTENT_DIR = ROOT / "bot" / "pack"
ADMIN_ID = 900_001
# A Sunday in winter: far from any DST change unless a test moves there on purpose.
START = datetime(2026, 1, 11, 9, 0, tzinfo=UTC)

# CI runs the properties on a fixed seed (`.ci/run` sets HYPOTHESIS_PROFILE=ci), so a landing
# does not hang on what a random search happens to find that day; runs elsewhere keep
# searching at random and a case they find is pinned as an explicit test.
# No deadline in either: tests never assert on timing, and on a busy 2-core machine one slow
# example (a first call that warms a cache) is no failure.
hypothesis_settings.register_profile("ci", derandomize=True, database=None, deadline=None)
hypothesis_settings.register_profile("local", deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "local"))


@pytest.fixture(autouse=True)
def _no_retry_after_reaches_the_error_handler(
    caplog: pytest.LogCaptureFixture,
) -> Iterator[None]:
    """The send budget retries every 429; a RetryAfter in the error handler is a lost reply."""
    yield
    leaked = [
        record.getMessage()
        for record in caplog.records
        if record.name == "bot.errors" and "RetryAfter" in record.getMessage()
    ]
    assert not leaked, leaked


@pytest.fixture(scope="session")
def library() -> ContentLibrary:
    return load_library(CONTENT_DIR)


@pytest.fixture(scope="session")
def pack(library: ContentLibrary) -> ContentPack:
    """The English pack: what a user whose Telegram reports no language reads."""
    return library.get("en")


@pytest.fixture
async def monotonic(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Monotonic]:
    """The seconds the send budget and the stand-in's limits count: virtual, except in tests of
    a bot process, whose budget reads the real clock."""
    if request.node.get_closest_marker("process") is not None:
        yield SYSTEM_MONOTONIC
        return
    clock = VirtualMonotonic()
    hold_for_threads(clock, monkeypatch)
    yield clock
    await clock.close()


@pytest.fixture
async def api(monotonic: Monotonic) -> AsyncIterator[FakeBotAPI]:
    server = FakeBotAPI(clock=monotonic)
    await server.start()
    yield server
    await server.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


def make_settings(api: FakeBotAPI, tmp_path: Path, **overrides: str) -> Settings:
    environ = {
        "TELEGRAM_BOT_TOKEN": TEST_TOKEN,
        "TELEGRAM_API_BASE_URL": api.url,
        "DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
        "ADMIN_IDS": str(ADMIN_ID),
        "CONTENT_DIR": str(CONTENT_DIR),
        "DEFAULT_TIMEZONE": "UTC",
        # The stand-in enforces no limits unless a test turns them on; conversations in one
        # chat then need not wait a second between messages, nor a long run of messages (a
        # corpus, many patients) 1/30 s each. Tests of the limits set both to Telegram's.
        "SEND_RATE_PER_CHAT": "1000",
        "SEND_RATE": "10000",
    }
    environ.update(overrides)
    return load_settings(environ=environ, dotenv_path=None)


@pytest.fixture
def settings(api: FakeBotAPI, tmp_path: Path) -> Settings:
    return make_settings(api, tmp_path)


@dataclass
class RunningBot:
    """A started bot plus conveniences to talk to it as a Telegram user would."""

    application: BotApplication
    api: FakeBotAPI
    clock: FakeClock
    pack: ContentPack
    stop_event: asyncio.Event
    task: asyncio.Task[None]

    async def shutdown(self) -> None:
        """Stop the bot as SIGTERM would; the database file stays for the next start."""
        self.stop_event.set()
        await self.task

    @property
    def services(self) -> Services:
        services: Services = self.application.bot_data[SERVICES_KEY]
        return services

    def sent_count(self, chat_id: int) -> int:
        return len(self.messages(chat_id))

    def messages(self, chat_id: int) -> list[dict[str, Any]]:
        """The bot's text messages in a chat (sendMessage), in their current state. Files are
        left out: they are awaited by their own method, and /plan's picture follows its text
        whenever the worker has drawn it, so counting it would make replies race."""
        return [
            message
            for message in self.api.messages_to(chat_id)
            if not message["photo"] and message["document"] is None
        ]

    async def say(self, user_id: int, text: str, *, replies: int = 1, **sender: Any) -> list[str]:
        """Send ``text`` as ``user_id`` (``sender``: the emulator's options, such as the
        Telegram app's ``language_code``) and return the texts of the next ``replies``
        messages."""
        before = self.sent_count(user_id)
        self.api.send_text(user_id, text, **sender)
        return await self.next_messages(user_id, before, replies)

    async def assert_replies(self, user_id: int, cases: Iterable[tuple[str, str]]) -> None:
        """Each text of ``cases`` sent in turn: its one reply contains the part paired with it."""
        for text, part in cases:
            [reply] = await self.say(user_id, text)
            assert part in reply

    async def press(
        self, user_id: int, message_id: int, data: str, *, replies: int = 0
    ) -> list[str]:
        before = self.sent_count(user_id)
        query_id = self.api.press_button(user_id, message_id, data)
        await self.api.wait_for(
            "answerCallbackQuery", lambda call: call.params.get("callback_query_id") == query_id
        )
        return await self.next_messages(user_id, before, replies)

    async def next_messages(self, chat_id: int, before: int, count: int) -> list[str]:
        if count:
            await self.api.wait_for(
                "sendMessage",
                lambda call: call.params.get("chat_id") == chat_id and call.status == 200,
                count=before + count,
            )
        return [message["text"] for message in self.messages(chat_id)[before:]]

    def last_message(self, chat_id: int) -> dict[str, Any]:
        return self.messages(chat_id)[-1]

    def buttons(self, message: dict[str, Any]) -> dict[str, str]:
        """Label -> callback data of a message's inline keyboard."""
        markup = message.get("reply_markup") or {}
        return {
            button["text"]: button["callback_data"]
            for row in markup.get("inline_keyboard", [])
            for button in row
        }

    async def onboard(self, user_id: int, zone: str = "Europe/Berlin", region: str = "uk") -> None:
        """Consent, pick a time zone by typing it and a region by button."""
        await self.say(user_id, "/start")
        welcome = self.last_message(user_id)
        await self.press(user_id, welcome["message_id"], "consent:yes", replies=1)
        await self.say(user_id, f"/timezone {zone}", replies=2)
        ask_region = self.last_message(user_id)
        # "All set", then the last question: how reminders repeat (left at "once" here).
        await self.press(user_id, ask_region["message_id"], f"region:{region}", replies=2)


StartBot = Callable[..., Any]


@pytest.fixture
async def start_bot(
    api: FakeBotAPI,
    clock: FakeClock,
    monotonic: Monotonic,
    library: ContentLibrary,
    tmp_path: Path,
) -> AsyncIterator[Callable[..., Any]]:
    """Start the bot (optionally with other settings); every bot started is stopped at the end."""
    running: list[tuple[asyncio.Event, asyncio.Task[None]]] = []

    async def start(**overrides: str) -> RunningBot:
        settings = make_settings(api, tmp_path, **overrides)
        application = build_application(settings, library, clock, monotonic)
        stop = asyncio.Event()
        task = asyncio.create_task(serve(application, settings, stop))
        running.append((stop, task))
        if settings.bot_mode == "webhook":
            await api.wait_for("setWebhook")
            await wait_until_listening(settings.webhook_listen, settings.webhook_port)
        else:
            await api.wait_until_polling()
        return RunningBot(application, api, clock, library.get("en"), stop, task)

    yield start
    for stop, task in running:
        if not task.done():
            stop.set()
            await task


@pytest.fixture
async def bot(start_bot: Callable[..., Any]) -> RunningBot:
    started: RunningBot = await start_bot()
    return started


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def wait_until_listening(host: str, port: int, timeout: float = 5.0) -> None:  # noqa: ASYNC109
    """Wait until a TCP server accepts connections on ``host:port``."""
    async with asyncio.timeout(timeout):
        while True:
            try:
                _, writer = await asyncio.open_connection(host, port)
            except OSError:
                await asyncio.sleep(0.02)
                continue
            writer.close()
            await writer.wait_closed()
            return


def process_env(**values: str) -> dict[str, str]:
    """A clean environment for ``python -m bot``: PATH plus what the test sets, no .env."""
    return {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), **values}


def bot_env(api: FakeBotAPI, database: Path, **values: str) -> dict[str, str]:
    """The environment of a bot process that talks to ``api`` and keeps data in ``database``."""
    return process_env(
        TELEGRAM_BOT_TOKEN=TEST_TOKEN,
        TELEGRAM_API_BASE_URL=api.url,
        CONTENT_DIR=str(CONTENT_DIR),
        DATABASE_PATH=str(database),
        **values,
    )


async def start_process(env: dict[str, str], cwd: Path, *args: str) -> asyncio.subprocess.Process:
    """``python -m bot [args]``; with no args, the bot itself."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


# Tests by kind: the folder a test lives in is its marker (`pytest -m unit`, `-m chat`, ...).
_KINDS = ("unit", "chat", "process", "browser")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        kind = item.path.parent.name
        if kind in _KINDS:
            item.add_marker(getattr(pytest.mark, kind))
