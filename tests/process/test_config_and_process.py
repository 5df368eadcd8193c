"""Configuration errors and the real process: ``python -m bot`` as an operator starts it."""

from __future__ import annotations

import asyncio
import shutil
import signal
import sqlite3
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings
from bot.emulator.api import TEST_TOKEN, FakeBotAPI
from tests.conftest import CONTENT_DIR, bot_env, process_env, start_process

GOOD = {"TELEGRAM_BOT_TOKEN": TEST_TOKEN}


async def _run_bot(env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    process = await start_process(env, cwd)
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


@pytest.mark.parametrize(
    ("values", "variable"),
    [
        ({}, "TELEGRAM_BOT_TOKEN"),
        ({"TELEGRAM_BOT_TOKEN": "not-a-token"}, "TELEGRAM_BOT_TOKEN"),
        ({**GOOD, "ADMIN_IDS": "12,abc"}, "ADMIN_IDS"),
        ({**GOOD, "ADMIN_IDS": "-5"}, "ADMIN_IDS"),
        ({**GOOD, "DEFAULT_TIMEZONE": "Mars/Base"}, "DEFAULT_TIMEZONE"),
        ({**GOOD, "TELEGRAM_API_BASE_URL": "ftp://example.org"}, "TELEGRAM_API_BASE_URL"),
        ({**GOOD, "TELEGRAM_API_BASE_URL": "api.telegram.org"}, "TELEGRAM_API_BASE_URL"),
        ({**GOOD, "BOT_MODE": "carrier-pigeon"}, "BOT_MODE"),
        ({**GOOD, "BOT_MODE": "webhook"}, "WEBHOOK_URL"),
        (
            {**GOOD, "BOT_MODE": "webhook", "WEBHOOK_URL": "https://bot.example.org/hook"},
            "WEBHOOK_SECRET",
        ),
        ({**GOOD, "WEBHOOK_PORT": "99999"}, "WEBHOOK_PORT"),
        ({**GOOD, "LOG_LEVEL": "chatty"}, "LOG_LEVEL"),
        ({**GOOD, "LOG_FORMAT": "xml"}, "LOG_FORMAT"),
        ({**GOOD, "METRICS_PORT": "0"}, "METRICS_PORT"),
        ({**GOOD, "METRICS_PORT": "ninety"}, "METRICS_PORT"),
        (
            {
                **GOOD,
                "BOT_MODE": "webhook",
                "WEBHOOK_URL": "https://bot.example.org/hook",
                "WEBHOOK_SECRET": "a-long-enough-secret",
                "METRICS_PORT": "8080",
            },
            "METRICS_PORT must differ from WEBHOOK_PORT",
        ),
    ],
)
def test_bad_settings_name_the_variable(values: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        load_settings(environ=values, dotenv_path=None)


def test_dotenv_is_read_and_environment_wins(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        f"# comment\nTELEGRAM_BOT_TOKEN='{TEST_TOKEN}'\nADMIN_IDS=1,2\nLOG_LEVEL=debug\n"
    )
    settings = load_settings(environ={"ADMIN_IDS": "3"}, dotenv_path=dotenv)
    assert settings.telegram_bot_token == TEST_TOKEN
    assert settings.admin_ids == frozenset({3})
    assert settings.log_level == "DEBUG"
    assert settings.bot_api_base_url == "https://api.telegram.org/bot"
    assert (settings.log_format, settings.metrics_port) == ("plain", None)


@pytest.mark.process
@pytest.mark.parametrize(
    ("values", "variable"),
    [
        ({}, "TELEGRAM_BOT_TOKEN"),
        ({**GOOD, "ADMIN_IDS": "one,two"}, "ADMIN_IDS"),
        ({**GOOD, "DEFAULT_TIMEZONE": "Nowhere/Land"}, "DEFAULT_TIMEZONE"),
        ({**GOOD, "TELEGRAM_API_BASE_URL": "not a url"}, "TELEGRAM_API_BASE_URL"),
        ({**GOOD, "DATA_RETENTION_DAYS": "forever"}, "DATA_RETENTION_DAYS"),
    ],
)
async def test_process_exits_2_with_one_line(
    tmp_path: Path, values: dict[str, str], variable: str
) -> None:
    code, stdout, stderr = await _run_bot(process_env(**values), cwd=tmp_path)
    assert code == 2
    assert stdout == ""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert variable in lines[0]
    assert "Traceback" not in stderr


@pytest.mark.process
async def test_process_refuses_an_invalid_content_pack(tmp_path: Path) -> None:
    broken = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, broken)
    (broken / "en" / "topics.toml").write_text("[halflife]\ntitle = 'only this'\n")
    code, _, stderr = await _run_bot(process_env(**GOOD, CONTENT_DIR=str(broken)), cwd=tmp_path)
    assert code == 2
    assert len(stderr.strip().splitlines()) == 1
    assert "CONTENT_DIR" in stderr


@pytest.mark.process
async def test_process_reports_an_unusable_database_path(tmp_path: Path, api: FakeBotAPI) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    env = process_env(
        **GOOD,
        TELEGRAM_API_BASE_URL=api.url,
        CONTENT_DIR=str(CONTENT_DIR),
        DATABASE_PATH=str(blocker / "sub" / "bot.sqlite3"),
    )
    code, _, stderr = await _run_bot(env, cwd=tmp_path)
    assert code == 2
    assert "DATABASE_PATH" in stderr
    assert "Traceback" not in stderr


@pytest.mark.process
async def test_process_polls_answers_and_stops_cleanly(tmp_path: Path, api: FakeBotAPI) -> None:
    database = tmp_path / "data" / "bot.sqlite3"
    process = await start_process(bot_env(api, database), tmp_path)
    try:
        await api.wait_until_polling(timeout=20)
        api.send_text(4242, "/halflife")
        await api.wait_for("sendMessage", lambda call: call.params["chat_id"] == 4242, timeout=10)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=20)
    assert process.returncode == 0, stderr.decode()
    assert (database.stat().st_mode & 0o777) == 0o600
    assert (database.parent.stat().st_mode & 0o777) == 0o700  # the folder it created, too
    with sqlite3.connect(database) as connection:
        versions = [row[0] for row in connection.execute("SELECT version FROM schema_version")]
    assert versions == sorted(versions)
    assert versions[0] == 1
    # Logs carry ids and event names, never the token or message text.
    assert TEST_TOKEN not in stderr.decode()
    assert "halflife" not in stderr.decode() or "topic=halflife" in stderr.decode()
