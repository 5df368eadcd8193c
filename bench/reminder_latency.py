"""How late do reminders arrive? The real process, the real clock, the Bot API stand-in.

N users each have a dose due a few seconds after the bot starts. We record when each
``sendMessage`` reaches the stand-in and report the lateness against the due instant.

    python -m bench.reminder_latency [--users 30 300]
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import statistics
import sys
import tempfile
import time as monotonic_time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.harness import bot_environment
from bot.emulator.api import FakeBotAPI
from tests.seed import seed_due_doses

ROOT = Path(__file__).resolve().parent.parent
LEAD = timedelta(seconds=6)  # the doses fall due this long after the data is written


async def start_bot(api: FakeBotAPI, database: Path, **extra: str) -> asyncio.subprocess.Process:
    """``python -m bot`` against the stand-in, with the real clock."""
    env = {**bot_environment(api, database), **extra}
    return await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", env=env)


async def run(users: int) -> dict[str, float]:
    api = FakeBotAPI()
    await api.start()
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "bot.sqlite3"
        now = await seed_due_doses(database, range(1, users + 1), [-LEAD])
        due = now + LEAD
        process = await start_bot(api, database)
        try:
            calls = await api.wait_for("sendMessage", count=users, timeout=120)
        finally:
            process.send_signal(signal.SIGTERM)
            await process.wait()
    await api.close()
    # ApiCall.at is monotonic; convert the due instant to the same scale.
    offset = monotonic_time.monotonic() - datetime.now(UTC).timestamp()
    due_monotonic = due.timestamp() + offset
    lateness = sorted(call.at - due_monotonic for call in calls)
    return {
        "users": users,
        "p50_s": statistics.median(lateness),
        "p99_s": lateness[min(len(lateness) - 1, int(len(lateness) * 0.99))],
        "max_s": lateness[-1],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, nargs="*", default=[30, 300])
    args = parser.parse_args(argv)
    for users in args.users:
        report(asyncio.run(run(users)))


def report(figures: dict[str, float]) -> None:
    print(
        f"reminder lateness, {figures['users']:.0f} doses due at the same second: "
        f"p50 {figures['p50_s']:.2f} s, p99 {figures['p99_s']:.2f} s, max {figures['max_s']:.2f} s "
        "(target: within 5 s; Telegram allows about 30 messages a second in all)"
    )


if __name__ == "__main__":
    main()
