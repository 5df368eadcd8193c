"""Bad storage at start, as an operator meets it: ``python -m bot`` stops with one line."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from pathlib import Path

import pytest

from bot.emulator.api import FakeBotAPI
from tests.conftest import bot_env, start_process

EXIT_CONFIG = 2  # systemd's RestartPreventExitStatus and the README name this status


async def _run(api: FakeBotAPI, database: Path, cwd: Path) -> tuple[int, str]:
    process = await start_process(bot_env(api, database), cwd)
    try:
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise AssertionError("the bot kept running on unusable storage") from None
    assert process.returncode is not None
    return process.returncode, stderr.decode()


def _one_line_naming_the_path(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    errors = [line for line in stderr.strip().splitlines() if "DATABASE_PATH" in line]
    assert len(errors) == 1, stderr
    return errors[0]


@pytest.mark.process
async def test_a_file_that_is_not_sqlite_stops_the_bot(tmp_path: Path, api: FakeBotAPI) -> None:
    database = tmp_path / "bot.sqlite3"
    database.write_text("these are my notes, not a database\n" * 100)
    code, stderr = await _run(api, database, tmp_path)
    assert code == EXIT_CONFIG
    line = _one_line_naming_the_path(stderr)
    assert "not a database" in line
    assert "restore a backup" in line  # what to do


@pytest.mark.process
@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
async def test_a_database_in_a_read_only_folder_stops_the_bot(
    tmp_path: Path, api: FakeBotAPI
) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    database = folder / "bot.sqlite3"
    sqlite3.connect(database).close()
    folder.chmod(0o500)
    try:
        code, stderr = await _run(api, database, tmp_path)
    finally:
        folder.chmod(0o700)
    assert code == EXIT_CONFIG
    line = _one_line_naming_the_path(stderr)
    assert "writable" in line


def test_systemd_does_not_restart_after_a_configuration_error() -> None:
    from bot.__main__ import EXIT_CONFIG as exit_config
    from tests.conftest import ROOT

    unit = (ROOT / "deploy" / "systemd" / "baclofen-bot.service").read_text()
    assert exit_config == EXIT_CONFIG
    assert f"RestartPreventExitStatus={exit_config}" in unit.splitlines()
    assert f"exit status {exit_config}" in (ROOT / "README.md").read_text()
