"""/report, the /plan picture and /calendar through the Bot API stand-in: a scripted 12-day
titration with check-ins, read back from the PDF and CSV the bot uploads, the pictures checked
as PNGs, and the calendar parsed and matched against /plan across a daylight-saving change."""

from __future__ import annotations

import csv
import io
import os
import re
from calendar import month_name
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from dateutil.tz import tzical
from icalendar import Calendar

from bot.content import ContentLibrary, ContentPack
from bot.domain.report import Period
from bot.emulator.api import image_size
from bot.reports.charts import report_chart
from bot.reports.ical import doses_calendar
from bot.reports.pdf import broken_header_words
from bot.reports.specs import CalendarEvent, CalendarSpec
from bot.views.report import report_chart_spec, table_header
from tests.conftest import RunningBot
from tests.reminder_helpers import advance_until_messages, dose_data, press_and_wait_edit, save_plan
from tests.report_helpers import pdf_text, report_text, request_file

USER = 8013
DOSE = ("mg", "time", "day", "step", "steps")
TAG = re.compile(r"<[^>]+>")
BERLIN = ZoneInfo("Europe/Berlin")

# The plan: 08:00 and 20:00 from Mon 12 Jan 2026 (the fake clock starts on Sun 11 Jan),
# 4 steps of 3 days (5, 10, 15, 20 mg), 24 doses. What the patient does with each dose, in
# order: "taken", "skip", or None (left unanswered: it counts as missed).
SCRIPT: list[str | None] = [
    *("taken", "skip", "taken", "taken", "taken", "taken"),  # step 1: 5 taken, 1 skipped
    *("taken", "taken", None, "taken", "taken", "taken"),  # step 2: 5 taken, 1 missed
    *("taken", "skip", "taken", "taken", "skip", "taken"),  # step 3: 4 taken, 2 skipped
    *("taken", "taken", "taken", "taken", "taken", "taken"),  # step 4: 6 taken
]
# The check-in after the last dose of steps 1 to 3 (the evening before each increase):
# stiffness, then drowsiness, dizziness, weakness, nausea, and a note (None: Skip).
CHECKINS = {
    1: ("7", ("none", "none", "none", "none"), None),
    2: ("5", ("strong", "mild", "none", "none"), None),
    3: ("3", ("mild", "none", "none", "none"), "sleepy after lunch"),
}


def save_sample(name: str, content: bytes) -> None:
    """With REPORT_SAMPLES=<folder> (``make report-samples``), keep the file for the docs."""
    folder = os.environ.get("REPORT_SAMPLES")
    if folder:
        Path(folder, name).write_bytes(content)


