"""Issue 22: simple mode and Undo for a mis-tap, through the Bot API stand-in with the fake
clock and a real SQLite file.

Simple mode: a short reminder ("💊 10 mg now" / «💊 10 мг сейчас») with one large Taken
button and "More" (an edit of the same message's keyboard shows Skip and Snooze), answers
confirmed by an edit of the reminder, check-ins that ask only the stiffness score.

Undo: within 5 minutes (by the injected clock) a Taken or Skip can be taken back; the dose
row is as it was (open, its follow-up and caregiver alerts due as before), the dose-safety
check sees no intake, and the report shows what was undone.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from typing import Any

from pypdf import PdfReader

from bot.content import ContentLibrary
from bot.domain.missed import MissedAction
from bot.storage.doses import Status
from tests.conftest import RunningBot
from tests.reminder_helpers import (
    advance_until_messages,
    at,
    only_undo,
    press_and_wait_edit,
    save_plan,
    tap,
)
from tests.said import ending

USER = 2202
CARER = 2203
PLAN = "/schedule custom today 12:00,18:00 10x5"  # Europe/London is UTC in January
_LINK = re.compile(r"start=(cg_[A-Za-z0-9_-]+)")


def current(bot: RunningBot, message: dict[str, Any]) -> dict[str, Any]:
    return next(m for m in bot.api.messages_to(USER) if m["message_id"] == message["message_id"])


def rows(message: dict[str, Any]) -> list[list[tuple[str, str]]]:
    markup = message.get("reply_markup") or {}
    return [
        [(button["text"], button["callback_data"]) for button in row]
        for row in markup.get("inline_keyboard", [])
    ]


async def simple_on(bot: RunningBot, user: int) -> str:
    """/simple, then its toggle button; the edited message's text."""
    await bot.say(user, "/simple")
    offer = bot.last_message(user)
    [(_, data)] = [button for row in rows(offer) for button in row]
    assert data == "simple:on"
    edited = await press_and_wait_edit(bot, user, offer, data)
    assert rows(edited) == [[(rows(edited)[0][0][0], "simple:off")]]
    return str(edited["text"])


async def press_more(bot: RunningBot, reminder: dict[str, Any]) -> dict[str, Any]:
    sent = bot.sent_count(USER)
    edits = len(bot.api.calls_of("editMessageReplyMarkup"))
    [(_, more)] = rows(reminder)[1]
    assert more.startswith("dmore:")
    await bot.press(USER, reminder["message_id"], more)
    await bot.api.wait_for("editMessageReplyMarkup", lambda call: True, count=edits + 1)
    assert bot.sent_count(USER) == sent  # the same message, no new one
    return current(bot, reminder)


async def onboard_russian(bot: RunningBot) -> None:
    await bot.say(USER, "/start", language_code="ru")
    await bot.onboard(USER, zone="Europe/London", region="uk")


# ------------------------------------------------------------------------ simple mode


async def test_simple_mode_in_english_reminder_more_snooze(bot: RunningBot) -> None:
    await bot.onboard(USER, zone="Europe/London")
    [usage] = await bot.say(USER, "/simple maybe")
    assert bot.pack.text("simple.usage") in usage  # bad input: an example, nothing stored
    assert bot.pack.text("simple.now_on") in await simple_on(bot, USER)
    user = await bot.services.users.get(USER)
    assert user is not None and user.simple_mode  # stored per patient
    await save_plan(bot, USER, PLAN)
    [reminder] = await advance_until_messages(bot, USER, at(12))
    assert reminder["text"] == "💊 <b>10 mg</b> now"
    [[(taken_label, taken)], [(more_label, more)]] = rows(reminder)  # one large button, More
    assert (taken_label, more_label) == ("✅ Taken", "More…")
    assert taken.endswith(":taken") and more.startswith("dmore:")
    expanded = await press_more(bot, reminder)
    assert expanded["text"] == reminder["text"]
    labels = [[label for label, _ in row] for row in rows(expanded)]
    assert labels == [["✅ Taken"], ["Skip", "⏰ Snooze 15 min"]]
    snoozed = await tap(bot, USER, expanded, "snooze")
    assert snoozed["text"] == "⏰ <b>10 mg</b>: again at 12:15."
    [again] = await advance_until_messages(bot, USER, at(12, 15))
    assert again["text"].startswith("💊 <b>10 mg</b> now")
    assert "If you have not taken it yet, take it now" in again["text"]  # late: the rule stays
    assert [label for label, _ in rows(again)[0]] == ["✅ Taken"]


