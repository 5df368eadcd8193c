"""/supply through the Bot API stand-in with the fake clock (issue 21, supply part).

A 5 -> 10 -> 15 -> 20 mg titration (three times a day, three days a step) with 10 mg scored
tablets and 40 on hand: 80 halves; the days need 3, 3, 3, 6, 6, 6, 9, 9, 9, 12, 12 halves, so
the supply covers the plan's day 11 (78 halves) and not day 12. The refill reminders come at
10:00 Berlin on the order day (run-out minus 10 days), two days before and on the last day;
a refill moves the date; the caregiver is told on the last day, the date only.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from bot.content import ContentPack
from bot.views.report import plan_picture_spec
from tests.chat.test_caregivers import CARER, PATIENT, link_caregiver
from tests.conftest import START, RunningBot
from tests.privacy_helpers import json_document
from tests.reminder_helpers import save_plan
from tests.report_helpers import report_text
from tests.said import opening

BOX = "📦"
# START is 2026-01-11 09:00 UTC = 10:00 in Berlin; the plan starts on 12 January.
TEN_AM = START  # 10:00 Berlin (UTC+1 in January)


def supply_messages(bot: RunningBot, user: int) -> list[str]:
    return [str(m["text"]) for m in bot.api.messages_to(user) if BOX in str(m["text"] or "")]


async def set_up_tablets(bot: RunningBot, user: int, count: str = "40") -> str:
    [intro] = await bot.say(user, "/supply")
    assert bot.pack.text("supply.intro") in intro, intro
    message = bot.last_message(user)
    [ask] = await bot.press(user, message["message_id"], "sup:form:tablet", replies=1)
    assert bot.pack.text("supply.ask_strength_tablet") in ask
    message = bot.last_message(user)
    assert bot.buttons(message)["10 mg"] == "sup:str:tablet:10"
    [scored] = await bot.press(user, message["message_id"], "sup:str:tablet:10", replies=1)
    assert "score line" in scored
    message = bot.last_message(user)
    [count_q] = await bot.press(user, message["message_id"], "sup:sc:10:1", replies=1)
    assert "/supply 40" in count_q
    [status] = await bot.say(user, f"/supply {count}")
    return status


async def day_at_ten(bot: RunningBot, day: int) -> None:
    """Move the clock to 10:00 Berlin on plan day ``day`` (day 1 = 12 January); a pass runs."""
    bot.clock.set(TEN_AM + timedelta(days=day))
    await bot.services.reminders.run_due()
    await bot.services.reminders.run_due()


async def test_titration_runs_out_on_the_projected_day_with_reminders(bot: RunningBot) -> None:
    await bot.onboard(PATIENT, zone="Europe/Berlin", region="uk")
    await save_plan(bot, PATIENT, "/schedule standard tomorrow 08:00 14:00 20:00 target=20")
    await link_caregiver(bot)
    status = await set_up_tablets(bot, PATIENT)
    assert "10 mg scored tablets, about 40 left now" in status, status
    assert "lasts until <b>22 January</b>" in status, status  # plan day 11
    assert "Order by 12 January" in status, status
    # /plan shows the date in one line.
    plan_texts = await bot.say(PATIENT, "/plan")
    assert "📦 Your supply lasts until 22 January (/supply)." in plan_texts[0]

    seen: dict[int, list[str]] = {}
    for day in range(1, 13):
        before = len(supply_messages(bot, PATIENT))
        await day_at_ten(bot, day)
        seen[day] = supply_messages(bot, PATIENT)[before:]
    assert [d for d, texts in seen.items() if texts] == [1, 9, 11], seen
    assert opening(bot.pack, "supply.remind_order") in seen[1][0]
    assert "22 January" in seen[1][0]
    assert "two more days" in seen[9][0]
    assert "last day your baclofen covers" in seen[11][0]
    assert "999" in seen[11][0]  # the UK emergency line
    # The count reached zero as projected: day 11 is covered, day 12 is not.
    state = await bot.services.supply.state(PATIENT)
    assert state is not None and state.projection is not None
    assert state.projection.left_units < 12  # day 12 needs 12 halves
    # The caregiver was told on the last day, the date only, no amounts.
    told = supply_messages(bot, CARER)
    assert len(told) == 1, told
    assert "lasts until 22 January" in told[0] and "no refill has been recorded" in told[0]
    assert "mg" not in told[0] and "tablet" not in told[0]


async def test_refill_moves_the_date_and_ordered_snoozes(bot: RunningBot) -> None:
    await bot.onboard(PATIENT, zone="Europe/Berlin", region="uk")
    await save_plan(bot, PATIENT, "/schedule standard tomorrow 08:00 14:00 20:00 target=20")
    status = await set_up_tablets(bot, PATIENT)
    assert "22 January" in status
    # "I ordered": no order reminder on the order day.
    message = bot.last_message(PATIENT)
    [noted] = await bot.press(PATIENT, message["message_id"], "sup:ord", replies=1)
    assert bot.pack.text("supply.ordered") in noted
    before = len(supply_messages(bot, PATIENT))
    await day_at_ten(bot, 1)
    assert supply_messages(bot, PATIENT)[before:] == []
    # A refill of 40 at 10:00 on day 1: the 08:00 dose (half a tablet) is used, so 79 halves
    # are left, plus 80. Days 1-11 need 77 more halves, leaving 82; from day 12 on (20 mg three
    # times a day) 12 halves a day: 6 more days, to plan day 17, 28 January.
    [moved] = await bot.say(PATIENT, "/supply +40")
    assert "lasts until <b>28 January</b>" in moved, moved
    supply = await bot.services.supply.state(PATIENT)
    assert supply is not None and supply.supply.refill_ordered_at is None


async def test_bad_counts_change_nothing(bot: RunningBot) -> None:
    await bot.onboard(PATIENT, zone="Europe/Berlin", region="uk")
    [answer] = await bot.say(PATIENT, "/supply 40")  # no product yet
    assert bot.pack.text("supply.intro") in answer
    await set_up_tablets(bot, PATIENT)
    for typed in ("/supply forty", "/supply -3", "/supply 1 2", "/supply 99999"):
        [reply] = await bot.say(PATIENT, typed)
        assert "for example: <code>/supply 40</code>" in reply, (typed, reply)
    row = await bot.services.db.fetch_one(
        "SELECT on_hand FROM supplies WHERE user_id = ?", (PATIENT,)
    )
    assert row is not None and row["on_hand"] == 80


async def test_taper_counts_halves(bot: RunningBot) -> None:
    await bot.onboard(PATIENT, zone="Europe/Berlin", region="uk")
    # From tomorrow: 15 mg at night for 7 days, then 5 mg for 7 days, then stop.
    await save_plan(bot, PATIENT, "/taper tomorrow 22:00 15x7 5x7 stop", confirm=True)
    # 10 mg scored: 15 mg = 3 halves, 5 mg = 1 half. 12 tablets = 24 halves: 7 x 3 = 21, then
    # 3 more days of 1 half: the plan's day 10, 21 January.
    status = await set_up_tablets(bot, PATIENT, count="12")
    assert "lasts until <b>21 January</b>" in status, status
    # A recount with a half tablet: 25 halves, one more day.
    [recount] = await bot.say(PATIENT, "/supply 12.5")
    assert "about 12½ left now" in recount and "22 January" in recount, recount


async def test_liquid_refuses_without_its_strength(bot: RunningBot) -> None:
    await bot.onboard(PATIENT, zone="Europe/Berlin", region="uk")
    await save_plan(bot, PATIENT, "/schedule custom tomorrow 08:00,20:00 10x5")
    await bot.say(PATIENT, "/supply")
    message = bot.last_message(PATIENT)
    await bot.press(PATIENT, message["message_id"], "sup:form:liquid", replies=1)
    message = bot.last_message(PATIENT)
    [ask] = await bot.press(PATIENT, message["message_id"], "sup:str:liquid:-", replies=1)
    assert bot.pack.text("supply.ask_count_liquid") in ask
    [status] = await bot.say(PATIENT, "/supply 150")
    assert "never convert mL to mg" in status, status
    assert "lasts until" not in status
    # With the strength (5 mg/5 mL = 1 mg/mL): 150 mL = 150 mg; 20 mg a day -> 7 days.
    await bot.say(PATIENT, "/supply")
    message = bot.last_message(PATIENT)
    await bot.press(PATIENT, message["message_id"], "sup:new", replies=1)
    message = bot.last_message(PATIENT)
    await bot.press(PATIENT, message["message_id"], "sup:form:liquid", replies=1)
    message = bot.last_message(PATIENT)
    await bot.press(PATIENT, message["message_id"], "sup:str:liquid:5", replies=1)
    [status] = await bot.say(PATIENT, "/supply 150")
    assert "liquid, 5 mg/5 mL" in status and "lasts until <b>18 January</b>" in status, status


async def test_ran_out_answer_leads_to_supply(bot: RunningBot) -> None:
    await bot.onboard(PATIENT, zone="Europe/Berlin", region="uk")
    [answer] = await bot.say(PATIENT, "I ran out of baclofen")
    assert "pharmacist or prescriber today" in answer
    message: dict[str, Any] = bot.last_message(PATIENT)
    assert bot.buttons(message) == {"📦 My supply": "sup:show"}
    [shown] = await bot.press(PATIENT, message["message_id"], "sup:show", replies=1)
    assert bot.pack.text("supply.intro") in shown


async def test_mydata_holds_the_supply(bot: RunningBot) -> None:
    """The count on hand is the patient's data: /mydata shows it (erasure is by cascade)."""
    await bot.onboard(PATIENT, zone="Europe/Berlin", region="uk")
    await set_up_tablets(bot, PATIENT)
    bot.api.send_text(PATIENT, "/mydata")
    await bot.api.wait_for("sendDocument", lambda call: call.params.get("chat_id") == PATIENT)
    [supply] = json_document(bot, PATIENT)["supply"]
    assert (supply["form"], supply["strength_mg"], supply["scored"]) == ("tablet", "10", 1)
    assert supply["on_hand"] == 80  # in half tablets
    assert json_document(bot, PATIENT)["supply_reminders"] == []


