"""Operator tasks on the database file: inspect it for ``check``, copy it for ``backup``.

Both run beside a live bot. They open their own connection without creating anything: a
missing file is reported, never made. The backup uses SQLite's online backup API, which copies
one consistent snapshot while the bot keeps writing (WAL: the bot is never blocked).
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from bot.storage.db import migration_versions

_BUSY_TIMEOUT_MS = 5000


class DatabaseProblem(Exception):
    """The database cannot be used as it is; the message completes "DATABASE_PATH <path> ..."."""


class BackupTargetProblem(Exception):
    """The backup cannot go where asked; the message completes "<target> ..."."""


@dataclass(frozen=True)
class SchemaStatus:
    version: int  # the newest migration applied


def inspect_database(path: Path) -> SchemaStatus:
    """Open the existing file and check that every migration this code knows is applied."""
    with closing(_connect(path)) as connection:
        try:
            has_schema = connection.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
            ).fetchone()
            applied = (
                {row[0] for row in connection.execute("SELECT version FROM schema_version")}
                if has_schema
                else set()
            )
        except sqlite3.DatabaseError as error:
            raise DatabaseProblem(f"cannot be read: {error}") from None
    known = set(migration_versions())
    if not applied:
        raise DatabaseProblem("holds no bot schema (start the bot once to create it)")
    if unknown := applied - known:
        raise DatabaseProblem(
            f"has schema version {max(unknown)}, newer than this code knows ({max(known)}): "
            "run the matching release or restore a backup taken with this one"
        )
    if pending := known - applied:
        raise DatabaseProblem(
            f"has {len(pending)} migration(s) pending (up to {max(pending)}): "
            "start the bot to apply them"
        )
    return SchemaStatus(version=max(applied))


def backup_database(source: Path, target: Path) -> int:
    """Write a consistent, owner-only copy of ``source`` to ``target``; return its size.

    The copy is built in a temporary file beside ``target``, checked with
    ``PRAGMA integrity_check``, then renamed over ``target``: a failed backup never leaves a
    half-written file under the final name, and never replaces a good older one.
    """
    if target.exists() and target.resolve() == source.resolve():
        raise BackupTargetProblem("is the database itself")
    folder = target.parent
    if not folder.is_dir():
        raise BackupTargetProblem(f"is in a folder that does not exist ({folder})")
    handle, temporary_name = tempfile.mkstemp(  # mkstemp creates the file 0600
        prefix=f".{target.name}.", suffix=".partial", dir=folder
    )
    os.close(handle)
    temporary = Path(temporary_name)
    try:
        with closing(_connect(source)) as live, closing(sqlite3.connect(temporary)) as copy:
            try:
                live.backup(copy)
                # One self-contained file: no -wal beside it to lose when it is moved.
                copy.execute("PRAGMA journal_mode=DELETE")
                verdict = [row[0] for row in copy.execute("PRAGMA integrity_check")]
            except sqlite3.Error as error:
                raise BackupTargetProblem(f"could not be written: {error}") from None
        if verdict != ["ok"]:
            raise BackupTargetProblem(f"failed its integrity check: {verdict[0]}")
        _fsync(temporary)
        os.replace(temporary, target)
        _fsync(folder)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return target.stat().st_size


def _connect(path: Path) -> sqlite3.Connection:
    """Open an existing database read-write (a WAL reader needs the -shm), never creating it."""
    if not path.exists():
        raise DatabaseProblem("does not exist (the bot creates it at its first start)")
    if not path.is_file():
        raise DatabaseProblem("is not a file")
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True)
    except sqlite3.DatabaseError as error:
        raise DatabaseProblem(f"cannot be opened: {error}") from None
    try:
        connection.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
        connection.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as error:
        connection.close()
        raise DatabaseProblem(f"cannot be opened: {error}") from None
    return connection


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
