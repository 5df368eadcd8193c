"""The pure pump-refill rule (bot/domain/refills.py): 14, 7, 3, 1 days before and on the day at
10:00 local, right across daylight-saving changes; typed dates and phone numbers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.refills import DateProblem, parse_date, parse_phone, reminder_plan

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
LONG_AGO = datetime(2027, 1, 1, tzinfo=UTC)


def test_berlin_across_the_spring_change() -> None:
    # Summer time starts on 28 March 2027: 10:00 is 09:00 UTC before, 08:00 UTC after.
    planned = reminder_plan(date(2027, 4, 5), BERLIN, LONG_AGO)
    assert [(item.kind, item.due_at) for item in planned] == [
        ("d14", datetime(2027, 3, 22, 9, 0, tzinfo=UTC)),
        ("d7", datetime(2027, 3, 29, 8, 0, tzinfo=UTC)),
        ("d3", datetime(2027, 4, 2, 8, 0, tzinfo=UTC)),
        ("d1", datetime(2027, 4, 4, 8, 0, tzinfo=UTC)),
        ("d0", datetime(2027, 4, 5, 8, 0, tzinfo=UTC)),
        ("cg_missed", datetime(2027, 4, 6, 8, 0, tzinfo=UTC)),
    ]


def test_new_york_across_the_spring_change() -> None:
    # DST starts on 14 March 2027: 10:00 is 15:00 UTC before, 14:00 UTC after.
    planned = reminder_plan(date(2027, 3, 20), NEW_YORK, LONG_AGO)
    assert [item.due_at.hour for item in planned] == [15, 15, 14, 14, 14, 14]
    assert all(item.due_at.astimezone(NEW_YORK).hour == 10 for item in planned)


def test_new_york_across_the_autumn_change() -> None:
    planned = reminder_plan(date(2027, 11, 10), NEW_YORK, LONG_AGO)
    assert all(item.due_at.astimezone(NEW_YORK).hour == 10 for item in planned)
    # DST ends on 7 November 2027: 27 Oct and 3 Nov are EDT (14:00 UTC), 7 Nov on EST (15:00).
    assert [item.due_at.hour for item in planned][:3] == [14, 14, 15]


def test_past_instants_are_left_out() -> None:
    now = datetime(2027, 4, 2, 8, 0, tzinfo=UTC)  # exactly the d3 instant: already due/passed
    planned = reminder_plan(date(2027, 4, 5), BERLIN, now)
    assert [item.kind for item in planned] == ["d1", "d0", "cg_missed"]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2027-04-05", date(2027, 4, 5)),
        ("5.4.2027", date(2027, 4, 5)),
        ("05/04/2027", date(2027, 4, 5)),
    ],
)
def test_dates_read(typed: str, expected: date) -> None:
    assert parse_date(typed, date(2027, 3, 1)) == expected


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("next tuesday", "format"),
        ("2027-02-30", "format"),
        ("2027-02-27", "past"),
        ("2028-03-02", "far"),
    ],
)
def test_dates_refused(typed: str, reason: str) -> None:
    with pytest.raises(DateProblem) as raised:
        parse_date(typed, date(2027, 3, 1))
    assert raised.value.reason == reason


def test_alarm_date_may_be_past() -> None:
    today = date(2027, 3, 1)
    assert parse_date("2027-02-27", today, allow_past=True) == today - timedelta(days=2)


def test_phones() -> None:
    assert parse_phone("+44 20 7946 0000") == "+44 20 7946 0000"
    assert parse_phone("8 (495) 123-45-67") == "8 (495) 123-45-67"
    assert parse_phone("call me") is None
    assert parse_phone("12") is None
