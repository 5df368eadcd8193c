"""Caregivers through the Bot API stand-in: invite, accept, alerts at the chosen delay with the
fake clock, removal, expired and reused links, erasure of either side, a blocked caregiver;
alerts that pass the dose-safety check (dropped, or worded "skip the missed one"), the
missed-dose rule in every alert, and the alerts about the plan (a taper's end, a step down)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.content import ContentLibrary
from bot.domain.caregivers import START_PAYLOAD_MAX, AlertKind, Said
from bot.storage.caregivers import DueAlert
from bot.views.caregivers import alert_text
from tests.conftest import START, RunningBot
from tests.privacy_helpers import eventually, json_document
from tests.reminder_helpers import advance_until_messages, save_plan, tap
from tests.said import opening

PATIENT = 1001
CARER = 2002
OTHER = 3003
# The patient is in Berlin (UTC+1 in January); doses at 12:00 and 20:00 local.
NOON = START.replace(hour=11)  # 12:00 Berlin
EVENING = START.replace(hour=19)  # 20:00 Berlin
FOLLOW_UP = timedelta(minutes=30)
# The missed-dose rule (fact sheet 2.6), in one line of every caregiver alert.
RULE = (
    "A missed dose is taken as soon as it is remembered, unless the next dose is less than"
    " 2 hours away (then it is skipped); never two doses together. Pat can send /missed"
)
FOOTER = "You get this because Pat linked you as their caregiver"
_LINK = re.compile(r"https://t\.me/baclofen_test_bot\?start=([A-Za-z0-9_-]+)")


async def say_as(
    bot: RunningBot,
    user: int,
    text: str,
    *,
    name: str = "Anna",
    username: str | None = None,
    replies: int = 1,
) -> list[str]:
    """``text`` from ``user`` with this first name (and username, once given, kept)."""
    before = bot.sent_count(user)
    bot.api.send_text(user, text, first_name=name, username=username)
    return await bot.next_messages(user, before, replies)


async def patient_with_plan(bot: RunningBot) -> None:
    await bot.onboard(PATIENT, zone="Europe/Berlin", region="uk")
    await save_plan(bot, PATIENT, "/schedule custom today 12:00,20:00 10x5")


async def invite_link(bot: RunningBot, patient: int = PATIENT) -> str:
    [overview] = await bot.say(patient, "/caregiver")
    match = _LINK.search(overview)
    assert match, overview
    return match.group(1)


async def link_caregiver(
    bot: RunningBot, carer: int = CARER, name: str = "Anna", username: str | None = "anna_h"
) -> str:
    payload = await invite_link(bot)
    [offer] = await say_as(bot, carer, f"/start {payload}", name=name, username=username)
    assert "invites you to be their caregiver" in offer, offer
    buttons = bot.buttons(bot.last_message(carer))
    before = bot.sent_count(PATIENT)
    [accepted] = await bot.press(
        carer, bot.last_message(carer)["message_id"], buttons["Accept"], replies=1
    )
    assert "you are now Pat's caregiver" in accepted, accepted
    await bot.next_messages(PATIENT, before, 1)
    return payload


async def alerts(bot: RunningBot) -> list[dict[str, Any]]:
    rows = await bot.services.db.fetch_all("SELECT * FROM caregiver_alerts ORDER BY alert_id")
    return [dict(row) for row in rows]


def alerts_to(bot: RunningBot, carer: int = CARER) -> list[str]:
    """The texts of every alert the caregiver got (each ends with the same footer)."""
    return [
        str(message["text"])
        for message in bot.api.messages_to(carer)
        if FOOTER in str(message["text"] or "")
    ]


def assert_every_alert_carries_the_rule(bot: RunningBot, at_least: int) -> None:
    texts = alerts_to(bot)
    assert len(texts) >= at_least, texts
    for text in texts:
        assert RULE in text, text
        assert "mg" not in text, text  # never an amount


async def quiet_until(bot: RunningBot, user: int, instant: datetime) -> None:
    """Move the clock to ``instant``; nothing new reaches ``user``."""
    before = bot.sent_count(user)
    bot.clock.set(instant)
    await bot.services.reminders.run_due()
    await bot.services.reminders.run_due()
    assert bot.sent_count(user) == before, bot.api.messages_to(user)[before:]


async def _invite_and_accept_with_a_90_minute_delay(bot: RunningBot) -> None:
    payload = await invite_link(bot)
    assert payload.startswith("cg_") and len(payload) <= START_PAYLOAD_MAX
    # The invitee sees who invites them and what they agree to, before anything is stored.
    [offer] = await say_as(bot, CARER, f"/start {payload}", username="anna_h")
    assert "Pat invites you" in offer and "never show you doses" in offer
    assert await bot.services.users.get(CARER) is None
    data = bot.buttons(bot.last_message(CARER))["Accept"]
    assert len(data.encode()) <= 64
    before = bot.sent_count(PATIENT)
    [accepted] = await bot.press(CARER, bot.last_message(CARER)["message_id"], data, replies=1)
    assert "Do not give an extra dose" in accepted and "999" in accepted
    [told] = await bot.next_messages(PATIENT, before, 1)
    assert "Anna (@anna_h) is now your caregiver" in told
    [overview] = await bot.say(PATIENT, "/caregiver")
    assert "• Anna (@anna_h)" in overview and "<b>1 h</b>" in overview
    [done] = await bot.say(PATIENT, "/caregiver delay 90")
    assert "1 h 30 min after its follow-up" in done


async def _two_unanswered_doses_alert_at_the_delay(bot: RunningBot) -> None:
    await advance_until_messages(bot, PATIENT, NOON)
    await advance_until_messages(bot, PATIENT, NOON + FOLLOW_UP)  # the follow-up
    await quiet_until(bot, CARER, NOON + FOLLOW_UP + timedelta(minutes=89))
    [alert] = await advance_until_messages(bot, CARER, NOON + FOLLOW_UP + timedelta(minutes=90))
    assert (
        "Pat's dose due at 12:00</b> (Europe/Berlin time) <b>is still unanswered" in alert["text"]
    )
    assert "Do not give an extra dose" in alert["text"] and "999" in alert["text"]
    assert "mg" not in alert["text"]
    # Both the reminder and its follow-up went out: the alert says so.
    assert "</b> I sent them the reminder and asked again." in alert["text"]

    # The second unanswered dose in a row is said as such.
    await advance_until_messages(bot, PATIENT, EVENING)
    await advance_until_messages(bot, PATIENT, EVENING + FOLLOW_UP)
    [second] = await advance_until_messages(bot, CARER, EVENING + FOLLOW_UP + timedelta(minutes=90))
    assert "two doses in a row without an answer" in second["text"], second["text"]
    assert "latest due at 20:00" in second["text"] and "mg" not in second["text"]
    assert_every_alert_carries_the_rule(bot, 2)


async def _remove_the_caregiver(bot: RunningBot) -> None:
    """From the /caregiver overview's button; the caregiver is told."""
    bot.api.send_text(PATIENT, "/caregiver")
    await bot.next_messages(PATIENT, bot.sent_count(PATIENT), 1)
    overview_message = bot.last_message(PATIENT)
    remove = bot.buttons(overview_message)["Remove Anna (@anna_h)"]
    before = bot.sent_count(CARER)
    [removed] = await bot.press(PATIENT, overview_message["message_id"], remove, replies=1)
    assert bot.pack.text("caregiver.removed", name="Anna (@anna_h)") in removed
    [notice] = await bot.next_messages(CARER, before, 1)
    assert bot.pack.text("caregiver.removed_notice", patient="Pat") in notice


