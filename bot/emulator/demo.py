"""``python -m bot demo``: the real bot, a local Bot API emulator and a web chat, on 127.0.0.1.

No token and no network: the bot talks to the emulator (``bot.emulator.api``) exactly as it
talks to Telegram, and the page (``bot.emulator.web``) plays the patients and the admin. The
bot's clock is a :class:`ShiftedClock`, so the page's time machine moves it forward: to each
instant on the way at which the reminder service has work, in turn, letting it send what is due
there, as it would in real life (so follow-ups and caregiver alerts are never skipped over).
Each start is a fresh demo: the chats live in memory, so the database under ``data/demo/``
starts empty too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.app import build_application, serve
from bot.clock import ShiftedClock
from bot.config import ConfigError, Settings, configure_logging, load_settings
from bot.content import ContentError, ContentLibrary, load_library
from bot.context import SERVICES_KEY, Services
from bot.emulator.api import TEST_TOKEN, FakeBotAPI
from bot.emulator.web import DemoChat, DemoUser
from bot.ops import content_problem

log = logging.getLogger(__name__)

HOST = "127.0.0.1"  # never anything else: the demo is for the machine it runs on
DEFAULT_PORT = 8765
DEFAULT_DATA_DIR = Path("data/demo")
# Not bot.sqlite3: each start deletes it, so even `--data-dir data` cannot touch a real database.
DEMO_DATABASE = "demo.sqlite3"
ADMIN_USER = DemoUser(9001, "Clinic admin", "admin")
USERS: tuple[DemoUser, ...] = (
    DemoUser(1001, "Anna", "patient"),
    DemoUser(1002, "Ben", "patient"),
    DemoUser(1003, "Olga", "patient", language_code="ru"),  # her Telegram speaks Russian
    ADMIN_USER,
)
NEXT_DOSE_HORIZON = timedelta(days=3)
# What the demo may take from the environment; nothing else (no token, no Bot API address).
_PASSED_ON = ("CONTENT_DIR", "LOG_LEVEL", "LOG_FORMAT", "DEFAULT_TIMEZONE")


def demo_settings(api_url: str, data_dir: Path) -> Settings:
    environ = {name: os.environ[name] for name in _PASSED_ON if os.environ.get(name)}
    environ.update(
        TELEGRAM_BOT_TOKEN=TEST_TOKEN,
        TELEGRAM_API_BASE_URL=api_url,
        DATABASE_PATH=str(data_dir / DEMO_DATABASE),
        ADMIN_IDS=str(ADMIN_USER.user_id),
        BOT_MODE="polling",
    )
    return load_settings(environ=environ, dotenv_path=None)


def fresh_database(data_dir: Path) -> None:
    """Drop the last demo's database (and its WAL files): its chats are gone with the page."""
    data_dir.mkdir(parents=True, exist_ok=True)
    for leftover in data_dir.glob(f"{DEMO_DATABASE}*"):
        leftover.unlink()


async def run_demo(
    settings: Settings,
    pack: ContentLibrary,
    *,
    port: int,
    data_dir: Path,
    stop: asyncio.Event,
    announce: Callable[[str], None],
    clock: ShiftedClock | None = None,
) -> None:
    """Serve the demo until ``stop`` is set; ``announce`` gets the page's address once ready.
    ``clock`` defaults to real time (tests pass one that starts at a fixed instant)."""
    api = FakeBotAPI()
    await api.start()
    clock = clock or ShiftedClock()
    settings = replace(settings, telegram_api_base_url=api.url)
    application = build_application(settings, pack, clock)

    def services() -> Services:
        found: Services = application.bot_data[SERVICES_KEY]
        return found

    async def next_dose(user_id: int, after: datetime) -> datetime | None:
        # The dose rows the reminder service keeps ahead (two days at least), strictly after
        # now: pressed at a dose time, the next one is the one after it.
        events = await services().doses.events_between(
            user_id, after + timedelta(seconds=1), after + NEXT_DOSE_HORIZON
        )
        return next((event.due_at for event in events if event.status == "scheduled"), None)

    async def user_zone(user_id: int) -> ZoneInfo:
        user = await services().users.get(user_id)
        return services().zones.zone_for(None if user is None else user.timezone)

    async def next_event() -> datetime | None:
        return await services().reminders.next_due_at()

    async def dispatch() -> None:
        await services().reminders.run_due()

    chat = DemoChat(
        api,
        clock,
        USERS,
        next_dose=next_dose,
        user_zone=user_zone,
        next_event=next_event,
        dispatch=dispatch,
    )
    try:
        try:
            await chat.start(HOST, port)
        except OSError as error:
            raise ConfigError(
                f"demo port {port} cannot be used on {HOST}: {error.strerror or error} "
                "(choose another with --port)"
            ) from None
        fresh_database(data_dir)
        bot_task = asyncio.create_task(serve(application, settings, stop))
        polling = asyncio.create_task(api.wait_until_polling(timeout=120))
        await asyncio.wait({bot_task, polling}, return_when=asyncio.FIRST_COMPLETED)
        if not polling.done():  # the bot stopped (or failed) before it polled
            polling.cancel()
        elif polling.exception() is not None:  # never polled: stop it and say so
            stop.set()
            await bot_task
            raise ConfigError("the bot did not start polling the emulator within 120 s")
        elif not bot_task.done():
            log.info("demo_ready")
            announce(chat.url)
        with contextlib.suppress(asyncio.CancelledError):
            await polling
        await bot_task
    finally:
        await chat.close()
        await api.close()


def main(port: int = DEFAULT_PORT, data_dir: Path = DEFAULT_DATA_DIR) -> int:
    """The ``python -m bot demo`` command; exit status 2 on a configuration error."""
    try:
        # The real address of the emulator is known only once it listens.
        settings = demo_settings("http://127.0.0.1", data_dir)
        configure_logging(settings.log_level, settings.log_format)
        pack = load_library(settings.content_dir)
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    except ContentError as error:
        print(f"configuration error: {content_problem(settings, error)}", file=sys.stderr)
        return 2

    def announce(url: str) -> None:
        print(f"Demo ready: open {url} in your browser (Ctrl+C stops it).", flush=True)

    async def serve_demo() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await run_demo(settings, pack, port=port, data_dir=data_dir, stop=stop, announce=announce)

    try:
        asyncio.run(serve_demo())
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    return 0