async def test_report_shows_the_run_out_day(bot: RunningBot) -> None:
    await bot.onboard(PATIENT, zone="Europe/Berlin", region="uk")
    await save_plan(bot, PATIENT, "/schedule standard tomorrow 08:00 14:00 20:00 target=20")
    await set_up_tablets(bot, PATIENT)
    text = await report_text(bot, PATIENT)
    assert "as the patient recorded it, lasts on this plan until 22 January" in text, text


async def test_lead_time_moves_the_order_day(bot: RunningBot) -> None:
    await bot.onboard(PATIENT, zone="Europe/Berlin", region="uk")
    await save_plan(bot, PATIENT, "/schedule standard tomorrow 08:00 14:00 20:00 target=20")
    status = await set_up_tablets(bot, PATIENT)
    assert "Order by 12 January" in status and "<code>/supply lead 7</code>" in status, status
    refusals = ("/supply lead", "/supply lead 31", "/supply lead -1", "/supply lead x")
    for typed in (*refusals, "/supply lead 7 8", "/supply lead ٧"):
        [refused] = await bot.say(PATIENT, typed)
        assert "for example: <code>/supply lead 7</code>" in refused, (typed, refused)
        assert bot.pack.text("supply.bad_lead") in refused
    row = await bot.services.db.fetch_one(
        "SELECT lead_days FROM supplies WHERE user_id = ?", (PATIENT,)
    )
    assert row is not None and row["lead_days"] == 10
    # 7 days before the run-out day (22 January): the order day is 15 January.
    saved, moved = await bot.say(PATIENT, "/supply lead 7", replies=2)
    assert "order 7 days before" in saved, saved
    assert "lasts until <b>22 January</b>" in moved and "Order by 15 January" in moved, moved
    # The order reminder comes on the new day (plan day 4), not on day 1.
    seen: dict[int, list[str]] = {}
    for day in range(1, 5):
        before = len(supply_messages(bot, PATIENT))
        await day_at_ten(bot, day)
        seen[day] = supply_messages(bot, PATIENT)[before:]
    assert [d for d, texts in seen.items() if texts] == [4], seen
    assert opening(bot.pack, "supply.remind_order") in seen[4][0]
    # A new product ("Change product") keeps the lead time the patient set.
    await bot.say(PATIENT, "/supply")
    for data in ("sup:new", "sup:form:tablet", "sup:str:tablet:5", "sup:sc:5:0"):
        message = bot.last_message(PATIENT)
        await bot.press(PATIENT, message["message_id"], data, replies=1)
    [changed] = await bot.say(PATIENT, "/supply 30")
    assert "5 mg tablets, about 30 left now" in changed, changed
    row = await bot.services.db.fetch_one(
        "SELECT lead_days FROM supplies WHERE user_id = ?", (PATIENT,)
    )
    assert row is not None and row["lead_days"] == 7