async def test_invite_accept_alert_at_the_chosen_delay_then_removal_stops_alerts(
    bot: RunningBot,
) -> None:
    await patient_with_plan(bot)
    await _invite_and_accept_with_a_90_minute_delay(bot)
    await _two_unanswered_doses_alert_at_the_delay(bot)

    # Answered in time: nothing to tell.
    next_noon = NOON + timedelta(days=1)
    [tomorrow] = await advance_until_messages(bot, PATIENT, next_noon)
    await tap(bot, PATIENT, tomorrow, "taken")
    await quiet_until(bot, CARER, next_noon + FOLLOW_UP + timedelta(hours=2))
    assert [row["outcome"] for row in await alerts(bot)] == ["sent", "sent", "answered"]

    # Removed: the caregiver is told, and gets nothing more.
    await _remove_the_caregiver(bot)
    next_evening = EVENING + timedelta(days=1)
    await advance_until_messages(bot, PATIENT, next_evening)
    await quiet_until(bot, CARER, next_evening + timedelta(hours=5))
    assert await alerts(bot) == []  # the link's alerts went with it
    audit = await bot.services.db.fetch_all(
        "SELECT actor_id, action, outcome FROM admin_audit WHERE action LIKE 'caregiver%'"
        " ORDER BY audit_id"
    )
    assert [tuple(row) for row in audit] == [
        (PATIENT, "caregiver_invite", "ok"),
        (CARER, "caregiver_link", "ok"),
        (PATIENT, "caregiver_invite", "ok"),
        (PATIENT, "caregiver_invite", "ok"),
        (PATIENT, "caregiver_remove", "ok"),
    ]