def dose_instant(index: int) -> datetime:
    day = datetime(2026, 1, 12, tzinfo=BERLIN) + timedelta(days=index // 2)
    return day.replace(hour=8 if index % 2 == 0 else 20).astimezone(UTC)


def current(bot: RunningBot, message_id: int) -> dict[str, Any]:
    return next(m for m in bot.api.messages_to(USER) if m["message_id"] == message_id)


NOTES = {"ru": "клонит в сон после обеда"}  # the patient's own words, in their language
SEVERITY = {
    "none": "checkin.severity_0",
    "mild": "checkin.severity_1",
    "strong": "checkin.severity_2",
}


async def answer_checkin(
    bot: RunningBot, checkin: dict[str, Any], step: int, pack: ContentPack
) -> None:
    stiffness, effects, note = CHECKINS[step]
    await press_and_wait_edit(bot, USER, checkin, bot.buttons(checkin)[stiffness])
    for label in effects:
        message = current(bot, checkin["message_id"])
        button = bot.buttons(message)[pack.text(SEVERITY[label])]
        await press_and_wait_edit(bot, USER, message, button)
    if note is None:
        message = current(bot, checkin["message_id"])
        skip = bot.buttons(message)[pack.text("checkin.button_skip_note")]
        await press_and_wait_edit(bot, USER, message, skip)
    else:
        [done] = await bot.say(USER, NOTES.get(pack.language.code, note))
        recorded = pack.text("checkin.recorded", **dict.fromkeys(RECORDED, "\x00"))
        assert TAG.sub("", done).startswith(TAG.sub("", recorded.split("\x00")[0]))


RECORDED = ("step", "stiffness", "drowsiness", "dizziness", "weakness", "nausea")


async def run_titration(bot: RunningBot, pack: ContentPack | None = None) -> None:
    """The scripted titration, in English or (``pack``) in the patient's language."""
    pack = pack or bot.pack
    if pack.language.code != "en":
        bot.api.send_text(USER, "/start", language_code=pack.language.code)
        await bot.next_messages(USER, 0, 1)
    await bot.onboard(USER, zone="Europe/Berlin", region="uk")
    if pack.language.code == "en":
        await save_plan(bot, USER, "/schedule custom tomorrow 08:00,20:00 5x3 10x3 15x3 20x3")
    else:  # as a Russian keyboard types it
        await bot.say(USER, "/schedule custom завтра 08:00,20:00 5х3 10х3 15х3 20х3")
        await bot.press(USER, bot.last_message(USER)["message_id"], "plan:save", replies=1)
    # The words each reminder and each check-in start with, in the patient's language.
    dose = TAG.sub("", pack.text("reminder.dose", **dict.fromkeys(DOSE, "\x00"))).split("\x00")[0]
    intro = pack.text("checkin.intro_before_increase", next_doses="\x00")
    checkin_intro = TAG.sub("", intro).strip().splitlines()[0]
    follow_up_pending = False
    for index, answer in enumerate(SCRIPT):
        step, last_of_step = index // 6 + 1, index % 6 == 5
        if follow_up_pending:  # the one follow-up of an unanswered dose, 30 minutes after it
            await advance_until_messages(bot, USER, dose_instant(index - 1) + timedelta(minutes=31))
            follow_up_pending = False
        expect = 2 if last_of_step and step in CHECKINS else 1
        messages = await advance_until_messages(bot, USER, dose_instant(index), count=expect)
        reminder = messages[0]
        assert TAG.sub("", reminder["text"]).startswith(dose), reminder["text"]
        if answer is None:
            follow_up_pending = True
        else:
            await press_and_wait_edit(bot, USER, reminder, dose_data(reminder, answer))
        if expect == 2:
            assert checkin_intro in TAG.sub("", messages[1]["text"])
            await answer_checkin(bot, messages[1], step, pack)
    bot.clock.set(dose_instant(len(SCRIPT) - 1) + timedelta(minutes=10))


def assert_png(content: bytes, *, min_side: int = 300, max_side: int = 3000) -> tuple[int, int]:
    assert content.startswith(b"\x89PNG\r\n\x1a\n")
    size = image_size(content)
    assert size is not None
    width, height = size
    assert min_side <= width <= max_side and min_side <= height <= max_side, size
    assert 1 <= width / height <= 4, size
    return width, height


def _assert_the_pdf_shows_every_step(content: bytes) -> None:
    """Each step with its counts and check-in, the note, and no name nor id."""
    save_sample("report-sample.pdf", content)
    pages, text = pdf_text(content)
    assert 1 <= pages <= 2
    assert "Period: this plan, 12.01.2026 to 23.01.2026" in text
    assert "The plan as prescribed" in text
    assert "Step 1, 12 to 14 January (3 days)" in text
    expected_rows = [
        "1 of 4 12.01.2026 – 14.01.2026 5 mg twice a day (08:00, 20:00); 10 mg a day 5 1 0 0 "
        "14.01: stiffness 7/10; drowsiness none, dizziness none, weakness none, nausea none -",
        "2 of 4 15.01.2026 – 17.01.2026 10 mg twice a day (08:00, 20:00); 20 mg a day 5 0 1 0 "
        "17.01: stiffness 5/10; drowsiness strong, dizziness mild, weakness none, nausea none -",
        "3 of 4 18.01.2026 – 20.01.2026 15 mg twice a day (08:00, 20:00); 30 mg a day 4 2 0 0 "
        "20.01: stiffness 3/10; drowsiness mild, dizziness none, weakness none, nausea none -",
        "4 of 4 21.01.2026 – 23.01.2026 20 mg twice a day (08:00, 20:00); 40 mg a day 6 0 0 0 - -",
    ]
    for row in expected_rows:
        assert row in text, f"{row!r} not in {text!r}"
    assert "Step 3 of 4, 20.01: sleepy after lunch" in text
    # No name was typed, so none is printed: not the Telegram first name, never the id.
    assert "Patient:" not in text
    assert "Pat" not in text.replace("Patient", "")
    assert str(USER) not in text
    assert str(USER).encode() not in content


async def _assert_the_csv_holds_the_same_rows(bot: RunningBot) -> None:
    """/report csv: the same rows as a table."""
    choice, call = await request_file(bot, USER, "/report csv", "Everything", "sendDocument")
    assert "as a table (CSV)" in choice
    assert call.params["document"]["filename"].endswith(".csv")
    rows = list(csv.reader(io.StringIO(call.params["document"]["content"].decode("utf-8-sig"))))
    assert rows[0][:4] == ["Plan start", "Step", "First day", "Last day"]
    assert [row[1:4] + row[6:10] for row in rows[1:]] == [
        ["1 of 4", "2026-01-12", "2026-01-14", "5", "1", "0", "0"],
        ["2 of 4", "2026-01-15", "2026-01-17", "5", "0", "1", "0"],
        ["3 of 4", "2026-01-18", "2026-01-20", "4", "2", "0", "0"],
        ["4 of 4", "2026-01-21", "2026-01-23", "6", "0", "0", "0"],
    ]
    assert rows[3][-1] == "sleepy after lunch"


async def test_report_pdf_holds_every_step_with_its_counts_and_check_ins(
    bot: RunningBot,
) -> None:
    await run_titration(bot)
    choice, call = await request_file(bot, USER, "/report", "This plan", "sendDocument")
    assert bot.pack.text("report.choose") in choice
    document = call.params["document"]
    assert document["filename"] == "baclofen-report-2026-01-23.pdf"
    assert "(this plan)" in call.params["caption"]
    chosen = bot.last_message(USER)
    assert chosen["text"] == "⏳ Making your report (this plan)…"
    assert chosen["reply_markup"] is None  # the period buttons are gone
    assert bot.api.messages_to(USER)[-1]["document"] == "baclofen-report-2026-01-23.pdf"
    _assert_the_pdf_shows_every_step(document["content"])

    # The chart of the same report is a PNG of a sensible size.
    zone = bot.services.zones.zone_for("Europe/Berlin")
    report = await bot.services.reports.report(USER, zone, Period.PLAN)
    assert [(row.taken, row.skipped, row.missed) for row in report.rows] == [
        (5, 1, 0),
        (5, 0, 1),
        (4, 2, 0),
        (6, 0, 0),
    ]
    assert_png(report_chart(report_chart_spec(bot.pack, report)))

    await _assert_the_csv_holds_the_same_rows(bot)


@pytest.mark.parametrize("code", ["en", "ru"])
def test_no_header_word_is_broken_across_lines(library: ContentLibrary, code: str) -> None:
    """Issue 23: «Приня то», «Пропу стить»: every word of every column heading fits its
    column, measured with the PDF's own font."""
    assert broken_header_words(table_header(library.get(code))) == []


async def test_the_russian_report_reads_whole(bot: RunningBot, library: ContentLibrary) -> None:
    """The scripted titration in Russian: its PDF (docs/report-sample-ru.pdf with
    REPORT_SAMPLES) prints each heading in whole words and the rows in Russian."""
    russian = library.get("ru")
    await run_titration(bot, russian)
    _, call = await request_file(
        bot, USER, "/report", russian.text("report.button_plan"), "sendDocument"
    )
    content = call.params["document"]["content"]
    save_sample("report-sample-ru.pdf", content)
    pages, text = pdf_text(content)
    assert 1 <= pages <= 2
    assert " ".join(table_header(russian)) in text, text
    assert "Этап 1, с 12 по 14 января (3 дня)" in text
    assert "Report" not in text and "Step" not in text


async def test_a_typed_name_is_printed_and_the_last_four_weeks(bot: RunningBot) -> None:
    await bot.onboard(USER, zone="Europe/Berlin")
    [none] = await bot.say(USER, "/report")
    assert bot.pack.text("report.no_plan") in none
    await save_plan(bot, USER, "/schedule custom today 20:00 10x3")
    bot.clock.set(datetime(2026, 2, 20, 12, tzinfo=UTC))  # weeks later: maintenance
    choice, call = await request_file(
        bot, USER, "/report name Anna Müller-Иванова", "Last 4 weeks", "sendDocument"
    )
    assert "with the name <b>Anna Müller-Иванова</b>" in choice
    _, text = pdf_text(call.params["document"]["content"])
    assert "Patient: Anna Müller-Иванова" in text
    assert "Period: last 4 weeks, 24.01.2026 to 20.02.2026" in text
    # The only step ended before the period; the doses since are the maintenance row.
    assert "After the last step 24.01.2026 – 20.02.2026 10 mg at 20:00; 10 mg a day" in text
    # The name is used once: the next report has none.
    text = await report_text(bot, USER, "Everything")
    assert "Anna" not in text and "Patient:" not in text
    assert "1 of 1 11.01.2026 – 13.01.2026" in text


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/report weekly", "I did not understand that. Send /report for a PDF"),
        ("/report name", "I did not understand that"),
        ("/report csv name Anna", "A name goes only on the PDF"),
        ("/report name " + "x" * 61, "at most 60 characters"),
    ],
)
async def test_bad_report_arguments_get_an_example(
    bot: RunningBot, command: str, expected: str
) -> None:
    await bot.onboard(USER, zone="UTC")
    await save_plan(bot, USER, "/schedule custom today 20:00 10x3")
    [answer] = await bot.say(USER, command)
    assert expected in answer
    assert "<code>/report name Anna Smith</code>" in answer
    assert bot.api.calls_of("sendDocument") == []


