"""/mydata and /deleteme: a copy of everything stored about a user, and its erasure.

The export is built from the rows as stored, column by column, so a column added later shows
up without a change here. Instants (columns ending in ``_at``) are written as UTC ISO 8601.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.clock import Clock
from bot.storage.doses import from_unix
from bot.storage.privacy import PrivacyStore, Record, StoredRecords

log = logging.getLogger(__name__)

EXPORT_FORMAT = "baclofen-companion-export/1"
# Columns of the users row that describe the person; every other column is a setting.
# calendar_key: the random key behind the /calendar event ids (none until the first /calendar).
PROFILE_COLUMNS = frozenset(
    {
        "user_id",
        "timezone",
        "region",
        "language",
        "consented_at",
        "created_at",
        "unreachable_at",
        "calendar_key",
    }
)
DOSE_LOG_COLUMNS = (
    "due_at",
    "local_date",
    "local_time",
    "mg",
    "status",
    "answered_at",
    "step_number",
    "step_count",
    "day_number",
    "plan_id",
)


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content: bytes


@dataclass(frozen=True)
class DataExport:
    document: ExportFile  # JSON: everything
    dose_log: ExportFile  # CSV: one line per dose


class PrivacyService:
    def __init__(self, store: PrivacyStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def export(self, user_id: int) -> DataExport | None:
        """Everything stored about the user, or None if nothing is."""
        records = await self._store.records(user_id)
        if records is None:
            return None
        now = self._clock.now()
        day = now.date().isoformat()
        log.info("data_exported user=%d dose_events=%d", user_id, len(records.dose_events))
        return DataExport(
            document=ExportFile(f"my-baclofen-data-{day}.json", export_document(records, now)),
            dose_log=ExportFile(f"my-dose-log-{day}.csv", dose_log_csv(records.dose_events)),
        )

    async def erase(self, user_id: int) -> bool:
        """Erase the user everywhere in one transaction; True if there was a profile.

        Pending reminders go with their rows: the dispatcher reads the database, and a
        reminder already claimed finds its row gone (its bookkeeping updates change nothing).
        """
        existed = await self._store.erase(user_id)
        log.info("data_erased user=%d had_profile=%d", user_id, int(existed))
        return existed


def export_document(records: StoredRecords, now: datetime) -> bytes:
    user = _readable(records.user)
    document: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "exported_at": _iso(now),
        "profile": {key: value for key, value in user.items() if key in PROFILE_COLUMNS},
        "settings": {key: value for key, value in user.items() if key not in PROFILE_COLUMNS},
        "plans": _readable_all(records.plans),
        "dose_history": _readable_all(records.dose_events),
    }
    for section, rows in records.other.items():
        document[section] = _readable_all(rows)
    return json.dumps(document, indent=2, ensure_ascii=False).encode()


def dose_log_csv(events: Iterable[Record]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(DOSE_LOG_COLUMNS)
    for event in events:
        readable = _readable(event)
        writer.writerow([readable.get(column) for column in DOSE_LOG_COLUMNS])
    return buffer.getvalue().encode()


def _readable_all(rows: Iterable[Record]) -> list[Record]:
    return [_readable(row) for row in rows]


def _readable(row: Mapping[str, Any]) -> Record:
    return {
        key: _iso(from_unix(value)) if key.endswith("_at") and isinstance(value, int) else value
        for key, value in row.items()
    }


def _iso(instant: datetime) -> str:
    return instant.strftime("%Y-%m-%dT%H:%M:%SZ")