async def test_expired_and_reused_links_are_refused(bot: RunningBot) -> None:
    await bot.onboard(PATIENT, zone="Europe/Berlin")  # no plan: no reminders as the days pass
    payload = await invite_link(bot)
    # Opened in time, accepted too late: the press checks again.
    await say_as(bot, CARER, f"/start {payload}")
    accept = bot.buttons(bot.last_message(CARER))["Accept"]
    bot.clock.advance(timedelta(hours=24))
    [late] = await bot.press(CARER, bot.last_message(CARER)["message_id"], accept, replies=1)
    assert "has expired" in late
    [opened_late] = await say_as(bot, CARER, f"/start {payload}")
    assert "has expired" in opened_late
    assert await bot.services.caregivers.caregivers_of(PATIENT) == []

    used = await link_caregiver(bot)
    [again] = await say_as(bot, OTHER, f"/start {used}", name="Olga")
    assert bot.pack.text("caregiver.invite_used") in again
    [own] = await bot.say(PATIENT, f"/start {await invite_link(bot)}")
    assert bot.pack.text("caregiver.invite_own") in own
    # Three invites stay open (looking at /caregiver again does not kill a link just sent);
    # beyond that the oldest goes, however often /caregiver is sent.
    older = await invite_link(bot)
    kept = await invite_link(bot)
    for _ in range(2):
        await invite_link(bot)
    [replaced] = await say_as(bot, OTHER, f"/start {older}", name="Olga")
    assert "not valid" in replaced
    [still] = await say_as(bot, OTHER, f"/start {kept}", name="Olga")
    assert "invites you" in still
    open_invites = await bot.services.db.fetch_one(
        "SELECT COUNT(*) FROM caregiver_invites WHERE used_at IS NULL"
    )
    assert open_invites is not None and open_invites[0] == 3
    [forged] = await say_as(bot, OTHER, "/start cg_" + "A" * 32, name="Olga")
    assert "not valid" in forged
    assert len(await bot.services.caregivers.caregivers_of(PATIENT)) == 1
    # A payload that is not a well-formed invite is no invite: ordinary onboarding.
    [mangled] = await say_as(bot, OTHER + 1, "/start cg_<b>oops</b>", name="Pavel")
    assert "not valid" not in mangled and "invites you" not in mangled
    assert mangled == bot.pack.text("onboarding.welcome"), mangled


