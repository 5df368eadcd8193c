"""Time zone names and the offer of common zones at onboarding."""

from __future__ import annotations

import re
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

# Shown as buttons at onboarding; anything else is typed as an IANA name or shared as a location.
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
    """Accept an IANA name in any letter case (``europe/berlin``); reject everything else."""
    candidate = text.strip()
    if not candidate or len(candidate) > 64 or not _NAME.match(candidate):
        raise TimezoneError(text)
    name = _canonical_names().get(candidate.lower())
    if name is None:
        raise TimezoneError(text)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise TimezoneError(text) from None


def zone_for_location(latitude: float, longitude: float) -> ZoneInfo | None:
    """Best guess of a zone from a shared location.

    Without a geographic database we cannot map coordinates to a named zone; we offer the
    fixed-offset ``Etc/GMT±N`` zone for the longitude, which has no daylight saving time.
    The caller tells the user so and suggests typing the IANA name instead.
    """
    if not (-90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0):
        return None
    offset_hours = round(longitude / 15.0)
    if offset_hours == 0:
        return ZoneInfo("Etc/UTC")
    # The Etc/ zones use POSIX sign convention: Etc/GMT-5 is five hours *ahead* of UTC.
    sign = "-" if offset_hours > 0 else "+"
    return ZoneInfo(f"Etc/GMT{sign}{abs(offset_hours)}")
