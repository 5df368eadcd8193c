"""Time zones: the zone at a shared location (bot/domain/timezones.py ``zone_at``) and the zone
buttons each language of the pack offers (``zones`` in its language.toml)."""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.content import MAX_ZONE_BUTTONS, ContentError, ContentLibrary, load_library
from bot.domain import timezones
from bot.domain.timezones import COMMON_ZONES, zone_at
from tests.conftest import CONTENT_DIR, ROOT
from tests.places import unit_test_places

PLACES = unit_test_places()
RUSSIAN_ZONES = (
    "Europe/Kaliningrad",
    "Europe/Moscow",
    "Europe/Samara",
    "Asia/Yekaterinburg",
    "Asia/Omsk",
    "Asia/Novosibirsk",
    "Asia/Krasnoyarsk",
    "Asia/Irkutsk",
    "Asia/Vladivostok",
)


@pytest.mark.parametrize(
    ("latitude", "longitude", "zone"),
    [place[1:] for place in PLACES],
    ids=[place[0] for place in PLACES],
)
def test_the_zone_of_a_place_is_its_iana_zone(latitude: float, longitude: float, zone: str) -> None:
    found = zone_at(latitude, longitude)
    assert found == zone
    assert ZoneInfo(found).key == zone


@pytest.mark.parametrize(
    ("latitude", "longitude"),
    [
        (40.0, -30.0),  # mid-Atlantic
        (-50.0, -120.0),  # South Pacific
        (0.0, 0.0),  # Gulf of Guinea
        (90.1, 0.0),
        (-90.1, 0.0),
        (0.0, 180.5),
        (0.0, -181.0),
        (math.nan, 10.0),
        (50.0, math.inf),
    ],
)
def test_no_zone_at_sea_or_outside_the_globe(latitude: float, longitude: float) -> None:
    assert zone_at(latitude, longitude) is None


@given(st.floats(), st.floats())
def test_any_coordinates_give_a_loadable_zone_or_none(latitude: float, longitude: float) -> None:
    found = zone_at(latitude, longitude)
    assert found is None or ZoneInfo(found).key == found
    assert found is None or not found.startswith("Etc/")


def test_the_edges_of_the_coordinate_ranges_are_looked_up() -> None:
    assert zone_at(-90.0, 0.0) == "Antarctica/McMurdo"  # the South Pole station keeps NZ time
    assert zone_at(65.0, 180.0) == "Asia/Anadyr"  # Chukotka, on the antimeridian
    assert zone_at(90.0, 0.0) is None  # the North Pole is at sea


def test_only_a_zone_this_machine_can_load_is_returned(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter(["Mars/Olympus", "Etc/GMT-5", "", None, "europe/berlin"])
    monkeypatch.setattr(timezones, "_lookup", lambda: lambda **_: next(answers))
    assert [zone_at(1.0, 2.0) for _ in range(5)] == [None, None, None, None, "Europe/Berlin"]


def test_the_boundaries_are_loaded_on_the_first_location_not_at_start() -> None:
    """Start-up stays fast: importing the bot does not load timezonefinder."""
    probe = "import sys, bot.app, bot.__main__; print('timezonefinder' in sys.modules)"
    run = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert run.stdout.strip() == "False"


def test_each_language_offers_its_own_zone_buttons(library: ContentLibrary) -> None:
    assert library.get("en").language.zones == COMMON_ZONES
    assert library.get("ru").language.zones == RUSSIAN_ZONES
    russian = library.get("ru")
    assert [russian.zone_city(zone) for zone in RUSSIAN_ZONES] == [
        "Калининград",
        "Москва",
        "Самара",
        "Екатеринбург",
        "Омск",
        "Новосибирск",
        "Красноярск",
        "Иркутск",
        "Владивосток",
    ]


def _with_zones(tmp_path: Path, zones: str | None) -> Path:
    """A copy of the pack whose Russian language.toml lists ``zones`` (None: no zones line)."""
    pack = tmp_path / "pack"
    shutil.copytree(CONTENT_DIR, pack)
    language = pack / "ru" / "language.toml"
    text = language.read_text(encoding="utf-8")
    replacement = "" if zones is None else f"zones = {zones}\n"
    text, count = re.subn(r"^zones = \[[^\]]*\]\n", replacement, text, flags=re.MULTILINE)
    assert count == 1
    language.write_text(text, encoding="utf-8")
    return pack


def test_a_language_without_zones_gets_the_common_ones(tmp_path: Path) -> None:
    library = load_library(_with_zones(tmp_path, None))
    assert library.get("ru").language.zones == COMMON_ZONES


def test_zone_buttons_that_telegram_or_zoneinfo_would_refuse_refuse_the_pack(
    tmp_path: Path,
) -> None:
    zones = '["Europe/Moscow", "Mars/Olympus", "europe/samara", "Europe/Moscow", "Asia/Omsk"]'
    with pytest.raises(ContentError) as refused:
        load_library(_with_zones(tmp_path, zones))
    assert refused.value.problems == [
        "ru/language.toml: zones: 'Mars/Olympus' is not an IANA time zone",
        "ru/language.toml: zones: 'europe/samara' is spelt 'Europe/Samara'",
        "ru/language.toml: zones: 'Europe/Moscow' is listed twice",
    ]


def test_zones_below_dates_are_not_lost_in_silence(tmp_path: Path) -> None:
    pack = _with_zones(tmp_path, None)
    language = pack / "ru" / "language.toml"
    language.write_text(
        language.read_text(encoding="utf-8") + 'zones = ["Asia/Omsk"]\n', encoding="utf-8"
    )
    with pytest.raises(ContentError) as refused:
        load_library(pack)
    assert refused.value.problems == [
        "ru/language.toml: dates.zones is not a date pattern (is it below [dates]?)"
    ]


@pytest.mark.parametrize(
    ("zones", "problem"),
    [
        ("[]", "ru/language.toml: zones must be a non-empty list of IANA names"),
        ('"Europe/Moscow"', "ru/language.toml: zones must be a non-empty list of IANA names"),
        (
            str(sorted({*RUSSIAN_ZONES, *COMMON_ZONES})[: MAX_ZONE_BUTTONS + 1]).replace("'", '"'),
            f"ru/language.toml: zones lists {MAX_ZONE_BUTTONS + 1} zones, at most 12",
        ),
    ],
)
def test_zone_buttons_need_a_short_list(tmp_path: Path, zones: str, problem: str) -> None:
    with pytest.raises(ContentError) as refused:
        load_library(_with_zones(tmp_path, zones))
    assert refused.value.problems == [problem]
