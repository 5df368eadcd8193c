"""The fact topics the bot can answer, by key: the pack has one text per topic and language, and
the free-text rules name these keys."""

from __future__ import annotations

TOPICS: tuple[str, ...] = (
    "halflife",
    "dosage",
    "sideeffects",
    "interactions",
    "warnings",
    "pregnancy",
    "overdose",
    "withdrawal",
    "missed",
    "emergency",
    "sources",
)
