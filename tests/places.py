"""Known places and the zone the bot must set at each: one table, ``tests/data/places.csv``,
for the unit test of ``zone_at`` and the benchmark of the lookup libraries.

Its columns: the place, its latitude and longitude, the expected IANA zone (none at sea),
``bench`` (``yes``: among the benchmark's places) and ``unit test`` (why the test checks it:
``old guess``, where the longitude guess the bot used before, ``Etc/GMT±N``, was an hour or
more off or had no summer time; ``border``, neighbours across a border a few kilometres apart).
"""

from __future__ import annotations

import csv
from pathlib import Path

TABLE = Path(__file__).parent / "data" / "places.csv"

Place = tuple[str, float, float, str]  # name, latitude, longitude, zone ("" at sea)


def _rows() -> list[dict[str, str]]:
    with TABLE.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _place(row: dict[str, str]) -> Place:
    return (row["place"], float(row["latitude"]), float(row["longitude"]), row["zone"])


def bench_places() -> tuple[Place, ...]:
    """The benchmark's places, in the table's order."""
    return tuple(_place(row) for row in _rows() if row["bench"] == "yes")


def unit_test_places() -> list[Place]:
    """The places the unit test checks: the old guess's misses first, then the borders."""
    rows = _rows()
    return [
        _place(row) for why in ("old guess", "border") for row in rows if row["unit test"] == why
    ]