async def test_at_most_three_caregivers_and_a_caregiver_of_several_patients(
    bot: RunningBot,
) -> None:
    await bot.onboard(PATIENT, zone="Europe/Berlin")
    for carer in (CARER, CARER + 1, CARER + 2):
        await link_caregiver(bot, carer, name=f"C{carer}", username=None)
    [full] = await bot.say(PATIENT, "/caregiver")
    assert "3 caregivers linked, the most I allow" in full and "start=cg_" not in full
    # The same caregiver for a second patient; they see both and can leave one.
    await bot.onboard(OTHER)
    payload = await invite_link(bot, OTHER)
    await say_as(bot, CARER, f"/start {payload}", name=f"C{CARER}")
    accept = bot.buttons(bot.last_message(CARER))["Accept"]
    await bot.press(CARER, bot.last_message(CARER)["message_id"], accept, replies=1)
    [mine] = await say_as(bot, CARER, "/caregiver", name=f"C{CARER}")
    assert opening(bot.pack, "caregiver.caring_for") in mine and mine.count("• Pat") == 2
    markup = bot.last_message(CARER)["reply_markup"]["inline_keyboard"]
    leave = [row[0]["callback_data"] for row in markup if row[0]["text"] == "Stop caring for Pat"]
    assert len(leave) == 2
    before = bot.sent_count(PATIENT)
    [left] = await bot.press(CARER, bot.last_message(CARER)["message_id"], leave[0], replies=1)
    assert "no longer Pat's caregiver" in left
    [told] = await bot.next_messages(PATIENT, before, 1)
    assert "is no longer your caregiver (they ended it themselves)" in told
    assert len(await bot.services.caregivers.caregivers_of(PATIENT)) == 2


async def test_erasing_the_patient_ends_links_and_pending_alerts(bot: RunningBot) -> None:
    await patient_with_plan(bot)
    await link_caregiver(bot)
    await advance_until_messages(bot, PATIENT, NOON)
    assert [row["state"] for row in await alerts(bot)] == ["pending"]
    await bot.say(PATIENT, "/deleteme")
    erase = bot.buttons(bot.last_message(PATIENT))["Yes, erase everything"]
    before = bot.sent_count(CARER)
    await bot.press(PATIENT, bot.last_message(PATIENT)["message_id"], erase)
    [told] = await bot.next_messages(CARER, before, 1)
    assert bot.pack.text("caregiver.patient_erased", patient="Pat") in told
    assert await alerts(bot) == []
    await quiet_until(bot, CARER, NOON + timedelta(hours=3))
    [nothing] = await say_as(bot, CARER, "/caregiver")
    assert "/start" in nothing  # no link left, and no consent of their own
    invites = await bot.services.db.fetch_one("SELECT COUNT(*) FROM caregiver_invites")
    assert invites is not None and invites[0] == 0


async def test_both_exports_cover_the_link(bot: RunningBot) -> None:
    await patient_with_plan(bot)
    await link_caregiver(bot)
    await advance_until_messages(bot, PATIENT, NOON)
    bot.api.send_text(CARER, "/mydata", first_name="Anna")
    await bot.api.wait_for(
        "sendDocument", lambda call: call.params.get("chat_id") == CARER, count=2
    )
    exported = json_document(bot, CARER)
    assert [row["patient_name"] for row in exported["caring_for"]] == ["Pat"]
    assert exported["dose_history"] == [] and exported["profile"]["consented_at"] is None
    assert "caregiver_alerts" in exported and exported["caregiver_alerts"] == []
    bot.api.send_text(PATIENT, "/mydata")
    await bot.api.wait_for(
        "sendDocument", lambda call: call.params.get("chat_id") == PATIENT, count=2
    )
    mine = json_document(bot, PATIENT)
    assert [row["caregiver_name"] for row in mine["caregivers"]] == ["Anna (@anna_h)"]
    [pending] = mine["caregiver_alerts"]
    assert (pending["kind"], pending["state"]) == ("unanswered", "pending")
    assert [invite["used_at"] is not None for invite in mine["caregiver_invites"]] == [True]


async def test_erasing_the_caregiver_ends_the_link_and_its_alerts(bot: RunningBot) -> None:
    await patient_with_plan(bot)
    await link_caregiver(bot)
    await advance_until_messages(bot, PATIENT, NOON)
    await say_as(bot, CARER, "/deleteme")
    erase = bot.buttons(bot.last_message(CARER))["Yes, erase everything"]
    before = bot.sent_count(PATIENT)
    await bot.press(CARER, bot.last_message(CARER)["message_id"], erase)
    [told] = await bot.next_messages(PATIENT, before, 1)
    assert "Anna (@anna_h) erased their data here" in told
    assert await bot.services.users.get(CARER) is None
    assert await alerts(bot) == []
    await quiet_until(bot, CARER, NOON + timedelta(hours=3))
    [overview] = await bot.say(PATIENT, "/caregiver")
    assert bot.pack.text("caregiver.none_yet") in overview
    actors = await bot.services.db.fetch_all(
        "SELECT actor_id FROM admin_audit WHERE action = 'caregiver_link'"
    )
    assert [row[0] for row in actors] == [None]  # the log keeps what happened, not who


