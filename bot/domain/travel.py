"""Travel across time zones: keep the home times, move to the local times at once, or move
there gradually, never bringing two doses closer than the plan allows and dropping none.

The dose times of a plan are wall-clock times. While a patient travels, the clock they are
read on is a **travel zone** (:class:`TravelZone`): a ``ZoneInfo`` for the local zone (its
``key`` is the local zone's name, so every "in your time zone" text stays true) whose UTC
offset is the dose clock's, so every computation of dose instants (``bot.domain.schedule``,
the missed-dose rule, the dose-safety check, caregiver alerts) sees the travelling schedule
with no change of its own:

- **home**: the offset of the home zone, always: the dose instants stay where they are in
  UTC; texts show the local time with the home time beside it;
- **gradual**: the home offset plus a shift that moves towards the local offset by at most
  2 hours a body day (:data:`MAX_STEP`). Each move is a transition placed in a gap between
  two doses, like a daylight-saving change that never falls on a dose: a move later
  lengthens that gap; a move earlier shortens it, never below the gap itself or
  :data:`MIN_GAP` (the dose-safety window plus the 10 minutes a reminder may be late), so the
  dose-safety check still offers every dose on time. When the shift is complete the zone is
  the local zone, daylight-saving time included;
- **at once** is no travel zone at all: the local zone from now (a dose of the new clock that
  comes too soon after one taken by the old clock is named as one to skip by the check).

Each plan day of the dose clock keeps all of its doses (none dropped): a day the doses move
later lasts up to 26 hours, one they move earlier at least 22. The direction is the clock's:
westward travel moves doses later, eastward earlier (Moscow -> New York: 8 hours later, in
four days).

The zone is stored as its :func:`spec` in ``users.timezone`` (plain IANA names stay plain)
and read back by :func:`parse_zone`. Pure: no clock, no database.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

from bot.domain.plans import Plan, Step
from bot.domain.safety import ON_TIME, SAFE_GAP
from bot.domain.schedule import local_to_utc, slots_between, step_on

MAX_STEP = timedelta(hours=2)  # the most the doses move in one day
MIN_GAP = SAFE_GAP + ON_TIME  # a gap shortened by a move stays at least this long
MAX_DAYS = 16  # 26 hours (+14 -> -12) at 2 hours a day is 13 days; a little room
_MINUTE = timedelta(minutes=1)
_NOT_NOW = timedelta(minutes=30)
_SETTLED = timedelta(days=2)  # further back than the missed-dose rule and the check look
_PROBE = timedelta(hours=27)  # wider than any UTC offset plus a shift
_SEPARATOR = "|"


class Choice(StrEnum):
    HOME = "home"  # keep taking doses at home times
    AT_ONCE = "at_once"  # the local times from now
    GRADUAL = "gradual"  # towards the local times, at most 2 hours a day


@dataclass(frozen=True)
class Move:
    """From ``at`` (UTC) on, the dose clock runs ``shift`` ahead of the home zone; a move
    with ``shift`` None is the last: from ``at`` on the dose clock is the local zone."""

    at: datetime
    shift: timedelta | None


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("travel needs aware datetimes")
    return value.astimezone(UTC)


def _offset(zone: tzinfo, instant: datetime) -> timedelta:
    offset = instant.astimezone(zone).utcoffset()
    assert offset is not None  # a ZoneInfo always has one
    return offset


def plan_moves(
    plan: Plan,
    home: ZoneInfo,
    local: ZoneInfo,
    start: datetime,
    prior: Sequence[Move] = (),
) -> tuple[Move, ...]:
    """The moves of a gradual change that begins at ``start``: at most :data:`MAX_STEP` of
    moves per plan day (counted on the dose clock), each in a gap between two doses.
    ``prior`` are the moves of a change under way (all before ``start``): the new one goes on
    from where they left the doses (another destination, or a new plan on the way).

    A move later goes into the gap before the first dose of a day (the day starts later); a
    move earlier goes into the gaps with room, the one before the day's first dose first, then
    the longest, each shortened to no less than ``min(gap, MIN_GAP)``. A day without doses (a
    plan that has not started or has ended) takes the rest of the change at once.
    """
    start = _utc(start)
    moves: list[Move] = [move for move in prior if move.at < start and move.shift is not None]
    shift = moves[-1].shift if moves and moves[-1].shift is not None else timedelta(0)
    so_far: ZoneInfo = TravelZone.make(home, local, Choice.GRADUAL, start, moves) if moves else home
    before = slots_between(plan, so_far, start - timedelta(days=2), start)
    change = _Change(home, local, start, moves, shift, before[-1].due_utc if before else None)
    day = start.astimezone(so_far).date()
    if before:
        day = max(day, before[-1].local_date)
    for _ in range(MAX_DAYS + 2):
        found = step_on(plan, day)
        if found is None:
            return change.finished()
        ended = change.move_day(day, found[1])
        if ended is not None:
            return ended
        day += timedelta(days=1)
    return change.finished()  # pragma: no cover


@dataclass
class _Change:
    """A gradual change being planned, one plan day after another: the moves so far, the
    shift they add up to and the last dose before the day being planned."""

    home: ZoneInfo
    local: ZoneInfo
    start: datetime
    moves: list[Move]
    shift: timedelta
    previous: datetime | None
    # The moves earlier of the day before, by dose.
    yesterday: list[timedelta] = field(default_factory=list)

    def clock(self) -> TravelZone:
        """The dose clock with the moves so far (its last move holds the current shift)."""
        return TravelZone.make(self.home, self.local, Choice.GRADUAL, self.start, self.moves)

    def last(self, at: datetime) -> tuple[Move, ...]:
        return (*self.moves, Move(at, None))

    def finished(self) -> tuple[Move, ...]:
        """The moves, the clock local from just after the last dose so far."""
        return self.last(max(self.start, (self.previous or self.start) + _MINUTE))

    def move_day(self, day: date, step: Step) -> tuple[Move, ...] | None:
        """Place the moves of the plan day ``day``; the whole change once it is complete."""
        # The dose clock so far: where today's dose times fall before this day's moves,
        # daylight-saving changes of both zones included.
        clock = self.clock()
        dues = [local_to_utc(day, dose.at, clock) for dose in step.doses]
        gaps = self._gaps(dues)
        # How far the clock still has to go, read where it applies: not before the start.
        probe = next((due for due in dues if due >= self.start), self.start)
        remaining = _offset(self.local, probe) - clock._at(probe)
        if remaining == timedelta(0):
            return self.finished()
        if not gaps and self.previous is None:
            return self.last(self.start)  # no dose before the change to keep a gap from
        chosen: list[tuple[int, timedelta]] = []  # (dose index, signed change of its gap)
        if remaining < timedelta(0) and gaps:  # later: the gap before the day's first dose
            chosen.append((gaps[0][0], max(remaining, -MAX_STEP)))
        elif remaining > timedelta(0):  # earlier: where the gaps have room
            chosen = self._earlier(gaps, len(dues), remaining)
        ended = self._apply(chosen, dues, remaining)
        if ended is not None:
            return ended
        # Where the day's last dose really falls on the clock with today's moves: a dose time
        # that sat in a daylight-saving gap before the moves may not after them, so the
        # shifted estimate in ``dues`` can be off by the gap (and a next move placed "after
        # it" would land before it and push it nearer the dose before).
        self.previous = local_to_utc(day, step.doses[-1].at, self.clock())
        return None

    def _gaps(self, dues: Sequence[datetime]) -> list[tuple[int, datetime, datetime]]:
        """The gaps of this day: (index of the dose after the gap, earlier instant, later)."""
        gaps: list[tuple[int, datetime, datetime]] = []
        earlier = self.previous
        for index, due in enumerate(dues):
            if due >= self.start and earlier is not None:
                gaps.append((index, earlier, due))
            earlier = due
        return gaps

    def _earlier(
        self, gaps: Sequence[tuple[int, datetime, datetime]], doses: int, remaining: timedelta
    ) -> list[tuple[int, timedelta]]:
        """The gaps a move earlier shortens (the first, then the longest) and by how much."""
        chosen: list[tuple[int, timedelta]] = []
        ordered = [*gaps[:1], *sorted(gaps[1:], key=lambda gap: gap[2] - gap[1], reverse=True)]
        moved = [timedelta(0)] * doses
        if len(self.yesterday) != doses:  # another step: as if it all moved at the end
            self.yesterday = [timedelta(0)] * (doses - 1) + [sum(self.yesterday, timedelta(0))]
        left = remaining
        for index, low, high in ordered:
            if left <= timedelta(0):
                break
            at = max(self.start, low + _MINUTE)
            gap = high - low
            # Never into the next half hour: a dose does not jump to "now".
            room = min(gap - min(gap, MIN_GAP), high - at - _NOT_NOW)
            # Each dose moves at most MAX_STEP from one day to the next: the moves between
            # a dose yesterday and the same dose today are yesterday's after it and
            # today's up to it.
            budget = MAX_STEP - max(
                sum(self.yesterday[j + 1 :], timedelta(0)) + sum(moved[: j + 1], timedelta(0))
                for j in range(index, doses)
            )
            step = _whole_minutes(min(left, budget, max(room, timedelta(0))))
            if step > timedelta(0):
                chosen.append((index, step))
                moved[index] += step
                left -= step
        self.yesterday = moved
        return chosen

    def _apply(
        self, chosen: Sequence[tuple[int, timedelta]], dues: list[datetime], remaining: timedelta
    ) -> tuple[Move, ...] | None:
        """Add the day's moves, each just after the dose before its gap; the whole change
        when one of them takes the rest of the way."""
        for index, change in sorted(chosen):
            before_it = dues[index - 1] if index > 0 else self.previous
            assert before_it is not None
            at = max(self.start, before_it + _MINUTE)
            # Every move also moves the doses after it (this day's and the next days').
            for later in range(index, len(dues)):
                dues[later] -= change
            self.shift += change
            if change == remaining:
                return self.last(at)  # the rest of the way: from here on the local zone itself
            remaining -= change
            self.moves.append(Move(at, self.shift))
        return None


def _whole_minutes(value: timedelta) -> timedelta:
    return timedelta(minutes=int(value.total_seconds() // 60))


class TravelZone(ZoneInfo):
    """The dose clock of a patient who travels (see the module's description).

    Made by :func:`travel_zone` or :func:`parse_zone`, never directly. A tzinfo like any
    other: ``utcoffset`` and ``fromutc`` follow the moves, with PEP 495 folds and gaps.
    """

    home: ZoneInfo
    local: ZoneInfo
    choice: Choice
    started: datetime
    moves: tuple[Move, ...]
    _ats: list[datetime]

    @classmethod
    def make(
        cls,
        home: ZoneInfo,
        local: ZoneInfo,
        choice: Choice,
        started: datetime,
        moves: Sequence[Move] = (),
    ) -> TravelZone:
        zone = cls.no_cache(local.key)
        zone.home = home
        zone.local = local
        zone.choice = choice
        zone.started = _utc(started)
        zone.moves = tuple(moves)
        zone._ats = [move.at for move in zone.moves]
        return zone

    @property
    def ends(self) -> datetime | None:
        """When the dose clock becomes the local zone (None: keeps home times)."""
        if self.choice is Choice.HOME or not self.moves or self.moves[-1].shift is not None:
            return None
        return self.moves[-1].at

    def wall(self, instant: datetime) -> datetime:
        """The real local time of ``instant`` (this zone's own offset is the dose clock's)."""
        return _utc(instant).astimezone(self.local)

    def home_wall(self, instant: datetime) -> datetime:
        return _utc(instant).astimezone(self.home)

    def _at(self, instant: datetime) -> timedelta:
        """The dose clock's offset at the UTC ``instant`` (aware)."""
        if self.choice is Choice.HOME:
            return _offset(self.home, instant)
        index = bisect.bisect_right(self._ats, instant) - 1
        if index < 0:
            return _offset(self.home, instant)
        shift = self.moves[index].shift
        if shift is None:
            return _offset(self.local, instant)
        return _offset(self.home, instant) + shift

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        if dt is None:
            return None
        wall = dt.replace(tzinfo=UTC)  # the wall time read as if it were UTC
        offsets = {self._at(wall + hours) for hours in (-_PROBE, timedelta(0), _PROBE)}
        offsets.update(self._at(move.at) for move in self.moves if abs(move.at - wall) < _PROBE)
        offsets.update(
            self._at(move.at - _MINUTE) for move in self.moves if abs(move.at - wall) < _PROBE
        )
        fits = sorted(offset for offset in offsets if self._at(wall - offset) == offset)
        if fits:  # one reading, or two in a fold: fold=0 the earlier instant (larger offset)
            return fits[-1] if dt.fold == 0 or len(fits) == 1 else fits[0]
        # In a gap: fold=0 reads it with the offset before the change, fold=1 after it.
        before = [offset for offset in offsets if self._at(wall - offset) > offset]
        after = [offset for offset in offsets if self._at(wall - offset) < offset]
        if dt.fold == 0 and before:
            return max(before)
        if after:
            return min(after)
        return self._at(wall)  # pragma: no cover - a gap has both sides

    def dst(self, dt: datetime | None) -> timedelta | None:
        return timedelta(0)

    def tzname(self, dt: datetime | None) -> str | None:
        return self.local.key

    def fromutc(self, dt: datetime) -> datetime:
        instant = dt.replace(tzinfo=UTC)
        offset = self._at(instant)
        wall = (instant + offset).replace(tzinfo=self, fold=0)
        if wall.utcoffset() != offset:  # the second reading of a repeated wall time
            wall = wall.replace(fold=1)
        return wall

    def __repr__(self) -> str:
        return f"TravelZone({spec(self)!r})"

    def __reduce__(self) -> tuple[object, ...]:
        return (parse_zone, (spec(self),))


def travel_zone(
    plan: Plan | None, current: ZoneInfo, local: ZoneInfo, start: datetime, choice: Choice
) -> ZoneInfo:
    """The dose clock from ``start`` for the patient's choice, from the clock they follow now
    (``current``: a plain zone, or the travel zone of a trip already under way).

    "At once" (or a gradual change without a plan to measure gaps from) is the local zone.
    From home times the trip starts at home; a gradual change under way goes on from where
    it has moved the doses; one that has ended starts from its local zone.
    """
    home, prior = _starting_point(current, start)
    if choice is Choice.AT_ONCE or (choice is Choice.GRADUAL and plan is None):
        return local
    if choice is Choice.HOME:
        if home.key == local.key:
            return local
        return TravelZone.make(home, local, Choice.HOME, start)
    assert plan is not None
    moves = plan_moves(plan, home, local, start, prior)
    if not prior and _offset(home, start) == _offset(local, start) and moves[0].shift is None:
        return local  # the same clock: nothing to move
    return TravelZone.make(home, local, Choice.GRADUAL, start, moves)


def _starting_point(current: ZoneInfo, start: datetime) -> tuple[ZoneInfo, tuple[Move, ...]]:
    """The home zone and the moves so far of a new change that starts at ``start``."""
    start = _utc(start)
    if not isinstance(current, TravelZone):
        return current, ()
    if current.choice is Choice.HOME:
        return current.home, ()
    ends = current.ends
    if ends is not None and ends <= start - _SETTLED:
        return current.local, ()  # long enough ago: the days looked back on are all local
    # The moves so far; one that made the clock local says by how much, from home.
    prior = []
    for move in current.moves:
        if move.at >= start:
            break
        shift = move.shift
        if shift is None:
            shift = _offset(current.local, move.at) - _offset(current.home, move.at)
        prior.append(Move(move.at, shift))
    return current.home, tuple(prior)


def following(current: ZoneInfo, now: datetime) -> ZoneInfo:
    """The zone whose times the doses follow now, to name it: home while keeping home times,
    the local zone once a gradual change is under way or over."""
    if isinstance(current, TravelZone):
        return current.home if current.choice is Choice.HOME else current.local
    return current


def doses_across(
    plan: Plan,
    home: ZoneInfo,
    local: ZoneInfo,
    start: datetime,
    choice: Choice,
    days: int = MAX_DAYS,
) -> list[datetime]:
    """The UTC instants of the plan's doses from ``start`` over ``days`` days of the change."""
    zone = travel_zone(plan, home, local, start, choice)
    return [slot.due_utc for slot in slots_between(plan, zone, start, start + timedelta(days=days))]


def settled(zone: ZoneInfo, now: datetime) -> ZoneInfo:
    """The local zone itself once a gradual change has ended (its spec can be dropped)."""
    if isinstance(zone, TravelZone) and zone.ends is not None and _utc(now) >= zone.ends:
        return zone.local
    return zone


def spec(zone: ZoneInfo) -> str:
    """How a zone is stored: the IANA name, or for a travel zone
    ``local|home|choice|started[|at=shift minutes ...]`` (instants as Unix seconds; a last
    move without a shift is written ``at=local``)."""
    if not isinstance(zone, TravelZone):
        return zone.key
    parts = [zone.local.key, zone.home.key, zone.choice.value, str(int(zone.started.timestamp()))]
    for move in zone.moves:
        shift = "local" if move.shift is None else str(int(move.shift.total_seconds() // 60))
        parts.append(f"{int(move.at.timestamp())}={shift}")
    return _SEPARATOR.join(parts)


def is_spec(text: str) -> bool:
    return _SEPARATOR in text


def local_name(text: str) -> str:
    """The local zone's name of a stored zone (the name itself for a plain zone)."""
    return text.split(_SEPARATOR, 1)[0]


@lru_cache(maxsize=4096)
def parse_zone(text: str) -> ZoneInfo:
    """The zone a :func:`spec` names; ValueError if it is not one."""
    try:
        return _parse(text)
    except (KeyError, ValueError, OSError) as error:  # ZoneInfoNotFoundError is a KeyError
        raise ValueError("not a zone") from error


def _parse(text: str) -> ZoneInfo:
    if not is_spec(text):
        return ZoneInfo(text)
    parts = text.split(_SEPARATOR)
    if len(parts) < 4:
        raise ValueError("not a travel zone")
    local, home, choice, started, *rest = parts
    moves = []
    for part in rest:
        at, _, shift = part.partition("=")
        moves.append(
            Move(
                datetime.fromtimestamp(int(at), UTC),
                None if shift == "local" else timedelta(minutes=int(shift)),
            )
        )
    return TravelZone.make(
        ZoneInfo(home),
        ZoneInfo(local),
        Choice(choice),
        datetime.fromtimestamp(int(started), UTC),
        moves,
    )
