"""The content pack: every text the bot sends, in every language, loaded from ``bot/pack/``.

- ``model.py``: what a language says (``ContentPack``), the library of languages, plural forms;
- ``loader.py``: reads ``bot/pack/`` and validates the whole library (``load_library``);
- ``checks.py``: placeholders, parity across languages, Telegram's HTML subset, lengths;
- ``keys.py``: the message keys the code uses, with the placeholders each may contain.

The names most callers need are re-exported here.
"""

from __future__ import annotations

from bot.content.checks import TELEGRAM_TEXT_LIMIT, phone_numbers, telegram_length, visible_length
from bot.content.loader import (
    CONCEPTS_DIR,
    MAX_ZONE_BUTTONS,
    concept_languages,
    load_library,
    load_pack,
)
from bot.content.model import (
    DATE_PATTERNS,
    REGIONS,
    TOPICS,
    ContentError,
    ContentHolder,
    ContentLibrary,
    ContentPack,
    Html,
    Language,
    Message,
    Plural,
    Region,
    Source,
    Topic,
)

__all__ = [
    "CONCEPTS_DIR",
    "DATE_PATTERNS",
    "MAX_ZONE_BUTTONS",
    "REGIONS",
    "TELEGRAM_TEXT_LIMIT",
    "TOPICS",
    "ContentError",
    "ContentHolder",
    "ContentLibrary",
    "ContentPack",
    "Html",
    "Language",
    "Message",
    "Plural",
    "Region",
    "Source",
    "Topic",
    "concept_languages",
    "load_library",
    "load_pack",
    "phone_numbers",
    "telegram_length",
    "visible_length",
]