async def test_simple_mode_in_russian_taken_edits_the_reminder(
    bot: RunningBot, library: ContentLibrary
) -> None:
    russian = library.get("ru")
    await onboard_russian(bot)
    assert "Простой режим включён" in await simple_on(bot, USER)
    await bot.say(USER, PLAN)
    await bot.press(USER, bot.last_message(USER)["message_id"], "plan:save", replies=1)
    [reminder] = await advance_until_messages(bot, USER, at(12))
    assert reminder["text"] == "💊 <b>10 мг</b> сейчас"
    assert [[label for label, _ in row] for row in rows(reminder)] == [["✅ Принято"], ["Ещё…"]]
    expanded = await press_more(bot, reminder)
    assert [label for label, _ in rows(expanded)[1]] == [
        russian.text("reminder.button_skip"),
        russian.text("reminder.button_snooze"),
    ]
    sent = bot.sent_count(USER)
    bot.clock.set(at(12, 1))
    edited = await tap(bot, USER, expanded, "taken")
    assert edited["message_id"] == reminder["message_id"]
    assert edited["text"] == "✅ <b>10 мг</b>: принято (12:01)."
    assert [label for row in rows(edited) for label, _ in row] == ["↩️ Отменить"]
    assert bot.sent_count(USER) == sent  # confirmed by an edit, not a new message
    [checkin] = await bot.say(USER, "/checkin")
    assert "Скованность" in checkin
    edited = await press_and_wait_edit(
        bot, USER, bot.last_message(USER), rows(bot.last_message(USER))[0][3][1]
    )
    assert edited["text"] == "✅ Опрос на этапе 1 записан: скованность 3/10."
    assert edited["reply_markup"] is None  # no side-effect question follows
    await _assert_one_stiffness_only_checkin(bot)


async def test_simple_mode_in_english_taken_and_a_stiffness_only_checkin(
    bot: RunningBot,
) -> None:
    await bot.onboard(USER, zone="Europe/London")
    await simple_on(bot, USER)
    await save_plan(bot, USER, PLAN)
    [reminder] = await advance_until_messages(bot, USER, at(12))
    sent = bot.sent_count(USER)
    bot.clock.set(at(12, 2))
    edited = await tap(bot, USER, reminder, "taken")
    assert edited["text"] == "✅ <b>10 mg</b>: taken (12:02)."
    assert only_undo(edited) and bot.sent_count(USER) == sent
    [checkin] = await bot.say(USER, "/checkin")
    assert bot.pack.text("checkin.ask_stiffness") in checkin
    stiffness = bot.last_message(USER)
    edited = await press_and_wait_edit(bot, USER, stiffness, rows(stiffness)[0][3][1])
    assert edited["text"] == "✅ Check-in for step 1 recorded: stiffness 3/10."
    await _assert_one_stiffness_only_checkin(bot)
    [progress] = await bot.say(USER, "/progress")
    assert "stiffness 3/10 (side effects not asked: simple mode)" in progress
    # Off again: the full reminder and its three buttons.
    await bot.say(USER, "/simple off")
    [full] = await advance_until_messages(bot, USER, at(18))
    assert "Time for your dose: <b>10 mg</b> at 18:00" in full["text"]
    assert len(rows(full)) == 1 and len(rows(full)[0]) == 3


async def _assert_one_stiffness_only_checkin(bot: RunningBot) -> None:
    stored = await bot.services.doses.active_plan(USER)
    assert stored is not None
    [checkin] = await bot.services.checkins._store.for_plan(USER, stored.plan_id)
    assert checkin.stiffness == 3 and checkin.side_effects == {}
    assert checkin.completed_at is not None


async def test_simple_mode_keeps_the_skip_warning_after_a_late_taken(bot: RunningBot) -> None:
    """Shorter words, the same rule: a Taken recorded at 16:30 puts the 18:00 dose less than
    2 hours after it, and simple mode's confirmation still says to skip it."""
    await bot.onboard(USER, zone="Europe/London")
    await simple_on(bot, USER)
    await save_plan(bot, USER, PLAN)
    [reminder] = await advance_until_messages(bot, USER, at(12))
    await advance_until_messages(bot, USER, at(12, 30))  # the follow-up
    bot.clock.set(at(16, 30))
    edited = await tap(bot, USER, reminder, "taken")
    assert "skip" in edited["text"].lower() and "18:00" in edited["text"], edited["text"]


# ------------------------------------------------------------------------------- Undo


