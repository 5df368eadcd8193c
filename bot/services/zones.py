"""The user's time zone, with the configured default for users who have not chosen one."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.domain.timezones import TimezoneError, parse_timezone


class Zones:
    def __init__(self, default: ZoneInfo, clock: Clock) -> None:
        self._default = default
        self._clock = clock

    def zone_for(self, name: str | None) -> ZoneInfo:
        """The named zone; the default when none is stored or the stored name is unknown."""
        if not name:
            return self._default
        try:
            return parse_timezone(name)
        except TimezoneError:
            return self._default

    def today(self, zone: ZoneInfo) -> date:
        return self._clock.now().astimezone(zone).date()
