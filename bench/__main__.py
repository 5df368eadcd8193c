"""``make bench``: every benchmark, a table of figures against the targets, and the same table
written to docs/benchmarks.md with the machine it ran on.

    python -m bench            # the full run (about 45 minutes on 2 cores)
    python -m bench --quick    # small sizes, to check the benchmarks themselves work
    python -m bench --only load --patients 200 --load-reminders 3000   # the load rows alone,
                               # printed, not written to docs/benchmarks.md
    python -m bench --only versus   # today's code (bench/versus.py) against this code, printed
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import tempfile
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from bench import (
    broadcast_rate,
    burst,
    interactive,
    load,
    machine,
    reminder_latency,
    report_load,
    scale,
    versus,
)
from bench.datagen import generate
from bench.harness import pin_this_process_elsewhere

BASELINE = "bench.baseline_bot"
REPORT = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
# A table's rows: measure, target, this bot, the per-job baseline.
Rows = list[tuple[str, str, str, str]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--only", choices=["load", "versus"], help="run only these rows; print them"
    )
    parser.add_argument("--patients", type=int, help="onboarding at once (default 1000)")
    parser.add_argument("--load-reminders", type=int, help="burst under replies (default 10000)")
    parser.add_argument("--load-seconds", type=float, help="seconds of replies (default 60)")
    args = parser.parse_args()
    sizes = (1_000, 10_000) if args.quick else scale.SIZES
    burst_size = 300 if args.quick else 10_000
    seconds = 3.0 if args.quick else 10.0
    patients = args.patients or (50 if args.quick else 1_000)
    load_reminders = args.load_reminders or (600 if args.quick else 10_000)
    load_seconds = args.load_seconds or (10.0 if args.quick else 60.0)
    pin_this_process_elsewhere()

    if args.only == "load":
        print(_table(_load_rows(patients, load_reminders, load_seconds)))
        return
    if args.only == "versus":
        print(_table(_versus_rows(args.quick)))
        return
    rows: Rows = []
    rows += _scale_rows(sizes)
    rows += _burst_rows(burst_size)
    rows += _interactive_rows(seconds)
    rows += _versus_rows(args.quick)
    rows += _on_time_rows()
    rows += _load_rows(patients, load_reminders, load_seconds)
    rows += _report_rows()
    table = _table(rows)
    print(table)
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(_report(table, args.quick) + _notes(REPORT), encoding="utf-8")
    print(f"\nwritten to {REPORT}")


def _scale_rows(sizes: tuple[int, ...]) -> Rows:
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            path = Path(folder) / f"scale-{size}.sqlite3"
            generated = generate(path, size, datetime.now(UTC))
            ours = asyncio.run(scale.measure(path, generated.events, generated.users))
            base = asyncio.run(scale.measure(path, generated.events, generated.users, BASELINE))
            label = f"{generated.events:,} events / {generated.users:,} users"
            target_ready = "< 2 s" if size >= 1_000_000 else ""
            target_rss = "< 150 MB" if size >= 1_000_000 else ""
            rows.append(
                (
                    f"ready to poll, {label}",
                    target_ready,
                    f"{ours.ready_s:.2f} s",
                    f"{base.ready_s:.2f} s ({base.ready_s / ours.ready_s:.1f}×)",
                )
            )
            rows.append(
                (
                    f"resident memory, {label}",
                    target_rss,
                    f"{ours.rss_mb:.0f} MB",
                    f"{base.rss_mb:.0f} MB ({base.rss_mb / ours.rss_mb:.1f}×)",
                )
            )
            rows.append(
                (
                    f"due scan, {label} (nothing due / 200 due)",
                    "flat as data grows",
                    f"{ours.scan_empty_us:.0f} µs / {ours.scan_200_us:.0f} µs",
                    "n/a (jobs in memory)",
                )
            )
    return rows


def _burst_rows(reminders: int) -> Rows:
    # Both designs at once, each against its own rate-limited stand-in, to halve the wait.
    with ProcessPoolExecutor(max_workers=2) as pool:
        ours_future = pool.submit(burst.run, reminders, "bot")
        base_future = pool.submit(burst.run, reminders, BASELINE)
        ours, base = ours_future.result(), base_future.result()
    limit = 1.1 * ours.floor_s
    return [
        (
            f"burst: {reminders:,} due in one minute, drain time",
            f"≤ {limit:.0f} s (floor {ours.floor_s:.0f} s)",
            f"{ours.drain_s:.0f} s ({ours.drain_s / ours.floor_s:.2f}× floor)",
            f"{base.drain_s:.0f} s ({base.drain_s / ours.floor_s:.2f}× floor)",
        ),
        ("burst: lost", "0", str(ours.lost), str(base.lost)),
        ("burst: sent twice", "0", str(ours.duplicated), str(base.duplicated)),
        ("burst: 429 answers received", "", str(ours.retry_after_429), str(base.retry_after_429)),
        (
            "burst: lateness p50 / p99 / max",
            "",
            f"{ours.lateness_p50_s:.0f} / {ours.lateness_p99_s:.0f} / {ours.lateness_max_s:.0f} s",
            f"{base.lateness_p50_s:.0f} / {base.lateness_p99_s:.0f} / {base.lateness_max_s:.0f} s",
        ),
    ]


def _interactive_rows(seconds: float) -> Rows:
    result = interactive.run(500.0, seconds)
    return [
        (
            "interactive: updates handled per second (500 offered)",
            "≥ 500",
            f"{result.handled_per_s:.0f}",
            "",
        ),
        (
            "interactive: reply latency p50 / p99",
            "p99 < 50 ms",
            f"{result.latency_p50_ms:.1f} / {result.latency_p99_ms:.1f} ms",
            "",
        ),
        (
            "interactive: bot CPU per update",
            "≤ 1.5 ms",
            f"{result.cpu_ms_per_update:.2f} ms",
            "",
        ),
    ]


def _on_time_rows() -> Rows:
    """Reminders on time: 30 due at once, and 60 due during a broadcast to 300 users."""
    latency = asyncio.run(reminder_latency.run(30))
    broadcast = asyncio.run(broadcast_rate.run(300, 60))
    return [
        ("reminder lateness, 30 due at once (max)", "< 5 s", f"{latency['max_s']:.2f} s", ""),
        (
            "broadcast to 300 users, 60 doses due meanwhile",
            "reminders on time",
            f"{broadcast['rate']:.1f} msg/s, {broadcast['retry_after']:.0f}× 429, "
            f"reminders max {broadcast['reminder_max_late_s']:.2f} s late",
            "",
        ),
    ]


def _report_rows() -> Rows:
    """Reminders on time while 20 reports are made (bench/report_load.py)."""
    reports = asyncio.run(report_load.run(20, 60))
    return [
        (
            "reminder lateness, 60 due over 10 s while 20 reports are made (p50 / max)",
            "< 5 s",
            f"{reports['p50_s']:.2f} / {reports['max_s']:.2f} s "
            f"(reports sent within {reports['last_report_s']:.0f} s)",
            "",
        )
    ]


def _versus_rows(quick: bool) -> Rows:
    """CPU per reminder and per update, today's code against this code (bench/versus.py)."""
    return versus.rows(versus.compare(versus.QUICK if quick else versus.FULL))


