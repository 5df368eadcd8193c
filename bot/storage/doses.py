"""Plans and dose events: the database is the source of truth for what is due.

A dose event is a row with a UTC instant and a status. ``next_action_at`` says when the
dispatcher must next act on it (first reminder, snoozed reminder, or follow-up) and is NULL
once there is nothing left to do; the due scan reads only the partial index on it.

Claim-before-send: a row is claimed (``claimed_at`` set, ``next_action_at`` cleared) and
committed before its message goes out. A claim still present at start means the process died
with the outcome unknown, so the reminder is sent again, marked as a repeat.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache

from bot.domain.plans import Plan, PlanKind, Step, format_mg, format_steps, parse_dose_steps
from bot.domain.schedule import DoseSlot
from bot.storage import caregivers as caregiver_alerts
from bot.storage.db import Database, Row, Store, Transaction, placeholders
from bot.storage.group import GroupCommit
from bot.storage.rows import from_unix as from_unix  # re-exported: other layers read it here
from bot.storage.rows import from_unix_or_none, record, to_unix, unix_or_none


class Status(StrEnum):
    SCHEDULED = "scheduled"  # waiting for its time
    SENDING = "sending"  # claimed: the reminder is being sent
    SENT = "sent"  # delivered, no answer yet
    SNOOZED = "snoozed"  # the user asked to be reminded again later
    PAUSED = "paused"  # due while reminders are paused: a planned dose, but not reminded
    TAKEN = "taken"
    SKIPPED = "skipped"
    MISSED = "missed"  # too late to take: the user was told to skip it
    CANCELLED = "cancelled"  # plan changed or the user unreachable: no longer planned


class Action(StrEnum):
    REMINDER = "reminder"
    FOLLOW_UP = "follow_up"


OPEN_STATUSES = (Status.SCHEDULED, Status.SNOOZED)
# A dose that has fallen due and has no answer yet can be answered: from its reminder, or
# from /missed (which may offer a dose that was paused, missed or never reminded).
ANSWERABLE_STATUSES = (
    Status.SENT,
    Status.SNOOZED,
    Status.SENDING,
    Status.SCHEDULED,
    Status.PAUSED,
    Status.MISSED,
)
# Planned doses not reminded yet (a plan change cancels these from now on).
_FUTURE_STATUSES = (Status.SCHEDULED, Status.SNOOZED, Status.PAUSED)
# What the due scan reads: reminders to send, and sent ones waiting for their follow-up.
_DUE_STATUSES = (Status.SCHEDULED, Status.SNOOZED, Status.SENT)
_CLAIMED_STATUSES = (Status.SENDING, Status.SENT)


def sql_list(statuses: Iterable[Status]) -> str:
    """``'a', 'b'`` for an SQL ``IN (...)``: status lists come from the enum, never typed."""
    return ", ".join(f"'{status.value}'" for status in statuses)


# Each status as an SQL literal, typed once (in the enum).
_SCHEDULED = sql_list([Status.SCHEDULED])
_SENDING = sql_list([Status.SENDING])
_SENT = sql_list([Status.SENT])
_SNOOZED = sql_list([Status.SNOOZED])
_PAUSED = sql_list([Status.PAUSED])
_TAKEN = sql_list([Status.TAKEN])
_SKIPPED = sql_list([Status.SKIPPED])
_MISSED = sql_list([Status.MISSED])
_CANCELLED = sql_list([Status.CANCELLED])


@dataclass(frozen=True)
class StoredPlan:
    plan_id: int
    user_id: int
    plan: Plan
    high_dose_confirmed_at: datetime | None
    created_at: datetime
    materialized_until: datetime  # dose rows exist up to this instant


@dataclass(frozen=True)
class WaitingPlan:
    """A plan saved to start on a later day, waiting for it."""

    user_id: int
    plan: Plan
    high_dose_confirmed: bool
    created_at: datetime


def _stored_plan(row: Row) -> Plan:
    """The plan of a ``plans`` or ``pending_plans`` row."""
    return Plan(
        kind=row["kind"],
        start=date.fromisoformat(row["start_date"]),
        steps=plan_steps(row["steps"]),
        ends_after_last_step=bool(row["ends_after_last_step"]),
    )


def _waiting(row: Row) -> WaitingPlan:
    return record(WaitingPlan, row, plan=_stored_plan(row))


@dataclass(frozen=True)
class DoseEvent:
    event_id: int
    user_id: int
    plan_id: int
    due_at: datetime
    local_date: date
    local_time: time
    mg: Decimal
    step_number: int
    step_count: int
    day_number: int
    is_step_start: bool
    is_maintenance: bool
    is_last_step_dose: bool
    status: Status
    next_action_at: datetime | None
    claimed_at: datetime | None
    resend_as_repeat: bool
    attempts: int
    sent_at: datetime | None
    message_id: int | None
    followup_message_id: int | None
    answered_at: datetime | None
    # Set on the row :meth:`DoseStore.answer` returns for a Taken or Skip: its audit row, the
    # one an Undo names (``dose_answers``).
    answer_id: int | None = None
    repeat_message_id: int | None = None  # the latest repeat: the dose's one live reminder
    repeats_sent: int = 0

    @property
    def live_message_id(self) -> int | None:
        """The message that carries the dose's buttons now: the latest repeat, else the
        reminder (a follow-up of "once" is a second message beside it, not a repeat)."""
        return self.repeat_message_id or self.message_id

    @property
    def action(self) -> Action:
        return Action.FOLLOW_UP if self.status is Status.SENT else Action.REMINDER


@dataclass(frozen=True)
class DueEvent:
    """A claimed event with what the dispatcher needs to word its message."""

    event: DoseEvent
    action: Action
    plan_kind: PlanKind
    plan_ends: bool
    timezone: str | None
    region: str | None
    tablet_mg: Decimal | None
    tablet_scored: bool
    steps: tuple[Step, ...]  # the plan's steps, for step-change notices and check-ins
    has_caregivers: bool = False  # the patient has a caregiver linked (alerts to plan)
    plan_active: bool = True  # its plan has not been replaced
    last_intake_at: datetime | None = None  # the patient's latest recorded Taken (2 days)
    next_due_at: datetime | None = None  # the patient's next dose row after this one
    simple: bool = False  # the patient chose simple mode: short words, one large button
    repeat_minutes: int = 0  # the patient's choice: 0 once (one follow-up), else the interval
    # Read with the claim, so that a burst's reminders need no reads of their own: reminders
    # given up unsent, not yet told (a count), and the patient's latest planned doses due by
    # this one, newest first (DoseStore.recent_doses's rows, as many as the claim asked for).
    undelivered: int = 0
    recent: tuple[DoseEvent, ...] = ()


def _event(row: Row) -> DoseEvent:
    return record(DoseEvent, row)


def _due(row: Row, recent: Sequence[DoseEvent] = ()) -> DueEvent:
    """A row of :data:`DUE_SCAN_SQL`: the event with its plan's and its patient's columns."""
    event = _event(row)
    return record(
        DueEvent,
        row,
        event=event,
        action=event.action,
        steps=plan_steps(row["plan_steps"]),
        simple=bool(row["simple_mode"]),
        recent=tuple(recent),
    )


@lru_cache(maxsize=4096)
def plan_steps(text: str) -> tuple[Step, ...]:
    """The steps column, parsed once per distinct text: a burst reads the same few plans."""
    return parse_dose_steps(text)


def _plan(row: Row) -> StoredPlan:
    return record(StoredPlan, row, plan=_stored_plan(row))


def _slot_row(user_id: int, plan_id: int, slot: DoseSlot) -> tuple[object, ...]:
    due = to_unix(slot.due_utc)
    return (
        user_id,
        plan_id,
        due,
        slot.local_date.isoformat(),
        slot.local_time.strftime("%H:%M"),
        format_mg(slot.mg),
        slot.step_number,
        slot.step_count,
        slot.day_number,
        int(slot.is_step_start),
        int(slot.is_maintenance),
        int(slot.is_last_step_dose),
        due,
        user_id,
    )


# A new row is 'scheduled' with its reminder due, or 'paused' with none if the user has paused
# reminders. Read in the same statement, so a /pause racing a plan change cannot slip through.
_INSERT_EVENT = (
    "INSERT OR IGNORE INTO dose_events (user_id, plan_id, due_at, local_date, local_time, mg,"  # noqa: S608
    " step_number, step_count, day_number, is_step_start, is_maintenance, is_last_step_dose,"
    " status, next_action_at)"
    " SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
    f" CASE WHEN users.reminders_paused THEN {_PAUSED} ELSE {_SCHEDULED} END,"
    " CASE WHEN users.reminders_paused THEN NULL ELSE ? END"
    " FROM users WHERE users.user_id = ?"
)


# A dose time of a new plan that passed before the plan was saved: known, never reminded.
_INSERT_UNREMINDED = (
    "INSERT OR IGNORE INTO dose_events (user_id, plan_id, due_at, local_date, local_time, mg,"  # noqa: S608
    " step_number, step_count, day_number, is_step_start, is_maintenance, is_last_step_dose,"
    f" status, next_action_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, {_PAUSED}, NULL)"
)


async def _insert_slots(
    tx: Transaction, user_id: int, plan_id: int, slots: Iterable[DoseSlot]
) -> None:
    await tx.executemany(_INSERT_EVENT, (_slot_row(user_id, plan_id, slot) for slot in slots))


async def _cancel_future(tx: Transaction, user_id: int, now: datetime) -> None:
    """Cancel the user's doses not reminded yet (history stays as it is)."""
    await tx.execute(
        f"UPDATE dose_events SET status = {_CANCELLED}, next_action_at = NULL"  # noqa: S608
        f" WHERE user_id = ? AND status IN ({sql_list(_FUTURE_STATUSES)}) AND due_at >= ?",
        (user_id, to_unix(now)),
    )


