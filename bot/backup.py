"""``python -m bot.backup [TARGET]``: a consistent, owner-only copy of the live database.

Safe while the bot runs. Without TARGET the copy goes to ``backups/`` next to the database,
named by the UTC time. DATABASE_PATH is read like the bot reads it (environment, then .env).
"""

from __future__ import annotations

import os
import sqlite3
import sys
from datetime import datetime
from pathlib import Path

from bot.clock import SystemClock
from bot.config import ConfigError, database_path, read_dotenv
from bot.storage.db import backup_database

EXIT_FAILED = 1
EXIT_USAGE = 2


def default_target(database: Path, now: datetime) -> Path:
    return database.parent / "backups" / f"{database.stem}-{now:%Y%m%dT%H%M%SZ}{database.suffix}"


def main(argv: list[str]) -> int:
    os.umask(0o077)  # whatever else gets created (folders, SQLite's journal) is owner-only too
    if len(argv) > 1 or (argv and argv[0].startswith("-")):
        print("usage: python -m bot.backup [TARGET]", file=sys.stderr)
        return EXIT_USAGE
    try:
        env = {**read_dotenv(Path(".env")), **os.environ}
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return EXIT_USAGE
    source = database_path(env)
    target = Path(argv[0]) if argv else default_target(source, SystemClock().now())
    try:
        backup_database(source, target)
    except (OSError, sqlite3.Error) as error:
        print(f"backup failed: {error}", file=sys.stderr)
        return EXIT_FAILED
    print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
