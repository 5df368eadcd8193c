"""One SQLite database behind one aiosqlite connection.

All SQL in the project lives in this package. Statements run one at a time under a lock, so a
transaction opened by one coroutine never swallows a statement of another.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

log = logging.getLogger(__name__)

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")

Row = aiosqlite.Row


def placeholders(count: int) -> str:
    """``?,?,?`` for an SQL ``IN (...)`` of ``count`` parameters."""
    return ",".join("?" * count)


class Database:
    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path) -> Database:
        """Open (creating with owner-only permissions if needed) and migrate the database."""
        if str(path) != ":memory:":
            await asyncio.to_thread(_create_private_file, path)
        connection = await aiosqlite.connect(path, isolation_level=None)
        database = cls(connection)
        try:
            connection.row_factory = aiosqlite.Row
            await connection.execute("PRAGMA journal_mode=WAL")
            await connection.execute("PRAGMA synchronous=NORMAL")
            await connection.execute("PRAGMA foreign_keys=ON")
            await connection.execute("PRAGMA busy_timeout=5000")
            await database.migrate()
        except BaseException:
            # The connection's thread would keep the process alive after the error is reported.
            await connection.close()
            raise
        if str(path) != ":memory:":
            # The WAL files exist now; SQLite gives them the database file's mode, but a file
            # copied in or created by an older version may be looser.
            await asyncio.to_thread(_restrict_to_owner, path)
        return database

    async def close(self) -> None:
        async with self._lock:
            await self._connection.close()

    async def migrate(self) -> list[int]:
        """Apply the numbered migrations that are not recorded yet; return their numbers."""
        async with self._lock:
            await self._connection.execute(
                "CREATE TABLE IF NOT EXISTS schema_version ("
                " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)"
            )
            cursor = await self._connection.execute("SELECT version FROM schema_version")
            applied = {row[0] for row in await cursor.fetchall()}
            done: list[int] = []
            for version, name, sql in _migrations():
                if version in applied:
                    continue
                await self._connection.execute("BEGIN IMMEDIATE")
                try:
                    for statement in _statements(sql):
                        await self._connection.execute(statement)
                    await self._connection.execute(
                        "INSERT INTO schema_version (version, name, applied_at)"
                        " VALUES (?, ?, CAST(strftime('%s','now') AS INTEGER))",
                        (version, name),
                    )
                    await self._connection.execute("COMMIT")
                except BaseException:
                    await self._connection.execute("ROLLBACK")
                    raise
                log.info("migration_applied version=%d", version)
                done.append(version)
            return done

    async def schema_version(self) -> int:
        row = await self.fetch_one("SELECT MAX(version) FROM schema_version")
        return int(row[0] or 0) if row else 0

    # Reads are one trip to the database thread (``execute_fetchall``), not two (execute, then
    # fetch): in a burst every reminder reads, and each trip is a hand-over between threads.
    async def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        async with self._lock:
            return _first(await self._connection.execute_fetchall(sql, params))

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        async with self._lock:
            return list(await self._connection.execute_fetchall(sql, params))

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement in its own implicit transaction; return the rows changed."""
        async with self._lock:
            cursor = await self._connection.execute(sql, params)
            return cursor.rowcount

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """All statements inside commit together or not at all."""
        async with self._lock:
            await self._connection.execute("BEGIN IMMEDIATE")
            try:
                yield Transaction(self._connection)
            except BaseException:
                await self._connection.execute("ROLLBACK")
                raise
            await self._connection.execute("COMMIT")


class Store:
    """The base of every store (one per part of the schema): all share the one ``Database``,
    its connection and its lock."""

    def __init__(self, db: Database) -> None:
        self._db = db


class Transaction:
    """Statements of an open transaction; only valid inside ``Database.transaction()``."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        cursor = await self._connection.execute(sql, params)
        return cursor.rowcount

    async def insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        cursor = await self._connection.execute(sql, params)
        return int(cursor.lastrowid or 0)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self._connection.executemany(sql, rows)

    async def claim_due(
        self, scan_sql: str, claim_sql: str, key: str, now: int, limit: int
    ) -> list[Row]:
        """Claim-before-send's first half: the rows ``scan_sql`` finds due at ``now`` (at most
        ``limit``: its two parameters), marked claimed by ``claim_sql`` in this transaction.
        ``claim_sql`` is an UPDATE ending in ``<key> IN``, with ``now`` its one parameter."""
        rows = await self.fetch_all(scan_sql, (now, limit))
        if rows:
            ids = [row[key] for row in rows]
            await self.execute(f"{claim_sql} ({placeholders(len(ids))})", (now, *ids))
        return rows

    async def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        return _first(await self._connection.execute_fetchall(sql, params))

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return list(await self._connection.execute_fetchall(sql, params))


def _first(rows: Iterable[Row]) -> Row | None:
    return next(iter(rows), None)


PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700
_SIDE_FILES = ("-wal", "-shm", "-journal")


def check_usable(path: Path) -> str | None:
    """Why an existing database file cannot be used (one line, with what to do), or None.

    Checked before the bot starts, so that an operator gets one line and a configuration exit
    status instead of a traceback, or a bot that retries for ever.
    """
    if str(path) == ":memory:" or not path.exists():
        return None  # created on open; a folder that cannot be created fails there
    folder = path.parent
    if not os.access(folder, os.W_OK | os.X_OK):
        return (
            f"DATABASE_PATH {path}: its folder {folder} is not writable, and SQLite keeps its "
            "-wal and -shm files there; make the folder writable by the bot's user"
        )
    if not os.access(path, os.R_OK | os.W_OK):
        return (
            f"DATABASE_PATH {path} is not readable and writable by the bot's user; "
            "fix its owner or mode (chmod 600)"
        )
    try:
        with contextlib.closing(sqlite3.connect(path)) as connection:
            connection.execute("PRAGMA schema_version").fetchone()
            connection.execute("BEGIN IMMEDIATE")  # takes the write lock, as the bot will
            connection.execute("ROLLBACK")
    except sqlite3.Error as error:
        return (
            f"DATABASE_PATH {path} cannot be opened: {error}; point DATABASE_PATH at the "
            "bot's database, or move this file away and restore a backup there"
        )
    return None


def _create_private_file(path: Path) -> None:
    """Health data: the file (and its WAL siblings, which inherit the mode) is owner-only, and
    so is a folder created for it."""
    path.parent.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, PRIVATE_FILE_MODE))


def _restrict_to_owner(path: Path) -> None:
    """Take group and other access away from the database and its side files."""
    for candidate in (path, *(path.with_name(path.name + suffix) for suffix in _SIDE_FILES)):
        try:
            if candidate.stat().st_mode & 0o077:
                candidate.chmod(PRIVATE_FILE_MODE)
                log.warning("database_permissions_tightened file=%s", candidate.name)
        except FileNotFoundError:
            continue
        except OSError as error:  # e.g. owned by another account: say so, keep running
            log.warning("database_permissions_unchanged file=%s error=%s", candidate.name, error)


def migration_versions() -> list[int]:
    """Numbers of the migrations this code ships, in order."""
    return [version for version, _, _ in _migrations()]


def _migrations() -> list[tuple[int, str, str]]:
    found = []
    for entry in resources.files("bot.storage").joinpath("migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def _statements(sql: str) -> list[str]:
    """Split a migration file on semicolons that end a line (migrations hold no triggers)."""
    return [part.strip() for part in re.split(r";\s*$", sql, flags=re.MULTILINE) if part.strip()]
