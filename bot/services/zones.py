"""The user's time zone, with the configured default for users who have not chosen one.

A patient who travels has a travel zone stored instead of a plain name (its spec, see
``bot.domain.travel``): the dose clock of their trip, named like the zone they are in."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.domain.timezones import TimezoneError, parse_timezone
from bot.domain.travel import is_spec, parse_zone


class Zones:
    def __init__(self, default: ZoneInfo, clock: Clock) -> None:
        self._default = default
        self._clock = clock

    def zone_for(self, name: str | None) -> ZoneInfo:
        """The named zone; the default when none is stored or the stored name is unknown."""
        if not name:
            return self._default
        if is_spec(name):
            try:
                return parse_zone(name)
            except ValueError:
                return self._default
        try:
            return parse_timezone(name)
        except TimezoneError:
            return self._default

    def today(self, zone: ZoneInfo) -> date:
        return self._clock.now().astimezone(zone).date()
