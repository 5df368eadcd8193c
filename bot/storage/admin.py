"""The audit log, the live content-pack version, and the reads behind segments and /stats.

Every read here returns counts or ids, never message text or doses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.domain.audience import PlanSpan
from bot.storage.db import Row, Store
from bot.storage.rows import from_unix, record, to_unix


@dataclass(frozen=True)
class AuditEntry:
    actor_id: int | None
    action: str
    outcome: str
    detail: str
    at: datetime


@dataclass(frozen=True)
class ContentLoad:
    load_id: int
    version: str
    loaded_at: datetime
    changed_topics: tuple[str, ...]


@dataclass(frozen=True)
class Person:
    """A consented user, their time zone and the span of their active plan (if any)."""

    user_id: int
    timezone: str | None
    plan: PlanSpan | None


@dataclass(frozen=True)
class UserCounts:
    users: int
    unreachable: int
    announcements_off: int


@dataclass(frozen=True)
class ReminderCounts:
    sent_day: int
    sent_week: int
    taken_week: int


def _span(row: Row) -> PlanSpan | None:
    """Decoded without building the whole plan: segments read every user's."""
    if row["kind"] is None:
        return None
    # Only the span is needed: each step ends in "x<days>" (see bot.domain.plans.format_steps).
    days = sum(int(step.rpartition("x")[2]) for step in row["steps"].split(","))
    last_step_day = date.fromisoformat(row["start_date"]) + timedelta(days=days - 1)
    return PlanSpan(row["kind"], last_step_day, bool(row["ends_after_last_step"]))


class AdminStore(Store):
    # ---------------------------------------------------------------- audit

    async def audit(
        self, actor_id: int, action: str, outcome: str, detail: str, now: datetime
    ) -> None:
        await self._db.execute(
            "INSERT INTO admin_audit (actor_id, action, outcome, detail, at)"
            " VALUES (?, ?, ?, ?, ?)",
            (actor_id, action, outcome, detail, to_unix(now)),
        )

    async def audit_log(self, limit: int = 100) -> list[AuditEntry]:
        """The latest entries, oldest first."""
        rows = await self._db.fetch_all(
            "SELECT * FROM (SELECT * FROM admin_audit ORDER BY audit_id DESC LIMIT ?)"
            " ORDER BY audit_id",
            (limit,),
        )
        return [record(AuditEntry, row) for row in rows]

    # ---------------------------------------------------------------- content

    async def record_content_load(
        self, version: str, changed_topics: tuple[str, ...], now: datetime
    ) -> ContentLoad:
        async with self._db.transaction() as tx:
            load_id = await tx.insert(
                "INSERT INTO content_loads (version, loaded_at, changed_topics) VALUES (?, ?, ?)",
                (version, to_unix(now), ",".join(changed_topics)),
            )
        return ContentLoad(load_id, version, now, changed_topics)

    async def live_content(self) -> ContentLoad | None:
        row = await self._db.fetch_one("SELECT * FROM content_loads ORDER BY load_id DESC LIMIT 1")
        if row is None:
            return None
        topics = tuple(key for key in row["changed_topics"].split(",") if key)
        return ContentLoad(row["load_id"], row["version"], from_unix(row["loaded_at"]), topics)

    # ---------------------------------------------------------------- people

    async def people(
        self, after_user: int, limit: int, *, announcement_audience: bool
    ) -> list[Person]:
        """Consented users by id after ``after_user``, with their active plan.

        ``announcement_audience`` leaves out those who turned announcements off or blocked
        the bot.
        """
        rows = await self._db.fetch_all(
            "SELECT users.user_id, users.timezone,"
            " plans.kind, plans.start_date, plans.steps, plans.ends_after_last_step FROM users"
            " LEFT JOIN plans ON plans.user_id = users.user_id AND plans.superseded_at IS NULL"
            " WHERE users.user_id > ? AND users.consented_at IS NOT NULL"
            " AND (? = 0 OR (users.announcements = 1 AND users.unreachable_at IS NULL))"
            " ORDER BY users.user_id LIMIT ?",
            (after_user, int(announcement_audience), limit),
        )
        return [record(Person, row, plan=_span(row)) for row in rows]

    # ---------------------------------------------------------------- statistics

    async def user_counts(self) -> UserCounts:
        row = await self._db.fetch_one(
            "SELECT COUNT(*), COUNT(unreachable_at), SUM(announcements = 0)"
            " FROM users WHERE consented_at IS NOT NULL"
        )
        assert row is not None
        return UserCounts(int(row[0]), int(row[1]), int(row[2] or 0))

    async def reminder_counts(self, now: datetime) -> ReminderCounts:
        """Reminders (and missed-dose notices) that reached the user, by when they were sent."""
        day_ago = to_unix(now) - 24 * 3600
        row = await self._db.fetch_one(
            "SELECT COUNT(*), SUM(sent_at >= ?), SUM(status = 'taken') FROM dose_events"
            " WHERE sent_at >= ? AND message_id IS NOT NULL",
            (day_ago, to_unix(now) - 7 * 24 * 3600),
        )
        assert row is not None
        return ReminderCounts(
            sent_day=int(row[1] or 0), sent_week=int(row[0]), taken_week=int(row[2] or 0)
        )
