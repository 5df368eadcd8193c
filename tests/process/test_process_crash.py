"""``python -m bot`` stopped while reminders are in flight (SIGKILL, SIGTERM), then restarted."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from bot.emulator.api import ApiCall, FakeBotAPI
from tests.conftest import bot_env, start_process
from tests.reminder_helpers import reminder_texts
from tests.seed import seed_due_doses, seed_repeats_due

USERS = range(7001, 7021)


async def _start(api: FakeBotAPI, database: Path, cwd: Path) -> asyncio.subprocess.Process:
    return await start_process(bot_env(api, database, LOG_LEVEL="WARNING"), cwd)


async def _kill_with_every_send_in_flight(api: FakeBotAPI, database: Path, folder: Path) -> None:
    """Start the bot, hold every answer in flight (Telegram has the message, the bot has not
    heard back yet) until each user's message was asked for, then SIGKILL it."""
    api.answer_delay["sendMessage"] = 2.0
    first = await _start(api, database, folder)
    try:
        await api.wait_for_requests("sendMessage", count=len(USERS), timeout=20)
    finally:
        first.send_signal(signal.SIGKILL)
        await first.wait()


@pytest.mark.process
async def test_sigkill_mid_burst_loses_nothing_and_marks_repeats(
    tmp_path: Path, api: FakeBotAPI
) -> None:
    database = tmp_path / "bot.sqlite3"
    await seed_due_doses(database, USERS, [timedelta(seconds=2)])
    await _kill_with_every_send_in_flight(api, database, tmp_path)
    delivered_before_kill = sum(len(reminder_texts(api, user)) for user in USERS)
    assert delivered_before_kill >= 1

    api.answer_delay.clear()
    restarted_at = api.clock.monotonic()  # the killed process's calls are answered late: skip them
    second = await _start(api, database, tmp_path)
    try:
        # The first process may have delivered every reminder before it died: wait until the
        # second one has reached the Bot API (its signal handlers are installed by then).
        await api.wait_for("getMe", count=2, timeout=20)
        for user in USERS:
            await api.wait_for("sendMessage", _to(user, after=restarted_at), timeout=20)
        await asyncio.sleep(0.5)  # anything still due would go out now
    finally:
        second.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(second.wait(), timeout=20) == 0

    repeats = 0
    for user in USERS:
        texts = reminder_texts(api, user)
        assert texts, f"user {user} lost their reminder"
        plain = [text for text in texts if "Repeat" not in text]
        assert len(plain) <= 1, f"user {user} got an unmarked duplicate"
        repeats += len(texts) - len(plain)
        if len(texts) > 1:
            assert "If you already took this dose, do not take it again" in texts[-1]
    # Every reminder whose answer the killed process never saw was re-sent as a repeat.
    assert repeats >= 1


