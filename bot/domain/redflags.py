"""The red-flag categories, the old intents, the text normalisation, and ``classify``: the
shape the handlers used before ``bot.domain.understanding`` (kept until they move to
``understand``; it is a thin view of a ``Reading``).

The recognition itself is ``bot.domain.understanding`` with the concepts of
``bot/pack/concepts/`` (compiled by ``bot.domain.lexicon``). Deliberately broad: a false alarm
costs the user one extra line with an emergency number, a missed alarm could cost far more.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.domain.lexicon import Lexicon


class Intent(IntEnum):
    """What a message asks of the bot, most urgent first (a lower value wins)."""

    # From 1: no member is falsy, so ``intent or default`` can never swallow an emergency.
    EMERGENCY = 1
    RAN_OUT = 2  # already stopped, or ran out: withdrawal risk now
    WANTS_TO_STOP = 3
    OTHER = 4

    @property
    def label(self) -> str:
        return self.name.lower()


class Category(StrEnum):
    OVERDOSE = "overdose"
    CHILD_INGESTION = "child_ingestion"
    BREATHING = "breathing"
    CONSCIOUSNESS = "consciousness"
    CHEST_PAIN = "chest_pain"
    SEIZURE = "seizure"
    HALLUCINATION = "hallucination"
    FEVER_RIGIDITY = "fever_rigidity"
    SELF_HARM = "self_harm"
    WITHDRAWAL = "withdrawal"
    PUMP = "pump"
    ALLERGY = "allergy"
    RAN_OUT = "ran_out"
    WANTS_TO_STOP = "wants_to_stop"


@dataclass(frozen=True)
class CategoryInfo:
    intent: Intent
    topic: str  # the quick-fact topic that answers a question about it


CATEGORIES: Mapping[Category, CategoryInfo] = {
    Category.OVERDOSE: CategoryInfo(Intent.EMERGENCY, "overdose"),
    Category.CHILD_INGESTION: CategoryInfo(Intent.EMERGENCY, "overdose"),
    Category.BREATHING: CategoryInfo(Intent.EMERGENCY, "overdose"),
    Category.CONSCIOUSNESS: CategoryInfo(Intent.EMERGENCY, "overdose"),
    Category.CHEST_PAIN: CategoryInfo(Intent.EMERGENCY, "sideeffects"),
    Category.SEIZURE: CategoryInfo(Intent.EMERGENCY, "sideeffects"),
    Category.HALLUCINATION: CategoryInfo(Intent.EMERGENCY, "sideeffects"),
    Category.FEVER_RIGIDITY: CategoryInfo(Intent.EMERGENCY, "withdrawal"),
    Category.SELF_HARM: CategoryInfo(Intent.EMERGENCY, "warnings"),
    Category.WITHDRAWAL: CategoryInfo(Intent.EMERGENCY, "withdrawal"),
    Category.PUMP: CategoryInfo(Intent.EMERGENCY, "withdrawal"),
    Category.ALLERGY: CategoryInfo(Intent.EMERGENCY, "sideeffects"),
    Category.RAN_OUT: CategoryInfo(Intent.RAN_OUT, "withdrawal"),
    Category.WANTS_TO_STOP: CategoryInfo(Intent.WANTS_TO_STOP, "withdrawal"),
}


@dataclass(frozen=True)
class Recognised:
    intent: Intent
    categories: frozenset[Category]  # every category that matched (of the winning intent)
    is_question: bool

    @property
    def topic(self) -> str | None:
        """The fact topic for a question: the first matching category's, in a fixed order."""
        for category in Category:
            if category in self.categories:
                return CATEGORIES[category].topic
        return None


NOTHING = Recognised(Intent.OTHER, frozenset(), is_question=False)

_QUOTES = str.maketrans(
    {
        "\u2018": "'",  # ‘
        "\u2019": "'",  # ’ (what phones type)
        "\u201a": "'",
        "\u201b": "'",
        "\u02bc": "'",  # ʼ
        "\u00b4": "'",  # ´
        "`": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u00ab": '"',  # «
        "\u00bb": '"',  # »
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",  # –
        "\u2014": "-",  # —
        "\u2212": "-",
        "\u0451": "\u0435",  # ё -> е
    }
)
_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u2060\ufeff]")
_SPACES = re.compile(r"\s+")
_CH_DIGIT = re.compile("(?<=[a-z])4(?=[a-z])")
# Three or more of one letter: "sooo", "heeelp"; never digits ("1999" is a year, not "19").
_REPEATS = re.compile(r"([^\W\d_])\1{2,}")


def normalise(text: str) -> tuple[str, ...]:
    """The forms of ``text`` that the patterns are matched against.

    NFKC (full-width letters, ligatures), typographic quotes and dashes made plain, case
    folded, ё read as е, invisible characters dropped, spaces collapsed. A letter typed three
    or more times is read both once and twice ("breeeathe" -> "breathe", "sooo" -> "soo"), so
    the patterns need not guess which the writer meant.
    """
    plain = unicodedata.normalize("NFKC", text).casefold().translate(_QUOTES)
    plain = _SPACES.sub(" ", _INVISIBLE.sub("", plain)).strip()
    # Russian typed in Latin letters writes ч as 4 inside a word ("otklju4i"); a digit between
    # two letters is never a number.
    plain = _CH_DIGIT.sub("ch", plain)
    forms = [plain, _REPEATS.sub(r"\1", plain), _REPEATS.sub(r"\1\1", plain)]
    return tuple(dict.fromkeys(forms))


def classify(text: str, lexicon: Lexicon) -> Recognised:
    """The reading of ``text`` as the old intents: an emergency, ran out, wants to stop, or
    other (questions, requests and the rest). For the handlers until they use ``understand``."""
    from bot.domain.understanding import Meaning, understand  # it imports this module

    reading = understand(text, lexicon)
    intent = {
        Meaning.EMERGENCY: Intent.EMERGENCY,
        Meaning.RAN_OUT: Intent.RAN_OUT,
        Meaning.WANTS_TO_STOP: Intent.WANTS_TO_STOP,
    }.get(reading.meaning, Intent.OTHER)
    if intent is Intent.OTHER:
        return Recognised(Intent.OTHER, frozenset(), is_question=reading.is_question)
    return Recognised(intent, reading.categories, is_question=reading.is_question)
