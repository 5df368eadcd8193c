"""The life of a dose row, one transition per line: the table of docs/architecture.md,
driven through DoseStore on a real SQLite file."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.domain.plans import Plan, Step
from bot.domain.schedule import slots_between
from bot.storage.db import Database
from bot.storage.doses import DoseStore, Status
from bot.storage.users import UserStore

USER = 42
NOW = datetime(2026, 1, 11, 12, 0, tzinfo=UTC)
DUE = NOW  # the row under test is due at NOW; a second row is due a day later
PLAN = Plan("custom", NOW.date(), (Step.same_at([time(12)], Decimal(10), 10),), False)

Step_ = Callable[[DoseStore, int], Awaitable[None]]


async def claim(doses: DoseStore, _: int) -> None:
    await doses.claim_due(NOW, 10)


async def claim_after_snooze(doses: DoseStore, _: int) -> None:
    await doses.claim_due(NOW + timedelta(minutes=16), 10)


async def leave(doses: DoseStore, event_id: int) -> None:
    await doses.mark_in_flight(event_id, NOW)


async def sent(doses: DoseStore, event_id: int) -> None:
    await doses.record_reminder_sent(event_id, 7, NOW, NOW + timedelta(minutes=30))


async def failed(doses: DoseStore, event_id: int) -> None:
    await doses.release_claim(event_id, NOW + timedelta(seconds=15), outcome_unknown=True)


async def missed_notice(doses: DoseStore, event_id: int) -> None:
    await doses.record_missed_notice(event_id, 8, NOW)


async def crash(doses: DoseStore, _: int) -> None:
    await doses.recover_claims(NOW)


def answered(status: Status) -> Step_:
    async def step(doses: DoseStore, event_id: int) -> None:
        snooze = NOW + timedelta(minutes=15) if status is Status.SNOOZED else None
        await doses.answer(event_id, USER, status, NOW, snooze_until=snooze)

    return step


async def _undo(doses: DoseStore, event_id: int, at: datetime) -> None:
    [answer_id] = await doses._db.fetch_one(  # type: ignore[misc]
        "SELECT MAX(answer_id) FROM dose_answers WHERE event_id = ?", (event_id,)
    )
    await doses.undo_answer(answer_id, event_id, USER, at, since=at - timedelta(minutes=5))


async def undone(doses: DoseStore, event_id: int) -> None:
    await _undo(doses, event_id, NOW + timedelta(minutes=4))


async def undone_too_late(doses: DoseStore, event_id: int) -> None:
    await _undo(doses, event_id, NOW + timedelta(minutes=6))


async def pause(doses: DoseStore, _: int) -> None:
    await doses.set_paused(USER, True, NOW - timedelta(minutes=1))


async def unreachable(doses: DoseStore, _: int) -> None:
    await doses.mark_unreachable(USER, NOW - timedelta(minutes=1))


async def replaced(doses: DoseStore, _: int) -> None:
    await doses.replace_plan(
        USER,
        PLAN,
        [],
        now=NOW - timedelta(minutes=1),
        materialized_until=NOW,
        high_dose_confirmed=False,
    )


# (the steps that lead there, the transition, the status after it, what else must hold)
LIFE: list[tuple[str, list[Step_], Status]] = [
    ("due: claimed before sending", [claim], Status.SENDING),
    ("Telegram took the reminder", [claim, leave, sent], Status.SENT),
    ("the send failed: back to its time", [claim, leave, failed], Status.SCHEDULED),
    ("late, the rule says skip", [claim, missed_notice], Status.MISSED),
    ("crash after it left: sent again", [claim, leave, crash], Status.SCHEDULED),
    ("crash before it left: sent again", [claim, crash], Status.SCHEDULED),
    ("Taken", [claim, leave, sent, answered(Status.TAKEN)], Status.TAKEN),
    ("Skip", [claim, leave, sent, answered(Status.SKIPPED)], Status.SKIPPED),
    ("Snooze", [claim, leave, sent, answered(Status.SNOOZED)], Status.SNOOZED),
    (
        "a snoozed one comes round again",
        [claim, leave, sent, answered(Status.SNOOZED)],
        Status.SNOOZED,
    ),
    ("paused: still a planned dose", [pause], Status.PAUSED),
    ("paused, then Taken from /missed", [pause, answered(Status.TAKEN)], Status.TAKEN),
    (
        "a missed one recorded from /missed",
        [claim, missed_notice, answered(Status.SKIPPED)],
        Status.SKIPPED,
    ),
    (
        "Taken undone: open, follow-up as before",
        [claim, leave, sent, answered(Status.TAKEN), undone],
        Status.SENT,
    ),
    ("Skip undone", [claim, leave, sent, answered(Status.SKIPPED), undone], Status.SENT),
    (
        "Taken undone too late",
        [claim, leave, sent, answered(Status.TAKEN), undone_too_late],
        Status.TAKEN,
    ),
    (
        "/missed Skip undone: missed again",
        [claim, missed_notice, answered(Status.SKIPPED), undone],
        Status.MISSED,
    ),
    (
        "Taken during its send, undone: due again",
        [claim, leave, answered(Status.TAKEN), undone],
        Status.SCHEDULED,
    ),
    ("the user blocked the bot", [unreachable], Status.CANCELLED),
    ("the plan was replaced", [replaced], Status.CANCELLED),
]


@pytest.mark.parametrize(("what", "steps", "expected"), LIFE, ids=[row[0] for row in LIFE])
async def test_the_life_of_a_dose_row(
    tmp_path: Path, what: str, steps: list[Step_], expected: Status
) -> None:
    database = await Database.open(tmp_path / "bot.sqlite3")
    try:
        users = UserStore(database)
        await users.record_consent(USER, NOW - timedelta(days=1))
        await users.set_timezone(USER, "UTC")
        doses = DoseStore(database)
        slots = slots_between(PLAN, ZoneInfo("UTC"), DUE, DUE + timedelta(days=2))
        await doses.replace_plan(
            USER,
            PLAN,
            slots,
            now=DUE - timedelta(hours=1),
            materialized_until=DUE + timedelta(days=2),
            high_dose_confirmed=False,
        )
        [row, *_] = await doses.events_between(USER, DUE, DUE + timedelta(seconds=1))
        for step in steps:
            await step(doses, row.event_id)
        after = await doses.get_event(row.event_id, USER)
        assert after is not None
        assert after.status is expected, what
        # Whatever happened, a row no longer claimed has no claim left behind.
        if expected is not Status.SENDING:
            assert after.claimed_at is None
        if steps[-1] is undone:
            assert after.answered_at is None  # no answer recorded any more
            if expected is Status.SENT:
                assert after.next_action_at == NOW + timedelta(minutes=30)  # the follow-up
            if expected is Status.SCHEDULED:
                assert after.claimed_at is None and after.resend_as_repeat
                assert after.next_action_at == NOW + timedelta(minutes=4)
    finally:
        await database.close()


def test_every_status_has_a_line_in_the_architecture_page() -> None:
    page = (Path(__file__).parents[2] / "docs" / "architecture.md").read_text()
    for status in Status:
        assert f"`{status.value}`" in page, status
