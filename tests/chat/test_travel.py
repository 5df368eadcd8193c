"""Issue 22, travel: a Moscow -> New York trip through the Bot API stand-in with the fake
clock, moved gradually, at once, or kept at home times; the preview of the next three doses;
Cancel changes nothing; both languages."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, available_timezones

from bot.domain.safety import SAFE_GAP
from bot.domain.travel import TravelZone
from bot.views.callbacks import TRAVEL_CHOICES, TravelButton
from tests.conftest import RunningBot
from tests.reminder_helpers import move_zone, save_plan, tap
from tests.said import ending, opening

USER = 2201
_DAY = re.compile(r", day ([0-9]+), step")
NEW_YORK = ZoneInfo("America/New_York")
# 2026-01-11 17:30 UTC: 20:30 in Moscow (after the 20:00 dose), 12:30 in New York.
LANDED = datetime(2026, 1, 11, 17, 30, tzinfo=UTC)


async def moscow_patient(bot: RunningBot) -> None:
    await bot.onboard(USER, zone="Europe/Moscow")
    await save_plan(bot, USER, "/schedule custom today 08:00,14:00,20:00 10x30")
    await take_every_dose(bot, LANDED)  # 14:00 and 20:00 in Moscow, taken
    bot.clock.set(LANDED)


async def take_every_dose(bot: RunningBot, until: datetime) -> list[tuple[datetime, str]]:
    """Let time run to ``until``, answering each reminder Taken when it comes; returns when
    each dose reminder left and its text. Asserts that every one of them invites its dose and
    comes no sooner than 2 hours after the intake before it."""
    sent: list[tuple[datetime, str]] = []
    last_intake: datetime | None = None
    while True:
        found = await bot.services.doses.coming_doses(USER, bot.clock.now(), 1)
        if not found or found[0].due_at > until:
            return sent
        coming = found[0]
        before = bot.sent_count(USER)
        bot.clock.set(coming.due_at)
        await bot.next_messages(USER, before, 1)
        await bot.services.reminders.run_due()
        [reminder] = bot.messages(USER)[before:]
        assert opening(bot.pack, "reminder.dose") in reminder["text"], reminder["text"]
        if last_intake is not None:
            assert coming.due_at - last_intake >= SAFE_GAP, (last_intake, coming.due_at)
        sent.append((coming.due_at, reminder["text"]))
        await tap(bot, USER, reminder, "taken")
        last_intake = bot.clock.now()


def new_york(instant: datetime) -> str:
    return instant.astimezone(NEW_YORK).strftime("%d %H:%M")


async def test_moscow_to_new_york_gradually(bot: RunningBot) -> None:
    await moscow_patient(bot)
    asked, preview, saved = await move_zone(bot, USER, "America/New_York", "gradual")
    assert "your doses follow <b>Europe/Moscow</b> time" in asked
    # 08:00 in Moscow is midnight in New York: the first day it is 02:00, then 04:00, 06:00...
    assert "at most 2 hours a day" in preview
    assert [line for line in preview.splitlines() if line.startswith("• ")] == [
        "• Mon 12 Jan 02:00: <b>10 mg</b>",
        "• Mon 12 Jan 08:00: <b>10 mg</b>",
        "• Mon 12 Jan 14:00: <b>10 mg</b>",
    ]
    assert "Saved: your doses move to <b>America/New_York</b> times" in saved
    assert "Your next dose: <b>Mon 12 Jan 02:00</b>." in saved
    sent = await take_every_dose(bot, LANDED + timedelta(days=6))
    times = [new_york(at) for at, _ in sent]
    assert times[:12] == [
        "12 02:00", "12 08:00", "12 14:00",
        "13 04:00", "13 10:00", "13 16:00",
        "14 06:00", "14 12:00", "14 18:00",
        "15 08:00", "15 14:00", "15 20:00",
    ]  # fmt: skip
    assert "On the way to local times: this 08:00 dose is at 02:00 today" in sent[0][1]
    assert opening(bot.pack, "travel.moving") not in sent[-1][1]
    # None dropped: three doses on every plan day (days 2 to 6 whole in the window).
    days = Counter(int(match) for _, text in sent for match in _DAY.findall(text))
    assert all(days[day] == 3 for day in range(2, 7)), days
    # Settled on the local times: the reminder says 08:00, as planned.
    assert any("<b>10 mg</b> at 08:00, day 5," in text for _, text in sent)


async def test_moscow_to_new_york_at_once(bot: RunningBot) -> None:
    await moscow_patient(bot)
    _, preview, saved = await move_zone(bot, USER, "America/New_York", "at_once")
    assert "Moving to <b>America/New_York</b> times at once." in preview
    # Today's 14:00 and 20:00 were taken in Moscow: each dose time of a day is taken once.
    assert [line for line in preview.splitlines() if line.startswith("• ")] == [
        "• Mon 12 Jan 08:00: <b>10 mg</b>",
        "• Mon 12 Jan 14:00: <b>10 mg</b>",
        "• Mon 12 Jan 20:00: <b>10 mg</b>",
    ]
    # The reply of a zone change, with its safety check, as before.
    assert "Your dose times stay the same clock times, now in <b>America/New_York</b>." in saved
    assert "Your next dose: <b>Mon 12 Jan 08:00</b>." in saved
    user = await bot.services.users.get(USER)
    assert user is not None and user.timezone == "America/New_York"
    sent = await take_every_dose(bot, LANDED + timedelta(days=3))
    assert [new_york(at)[3:] for at, _ in sent][:6] == ["08:00", "14:00", "20:00"] * 2


async def test_at_once_names_the_dose_to_skip_when_the_new_clock_is_too_soon(
    bot: RunningBot,
) -> None:
    """The 13:00 Moscow dose taken at 10:00 UTC; at once in Omsk, 17:00 there is 11:00 UTC,
    under 2 hours later: the preview and the reply say to skip it."""
    await bot.onboard(USER, zone="Europe/Moscow")
    await save_plan(bot, USER, "/schedule custom today 13:00,17:00,21:00 10x30")
    await take_every_dose(bot, datetime(2026, 1, 11, 10, tzinfo=UTC))
    bot.clock.set(datetime(2026, 1, 11, 10, 5, tzinfo=UTC))
    _, preview, saved = await move_zone(bot, USER, "Asia/Omsk", "at_once")
    assert "• 17:00: <b>10 mg</b>" in preview
    assert "The first one, at 17:00, comes less than 2 hours from another dose" in preview
    assert "Your next dose time, 17:00, comes less than 2 hours after" in saved


async def test_keep_home_times_shows_both_clocks(bot: RunningBot) -> None:
    await moscow_patient(bot)
    home_rows = await bot.services.doses.coming_doses(USER, LANDED, 6)
    _, preview, saved = await move_zone(bot, USER, "America/New_York", "home")
    assert bot.pack.text("travel.choice_home", home="Europe/Moscow") in preview
    assert "• Mon 12 Jan 00:00 local (08:00 home): <b>10 mg</b>" in preview
    assert "Saved: your doses stay at home times (<b>Europe/Moscow</b>)." in saved
    # The dose instants stay where they were in UTC.
    rows = await bot.services.doses.coming_doses(USER, LANDED, 6)
    assert [row.due_at for row in rows][:4] == [row.due_at for row in home_rows]
    [today] = await bot.say(USER, "/today")
    assert "17:30 local (20:00 home)" not in today  # 20:00 Moscow was 12:00 in New York
    assert "12:00 local (20:00 home)  10 mg: ✅ taken" in today
    sent = await take_every_dose(bot, LANDED + timedelta(days=2))
    assert "<b>10 mg</b> at 00:00 local (08:00 home)" in sent[0][1]
    assert len(home_rows) == 4  # the rows planned 48 hours ahead
    assert [at for at, _ in sent][:4] == [row.due_at for row in home_rows]


async def test_cancel_changes_nothing(bot: RunningBot) -> None:
    await moscow_patient(bot)
    before_rows = await bot.services.doses.coming_doses(USER, LANDED, 6)
    await bot.say(USER, "/timezone America/New_York")
    question = bot.last_message(USER)
    await bot.press(USER, question["message_id"], "trv:choose:gradual:America/New_York", replies=1)
    shown = bot.last_message(USER)
    [cancelled] = await bot.press(USER, shown["message_id"], "trv:cancel", replies=1)
    assert cancelled == bot.pack.text("travel.cancelled")
    user = await bot.services.users.get(USER)
    assert user is not None and user.timezone == "Europe/Moscow"
    after_rows = await bot.services.doses.coming_doses(USER, LANDED, 6)
    assert [(row.event_id, row.due_at) for row in after_rows] == [
        (row.event_id, row.due_at) for row in before_rows
    ]
    # The Save of a preview that was cancelled is no longer on the message.
    assert not bot.buttons(bot.messages(USER)[-2])


async def test_i_am_travelling_asks_where_then_how(bot: RunningBot) -> None:
    await moscow_patient(bot)
    await bot.say(USER, "/timezone")
    usage = bot.last_message(USER)
    [where] = await bot.press(USER, usage["message_id"], "trv:where", replies=1)
    assert where == bot.pack.text("travel.where")
    zones = bot.buttons(bot.last_message(USER))
    [asked] = await bot.press(
        USER, bot.last_message(USER)["message_id"], zones["New York"], replies=1
    )
    assert ending(bot.pack, "travel.ask") in asked
    labels = list(bot.buttons(bot.last_message(USER)))
    assert labels == ["Keep home times", "Move gradually", "Move at once"]


async def test_travel_in_russian(bot: RunningBot) -> None:
    await moscow_patient(bot)
    await bot.services.languages.choose(USER, "ru")
    russian = bot.services.content.library.get("ru")
    asked, preview, saved = await move_zone(bot, USER, "America/New_York", "home")
    assert "Как принимать их дальше?" in asked
    assert list(bot.buttons(bot.messages(USER)[-3])) == []  # answered: buttons dropped
    assert "• пн, 12 янв. 00:00 по местному (08:00 по домашнему): <b>10 мг</b>" in preview
    assert russian.text("travel.saved_home", home="Europe/Moscow") in saved


async def test_a_stale_or_forged_travel_button_changes_nothing(bot: RunningBot) -> None:
    await moscow_patient(bot)
    message = bot.last_message(USER)
    for data in ("trv:save:gradual:Mars/Base", "trv:save:teleport:America/New_York", "trv:x"):
        before = len(bot.api.calls_of("answerCallbackQuery"))
        bot.api.press_button(USER, message["message_id"], data)
        await bot.api.wait_for("answerCallbackQuery", lambda call: True, count=before + 1)
        answer = bot.api.calls_of("answerCallbackQuery")[-1]
        assert answer.params.get("text") == bot.pack.text("errors.stale_button")
    user = await bot.services.users.get(USER)
    assert user is not None and user.timezone == "Europe/Moscow"
    zone = bot.services.zones.zone_for(user.timezone)
    assert not isinstance(zone, TravelZone)


def test_every_zone_fits_a_travel_button() -> None:
    """callback_data is at most 64 bytes: the longest IANA name with the longest choice."""
    for name in available_timezones():
        for choice in TRAVEL_CHOICES:
            for action in ("choose", "save"):
                data = TravelButton(action, choice, name).pack()
                assert TravelButton.unpack(data) == TravelButton(action, choice, name)


async def test_a_new_plan_on_the_way_goes_on_moving_gradually(bot: RunningBot) -> None:
    await moscow_patient(bot)
    await move_zone(bot, USER, "America/New_York", "gradual")
    sent = await take_every_dose(bot, LANDED + timedelta(days=1, hours=12))
    assert new_york(sent[-1][0]) == "12 14:00"  # 2 hours on the way to New York times
    await save_plan(bot, USER, "/schedule custom today 09:00,15:00,21:00 10x30")
    user = await bot.services.users.get(USER)
    assert user is not None
    zone = bot.services.zones.zone_for(user.timezone)
    assert isinstance(zone, TravelZone) and zone.ends is not None
    # Its doses go on from where the trip had moved them (not back to Moscow times), at most
    # 2 hours further a day, and end on the new plan's times in New York.
    later = await take_every_dose(bot, bot.clock.now() + timedelta(days=5))
    assert [new_york(at) for at, _ in later] == [
        "12 17:00",  # 21:00 in Moscow, 4 hours later, as the trip had got to
        "13 07:00", "13 13:00", "13 19:00",  # 6 hours
        "14 09:00", "14 15:00", "14 21:00",  # 8 hours: New York times
        "15 09:00", "15 15:00", "15 21:00",
        "16 09:00", "16 15:00", "16 21:00",
        "17 09:00",
    ]  # fmt: skip