# The due scan: a range read of the partial index on next_action_at, then primary-key joins.
DUE_SCAN_SQL = (
    "SELECT dose_events.*, plans.kind AS plan_kind,"  # noqa: S608 - statuses from the enum
    " plans.ends_after_last_step AS plan_ends, plans.steps AS plan_steps,"
    " users.timezone, users.region, users.tablet_mg, users.tablet_scored, users.simple_mode,"
    " users.reminder_repeat_minutes AS repeat_minutes,"
    " EXISTS (SELECT 1 FROM caregivers WHERE caregivers.patient_id = dose_events.user_id)"
    " AS has_caregivers,"
    " plans.superseded_at IS NULL AS plan_active,"
    # For the dose-safety check's quick path: the latest intake and the next dose row.
    " (SELECT MAX(i.answered_at) FROM dose_events i WHERE i.user_id = dose_events.user_id"
    f"  AND i.status = {_TAKEN} AND i.due_at > dose_events.due_at - 172800) AS last_intake_at,"
    " (SELECT MIN(n.due_at) FROM dose_events n WHERE n.user_id = dose_events.user_id"
    f"  AND n.due_at > dose_events.due_at AND n.status != {_CANCELLED}) AS next_due_at,"
    " (SELECT COUNT(*) FROM dose_events u WHERE u.user_id = dose_events.user_id"
    "  AND u.undelivered_at IS NOT NULL) AS undelivered"
    " FROM dose_events JOIN plans USING (plan_id)"
    " JOIN users ON users.user_id = dose_events.user_id"
    " WHERE dose_events.next_action_at IS NOT NULL AND dose_events.next_action_at <= ?"
    f" AND dose_events.status IN ({sql_list(_DUE_STATUSES)})"
    " ORDER BY dose_events.next_action_at LIMIT ?"
)

