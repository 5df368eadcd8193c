"""Time zone names, the zone at a shared location, the common zones offered as buttons."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.domain.city_zones import city_zone

# The zone buttons of a language whose language.toml lists no `zones` of its own
# (bot/content/loader.py); anything else is typed as an IANA name or shared as a location.
COMMON_ZONES: tuple[str, ...] = (
    "Europe/London",
    "Europe/Berlin",
    "Europe/Moscow",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Asia/Kolkata",
    "Australia/Sydney",
    "UTC",
)

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+){0,2}$")


class TimezoneError(ValueError):
    """The text is not an IANA time zone name."""


@lru_cache(maxsize=1)
def _canonical_names() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def parse_timezone(text: str) -> ZoneInfo:
    """Accept an IANA name in any letter case (``europe/berlin``) or a city by its name in
    Russian or English (``Москва``, ``Уфа``, ``New York``: ``bot/domain/city_zones.py``);
    reject everything else."""
    candidate = text.strip()
    if not candidate or len(candidate) > 64:
        raise TimezoneError(text)
    name = _canonical_names().get(candidate.lower()) if _NAME.match(candidate) else None
    if name is None:
        name = city_zone(candidate)
    if name is None:
        raise TimezoneError(text)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise TimezoneError(text) from None


def zone_at(latitude: float, longitude: float) -> str | None:
    """The IANA zone in force at a shared location ("Asia/Omsk" for 54.99, 73.37), or None.

    The zone boundaries come with ``timezonefinder`` (offline: the polygons of
    timezone-boundary-builder, no network). None for coordinates outside -90..90 / -180..180
    (or not numbers), for a point at sea (the data has only the nautical ``Etc/GMT±N`` zones
    there, which know no daylight saving time) and for a name this machine's zoneinfo cannot
    load; the caller then asks the patient to pick or type their zone.
    """
    if not (-90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0):
        return None  # also NaN, which compares false
    name = _lookup()(lng=longitude, lat=latitude)
    if not name or name.startswith("Etc/"):
        return None
    canonical = _canonical_names().get(name.lower())
    if canonical is None:  # the boundaries are newer than the tz database installed here
        return None
    return canonical


@lru_cache(maxsize=1)
def _lookup() -> Callable[..., str | None]:
    """timezonefinder's lookup, imported on the first shared location, not at start: in the
    bot's process its boundary data costs about 60 ms once and 9 MB (bench/zone_lookup.py).
    Its finder is created once, under a lock, and may be called from several threads."""
    from timezonefinder import timezone_at

    return timezone_at
