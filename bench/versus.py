"""Today's code against this code, side by side: the bot's CPU per reminder and per update for
this checkout and for an older commit (issue 24: the one when the issue was filed), each run
against the same Bot API stand-in (bot/emulator/api.py) on the same machine, interleaved
(old, new, old, new) so a change in the machine's load falls on both alike.

- CPU per reminder: a paid burst (PAID_BROADCAST=on; the stand-in at Telegram's limits, which
  lets paid messages through up to 1000 a second) of N reminders with no patient replies; the
  bot's CPU from just before the due instant to the last reminder delivered, per reminder.
- CPU per update: bench/interactive.py at a rate below saturation (300 a second), so the
  figure is CPU per update, not queueing.

    python -m bench.versus [--quick] [--rev 70aea8d]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bench import interactive
from bench.burst import prepare, reminder_deliveries
from bench.harness import ROOT, BotProcess, pin_this_process_elsewhere
from bench.load import FREE_RATE, PAID_RATE
from bench.machine import describe
from bot.emulator.api import FakeBotAPI

TODAY = "70aea8d"  # main when issue 24 was filed
UPDATE_RATE = 300.0  # updates a second: below saturation on either tree
# The doses fall due this long after they are written: the bot starts meanwhile (about 3 s
# here, more on a busy machine).
LEAD_SECONDS = 20
NO_HISTORY = "n/a (no git history)"


@dataclass(frozen=True)
class Sizes:
    reminders: int
    update_seconds: float
    rounds: int


FULL = Sizes(reminders=3_000, update_seconds=4.0, rounds=2)
QUICK = Sizes(reminders=500, update_seconds=2.0, rounds=1)


@dataclass(frozen=True)
class ReminderRun:
    delivered: int
    cpu_ms_per_reminder: float
    drain_s: float  # from the due instant to the last reminder delivered
    floor_s: float  # reminders / 1000 a second (the paid rate)


@dataclass(frozen=True)
class TreeRun:
    reminders: ReminderRun
    updates: interactive.InteractiveResult


@dataclass
class Comparison:
    rev: str
    sizes: Sizes
    old: list[TreeRun] = field(default_factory=list)  # empty: no git history
    new: list[TreeRun] = field(default_factory=list)


# ---------------------------------------------------------------------- the old tree


@contextlib.contextmanager
def old_tree(rev: str) -> Iterator[Path | None]:
    """``git archive rev`` extracted into a temporary folder; None without git or the commit."""
    with tempfile.TemporaryDirectory(prefix=f"versus-{rev}-") as folder:
        try:
            archive = subprocess.run(
                ["git", "archive", "--format=tar", rev],
                cwd=ROOT,
                capture_output=True,
                check=True,
            ).stdout
        except (OSError, subprocess.CalledProcessError):
            yield None
            return
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(folder, filter="data")
        # Compiled once here, as this checkout's bytecode already is: otherwise the old bot's
        # first start compiles every module and can outlast LEAD_SECONDS.
        compile_bot = [sys.executable, "-m", "compileall", "-q", str(Path(folder) / "bot")]
        subprocess.run(compile_bot, check=True, stdout=subprocess.DEVNULL)
        yield Path(folder)


# ---------------------------------------------------------------------- CPU per reminder


async def _cpu_until_delivered(api: FakeBotAPI, bot: BotProcess, reminders: int) -> float:
    """The bot's CPU seconds when the last reminder is delivered (or at the deadline)."""
    deadline = time.monotonic() + 3 * reminders / FREE_RATE + 60
    while time.monotonic() < deadline:
        if len(reminder_deliveries(api)) >= reminders:
            break
        await asyncio.sleep(0.05)
    return bot.cpu_seconds()


async def _measure_reminders(path: Path, reminders: int, due: int, source: Path) -> ReminderRun:
    api = FakeBotAPI(global_rate=FREE_RATE, per_chat_rate=1)  # as bench/load.py's burst
    await api.start()
    bot = BotProcess(api, path, extra_env={"PAID_BROADCAST": "on"}, source=source)
    try:
        await bot.start()
        due_mono = due + time.monotonic() - time.time()
        if time.monotonic() > due_mono - 0.5:
            raise RuntimeError(f"the bot took over {LEAD_SECONDS} s to start: raise LEAD_SECONDS")
        await asyncio.sleep(due_mono - 0.5 - time.monotonic())
        cpu_before = bot.cpu_seconds()
        cpu_after = await _cpu_until_delivered(api, bot, reminders)
    finally:
        await bot.stop()
        await api.close()
    deliveries = reminder_deliveries(api)
    last = max((at for _, at in deliveries), default=float("nan"))
    return ReminderRun(
        delivered=len(deliveries),
        cpu_ms_per_reminder=(cpu_after - cpu_before) * 1000 / max(len(deliveries), 1),
        drain_s=last - due_mono,
        floor_s=reminders / PAID_RATE,
    )