# The latest planned doses due by each claimed row (``recent_doses`` for many rows at once).
_RECENT_FOR_CLAIMED = (
    "SELECT * FROM (SELECT h.*, c.event_id AS for_event,"  # noqa: S608
    "  ROW_NUMBER() OVER (PARTITION BY c.event_id ORDER BY h.due_at DESC) AS place"
    "  FROM dose_events c JOIN dose_events h ON h.user_id = c.user_id AND h.due_at <= c.due_at"
    f"  AND h.status != {_CANCELLED} WHERE c.event_id IN ({{ids}}))"
    " WHERE place <= ? ORDER BY for_event, place"
)

# A reminder due is claimed ``sending``; a follow-up due stays ``sent`` (its claim is the mark).
_CLAIM_SQL = (
    "UPDATE dose_events SET claimed_at = ?, next_action_at = NULL, in_flight_at = NULL,"  # noqa: S608
    f" status = CASE WHEN status IN ({sql_list(OPEN_STATUSES)}) THEN {_SENDING}"
    " ELSE status END WHERE event_id IN"
)


async def _still_active(tx: Transaction, stored: StoredPlan) -> bool:
    """The plan was read before this transaction: it may since have been replaced, or erased
    with its user (/deleteme). Its doses must then not come back."""
    row = await tx.fetch_one(
        "SELECT 1 FROM plans WHERE plan_id = ? AND superseded_at IS NULL", (stored.plan_id,)
    )
    return row is not None


# A reminder got through (see DoseStore.record_reminder_sent).
_REMINDER_SENT = (
    f"UPDATE dose_events SET status = {_SENT}, message_id = ?, sent_at = ?,"  # noqa: S608
    " claimed_at = NULL, resend_as_repeat = 0, attempts = attempts + 1,"
    " repeat_message_id = NULL,"
    # One follow-up per dose, even when the user snoozed after an earlier one. (A run of
    # repeats leaves followup_sent_at unset: a snoozed dose repeats again.)
    " next_action_at = CASE WHEN followup_sent_at IS NULL THEN ? END"
    f" WHERE event_id = ? AND status = {_SENDING}"
)


