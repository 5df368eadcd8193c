"""Burst: N reminders due in the same minute, through a stand-in that enforces Telegram's
limits (about 30 messages a second overall, 1 a second per chat).

    python -m bench.burst [--reminders 10000] [--module bot]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.datagen import _migrate
from bench.harness import ROOT, BotProcess, pin_this_process_elsewhere
from bot.emulator.api import FakeBotAPI

LEAD_SECONDS = 5  # the doses fall due this long after the data is written
REMINDER_MARK = "Time for your dose"


@dataclass(frozen=True)
class BurstResult:
    design: str
    reminders: int
    drain_s: float
    floor_s: float
    lost: int
    duplicated: int
    retry_after_429: int
    lateness_p50_s: float
    lateness_p99_s: float
    lateness_max_s: float


@dataclass(frozen=True)
class _Dose:
    """The one dose each patient gets, and what it says of its reminder so far."""

    due_at: int  # unix seconds, on the minute
    next_action_at: int
    status: str = "scheduled"
    repeat_minutes: int = 0  # the patient's choice; 0: once, with one follow-up
    plan_made_at: int | None = None  # the plan's created_at (and the consent); None: due_at
    sent_at: int | None = None
    message_id: int | None = None
    attempts: int = 0


def _write_patients(
    path: Path, patients: int, dose: _Dose, materialized_until: int, source: Path = ROOT
) -> None:
    """``patients`` users in UTC, each with a one-time custom plan and ``dose``; the schema
    made by the tree ``source``."""
    _migrate(path, source)
    day = datetime.fromtimestamp(dose.due_at, UTC).date().isoformat()
    at = datetime.fromtimestamp(dose.due_at, UTC).strftime("%H:%M")
    consented = dose.due_at
    plan_made = dose.plan_made_at if dose.plan_made_at is not None else dose.due_at
    connection = sqlite3.connect(path)
    with connection:
        for user_id in range(1, patients + 1):
            connection.execute(
                "INSERT INTO users (user_id, timezone, consented_at, created_at,"
                " reminder_repeat_minutes) VALUES (?, 'UTC', ?, ?, ?)",
                (user_id, consented, consented, dose.repeat_minutes),
            )
            plan_id = connection.execute(
                "INSERT INTO plans (user_id, kind, start_date, times, steps, ends_after_last_step,"
                " materialized_until, created_at) VALUES (?, 'custom', ?, ?, ?, 0, ?, ?)",
                (user_id, day, at, f"{at}=10 x30", materialized_until, plan_made),
            ).lastrowid
            connection.execute(
                "INSERT INTO dose_events (user_id, plan_id, due_at, local_date, local_time, mg,"
                " step_number, step_count, day_number, is_step_start, is_maintenance,"
                " is_last_step_dose, status, next_action_at, sent_at, message_id, attempts)"
                " VALUES (?, ?, ?, ?, ?, '10', 1, 1, 1, 0, 0, 0, ?, ?, ?, ?, ?)",
                (
                    user_id,
                    plan_id,
                    dose.due_at,
                    day,
                    at,
                    dose.status,
                    dose.next_action_at,
                    dose.sent_at,
                    dose.message_id,
                    dose.attempts,
                ),
            )
    connection.close()


def prepare(path: Path, reminders: int, due: int, source: Path = ROOT) -> None:
    """``reminders`` users, each with one dose due at ``due`` (unix seconds)."""
    dose = _Dose(due_at=due, next_action_at=due)
    _write_patients(path, reminders, dose, due + 48 * 3600, source)


def prepare_repeats(path: Path, patients: int, due: int) -> None:
    """``patients`` users who chose repeats every 10 minutes, each with a dose whose reminder
    went out 10 minutes before ``due`` (unix seconds) and has no answer: its first repeat is
    due at ``due``. The reminder's message is not in the stand-in's chat (the repeat's delete
    finds nothing to take back)."""
    dose_at = (due - 600) // 60 * 60  # on the minute, as a plan's dose time is
    dose = _Dose(
        due_at=dose_at,
        next_action_at=due,
        status="sent",
        repeat_minutes=10,
        plan_made_at=dose_at - 60,
        sent_at=dose_at,
        message_id=999999,
        attempts=1,
    )
    _write_patients(path, patients, dose, due + 48 * 3600)


async def measure(path: Path, reminders: int, due: int, module: str) -> BurstResult:
    api = FakeBotAPI(global_rate=30, per_chat_rate=1)
    await api.start()
    bot = BotProcess(api, path, module)
    try:
        await bot.start()
        deadline = time.monotonic() + 3 * reminders / 30 + 60
        while time.monotonic() < deadline:
            await asyncio.sleep(1.0)
            if len(reminder_deliveries(api)) >= reminders:
                break
        await asyncio.sleep(2.0)  # anything sent twice would show up now
    finally:
        await bot.stop()
        await api.close()
    deliveries = reminder_deliveries(api)
    per_user = Counter(chat for chat, _ in deliveries)
    # Convert the due instant to the stand-in's monotonic clock.
    offset = time.monotonic() - time.time()
    lateness = sorted(at - (due + offset) for _, at in deliveries) or [float("nan")]
    return BurstResult(
        design=module,
        reminders=reminders,
        drain_s=lateness[-1],
        floor_s=reminders / 30,
        lost=reminders - len(per_user),
        duplicated=sum(count - 1 for count in per_user.values()),
        retry_after_429=api.retry_after_count,
        lateness_p50_s=statistics.median(lateness),
        lateness_p99_s=lateness[min(len(lateness) - 1, int(len(lateness) * 0.99))],
        lateness_max_s=lateness[-1],
    )


def reminder_deliveries(api: FakeBotAPI, mark: str = REMINDER_MARK) -> list[tuple[int, float]]:
    """(chat, when) of every reminder (a message that says ``mark``) the stand-in delivered,
    in order."""
    return [
        (int(call.params["chat_id"]), call.at)
        for call in api.calls
        if call.method == "sendMessage"
        and call.status == 200
        and mark in str(call.params.get("text", ""))
    ]


def run(reminders: int, module: str = "bot") -> BurstResult:
    pin_this_process_elsewhere()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "burst.sqlite3"
        due = int(time.time()) + LEAD_SECONDS
        prepare(path, reminders, due)
        return asyncio.run(measure(path, reminders, due, module))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reminders", type=int, default=10_000)
    parser.add_argument("--module", default="bot")
    args = parser.parse_args()
    print(run(args.reminders, args.module))


if __name__ == "__main__":
    main()
