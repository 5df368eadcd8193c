"""Interactive load: fact commands and /today from many users, stand-in limits off.

Updates are offered at a steady rate (open loop); we report the rate the bot kept up with and
the time from offering an update to the stand-in receiving the reply.

    python -m bench.interactive [--rate 500] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.datagen import generate
from bench.harness import ROOT, BotProcess, pin_this_process_elsewhere
from bench.machine import describe
from bot.content import TOPICS
from bot.emulator.api import FakeBotAPI

FACT_TOPICS = [topic for topic in TOPICS if topic != "missed"]
TODAY_EVERY = 5  # one update in five is /today from a user with a plan
FIRST_FACT_CHAT = 10_000_000


@dataclass(frozen=True)
class InteractiveResult:
    offered_per_s: float
    handled_per_s: float
    updates: int
    answered: int
    latency_p50_ms: float
    latency_p99_ms: float
    cpu_ms_per_update: float  # the bot process's CPU time over the run, per update answered


async def measure(
    path: Path, users: int, rate: float, seconds: float, source: Path = ROOT
) -> InteractiveResult:
    api = FakeBotAPI()
    await api.start()
    # This row measures how fast the bot handles updates, so the send budget is opened wide
    # (every update comes from its own chat). Telegram's 30 messages a second are the load
    # rows' business: there the stand-in enforces them and replies queue for the one budget.
    bot = BotProcess(api, path, extra_env={"SEND_RATE": "10000"}, source=source)
    offered: dict[int, float] = {}
    try:
        await bot.start()
        cpu_before = bot.cpu_seconds()
        total = int(rate * seconds)
        started = time.monotonic()
        for index in range(total):
            target = started + index / rate
            delay = target - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            chat, text = _update(index, users)
            offered[chat] = time.monotonic()
            api.send_text(chat, text)
        for _ in range(150):  # up to 30 s for the last replies
            if len(_replies(api)) >= total:
                break
            await asyncio.sleep(0.2)
        cpu_used = bot.cpu_seconds() - cpu_before
    finally:
        await bot.stop()
        await api.close()
    replies = _replies(api)
    latencies = sorted(at - offered[chat] for chat, at in replies.items() if chat in offered)
    last_reply = max(replies.values()) if replies else started
    return InteractiveResult(
        offered_per_s=rate,
        handled_per_s=len(replies) / max(last_reply - started, 1e-9),
        updates=len(offered),
        answered=len(replies),
        latency_p50_ms=statistics.median(latencies) * 1000,
        latency_p99_ms=latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        cpu_ms_per_update=cpu_used * 1000 / max(len(replies), 1),
    )


def _update(index: int, users: int) -> tuple[int, str]:
    """Each update comes from its own chat, so a reply maps to exactly one update."""
    if index % TODAY_EVERY == 0 and index // TODAY_EVERY < users:
        return index // TODAY_EVERY + 1, "/today"
    return FIRST_FACT_CHAT + index, f"/{FACT_TOPICS[index % len(FACT_TOPICS)]}"


def _replies(api: FakeBotAPI) -> dict[int, float]:
    replies: dict[int, float] = {}
    for call in api.calls:
        if call.method == "sendMessage" and call.status == 200:
            replies.setdefault(int(call.params["chat_id"]), call.at)
    return replies


def run(rate: float = 500.0, seconds: float = 10.0, source: Path = ROOT) -> InteractiveResult:
    """The interactive load on the bot of the tree ``source`` (this checkout unless told)."""
    pin_this_process_elsewhere()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "interactive.sqlite3"
        users = int(rate * seconds) // TODAY_EVERY + 1
        generated = generate(path, users * 10, datetime.now(UTC), source=source)
        return asyncio.run(measure(path, generated.users, rate, seconds, source))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    print(f"machine: {describe()}")
    result = run(args.rate, args.seconds)
    print(
        f"{result.handled_per_s:.0f} updates/s handled of {result.offered_per_s:.0f} offered,"
        f" p50 / p99 {result.latency_p50_ms:.1f} / {result.latency_p99_ms:.1f} ms,"
        f" bot CPU {result.cpu_ms_per_update:.2f} ms per update"
        f" ({result.answered}/{result.updates} answered)"
    )


if __name__ == "__main__":
    main()
