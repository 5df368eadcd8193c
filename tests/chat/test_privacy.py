"""Data rights through the Bot API stand-in: /mydata, /deleteme, retention, owner-only files."""

from __future__ import annotations

import csv
import io
import logging
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.config import ConfigError, load_settings
from bot.domain.plans import parse_custom_command
from bot.domain.schedule import slots_between
from bot.emulator.api import TEST_TOKEN
from bot.services.retention import JOB_NAME
from bot.storage.db import Database
from bot.storage.doses import DoseStore, Status
from bot.storage.privacy import PrivacyStore
from bot.storage.users import UserStore
from tests.conftest import RunningBot
from tests.privacy_helpers import (
    eventually,
    integrity,
    json_document,
    press_as,
    row_counts,
    sent_documents,
    stored,
)
from tests.reminder_helpers import advance_until_messages, save_plan, tap

USER = 5005
OTHER = 5006
NOTHING = {"users": 0, "plans": 0, "dose_events": 0}


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 1, day, hour, minute, tzinfo=UTC)


async def _user_with_a_taken_dose(bot: RunningBot, user: int) -> dict[str, Any]:
    """Onboarded (UTC, UK), a 10:00 and 18:00 plan, and the 10:00 dose recorded as taken."""
    await bot.onboard(user, zone="UTC")
    await save_plan(bot, user, "/schedule custom today 10:00,18:00 10x5")
    [reminder] = await advance_until_messages(bot, user, at(11, 10))
    return await tap(bot, user, reminder, "taken")


async def _edited(bot: RunningBot, chat_id: int, message_id: int) -> dict[str, Any]:
    await bot.api.wait_for(
        "editMessageText",
        lambda call: (
            call.params.get("chat_id") == chat_id and call.params.get("message_id") == message_id
        ),
    )
    [message] = [m for m in bot.api.messages_to(chat_id) if m["message_id"] == message_id]
    return message


# ------------------------------------------------------------------ /mydata


async def test_data_commands_are_in_the_menu_and_in_help(bot: RunningBot) -> None:
    await bot.api.wait_for("setMyCommands")
    menu = {command["command"]: command["description"] for command in bot.api.commands_for()}
    assert menu["mydata"] == "A copy of everything I store about you"
    assert menu["deleteme"] == "Erase everything I store about you"
    [help_text] = await bot.say(USER, "/help")
    assert "/mydata: A copy of everything I store about you" in help_text
    assert "/deleteme: Erase everything I store about you" in help_text


def _assert_the_export_header_profile_and_settings(data: dict[str, Any]) -> None:
    assert data["format"] == "baclofen-companion-export/1"
    assert data["exported_at"] == "2026-01-11T10:00:00Z"
    assert data["profile"] == {
        "user_id": USER,
        "timezone": "UTC",
        "region": "uk",
        "language": "en",
        "consented_at": "2026-01-11T09:00:00Z",
        "created_at": "2026-01-11T09:00:00Z",
        "unreachable_at": None,
        "calendar_key": None,  # made on the first /calendar only
    }
    assert data["settings"] == {
        "announcements": 1,
        "reminders_paused": 0,
        "tablet_mg": "10",
        "tablet_scored": 1,
        "caregiver_delay_minutes": 60,
        "simple_mode": 0,
        "reminder_repeat_minutes": 0,  # once, with one follow-up
        # Issue 21: pump mode, off.
        "pump_mode": 0,
        "pump_refill_on": None,
        "pump_alarm_on": None,
        "pump_clinic_phone": None,
    }