@pytest.mark.process
async def test_sigterm_mid_burst_finishes_sends_in_flight_and_releases_the_rest(
    tmp_path: Path, api: FakeBotAPI
) -> None:
    database = tmp_path / "bot.sqlite3"
    # Two groups of patients with a dose due: the first group's reminders are held in flight
    # when SIGTERM comes; the second group's rows are claimed in the same pass and wait
    # behind them. (One patient never gets two reminders in a pass: two doses due at once
    # are one dose and a passed one, the dose-safety check of issue 19.)
    late_users = range(7101, 7101 + 40)
    await seed_due_doses(database, USERS, [timedelta(seconds=60)])
    await seed_due_doses(database, late_users, [timedelta(seconds=2)])
    api.answer_delay["sendMessage"] = 1.5  # hold the first reminders in flight
    first = await _start(api, database, tmp_path)
    try:
        await api.wait_for_requests("sendMessage", count=len(USERS), timeout=20)
    finally:
        first.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(first.communicate(), timeout=30)
    assert first.returncode == 0, stderr.decode()
    assert "reminder_pass_cut_short" not in stderr.decode()
    everyone = [*USERS, *late_users]
    # The sends in flight finished; what had not left was released, never half-sent.
    assert all(len(reminder_texts(api, user)) <= 1 for user in everyone)
    with sqlite3.connect(database) as connection:
        claimed = connection.execute(
            "SELECT COUNT(*) FROM dose_events WHERE claimed_at IS NOT NULL"
        ).fetchone()[0]
        statuses = Counter(row[0] for row in connection.execute("SELECT status FROM dose_events"))
        repeats = connection.execute("SELECT SUM(resend_as_repeat) FROM dose_events").fetchone()[0]
    connection.close()
    assert claimed == 0, "a row stayed claimed after a clean stop"
    assert set(statuses) <= {"sent", "scheduled"}
    assert statuses["sent"] == sum(len(reminder_texts(api, user)) for user in everyone)
    assert repeats == 0

    api.answer_delay.clear()
    second = await _start(api, database, tmp_path)
    try:
        await api.wait_for("getMe", count=2, timeout=20)  # its signal handlers are installed
        for user in everyone:
            await api.wait_for("sendMessage", _to(user), count=1, timeout=20)
        await asyncio.sleep(0.5)  # anything still due would go out now
    finally:
        second.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(second.wait(), timeout=20) == 0
    # Nothing lost, nothing twice: the released doses went out once, as first sends.
    for user in everyone:
        texts = reminder_texts(api, user)
        assert len(texts) == 1, f"user {user} got {len(texts)} reminders"
        assert not any("Repeat" in text for text in texts)


@pytest.mark.process
async def test_sigkill_with_repeats_in_flight_sends_no_repeat_twice(
    tmp_path: Path, api: FakeBotAPI
) -> None:
    """Patients who chose repeats every 10 minutes, each with a repeat due now: SIGKILL while
    the repeats are in flight (Telegram has them, the bot has not heard back), restart. A
    repeat that may have arrived is never sent again; the run goes on one interval later."""
    database = tmp_path / "bot.sqlite3"
    now = await seed_repeats_due(database, USERS)
    await _kill_with_every_send_in_flight(api, database, tmp_path)

    api.answer_delay.clear()
    restarted_at = api.clock.monotonic()  # the killed process's calls are answered late: skip them
    second = await _start(api, database, tmp_path)
    try:
        await api.wait_for("getMe", count=2, timeout=20)  # its signal handlers are installed
        await asyncio.sleep(1.5)  # anything due after the restart would go out now
    finally:
        second.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(second.wait(), timeout=20) == 0
    delivered = 0
    for user in USERS:
        # What the chat holds (the stand-in keeps a message whose answer never reached the
        # killed process; a request cut off on its way holds none), and what the second
        # process sent: nothing, since a repeat that may have arrived is not sent again.
        repeats = [
            message
            for message in api.messages_to(user)
            if "has no answer yet" in (message["text"] or "")
        ]
        assert len(repeats) <= 1, f"user {user} has {len(repeats)} repeats"
        delivered += len(repeats)
        assert not [
            call for call in api.calls_of("sendMessage") if _to(user, after=restarted_at)(call)
        ], f"user {user} got a message after the restart"
    assert delivered >= 1
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT status, claimed_at, next_action_at FROM dose_events"
        ).fetchall()
    connection.close()
    assert len(rows) == len(USERS)
    for status, claimed_at, next_action_at in rows:
        # Still unanswered, not claimed, the next repeat about 10 minutes after the claim.
        assert (status, claimed_at) == ("sent", None)
        assert next_action_at is not None
        assert 9 * 60 <= next_action_at - int(now.timestamp()) <= 11 * 60


def _to(user: int, *, after: float | None = None) -> Callable[[ApiCall], bool]:
    """Matches the calls that send to ``user`` (made after ``after``, if given)."""

    def matches(call: ApiCall) -> bool:
        return call.params["chat_id"] == user and (after is None or call.at > after)

    return matches
