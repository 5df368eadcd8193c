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
        event.add("sequence", spec.sequence)
        event.add("status", "CANCELLED" if item.cancelled else "CONFIRMED")
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
