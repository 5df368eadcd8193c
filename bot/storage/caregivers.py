"""Caregiver links, their invites, and the alerts the dispatcher sends to caregivers.

An alert is a row with a due instant (``next_action_at``, UTC), picked up by the dispatcher
like a reminder, so it survives a restart and a downtime. Its states are :class:`AlertState`;
how a life ends is ``bot.domain.caregivers.AlertOutcome``. Every transition, and the method
that makes it, is in the table "The life of a caregiver alert" in docs/architecture.md.
A link removed, or either side erased, deletes the link's alerts with it (ON DELETE CASCADE).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.delivery.queue import Outcome, Settled
from bot.domain.caregivers import (
    AlertKind,
    AlertOutcome,
    InviteProblem,
    InviteState,
    Said,
    invite_problem,
    plan_notices,
)
from bot.domain.plans import parse_dose_steps
from bot.storage.db import Row, Store, Transaction, placeholders
from bot.storage.rows import from_unix, record, to_unix

MAX_OPEN_INVITES = 3


class AlertState(StrEnum):
    PENDING = "pending"  # waiting for its due instant (``next_action_at``)
    SENDING = "sending"  # claimed by the courier
    DONE = "done"  # ended; how: ``outcome`` (an ``AlertOutcome``)


# The states and words as SQL literals, typed once (in the enums).
_PENDING = f"'{AlertState.PENDING}'"
_SENDING = f"'{AlertState.SENDING}'"
_DONE = f"'{AlertState.DONE}'"
_UNANSWERED = f"'{AlertKind.UNANSWERED}'"
_ANSWERED = f"'{AlertOutcome.ANSWERED}'"
_UNREACHABLE = f"'{AlertOutcome.UNREACHABLE}'"
_SENT = f"'{AlertOutcome.SENT}'"


@dataclass(frozen=True)
class Link:
    link_id: int
    patient_id: int
    caregiver_id: int
    patient_name: str
    caregiver_name: str
    linked_at: datetime


@dataclass(frozen=True)
class Accepted:
    link: Link | None
    problem: InviteProblem | None
    patient_region: str | None = None


@dataclass(frozen=True)
class DueAlert:
    alert_id: int
    link_id: int
    kind: AlertKind
    event_id: int
    attempts: int
    patient_id: int
    caregiver_id: int
    patient_name: str
    dose_due_at: datetime
    timezone: str | None
    region: str | None
    caregiver_unreachable: bool
    # The follow-up ("did you take it?") reached the patient; False when it was dropped
    # (too late after a downtime, or unsafe) or has not gone out.
    follow_up_sent: bool = False


def _link(row: Row) -> Link:
    return record(Link, row)


def _due(row: Row) -> DueAlert:
    """A row of :data:`DUE_ALERTS_SQL`."""
    return record(DueAlert, row, caregiver_unreachable=row["caregiver_unreachable_at"] is not None)


# ------------------------------------------------------ inside the dose store's transactions


async def plan_alerts(
    tx: Transaction, event_id: int, follow_up_at: datetime | None, now: datetime
) -> None:
    """The reminder of ``event_id`` was sent: one alert per reachable caregiver of its patient.

    ``follow_up_at`` is None for a reminder sent again (after a snooze): its alert exists.
    A repeat of the same reminder finds its rows there (the UNIQUE key) and adds nothing.
    The first dose of a step, and the last dose of a plan, may also plan alerts about the plan
    (a taper step, the end of a taper, a step down: ``bot.domain.caregivers.plan_notices``),
    due now.
    """
    if follow_up_at is not None:
        await tx.execute(
            "INSERT OR IGNORE INTO caregiver_alerts"  # noqa: S608
            " (link_id, event_id, kind, state, base_at, next_action_at)"
            f" SELECT caregivers.link_id, ?, {_UNANSWERED}, {_PENDING}, ?,"
            " ? + patient.caregiver_delay_minutes * 60"
            " FROM dose_events"
            " JOIN caregivers ON caregivers.patient_id = dose_events.user_id"
            " JOIN users AS patient ON patient.user_id = caregivers.patient_id"
            " JOIN users AS carer ON carer.user_id = caregivers.caregiver_id"
            " WHERE dose_events.event_id = ? AND carer.unreachable_at IS NULL",
            (event_id, to_unix(follow_up_at), to_unix(follow_up_at), event_id),
        )
    dose = await tx.fetch_one(
        "SELECT dose_events.step_number, dose_events.is_step_start,"
        " dose_events.is_last_step_dose, plans.kind, plans.steps, plans.ends_after_last_step"
        " FROM dose_events JOIN plans USING (plan_id) WHERE dose_events.event_id = ?",
        (event_id,),
    )
    if dose is None or not (dose["is_step_start"] or dose["is_last_step_dose"]):
        return  # most reminders: nothing about the plan to tell
    kinds = plan_notices(
        str(dose["kind"]),
        parse_dose_steps(dose["steps"]),
        int(dose["step_number"]),
        step_start=bool(dose["is_step_start"]),
        last_dose=bool(dose["is_last_step_dose"]),
        plan_ends=bool(dose["ends_after_last_step"]),
    )
    for kind in kinds:
        await tx.execute(
            "INSERT OR IGNORE INTO caregiver_alerts"  # noqa: S608
            " (link_id, event_id, kind, state, base_at, next_action_at)"
            f" SELECT caregivers.link_id, ?, ?, {_PENDING}, ?, ?"
            " FROM dose_events"
            " JOIN caregivers ON caregivers.patient_id = dose_events.user_id"
            " JOIN users AS carer ON carer.user_id = caregivers.caregiver_id"
            " WHERE dose_events.event_id = ? AND carer.unreachable_at IS NULL",
            (event_id, kind.value, to_unix(now), to_unix(now), event_id),
        )


async def answered(
    tx: Transaction,
    event_id: int,
    now: datetime,
    snoozed_until: datetime | None,
    answer_id: int | None = None,
) -> None:
    """The patient answered the dose: Taken or Skip ends its pending alerts. A Snooze moves
    them to the same delay after the snoozed reminder comes again (it gets no second
    follow-up), never earlier than they were due.

    With ``answer_id`` (a Taken or Skip in ``dose_answers``), the alerts it ends are noted
    with when each was due, so an Undo can make them pending again (:func:`answer_undone`)."""
    if snoozed_until is None:
        if answer_id is not None:
            await tx.execute(
                "INSERT INTO dose_answer_alerts (answer_id, alert_id, next_action_at)"  # noqa: S608
                " SELECT ?, alert_id, next_action_at FROM caregiver_alerts"
                f" WHERE event_id = ? AND kind = {_UNANSWERED} AND state = {_PENDING}",
                (answer_id, event_id),
            )
        await tx.execute(
            f"UPDATE caregiver_alerts SET state = {_DONE}, outcome = {_ANSWERED},"  # noqa: S608
            " next_action_at = NULL, finished_at = ?"
            f" WHERE event_id = ? AND kind = {_UNANSWERED} AND state = {_PENDING}",
            (to_unix(now), event_id),
        )
        return
    await tx.execute(
        "UPDATE caregiver_alerts SET base_at = MAX(base_at, ?),"  # noqa: S608
        " next_action_at = MAX(next_action_at, ? + (SELECT caregiver_delay_minutes * 60"
        " FROM users JOIN caregivers ON caregivers.patient_id = users.user_id"
        " WHERE caregivers.link_id = caregiver_alerts.link_id))"
        f" WHERE event_id = ? AND kind = {_UNANSWERED} AND state = {_PENDING}",
        (to_unix(snoozed_until), to_unix(snoozed_until), event_id),
    )


async def answer_undone(tx: Transaction, answer_id: int) -> int:
    """An Undo of the answer ``answer_id``: the alerts it ended are pending again, due when
    they were (a time already passed makes them due now; what they say is decided then, by the
    dose-safety check). Alerts that finished some other way since are left alone."""
    return await tx.execute(
        f"UPDATE caregiver_alerts SET state = {_PENDING}, outcome = NULL, finished_at = NULL,"  # noqa: S608
        " next_action_at = (SELECT dose_answer_alerts.next_action_at FROM dose_answer_alerts"
        "  WHERE dose_answer_alerts.answer_id = ?"
        "  AND dose_answer_alerts.alert_id = caregiver_alerts.alert_id)"
        " WHERE alert_id IN (SELECT alert_id FROM dose_answer_alerts WHERE answer_id = ?)"
        f" AND state = {_DONE} AND outcome = {_ANSWERED}",
        (answer_id, answer_id),
    )


# ------------------------------------------------------------------------------- the store

DUE_ALERTS_SQL = (
    "SELECT caregiver_alerts.*, caregivers.patient_id, caregivers.caregiver_id,"  # noqa: S608
    " caregivers.patient_name, dose_events.due_at AS dose_due_at,"
    # What the patient was actually sent about the dose: an alert says only that.
    " dose_events.followup_message_id IS NOT NULL AS follow_up_sent,"
    " patient.timezone, patient.region, carer.unreachable_at AS caregiver_unreachable_at"
    " FROM caregiver_alerts JOIN caregivers USING (link_id)"
    " JOIN dose_events USING (event_id)"
    " JOIN users AS patient ON patient.user_id = caregivers.patient_id"
    " JOIN users AS carer ON carer.user_id = caregivers.caregiver_id"
    " WHERE caregiver_alerts.next_action_at IS NOT NULL AND caregiver_alerts.next_action_at <= ?"
    f" AND caregiver_alerts.state = {_PENDING}"
    " ORDER BY caregiver_alerts.next_action_at LIMIT ?"
)
_CLAIM_SQL = (
    f"UPDATE caregiver_alerts SET state = {_SENDING}, claimed_at = ?,"  # noqa: S608
    " in_flight_at = NULL, next_action_at = NULL WHERE alert_id IN"
)


class CaregiverStore(Store):
    # ------------------------------------------------------------------- invites and links

    async def create_invite(
        self,
        patient_id: int,
        token_hash: str,
        patient_name: str,
        now: datetime,
        expires_at: datetime,
    ) -> None:
        """A new invite. At most MAX_OPEN_INVITES stay open per patient (the oldest goes):
        looking at /caregiver again does not kill a link just sent, and sending it again and
        again cannot grow the table."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "DELETE FROM caregiver_invites WHERE invite_id IN (SELECT invite_id"
                " FROM caregiver_invites WHERE patient_id = ? AND used_at IS NULL"
                " ORDER BY invite_id DESC LIMIT -1 OFFSET ?)",
                (patient_id, MAX_OPEN_INVITES - 1),
            )
            await tx.execute(
                "INSERT INTO caregiver_invites"
                " (patient_id, token_hash, patient_name, created_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (patient_id, token_hash, patient_name, to_unix(now), to_unix(expires_at)),
            )

    async def invite_check(
        self, token_hash: str, opener_id: int, now: datetime
    ) -> tuple[int, str, InviteProblem | None]:
        """(the patient, their name, why the opener cannot accept or None) for an opened link."""
        async with self._db.transaction() as tx:
            return await _check(tx, token_hash, opener_id, now)

    async def accept(
        self, token_hash: str, caregiver_id: int, caregiver_name: str, now: datetime
    ) -> Accepted:
        """Link the caregiver, use the invite up, all at once or not at all."""
        async with self._db.transaction() as tx:
            _, patient_name, problem = await _check(tx, token_hash, caregiver_id, now)
            if problem is not None:
                return Accepted(None, problem)
            invite = await tx.fetch_one(
                "SELECT caregiver_invites.patient_id, users.region FROM caregiver_invites"
                " JOIN users ON users.user_id = caregiver_invites.patient_id"
                " WHERE token_hash = ?",
                (token_hash,),
            )
            assert invite is not None
            # The caregiver needs a users row (erasure, /mydata, unreachable); no consent to a
            # schedule is implied. They just wrote to the bot: reachable.
            await tx.execute(
                "INSERT INTO users (user_id, created_at) VALUES (?, ?)"
                " ON CONFLICT (user_id) DO UPDATE SET unreachable_at = NULL",
                (caregiver_id, to_unix(now)),
            )
            link_id = await tx.insert(
                "INSERT INTO caregivers"
                " (patient_id, caregiver_id, patient_name, caregiver_name, linked_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (invite["patient_id"], caregiver_id, patient_name, caregiver_name, to_unix(now)),
            )
            await tx.execute(
                "UPDATE caregiver_invites SET used_at = ? WHERE token_hash = ?",
                (to_unix(now), token_hash),
            )
            row = await tx.fetch_one("SELECT * FROM caregivers WHERE link_id = ?", (link_id,))
        assert row is not None
        return Accepted(_link(row), None, invite["region"])

    async def links_of_patient(self, patient_id: int) -> list[Link]:
        rows = await self._db.fetch_all(
            "SELECT * FROM caregivers WHERE patient_id = ? ORDER BY link_id", (patient_id,)
        )
        return [_link(row) for row in rows]

    async def links_of_caregiver(self, caregiver_id: int) -> list[Link]:
        rows = await self._db.fetch_all(
            "SELECT * FROM caregivers WHERE caregiver_id = ? ORDER BY link_id", (caregiver_id,)
        )
        return [_link(row) for row in rows]

    async def remove(self, link_id: int, by_user: int) -> Link | None:
        """Delete a link that ``by_user`` is one side of; its alerts go with it."""
        async with self._db.transaction() as tx:
            row = await tx.fetch_one(
                "SELECT * FROM caregivers WHERE link_id = ? AND ? IN (patient_id, caregiver_id)",
                (link_id, by_user),
            )
            if row is None:
                return None
            await tx.execute("DELETE FROM caregivers WHERE link_id = ?", (link_id,))
        return _link(row)

    async def delay_minutes(self, patient_id: int) -> int:
        row = await self._db.fetch_one(
            "SELECT caregiver_delay_minutes FROM users WHERE user_id = ?", (patient_id,)
        )
        return int(row[0]) if row else 60

    async def set_delay(self, patient_id: int, minutes: int) -> None:
        """The new delay applies to alerts already waiting too."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE users SET caregiver_delay_minutes = ? WHERE user_id = ?",
                (minutes, patient_id),
            )
            await tx.execute(
                "UPDATE caregiver_alerts SET next_action_at = base_at + ?"  # noqa: S608
                f" WHERE state = {_PENDING} AND kind = {_UNANSWERED}"
                " AND link_id IN (SELECT link_id FROM caregivers WHERE patient_id = ?)",
                (minutes * 60, patient_id),
            )

    # ------------------------------------------ alerts: the queue (bot.delivery.queue.Queue)

    async def next_due_at(self) -> datetime | None:
        row = await self._db.fetch_one(
            "SELECT MIN(next_action_at) FROM caregiver_alerts WHERE next_action_at IS NOT NULL"
        )
        return from_unix(row[0]) if row and row[0] is not None else None

    async def claim(self, now: datetime, limit: int) -> list[DueAlert]:
        async with self._db.transaction() as tx:
            rows = await tx.claim_due(DUE_ALERTS_SQL, _CLAIM_SQL, "alert_id", to_unix(now), limit)
        return [_due(row) for row in rows]

    async def mark_in_flight(self, items: Sequence[DueAlert], now: datetime) -> None:
        await self._db.execute(
            f"UPDATE caregiver_alerts SET in_flight_at = ?"  # noqa: S608
            f" WHERE alert_id IN ({placeholders(len(items))}) AND state = {_SENDING}",
            (to_unix(now), *(item.alert_id for item in items)),
        )

    async def settle(self, item: DueAlert, settled: Settled) -> bool:
        """Out of ``sending``: ``done`` with its outcome, or ``pending`` again (a retry, or
        released at a stop: the attempt counts either way, as it always did here)."""
        outcome = settled.outcome
        if outcome is Outcome.SENT:
            assert isinstance(settled.detail, Said) and settled.message_id is not None
            return await self._record_sent(
                item.alert_id, settled.detail, settled.message_id, settled.at
            )
        elif outcome in (Outcome.RETRY, Outcome.RELEASED):
            await self._release(item.alert_id, settled.retry_at or settled.at)
        elif outcome is Outcome.UNREACHABLE:
            # The caregiver blocked the bot: this alert and every other one waiting for them.
            await self._finish(item.alert_id, AlertOutcome.UNREACHABLE, settled.at)
            await self.caregiver_unreachable(item.caregiver_id, settled.at)
        elif outcome is Outcome.DROPPED:
            await self._finish(item.alert_id, AlertOutcome(settled.reason or ""), settled.at)
        else:
            ended = AlertOutcome.REJECTED if outcome is Outcome.REJECTED else AlertOutcome.GIVEN_UP
            await self._finish(item.alert_id, ended, settled.at)
        return True

    async def _record_sent(self, alert_id: int, said: Said, message_id: int, now: datetime) -> bool:
        return (
            await self._db.execute(
                f"UPDATE caregiver_alerts SET state = {_DONE}, outcome = {_SENT}, said = ?,"  # noqa: S608
                " message_id = ?, sent_at = ?, finished_at = ?, claimed_at = NULL,"
                f" attempts = attempts + 1 WHERE alert_id = ? AND state = {_SENDING}",
                (said.value, message_id, to_unix(now), to_unix(now), alert_id),
            )
            > 0
        )

    async def _finish(self, alert_id: int, outcome: AlertOutcome, now: datetime) -> None:
        await self._db.execute(
            f"UPDATE caregiver_alerts SET state = {_DONE}, outcome = ?, finished_at = ?,"  # noqa: S608
            " claimed_at = NULL, next_action_at = NULL"
            f" WHERE alert_id = ? AND state = {_SENDING}",
            (outcome.value, to_unix(now), alert_id),
        )

    async def _release(self, alert_id: int, retry_at: datetime) -> None:
        await self._db.execute(
            f"UPDATE caregiver_alerts SET state = {_PENDING}, claimed_at = NULL,"  # noqa: S608
            " in_flight_at = NULL, attempts = attempts + 1, next_action_at = ?"
            f" WHERE alert_id = ? AND state = {_SENDING}",
            (to_unix(retry_at), alert_id),
        )

    async def caregiver_unreachable(self, caregiver_id: int, now: datetime) -> int:
        """Every waiting alert to this caregiver ends: nothing more goes to them."""
        return await self._db.execute(
            f"UPDATE caregiver_alerts SET state = {_DONE}, outcome = {_UNREACHABLE},"  # noqa: S608
            " finished_at = ?, claimed_at = NULL, next_action_at = NULL"
            f" WHERE state IN ({_PENDING}, {_SENDING})"
            " AND link_id IN (SELECT link_id FROM caregivers WHERE caregiver_id = ?)",
            (to_unix(now), caregiver_id),
        )

    async def recover(self, now: datetime) -> int:
        """After a crash every claimed alert is due again; one that had left may arrive twice,
        which is harmless (it names its dose time), where a lost one is not."""
        return await self._db.execute(
            f"UPDATE caregiver_alerts SET state = {_PENDING}, claimed_at = NULL,"  # noqa: S608
            f" in_flight_at = NULL, next_action_at = ? WHERE state = {_SENDING}",
            (to_unix(now),),
        )


async def _check(
    tx: Transaction, token_hash: str, opener_id: int, now: datetime
) -> tuple[int, str, InviteProblem | None]:
    invite = await tx.fetch_one(
        "SELECT * FROM caregiver_invites WHERE token_hash = ?", (token_hash,)
    )
    if invite is None:
        return 0, "", InviteProblem.UNKNOWN
    patient_id = invite["patient_id"]
    linked = await tx.fetch_one(
        "SELECT COUNT(*), SUM(caregiver_id = ?) FROM caregivers WHERE patient_id = ?",
        (opener_id, patient_id),
    )
    count, mine = (int(linked[0]), int(linked[1] or 0)) if linked else (0, 0)
    state = InviteState(patient_id, from_unix(invite["expires_at"]), invite["used_at"] is not None)
    problem = invite_problem(state, opener_id, now, already_linked=mine > 0, linked_count=count)
    return patient_id, invite["patient_name"], problem
