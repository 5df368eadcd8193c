"""Recognising free text that needs an emergency answer, the ran-out answer or the
do-not-stop guidance.

The patterns are data (``bot/pack/intents/<language>.toml``, one file per language in the same
shape); this module normalises the text, matches it, and decides which answer wins. Every
language's patterns are tried on every message: a patient may write in either.

Deliberately broad: a false alarm costs the user one extra line with an emergency number, a
missed alarm could cost far more. Negations ("no seizure") still match on purpose. Only
everyday phrases that the patterns would otherwise catch ("too much coffee", "fit in a pill
box") are kept out, by precise patterns and a few "neutral" phrases blanked before matching.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum, StrEnum


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
class Rule:
    """Matches when every one of ``patterns`` is found in the normalised text."""

    category: Category
    patterns: tuple[re.Pattern[str], ...]

    def matches(self, text: str) -> bool:
        return all(pattern.search(text) for pattern in self.patterns)


@dataclass(frozen=True)
class IntentRules:
    """The compiled patterns of every language in the pack."""

    rules: tuple[Rule, ...]
    neutral: tuple[re.Pattern[str], ...]  # everyday phrases blanked before matching
    questions: tuple[re.Pattern[str], ...]  # how a question starts, per language

    @classmethod
    def merge(cls, parts: Iterable[IntentRules]) -> IntentRules:
        rules: list[Rule] = []
        neutral: list[re.Pattern[str]] = []
        questions: list[re.Pattern[str]] = []
        for part in parts:
            rules.extend(part.rules)
            neutral.extend(part.neutral)
            questions.extend(part.questions)
        return cls(tuple(rules), tuple(neutral), tuple(questions))


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
_REPEATS = re.compile(r"(\w)\1{2,}")  # three or more of one letter: "sooo", "heeelp"


def normalise(text: str) -> tuple[str, ...]:
    """The forms of ``text`` that the patterns are matched against.

    NFKC (full-width letters, ligatures), typographic quotes and dashes made plain, case
    folded, ё read as е, invisible characters dropped, spaces collapsed. A letter typed three
    or more times is read both once and twice ("breeeathe" -> "breathe", "sooo" -> "soo"), so
    the patterns need not guess which the writer meant.
    """
    plain = unicodedata.normalize("NFKC", text).casefold().translate(_QUOTES)
    plain = _SPACES.sub(" ", _INVISIBLE.sub("", plain)).strip()
    forms = [plain, _REPEATS.sub(r"\1", plain), _REPEATS.sub(r"\1\1", plain)]
    return tuple(dict.fromkeys(forms))


def classify(text: str, rules: IntentRules) -> Recognised:
    """The most urgent intent any rule finds in any form of ``text``."""
    matched: set[Category] = set()
    question = False
    for form in normalise(text):
        for pattern in rules.neutral:
            form = pattern.sub(" ", form)
        question = question or any(pattern.search(form) for pattern in rules.questions)
        matched.update(rule.category for rule in rules.rules if rule.matches(form))
    if not matched:
        return NOTHING
    intent = min(CATEGORIES[category].intent for category in matched)
    winning = frozenset(c for c in matched if CATEGORIES[c].intent is intent)
    return Recognised(intent, winning, is_question=question)


def compile_rules(
    raw_rules: Sequence[tuple[str, Sequence[str]]],
    neutral: Sequence[str],
    questions: Sequence[str],
) -> IntentRules:
    """Build rules from data; raise ``ValueError`` naming the first bad category or pattern."""
    rules: list[Rule] = []
    for category, patterns in raw_rules:
        try:
            known = Category(category)
        except ValueError:
            raise ValueError(f"unknown category {category!r}") from None
        if not patterns:
            raise ValueError(f"{category}: a rule needs at least one pattern")
        rules.append(Rule(known, tuple(_compile(pattern) for pattern in patterns)))
    return IntentRules(
        tuple(rules),
        tuple(_compile(pattern) for pattern in neutral),
        tuple(_compile(pattern) for pattern in questions),
    )


def _compile(pattern: str) -> re.Pattern[str]:
    if not pattern.strip():
        raise ValueError("empty pattern")
    try:
        return re.compile(pattern)
    except re.error as error:
        raise ValueError(f"pattern {pattern!r}: {error}") from None