async def test_a_blocked_caregiver_is_marked_unreachable_and_alerts_end(bot: RunningBot) -> None:
    await patient_with_plan(bot)
    await link_caregiver(bot)
    await advance_until_messages(bot, PATIENT, NOON)
    bot.api.blocked.add(CARER)
    bot.clock.set(NOON + FOLLOW_UP + timedelta(hours=1))

    async def marked() -> bool:
        stored = await bot.services.users.get(CARER)
        return stored is not None and stored.unreachable_at is not None

    await eventually(marked)
    await eventually(lambda: _outcomes(bot, ["unreachable"]))
    # No alert is planned for them while they are unreachable.
    await advance_until_messages(bot, PATIENT, EVENING)
    assert await _outcomes(bot, ["unreachable"])
    # Back (Telegram's Restart sends /start): reachable; the next reminder plans an alert.
    bot.api.blocked.discard(CARER)
    await say_as(bot, CARER, "/start")
    assert not await marked()
    await advance_until_messages(bot, PATIENT, NOON + timedelta(days=1))
    assert [row["state"] for row in await alerts(bot)] == ["done", "pending"]


async def _outcomes(bot: RunningBot, expected: list[str]) -> bool:
    return [row["outcome"] for row in await alerts(bot)] == expected


async def test_taper_steps_are_told_and_alerts_survive_a_restart(
    start_bot: Any, bot: RunningBot
) -> None:
    await bot.onboard(PATIENT, zone="Europe/Berlin", region="uk")
    await save_plan(bot, PATIENT, "/taper today 12:00 10x1 5x2 stop", confirm=True)
    await link_caregiver(bot)
    await advance_until_messages(bot, PATIENT, NOON)
    await eventually(lambda: "step of Pat's taper starts today" in bot.last_message(CARER)["text"])
    assert "mg" not in bot.last_message(CARER)["text"]
    # Down across the alert's due instant: it goes out after the start.
    await bot.shutdown()
    before = bot.sent_count(CARER)
    bot.clock.set(NOON + FOLLOW_UP + timedelta(hours=2))
    again: RunningBot = await start_bot()
    [late] = await again.next_messages(CARER, before, 1)
    assert "is still unanswered" in late
    # The follow-up fell due while the bot was down and was dropped as too late: the alert
    # must not claim it was asked (issue 23).
    assert bot.pack.text("caregiver.alert_sent_reminder") in late, late
    assert "asked again" not in late
    # Day 2: the next step starts, and the caregiver hears of it (never the dose).
    [step] = await advance_until_messages(again, CARER, NOON + timedelta(days=1))
    assert "step of Pat's taper starts today" in step["text"] and "mg" not in step["text"]
    assert_every_alert_carries_the_rule(again, 3)


async def test_a_snooze_moves_the_alert_and_a_new_delay_moves_waiting_alerts(
    bot: RunningBot,
) -> None:
    await patient_with_plan(bot)
    await link_caregiver(bot)
    [reminder] = await advance_until_messages(bot, PATIENT, NOON)
    [follow_up] = await advance_until_messages(bot, PATIENT, NOON + FOLLOW_UP)
    # Snoozed after the follow-up: told 1 h after the snoozed reminder comes again (12:55),
    # not at 13:30 as planned.
    bot.clock.set(NOON + timedelta(minutes=40))
    await tap(bot, PATIENT, follow_up, "snooze")
    await advance_until_messages(bot, PATIENT, NOON + timedelta(minutes=55))
    await quiet_until(bot, CARER, NOON + timedelta(minutes=55 + 59))
    # The patient picks 30 min by button: the waiting alert moves with it (and is due now).
    [overview] = await bot.say(PATIENT, "/caregiver")
    assert "start=cg_" in overview and "• Anna (@anna_h)" in overview
    message = bot.last_message(PATIENT)
    before = bot.sent_count(CARER)
    [done] = await bot.press(
        PATIENT, message["message_id"], bot.buttons(message)["30 min"], replies=1
    )
    assert "30 min after its follow-up" in done
    [alert] = await bot.next_messages(CARER, before, 1)
    assert "dose due at 12:00</b> (Europe/Berlin time) <b>is still unanswered" in alert
    assert reminder["message_id"] != follow_up["message_id"]
    await eventually(lambda: _outcomes(bot, ["sent"]))
    [row] = await alerts(bot)
    assert row["said"] == "unanswered"