async def _reminded_and_taken(bot: RunningBot, taken_at: datetime) -> dict[str, Any]:
    await bot.onboard(USER, zone="Europe/London")
    await save_plan(bot, USER, PLAN)
    [reminder] = await advance_until_messages(bot, USER, at(12))
    bot.clock.set(taken_at)
    edited = await tap(bot, USER, reminder, "taken")
    assert "recorded as taken (12:02)" in edited["text"] and only_undo(edited)
    return edited


async def _event(bot: RunningBot) -> Any:
    [dose] = await bot.services.doses.recent_doses(USER, at(12), 1)
    return dose


async def test_undo_of_a_mis_tapped_taken_opens_the_dose_again(bot: RunningBot) -> None:
    edited = await _reminded_and_taken(bot, at(12, 2))
    assert (await _event(bot)).status is Status.TAKEN
    bot.clock.set(at(12, 4))
    undone = await press_and_wait_edit(bot, USER, edited, rows(edited)[0][0][1])
    assert (
        "Undone: the <b>10 mg</b> dose due at 12:00 is no longer recorded as taken"
        in (undone["text"])
    )
    assert "recorded as taken (" not in undone["text"]  # no message claims it was taken
    # Open again, with the reminder's own buttons (the check still offers it).
    assert [answer.split(":")[-1] for _, answer in rows(undone)[0]] == ["taken", "skip", "snooze"]
    dose = await _event(bot)
    assert dose.status is Status.SENT and dose.answered_at is None
    assert dose.next_action_at == at(12, 30)  # the follow-up, as before the press
    # The dose-safety check sees no intake: the dose may be offered again.
    zone = bot.services.zones.zone_for("Europe/London")
    advice = await bot.services.missed.advice(USER, zone, bot.clock.now())
    assert advice is not None and advice.action is MissedAction.TAKE_NOW
    [follow_up] = await advance_until_messages(bot, USER, at(12, 30))
    assert "Did you take your <b>10 mg</b> dose due at 12:00?" in follow_up["text"]
    # The audit trail keeps the press and its undo.
    rows_ = await bot.services.db.fetch_all(
        "SELECT status, answered_at, undone_at FROM dose_answers WHERE event_id = ?",
        (dose.event_id,),
    )
    assert [tuple(row) for row in rows_] == [
        ("taken", int(at(12, 2).timestamp()), int(at(12, 4).timestamp()))
    ]
    # The same Undo again (a double tap) changes nothing, and leaves the dose buttons.
    await bot.press(USER, edited["message_id"], rows(edited)[0][0][1])
    assert (await _event(bot)).status is Status.SENT
    assert len(rows(current(bot, edited))[0]) == 3


async def test_an_undo_after_six_minutes_is_refused(bot: RunningBot) -> None:
    edited = await _reminded_and_taken(bot, at(12, 2))
    bot.clock.set(at(12, 8))
    query = bot.api.press_button(USER, edited["message_id"], rows(edited)[0][0][1])
    [answer] = await bot.api.wait_for(
        "answerCallbackQuery", lambda call: call.params.get("callback_query_id") == query
    )
    assert (
        bot.pack.text("undo.too_late") in answer.params["text"]
        and "/today" in answer.params["text"]
    )
    assert answer.params.get("show_alert") in (True, "true")
    await bot.api.wait_for(
        "editMessageReplyMarkup", lambda call: call.params["message_id"] == edited["message_id"]
    )
    assert current(bot, edited)["reply_markup"] is None
    assert (await _event(bot)).status is Status.TAKEN


async def test_undo_of_a_late_taken_does_not_offer_a_dose_near_the_next(bot: RunningBot) -> None:
    """Taken at 16:30 for the 12:00 dose, undone at 16:32: the 18:00 dose is under 2 hours
    away, so the dose is open again but not offered ("skip the missed dose", no buttons)."""
    await bot.onboard(USER, zone="Europe/London")
    await save_plan(bot, USER, PLAN)
    [reminder] = await advance_until_messages(bot, USER, at(12))
    await advance_until_messages(bot, USER, at(12, 30))
    bot.clock.set(at(16, 30))
    edited = await tap(bot, USER, reminder, "taken")
    bot.clock.set(at(16, 32))
    undone = await press_and_wait_edit(bot, USER, edited, rows(edited)[0][0][1])
    assert "Skip the missed dose" in undone["text"], undone["text"]
    assert undone["reply_markup"] is None
    assert (await _event(bot)).status is Status.SENT


