"""The coming doses as an iCalendar file (RFC 5545, the ``icalendar`` library).

Each event is written in the patient's zone with a TZID and that zone's VTIMEZONE, so a phone
calendar keeps the wall time right on both sides of a daylight-saving change.

How a newer file replaces an older one (the UIDs and SEQUENCE: ``bot/domain/calendar.py``).
The file is opened from the chat and imported: nobody is invited and nothing is answered, so
it stays a ``METHOD:PUBLISH`` object (RFC 5546 3.2.1), as every file of ours has been. The
other choice, an iTIP ``METHOD:CANCEL`` message, is a scheduling message to attendees (it
needs ORGANIZER and ATTENDEE, which a patient's own calendar has none of), and an iCalendar
object has one METHOD, so it cannot travel in the file with the doses; calendar apps also
handle an imported CANCEL unevenly. PUBLISH does allow ``STATUS:CANCELLED`` on a VEVENT
(RFC 5546 3.2.1; RFC 5545 3.8.1.11), so a dose time the plan no longer has is written with
its old UID, the newer SEQUENCE and that status: an app that matches imported events by UID
and honours the status drops or strikes it out. What each app does with it (Google Calendar's
import, Apple Calendar) was not tried on devices here, so the worst case is worded safe too:
an app that keeps a cancelled event shows it as "No baclofen dose at this time", never as a
dose, and one that ignores UIDs altogether keeps the old events, which the caption and every
event cover by saying that the bot's reminders are the plan. PUBLISH formally lists an
ORGANIZER; there is none (the bot has no address, and an organizer turns the file into an
invitation in some apps). Every dose says ``STATUS:CONFIRMED``, so a time cancelled in one
file and back in a later plan shows again.

The VTIMEZONE is written here from the zone's own transitions (zoneinfo), not by icalendar's
``add_missing_timezones()``: icalendar 7.3 writes each observance's DTSTART as the first wall
time *after* the change, and RFC 5545 (3.6.5, and its America/New_York examples) reads
DTSTART as the local time *before* it, in TZOFFSETFROM. Across an autumn change the two
happen to agree (03:00 CEST is 02:00 CET's first instant), but at the spring change Berlin's
``DTSTART:20270328T030000`` with ``TZOFFSETFROM:+0100`` means 02:00 UTC, an hour after the
real change at 01:00 UTC (``DTSTART:20270328T020000``): a calendar that follows the file
shows that hour's doses an hour off. ``tests/chat/test_report.py`` reads the file back with a
second parser (python-dateutil's ``tzical``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard

from bot.reports.specs import CalendarSpec

_STEP = timedelta(hours=1)  # zones change on the hour or half hour; each change is bisected


def doses_calendar(spec: CalendarSpec) -> bytes:
    zone = ZoneInfo(spec.zone)
    calendar = Calendar()
    calendar.add("prodid", spec.product)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", spec.name)
    calendar.add("x-wr-timezone", spec.zone)
    for item in spec.events:
        event = Event()
        event.add("uid", item.uid)
        start = item.start_utc.astimezone(zone)
        event.add("dtstamp", spec.made_at)
        event.add("sequence", spec.sequence)
        event.add("status", "CANCELLED" if item.cancelled else "CONFIRMED")
        event.add("dtstart", start)
        event.add("dtend", start + timedelta(minutes=item.minutes))
        event.add("summary", item.title)
        event.add("description", item.description)
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    events = calendar.walk("VEVENT")
    tzid = events[0]["DTSTART"].params.get("TZID") if events else None
    if tzid:  # the zone's rules for the span of the events, not since 1970 (UTC has none)
        first = spec.events[0].start_utc.date() - timedelta(days=2)
        last = spec.events[-1].start_utc.date() + timedelta(days=2)
        calendar.subcomponents.insert(0, vtimezone(str(tzid), first, last))
    return bytes(calendar.to_ical())


def vtimezone(name: str, first: date, last: date) -> Timezone:
    """The zone's VTIMEZONE from ``first`` to ``last`` (UTC days): one observance from the
    start of ``first``, then one per change, each starting at the local time before the change
    (RFC 5545 3.6.5: DTSTART is read in TZOFFSETFROM)."""
    zone = ZoneInfo(name)
    begin = datetime(first.year, first.month, first.day, tzinfo=UTC)
    end = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)
    timezone = Timezone()
    timezone.add("TZID", name)
    offset = _offset(zone, begin)
    timezone.add_component(_observance(zone, begin, offset, offset))
    instant = begin
    while instant < end:
        later = min(instant + _STEP, end)
        after = _offset(zone, later)
        if after != offset:
            change = _change(zone, instant, later, offset)
            timezone.add_component(_observance(zone, change, offset, after))
            offset = after
        instant = later
    return timezone


def _offset(zone: ZoneInfo, instant: datetime) -> timedelta:
    offset = instant.astimezone(zone).utcoffset()
    assert offset is not None  # a ZoneInfo always has one
    return offset


def _change(zone: ZoneInfo, before: datetime, after: datetime, offset: timedelta) -> datetime:
    """The first second in (before, after] whose offset is no longer ``offset``."""
    while after - before > timedelta(seconds=1):
        middle = before + (after - before) / 2
        middle = middle.replace(microsecond=0)
        if _offset(zone, middle) == offset:
            before = middle
        else:
            after = middle
    return after


def _observance(
    zone: ZoneInfo, onset: datetime, offset_from: timedelta, offset_to: timedelta
) -> TimezoneStandard | TimezoneDaylight:
    local = onset.astimezone(zone)
    daylight = bool(local.dst())
    observance = TimezoneDaylight() if daylight else TimezoneStandard()
    # The onset as a wall clock still on the old offset: 02:00 for Berlin's spring change.
    observance.add("DTSTART", (onset + offset_from).replace(tzinfo=None))
    observance.add("TZOFFSETFROM", offset_from)
    observance.add("TZOFFSETTO", offset_to)
    observance.add("TZNAME", local.tzname() or "")
    return observance