async def test_forged_report_buttons_make_nothing(bot: RunningBot) -> None:
    await bot.onboard(USER, zone="UTC")
    await save_plan(bot, USER, "/schedule custom today 20:00 10x3")
    await bot.say(USER, "/report")
    message = bot.last_message(USER)
    for forged in ("report:pdf:year", "report:doc:plan", "report:pdf"):
        await bot.press(USER, message["message_id"], forged)
    assert bot.api.calls_of("sendDocument") == []


async def test_plan_picture_follows_the_plan_text(bot: RunningBot) -> None:
    await bot.onboard(USER, zone="Europe/Berlin")
    await save_plan(bot, USER, "/schedule standard tomorrow 08:00 14:00 20:00")
    [text] = await bot.say(USER, "/plan")
    assert "Step 4" in text
    [call] = await bot.api.wait_for("sendPhoto", timeout=60)
    assert call.status == 200
    photo = call.params["photo"]["content"]
    save_sample("plan-picture.png", photo)
    width, height = assert_png(photo)
    assert len(photo) < 10 * 1024 * 1024
    assert call.params["caption"].startswith(bot.pack.text("picture.caption"))
    [message] = [m for m in bot.api.messages_to(USER) if m["photo"]]
    assert message["message_id"] > bot.last_message(USER)["message_id"]  # under the text
    sizes = bot.api.chat_history(USER)[-1]["photo"]
    assert (sizes[0]["width"], sizes[0]["height"]) == (width, height)