async def test_undo_of_a_skip(bot: RunningBot) -> None:
    await bot.onboard(USER, zone="Europe/London")
    await save_plan(bot, USER, PLAN)
    [reminder] = await advance_until_messages(bot, USER, at(12))
    bot.clock.set(at(12, 1))
    skipped = await tap(bot, USER, reminder, "skip")
    assert "recorded as skipped" in skipped["text"] and only_undo(skipped)
    bot.clock.set(at(12, 3))
    undone = await press_and_wait_edit(bot, USER, skipped, rows(skipped)[0][0][1])
    assert ending(bot.pack, "undo.done_skipped") in undone["text"]
    assert (await _event(bot)).status is Status.SENT


async def test_undo_brings_back_the_caregiver_alert(bot: RunningBot) -> None:
    await bot.onboard(USER, zone="Europe/London")
    await bot.say(USER, "/caregiver")
    match = _LINK.search(bot.last_message(USER)["text"])
    assert match is not None
    before = len(bot.api.calls_of("sendMessage"))
    bot.api.send_text(CARER, f"/start {match.group(1)}", first_name="Anna")
    await bot.api.wait_for("sendMessage", lambda call: True, count=before + 1)
    offer = bot.api.messages_to(CARER)[-1]
    accept = next(data for _, data in (b for row in rows(offer) for b in row) if "yes" in data)
    before = len(bot.api.calls_of("sendMessage"))
    bot.api.press_button(CARER, offer["message_id"], accept)
    await bot.api.wait_for("sendMessage", lambda call: True, count=before + 2)
    await save_plan(bot, USER, PLAN)
    [reminder] = await advance_until_messages(bot, USER, at(12))

    async def alert_states() -> list[tuple[Any, ...]]:
        found = await bot.services.db.fetch_all(
            "SELECT state, outcome, next_action_at FROM caregiver_alerts WHERE kind = 'unanswered'"
        )
        return [tuple(row) for row in found]

    [(state, _, due)] = await alert_states()
    assert state == "pending"
    bot.clock.set(at(12, 2))
    edited = await tap(bot, USER, reminder, "taken")
    assert await alert_states() == [("done", "answered", None)]
    bot.clock.set(at(12, 4))
    await press_and_wait_edit(bot, USER, edited, rows(edited)[0][0][1])
    assert await alert_states() == [("pending", None, due)]
    await advance_until_messages(bot, USER, at(12, 30))  # the patient's follow-up
    bot.clock.set(datetime.fromtimestamp(due, UTC))
    await bot.services.reminders.run_due()
    [alert] = await bot.api.wait_for(
        "sendMessage",
        lambda call: (
            call.params.get("chat_id") == CARER
            and "is still unanswered" in str(call.params.get("text"))
        ),
    )
    assert alert.status == 200


async def test_the_report_shows_an_undone_taken(bot: RunningBot) -> None:
    edited = await _reminded_and_taken(bot, at(12, 2))
    bot.clock.set(at(12, 4))
    await press_and_wait_edit(bot, USER, edited, rows(edited)[0][0][1])
    bot.clock.set(at(20))
    before = len(bot.api.calls_of("sendDocument"))
    await bot.say(USER, "/report csv")
    choice = bot.last_message(USER)
    await bot.press(USER, choice["message_id"], bot.buttons(choice)["Everything"])
    [call] = (await bot.api.wait_for("sendDocument", count=before + 1, timeout=60))[before:]
    table = list(csv.reader(io.StringIO(call.params["document"]["content"].decode("utf-8-sig"))))
    header, row = table[0], table[1]
    assert row[header.index("Taken")] == "0"  # counted as what is recorded now
    note = row[header.index("Notes")]
    assert "10 mg due at 12:00: recorded as taken at 12:02, undone at 12:04" in note, note
    # The PDF lists it under its own heading.
    before = len(bot.api.calls_of("sendDocument"))
    await bot.say(USER, "/report")
    choice = bot.last_message(USER)
    await bot.press(USER, choice["message_id"], bot.buttons(choice)["Everything"])
    [call] = (await bot.api.wait_for("sendDocument", count=before + 1, timeout=60))[before:]
    reader = PdfReader(io.BytesIO(call.params["document"]["content"]))
    text = re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))
    assert bot.pack.text("report.undone_heading") in text
    assert (
        "Step 1 of 1: 11.01, 10 mg due at 12:00: recorded as taken at 12:02, undone at 12:04"
    ) in text, text


def test_undo_button_fits_telegram() -> None:
    from bot.views.callbacks import DoseMoreButton, SimpleModeButton, UndoButton

    big = 10**18 - 1
    for button in (UndoButton(big, big), DoseMoreButton(big), SimpleModeButton("off")):
        assert len(button.pack().encode()) <= 64
        assert type(button).unpack(button.pack()) == button
    assert UndoButton.unpack("undo:1") is None
    assert SimpleModeButton.unpack("simple:maybe") is None