class DoseStore(Store):
    def __init__(self, db: Database) -> None:
        super().__init__(db)
        # A burst's marks and its plain "sent" records, each group one write (bot.storage.group).
        self._in_flight = GroupCommit(self._mark_many_in_flight)
        self._sent = GroupCommit(self._record_many_sent)

    # ----------------------------------------------------------------- plans

    async def replace_plan(
        self,
        user_id: int,
        plan: Plan,
        slots: Sequence[DoseSlot],
        *,
        now: datetime,
        materialized_until: datetime,
        high_dose_confirmed: bool,
        unreminded: Sequence[DoseSlot] = (),
        cancel_from: datetime | None = None,
    ) -> int:
        """Make ``plan`` the active one: old plan kept as history, its doses not reminded yet
        from ``cancel_from`` (default ``now``) cancelled, a plan waiting to start dropped.

        ``unreminded`` are the new plan's dose times that passed before it was saved: kept as
        rows without a reminder (``paused``), so the missed-dose rule knows them.
        """
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE plans SET superseded_at = ? WHERE user_id = ? AND superseded_at IS NULL",
                (to_unix(now), user_id),
            )
            await _cancel_future(tx, user_id, cancel_from or now)
            await tx.execute("DELETE FROM pending_plans WHERE user_id = ?", (user_id,))
            plan_id = await tx.insert(
                "INSERT INTO plans (user_id, kind, start_date, times, steps,"
                " ends_after_last_step, high_dose_confirmed_at, materialized_until, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    user_id,
                    plan.kind,
                    plan.start.isoformat(),
                    # Every dose time the plan uses (for reading by eye); the steps say which.
                    ",".join(at.strftime("%H:%M") for at in plan.all_times()),
                    format_steps(plan.steps),
                    int(plan.ends_after_last_step),
                    to_unix(now) if high_dose_confirmed else None,
                    to_unix(materialized_until),
                    to_unix(now),
                ),
            )
            await _insert_slots(tx, user_id, plan_id, slots)
            await tx.executemany(
                _INSERT_UNREMINDED, (_slot_row(user_id, plan_id, slot)[:-2] for slot in unreminded)
            )
        return plan_id

    async def save_waiting(
        self, user_id: int, plan: Plan, *, high_dose_confirmed: bool, now: datetime
    ) -> None:
        """Keep ``plan`` to start on its first day; the current plan goes on until then."""
        await self._db.execute(
            "INSERT OR REPLACE INTO pending_plans (user_id, kind, start_date, steps,"
            " ends_after_last_step, high_dose_confirmed, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                user_id,
                plan.kind,
                plan.start.isoformat(),
                format_steps(plan.steps),
                int(plan.ends_after_last_step),
                int(high_dose_confirmed),
                to_unix(now),
            ),
        )

    async def waiting_plan(self, user_id: int) -> WaitingPlan | None:
        row = await self._db.fetch_one("SELECT * FROM pending_plans WHERE user_id = ?", (user_id,))
        return _waiting(row) if row else None

    async def waiting_to_start(self, day: date) -> list[WaitingPlan]:
        """Plans waiting to start on or before ``day`` (a UTC date; the caller checks each
        one against its patient's own date)."""
        rows = await self._db.fetch_all(
            "SELECT * FROM pending_plans WHERE start_date <= ? ORDER BY start_date",
            (day.isoformat(),),
        )
        return [_waiting(row) for row in rows]

    async def drop_waiting(self, user_id: int) -> None:
        await self._db.execute("DELETE FROM pending_plans WHERE user_id = ?", (user_id,))

    async def active_plan(self, user_id: int) -> StoredPlan | None:
        row = await self._db.fetch_one(
            "SELECT * FROM plans WHERE user_id = ? AND superseded_at IS NULL", (user_id,)
        )
        return _plan(row) if row else None

    async def plan_history(self, user_id: int) -> list[tuple[StoredPlan, datetime | None]]:
        """Every plan kept for the user, oldest first, with when each was replaced (None for
        the active one)."""
        rows = await self._db.fetch_all(
            "SELECT * FROM plans WHERE user_id = ? ORDER BY created_at, plan_id", (user_id,)
        )
        return [(_plan(row), from_unix_or_none(row["superseded_at"])) for row in rows]

    async def hold_step(
        self,
        stored: StoredPlan,
        held: Plan,
        *,
        step_number: int,
        extra_days: int,
        checkin_id: int | None,
        chosen_by: int,
        now: datetime,
    ) -> bool:
        """Make ``held`` (the plan with one step longer) the plan, and record who chose it.

        The caller regenerates the coming doses. False if the plan was replaced meanwhile.
        """
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE plans SET steps = ? WHERE plan_id = ? AND superseded_at IS NULL",
                (format_steps(held.steps), stored.plan_id),
            )
            if not changed:
                return False
            await tx.execute(
                "INSERT INTO holds (user_id, plan_id, step_number, extra_days, chosen_by,"
                " chosen_at, checkin_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    stored.user_id,
                    stored.plan_id,
                    step_number,
                    extra_days,
                    chosen_by,
                    to_unix(now),
                    checkin_id,
                ),
            )
        return True

    async def step_counts(
        self, user_id: int, plan_id: int, now: datetime
    ) -> dict[int, Counter[str]]:
        """Per step: how many doses already due were taken, skipped, and so on."""
        rows = await self._db.fetch_all(
            "SELECT step_number, status, COUNT(*) FROM dose_events"  # noqa: S608
            f" WHERE user_id = ? AND plan_id = ? AND due_at <= ? AND status != {_CANCELLED}"
            " GROUP BY step_number, status",
            (user_id, plan_id, to_unix(now)),
        )
        counts: dict[int, Counter[str]] = {}
        for step_number, status, count in rows:
            counts.setdefault(step_number, Counter())[status] += count
        return counts

    async def plans_to_extend(self, before: datetime, limit: int) -> list[StoredPlan]:
        """Active plans of reachable users whose events end before ``before``.

        Paused users' plans are extended too: their doses exist, marked as not reminded.
        """
        rows = await self._db.fetch_all(
            "SELECT plans.* FROM plans JOIN users USING (user_id)"
            " WHERE plans.superseded_at IS NULL AND plans.materialized_until < ?"
            " AND users.unreachable_at IS NULL"
            " ORDER BY plans.materialized_until LIMIT ?",
            (to_unix(before), limit),
        )
        return [_plan(row) for row in rows]

    async def extend_plan(
        self, stored: StoredPlan, slots: Sequence[DoseSlot], materialized_until: datetime
    ) -> None:
        async with self._db.transaction() as tx:
            if not await _still_active(tx, stored):
                return
            await _insert_slots(tx, stored.user_id, stored.plan_id, slots)
            await tx.execute(
                "UPDATE plans SET materialized_until = ? WHERE plan_id = ?",
                (to_unix(materialized_until), stored.plan_id),
            )

    async def regenerate(
        self,
        stored: StoredPlan,
        slots: Sequence[DoseSlot],
        *,
        now: datetime,
        materialized_until: datetime,
    ) -> None:
        """Replace the future doses of the active plan (time zone change, resume)."""
        async with self._db.transaction() as tx:
            if not await _still_active(tx, stored):
                return
            await _cancel_future(tx, stored.user_id, now)
            # Cancelled rows keep their (date, time) key; free it for the new rows.
            await tx.execute(
                f"DELETE FROM dose_events WHERE plan_id = ? AND status = {_CANCELLED}"  # noqa: S608
                " AND due_at >= ?",
                (stored.plan_id, to_unix(now)),
            )
            await _insert_slots(tx, stored.user_id, stored.plan_id, slots)
            await tx.execute(
                "UPDATE plans SET materialized_until = ? WHERE plan_id = ?",
                (to_unix(materialized_until), stored.plan_id),
            )

    async def set_paused(self, user_id: int, paused: bool, now: datetime) -> None:
        """Pause: the coming doses stay planned but get no reminder (``paused``). Resume is
        :meth:`regenerate`, which plans the coming doses afresh with their reminders."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE users SET reminders_paused = ? WHERE user_id = ?", (int(paused), user_id)
            )
            if paused:
                await tx.execute(
                    f"UPDATE dose_events SET status = {_PAUSED}, next_action_at = NULL"  # noqa: S608
                    f" WHERE user_id = ? AND status IN ({sql_list(OPEN_STATUSES)})"
                    " AND due_at >= ?",
                    (user_id, to_unix(now)),
                )

    async def not_reminded_since_pause(self, user_id: int, now: datetime) -> int:
        """Doses that fell due during the latest pause (after the last dose not paused)."""
        row = await self._db.fetch_one(
            f"SELECT COUNT(*) FROM dose_events WHERE user_id = ? AND status = {_PAUSED}"  # noqa: S608
            " AND due_at <= ? AND due_at > COALESCE((SELECT MAX(due_at) FROM dose_events"
            f" WHERE user_id = ? AND due_at <= ? AND status NOT IN ({_PAUSED}, {_CANCELLED})), 0)",
            (user_id, to_unix(now), user_id, to_unix(now)),
        )
        return int(row[0]) if row else 0

    async def mark_unreachable(self, user_id: int, now: datetime) -> None:
        """Telegram said 403: stop sending to this user until they write again."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE users SET unreachable_at = ? WHERE user_id = ?", (to_unix(now), user_id)
            )
            await _cancel_future(tx, user_id, now)
            # The row being sent (and any other claimed one) is released: nothing more goes to
            # this user until they write again, so no restart may re-send it.
            await tx.execute(
                "UPDATE dose_events SET claimed_at = NULL,"  # noqa: S608
                f" status = CASE status WHEN {_SENDING} THEN {_CANCELLED} ELSE status END"
                " WHERE user_id = ? AND claimed_at IS NOT NULL",
                (user_id,),
            )
            # Pending follow-ups of earlier reminders go too; they could not be delivered.
            await tx.execute(
                "UPDATE dose_events SET next_action_at = NULL"
                " WHERE user_id = ? AND next_action_at IS NOT NULL",
                (user_id,),
            )

    # ---------------------------------------------------------------- events

    async def next_action_at(self) -> datetime | None:
        row = await self._db.fetch_one(
            "SELECT MIN(next_action_at) FROM dose_events WHERE next_action_at IS NOT NULL"
        )
        return from_unix_or_none(row[0]) if row else None

    async def claim_due(self, now: datetime, limit: int, *, recent: int = 0) -> list[DueEvent]:
        """Claim up to ``limit`` events whose next action is due, oldest first; with each,
        its patient's ``recent`` latest planned doses due by it (see ``recent_doses``)."""
        async with self._db.transaction() as tx:
            rows = await tx.claim_due(DUE_SCAN_SQL, _CLAIM_SQL, "event_id", to_unix(now), limit)
            history: dict[int, list[DoseEvent]] = {}
            if rows and recent:
                ids = [row["event_id"] for row in rows]
                sql = _RECENT_FOR_CLAIMED.format(ids=placeholders(len(ids)))
                for found in await tx.fetch_all(sql, (*ids, recent)):
                    history.setdefault(found["for_event"], []).append(_event(found))
        return [_due(row, history.get(row["event_id"], ())) for row in rows]

    async def recover_claims(self, now: datetime) -> int:
        """After a crash: reminders whose request had left are re-sent as possible repeats;
        those still waiting for a send slot go out as ordinary reminders. Follow-ups that had
        left are dropped (one is enough), repeats that had left are followed by the next one
        a repeat interval later (never sent again); the others are due again."""
        now_unix = to_unix(now)
        async with self._db.transaction() as tx:
            repeats = await tx.execute(
                f"UPDATE dose_events SET status = {_SCHEDULED}, claimed_at = NULL,"  # noqa: S608
                " resend_as_repeat = 1, next_action_at = ?"
                f" WHERE claimed_at IS NOT NULL AND status = {_SENDING}"
                " AND in_flight_at IS NOT NULL",
                (now_unix,),
            )
            unsent = await tx.execute(
                f"UPDATE dose_events SET status = {_SCHEDULED}, claimed_at = NULL,"  # noqa: S608
                " next_action_at = ?"
                f" WHERE claimed_at IS NOT NULL AND status = {_SENDING}",
                (now_unix,),
            )
            # A repeat that had left may have arrived: it is not sent again; the run goes on
            # with the repeat after it, one interval after the claim (a copy that did arrive
            # keeps working buttons for Taken and Skip; it is not deleted, its id unknown).
            await tx.execute(
                "UPDATE dose_events SET claimed_at = NULL, next_action_at = claimed_at + 60 *"  # noqa: S608
                " (SELECT reminder_repeat_minutes FROM users"
                "  WHERE users.user_id = dose_events.user_id)"
                f" WHERE claimed_at IS NOT NULL AND status = {_SENT} AND in_flight_at IS NOT NULL"
                " AND (SELECT reminder_repeat_minutes FROM users"
                "  WHERE users.user_id = dose_events.user_id) > 0",
            )
            await tx.execute(
                "UPDATE dose_events SET followup_sent_at = claimed_at, claimed_at = NULL"  # noqa: S608
                f" WHERE claimed_at IS NOT NULL AND status = {_SENT} AND in_flight_at IS NOT NULL",
            )
            await tx.execute(
                "UPDATE dose_events SET claimed_at = NULL, next_action_at = ?"  # noqa: S608
                f" WHERE claimed_at IS NOT NULL AND status = {_SENT}",
                (now_unix,),
            )
        return repeats + unsent

    async def record_given_up(self, event_id: int, now: datetime) -> None:
        """The reminder never got through: the dose counts as missed, and the next reminder that
        reaches the patient tells them (see :meth:`undelivered_count`)."""
        await self._db.execute(
            f"UPDATE dose_events SET status = {_MISSED}, claimed_at = NULL, next_action_at = NULL,"  # noqa: S608
            " undelivered_at = ? WHERE event_id = ? AND claimed_at IS NOT NULL",
            (to_unix(now), event_id),
        )

    async def undelivered_count(self, user_id: int) -> int:
        row = await self._db.fetch_one(
            "SELECT COUNT(*) FROM dose_events WHERE user_id = ? AND undelivered_at IS NOT NULL",
            (user_id,),
        )
        return int(row[0]) if row else 0

    async def delivered(self, event_id: int) -> bool:
        """Did the last send for this row get through (a message id, and no claim left)?"""
        row = await self._db.fetch_one(
            "SELECT message_id IS NOT NULL AND claimed_at IS NULL FROM dose_events"
            " WHERE event_id = ?",
            (event_id,),
        )
        return bool(row and row[0])

    async def clear_undelivered(self, user_id: int) -> None:
        """The patient has been told about reminders that never reached them."""
        await self._db.execute(
            "UPDATE dose_events SET undelivered_at = NULL"
            " WHERE user_id = ? AND undelivered_at IS NOT NULL",
            (user_id,),
        )

    async def mark_in_flight(self, event_id: int, now: datetime) -> None:
        """The request for this claimed row is about to leave (it has its send slot):
        returns once that is committed, with the other rows marked in the same turn."""
        await self._in_flight.add((event_id, to_unix(now)))

    async def _mark_many_in_flight(self, marks: list[tuple[int, int]]) -> None:
        at = max(moment for _, moment in marks)  # one turn of the loop: the same second
        ids = [event_id for event_id, _ in marks]
        await self._db.execute(
            "UPDATE dose_events SET in_flight_at = ?"  # noqa: S608
            f" WHERE event_id IN ({placeholders(len(ids))}) AND claimed_at IS NOT NULL",
            (at, *ids),
        )

    async def release_unsent(self, event: DoseEvent) -> None:
        """Undo a claim whose message was never sent (shutting down): the row is as before.

        ``event`` is the row as it was read when claimed. A row answered meanwhile (Taken on a
        snoozed reminder) is left as answered.
        """
        await self._db.execute(
            "UPDATE dose_events SET status = ?, next_action_at = ?, claimed_at = NULL"  # noqa: S608
            " WHERE event_id = ? AND claimed_at IS NOT NULL"
            f" AND status IN ({sql_list(_CLAIMED_STATUSES)})",
            (event.status.value, unix_or_none(event.next_action_at), event.event_id),
        )

    async def record_reminder_sent(
        self,
        event_id: int,
        message_id: int,
        now: datetime,
        follow_up_at: datetime | None,
        *,
        caregivers: bool = False,
        caregiver_base: datetime | None = None,
    ) -> None:
        """The reminder got through. ``follow_up_at``: its follow-up, or its first repeat.

        With ``caregivers`` (the due scan saw a link), their alerts about it are planned in
        the same transaction, counted from ``caregiver_base`` (the follow-up instant of
        "once", whatever the patient's repeats; default ``follow_up_at``); without, one
        statement, as the burst path has always been (a link made since the claim waits for
        the next dose). The reminder is the dose's live message again (a snoozed dose's new
        reminder replaces its last repeat)."""
        params = (message_id, to_unix(now), unix_or_none(follow_up_at), event_id)
        if not caregivers:
            await self._sent.add(params)
            return
        async with self._db.transaction() as tx:
            if await tx.execute(_REMINDER_SENT, params):
                await caregiver_alerts.plan_alerts(
                    tx, event_id, caregiver_base or follow_up_at, now
                )

    async def _record_many_sent(self, rows: list[tuple[int, int, int | None, int]]) -> None:
        async with self._db.transaction() as tx:
            await tx.executemany(_REMINDER_SENT, rows)

    async def record_repeat_sent(
        self, event_id: int, message_id: int, now: datetime, next_repeat: datetime | None
    ) -> bool:
        """A repeat got through. True if the dose is still unanswered: the repeat is then its
        live message, and the next repeat is due at ``next_repeat`` (None: the run is over).
        False if the patient answered while it was on its way: the row keeps that answer
        (and a snooze its instant), and the caller takes the repeat back."""
        async with self._db.transaction() as tx:
            row = await tx.fetch_one(
                "SELECT status FROM dose_events WHERE event_id = ? AND claimed_at IS NOT NULL",
                (event_id,),
            )
            if row is None:
                return False
            if row["status"] != Status.SENT.value:
                await tx.execute(
                    "UPDATE dose_events SET claimed_at = NULL, repeats_sent = repeats_sent + 1"
                    " WHERE event_id = ?",
                    (event_id,),
                )
                return False
            await tx.execute(
                "UPDATE dose_events SET repeat_message_id = ?, repeats_sent = repeats_sent + 1,"
                " claimed_at = NULL, next_action_at = ?, resend_as_repeat = 0,"
                # The run is over: like a follow-up sent, nothing more (a snooze starts anew).
                " followup_sent_at = CASE WHEN ? IS NULL THEN ? ELSE followup_sent_at END"
                " WHERE event_id = ?",
                (
                    message_id,
                    unix_or_none(next_repeat),
                    unix_or_none(next_repeat),
                    to_unix(now),
                    event_id,
                ),
            )
        return True

    async def record_missed_notice(
        self, event_id: int, message_id: int | None, now: datetime
    ) -> None:
        await self._db.execute(
            f"UPDATE dose_events SET status = {_MISSED}, message_id = COALESCE(?, message_id),"  # noqa: S608
            " sent_at = COALESCE(sent_at, ?), claimed_at = NULL, next_action_at = NULL"
            " WHERE event_id = ? AND claimed_at IS NOT NULL",
            (message_id, to_unix(now), event_id),
        )

    async def record_follow_up_sent(self, event_id: int, message_id: int, now: datetime) -> None:
        await self._db.execute(
            "UPDATE dose_events SET followup_message_id = ?, followup_sent_at = ?,"
            " claimed_at = NULL WHERE event_id = ? AND claimed_at IS NOT NULL",
            (message_id, to_unix(now), event_id),
        )

    async def record_follow_up_dropped(self, event_id: int, now: datetime) -> None:
        await self._db.execute(
            "UPDATE dose_events SET followup_sent_at = ?, claimed_at = NULL"
            " WHERE event_id = ? AND claimed_at IS NOT NULL",
            (to_unix(now), event_id),
        )

    async def release_claim(
        self, event_id: int, retry_at: datetime, *, outcome_unknown: bool
    ) -> None:
        """The send failed: try again at ``retry_at`` (as a repeat if it may have arrived)."""
        await self._db.execute(
            "UPDATE dose_events SET claimed_at = NULL, attempts = attempts + 1,"  # noqa: S608
            # A dose answered while its message was in flight needs no retry.
            f" next_action_at = CASE WHEN status IN ({sql_list(_CLAIMED_STATUSES)}) THEN ? END,"
            " resend_as_repeat = MAX(resend_as_repeat, ?),"
            f" status = CASE status WHEN {_SENDING} THEN {_SCHEDULED} ELSE status END"
            " WHERE event_id = ? AND claimed_at IS NOT NULL",
            (to_unix(retry_at), int(outcome_unknown), event_id),
        )

    async def answer(
        self,
        event_id: int,
        user_id: int,
        status: Status,
        now: datetime,
        snooze_until: datetime | None = None,
    ) -> DoseEvent | None:
        """Record the user's answer if the event is theirs and still open to one.

        A Taken or Skip also writes its audit row (``dose_answers``) with the row as it was
        just before, in the same transaction: what an Undo puts back (:meth:`undo_answer`)."""
        answer_id: int | None = None
        async with self._db.transaction() as tx:
            before = await tx.fetch_one(
                "SELECT status, next_action_at, answered_at FROM dose_events"
                " WHERE event_id = ? AND user_id = ?",
                (event_id, user_id),
            )
            changed = await tx.execute(
                "UPDATE dose_events SET status = ?, answered_at = ?, next_action_at = ?"  # noqa: S608
                f" WHERE event_id = ? AND user_id = ? AND due_at <= ?"
                f" AND status IN ({sql_list(ANSWERABLE_STATUSES)})",
                (
                    status.value,
                    to_unix(now),
                    unix_or_none(snooze_until),
                    event_id,
                    user_id,
                    to_unix(now),
                ),
            )
            if changed:
                if status in _UNDOABLE and before is not None:
                    answer_id = await _note_answer(tx, event_id, user_id, status, now, before)
                await caregiver_alerts.answered(tx, event_id, now, snooze_until, answer_id)
            row = await tx.fetch_one(
                "SELECT * FROM dose_events WHERE event_id = ? AND user_id = ?",
                (event_id, user_id),
            )
        if row is None or not changed:
            return None
        return replace(_event(row), answer_id=answer_id)

    async def undo_answer(
        self, answer_id: int, event_id: int, user_id: int, now: datetime, *, since: datetime
    ) -> Undo:
        """The Undo transition: ``taken`` / ``skipped`` -> the state before the press.

        Allowed for the user's own latest answer of the dose, recorded at or after ``since``
        (the Undo window, a rule of ``bot.domain.undo``), while the row still holds it. The
        row gets back its status, its next action (the reminder, snooze or follow-up then due;
        an instant already passed is due at once, and the dispatcher's checks decide what it
        may say), and its earlier ``answered_at``; the caregiver alerts the answer ended are
        pending again. A row answered while its reminder was being sent is due again at once,
        as a possible repeat. The audit row stays, with ``undone_at``.
        """
        async with self._db.transaction() as tx:
            held = await _answer_held(tx, answer_id, event_id, user_id)
            if held is None:
                return Undo(UndoOutcome.STALE)  # not theirs, undone, answered again, changed
            answer, row = held
            if answer["answered_at"] < to_unix(since):
                return Undo(UndoOutcome.TOO_LATE, answered_at=from_unix(answer["answered_at"]))
            await tx.execute(
                "UPDATE dose_events SET status = ?, next_action_at = ?, answered_at = ?,"
                " claimed_at = ?, resend_as_repeat = ? WHERE event_id = ?",
                (*_state_before(answer, row, now), event_id),
            )
            await tx.execute(
                "UPDATE dose_answers SET undone_at = ? WHERE answer_id = ?",
                (to_unix(now), answer_id),
            )
            await caregiver_alerts.answer_undone(tx, answer_id)
            restored = await tx.fetch_one(
                "SELECT * FROM dose_events WHERE event_id = ?", (event_id,)
            )
        assert restored is not None
        return Undo(
            UndoOutcome.UNDONE,
            event=_event(restored),
            answered_at=from_unix(answer["answered_at"]),
            status=Status(answer["status"]),
        )

    async def undone_answers(
        self, user_id: int, start: datetime, end: datetime
    ) -> list[UndoneAnswer]:
        """The answers undone for doses due in [start, end), oldest first (the report)."""
        rows = await self._db.fetch_all(
            "SELECT dose_answers.*, dose_events.due_at, dose_events.step_number,"
            " dose_events.plan_id, dose_events.mg, dose_events.local_date,"
            " dose_events.local_time, dose_events.is_maintenance FROM dose_answers"
            " JOIN dose_events USING (event_id)"
            " WHERE dose_answers.user_id = ? AND dose_answers.undone_at IS NOT NULL"
            " AND dose_events.due_at >= ? AND dose_events.due_at < ?"
            " ORDER BY dose_events.due_at, dose_answers.answer_id",
            (user_id, to_unix(start), to_unix(end)),
        )
        return [record(UndoneAnswer, row) for row in rows]

    async def get_event(self, event_id: int, user_id: int) -> DoseEvent | None:
        row = await self._db.fetch_one(
            "SELECT * FROM dose_events WHERE event_id = ? AND user_id = ?", (event_id, user_id)
        )
        return _event(row) if row else None

    async def events_between(self, user_id: int, start: datetime, end: datetime) -> list[DoseEvent]:
        rows = await self._db.fetch_all(
            "SELECT * FROM dose_events WHERE user_id = ? AND due_at >= ? AND due_at < ?"  # noqa: S608
            f" AND status != {_CANCELLED} ORDER BY due_at",
            (user_id, to_unix(start), to_unix(end)),
        )
        return [_event(row) for row in rows]

    async def coming_doses(self, user_id: int, now: datetime, limit: int) -> list[DoseEvent]:
        """The user's next ``limit`` doses that will be reminded (after ``now``), soonest first."""
        rows = await self._db.fetch_all(
            f"SELECT * FROM dose_events WHERE user_id = ? AND due_at > ? AND status = {_SCHEDULED}"  # noqa: S608
            " ORDER BY due_at LIMIT ?",
            (user_id, to_unix(now), limit),
        )
        return [_event(row) for row in rows]

    async def recent_doses(self, user_id: int, now: datetime, limit: int) -> list[DoseEvent]:
        """The user's latest ``limit`` planned doses already due, newest first (any plan)."""
        rows = await self._db.fetch_all(
            "SELECT * FROM dose_events WHERE user_id = ? AND due_at <= ?"  # noqa: S608
            f" AND status != {_CANCELLED} ORDER BY due_at DESC LIMIT ?",
            (user_id, to_unix(now), limit),
        )
        return [_event(row) for row in rows]


