"""Broadcasts and their outbox: one row per recipient with its delivery status.

Claim-before-send, as for dose reminders: an outbox row is claimed (``sending``) and committed
before its message goes out. Unlike a dose reminder, an announcement whose outcome is unknown
(the process died, or the connection broke after the request left) is never sent again: it is
recorded as ``unknown``. Losing one announcement is acceptable; doubling it is not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.delivery.queue import Outcome, Settled
from bot.domain.audience import Segment
from bot.storage.db import Row, Store, placeholders
from bot.storage.rows import from_unix, record, to_unix


class BroadcastStatus(StrEnum):
    DRAFT = "draft"  # previewed, waiting for Confirm
    DISCARDED = "discarded"  # the admin pressed Cancel on the preview
    SENDING = "sending"
    DONE = "done"
    CANCELLED = "cancelled"  # stopped by an admin while sending


class Delivery(StrEnum):
    """Status of one outbox row."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNREACHABLE = "unreachable"
    UNKNOWN = "unknown"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Broadcast:
    broadcast_id: int
    created_by: int | None
    segment: Segment
    body: str
    status: BroadcastStatus
    recipients: int
    created_at: datetime


@dataclass(frozen=True)
class Progress:
    """A broadcast with its outbox counted by delivery status."""

    broadcast: Broadcast
    counts: dict[Delivery, int]

    def count(self, *statuses: Delivery) -> int:
        return sum(self.counts.get(status, 0) for status in statuses)

    @property
    def sent(self) -> int:
        return self.count(Delivery.SENT)

    @property
    def failed(self) -> int:
        return self.count(Delivery.FAILED, Delivery.UNREACHABLE, Delivery.UNKNOWN)

    @property
    def pending(self) -> int:
        return self.count(Delivery.PENDING, Delivery.SENDING)


@dataclass(frozen=True)
class OutboxItem:
    broadcast_id: int
    user_id: int
    attempts: int
    body: str


def _broadcast(row: Row) -> Broadcast:
    return record(Broadcast, row)


def _literal(status: StrEnum) -> str:
    return f"'{status.value}'"


# The statuses as SQL literals, typed once (in the enums): the broadcast's, then its rows'.
_B_DRAFT = _literal(BroadcastStatus.DRAFT)
_B_DISCARDED = _literal(BroadcastStatus.DISCARDED)
_B_SENDING = _literal(BroadcastStatus.SENDING)
_B_DONE = _literal(BroadcastStatus.DONE)
_B_CANCELLED = _literal(BroadcastStatus.CANCELLED)
_PENDING = _literal(Delivery.PENDING)
_SENDING = _literal(Delivery.SENDING)
_SENT = _literal(Delivery.SENT)
_UNKNOWN = _literal(Delivery.UNKNOWN)
_SKIPPED = _literal(Delivery.SKIPPED)
_CANCELLED = _literal(Delivery.CANCELLED)

# How a row that was not delivered ends, by the courier's outcome.
_ENDS_AS = {
    Outcome.UNREACHABLE: Delivery.UNREACHABLE,
    Outcome.UNKNOWN: Delivery.UNKNOWN,
    Outcome.REJECTED: Delivery.FAILED,
    Outcome.GAVE_UP: Delivery.FAILED,
}


def ending(settled: Settled) -> Delivery:
    """The final status of a row settled without a delivery."""
    if settled.outcome is Outcome.DROPPED and settled.reason:
        return Delivery(settled.reason)
    return _ENDS_AS.get(settled.outcome, Delivery.FAILED)


_NEXT_DUE_SQL = (
    "SELECT broadcast_outbox.broadcast_id, broadcast_outbox.user_id,"  # noqa: S608
    " broadcast_outbox.attempts,"
    " COALESCE(broadcast_bodies.body, broadcasts.body) AS body,"
    " users.announcements = 1 AND users.unreachable_at IS NULL AS wanted"
    " FROM broadcast_outbox"
    " JOIN broadcasts USING (broadcast_id)"
    " JOIN users ON users.user_id = broadcast_outbox.user_id"
    " LEFT JOIN broadcast_bodies ON broadcast_bodies.broadcast_id"
    " = broadcast_outbox.broadcast_id AND broadcast_bodies.language = users.language"
    f" WHERE broadcast_outbox.status = {_PENDING}"
    " AND broadcast_outbox.next_attempt_at <= ?"
    " ORDER BY broadcast_outbox.next_attempt_at LIMIT 1"
)