async def test_mydata_sends_everything_as_json_and_the_dose_log_as_csv(bot: RunningBot) -> None:
    await _user_with_a_taken_dose(bot, USER)
    await bot.say(USER, "/tablets 10 scored")
    await bot.onboard(OTHER, zone="UTC")
    await save_plan(bot, OTHER, "/schedule custom today 11:00 5x3")

    bot.api.send_text(USER, "/mydata")
    await bot.api.wait_for("sendDocument", lambda call: call.params.get("chat_id") == USER, count=2)
    documents = sent_documents(bot, USER)
    assert set(documents) == {"my-baclofen-data-2026-01-11.json", "my-dose-log-2026-01-11.csv"}

    data = json_document(bot, USER)
    _assert_the_export_header_profile_and_settings(data)
    [plan] = data["plans"]
    assert (plan["kind"], plan["times"], plan["steps"]) == (
        "custom",
        "10:00,18:00",
        "10:00=10 18:00=10 x5",
    )
    history = data["dose_history"]
    assert {event["user_id"] for event in history} == {USER}  # nothing of the other user
    taken = history[0]
    assert (taken["due_at"], taken["status"], taken["mg"]) == (
        "2026-01-11T10:00:00Z",
        "taken",
        "10",
    )
    assert taken["answered_at"] == "2026-01-11T10:00:00Z"

    rows = list(csv.DictReader(io.StringIO(documents["my-dose-log-2026-01-11.csv"].decode())))
    assert len(rows) == len(history)
    assert rows[0]["due_at"] == "2026-01-11T10:00:00Z"
    assert (rows[0]["local_time"], rows[0]["mg"], rows[0]["status"]) == ("10:00", "10", "taken")
    assert rows[1]["status"] == "scheduled"
    captions = [message["text"] for message in bot.api.messages_to(USER)[-2:]]
    assert bot.pack.text("privacy.export_document") in captions[0]
    assert "dose log" in captions[1]


async def test_mydata_without_a_profile_says_nothing_is_stored(bot: RunningBot) -> None:
    [reply] = await bot.say(USER, "/mydata")
    assert bot.pack.text("privacy.nothing_stored") in reply
    assert bot.api.calls_of("sendDocument") == []


# ------------------------------------------------------------------ /deleteme


async def test_deleteme_erases_everything_and_stops_reminders(bot: RunningBot) -> None:
    reminder = await _user_with_a_taken_dose(bot, USER)
    [evening] = await bot.services.doses.events_between(USER, at(11, 18), at(11, 18, 1))
    await bot.onboard(OTHER, zone="UTC")
    await save_plan(bot, OTHER, "/schedule custom today 18:00 5x3")
    other_before = await stored(bot, OTHER)

    [confirm] = await bot.say(USER, "/deleteme")
    assert bot.pack.text("privacy.erase_confirm") in confirm
    assert "never stop it suddenly" in confirm
    offer = bot.last_message(USER)
    await bot.press(USER, offer["message_id"], bot.buttons(offer)["Yes, erase everything"])
    erased = await _edited(bot, USER, offer["message_id"])
    assert bot.pack.text("privacy.erased") in erased["text"]
    assert erased["reply_markup"] is None

    assert await row_counts(bot, USER) == NOTHING
    assert await stored(bot, OTHER) == other_before
    assert await integrity(bot) == "ok"

    # 18:00: the other user is reminded as before; the erased one hears nothing.
    sent_to_user = bot.sent_count(USER)
    await advance_until_messages(bot, OTHER, at(11, 18))
    assert bot.sent_count(USER) == sent_to_user

    # An old reminder button reads and changes nothing.
    data = f"dose:{evening.event_id}:taken"
    answer = await press_as(bot, USER, USER, reminder["message_id"], data)
    assert answer == bot.pack.text("errors.stale_button")
    assert await row_counts(bot, USER) == NOTHING

    # A later /start begins from nothing.
    [welcome] = await bot.say(USER, "/start")
    assert bot.pack.text("onboarding.welcome") in welcome
    [plan] = await bot.say(USER, "/plan")
    assert "please send /start" in plan.lower()


async def test_deleteme_without_a_profile_says_nothing_is_stored(bot: RunningBot) -> None:
    [reply] = await bot.say(USER, "/deleteme")
    assert bot.pack.text("privacy.nothing_stored") in reply
    assert bot.buttons(bot.last_message(USER)) == {}