def reminder_run(reminders: int, source: Path) -> ReminderRun:
    pin_this_process_elsewhere()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "versus-burst.sqlite3"
        due = int(time.time()) + LEAD_SECONDS
        prepare(path, reminders, due, source)
        return asyncio.run(_measure_reminders(path, reminders, due, source))


# ---------------------------------------------------------------------- both, interleaved


def tree_run(sizes: Sizes, source: Path) -> TreeRun:
    return TreeRun(
        reminders=reminder_run(sizes.reminders, source),
        updates=interactive.run(UPDATE_RATE, sizes.update_seconds, source),
    )


def compare(sizes: Sizes, rev: str = TODAY) -> Comparison:
    """Old, new, old, new (``sizes.rounds`` rounds); without the old tree, the new alone."""
    result = Comparison(rev, sizes)
    with old_tree(rev) as old:
        for _ in range(sizes.rounds):
            if old is not None:
                result.old.append(tree_run(sizes, old))
            result.new.append(tree_run(sizes, ROOT))
    return result


def _median_reminder(runs: list[TreeRun]) -> float:
    return statistics.median(run.reminders.cpu_ms_per_reminder for run in runs)


def _median_update(runs: list[TreeRun]) -> float:
    return statistics.median(run.updates.cpu_ms_per_update for run in runs)


def _versus(old: float, new: float) -> str:
    return f"{old:.2f} → {new:.2f} ms ({new / old:.2f}×)"


def rows(result: Comparison) -> list[tuple[str, str, str, str]]:
    """The two rows of ``make bench``'s table (measure, target, this bot, baseline)."""
    label = f"(today's code {result.rev} → this code)"
    burst_name = f"CPU per reminder, paid burst of {result.sizes.reminders:,} {label}"
    update_name = f"CPU per update, {UPDATE_RATE:.0f}/s offered {label}"
    if not result.old:
        return [
            (burst_name, "≤ 1/5 of today's", NO_HISTORY, ""),
            (update_name, "≤ 1/3 of today's", NO_HISTORY, ""),
        ]
    reminder = _versus(_median_reminder(result.old), _median_reminder(result.new))
    update = _versus(_median_update(result.old), _median_update(result.new))
    return [
        (burst_name, "≤ 1/5 of today's", reminder, ""),
        (update_name, "≤ 1/3 of today's", update, ""),
    ]


# ---------------------------------------------------------------------- printing


def _run_line(code: str, round_: int, run: TreeRun) -> str:
    burst, updates = run.reminders, run.updates
    return (
        f"| {round_} | {code} | {burst.cpu_ms_per_reminder:.2f} ms ({burst.delivered:,} delivered)"
        f" | {burst.drain_s:.1f} s (floor {burst.floor_s:.1f} s)"
        f" | {updates.cpu_ms_per_update:.2f} ms ({updates.answered:,}/{updates.updates:,},"
        f" p99 {updates.latency_p99_ms:.0f} ms) |"
    )


def table(result: Comparison) -> str:
    """Every run, in the order it ran, then the medians' ratio new / old (with two rounds, the
    medians are the means)."""
    lines = [
        "| round | code | CPU per reminder | drain | CPU per update |",
        "| --- | --- | --- | --- | --- |",
    ]
    for index, new in enumerate(result.new):
        if result.old:
            lines.append(_run_line(result.rev, index + 1, result.old[index]))
        lines.append(_run_line("this code", index + 1, new))
    lines.append("")
    lines += [f"{name}: {value} (target {target})" for name, target, value, _ in rows(result)]
    return "\n".join(lines)


def _load() -> str:
    return "load average " + ", ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rev", default=TODAY, help=f"today's code (default {TODAY})")
    args = parser.parse_args()
    print(f"machine: {describe()}; {_load()}")
    result = compare(QUICK if args.quick else FULL, args.rev)
    print(table(result))
    print(_load())


if __name__ == "__main__":
    main()
