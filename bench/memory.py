"""Resident memory of a process, for the benchmarks (imports nothing heavy: a benchmark
measures memory before and after loading what it measures)."""

from __future__ import annotations

from pathlib import Path


def rss_mb(pid: int | str = "self") -> float:
    """Resident memory in MB from Linux /proc; this process's peak RSS where there is none."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        if pid != "self":
            raise
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