_Step = tuple[date, date, str, list[str]]


def _steps_of(plan: str) -> list[_Step]:
    """What /plan says: per step, its dates, its mg and its times.
    "Step 1, 26 to 28 March (3 days)", "Step 3, 1 to 3 April", "30 March to 1 April"."""

    def on(number: str, month: str) -> date:
        return date(2026, list(month_name).index(month), int(number))

    return [
        (on(first, first_month or last_month), on(last, last_month), mg, times.split(", "))
        for first, first_month, last, last_month, mg, times in re.findall(
            r"Step \d, (\d{1,2})(?: (\w+))? to (\d{1,2}) (\w+) \(\d+ days\): "
            r"(\d+) mg three times a day \(([\d:, ]+)\)",
            plan,
        )
    ]


def _assert_each_event_follows_its_step(events: list[Any], steps: list[_Step]) -> None:
    """In Berlin time, at one of its step's times, with its mg (the last step's after it);
    the events span both of Berlin's offsets."""
    maintenance_mg = steps[-1][2]
    seen_offsets = set()
    for event in events:
        start = event.decoded("dtstart")
        assert isinstance(start.tzinfo, ZoneInfo) and start.tzinfo.key == "Europe/Berlin"
        day = start.date()
        step = next((s for s in steps if s[0] <= day <= s[1]), None)
        mg = step[2] if step else maintenance_mg
        times = step[3] if step else steps[-1][3]
        assert start.strftime("%H:%M") in times
        assert f"Baclofen {mg} mg" in str(event["summary"])
        if step is not None:
            assert f"(step {steps.index(step) + 1} of 4)" in str(event["summary"])
        seen_offsets.add(start.utcoffset())
    assert seen_offsets == {timedelta(hours=1), timedelta(hours=2)}


