"""Users: profile, consent and reachability."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from bot.storage.db import Row, Store
from bot.storage.rows import record, to_unix


@dataclass(frozen=True)
class User:
    user_id: int
    timezone: str | None
    region: str | None
    language: str
    consented_at: int | None
    announcements: bool
    reminders_paused: bool
    unreachable_at: int | None
    created_at: int
    tablet_mg: Decimal | None = None  # the strength the pharmacy supplies, if given
    tablet_scored: bool = False
    simple_mode: bool = False  # short reminders, one large Taken button (issue 22)
    repeat_minutes: int = 0  # how an unanswered reminder repeats (bot.domain.repeats)

    @property
    def has_consented(self) -> bool:
        return self.consented_at is not None


def _user(row: Row) -> User:
    return record(User, row, repeat_minutes=row["reminder_repeat_minutes"])


class UserStore(Store):
    async def get(self, user_id: int) -> User | None:
        row = await self._db.fetch_one("SELECT * FROM users WHERE user_id = ?", (user_id,))
        return _user(row) if row else None

    async def record_consent(self, user_id: int, now: datetime, language: str = "en") -> User:
        """Create the user on consent (nothing is stored before) or refresh the consent time.

        ``language`` is stored for a new user only: consenting again keeps the one chosen.
        ("en", the column's default, suits tools and tests that seed users.)
        A user who writes again after blocking the bot is reachable again.
        """
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO users (user_id, language, consented_at, created_at)"
                " VALUES (?, ?, ?, ?)"
                " ON CONFLICT (user_id) DO UPDATE SET consented_at = excluded.consented_at,"
                " unreachable_at = NULL",
                (user_id, language, to_unix(now), to_unix(now)),
            )
            row = await tx.fetch_one("SELECT * FROM users WHERE user_id = ?", (user_id,))
        assert row is not None
        return _user(row)

    async def set_timezone(self, user_id: int, timezone: str) -> None:
        await self._db.execute(
            "UPDATE users SET timezone = ? WHERE user_id = ?", (timezone, user_id)
        )

    async def set_language(self, user_id: int, language: str) -> None:
        await self._db.execute(
            "UPDATE users SET language = ? WHERE user_id = ?", (language, user_id)
        )

    async def languages(self) -> dict[int, str]:
        """Every user's language, for the in-memory table (bot/services/languages.py)."""
        rows = await self._db.fetch_all("SELECT user_id, language FROM users")
        return {row["user_id"]: row["language"] for row in rows}

    async def set_region(self, user_id: int, region: str) -> None:
        await self._db.execute("UPDATE users SET region = ? WHERE user_id = ?", (region, user_id))

    async def set_announcements(self, user_id: int, enabled: bool) -> None:
        await self._db.execute(
            "UPDATE users SET announcements = ? WHERE user_id = ?", (int(enabled), user_id)
        )

    async def set_simple_mode(self, user_id: int, on: bool) -> bool:
        """False when there is no such user (nothing is stored before consent)."""
        changed = await self._db.execute(
            "UPDATE users SET simple_mode = ? WHERE user_id = ?", (int(on), user_id)
        )
        return changed > 0

    async def set_repeat_minutes(self, user_id: int, minutes: int) -> None:
        """How unanswered reminders repeat from now on (the column checks the choice). A run
        under way follows it from its next repeat."""
        await self._db.execute(
            "UPDATE users SET reminder_repeat_minutes = ? WHERE user_id = ?", (minutes, user_id)
        )

    async def mark_reachable(self, user_id: int) -> None:
        await self._db.execute(
            "UPDATE users SET unreachable_at = NULL"
            " WHERE user_id = ? AND unreachable_at IS NOT NULL",
            (user_id,),
        )

    async def set_tablets(self, user_id: int, strength_mg: str, scored: bool) -> None:
        await self._db.execute(
            "UPDATE users SET tablet_mg = ?, tablet_scored = ? WHERE user_id = ?",
            (strength_mg, int(scored), user_id),
        )

    async def calendar_key(self, user_id: int) -> str:
        """The user's random key for calendar event ids, made on first use and kept.

        The ids are hashes keyed with it (``bot/domain/calendar.py``), so they carry neither
        the Telegram id nor anything that could be guessed back to a dose.
        """
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE users SET calendar_key = ? WHERE user_id = ? AND calendar_key IS NULL",
                (secrets.token_hex(32), user_id),
            )
            row = await tx.fetch_one("SELECT calendar_key FROM users WHERE user_id = ?", (user_id,))
        if row is None:
            raise LookupError("no such user")
        return str(row[0])

    async def count(self) -> int:
        row = await self._db.fetch_one("SELECT COUNT(*) FROM users")
        return int(row[0]) if row else 0
