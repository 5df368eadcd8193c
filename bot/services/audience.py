"""Who is in a broadcast segment, and how many plans are in each phase (for /stats).

The phase depends on the user's local date, so it is decided here with the domain rule rather
than in SQL. Users are read a page at a time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import date
from functools import cache
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.domain.audience import Phase, Segment, in_segment, plan_phase
from bot.storage.admin import AdminStore, Person

PAGE = 2000

_Today = Callable[[str | None], date]


class Audience:
    def __init__(
        self, *, store: AdminStore, clock: Clock, zone_for: Callable[[str | None], ZoneInfo]
    ) -> None:
        self._store = store
        self._clock = clock
        self._zone_for = zone_for

    async def members(self, segment: Segment) -> list[int]:
        """User ids that a broadcast to ``segment`` reaches now."""
        today = self._today()
        return [
            person.user_id
            async for person in self._people(announcement_audience=True)
            if segment is Segment.ALL or in_segment(segment, self._phase(person, today))
        ]

    async def phase_counts(self) -> Counter[Phase]:
        """Active plans by phase, over every consented user."""
        today = self._today()
        counts: Counter[Phase] = Counter()
        async for person in self._people(announcement_audience=False):
            phase = self._phase(person, today)
            if phase is not None:
                counts[phase] += 1
        return counts

    def _today(self) -> _Today:
        """The local date now, by time-zone name (computed once per zone)."""
        now = self._clock.now()

        @cache
        def today(timezone: str | None) -> date:
            return now.astimezone(self._zone_for(timezone)).date()

        return today

    def _phase(self, person: Person, today: _Today) -> Phase | None:
        return None if person.plan is None else plan_phase(person.plan, today(person.timezone))

    async def _people(self, *, announcement_audience: bool) -> AsyncIterator[Person]:
        after = 0
        while page := await self._store.people(
            after, PAGE, announcement_audience=announcement_audience
        ):
            for person in page:
                yield person
            after = page[-1].user_id
