"""``python -m bot`` killed with SIGKILL while reminders are in flight, then restarted."""

from __future__ import annotations

import asyncio
import signal
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bot.domain.plans import Plan, Step
from bot.domain.schedule import DoseSlot
from bot.storage.db import Database
from bot.storage.doses import DoseStore
from bot.storage.users import UserStore
from tests.conftest import bot_env, start_process
from tests.fakeapi import FakeBotAPI

USERS = range(7001, 7021)


async def _prepare(path: Path) -> None:
    """Twenty users, each with one dose due right now (real time: the process uses it)."""
    now = datetime.now(UTC).replace(microsecond=0)
    database = await Database.open(path)
    try:
        users, doses = UserStore(database), DoseStore(database)
        for user_id in USERS:
            await users.record_consent(user_id, now)
            await users.set_timezone(user_id, "UTC")
            plan = Plan("custom", now.date(), (time(0, 0),), (Step(Decimal(10), 30),), False)
            slot = DoseSlot(
                due_utc=now - timedelta(seconds=2),
                local_date=now.date(),
                local_time=(now - timedelta(seconds=2)).time().replace(second=0),
                mg=Decimal(10),
                step_number=1,
                step_count=1,
                day_number=1,
                step_day=1,
                is_step_start=True,
                is_maintenance=False,
                is_last_step_dose=False,
            )
            await doses.replace_plan(
                user_id,
                plan,
                [slot],
                now=now,
                materialized_until=now + timedelta(hours=48),
                high_dose_confirmed=False,
            )
    finally:
        await database.close()


async def _start(api: FakeBotAPI, database: Path, cwd: Path) -> asyncio.subprocess.Process:
    return await start_process(bot_env(api, database, LOG_LEVEL="WARNING"), cwd)


def _reminders(api: FakeBotAPI, user_id: int) -> list[str]:
    return [
        str(message["text"])
        for message in api.messages_to(user_id)
        if "Time for your dose" in (message["text"] or "")
    ]


@pytest.mark.process
async def test_sigkill_mid_burst_loses_nothing_and_marks_repeats(
    tmp_path: Path, api: FakeBotAPI
) -> None:
    database = tmp_path / "bot.sqlite3"
    await _prepare(database)
    # Hold every answer in flight: Telegram has the message, the bot has not heard back yet.
    api.answer_delay["sendMessage"] = 0.5
    first = await _start(api, database, tmp_path)
    try:
        await api.wait_for("sendMessage", timeout=20)
    finally:
        first.send_signal(signal.SIGKILL)
        await first.wait()
    delivered_before_kill = sum(len(_reminders(api, user)) for user in USERS)
    assert delivered_before_kill >= 1

    api.answer_delay.clear()
    second = await _start(api, database, tmp_path)
    try:
        # The first process may have delivered every reminder before it died: wait until the
        # second one has reached the Bot API (its signal handlers are installed by then).
        await api.wait_for("getMe", count=2, timeout=20)
        for user in USERS:
            await api.wait_for(
                "sendMessage", lambda call, user=user: call.params["chat_id"] == user, timeout=20
            )
        await asyncio.sleep(0.5)  # anything still due would go out now
    finally:
        second.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(second.wait(), timeout=20) == 0

    repeats = 0
    for user in USERS:
        texts = _reminders(api, user)
        assert texts, f"user {user} lost their reminder"
        plain = [text for text in texts if "Repeat" not in text]
        assert len(plain) <= 1, f"user {user} got an unmarked duplicate"
        repeats += len(texts) - len(plain)
        if len(texts) > 1:
            assert "If you already took this dose, do not take it again" in texts[-1]
    # Every reminder whose answer the killed process never saw was re-sent as a repeat.
    assert repeats >= 1
