"""Pump mode through the Bot API stand-in with the injected clock (issue 21): /pump set-up, the
refill reminders 14, 7, 3, 1 days before and on the day at 10:00 local across a DST change
(Berlin and New York), "Refill done" asks for the next date, bad dates change nothing, no
oral reminders in pump-only mode, and the caregiver alert after a missed refill day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.chat.test_caregivers import CARER, PATIENT, link_caregiver
from tests.conftest import RunningBot
from tests.privacy_helpers import json_document
from tests.reminder_helpers import save_plan
from tests.report_helpers import report_text
from tests.said import opening

USER = PATIENT
SET_UP_AT = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
SIGNS = "your usual stiffness coming back, itching, low blood pressure"


async def pump_user(bot: RunningBot, zone: str, region: str = "uk") -> None:
    bot.clock.set(SET_UP_AT)
    await bot.onboard(USER, zone=zone, region=region)
    [on] = await bot.say(USER, "/pump on")
    assert bot.pack.text("pump.now_on") in on, on


async def expect_reminder_at(bot: RunningBot, instant: datetime) -> str:
    """Nothing a minute before ``instant``; exactly one message at it."""
    bot.clock.set(instant - timedelta(minutes=1))
    await bot.services.reminders.run_due()
    before = bot.sent_count(USER)
    bot.clock.set(instant - timedelta(seconds=1))
    await bot.services.reminders.run_due()
    assert bot.sent_count(USER) == before, bot.messages(USER)[before:]
    bot.clock.set(instant)
    [text] = await bot.next_messages(USER, before, 1)
    await bot.services.reminders.run_due()
    return text


async def test_berlin_refill_reminders_across_summer_time(bot: RunningBot) -> None:
    await pump_user(bot, "Europe/Berlin")
    [saved] = await bot.say(USER, "/pump refill 2027-04-05")
    assert "next pump refill is on <b>" in saved and "5 April" in saved, saved
    # Summer time starts on 28 March: 10:00 Berlin is 09:00 UTC before it, 08:00 UTC after.
    expected = [
        (datetime(2027, 3, 22, 9, 0, tzinfo=UTC), "Pump refill in 14 days"),
        (datetime(2027, 3, 29, 8, 0, tzinfo=UTC), "Pump refill in 7 days"),
        (datetime(2027, 4, 2, 8, 0, tzinfo=UTC), "Pump refill in 3 days"),
        (datetime(2027, 4, 4, 8, 0, tzinfo=UTC), "Pump refill tomorrow"),
        (datetime(2027, 4, 5, 8, 0, tzinfo=UTC), "Today is your pump refill day"),
    ]
    for instant, head in expected:
        text = await expect_reminder_at(bot, instant)
        assert head in text, text
        assert SIGNS in text and "999" in text, text  # the early signs, the UK number
        assert "do not simply cancel" in text, text
    reminder = bot.last_message(USER)
    assert bot.buttons(reminder)["✅ Refill done"] == "pumprf:2027-04-05"


async def test_new_york_refill_reminders_across_dst(bot: RunningBot) -> None:
    await pump_user(bot, "America/New_York", region="us")
    await bot.say(USER, "/pump refill 2027-03-20")
    # DST starts on 14 March: 10:00 New York is 15:00 UTC before, 14:00 UTC after.
    for instant in (
        datetime(2027, 3, 6, 15, 0, tzinfo=UTC),
        datetime(2027, 3, 13, 15, 0, tzinfo=UTC),
        datetime(2027, 3, 17, 14, 0, tzinfo=UTC),
        datetime(2027, 3, 19, 14, 0, tzinfo=UTC),
        datetime(2027, 3, 20, 14, 0, tzinfo=UTC),
    ):
        text = await expect_reminder_at(bot, instant)
        assert "911" in text, text


async def test_refill_done_asks_for_the_next_date(bot: RunningBot) -> None:
    await pump_user(bot, "Europe/Berlin")
    await bot.say(USER, "/pump refill 2027-03-05")
    await expect_reminder_at(bot, datetime(2027, 3, 5, 9, 0, tzinfo=UTC))
    reminder = bot.last_message(USER)
    [asked] = await bot.press(USER, reminder["message_id"], "pumprf:2027-03-05", replies=1)
    assert "Refill of 5 March recorded" in asked and "/pump refill" in asked, asked
    # The date is cleared and nothing more is planned until the next one is typed.
    rows = await bot.services.pump._store.reminders_of(USER)
    assert all(status != "pending" for _, _, status in rows), rows
    [again] = await bot.press(USER, reminder["message_id"], "pumprf:2027-03-05", replies=1)
    assert "already recorded" in again, again
    [saved] = await bot.say(USER, "/pump refill 2027-06-04")
    assert "4 June" in saved, saved
    [overview] = await bot.say(USER, "/pump")
    assert "Next refill (the date your clinic gave): <b>" in overview, overview
    assert bot.buttons(bot.last_message(USER))["✅ Refill done"] == "pumprf:2027-06-04"


async def test_bad_dates_change_nothing(bot: RunningBot) -> None:
    await pump_user(bot, "Europe/Berlin")
    await bot.say(USER, "/pump refill 2027-04-05")
    for typed, says in (
        ("next tuesday", "could not read"),
        ("2027-02-30", "could not read"),
        ("2027-02-01", "already passed"),
        ("2029-01-01", "more than a year away"),
    ):
        [refused] = await bot.say(USER, f"/pump refill {typed}")
        assert says in refused and "/pump refill 2027-04-05" in refused, refused
        assert "Nothing was changed" in refused, refused
    pump = await bot.services.pump.pump(USER)
    assert pump.refill_on is not None and pump.refill_on.isoformat() == "2027-04-05"
    [bad_phone] = await bot.say(USER, "/pump phone call the nurse")
    assert bot.pack.text("pump.phone_invalid", value="call the nurse") in bad_phone, bad_phone
    assert (await bot.services.pump.pump(USER)).clinic_phone is None


async def test_overview_shows_alarms_signs_phone_mri_travel(bot: RunningBot) -> None:
    await pump_user(bot, "Europe/Berlin")
    await bot.say(USER, "/pump phone +44 20 7946 0000")
    await bot.say(USER, "/pump alarm 2027-04-08")
    [overview] = await bot.say(USER, "/pump")
    for part in (
        "a single tone</b>",
        "Call your clinic right away",
        "a two-tone alarm</b>",
        "Call your clinic immediately",
        "call your pump clinic right away</b> (+44 20 7946 0000)",
        SIGNS,
        "999",
        "before any MRI scan",
        "tell your doctor before flying",
        "8 April",
    ):
        assert part in overview, (part, overview)
    for never in ("Tesla", "Medtronic", "ignore", "silence", "top up"):
        assert never not in overview, never


async def test_no_oral_reminders_in_pump_only_mode(bot: RunningBot) -> None:
    await pump_user(bot, "Europe/Berlin")
    await bot.say(USER, "/pump refill 2027-03-02")  # 1 day before is now: only the day's
    before = bot.sent_count(USER)
    for hours in range(0, 24 * 3, 1):
        bot.clock.set(SET_UP_AT + timedelta(hours=hours))
        await bot.services.reminders.run_due()
    texts = [message["text"] for message in bot.messages(USER)[before:]]
    # Only the refill-day reminder; never a dose reminder.
    assert len(texts) == 1 and opening(bot.pack, "pump.reminder_day") in texts[0], texts
    assert not any(opening(bot.pack, "reminder.dose") in text for text in texts), texts


async def test_caregiver_told_after_a_missed_refill_day(bot: RunningBot) -> None:
    await pump_user(bot, "Europe/Berlin")
    await link_caregiver(bot)
    await bot.say(USER, "/pump refill 2027-03-05")
    await expect_reminder_at(bot, datetime(2027, 3, 5, 9, 0, tzinfo=UTC))
    before = bot.sent_count(CARER)
    bot.clock.set(datetime(2027, 3, 6, 8, 59, tzinfo=UTC))
    await bot.services.reminders.run_due()
    assert bot.sent_count(CARER) == before
    bot.clock.set(datetime(2027, 3, 6, 9, 0, tzinfo=UTC))
    [alert] = await bot.next_messages(CARER, before, 1)
    assert "pump refill day, 5 March, has passed" in alert, alert
    assert "999" in alert and "mg" not in alert, alert


async def test_no_caregiver_alert_when_refill_done(bot: RunningBot) -> None:
    await pump_user(bot, "Europe/Berlin")
    await link_caregiver(bot)
    await bot.say(USER, "/pump refill 2027-03-05")
    await expect_reminder_at(bot, datetime(2027, 3, 5, 9, 0, tzinfo=UTC))
    await bot.press(USER, bot.last_message(USER)["message_id"], "pumprf:2027-03-05", replies=1)
    before = bot.sent_count(CARER)
    bot.clock.set(datetime(2027, 3, 7, 9, 0, tzinfo=UTC))
    await bot.services.reminders.run_due()
    assert bot.sent_count(CARER) == before, bot.messages(CARER)[before:]


async def test_plan_shows_the_next_refill(bot: RunningBot) -> None:
    await pump_user(bot, "Europe/Berlin")
    [before] = await bot.say(USER, "/plan")
    assert bot.pack.text("pump.plan_no_date") in before, before
    await bot.say(USER, "/pump refill 2027-04-05")
    [alone] = await bot.say(USER, "/plan")
    assert bot.pack.text("pump.plan_line", date="5 April") in alone, alone
    # With back-up tablets the clinic prescribed: the plan, then the refill date.
    await save_plan(bot, USER, "/schedule custom today 20:00 5x3")
    [both] = await bot.say(USER, "/plan", replies=1)
    assert bot.pack.text("pump.plan_line", date="5 April") in both, both
    await bot.say(USER, "/pump off")
    [without] = await bot.say(USER, "/plan")
    assert "pump refill" not in without, without


async def test_report_shows_the_next_refill(bot: RunningBot) -> None:
    await pump_user(bot, "Europe/Berlin")
    await bot.say(USER, "/pump refill 2027-04-05")
    await save_plan(bot, USER, "/schedule custom today 20:00 5x3")
    bot.clock.set(SET_UP_AT + timedelta(days=3))
    text = await report_text(bot, USER)
    assert "Next pump refill: 5 April" in text, text


async def test_mydata_holds_the_pump_and_its_reminders(bot: RunningBot) -> None:
    await pump_user(bot, "Europe/Berlin")
    await bot.say(USER, "/pump refill 2027-04-05")
    bot.api.send_text(USER, "/mydata")
    await bot.api.wait_for("sendDocument", lambda call: call.params.get("chat_id") == USER)
    data = json_document(bot, USER)
    assert data["settings"]["pump_mode"] == 1
    assert data["settings"]["pump_refill_on"] == "2027-04-05"
    kinds = [row["kind"] for row in data["refill_reminders"]]
    assert kinds == ["d14", "d7", "d3", "d1", "d0", "cg_missed"], data["refill_reminders"]


async def test_report_without_an_oral_plan_gives_a_pump_user_the_refill_date(
    bot: RunningBot,
) -> None:
    """A pump-only patient is not told to set a tablet plan with /schedule: the report is of
    oral plans, and the pump is the clinic's; the next refill date instead."""
    await pump_user(bot, "Europe/Berlin")
    [no_date] = await bot.say(USER, "/report")
    assert bot.pack.text("pump.plan_no_date") in no_date and "/schedule" not in no_date, no_date
    await bot.say(USER, "/pump refill 2027-04-05")
    [answer] = await bot.say(USER, "/report")
    assert bot.pack.text("pump.plan_line", date="5 April") in answer, answer
    assert "/schedule" not in answer and "looked after by your clinic" in answer
    await bot.say(USER, "/pump off")
    [plain] = await bot.say(USER, "/report")
    assert bot.pack.text("report.no_plan") in plain