def _assert_the_times_move_with_the_clock_change(events: list[Any], content: bytes) -> None:
    """The same local times on both sides of 29 March, read by icalendar and by dateutil."""
    mornings = {
        event.decoded("dtstart").date(): event.decoded("dtstart")
        for event in events
        if event.decoded("dtstart").hour == 8
    }
    # 08:00 in Berlin is 07:00 UTC before the change and 06:00 UTC after it.
    assert mornings[date(2026, 3, 28)].astimezone(UTC).hour == 7
    assert mornings[date(2026, 3, 30)].astimezone(UTC).hour == 6
    # A second parser reads the file's own VTIMEZONE the same way: the change at 01:00 UTC.
    written = tzical(io.StringIO(content.decode())).get("Europe/Berlin")
    for instant, hours in (
        (datetime(2026, 3, 29, 0, 59, tzinfo=UTC), 1),
        (datetime(2026, 3, 29, 1, tzinfo=UTC), 2),
    ):
        assert instant.astimezone(written).utcoffset() == timedelta(hours=hours)
    for event in events:
        local = event.decoded("dtstart")
        assert local.replace(tzinfo=written).astimezone(UTC) == local.astimezone(UTC)


async def test_calendar_matches_the_plan_across_a_clock_change(bot: RunningBot) -> None:
    bot.clock.set(datetime(2026, 3, 25, 9, tzinfo=UTC))  # summer time begins on 29 March
    await bot.onboard(USER, zone="Europe/Berlin")
    [none] = await bot.say(USER, "/calendar")
    assert bot.pack.text("calendar.no_plan") in none
    await save_plan(bot, USER, "/schedule standard tomorrow 08:00 14:00 22:00")
    [plan] = await bot.say(USER, "/plan")
    before = len(bot.api.calls_of("sendDocument"))
    bot.api.send_text(USER, "/calendar")
    [call] = (await bot.api.wait_for("sendDocument", count=before + 1, timeout=60))[before:]
    assert call.params["caption"].startswith(
        "📅 Your doses for the next 90 days (times in Europe/Berlin)"
    )
    assert call.params["document"]["filename"] == "baclofen-doses.ics"
    calendar = Calendar.from_ical(call.params["document"]["content"])
    [timezone] = calendar.walk("VTIMEZONE")
    assert str(timezone["TZID"]) == "Europe/Berlin"
    events = calendar.walk("VEVENT")

    steps = _steps_of(plan)
    assert len(steps) == 4
    _assert_each_event_follows_its_step(events, steps)
    _assert_the_times_move_with_the_clock_change(events, call.params["document"]["content"])
    assert len(events) == 89 * 3 + 1  # 90 days from 25 March 10:00 local, three a day
    assert {event.decoded("dtstamp") for event in events} == {datetime(2026, 3, 25, 9, tzinfo=UTC)}
    first = min(events, key=lambda event: event.decoded("dtstart"))
    assert first.decoded("dtstart") == datetime(2026, 3, 26, 8, tzinfo=BERLIN)
    assert str(USER) not in call.params["document"]["content"].decode()


# Each zone's two changes of 2027, in UTC.
CHANGES = {
    "Europe/Berlin": (datetime(2027, 3, 28, 1, tzinfo=UTC), datetime(2027, 10, 31, 1, tzinfo=UTC)),
    "America/New_York": (
        datetime(2027, 3, 14, 7, tzinfo=UTC),
        datetime(2027, 11, 7, 6, tzinfo=UTC),
    ),
}


