"""JSON log lines (``LOG_FORMAT=json``) carrying the same event names and ids as plain lines.

Our own log calls read ``"event_name key=value key=value"`` (ids and event names only, never
message text or health data). The formatter splits such a message into ``event`` and
``fields``, so a log pipeline can filter on them without parsing. Messages of other libraries
keep their text under ``message``; they never hold what a user wrote either.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

_EVENT_NAME = re.compile(r"[a-z][a-z0-9_]*")
_FIELD = re.compile(r"([a-z][a-z0-9_]*)=(\S*)")
_INTEGER = re.compile(r"-?[0-9]+")
_DECIMAL = re.compile(r"-?[0-9]+\.[0-9]+")


class JsonLogFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
        }
        message = record.getMessage()
        structured = _split_event(message)
        if structured is None:
            line["message"] = message
        else:
            line["event"], line["fields"] = structured
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def _split_event(message: str) -> tuple[str, dict[str, object]] | None:
    """``"reminder_sent event=5 user=7"`` -> ``("reminder_sent", {"event": 5, "user": 7})``."""
    name, _, rest = message.partition(" ")
    if not _EVENT_NAME.fullmatch(name):
        return None
    fields: dict[str, object] = {}
    for token in rest.split():
        match = _FIELD.fullmatch(token)
        if match is None:
            return None
        fields[match.group(1)] = _value(match.group(2))
    return name, fields


def _value(raw: str) -> object:
    if raw == "None":
        return None
    if _INTEGER.fullmatch(raw):
        return int(raw)
    if _DECIMAL.fullmatch(raw):
        return float(raw)
    return raw