async def test_saved_plan_points_to_supply_until_one_is_recorded(bot: RunningBot) -> None:
    await bot.onboard(PATIENT, zone="Europe/Berlin", region="uk")
    hint = "I will remind you to order in time: /supply"
    saved = await save_plan(bot, PATIENT, "/schedule custom tomorrow 08:00,20:00 10x5")
    assert "Saved" in saved and hint in saved, saved
    await set_up_tablets(bot, PATIENT)
    again = await save_plan(bot, PATIENT, "/schedule standard tomorrow 08:00 14:00 20:00 target=20")
    assert "Saved" in again and hint not in again, again


async def test_plan_picture_marks_the_day_the_supply_runs_out(
    bot: RunningBot, pack: ContentPack
) -> None:
    """Issue 21: the run-out day on the /plan picture too, as a marker (same plan, same day:
    the picture changes only by it)."""
    await bot.onboard(PATIENT, zone="Europe/Berlin", region="uk")
    await save_plan(bot, PATIENT, "/schedule standard tomorrow 08:00 14:00 20:00 target=20")
    await bot.say(PATIENT, "/plan")
    [before] = await bot.api.wait_for("sendPhoto", timeout=60)
    await set_up_tablets(bot, PATIENT)
    await bot.say(PATIENT, "/plan")
    [_, after] = await bot.api.wait_for("sendPhoto", count=2, timeout=60)
    assert after.params["photo"]["content"] != before.params["photo"]["content"]
    stored = await bot.services.doses.active_plan(PATIENT)
    assert stored is not None
    spec = plan_picture_spec(pack, stored.plan, START.date(), date(2026, 1, 22))
    assert (spec.runs_out, spec.runs_out_label) == (date(2026, 1, 22), "supply lasts to 22 January")