async def test_erase_button_is_bound_to_its_user_offer_and_time(bot: RunningBot) -> None:
    await bot.onboard(USER)
    await bot.onboard(OTHER)
    stale = "This button is no longer active."

    await bot.say(USER, "/deleteme")
    offer = bot.last_message(USER)
    yes, no = (bot.buttons(offer)[label] for label in ("Yes, erase everything", "Cancel"))
    # Someone else pressing it (a forwarded message, a forged update) erases nothing.
    assert await press_as(bot, OTHER, USER, offer["message_id"], yes) == stale
    assert await press_as(bot, OTHER, OTHER, offer["message_id"], yes) == stale
    # A forged nonce, or the right one on another message, erases nothing.
    forged = "erase:yes:" + "0" * 16
    assert await press_as(bot, USER, USER, offer["message_id"], forged) == stale
    await bot.say(USER, "/help")
    assert await press_as(bot, USER, USER, bot.last_message(USER)["message_id"], yes) == stale
    # The owner cancels; a replay of the same offer does nothing.
    assert await press_as(bot, USER, USER, offer["message_id"], no) == ""
    assert (
        bot.pack.text("privacy.erase_cancelled")
        in (await _edited(bot, USER, offer["message_id"]))["text"]
    )
    assert await press_as(bot, USER, USER, offer["message_id"], yes) == stale

    # An offer expires after a few minutes.
    await bot.say(USER, "/deleteme")
    late = bot.last_message(USER)
    bot.clock.advance(timedelta(minutes=6))
    await press_as(bot, USER, USER, late["message_id"], bot.buttons(late)["Yes, erase everything"])
    assert "expired" in (await _edited(bot, USER, late["message_id"]))["text"]

    for user in (USER, OTHER):
        assert (await row_counts(bot, user))["users"] == 1


