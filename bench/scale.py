"""Scale: start-up time, resident memory and due-scan cost at 10k, 100k and 1M dose events.

python -m bench.scale [--sizes 10000 100000 1000000]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.datagen import generate
from bench.harness import BotProcess, pin_this_process_elsewhere
from bot.emulator.api import FakeBotAPI
from bot.storage.doses import DUE_SCAN_SQL

SIZES = (10_000, 100_000, 1_000_000)
SCANS = 200


@dataclass(frozen=True)
class ScaleResult:
    events: int
    users: int
    ready_s: float
    rss_mb: float
    scan_empty_us: float
    scan_200_us: float


def due_scan_cost(path: Path) -> tuple[float, float]:
    """Median microseconds of one due scan with nothing due, and with 200 rows due."""
    connection = sqlite3.connect(path)
    try:
        first = connection.execute(
            "SELECT MIN(next_action_at) FROM dose_events WHERE next_action_at IS NOT NULL"
        ).fetchone()[0]
        at_200 = connection.execute(
            "SELECT next_action_at FROM dose_events WHERE next_action_at IS NOT NULL"
            " ORDER BY next_action_at LIMIT 1 OFFSET 199"
        ).fetchone()[0]
        return _median_us(connection, first - 1), _median_us(connection, at_200)
    finally:
        connection.close()


def _median_us(connection: sqlite3.Connection, now: int) -> float:
    timings = []
    for _ in range(SCANS):
        started = time.perf_counter()
        connection.execute(DUE_SCAN_SQL, (now, 200)).fetchall()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1e6


async def measure(path: Path, events: int, users: int, module: str = "bot") -> ScaleResult:
    api = FakeBotAPI()
    await api.start()
    bot = BotProcess(api, path, module)
    try:
        await bot.start()
        await asyncio.sleep(2.0)  # the first due pass and plan top-up run now
        rss = bot.rss_mb()
    finally:
        await bot.stop()
        await api.close()
    empty, with_200 = due_scan_cost(path)
    return ScaleResult(events, users, bot.ready_seconds, rss, empty, with_200)


def run(sizes: tuple[int, ...] = SIZES, module: str = "bot") -> list[ScaleResult]:
    pin_this_process_elsewhere()
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            path = Path(folder) / f"scale-{size}.sqlite3"
            generated = generate(path, size, datetime.now(UTC))
            results.append(asyncio.run(measure(path, generated.events, generated.users, module)))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    args = parser.parse_args()
    for result in run(tuple(args.sizes)):
        print(result)


if __name__ == "__main__":
    main()