@pytest.mark.parametrize("zone", CHANGES)
def test_the_calendar_zone_changes_when_the_zone_does(zone: str) -> None:
    """Issue 23: icalendar's add_missing_timezones() put Berlin's spring change at 02:00 UTC
    (DTSTART:20270328T030000 with TZOFFSETFROM:+0100). A second parser (python-dateutil's
    tzical) reads the written VTIMEZONE: the offsets around both changes are the zone's."""
    changes = CHANGES[zone]
    instants = [datetime(2027, 1, 4, 8, tzinfo=UTC), datetime(2027, 12, 20, 20, tzinfo=UTC)]
    instants += [change + timedelta(hours=hours) for change in changes for hours in (-3, 3)]
    events = tuple(
        CalendarEvent(uid=f"dose-{n}", start_utc=at, minutes=15, title="dose", description="-")
        for n, at in enumerate(sorted(instants))
    )
    spec = CalendarSpec(
        name="doses",
        zone=zone,
        events=events,
        product="-//test//EN",
        made_at=datetime(2027, 1, 1, tzinfo=UTC),
        sequence=1,
    )
    content = doses_calendar(spec).decode()
    written, real = tzical(io.StringIO(content)).get(zone), ZoneInfo(zone)
    for change in changes:
        for minutes in (-61, -1, 0, 1, 59, 61):
            instant = change + timedelta(minutes=minutes)
            assert instant.astimezone(written).utcoffset() == instant.astimezone(real).utcoffset()
        assert (change - timedelta(seconds=1)).astimezone(written).utcoffset() != (
            change.astimezone(written).utcoffset()
        )
    by_uid = {
        str(event["uid"]): event.decoded("dtstart")
        for event in Calendar.from_ical(content).walk("VEVENT")
    }
    for item in events:
        local = by_uid[item.uid].replace(tzinfo=None)
        assert local.replace(tzinfo=written).astimezone(UTC) == item.start_utc


async def _calendar_file(bot: RunningBot) -> tuple[Calendar, bytes]:
    before = len(bot.api.calls_of("sendDocument"))
    bot.api.send_text(USER, "/calendar")
    [call] = (await bot.api.wait_for("sendDocument", count=before + 1, timeout=60))[before:]
    content: bytes = call.params["document"]["content"]
    return Calendar.from_ical(content), content


def _by_dose_time(calendar: Calendar) -> dict[tuple[date, str], Any]:
    return {
        (event.decoded("dtstart").date(), event.decoded("dtstart").strftime("%H:%M")): event
        for event in calendar.walk("VEVENT")
    }


async def test_the_calendar_of_a_plan_that_waits_to_start(bot: RunningBot) -> None:
    """A plan saved to start tomorrow (issue 19): today's doses stay in the calendar; from
    tomorrow the new plan's times, and the old plan's dropped time comes as cancelled."""
    bot.clock.set(datetime(2026, 3, 2, 9, tzinfo=UTC))
    await bot.onboard(USER, zone="Europe/Berlin")
    await save_plan(bot, USER, "/schedule custom today 12:00,20:00 10x20")
    await save_plan(bot, USER, "/schedule custom tomorrow 08:00,14:00 5x20")
    calendar, _ = await _calendar_file(bot)
    events = _by_dose_time(calendar)
    kept = {key for key, event in events.items() if str(event["status"]) != "CANCELLED"}
    assert (date(2026, 3, 2), "20:00") in kept
    assert (date(2026, 3, 3), "08:00") in kept
    assert (date(2026, 3, 3), "20:00") not in kept
    assert str(events[(date(2026, 3, 3), "20:00")]["status"]) == "CANCELLED"