def _load_rows(patients: int, reminders: int, seconds: float) -> Rows:
    """Replies under load, through a stand-in with Telegram's limits (bench/load.py)."""
    rows = _onboarding_rows(patients)
    for paid in (False, True):
        rows += _burst_load_rows(reminders, seconds, paid)
    return rows + _repeat_rows(reminders, seconds)


def _onboarding_rows(patients: int) -> Rows:
    onboarding = load.run_onboarding(patients)
    floor = patients * 10 / load.FREE_RATE  # ten counted messages each: every one must go
    return [
        (
            f"onboarding: {patients:,} patients at once, replies lost",
            "0",
            f"{onboarding.replies.lost} ({onboarding.saved:,} plans saved)",
            "",
        ),
        (
            f"onboarding: {patients:,} at once, all done / reply latency p50 / p99",
            f"floor {floor:.0f} s",
            f"{onboarding.all_done_s:.0f} s / {onboarding.replies.p50_s:.1f} / "
            f"{onboarding.replies.p99_s:.1f} s",
            "",
        ),
        (
            "onboarding: 429s / RetryAfter in the error handler",
            "0 / 0",
            f"{onboarding.retry_after_429} / {onboarding.handler_retry_after}",
            "",
        ),
    ]


def _burst_load_rows(reminders: int, seconds: float, paid: bool) -> Rows:
    result = load.run_burst(reminders, 30.0, seconds, paid)
    name = f"burst {reminders:,}{' paid' if paid else ''} + 30 patients/s for {seconds:.0f} s"
    return [
        (f"{name}: replies lost", "0", f"{result.replies.lost} / {result.replies.offered}", ""),
        (
            f"{name}: reply latency p50 / p99",
            "p99 < 2 s",
            f"{result.replies.p50_s:.2f} / {result.replies.p99_s:.2f} s",
            "",
        ),
        (
            f"{name}: reminder drain",
            f"≤ {1.1 * result.floor_s:.0f} s (floor {result.floor_s:.1f} s)",
            f"{result.drain_s:.0f} s ({result.drain_s / result.floor_s:.2f}× floor)",
            "",
        ),
        (
            f"{name}: reminders lost / twice",
            "0 / 0",
            f"{result.lost} / {result.duplicated}",
            "",
        ),
        (
            f"{name}: 429s / RetryAfter in the error handler / paid messages",
            "0 / 0 /",
            f"{result.retry_after_429} / {result.handler_retry_after} / "
            f"{result.paid_messages:,} (≈ {result.paid_messages * 0.1:,.0f} Stars)",
            "",
        ),
    ]