async def test_a_failed_alert_is_retried_and_a_refused_one_ends(bot: RunningBot) -> None:
    await patient_with_plan(bot)
    await link_caregiver(bot)
    await advance_until_messages(bot, PATIENT, NOON)
    due = NOON + FOLLOW_UP + timedelta(hours=1)
    bot.api.fail("sendMessage", status=500, description="Internal Server Error", chat_id=CARER)
    bot.clock.set(due)
    await bot.services.reminders.run_due()
    await eventually(lambda: _states(bot, ["pending"]))
    [row] = await alerts(bot)
    assert row["attempts"] == 1 and row["next_action_at"] > int(due.timestamp())
    [alert] = await advance_until_messages(bot, CARER, due + timedelta(seconds=15))
    assert "is still unanswered" in alert["text"]
    await eventually(lambda: _outcomes(bot, ["sent"]))
    # Telegram refuses (a 400): sending again would fail again; the life ends, named.
    await advance_until_messages(bot, PATIENT, EVENING)
    bot.api.fail("sendMessage", status=400, description="Bad Request: odd", chat_id=CARER)
    await quiet_until(bot, CARER, EVENING + FOLLOW_UP + timedelta(hours=1))
    await eventually(lambda: _outcomes(bot, ["sent", "rejected"]))


async def _states(bot: RunningBot, expected: list[str]) -> bool:
    return [row["state"] for row in await alerts(bot)] == expected


async def test_bad_input_gets_a_clear_message_with_an_example(bot: RunningBot) -> None:
    await bot.onboard(PATIENT)
    [usage] = await bot.say(PATIENT, "/caregiver please")
    assert "<code>/caregiver delay 90</code>" in usage
    for value in ("20", "4h", "soon"):
        [invalid] = await bot.say(PATIENT, f"/caregiver delay {value}")
        assert f"“{value}” is not a time from 30 minutes to 3 hours" in invalid
        assert "<code>/caregiver delay 2h</code>" in invalid
    assert await bot.services.caregivers.delay_minutes(PATIENT) == 60
    [done] = await bot.say(PATIENT, "/caregiver delay 2h30")
    assert "2 h 30 min after its follow-up" in done
    # Someone with no profile and no link is asked to /start first; a forged button does nothing.
    [stranger] = await bot.say(OTHER, "/caregiver")
    assert "/start" in stranger
    before = bot.sent_count(OTHER)
    await bot.press(OTHER, 1, "cg:delay:45")
    await bot.press(OTHER, 1, "cg:remove:1")
    assert bot.sent_count(OTHER) == before
    assert await bot.services.caregivers.delay_minutes(PATIENT) == 150