async def test_a_changed_plan_replaces_the_calendar_events_instead_of_adding_more(
    bot: RunningBot,
) -> None:
    """Import, change the plan, import again: the same dose time has the same UID in both
    files (so the phone updates the event), the second file is a higher SEQUENCE, and the dose
    time the new plan dropped comes again as cancelled, worded as no dose."""
    bot.clock.set(datetime(2026, 3, 2, 9, tzinfo=UTC))
    await bot.onboard(USER, zone="Europe/Berlin")
    await save_plan(bot, USER, "/schedule custom tomorrow 08:00,20:00 10x20")
    first, first_bytes = await _calendar_file(bot)

    bot.clock.set(datetime(2026, 3, 4, 12, tzinfo=UTC))
    # From today: a plan that starts tomorrow would wait, and today's 20:00 would stay.
    await save_plan(bot, USER, "/schedule custom today 08:00,14:00 10x20")
    second, second_bytes = await _calendar_file(bot)

    old, new = _by_dose_time(first), _by_dose_time(second)
    second_events = second.walk("VEVENT")
    uids = [str(event["uid"]) for event in second_events]
    assert len(set(uids)) == len(uids) == len(new)  # no two events of one file share a UID
    shared = old.keys() & new.keys()
    assert {at for _, at in shared} == {"08:00", "20:00"}
    for key in shared:
        assert str(old[key]["uid"]) == str(new[key]["uid"]), key

    [first_sequence] = {event.decoded("sequence") for event in first.walk("VEVENT")}
    [second_sequence] = {event.decoded("sequence") for event in second_events}
    assert second_sequence > first_sequence
    assert {event.decoded("dtstamp") for event in second_events} == {
        datetime(2026, 3, 4, 12, tzinfo=UTC)
    }

    # 20:00 is gone: every 20:00 of the first file from now on is in the second, cancelled.
    # (A few more, up to 90 days after the old plan was replaced: the bot does not know when
    # the old file was made, only that it was before then.)
    now = datetime(2026, 3, 4, 12, tzinfo=UTC)
    dropped = {key for key in old if key[1] == "20:00" and old[key].decoded("dtstart") >= now}
    cancelled = {key for key, event in new.items() if str(event["status"]) == "CANCELLED"}
    assert dropped and dropped <= cancelled
    assert {at for _, at in cancelled} == {"20:00"}
    assert max(day for day, _ in cancelled) == date(2026, 6, 1)  # replaced 4 March + 90 days
    for key in cancelled:
        assert str(new[key]["summary"]) == bot.pack.text("calendar.event_cancelled")
    doses = {key for key, event in new.items() if str(event["status"]) == "CONFIRMED"}
    assert doses == new.keys() - cancelled
    assert {at for _, at in doses} == {"08:00", "14:00"}
    assert all("Baclofen 10 mg" in str(new[key]["summary"]) for key in doses)

    # Neither the Telegram id nor the date or time of a dose can be read from a UID.
    for content in (first_bytes, second_bytes):
        assert str(USER) not in content.decode()
    for uid in uids:
        name = uid.removesuffix("@baclofen-bot")
        assert re.fullmatch(r"[a-z2-7]{26}", name), uid


def _report_workers() -> list[int]:
    """The worker processes this test process started (``spawn`` runs ``spawn_main``)."""
    workers = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = next(line for line in status.splitlines() if line.startswith("PPid:"))
        if int(parent.split()[1]) == os.getpid() and b"spawn_main" in cmdline:
            workers.append(int(entry.name))
    return workers


async def test_a_worker_that_dies_is_replaced_and_the_patient_told(bot: RunningBot) -> None:
    await bot.onboard(USER, zone="UTC")
    await save_plan(bot, USER, "/schedule custom today 20:00 10x3")
    await request_file(bot, USER, "/report", "This plan", "sendDocument")
    [worker] = _report_workers()
    os.kill(worker, 9)
    await bot.say(USER, "/report")
    message = bot.last_message(USER)
    [failed] = await bot.press(
        USER, message["message_id"], bot.buttons(message)["This plan"], replies=1
    )
    assert failed == bot.pack.text("report.failed")
    assert len(bot.api.calls_of("sendDocument")) == 1
    # The next request gets a new worker.
    await request_file(bot, USER, "/report", "This plan", "sendDocument")
    assert len(bot.api.calls_of("sendDocument")) == 2
    assert _report_workers() != [worker]


async def test_a_russian_patient_gets_a_russian_report(
    bot: RunningBot, library: ContentLibrary
) -> None:
    """The labels of the PDF come from the patient's pack, and Cyrillic prints."""
    russian = library.get("ru")
    await bot.say(USER, "/start", language_code="ru")
    await bot.onboard(USER, zone="Europe/Moscow", region="ru")
    await bot.say(USER, "/schedule custom today 20:00 10x3")
    await bot.press(USER, bot.last_message(USER)["message_id"], "plan:save", replies=1)
    bot.clock.set(datetime(2026, 1, 20, 12, tzinfo=UTC))
    text = await report_text(bot, USER, russian.text("report.button_all"))
    assert russian.text("report.title") in text, text[:300]
    assert "Report" not in text and "Period" not in text