class BroadcastStore(Store):
    # ---------------------------------------------------------------- drafts

    async def create_draft(
        self,
        created_by: int,
        segment: Segment,
        bodies: Mapping[str, str],
        default_language: str,
        now: datetime,
    ) -> Broadcast:
        """A draft with its text in every language (``bodies``: language -> Telegram HTML)."""
        async with self._db.transaction() as tx:
            broadcast_id = await tx.insert(
                "INSERT INTO broadcasts (created_by, segment, body, status, created_at)"  # noqa: S608
                f" VALUES (?, ?, ?, {_B_DRAFT}, ?)",
                (created_by, segment.value, bodies[default_language], to_unix(now)),
            )
            for language, body in bodies.items():
                await tx.execute(
                    "INSERT INTO broadcast_bodies (broadcast_id, language, body) VALUES (?, ?, ?)",
                    (broadcast_id, language, body),
                )
            row = await tx.fetch_one(
                "SELECT * FROM broadcasts WHERE broadcast_id = ?", (broadcast_id,)
            )
        assert row is not None
        return _broadcast(row)

    async def get(self, broadcast_id: int) -> Broadcast | None:
        row = await self._db.fetch_one(
            "SELECT * FROM broadcasts WHERE broadcast_id = ?", (broadcast_id,)
        )
        return _broadcast(row) if row else None

    async def set_segment(self, broadcast_id: int, segment: Segment) -> bool:
        changed = await self._db.execute(
            f"UPDATE broadcasts SET segment = ? WHERE broadcast_id = ? AND status = {_B_DRAFT}",  # noqa: S608
            (segment.value, broadcast_id),
        )
        return changed == 1

    async def discard(self, broadcast_id: int, now: datetime) -> bool:
        changed = await self._db.execute(
            f"UPDATE broadcasts SET status = {_B_DISCARDED}, finished_at = ?"  # noqa: S608
            f" WHERE broadcast_id = ? AND status = {_B_DRAFT}",
            (to_unix(now), broadcast_id),
        )
        return changed == 1

    async def confirm(
        self, broadcast_id: int, recipients: Sequence[int], now: datetime
    ) -> Broadcast | None:
        """Start sending a draft to ``recipients``; None if it is no longer a draft."""
        at = to_unix(now)
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                f"UPDATE broadcasts SET status = {_B_SENDING}, confirmed_at = ?,"  # noqa: S608
                f" recipients = ? WHERE broadcast_id = ? AND status = {_B_DRAFT}",
                (at, len(recipients), broadcast_id),
            )
            if not changed:
                return None
            await tx.executemany(
                "INSERT INTO broadcast_outbox (broadcast_id, user_id, status, next_attempt_at)"  # noqa: S608
                f" VALUES (?, ?, {_PENDING}, ?)",
                ((broadcast_id, user_id, at) for user_id in recipients),
            )
            row = await tx.fetch_one(
                "SELECT * FROM broadcasts WHERE broadcast_id = ?", (broadcast_id,)
            )
        assert row is not None
        return _broadcast(row)

    # ---------------------------------------------------------------- running

    async def cancel(self, broadcast_id: int, now: datetime) -> bool:
        """Stop a running broadcast: rows not yet claimed are cancelled; in-flight ones finish."""
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                f"UPDATE broadcasts SET status = {_B_CANCELLED}, finished_at = ?,"  # noqa: S608
                f" reported_at = ? WHERE broadcast_id = ? AND status = {_B_SENDING}",
                (to_unix(now), to_unix(now), broadcast_id),
            )
            if not changed:
                return False
            await tx.execute(
                f"UPDATE broadcast_outbox SET status = {_CANCELLED}"  # noqa: S608
                f" WHERE broadcast_id = ? AND status = {_PENDING}",
                (broadcast_id,),
            )
        return True

    async def progress(self, broadcast_id: int) -> Progress | None:
        broadcast = await self.get(broadcast_id)
        if broadcast is None:
            return None
        return (await self._with_counts([broadcast]))[0]

    async def recent(self, limit: int) -> list[Progress]:
        """The latest confirmed broadcasts, newest first (drafts are not listed)."""
        rows = await self._db.fetch_all(
            "SELECT * FROM broadcasts"  # noqa: S608
            f" WHERE status IN ({_B_SENDING}, {_B_DONE}, {_B_CANCELLED})"
            " ORDER BY broadcast_id DESC LIMIT ?",
            (limit,),
        )
        return await self._with_counts([_broadcast(row) for row in rows])

    async def _with_counts(self, broadcasts: list[Broadcast]) -> list[Progress]:
        if not broadcasts:
            return []
        ids = [broadcast.broadcast_id for broadcast in broadcasts]
        rows = await self._db.fetch_all(
            "SELECT broadcast_id, status, COUNT(*) AS n FROM broadcast_outbox"  # noqa: S608
            f" WHERE broadcast_id IN ({placeholders(len(ids))}) GROUP BY broadcast_id, status",
            ids,
        )
        counts: dict[int, dict[Delivery, int]] = {broadcast_id: {} for broadcast_id in ids}
        for row in rows:
            counts[row["broadcast_id"]][Delivery(row["status"])] = row["n"]
        return [Progress(broadcast, counts[broadcast.broadcast_id]) for broadcast in broadcasts]

    async def finish_completed(self, now: datetime) -> None:
        """Mark sending broadcasts with nothing left to send as done."""
        await self._db.execute(
            f"UPDATE broadcasts SET status = {_B_DONE}, finished_at = ?"  # noqa: S608
            f" WHERE status = {_B_SENDING} AND NOT EXISTS (SELECT 1 FROM broadcast_outbox"
            " WHERE broadcast_outbox.broadcast_id = broadcasts.broadcast_id"
            f" AND status IN ({_PENDING}, {_SENDING}))",
            (to_unix(now),),
        )

    async def unreported(self) -> list[Progress]:
        """Finished broadcasts whose admin has not been sent the summary yet."""
        rows = await self._db.fetch_all(
            f"SELECT * FROM broadcasts WHERE status = {_B_DONE} AND reported_at IS NULL"  # noqa: S608
            " ORDER BY broadcast_id"
        )
        return await self._with_counts([_broadcast(row) for row in rows])

    async def mark_reported(self, broadcast_id: int, now: datetime) -> None:
        await self._db.execute(
            "UPDATE broadcasts SET reported_at = ? WHERE broadcast_id = ?",
            (to_unix(now), broadcast_id),
        )

    async def count_by_status(self) -> dict[BroadcastStatus, int]:
        rows = await self._db.fetch_all(
            "SELECT status, COUNT(*) AS n FROM broadcasts GROUP BY status"
        )
        return {BroadcastStatus(row["status"]): row["n"] for row in rows}

    async def sent_since(self, since: datetime) -> int:
        row = await self._db.fetch_one(
            f"SELECT COUNT(*) FROM broadcast_outbox WHERE status = {_SENT} AND sent_at >= ?",  # noqa: S608
            (to_unix(since),),
        )
        return int(row[0]) if row else 0

    # -------------------------------------- the outbox: a queue (bot.delivery.queue.Queue)

    async def recover(self, now: datetime) -> int:
        """After a crash: rows whose request had left may have arrived; never re-send them
        (``unknown``). Rows still waiting for a send slot go back to pending. Returns the
        number of unknown rows."""
        async with self._db.transaction() as tx:
            unknown = await tx.execute(
                f"UPDATE broadcast_outbox SET status = {_UNKNOWN}, claimed_at = NULL"  # noqa: S608
                f" WHERE status = {_SENDING} AND in_flight_at IS NOT NULL"
            )
            await tx.execute(
                f"UPDATE broadcast_outbox SET status = {_PENDING}, claimed_at = NULL"  # noqa: S608
                f" WHERE status = {_SENDING}"
            )
        return unknown

    async def mark_in_flight(self, items: Sequence[OutboxItem], now: datetime) -> None:
        for item in items:
            await self._db.execute(
                "UPDATE broadcast_outbox SET in_flight_at = ?"  # noqa: S608
                f" WHERE broadcast_id = ? AND user_id = ? AND status = {_SENDING}",
                (to_unix(now), item.broadcast_id, item.user_id),
            )

    async def claim(self, now: datetime, limit: int) -> list[OutboxItem]:
        """Claim the next due rows, oldest first, at most ``limit``.

        Recipients who turned announcements off or blocked the bot since the broadcast was
        confirmed are marked skipped on the way, in the same transaction.
        """
        claimed: list[OutboxItem] = []
        async with self._db.transaction() as tx:
            while len(claimed) < limit and (
                row := await tx.fetch_one(_NEXT_DUE_SQL, (to_unix(now),))
            ):
                key = (row["broadcast_id"], row["user_id"])
                if not row["wanted"]:
                    await tx.execute(
                        f"UPDATE broadcast_outbox SET status = {_SKIPPED}"  # noqa: S608
                        " WHERE broadcast_id = ? AND user_id = ?",
                        key,
                    )
                    continue
                await tx.execute(
                    f"UPDATE broadcast_outbox SET status = {_SENDING}, claimed_at = ?,"  # noqa: S608
                    " in_flight_at = NULL"
                    " WHERE broadcast_id = ? AND user_id = ?",
                    (to_unix(now), *key),
                )
                claimed.append(OutboxItem(*key, row["attempts"], row["body"]))
        return claimed

    async def settle(self, item: OutboxItem, settled: Settled) -> bool:
        """Out of ``sending``: sent, pending again (a retry counts an attempt; a row released
        as it was does not), or ended without a delivery."""
        outcome = settled.outcome
        if outcome is Outcome.SENT:
            assert settled.message_id is not None
            return await self._record_sent(item, settled.message_id, settled.at)
        elif outcome in (Outcome.RETRY, Outcome.RELEASED):
            await self._release(
                item, settled.retry_at or settled.at, count_attempt=outcome is Outcome.RETRY
            )
        else:
            await self._record_final(item, ending(settled))
        return True

    async def _record_sent(self, item: OutboxItem, message_id: int, now: datetime) -> bool:
        return (
            await self._db.execute(
                f"UPDATE broadcast_outbox SET status = {_SENT}, message_id = ?, sent_at = ?,"  # noqa: S608
                " claimed_at = NULL, attempts = attempts + 1"
                f" WHERE broadcast_id = ? AND user_id = ? AND status = {_SENDING}",
                (message_id, to_unix(now), item.broadcast_id, item.user_id),
            )
            > 0
        )

    async def _record_final(self, item: OutboxItem, status: Delivery) -> None:
        """The row is finished without a delivery: failed, unreachable or unknown."""
        await self._db.execute(
            "UPDATE broadcast_outbox SET status = ?, claimed_at = NULL,"  # noqa: S608
            " attempts = attempts + 1"
            f" WHERE broadcast_id = ? AND user_id = ? AND status = {_SENDING}",
            (status.value, item.broadcast_id, item.user_id),
        )

    async def _release(self, item: OutboxItem, retry_at: datetime, *, count_attempt: bool) -> None:
        """Not delivered, safe to try again at ``retry_at`` (unless cancelled meanwhile)."""
        await self._db.execute(
            "UPDATE broadcast_outbox SET status = CASE"  # noqa: S608
            f" WHEN (SELECT status FROM broadcasts WHERE broadcast_id = ?) = {_B_SENDING}"
            f" THEN {_PENDING} ELSE {_CANCELLED} END,"
            " claimed_at = NULL, attempts = attempts + ?, next_attempt_at = ?"
            f" WHERE broadcast_id = ? AND user_id = ? AND status = {_SENDING}",
            (
                item.broadcast_id,
                int(count_attempt),
                to_unix(retry_at),
                item.broadcast_id,
                item.user_id,
            ),
        )

    async def remaining(self) -> int:
        """Messages of running broadcasts still to send (for the metrics gauge)."""
        row = await self._db.fetch_one(
            f"SELECT COUNT(*) FROM broadcast_outbox WHERE status IN ({_PENDING}, {_SENDING})"  # noqa: S608
        )
        return int(row[0]) if row else 0

    async def next_due_at(self) -> datetime | None:
        row = await self._db.fetch_one(
            f"SELECT MIN(next_attempt_at) FROM broadcast_outbox WHERE status = {_PENDING}"  # noqa: S608
        )
        return from_unix(row[0]) if row and row[0] is not None else None

    async def deliveries(self, broadcast_id: int) -> dict[int, Delivery]:
        """Recipient -> delivery status (for tests and diagnostics)."""
        rows = await self._db.fetch_all(
            "SELECT user_id, status FROM broadcast_outbox WHERE broadcast_id = ?",
            (broadcast_id,),
        )
        return {row["user_id"]: Delivery(row["status"]) for row in rows}