async def test_erasing_while_a_reminder_is_in_flight_leaves_nothing_behind(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    """The dispatcher has claimed the dose and is sending it when the user is erased: its
    bookkeeping afterwards must not bring a row back (or touch anyone else's)."""
    await bot.onboard(USER, zone="UTC")
    await save_plan(bot, USER, "/schedule custom today 10:00,18:00 10x5")
    [dose] = await bot.services.doses.events_between(USER, at(11, 10), at(11, 10, 1))
    bot.api.answer_delay["sendMessage"] = 0.3  # Telegram has it; the bot has not heard back

    async def in_flight() -> bool:
        current = await bot.services.doses.get_event(dose.event_id, USER)
        return current is not None and current.status is Status.SENDING

    bot.clock.set(at(11, 10))
    await eventually(in_flight)
    assert await bot.services.privacy.erase(USER)
    await bot.api.wait_for("sendMessage", lambda call: call.params.get("chat_id") == USER)
    bot.api.answer_delay.clear()
    await bot.services.reminders.run_due()  # the pass that sent it has finished

    assert await row_counts(bot, USER) == NOTHING
    assert await integrity(bot) == "ok"
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


# ------------------------------------------------------------------ erasure in storage


async def test_erasure_extension_point_anonymises_in_the_same_transaction(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "bot.sqlite3")
    try:
        now = at(11, 9)
        for user in (USER, OTHER):
            await UserStore(database).record_consent(user, now)
            plan = parse_custom_command(["today", "10:00", "10x3"], now.date())
            await DoseStore(database).replace_plan(
                user, plan, [], now=now, materialized_until=now, high_dose_confirmed=False
            )
        async with database.transaction() as tx:  # stands in for the admin audit table
            await tx.execute("CREATE TABLE audit_probe (actor_id INTEGER, action TEXT NOT NULL)")
            await tx.execute(
                "INSERT INTO audit_probe VALUES (?, 'broadcast'), (?, 'reload')", (USER, OTHER)
            )
        store = PrivacyStore(
            database, erase_also=("UPDATE audit_probe SET actor_id = NULL WHERE actor_id = ?",)
        )

        assert await store.erase(USER)
        audit = [tuple(row) for row in await database.fetch_all("SELECT * FROM audit_probe")]
        assert audit == [(None, "broadcast"), (OTHER, "reload")]  # the action stays, the id goes
        assert await store.records(USER) is None
        plans = await database.fetch_all("SELECT user_id FROM plans")
        assert [row[0] for row in plans] == [OTHER]

        # One failing statement and nothing at all is erased.
        broken = PrivacyStore(database, erase_also=("UPDATE no_such_table SET x = ?",))
        with pytest.raises(sqlite3.OperationalError):
            await broken.erase(OTHER)
        assert await store.records(OTHER) is not None
        assert not await store.erase(USER)  # no profile left: says so, still runs the extras
    finally:
        await database.close()


async def _database_with_plans(path: Path, *users: int) -> tuple[Database, DoseStore]:
    """Each user consented, with a 10:00 and 18:00 plan materialised for two days."""
    database = await Database.open(path)
    doses = DoseStore(database)
    now = at(11, 9)
    plan = parse_custom_command(["today", "10:00,18:00", "10x5"], now.date())
    for user in users:
        await UserStore(database).record_consent(user, now)
        slots = slots_between(plan, ZoneInfo("UTC"), now, now + timedelta(days=2))
        await doses.replace_plan(
            user, plan, slots, now=now, materialized_until=now, high_dose_confirmed=False
        )
    return database, doses


async def test_a_plan_read_before_its_erasure_or_replacement_grows_no_doses(
    tmp_path: Path,
) -> None:
    database, doses = await _database_with_plans(tmp_path / "bot.sqlite3", USER, OTHER)
    try:
        # The dispatcher read both plans to extend them ...
        stale = await doses.plans_to_extend(at(20, 0), 10)
        assert {plan.user_id for plan in stale} == {USER, OTHER}
        # ... then one user was erased and the other saved a new plan.
        await PrivacyStore(database).erase(USER)
        new_plan = parse_custom_command(["today", "08:00", "5x3"], at(11, 9).date())
        await doses.replace_plan(
            OTHER,
            new_plan,
            [],
            now=at(11, 9),
            materialized_until=at(11, 9),
            high_dose_confirmed=False,
        )
        before = await database.fetch_all("SELECT * FROM dose_events ORDER BY event_id")
        for plan in stale:
            slots = slots_between(plan.plan, ZoneInfo("UTC"), at(13, 9), at(15, 9))
            await doses.extend_plan(plan, slots, at(15, 9))
            await doses.regenerate(plan, slots, now=at(11, 9), materialized_until=at(15, 9))
        after = await database.fetch_all("SELECT * FROM dose_events ORDER BY event_id")
        assert [tuple(row) for row in after] == [tuple(row) for row in before]
    finally:
        await database.close()


async def test_bookkeeping_of_an_erased_claim_never_touches_a_reused_row(tmp_path: Path) -> None:
    """SQLite may hand an erased row's id to a new row: a late update for the old claim must
    not land on it."""
    database, doses = await _database_with_plans(tmp_path / "bot.sqlite3", OTHER, USER)
    try:
        claimed = [due.event for due in await doses.claim_due(at(12, 18), 10)]
        erased_ids = [event.event_id for event in claimed if event.user_id == USER]
        await PrivacyStore(database).erase(USER)
        plan = parse_custom_command(["today", "09:00,21:00", "5x9"], at(11, 9).date())
        slots = slots_between(plan, ZoneInfo("UTC"), at(13, 0), at(15, 0))
        await doses.replace_plan(
            OTHER,
            plan,
            slots,
            now=at(11, 9),
            materialized_until=at(15, 0),
            high_dose_confirmed=False,
        )
        reused = await database.fetch_all(
            f"SELECT * FROM dose_events WHERE event_id IN ({','.join('?' * len(erased_ids))})",  # noqa: S608
            erased_ids,
        )
        assert reused  # the ids are in use again, by the other user
        for event_id in erased_ids:
            await doses.release_claim(event_id, at(12, 19), outcome_unknown=True)
            await doses.record_missed_notice(event_id, 77, at(12, 19))
            await doses.record_follow_up_sent(event_id, 78, at(12, 19))
            await doses.record_follow_up_dropped(event_id, at(12, 19))
            await doses.record_reminder_sent(event_id, 79, at(12, 19), None)
        again = await database.fetch_all(
            f"SELECT * FROM dose_events WHERE event_id IN ({','.join('?' * len(erased_ids))})",  # noqa: S608
            erased_ids,
        )
        assert [tuple(row) for row in again] == [tuple(row) for row in reused]
    finally:
        await database.close()


async def test_export_extension_point_adds_a_section(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "bot.sqlite3")
    try:
        await UserStore(database).record_consent(USER, at(11, 9))
        async with database.transaction() as tx:
            await tx.execute("CREATE TABLE outbox_probe (user_id INTEGER, state TEXT)")
            await tx.execute(
                "INSERT INTO outbox_probe VALUES (?, 'sent'), (?, 'sent')", (USER, OTHER)
            )
        store = PrivacyStore(
            database,
            export_also=(("broadcasts", "SELECT state FROM outbox_probe WHERE user_id = ?"),),
        )
        records = await store.records(USER)
        assert records is not None
        assert records.other == {"broadcasts": [{"state": "sent"}]}
    finally:
        await database.close()


# ------------------------------------------------------------------ retention


async def test_daily_purge_removes_only_finished_history_older_than_the_setting(
    start_bot: Any,
) -> None:
    bot: RunningBot = await start_bot(DATA_RETENTION_DAYS="7")
    await bot.onboard(USER, zone="UTC")
    await save_plan(bot, USER, "/schedule custom today 10:00 10x30")
    [first] = await advance_until_messages(bot, USER, at(11, 10))
    await tap(bot, USER, first, "taken")
    [second] = await advance_until_messages(bot, USER, at(12, 10))
    await tap(bot, USER, second, "skip")
    assert bot.application.job_queue is not None
    [job] = bot.application.job_queue.get_jobs_by_name(JOB_NAME)
    assert job.job.trigger.interval == timedelta(days=1)

    async def due_days() -> list[int]:
        events = await bot.services.doses.events_between(USER, at(1, 0), at(31, 0))
        return [event.due_at.day for event in events]

    # A week later (the dose in between passed unanswered) the first day drops out. The bot
    # was down for days: the last day before it came back is filled in (and told as missed).
    bot.clock.set(at(19, 9))
    await bot.services.reminders.run_due()
    assert await due_days() == [11, 12, 13, 18, 19, 20]
    await job.run(bot.application)
    assert await due_days() == [12, 13, 18, 19, 20]

    # Much later only what is newer than a week is left; the plan itself stays.
    bot.clock.set(at(29, 9))
    await bot.services.reminders.run_due()
    before = await bot.services.doses.events_between(USER, at(1, 0), at(31, 23))
    cutoff = bot.clock.now() - timedelta(days=7)
    purged = await bot.services.retention.purge()
    after = await bot.services.doses.events_between(USER, at(1, 0), at(31, 23))
    assert after == [event for event in before if event.due_at >= cutoff]
    assert purged.dose_events == len(before) - len(after) == 5
    assert [(event.due_at.day, event.status) for event in after] == [
        (28, Status.MISSED),  # yesterday's dose, told as missed when the bot came back
        (29, Status.SCHEDULED),
        (30, Status.SCHEDULED),
    ]
    assert await bot.services.doses.active_plan(USER) is not None


async def _three_plans(database: Database, now: datetime) -> tuple[int, int, int]:
    """The same plan saved on days 1, 2 and 3: two replaced, the last one active."""
    await UserStore(database).record_consent(USER, at(1, 9))
    doses = DoseStore(database)
    plan = parse_custom_command(["2026-01-01", "10:00", "10x3"], at(1, 9).date())
    replaced, kept_old, active = [
        await doses.replace_plan(
            USER, plan, [], now=at(day, 9), materialized_until=now, high_dose_confirmed=False
        )
        for day in (1, 2, 3)
    ]
    return replaced, kept_old, active


async def _insert_doses(
    database: Database, rows: list[tuple[int, datetime, str, datetime | None, bool]]
) -> None:
    async with database.transaction() as tx:
        for plan_id, due, status, next_action, _ in rows:
            await tx.execute(
                "INSERT INTO dose_events (user_id, plan_id, due_at, local_date, local_time,"
                " mg, step_number, step_count, day_number, is_step_start, is_maintenance,"
                " is_last_step_dose, status, next_action_at)"
                " VALUES (?, ?, ?, ?, '10:00', '10', 1, 1, 1, 0, 0, 0, ?, ?)",
                (
                    USER,
                    plan_id,
                    int(due.timestamp()),
                    due.date().isoformat(),
                    status,
                    int(next_action.timestamp()) if next_action else None,
                ),
            )


async def test_purge_keeps_open_recent_and_future_doses(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "bot.sqlite3")
    now = at(20, 12)
    cutoff = now - timedelta(days=7)
    old, recent, future = (
        cutoff - timedelta(hours=1),
        cutoff + timedelta(hours=1),
        now + timedelta(hours=2),
    )
    try:
        replaced, kept_old, active = await _three_plans(database, now)
        rows: list[tuple[int, datetime, str, datetime | None, bool]] = [
            # (plan, due, status, next action): expected to stay?
            (replaced, old, "taken", None, False),
            (kept_old, old - timedelta(days=1), "sent", None, False),
            (kept_old, old - timedelta(days=2), "sent", now, True),  # follow-up still pending
            (active, old - timedelta(days=3), "sending", None, True),  # being sent right now
            (active, old - timedelta(days=4), "scheduled", now, True),
            (active, old - timedelta(days=5), "snoozed", now, True),
            (active, old - timedelta(days=6), "missed", None, False),
            (active, recent, "skipped", None, True),
            (active, future, "scheduled", future, True),
        ]
        await _insert_doses(database, rows)
        result = await PrivacyStore(database).purge_history(cutoff)
        assert (result.dose_events, result.plans) == (3, 1)
        left = await database.fetch_all("SELECT due_at FROM dose_events ORDER BY due_at")
        expected = sorted(int(due.timestamp()) for _, due, _, _, stays in rows if stays)
        assert [row[0] for row in left] == expected
        plans = await database.fetch_all("SELECT plan_id FROM plans ORDER BY plan_id")
        assert [row[0] for row in plans] == [kept_old, active]  # a plan with history left stays
        integrity_row = await database.fetch_one("PRAGMA integrity_check")
        assert integrity_row is not None
        assert integrity_row[0] == "ok"
    finally:
        await database.close()


@pytest.mark.parametrize("value", ["abc", "6", "3651", "-5", "1.5", "400 days"])
def test_retention_setting_is_validated(value: str) -> None:
    with pytest.raises(ConfigError, match="DATA_RETENTION_DAYS"):
        load_settings(
            environ={"TELEGRAM_BOT_TOKEN": TEST_TOKEN, "DATA_RETENTION_DAYS": value},
            dotenv_path=None,
        )


@pytest.mark.parametrize(("value", "days"), [("", 400), ("7", 7), (" 30 ", 30), ("3650", 3650)])
def test_retention_setting_defaults_to_400_days(value: str, days: int) -> None:
    settings = load_settings(
        environ={"TELEGRAM_BOT_TOKEN": TEST_TOKEN, "DATA_RETENTION_DAYS": value},
        dotenv_path=None,
    )
    assert settings.data_retention_days == days


# ------------------------------------------------------------------ owner-only files


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


async def test_database_folder_and_wal_files_are_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "data" / "bot.sqlite3"
    database = await Database.open(path)
    try:
        await UserStore(database).record_consent(USER, at(11, 9))
        for name in ("bot.sqlite3", "bot.sqlite3-wal", "bot.sqlite3-shm"):
            assert _mode(path.parent / name) == 0o600, name
        assert _mode(path.parent) == 0o700
    finally:
        await database.close()


async def test_loose_database_permissions_are_tightened(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    with closing(sqlite3.connect(path)) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
    path.chmod(0o644)  # e.g. copied in from elsewhere
    database = await Database.open(path)
    try:
        for name in ("bot.sqlite3", "bot.sqlite3-wal", "bot.sqlite3-shm"):
            assert _mode(tmp_path / name) == 0o600, name
    finally:
        await database.close()


async def test_erasure_keeps_audit_entries_without_the_person(bot: RunningBot) -> None:
    await bot.onboard(USER, zone="UTC")
    [refused] = await bot.say(USER, "/broadcast hello everyone")
    assert bot.pack.text("admin.refused") in refused
    audit = "SELECT actor_id, action, outcome FROM admin_audit ORDER BY audit_id"
    [(actor, action, outcome)] = [tuple(row) for row in await bot.services.db.fetch_all(audit)]
    assert actor == USER
    await bot.say(USER, "/deleteme")
    offer = bot.last_message(USER)
    await bot.press(USER, offer["message_id"], bot.buttons(offer)["Yes, erase everything"])
    await _edited(bot, USER, offer["message_id"])
    rows = [tuple(row) for row in await bot.services.db.fetch_all(audit)]
    assert rows == [(None, action, outcome)]
    assert await row_counts(bot, USER) == NOTHING
