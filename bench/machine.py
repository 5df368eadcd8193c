"""What machine a figure was taken on: the CPU model, a calibration figure, CPU time of a process.

Benchmark figures from different machines are not comparable (the interactive row fell from
500 to ~200 updates/s on a move to a slower, shared machine with no change in the code), so
every row that depends on the machine prints the CPU model and a calibration figure: the time
one fixed pure-Python workload takes here. CPU time per update or per reminder is the figure
that travels between machines best.
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

CALIBRATION_LOOPS = 2_000_000


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def cores() -> int:
    return os.cpu_count() or 1


def calibration_ms(repeats: int = 3) -> float:
    """The best of a few runs of a fixed pure-Python loop (dict and string work), in ms."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        table: dict[int, str] = {}
        for index in range(CALIBRATION_LOOPS // 10):
            table[index % 1024] = str(index)
            for _ in range(9):
                index += 1
        best = min(best, time.perf_counter() - started)
    return best * 1000


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process (Linux /proc), 0.0 where unreadable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    return (int(fields[11]) + int(fields[12])) / ticks


def describe() -> str:
    return f"{cpu_model()}, {cores()} cores, calibration {calibration_ms():.1f} ms"
