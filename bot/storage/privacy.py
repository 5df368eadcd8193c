"""Data rights and retention: everything stored about one user, their erasure, old history.

Export and erasure cover the users row and everything that cascades from it (plans, dose
events, caregiver links either way with their invites and alerts). Tables that refer to a
user in another way (an admin audit log, a broadcast outbox) join through the two extension
points below, so adding one is one line here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.storage.db import Database, Row, Store, placeholders
from bot.storage.rows import to_unix

# Run inside the erasure transaction, each with the user id as its only parameter, after the
# users row (and with it, by ON DELETE CASCADE, plans and dose events) is gone. For rows that
# must outlive the user but lose the id, e.g.
#   "UPDATE admin_audit SET actor_id = NULL WHERE actor_id = ?"
ERASE_ALSO: tuple[str, ...] = (
    # The audit log keeps what happened, not who (see migration 0003).
    "UPDATE admin_audit SET actor_id = NULL WHERE actor_id = ?",
    "UPDATE broadcasts SET created_by = NULL WHERE created_by = ?",
)

# Further sections of /mydata: (section name, SELECT with the user id as its only parameter).
EXPORT_ALSO: tuple[tuple[str, str], ...] = (
    (
        "announcements",
        "SELECT broadcast_id, status, sent_at FROM broadcast_outbox WHERE user_id = ?",
    ),
    (
        "checkins",
        "SELECT plan_id, step_number, created_at, stiffness, drowsiness, dizziness, weakness,"
        " nausea, note, completed_at FROM checkins WHERE user_id = ? ORDER BY checkin_id",
    ),
    # Caregiver links either way (the other side's name as it is shown), and the alerts sent
    # about this patient (never to whom beyond the link, never any dose amount).
    (
        "caregivers",
        "SELECT link_id, caregiver_name, linked_at FROM caregivers WHERE patient_id = ?"
        " ORDER BY link_id",
    ),
    (
        "caring_for",
        "SELECT link_id, patient_name, linked_at FROM caregivers WHERE caregiver_id = ?"
        " ORDER BY link_id",
    ),
    (
        "caregiver_invites",
        "SELECT patient_name, created_at, expires_at, used_at FROM caregiver_invites"
        " WHERE patient_id = ? ORDER BY invite_id",
    ),
    (
        "caregiver_alerts",
        "SELECT caregiver_alerts.link_id, kind, state, outcome, said, next_action_at, sent_at,"
        " finished_at FROM caregiver_alerts JOIN caregivers USING (link_id)"
        " WHERE caregivers.patient_id = ? ORDER BY alert_id",
    ),
    # A plan saved to start on a later day, waiting for it (issue 19).
    (
        "pending_plans",
        "SELECT kind, start_date, steps, ends_after_last_step, high_dose_confirmed, created_at"
        " FROM pending_plans WHERE user_id = ?",
    ),
    # Each Taken or Skip press and whether it was undone (issue 22: the audit trail of Undo).
    (
        "dose_answers",
        "SELECT event_id, status, answered_at, undone_at FROM dose_answers WHERE user_id = ?"
        " ORDER BY answer_id",
    ),
    (
        "holds",
        "SELECT plan_id, step_number, extra_days, chosen_by, chosen_at FROM holds"
        " WHERE user_id = ? ORDER BY hold_id",
    ),
    # Pump refill reminders and pump caregiver alerts (issue 21); the pump columns are in users.
    (
        "refill_reminders",
        "SELECT kind, refill_on, due_at, status, sent_at FROM refill_reminders"
        " WHERE user_id = ? ORDER BY reminder_id",
    ),
    # The tablet or liquid supply and the supply reminders sent (issue 21).
    (
        "supply",
        "SELECT form, strength_mg, scored, mg_per_ml, on_hand, lead_days, counted_at,"
        " refill_ordered_at, updated_at FROM supplies WHERE user_id = ?",
    ),
    (
        "supply_reminders",
        "SELECT kind, run_out_date, sent_at FROM supply_reminders WHERE user_id = ?"
        " ORDER BY sent_at",
    ),
)

# A dose event is history once nothing is left to do with it (no reminder, follow-up or send
# pending): only such rows are ever purged, never a future or open dose.
# Past rows in these states are history only; 'paused' ones were never reminded.
_FINISHED_STATUSES = ("taken", "skipped", "missed", "cancelled", "sent", "paused")
_PURGE_BATCH = 1000

Record = dict[str, Any]


@dataclass(frozen=True)
class StoredRecords:
    """Every stored row about one user, column by column, as the database holds it."""

    user: Record
    plans: list[Record]
    dose_events: list[Record]
    other: dict[str, list[Record]] = field(default_factory=dict)


@dataclass(frozen=True)
class PurgeResult:
    dose_events: int
    plans: int
    caregiver_alerts: int = 0


def _record(row: Row) -> Record:
    return dict(row)


class PrivacyStore(Store):
    def __init__(
        self,
        db: Database,
        *,
        erase_also: Sequence[str] = ERASE_ALSO,
        export_also: Sequence[tuple[str, str]] = EXPORT_ALSO,
    ) -> None:
        super().__init__(db)
        self._erase_also = tuple(erase_also)
        self._export_also = tuple(export_also)

    async def records(self, user_id: int) -> StoredRecords | None:
        """All rows about the user, read in one transaction (a consistent picture)."""
        async with self._db.transaction() as tx:
            user = await tx.fetch_one("SELECT * FROM users WHERE user_id = ?", (user_id,))
            if user is None:
                return None
            plans = await tx.fetch_all(
                "SELECT * FROM plans WHERE user_id = ? ORDER BY plan_id", (user_id,)
            )
            doses = await tx.fetch_all(
                "SELECT * FROM dose_events WHERE user_id = ? ORDER BY due_at, event_id",
                (user_id,),
            )
            other = {
                section: [_record(row) for row in await tx.fetch_all(sql, (user_id,))]
                for section, sql in self._export_also
            }
        return StoredRecords(
            user=_record(user),
            plans=[_record(row) for row in plans],
            dose_events=[_record(row) for row in doses],
            other=other,
        )

    async def erase(self, user_id: int) -> bool:
        """Delete the user and everything about them in one transaction.

        Returns whether a users row existed. The extra statements run either way: a person
        who never consented may still be named in, say, an audit row.
        """
        async with self._db.transaction() as tx:
            deleted = await tx.execute("DELETE FROM users WHERE user_id = ?", (user_id,))
            for statement in self._erase_also:
                await tx.execute(statement, (user_id,))
        return deleted > 0

    async def purge_history(self, before: datetime) -> PurgeResult:
        """Delete finished dose events due before ``before``, and superseded plans whose
        events are all gone. In batches, so the dispatcher is never held up for long."""
        cutoff = to_unix(before)
        marks = placeholders(len(_FINISHED_STATUSES))
        events = 0
        while True:
            deleted = await self._db.execute(
                "DELETE FROM dose_events WHERE event_id IN ("  # noqa: S608 - only placeholders
                " SELECT event_id FROM dose_events WHERE due_at < ?"
                " AND next_action_at IS NULL"
                f" AND status IN ({marks}) LIMIT ?)",
                (cutoff, *_FINISHED_STATUSES, _PURGE_BATCH),
            )
            events += deleted
            if deleted < _PURGE_BATCH:
                break
        # Caregiver alerts whose life is over, and invites long expired (their dose rows may
        # stay longer; an alert row tells nothing after its dose is history).
        alerts = await self._db.execute(
            "DELETE FROM caregiver_alerts WHERE state = 'done' AND finished_at < ?", (cutoff,)
        )
        await self._db.execute("DELETE FROM caregiver_invites WHERE expires_at < ?", (cutoff,))
        await self._db.execute(  # issue 21: refill reminders whose life is over
            "DELETE FROM refill_reminders WHERE status IN ('sent', 'cancelled', 'failed')"
            " AND due_at < ?",
            (cutoff,),
        )
        plans = await self._db.execute(
            "DELETE FROM plans WHERE superseded_at IS NOT NULL AND superseded_at < ?"
            " AND NOT EXISTS (SELECT 1 FROM dose_events WHERE dose_events.plan_id = plans.plan_id)",
            (cutoff,),
        )
        return PurgeResult(dose_events=events, plans=plans, caregiver_alerts=alerts)