# Answers an Undo can take back (a Snooze is answered again by the reminder it brings).
_UNDOABLE = (Status.TAKEN, Status.SKIPPED)


async def _note_answer(
    tx: Transaction, event_id: int, user_id: int, status: Status, now: datetime, before: Row
) -> int:
    """The audit row of a Taken or Skip, with the dose row as it was before the answer."""
    return await tx.insert(
        "INSERT INTO dose_answers (event_id, user_id, status, answered_at, prev_status,"
        " prev_next_action_at, prev_answered_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            event_id,
            user_id,
            status.value,
            to_unix(now),
            before["status"],
            before["next_action_at"],
            before["answered_at"],
        ),
    )


async def _answer_held(
    tx: Transaction, answer_id: int, event_id: int, user_id: int
) -> tuple[Row, Row] | None:
    """The audit row of ``answer_id`` and its dose row, if the answer is the user's, not undone,
    the dose's latest, and the dose row still holds it (the same status and answer time)."""
    answer = await tx.fetch_one(
        "SELECT * FROM dose_answers WHERE answer_id = ? AND event_id = ? AND user_id = ?",
        (answer_id, event_id, user_id),
    )
    if answer is None or answer["undone_at"] is not None:
        return None
    latest = await tx.fetch_one(
        "SELECT MAX(answer_id) FROM dose_answers WHERE event_id = ?", (event_id,)
    )
    row = await tx.fetch_one("SELECT * FROM dose_events WHERE event_id = ?", (event_id,))
    if (
        row is None
        or (latest is not None and latest[0] != answer_id)
        or row["status"] != answer["status"]
        or row["answered_at"] != answer["answered_at"]
    ):
        return None
    return answer, row


