"""``python -m bot check`` and ``python -m bot backup``: what operators run, and what they say."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.domain.plans import Plan, Step
from bot.domain.schedule import slots_between
from bot.emulator.api import FakeBotAPI
from bot.ops import run_checks
from bot.storage.db import Database
from bot.storage.doses import DoseStore
from bot.storage.maintenance import DatabaseProblem, backup_database
from bot.storage.users import UserStore
from tests.conftest import CONTENT_DIR, bot_env, free_port, make_settings, start_process

NOW = datetime(2026, 1, 11, 9, 0, tzinfo=UTC)
PLAN = Plan(
    "custom", NOW.date(), (Step.same_at([time(8), time(14), time(20)], Decimal(10), 30),), False
)
SLOTS = slots_between(PLAN, ZoneInfo("UTC"), NOW, NOW + timedelta(days=1))


async def _create_database(path: Path) -> None:
    database = await Database.open(path)
    await database.close()


async def _run(env: dict[str, str], cwd: Path, *args: str) -> tuple[int, str, str]:
    process = await start_process(env, cwd, *args)
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


# ------------------------------------------------------------------------------ check


async def test_check_passes_on_a_healthy_setup(api: FakeBotAPI, tmp_path: Path) -> None:
    settings = make_settings(api, tmp_path)
    await _create_database(settings.database_path)
    report = await run_checks(settings)
    assert report.problem is None
    assert report.warnings == []
    assert "token of @baclofen_test_bot" in report.passed
    assert any(item.startswith("database schema ") for item in report.passed)


def _spoil(path: Path, how: str) -> None:
    """Turn the healthy database at ``path`` into the case ``how``."""
    match how:
        case "missing":
            path.unlink()
        case "folder":
            path.unlink()
            path.mkdir()
        case "garbage":
            path.write_bytes(b"this is not a database " * 200)
        case "foreign":
            path.unlink()
            with sqlite3.connect(path) as connection:
                connection.execute("CREATE TABLE notes (text TEXT)")
            connection.close()
        case "pending" | "newer":
            with sqlite3.connect(path) as connection:
                if how == "pending":
                    connection.execute(
                        "DELETE FROM schema_version WHERE version ="
                        " (SELECT MAX(version) FROM schema_version)"
                    )
                else:
                    connection.execute(
                        "INSERT INTO schema_version VALUES (9999, '9999_future.sql', 0)"
                    )
            connection.close()


@pytest.mark.parametrize(
    ("how", "reason"),
    [
        ("missing", "does not exist"),
        ("folder", "is not a file"),
        ("garbage", "file is not a database"),
        ("foreign", "holds no bot schema"),
        ("pending", "migration(s) pending"),
        ("newer", "schema version 9999, newer than this code knows"),
    ],
)
async def test_check_names_each_database_problem(
    api: FakeBotAPI, tmp_path: Path, how: str, reason: str
) -> None:
    settings = make_settings(api, tmp_path)
    await _create_database(settings.database_path)
    _spoil(settings.database_path, how)
    report = await run_checks(settings)
    assert report.problem is not None
    assert report.problem.startswith(f"DATABASE_PATH {settings.database_path} ")
    assert reason in report.problem
    assert "\n" not in report.problem
    if how == "missing":
        assert not settings.database_path.exists(), "check must never create the database"


async def test_check_refuses_an_invalid_content_pack(api: FakeBotAPI, tmp_path: Path) -> None:
    broken = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, broken)
    (broken / "sources.toml").write_text("")
    settings = make_settings(api, tmp_path, CONTENT_DIR=str(broken))
    await _create_database(settings.database_path)
    report = await run_checks(settings)
    assert report.problem is not None
    assert report.problem.startswith(f"CONTENT_DIR {broken} holds an invalid content pack")


async def test_check_fails_when_the_token_is_rejected(api: FakeBotAPI, tmp_path: Path) -> None:
    settings = make_settings(
        api, tmp_path, TELEGRAM_BOT_TOKEN="987654321:REVOKED-token-abcdefghijklmnopqrstu"
    )
    await _create_database(settings.database_path)
    report = await run_checks(settings)
    assert report.problem == "TELEGRAM_BOT_TOKEN was rejected by the Bot API server"
    assert "REVOKED" not in report.problem


async def test_check_only_warns_when_the_bot_api_is_unreachable(
    api: FakeBotAPI, tmp_path: Path
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    settings = make_settings(api, tmp_path, TELEGRAM_API_BASE_URL=nowhere)
    await _create_database(settings.database_path)
    report = await run_checks(settings)
    assert report.problem is None
    [warning] = report.warnings
    assert f"Bot API at {nowhere} did not answer getMe (NetworkError)" in warning
    assert not any(item.startswith("token") for item in report.passed)


@pytest.mark.process
@pytest.mark.parametrize(
    ("setup", "code", "line_start"),
    [
        ("healthy", 0, "ok: configuration, content pack "),
        ("no-database", 1, "check failed: DATABASE_PATH "),
        ("bad-setting", 2, "configuration error: LOG_FORMAT must be one of plain, json"),
    ],
)
async def test_check_command_exit_status_and_one_line(
    api: FakeBotAPI, tmp_path: Path, setup: str, code: int, line_start: str
) -> None:
    database = tmp_path / "bot.sqlite3"
    env = bot_env(api, database)
    if setup == "healthy":
        await _create_database(database)
    if setup == "bad-setting":
        env["LOG_FORMAT"] = "xml"
    status, stdout, stderr = await _run(env, tmp_path, "check")
    assert status == code
    [line] = (stdout if code == 0 else stderr).splitlines()
    assert line.startswith(line_start)
    assert (stderr if code == 0 else stdout) == ""


# ----------------------------------------------------------------------------- backup


async def test_backup_while_writing_is_consistent_and_restores(
    api: FakeBotAPI, tmp_path: Path
) -> None:
    live = tmp_path / "bot.sqlite3"
    copy = tmp_path / "backups" / "bot-backup.sqlite3"
    copy.parent.mkdir()
    database = await Database.open(live)
    users, doses = UserStore(database), DoseStore(database)
    written = 0
    stop = asyncio.Event()

    async def keep_writing() -> None:
        """Each plan and its three dose events are written in one transaction."""
        nonlocal written
        while not stop.is_set():
            user_id = 10_000 + written
            await users.record_consent(user_id, NOW)
            await doses.replace_plan(
                user_id,
                PLAN,
                SLOTS,
                now=NOW,
                materialized_until=NOW + timedelta(days=1),
                high_dose_confirmed=False,
            )
            written += 1

    writer = asyncio.create_task(keep_writing())
    try:
        for _ in range(200):  # until a backup of some plans ran while the writer wrote
            before = written
            await asyncio.to_thread(backup_database, live, copy)
            if 0 < before < written:
                break
        else:
            pytest.fail("no backup overlapped a write")
    finally:
        stop.set()
        await writer
        await database.close()

    plans = _check_copy(copy)
    assert 0 < plans <= written

    # Restore: the copy becomes the database, and it passes `check`.
    restored = tmp_path / "restored.sqlite3"
    shutil.copy2(copy, restored)
    report = await run_checks(make_settings(api, tmp_path, DATABASE_PATH=str(restored)))
    assert report.problem is None, report.problem


def _check_copy(copy: Path) -> int:
    """Assert the backup is sound and consistent; return how many plans it holds."""
    assert (copy.stat().st_mode & 0o777) == 0o600
    # One self-contained file: no -wal or leftover temporary file beside it.
    assert [path.name for path in copy.parent.iterdir()] == [copy.name]
    with sqlite3.connect(copy) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        plans: int = connection.execute("SELECT COUNT(*) FROM plans").fetchone()[0]
        events = connection.execute("SELECT COUNT(*) FROM dose_events").fetchone()[0]
        orphans = connection.execute(
            "SELECT COUNT(*) FROM plans LEFT JOIN users USING (user_id) WHERE users.user_id IS NULL"
        ).fetchone()[0]
    connection.close()
    assert events == len(SLOTS) * plans, "a plan was copied without its dose events"
    assert orphans == 0
    return plans


def test_backup_never_creates_a_missing_database(tmp_path: Path) -> None:
    with pytest.raises(DatabaseProblem, match="does not exist"):
        backup_database(tmp_path / "absent.sqlite3", tmp_path / "copy.sqlite3")
    assert sorted(tmp_path.iterdir()) == []


@pytest.mark.process
async def test_backup_command_writes_an_owner_only_copy(api: FakeBotAPI, tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite3"
    await _create_database(database)
    env = bot_env(api, database)
    target = tmp_path / "bot-backup.sqlite3"
    status, stdout, stderr = await _run(env, tmp_path, "backup", str(target))
    assert (status, stderr) == (0, "")
    [line] = stdout.splitlines()
    assert line.startswith(f"ok: backup written to {target}")
    assert (target.stat().st_mode & 0o777) == 0o600

    status, stdout, stderr = await _run(env, tmp_path, "backup", str(tmp_path / "no" / "x.db"))
    assert (status, stdout) == (1, "")
    [line] = stderr.splitlines()
    assert line.startswith("backup failed: ")
    assert "folder that does not exist" in line
