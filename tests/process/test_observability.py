"""Logs as plain lines or JSON, never message text; the Prometheus endpoint."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.emulator.api import TEST_TOKEN, FakeBotAPI
from bot.jsonlog import JsonLogFormatter
from tests.conftest import RunningBot, bot_env, free_port, start_process
from tests.reminder_helpers import advance_until_messages, save_plan

USER = 6006
PRIVATE_WORDS = "my neighbour Agatha took 40 mg yesterday"


def _record(message: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("bot.test", logging.INFO, __file__, 1, message, args, None)


def test_json_lines_carry_the_event_name_and_ids() -> None:
    line = JsonLogFormatter().format(
        _record("reminder_sent event=%d user=%d lateness_s=%.1f repeat=%d", 5, 7, 1.5, 0)
    )
    parsed = json.loads(line)
    assert parsed["event"] == "reminder_sent"
    assert parsed["fields"] == {"event": 5, "user": 7, "lateness_s": 1.5, "repeat": 0}
    assert parsed["level"] == "INFO"
    assert parsed["logger"] == "bot.test"
    assert parsed["time"].endswith("+00:00")


def test_json_keeps_free_text_of_other_libraries_apart() -> None:
    parsed = json.loads(JsonLogFormatter().format(_record("Application started")))
    assert parsed["message"] == "Application started"
    assert "event" not in parsed


@pytest.mark.process
async def test_process_logs_json_lines_without_message_text(
    tmp_path: Path, api: FakeBotAPI
) -> None:
    env = bot_env(api, tmp_path / "bot.sqlite3", LOG_FORMAT="json", LOG_LEVEL="INFO")
    process = await start_process(env, tmp_path)
    try:
        await api.wait_until_polling(timeout=20)
        api.send_text(4343, "/start")
        api.send_text(4343, PRIVATE_WORDS)
        await api.wait_for(
            "sendMessage", lambda call: call.params["chat_id"] == 4343, count=2, timeout=10
        )
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=20)
    assert process.returncode == 0, stderr.decode()
    lines = [json.loads(line) for line in stderr.decode().splitlines()]
    events = [line.get("event") for line in lines]
    for name in ("started", "ready", "stopped"):
        assert name in events
    handled = [line for line in lines if line.get("fields", {}).get("user") == 4343]
    assert handled, "the updates of user 4343 were logged by id"
    assert PRIVATE_WORDS not in stderr.decode()
    assert "Agatha" not in stderr.decode()
    assert TEST_TOKEN not in stderr.decode()


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_metrics_endpoint_counts_reminders_lateness_errors_and_updates(
    start_bot: Any,
) -> None:
    port = free_port()
    bot: RunningBot = await start_bot(METRICS_PORT=str(port))
    await bot.onboard(USER, zone="UTC")
    await save_plan(bot, USER, "/schedule custom today 10:00,18:00 10x5")
    # The first send meets a 502; the retry 15 s later gets through.
    bot.api.fail("sendMessage", status=502, description="Bad Gateway", chat_id=USER)
    bot.clock.set(datetime(2026, 1, 11, 10, tzinfo=UTC))
    await bot.api.wait_for("sendMessage", lambda call: call.status == 502)
    await bot.services.reminders.run_due()
    await advance_until_messages(bot, USER, datetime(2026, 1, 11, 10, 0, 15, tzinfo=UTC))

    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}/metrics") as response,
    ):
        assert response.status == 200
        samples = _samples(await response.text())

    assert samples[("bot_reminders_sent_total", (("kind", "reminder"),))] == 1
    assert samples[("bot_send_errors_total", (("kind", "NetworkError"),))] == 1
    assert samples[("bot_reminder_lateness_seconds_count", ())] == 1
    assert samples[("bot_reminder_lateness_seconds_sum", ())] == 15
    assert samples[("bot_reminder_lateness_seconds_bucket", (("le", "10.0"),))] == 0
    assert samples[("bot_reminder_lateness_seconds_bucket", (("le", "30.0"),))] == 1
    # /start, /timezone, /schedule typed; consent, region and Save pressed.
    assert samples[("bot_updates_handled_total", (("type", "message"),))] == 3
    assert samples[("bot_updates_handled_total", (("type", "callback_query"),))] == 3
    assert samples[("bot_broadcast_remaining", ())] == 0
    assert ("process_resident_memory_bytes", ()) in samples
