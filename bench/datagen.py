"""Synthetic data written straight into SQLite: users across many time zones with titration,
maintenance and taper plans, dose history, and 48 hours of upcoming doses.

    python -m bench.datagen --events 1000000 --out /tmp/bench.sqlite3
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as wall_time
from decimal import Decimal
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.harness import ROOT
from bot.domain.plans import Step, format_steps
from bot.domain.schedule import local_to_utc

ZONES = (
    "Europe/Berlin", "Europe/London", "Europe/Moscow", "America/New_York", "America/Chicago",
    "America/Los_Angeles", "America/Sao_Paulo", "Asia/Kolkata", "Asia/Tokyo", "Asia/Dubai",
    "Australia/Sydney", "Pacific/Auckland", "Pacific/Kiritimati", "Africa/Lagos", "UTC",
)  # fmt: skip
TIMES = (wall_time(8), wall_time(14), wall_time(20))
EVENTS_PER_USER = 10  # about 1.3 days of history and 2 days ahead, three doses a day
HISTORY_STATUSES = ("taken",) * 16 + ("skipped", "skipped", "missed", "sent")


@dataclass(frozen=True)
class Generated:
    users: int
    events: int
    seconds: float


@cache
def _due(zone: str, day: date, at: wall_time) -> int:
    return int(local_to_utc(day, at, ZoneInfo(zone)).timestamp())


_MIGRATE = """
import asyncio, sys
from pathlib import Path
from bot.storage.db import Database

async def migrate() -> None:
    database = await Database.open(Path(sys.argv[1]))
    await database.close()

asyncio.run(migrate())
"""


def _migrate(path: Path, source: Path = ROOT) -> None:
    """Create the schema with the migrations of the tree under test (``source``), in a
    subprocess with that tree's ``bot`` on the path: an older commit knows fewer migrations,
    and its bot is measured on the schema it made itself."""
    subprocess.run(
        [sys.executable, "-P", "-c", _MIGRATE, str(path)],
        env={**os.environ, "PYTHONPATH": str(source)},
        check=True,
    )


def generate(
    path: Path, events: int, now: datetime, seed: int = 7, source: Path = ROOT
) -> Generated:
    """Write about ``events`` dose events for ``events / 10`` users into a new database,
    migrated by the tree ``source``."""
    started = time.perf_counter()
    path.unlink(missing_ok=True)
    _migrate(path, source)
    rng = random.Random(seed)
    users = max(1, events // EVENTS_PER_USER)
    now_s = int(now.timestamp())
    horizon = now_s + 48 * 3600
    history_start = now_s - 32 * 3600
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=OFF")
    written = 0
    with connection:
        for user_id in range(1, users + 1):
            zone = ZONES[user_id % len(ZONES)]
            connection.execute(
                "INSERT INTO users (user_id, timezone, region, consented_at, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (user_id, zone, rng.choice(("us", "uk", "eu", "ru", None)), now_s, now_s),
            )
            kind, steps, start = _plan(rng, now.date())
            plan_id = connection.execute(
                "INSERT INTO plans (user_id, kind, start_date, times, steps, ends_after_last_step,"
                " materialized_until, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (user_id, kind, start.isoformat(), "08:00,14:00,20:00", steps,
                 int(kind == "taper"), horizon, now_s),
            ).lastrowid  # fmt: skip
            rows = []
            local_today = now.astimezone(ZoneInfo(zone)).date()
            for offset in range(-2, 3):
                day = local_today + timedelta(days=offset)
                for at in TIMES:
                    due = _due(zone, day, at)
                    if not history_start <= due < horizon:
                        continue
                    past = due <= now_s
                    status = rng.choice(HISTORY_STATUSES) if past else "scheduled"
                    rows.append((
                        user_id, plan_id, due, day.isoformat(), at.strftime("%H:%M"), "10",
                        2, 4, (day - start).days + 1, 0, 0, 0, status,
                        None if past else due, due if past else None,
                    ))  # fmt: skip
            connection.executemany(
                "INSERT INTO dose_events (user_id, plan_id, due_at, local_date, local_time, mg,"
                " step_number, step_count, day_number, is_step_start, is_maintenance,"
                " is_last_step_dose, status, next_action_at, sent_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            written += len(rows)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    return Generated(users, written, time.perf_counter() - started)


def _plan(rng: random.Random, today: date) -> tuple[str, str, date]:
    """A realistic mix: 55 % in titration, 30 % in maintenance, 15 % tapering."""
    roll = rng.random()
    if roll < 0.55:
        return "standard", _steps((5, 3), (10, 3), (15, 3), (20, 3)), today - _days(rng, 0, 12)
    if roll < 0.85:
        return "custom", _steps((10, 3), (20, 3)), today - _days(rng, 7, 400)
    return "taper", _steps((15, 4), (10, 4), (5, 4)), today - _days(rng, 0, 12)


def _steps(*levels: tuple[int, int]) -> str:
    """The plans.steps text of the same dose at 08:00, 14:00 and 20:00 for each level."""
    times = [wall_time(8), wall_time(14), wall_time(20)]
    return format_steps([Step.same_at(times, Decimal(mg), days) for mg, days in levels])


def _days(rng: random.Random, low: int, high: int) -> timedelta:
    return timedelta(days=rng.randrange(low, high))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=Path("/tmp/bench.sqlite3"))
    args = parser.parse_args()
    result = generate(args.out, args.events, datetime.now(UTC))
    print(f"{result.users} users, {result.events} dose events in {result.seconds:.1f} s")


if __name__ == "__main__":
    main()
