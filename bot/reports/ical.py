"""The coming doses as an iCalendar file (RFC 5545, the ``icalendar`` library).

Each event is written in the patient's zone with a TZID and that zone's VTIMEZONE, so a phone
calendar keeps the wall time right on both sides of a daylight-saving change.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from bot.reports.specs import CalendarSpec


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
        event.add("dtstart", start)
        event.add("dtend", start + timedelta(minutes=item.minutes))
        event.add("summary", item.title)
        event.add("description", item.description)
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    if spec.events:  # the zone's rules for the span of the events, not since 1970
        first = spec.events[0].start_utc.date() - timedelta(days=2)
        last = spec.events[-1].start_utc.date() + timedelta(days=2)
        calendar.add_missing_timezones(first_date=first, last_date=last)
    return bytes(calendar.to_ical())