async def test_a_russian_caregiver_of_an_english_patient_reads_russian(
    bot: RunningBot, library: ContentLibrary
) -> None:
    """Each side reads their own language: the offer, the alert and the patient's notice."""
    russian, english = library.get("ru"), library.get("en")
    await patient_with_plan(bot)
    payload = await invite_link(bot)
    before = bot.sent_count(CARER)
    bot.api.send_text(CARER, f"/start {payload}", first_name="Анна", language_code="ru")
    [offer] = await bot.next_messages(CARER, before, 1)
    assert offer.startswith(
        russian.text("caregiver.offer", patient="Pat", delay="1").split("\n")[0][:15]
    )
    data = bot.buttons(bot.last_message(CARER))[russian.text("caregiver.button_accept")]
    before_patient = bot.sent_count(PATIENT)
    await bot.press(CARER, bot.last_message(CARER)["message_id"], data, replies=1)
    [told] = await bot.next_messages(PATIENT, before_patient, 1)
    assert told == english.text("caregiver.linked_notice", name="Анна")
    assert (await bot.services.users.get(CARER)).language == "ru"  # type: ignore[union-attr]

    await advance_until_messages(bot, PATIENT, NOON)
    await advance_until_messages(bot, PATIENT, NOON + FOLLOW_UP)
    [alert] = await advance_until_messages(bot, CARER, NOON + FOLLOW_UP + timedelta(hours=1))
    expected = russian.text(
        "caregiver.alert_unanswered", patient="Pat", due="12:00", timezone="Europe/Berlin"
    )
    assert alert["text"].startswith(expected), alert["text"]
    assert "Напоминание и повторный вопрос уже отправлены." in alert["text"]
    assert "мг" not in alert["text"] and "mg" not in alert["text"]


# ------------------------------------------------- the dose-safety check (issue 19), London


LONDON = START.replace(hour=0)  # midnight in London (UTC+0 in January); START is 09:00 there


def london(hour: int, minute: int = 0, day: int = 0) -> datetime:
    return LONDON + timedelta(days=day, hours=hour, minutes=minute)


async def london_patient(
    bot: RunningBot, command: str, *, confirm: bool = False, delay: str | None = None
) -> None:
    await bot.onboard(PATIENT, zone="Europe/London", region="uk")
    await save_plan(bot, PATIENT, command, confirm=confirm)
    await link_caregiver(bot)
    if delay is not None:
        [done] = await bot.say(PATIENT, f"/caregiver delay {delay}")
        assert "after its follow-up" in done, done


async def test_no_alert_about_a_dose_once_a_later_dose_was_taken(bot: RunningBot) -> None:
    """Issue 19: the 10:00 alert came 30 minutes after the 13:00 dose was recorded as taken."""
    await london_patient(bot, "/schedule custom today 10:00,13:00 10x5", delay="3h")
    await advance_until_messages(bot, PATIENT, london(10))
    await advance_until_messages(bot, PATIENT, london(10) + FOLLOW_UP)
    [later] = await advance_until_messages(bot, PATIENT, london(13))
    await tap(bot, PATIENT, later, "taken")
    # Due at 13:30: the 13:00 dose time has passed (and was taken): nothing to check on.
    await quiet_until(bot, CARER, london(13) + FOLLOW_UP + timedelta(minutes=1))
    await quiet_until(bot, CARER, london(17))
    assert alerts_to(bot) == []
    assert [row["outcome"] for row in await alerts(bot)] == ["superseded", "answered"]


async def test_near_the_next_dose_the_alert_says_skip_the_missed_one(bot: RunningBot) -> None:
    """Issue 19: 4-hourly doses, a 3 h delay: the 08:00 alert is due at 11:30, half an hour
    before the next dose, when the patient's own /missed would say skip."""
    await london_patient(bot, "/schedule custom tomorrow 08:00,12:00,16:00,20:00 10x5", delay="3h")
    await advance_until_messages(bot, PATIENT, london(8, day=1))
    await advance_until_messages(bot, PATIENT, london(8, day=1) + FOLLOW_UP)
    await quiet_until(bot, CARER, london(11, 29, day=1))
    [alert] = await advance_until_messages(bot, CARER, london(11, 30, day=1))
    text = alert["text"]
    assert "dose due at 08:00</b> (Europe/London time) <b>is still unanswered" in text, text
    assert "The next dose is soon: skip the missed one." in text, text
    assert "they should not take it now, but take the next dose at its usual time" in text
    assert RULE in text and "mg" not in text
    await eventually(lambda: _outcomes(bot, ["sent"]))
    [row] = await alerts(bot)
    assert row["said"] == "next_soon"


