"""Start the bot as a real process against the Bot API stand-in and observe it."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

from bench.machine import cpu_seconds
from bench.memory import rss_mb
from bot.emulator.api import TEST_TOKEN, FakeBotAPI

ROOT = Path(__file__).resolve().parent.parent
BOT_CORE = 1  # the bot process runs on one core; the stand-in and the load on the other


def bot_environment(api: FakeBotAPI, database: Path, source: Path = ROOT) -> dict[str, str]:
    """The bot's environment; ``source`` is the tree whose code and content pack it runs (an
    older commit's, for bench/versus.py)."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(source),
        "TELEGRAM_BOT_TOKEN": TEST_TOKEN,
        "TELEGRAM_API_BASE_URL": api.url,
        "CONTENT_DIR": str(source / "bot" / "pack"),
        "DATABASE_PATH": str(database),
        "LOG_LEVEL": "WARNING",
    }


class BotProcess:
    """``python -m bot`` (or another module) pinned to one core."""

    def __init__(
        self,
        api: FakeBotAPI,
        database: Path,
        module: str = "bot",
        *,
        log_path: Path | None = None,
        extra_env: dict[str, str] | None = None,
        source: Path = ROOT,
    ) -> None:
        self._api = api
        self._source = source
        self._database = database
        self._module = module
        self._log_path = log_path  # the bot's stderr (its log), to look for errors afterwards
        self._extra_env = extra_env or {}
        self.process: asyncio.subprocess.Process | None = None
        self.ready_seconds = 0.0

    async def start(self, ready_timeout: float = 600.0) -> None:
        """Start and wait until the bot long-polls for updates; record how long that took."""
        started = time.perf_counter()
        log = self._log_path.open("wb") if self._log_path is not None else None
        # -P: the current folder is not put first on sys.path, so PYTHONPATH decides which
        # tree's ``bot`` runs (with -m it would be whatever checkout we were started in).
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-P", "-m", self._module,
            env={**bot_environment(self._api, self._database, self._source), **self._extra_env},
            preexec_fn=_pin_to_bot_core,
            stderr=log,
        )  # fmt: skip
        if log is not None:
            log.close()  # the child has its own copy
        await self._api.wait_until_polling(timeout=ready_timeout)
        self.ready_seconds = time.perf_counter() - started

    def rss_mb(self) -> float:
        assert self.process is not None
        return rss_mb(self.process.pid)

    def cpu_seconds(self) -> float:
        """CPU time the bot process has used so far (user + system)."""
        assert self.process is not None
        return cpu_seconds(self.process.pid)

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), timeout=60)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


def _pin_to_bot_core() -> None:
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > BOT_CORE:
        os.sched_setaffinity(0, {BOT_CORE})


def pin_this_process_elsewhere() -> None:
    """Keep the stand-in and the load generator off the bot's core."""
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > BOT_CORE:
        os.sched_setaffinity(0, {core for core in range(os.cpu_count() or 1) if core != BOT_CORE})


async def count_calls(api: FakeBotAPI, method: str, start: int = 0) -> int:
    """Successful calls of ``method`` recorded since index ``start`` (cheap to poll)."""
    await asyncio.sleep(0)
    return sum(1 for call in api.calls[start:] if call.method == method and call.status == 200)