def _state_before(answer: Row, row: Row, now: datetime) -> tuple[object, ...]:
    """What an Undo writes back to the dose row: (status, next_action_at, answered_at,
    claimed_at, resend_as_repeat) as they were before the answer."""
    if answer["prev_status"] == Status.SENDING.value:
        # Answered while its reminder was being sent: that send recorded nothing (the row was
        # answered), and may or may not have arrived. The reminder is due again now, worded as
        # a possible repeat ("if you already took this dose, do not take it again"); the
        # dispatcher's checks decide what it may say.
        return (Status.SCHEDULED.value, to_unix(now), answer["prev_answered_at"], None, 1)
    return (
        answer["prev_status"],
        answer["prev_next_action_at"],
        answer["prev_answered_at"],
        row["claimed_at"],
        row["resend_as_repeat"],
    )


class UndoOutcome(StrEnum):
    UNDONE = "undone"
    TOO_LATE = "too_late"  # outside the Undo window: nothing changed
    STALE = "stale"  # not this user's, already undone, or answered again since


@dataclass(frozen=True)
class Undo:
    outcome: UndoOutcome
    event: DoseEvent | None = None  # UNDONE: the row as it is again
    answered_at: datetime | None = None  # when the answer being undone was recorded
    status: Status | None = None  # UNDONE: what was undone (taken or skipped)


@dataclass(frozen=True)
class UndoneAnswer:
    """A Taken or Skip that was undone, for the report's audit trail."""

    event_id: int
    plan_id: int
    step_number: int
    is_maintenance: bool
    due_at: datetime
    local_date: date
    local_time: time
    mg: Decimal
    status: Status
    answered_at: datetime
    undone_at: datetime