async def test_no_alert_when_a_dose_was_recorded_as_taken_lately(bot: RunningBot) -> None:
    """The patient tapped Taken on yesterday evening's reminder at 10:45: they may have taken
    this morning's dose and tapped the wrong message. Nothing to check on at 11:30."""
    await london_patient(bot, "/schedule custom today 10:00,20:00 10x5")
    [first] = await advance_until_messages(bot, PATIENT, london(10))
    await tap(bot, PATIENT, first, "taken")
    [evening] = await advance_until_messages(bot, PATIENT, london(20))
    await advance_until_messages(bot, PATIENT, london(20) + FOLLOW_UP)
    [told] = await advance_until_messages(bot, CARER, london(21, 30))
    assert "dose due at 20:00</b> (Europe/London time) <b>is still unanswered" in told["text"]
    await advance_until_messages(bot, PATIENT, london(10, day=1))
    await advance_until_messages(bot, PATIENT, london(10, day=1) + FOLLOW_UP)
    bot.clock.set(london(10, 45, day=1))
    await tap(bot, PATIENT, evening, "taken")
    await quiet_until(bot, CARER, london(12, day=1))
    assert await _outcomes(bot, ["answered", "sent", "recently_taken"])
    assert_every_alert_carries_the_rule(bot, 1)


async def plan_alert_at(bot: RunningBot, instant: datetime) -> str:
    """Nothing reaches the caregiver until an hour before ``instant``, then an alert about the
    plan: its text, which (like every alert) has the emergency number and the missed-dose
    rule, and never an amount."""
    await quiet_until(bot, CARER, instant - timedelta(hours=1))
    [alert] = await advance_until_messages(bot, CARER, instant)
    text: str = alert["text"]
    assert "999" in text and RULE in text and "mg" not in text
    return text


async def test_the_last_dose_of_a_taper_that_stops_tells_the_caregiver(bot: RunningBot) -> None:
    await london_patient(bot, "/taper today 08:00,20:00 10x7 5x7 stop")
    # The days pass; the evening before the last dose nothing has reached the caregiver (the
    # doses passed over while the clock jumped are never reminded, so never alerted).
    text = await plan_alert_at(bot, london(20, day=13))
    assert "<b>Pat's taper ends today</b>: this is the last dose their prescriber planned" in text
    assert "In the days after the last dose, watch especially for signs of withdrawal" in text
    assert "hallucinations, severe confusion, high fever, muscle rigidity or a seizure" in text

    async def told_once() -> bool:
        rows = await bot.services.db.fetch_all("SELECT kind, outcome FROM caregiver_alerts")
        return sorted(tuple(row) for row in rows) == [("taper_end", "sent"), ("unanswered", None)]

    await eventually(told_once)


async def test_a_custom_plan_stepping_down_tells_the_caregiver(bot: RunningBot) -> None:
    await london_patient(bot, "/schedule custom today 08:00,20:00 10x3 5x3")
    text = await plan_alert_at(bot, london(8, day=3))
    assert "<b>Pat's dose steps down from today</b>, as their prescriber planned" in text
    assert "Watch for signs of withdrawal" in text
    # A step up, or the same dose on, tells nothing: only the step down was planned.
    kinds = await bot.services.db.fetch_all("SELECT DISTINCT kind FROM caregiver_alerts")
    assert sorted(row[0] for row in kinds) == ["step_down", "unanswered"]


@pytest.mark.parametrize("said", list(Said))
def test_every_alert_text_carries_the_rule_and_never_an_amount(
    library: ContentLibrary, said: Said
) -> None:
    alert = DueAlert(
        alert_id=1,
        link_id=1,
        kind=AlertKind.UNANSWERED,
        event_id=1,
        attempts=0,
        patient_id=PATIENT,
        caregiver_id=CARER,
        patient_name="Pat",
        dose_due_at=NOON,
        timezone="Europe/Berlin",
        region="uk",
        caregiver_unreachable=False,
    )
    for code in ("en", "ru"):
        pack = library.get(code)
        text = alert_text(pack, alert, said, ZoneInfo("Europe/Berlin"))
        assert pack.text("caregiver.alert_rule", patient="Pat") in text, text
        assert "/missed" in text and "999" in text
        assert "mg" not in text and "мг" not in text
        assert ("12:00" in text) is (said not in {Said.TAPER_STEP, Said.TAPER_END, Said.STEP_DOWN})