def _repeat_rows(reminders: int, seconds: float) -> Rows:
    repeats = load.run_repeat_burst(reminders, 15.0, seconds)
    name = (
        f"repeats every 10 min: {reminders:,} due at once, half answering,"
        f" + 15 patients/s for {seconds:.0f} s"
    )
    return [
        (
            f"{name}: reply latency p50 / p99",
            "p99 < 2 s",
            f"{repeats.replies.p50_s:.2f} / {repeats.replies.p99_s:.2f} s",
            "",
        ),
        (f"{name}: replies lost", "0", f"{repeats.replies.lost} / {repeats.replies.offered}", ""),
        (f"{name}: repeats lost / twice", "0 / 0", f"{repeats.lost} / {repeats.duplicated}", ""),
        (
            f"{name}: repeat drain",
            f"floor {repeats.floor_s:.0f} s",
            f"{repeats.drain_s:.0f} s ({repeats.drain_s / repeats.floor_s:.2f}× floor)",
            "",
        ),
        (
            f"{name}: runs ended by Taken / next repeat planned",
            f"{reminders // 2:,} / {reminders - reminders // 2:,}",
            f"{repeats.runs_ended:,} / {repeats.runs_going_on:,}",
            "",
        ),
        (
            f"{name}: 429s / RetryAfter in the error handler",
            "0 / 0",
            f"{repeats.retry_after_429} / {repeats.handler_retry_after}",
            "",
        ),
    ]


def _table(rows: Rows) -> str:
    header = ("measure", "target", "this bot", "per-job baseline")
    lines = [
        "| " + " | ".join(header) + " |",
        "| " + " | ".join("---" for _ in header) + " |",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _notes(report: Path) -> str:
    """The hand-written sections of the report (from its first "## " heading on): kept when the
    table is written again."""
    text = report.read_text(encoding="utf-8") if report.exists() else ""
    start = text.find("\n## ")
    return "" if start < 0 else text[start:]


def _report(table: str, quick: bool) -> str:
    cpu = machine.describe()
    return (
        "# Benchmarks\n\n"
        f"Run with `make bench` on {datetime.now(UTC):%Y-%m-%d} "
        f"({'quick sizes' if quick else 'full sizes'}): {cpu}, "
        f"Python {platform.python_version()}, {platform.system()}.\n"
        "The bot runs as a real process pinned to one core, against the Bot API stand-in "
        "(bot/emulator/api.py) on the other; the burst stand-in enforces about 30 messages a "
        "second overall and 1 a second per chat. The baseline (bench/baseline_bot.py) keeps "
        "one APScheduler job per dose in memory, the common design. The onboarding and "
        "burst-with-replies rows (bench/load.py) use the same limited stand-in; their floor is "
        "the time the budget needs for every message sent (replies take their share first); "
        "with paid broadcasting, reminders beyond the free rate may use up to 1000 a second. "
        "The repeats rows start 10 minutes into a burst: every patient chose repeats every 10 "
        "minutes, and every reminder went out 10 minutes ago unanswered, so all the first "
        "repeats fall due at once; every second patient presses Taken on theirs. The CPU rows "
        f"against today's code (bench/versus.py) run the commit {versus.TODAY} (from git "
        "archive) and this code interleaved, old, new, old, new, on the same stand-in and "
        "each on its own schema; the figure is the median of the runs.\n\n"
        f"{table}\n"
    )


if __name__ == "__main__":
    main()
