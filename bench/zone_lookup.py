"""Which offline library turns a shared location into a time zone? ``timezonefinder`` and
``tzfpy`` on 22 known places, each library in a fresh interpreter.

    python -m bench.zone_lookup [--rounds 200]

Per library: the places answered with the expected IANA zone, the import time, the first lookup
(which loads the boundary data), the time per lookup after that, and the resident memory of the
process before the import, after it and after the first lookup. A library that is not installed
is reported as such (the bot depends on timezonefinder; ``pip install tzfpy`` to compare).
The longitude guess the bot used before (``Etc/GMT±N``) is scored on the same places: the right
clock in January and in July.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bench.memory import rss_mb
from tests.places import bench_places

# (place, latitude, longitude, the zone the bot must set there)
PLACES = bench_places()
LIBRARIES = ("tzfpy", "timezonefinder")


def _child(library: str, rounds: int, in_bot: bool) -> dict[str, object]:
    """Runs in a fresh interpreter: import, first lookup, then the places ``rounds`` times.
    ``in_bot``: after importing the bot first (numpy is then already loaded, by matplotlib)."""
    if in_bot:
        import bot.app  # noqa: F401
    rss_start = rss_mb()
    started = time.perf_counter()
    lookup: Callable[[float, float], str | None]
    if library == "tzfpy":
        import tzfpy  # type: ignore[import-not-found, unused-ignore]

        def lookup(latitude: float, longitude: float) -> str | None:
            return tzfpy.get_tz(longitude, latitude) or None

        data = tzfpy.data_version()
    else:
        import timezonefinder

        def lookup(latitude: float, longitude: float) -> str | None:
            return timezonefinder.timezone_at(lng=longitude, lat=latitude)

        data = _version("timezonefinder-data")
    import_s = time.perf_counter() - started
    rss_imported = rss_mb()
    started = time.perf_counter()
    lookup(PLACES[0][1], PLACES[0][2])
    first_s = time.perf_counter() - started
    rss_first = rss_mb()
    answers = {name: lookup(lat, lng) for name, lat, lng, _ in PLACES}
    started = time.perf_counter()
    for _ in range(rounds):
        for _, lat, lng, _ in PLACES:
            lookup(lat, lng)
    per_lookup_us = (time.perf_counter() - started) / (rounds * len(PLACES)) * 1e6
    return {
        "data": data,
        "import_ms": import_s * 1000,
        "first_ms": first_s * 1000,
        "per_lookup_us": per_lookup_us,
        "rss_start_mb": rss_start,
        "rss_imported_mb": rss_imported,
        "rss_first_mb": rss_first,
        "answers": answers,
    }


def _right(expected: str, answer: str | None) -> bool:
    if not expected:  # at sea: an Etc/ offset zone or nothing, never a country's zone
        return answer is None or answer.startswith("Etc/")
    return answer == expected


def _longitude_guess(longitude: float) -> ZoneInfo:
    hours = round(longitude / 15.0)
    return ZoneInfo(f"Etc/GMT{'-' if hours > 0 else '+'}{abs(hours)}" if hours else "Etc/UTC")


def _longitude_score() -> str:
    """The old guess against the real clock, on a winter and a summer day."""
    counts = []
    for instant in (datetime(2026, 1, 15, 12, tzinfo=UTC), datetime(2026, 7, 15, 12, tzinfo=UTC)):
        right = sum(
            instant.astimezone(_longitude_guess(lng)).utcoffset()
            == instant.astimezone(ZoneInfo(zone)).utcoffset()
            for _, _, lng, zone in PLACES
            if zone
        )
        counts.append(right)
    places = sum(1 for *_, zone in PLACES if zone)
    return f"right clock in January {counts[0]}/{places}, in July {counts[1]}/{places}"


def _version(library: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(library)
    except PackageNotFoundError:
        return ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=200, help="repetitions of the 22 places")
    parser.add_argument("--child", choices=LIBRARIES, help=argparse.SUPPRESS)
    parser.add_argument("--in-bot", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child, args.rounds, args.in_bot)))
        return
    print(f"{len(PLACES)} places, {args.rounds} rounds, Python {sys.version.split()[0]}")
    print(f"longitude guess (before): {_longitude_score()}")
    for library in LIBRARIES:
        version = _version(library)
        if not version:
            print(f"{library}: not installed")
            continue
        for in_bot in (False, True):
            result = _run_child(library, args.rounds, in_bot)
            answers: dict[str, str | None] = result["answers"]
            wrong = [
                f"{name}: {answers[name]} (expected {zone or 'none'})"
                for name, _, _, zone in PLACES
                if not _right(zone, answers[name])
            ]
            right = len(PLACES) - len(wrong)
            where = "in the bot process" if in_bot else "bare interpreter"
            print(
                f"{library} {version} (boundaries {result['data']}), {where}: "
                f"{right}/{len(PLACES)} right; import {result['import_ms']:.0f} ms, "
                f"first lookup {result['first_ms']:.0f} ms, "
                f"then {result['per_lookup_us']:.1f} µs per lookup; resident memory "
                f"{result['rss_start_mb']:.0f} MB before the import, "
                f"{result['rss_imported_mb']:.0f} MB after, "
                f"{result['rss_first_mb']:.0f} MB after the first lookup"
            )
            for line in wrong:
                print(f"    wrong: {line}")


def _run_child(library: str, rounds: int, in_bot: bool) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.zone_lookup", "--child", library]
    command += ["--rounds", str(rounds)] + (["--in-bot"] if in_bot else [])
    run = subprocess.run(command, check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(run.stdout)
    return result


if __name__ == "__main__":
    main()
