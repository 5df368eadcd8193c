"""Operator commands: ``python -m bot check`` and ``python -m bot backup <file>``.

Each prints one line: ``ok: ...`` on stdout, or on stderr what failed and what to fix, with a
non-zero exit status that a Docker health check, a monitoring job or a cron job can act on.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass, field
from pathlib import Path

from telegram import Bot
from telegram.error import InvalidToken, TelegramError

from bot.config import Settings
from bot.content import ContentError, load_library
from bot.delivery.transport import BotApiRequest
from bot.storage.maintenance import (
    BackupTargetProblem,
    DatabaseProblem,
    backup_database,
    inspect_database,
)

EXIT_FAILED = 1
TOKEN_CHECK_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class CheckReport:
    problem: str | None = None  # the first failure, one line; None when healthy
    passed: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


async def run_checks(settings: Settings) -> CheckReport:
    """Content pack, database and migrations, then the token (settings are already valid)."""
    passed = ["configuration"]
    try:
        pack = load_library(settings.content_dir)
    except ContentError as error:
        return CheckReport(problem=content_problem(settings, error))
    passed.append(f"content pack {pack.version}")
    try:
        schema = await asyncio.to_thread(inspect_database, settings.database_path)
    except DatabaseProblem as error:
        return CheckReport(problem=f"DATABASE_PATH {settings.database_path} {error}")
    passed.append(f"database schema {schema.version}")
    try:
        username = await _bot_username(settings)
    except InvalidToken:
        return CheckReport(problem="TELEGRAM_BOT_TOKEN was rejected by the Bot API server")
    except TelegramError as error:
        # Telegram down or the network out: the bot retries by itself, so only a warning.
        warning = (
            f"Bot API at {settings.telegram_api_base_url} did not answer getMe "
            f"({type(error).__name__}): token not verified"
        )
        return CheckReport(passed=passed, warnings=[warning])
    passed.append(f"token of @{username}")
    return CheckReport(passed=passed)


def content_problem(settings: Settings, error: ContentError) -> str:
    more = len(error.problems) - 1
    return (
        f"CONTENT_DIR {settings.content_dir} holds an invalid content pack: {error.problems[0]}"
        + (f" (and {more} more)" if more else "")
    )


async def _bot_username(settings: Settings) -> str:
    request = BotApiRequest(
        1, connect_timeout=TOKEN_CHECK_TIMEOUT_SECONDS, read_timeout=TOKEN_CHECK_TIMEOUT_SECONDS
    )
    bot = Bot(
        settings.telegram_bot_token,
        base_url=settings.bot_api_base_url,
        base_file_url=settings.bot_api_file_url,
        request=request,
    )
    async with bot:  # initialize() calls getMe
        return bot.username


def check_command(settings: Settings) -> int:
    report = asyncio.run(run_checks(settings))
    if report.problem is not None:
        _fail(f"check failed: {report.problem}")
        return EXIT_FAILED
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr, flush=True)
    print("ok: " + ", ".join(report.passed), flush=True)
    return 0


def backup_command(settings: Settings, target: Path) -> int:
    try:
        size = backup_database(settings.database_path, target)
    except DatabaseProblem as error:
        _fail(f"backup failed: DATABASE_PATH {settings.database_path} {error}")
        return EXIT_FAILED
    except BackupTargetProblem as error:
        _fail(f"backup failed: {target} {error}")
        return EXIT_FAILED
    except OSError as error:
        _fail(f"backup failed: cannot write {target}: {error.strerror or error}")
        return EXIT_FAILED
    print(f"ok: backup written to {target} ({size} bytes, integrity checked)", flush=True)
    return 0


def _fail(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
