"""The compiled free-text lexicon: concepts (word lists per language), the rules that combine
them, context triggers (negation, question, history, another person), and the token analysis
that sits in front of matching: normalisation, tokens, Russian lemmas (pymorphy3), a
Latin-to-Cyrillic transliteration pass and fuzzy matching of the vocabulary (rapidfuzz).

The data comes from ``bot/pack/concepts/`` (docs/content-pack.md): ``rules.toml`` declares the
concepts and the rules (shared by every language), ``<language>.toml`` lists the words of each
concept in that language, its context triggers, number words and (for a language written in
another script) a transliteration table. Every language's words are merged: a patient may mix
languages and scripts in one message. ``compile_lexicon`` raises ``ValueError`` naming the
first problem; the pack loader turns that into a refused pack.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Any

from rapidfuzz.distance import OSA

from bot.domain.redflags import Category, normalise
from bot.domain.topics import TOPICS

# ------------------------------------------------------------------ what rules may produce


class Request(StrEnum):
    """Everyday requests and the ask-back signal a rule may produce (besides a category)."""

    FORGOT_DOSE = "forgot_dose"
    TOOK_IT = "took_it"
    PAUSE_REMINDERS = "pause_reminders"
    THANKS = "thanks"
    UNSURE = "unsure"  # mentions a sign, an amount, the drug or a person's state
    # Says only that something is wrong, or asks to be looked at ("help", "is it normal?",
    # «что скажете»): ask back, even where a greeting or a general question would be read.
    VAGUE = "vague"


class Scope(StrEnum):
    CLAUSE = "clause"  # between commas, terminators and sentence ends
    SENTENCE = "sentence"
    MESSAGE = "message"


class Context(StrEnum):
    """Context triggers (ConText / NegEx), per language in the ``[context]`` table."""

    NEGATION = "negation"  # "no", "never": lowers what follows in its clause
    NEGATION_AFTER = "negation_after"  # "не было", "none": lowers what precedes in its clause
    # «не» before a noun negates it («не галлюцинации», «это не судороги»); before a verb it is
    # the sign itself («не дышит»), so only a noun next makes it a negation.
    NEGATION_NOUN = "negation_noun"
    HYPOTHETICAL = "hypothetical"  # "cause", "side effect", "if": in a question, lowers it
    HISTORY = "history"  # "years ago", "used to": lowers the sentence
    OTHER = "other"  # not a person here now ("dog", "film"): the alarm becomes "unsure"
    NOW = "now"  # "now", "right now", "again", "сейчас": keeps an alarm up (beats history)
    # "but nothing since", «больше не повторялось»: a sign told as over, later in its sentence
    # (past a terminator too); lowers a sign as history does, never a taking or self-harm.
    RESOLVED = "resolved"
    TERMINATOR = "terminator"  # "but", "но": ends a trigger's scope
    QUESTION_START = "question_start"  # a question's first word ("can", "можно")
    QUESTION_ANY = "question_any"  # a question word anywhere ("ли")
    LEAD = "lead"  # "so", "hi", «а»: may come before a question's first word ("so can I ...")
    # "says", «говорит», «кажется»: a clause after one is what was said or seemed, not a
    # question («говорит, что в комнате собака»), unless the sentence ends with "?".
    REPORTED = "reported"
    # NegEx's pseudo-triggers: words that contain a trigger but are none ("oh no", "no
    # wonder", "не только"); a trigger inside one is dropped before matching.
    PSEUDO = "pseudo"


CONTEXTS = tuple(Context)
BUILT_IN = ("number", "number_two", "number_many")  # filled from digits and the `[numbers]` table
NEGATION_SCOPE = 6  # tokens a negation reaches, as NegEx does
HISTORY_SCOPE = 12


@dataclass(frozen=True)
class Spec:
    """One token of a vocabulary entry: its forms (surface and lemmas) or a prefix."""

    keys: frozenset[str]
    prefix: str = ""
    exact: bool = False  # "=word": the word as written, not its other forms

    def matches(self, keys: frozenset[str], surfaces: frozenset[str]) -> bool:
        if self.prefix:
            return any(key.startswith(self.prefix) for key in keys)
        return not self.keys.isdisjoint(surfaces if self.exact else keys)


@dataclass(frozen=True)
class Phrase:
    concept: str
    specs: tuple[Spec, ...]


@dataclass(frozen=True)
class Rule:
    """Fires when every item of ``all`` (each item: alternative concepts) is found within
    ``window`` tokens (or anywhere in ``scope``), every item of ``with_`` anywhere in the
    scope, and no concept of ``none`` in the clause (or ``none_scope``) of the match."""

    number: int
    category: Category | None
    request: Request | None
    topic: str | None
    all: tuple[frozenset[str], ...]
    with_: tuple[frozenset[str], ...] = ()
    none: frozenset[str] = frozenset()
    window: int | None = None
    scope: Scope = Scope.SENTENCE
    none_scope: Scope = Scope.CLAUSE
    none_window: int = 2
    ordered: bool = False
    max_words: int | None = None
    statement: bool = False  # a topic rule that answers a statement too ("I'm pregnant")
    # Blocked when a noun right next to the match names something the rule's `what` concepts
    # do not («кончились мандарины»: what ran out is named, and it is no medicine).
    what: frozenset[str] = frozenset()
    fallback: bool = False  # a topic rule counted only when no other topic is found
    lowered_by: frozenset[str] = frozenset({"negation", "question", "history", "other"})

    @property
    def result(self) -> str:
        return str(self.category or self.request or self.topic)


@dataclass(repr=False)
class Lexicon:
    """Every language's concepts and the shared rules, compiled; ``keys`` caches tokens."""

    concepts: frozenset[str]
    single: Mapping[str, frozenset[str]]  # a form or lemma -> the concepts of one-word entries
    exact: Mapping[str, frozenset[str]]  # a word as written -> the concepts of "=word" entries
    prefixes: Mapping[str, tuple[tuple[str, str], ...]]  # first 3 letters -> (prefix, concept)
    # "first second" (forms of the first two words), or the first word alone when the second
    # is a prefix -> the phrases that start so
    phrases: Mapping[str, tuple[Phrase, ...]]
    prefix_phrases: Mapping[str, tuple[tuple[str, Phrase], ...]]  # first 3 letters -> phrases
    numbers: Mapping[str, float]
    many: float
    rules: tuple[Rule, ...]
    rules_by_concept: Mapping[str, tuple[int, ...]]  # a concept -> rules it may start
    fuzzy: FuzzyIndex
    stems: FuzzyIndex  # the prefixes ("hallucinat*") of six letters or more
    stem_lengths: tuple[int, ...]
    translit: tuple[tuple[str, str], ...]  # Latin -> Cyrillic, longest first
    translit_keys: frozenset[str]  # the target language's vocabulary
    latin_keys: frozenset[str]  # the vocabulary written in Latin letters
    vocabulary: frozenset[str]  # every form of every entry's words (phrases too)
    languages: tuple[str, ...]
    _cache: dict[str, frozenset[str]] = field(default_factory=dict, repr=False, compare=False)

    def __repr__(self) -> str:
        return (
            f"Lexicon({len(self.concepts)} concepts, {len(self.vocabulary)} forms,"
            f" {len(self.rules)} rules, languages {self.languages})"
        )

    def keys(self, token: str) -> frozenset[str]:
        """The forms ``token`` is looked up as: itself, its lemmas, fuzzy corrections."""
        cached = self._cache.get(token)
        if cached is None:
            if len(self._cache) > 50_000:
                self._cache.clear()
            cached = self._cache[token] = self._keys(token)
        return cached

    def _keys(self, token: str) -> frozenset[str]:
        keys = set(forms(token))
        if not self._known(keys) and len(token) >= FUZZY_MIN and not is_known_word(token):
            for key in tuple(keys):
                keys.update(self.fuzzy.near(key))
                # "overdossed": its first letters one edit from the prefix "overdose*".
                for length in self.stem_lengths:
                    for cut in (length - 1, length, length + 1):
                        if cut < len(key):
                            keys.update(self.stems.near(key[:cut]))
        return frozenset(keys)

    def translit_surfaces(self, token: str) -> tuple[str, ...]:
        return transliterations(token, self.translit)

    def translit_keys_of(self, token: str) -> frozenset[str]:
        """The forms of a Latin ``token`` read as the transliterated language (cached)."""
        marker = "\x00" + token
        cached = self._cache.get(marker)
        if cached is None:
            found: set[str] = set()
            for variant in transliterations(token, self.translit):
                found.update(self.keys(variant))
            cached = self._cache[marker] = frozenset(found)
        return cached

    def _known(self, keys: Iterable[str]) -> bool:
        for key in keys:
            if key in self.vocabulary:
                return True
            for prefix, _ in self.prefixes.get(key[:3], ()):
                if key.startswith(prefix):
                    return True
        return False

    def concepts_of(self, keys: frozenset[str], surfaces: frozenset[str]) -> set[str]:
        found: set[str] = set()
        for surface in surfaces:
            found.update(self.exact.get(surface, ()))
        for key in keys:
            found.update(self.single.get(key, ()))
            for prefix, concept in self.prefixes.get(key[:3], ()):
                if key.startswith(prefix):
                    found.add(concept)
        return found

    def number(self, keys: frozenset[str]) -> float | None:
        for key in keys:
            if key in self.numbers:
                return self.numbers[key]
        return None


# ------------------------------------------------------------------ morphology


_CYRILLIC = re.compile("[а-я]")
_LATIN = re.compile("[a-z]")


@lru_cache(maxsize=1)
def _morph() -> Any:
    import pymorphy3  # loaded with the first lexicon, not on import

    return pymorphy3.MorphAnalyzer()


@lru_cache(maxsize=65_536)
def lemmas(word: str) -> frozenset[str]:
    """The dictionary forms of a Russian ``word`` (every likely parse), itself included."""
    if not _CYRILLIC.search(word):
        return frozenset({word})
    found = {word}
    parses = _morph().parse(word)
    best = parses[0].score if parses else 0.0
    for parse in parses:
        if parse.score >= best * 0.1:
            found.add(parse.normal_form.replace("ё", "е"))
    return frozenset(found)


@lru_cache(maxsize=16_384)
def is_noun(word: str) -> bool:
    """Whether a Cyrillic ``word`` is most likely a noun (pymorphy3's best parse)."""
    if not _CYRILLIC.search(word):
        return False
    parses = _morph().parse(word)
    return bool(parses) and parses[0].tag.POS == "NOUN"


@lru_cache(maxsize=65_536)
def is_known_word(word: str) -> bool:
    """Whether pymorphy3's dictionary knows a Cyrillic ``word`` (then no fuzzy correction)."""
    return bool(_CYRILLIC.search(word)) and bool(_morph().word_is_known(word))


@lru_cache(maxsize=16_384)
def main_lemma(word: str) -> frozenset[str]:
    """A vocabulary word and its most likely dictionary form only (the word list means that
    one: "мужа" is "муж"; a rarer parse would add words nobody meant)."""
    if not _CYRILLIC.search(word):
        return frozenset({word})
    parses = _morph().parse(word)
    if not parses:
        return frozenset({word})
    return frozenset({word, parses[0].normal_form.replace("ё", "е")})


_ENGLISH_ENDINGS = ("'s", "s'", "es", "s")


def forms(token: str) -> frozenset[str]:
    """A token's own forms: Cyrillic -> lemmas; Latin -> itself and without a plural or
    possessive ending ("seizures" -> "seizure", "mum's" -> "mum")."""
    if _CYRILLIC.search(token):
        return lemmas(token)
    found = {token}
    for ending in _ENGLISH_ENDINGS:
        if token.endswith(ending) and len(token) > len(ending) + 2:
            found.add(token[: -len(ending)])
    return frozenset(found)


_SOFT_L = re.compile("л(?=[бвгджзкмнпстфхцчшщ])")


@lru_cache(maxsize=16_384)
def transliterations(token: str, table: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    """Cyrillic readings of a Latin ``token``: the table applied longest match first, then
    variants for the ambiguous letters (y as ы or й, a soft sign after a final consonant or
    after л before a consonant: "bolshe" is больше; w as ш or щ: "piwit" is пищит)."""
    if not table or not _LATIN.search(token):
        return ()
    out: list[str] = []
    position = 0
    while position < len(token):
        for latin, cyrillic in table:
            if token.startswith(latin, position):
                out.append(cyrillic)
                position += len(latin)
                break
        else:
            out.append(token[position])
            position += 1
    base = "".join(out)
    if _LATIN.search(base):
        return ()
    variants = [base]
    if "и" in base:
        variants.append(base.replace("и", "ы"))  # "sin" is сын as often as син
    if base.endswith("ы"):
        variants.append(base[:-1] + "й")
    if base.endswith("ыа"):
        variants.append(base[:-2] + "ая")
    if base and base[-1] in "тлсцнмрдвзп":
        variants.append(base + "ь")
    if "'" in base:
        variants.append(base.replace("'", "ь"))
    if _SOFT_L.search(base):
        variants.append(_SOFT_L.sub("ль", base))  # "bolshe", "skolko": the soft sign left out
    if "w" in token:  # "piwit", "mawinu": w for ш or щ as often as for в
        for letters in ("sh", "shch"):
            variants.extend(transliterations(token.replace("w", letters), table))
    if "щ" in base:  # "ischeznut" is исчезнуть as often as ищезнуть: sch for сч
        variants.extend(v.replace("щ", "сч") for v in tuple(variants) if "щ" in v)
    return tuple(dict.fromkeys(variants))


# ------------------------------------------------------------------ fuzzy matching

FUZZY_MIN = 6  # one edit allowed for a word of this many letters or more


class FuzzyIndex:
    """Vocabulary forms by their one-letter deletions (SymSpell): a word's candidates are
    found in a few dictionary lookups, then checked with rapidfuzz's OSA distance (one
    insertion, deletion, substitution or swap of neighbours)."""

    def __init__(self, words: Iterable[str]) -> None:
        self._by_deletion: dict[str, set[str]] = {}
        for word in words:
            if len(word) < FUZZY_MIN - 1 or not word.isalpha():
                continue
            for variant in {word, *_deletions(word)}:
                self._by_deletion.setdefault(variant, set()).add(word)

    def __len__(self) -> int:
        return len(self._by_deletion)

    def near(self, word: str) -> frozenset[str]:
        if len(word) < FUZZY_MIN or not word.isalpha():
            return frozenset()
        found: set[str] = set()
        for variant in {word, *_deletions(word)}:
            for candidate in self._by_deletion.get(variant, ()):
                if candidate[0] == word[0] and OSA.distance(word, candidate) <= 1:
                    found.add(candidate)
        return frozenset(found)


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


# ------------------------------------------------------------------ tokens


_TOKEN = re.compile(r"\d+(?:[.,]\d+)?|[^\W\d_]+(?:'[^\W\d_]+)*|[.!?;,:()\n¶-]")
LINE_BREAK = "¶"  # a line break, kept through normalisation (which collapses spaces)
SENTENCE_END = frozenset(".!?;\n¶")
CLAUSE_END = frozenset(",:()-")


_INNER_HYPHEN = re.compile(r"(?<=\w)-(?=\w)")


def tokenise(text: str) -> list[str]:
    """Words, numbers and punctuation marks of one normalised form; a hyphen inside a word
    parts it ("half-life" is "half life"), a dash between words is punctuation."""
    return _TOKEN.findall(_INNER_HYPHEN.sub(" ", text))


# ------------------------------------------------------------------ compiling


@dataclass(frozen=True)
class LanguageWords:
    """One language's file (``concepts/<language>.toml``), read but not yet compiled."""

    language: str
    words: Mapping[str, Sequence[str]]
    context: Mapping[str, Sequence[str]]
    numbers: Mapping[str, float]
    translit: Mapping[str, str]


def compile_lexicon(
    declared: Mapping[str, str],
    raw_rules: Sequence[Mapping[str, Any]],
    languages: Sequence[LanguageWords],
    many: float = 4,
) -> Lexicon:
    """Build the lexicon; raise ``ValueError`` naming the first unknown concept, category,
    request, topic or field, or an empty entry."""
    concepts = frozenset(declared) | frozenset(CONTEXTS) | frozenset(BUILT_IN)
    tables = _Tables()
    for part in languages:
        _check_names(part, declared)
        for concept, text in _entries(part):
            tables.add_entry(concept, _specs(text, part.language, concept), bool(part.translit))
        tables.add_numbers(part)
        tables.add_translit(part)
    rules = tuple(
        _rule(number, table, concepts, TOPICS) for number, table in enumerate(raw_rules, start=1)
    )
    return tables.lexicon(concepts, rules, many, tuple(part.language for part in languages))


def _check_names(part: LanguageWords, declared: Mapping[str, str]) -> None:
    """Every concept a language lists words for is declared, every context one of ours."""
    for name in part.words:
        if name not in declared:
            raise ValueError(
                f"{part.language}: unknown concept {name!r} (declare it in rules.toml)"
            )
    for name in part.context:
        if name not in CONTEXTS:
            raise ValueError(f"{part.language}: unknown context {name!r}")


def _entries(part: LanguageWords) -> list[tuple[str, str]]:
    """(concept, entry) of a language's words, then of its context triggers."""
    entries = [(c, w) for c, ws in part.words.items() for w in ws]
    entries += [(c, w) for c, ws in part.context.items() for w in ws]
    return entries


@dataclass
class _Tables:
    """The lookup tables of the lexicon, filled entry by entry, language by language."""

    single: dict[str, set[str]] = field(default_factory=dict)
    exact: dict[str, set[str]] = field(default_factory=dict)
    prefixes: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    phrases: dict[str, list[Phrase]] = field(default_factory=dict)
    prefix_phrases: dict[str, list[tuple[str, Phrase]]] = field(default_factory=dict)
    numbers: dict[str, float] = field(default_factory=dict)
    translit: dict[str, str] = field(default_factory=dict)
    translit_keys: set[str] = field(default_factory=set)
    latin_keys: set[str] = field(default_factory=set)
    vocabulary: set[str] = field(default_factory=set)

    def add_entry(self, concept: str, specs: tuple[Spec, ...], transliterated: bool) -> None:
        """One entry of ``concept``: a word, a prefix, or a phrase (``transliterated``: of a
        language that has a transliteration table)."""
        for spec in specs:
            self.vocabulary.update(spec.keys)
            target = self.translit_keys if transliterated else self.latin_keys
            target.update(spec.keys or {spec.prefix})
        first = specs[0]
        if len(specs) == 1 and first.prefix:
            self.prefixes.setdefault(first.prefix[:3], []).append((first.prefix, concept))
        elif len(specs) == 1:
            for key in first.keys:
                (self.exact if first.exact else self.single).setdefault(key, set()).add(concept)
        elif first.prefix:
            phrase = Phrase(concept, specs)
            self.prefix_phrases.setdefault(first.prefix[:3], []).append((first.prefix, phrase))
        elif not specs[1].prefix:
            # By its first two words: a message's common words ("i", "no") start many.
            phrase = Phrase(concept, specs)
            for key in first.keys:
                for second in specs[1].keys:
                    self.phrases.setdefault(f"{key} {second}", []).append(phrase)
        else:
            phrase = Phrase(concept, specs)
            for key in first.keys:
                self.phrases.setdefault(key, []).append(phrase)

    def add_numbers(self, part: LanguageWords) -> None:
        for word, value in part.numbers.items():
            for key in _specs(word, part.language, "numbers")[0].keys:
                self.numbers[key] = float(value)

    def add_translit(self, part: LanguageWords) -> None:
        for latin, cyrillic in part.translit.items():
            if not latin or not latin.isascii() or (not latin.isalpha() and latin != "'"):
                raise ValueError(f"{part.language}: translit key {latin!r} must be Latin letters")
            self.translit[latin] = cyrillic

    def lexicon(
        self,
        concepts: frozenset[str],
        rules: tuple[Rule, ...],
        many: float,
        languages: tuple[str, ...],
    ) -> Lexicon:
        stems = {
            prefix
            for found in self.prefixes.values()
            for prefix, _ in found
            if len(prefix) >= FUZZY_MIN
        }
        return Lexicon(
            concepts=concepts,
            single={key: frozenset(value) for key, value in self.single.items()},
            exact={key: frozenset(value) for key, value in self.exact.items()},
            prefixes={key: tuple(value) for key, value in self.prefixes.items()},
            phrases={key: tuple(value) for key, value in self.phrases.items()},
            prefix_phrases={key: tuple(value) for key, value in self.prefix_phrases.items()},
            numbers=self.numbers,
            many=many,
            rules=rules,
            rules_by_concept=_rules_by_concept(rules),
            fuzzy=FuzzyIndex(self.vocabulary),
            stems=FuzzyIndex(stems),
            stem_lengths=tuple(sorted({len(stem) for stem in stems})),
            translit=tuple(sorted(self.translit.items(), key=lambda pair: -len(pair[0]))),
            translit_keys=frozenset(self.translit_keys),
            latin_keys=frozenset(self.latin_keys),
            vocabulary=frozenset(self.vocabulary),
            languages=languages,
        )


def _rules_by_concept(rules: Sequence[Rule]) -> dict[str, tuple[int, ...]]:
    """The rules each concept can set off: those whose first item names it (positions)."""
    found: dict[str, list[int]] = {}
    for position, rule in enumerate(rules):
        for concept in rule.all[0]:
            found.setdefault(concept, []).append(position)
    return {concept: tuple(positions) for concept, positions in found.items()}


def _specs(text: str, where: str, concept: str) -> tuple[Spec, ...]:
    """An entry's tokens: "word" (its forms and lemmas), "stem*" (a prefix), or several of
    them, a phrase matched token by token."""
    specs: list[Spec] = []
    for chunk in _INNER_HYPHEN.sub(" ", normalise(text)[0]).split():
        if chunk.startswith("=") and len(chunk) > 1:
            specs.extend(Spec(frozenset({word}), exact=True) for word in tokenise(chunk[1:]))
            continue
        if chunk.endswith("*"):
            stem = chunk.rstrip("*")
            if len(stem) < 3 or tokenise(stem) != [stem]:
                raise ValueError(f"{where}: {concept}: a prefix needs 3 letters: {text!r}")
            specs.append(Spec(frozenset(), stem))
            continue
        for word in tokenise(chunk):
            if word not in SENTENCE_END and word not in CLAUSE_END:
                # A Russian word means its lemma too; an English one itself (the text's
                # "pills" is also read as "pill", but the list's "news" is not "new").
                specs.append(Spec(main_lemma(word)))
    if not specs:
        raise ValueError(f"{where}: {concept}: empty entry {text!r}")
    return tuple(specs)


_RULE_FIELDS = frozenset(
    {
        "category",
        "request",
        "topic",
        "all",
        "with",
        "none",
        "window",
        "scope",
        "none_scope",
        "none_window",
        "ordered",
        "max_words",
        "statement",
        "lowered_by",
        "what",
        "fallback",
        "note",
    }
)


def _rule(
    number: int, table: Mapping[str, Any], concepts: frozenset[str], topics: Sequence[str]
) -> Rule:
    where = f"rule {number}"
    unknown = set(table) - _RULE_FIELDS
    if unknown:
        raise ValueError(f"{where}: unknown field {sorted(unknown)[0]!r}")
    category, request, topic = _result(where, table, topics)
    all_ = _items(where, table, "all", concepts)
    if not all_:
        raise ValueError(f"{where}: `all` needs at least one concept")
    window, none_window, max_words = _sizes(where, table)
    lowered = _lowered_by(where, table)
    try:
        scope = Scope(table.get("scope", "sentence"))
        none_scope = Scope(table.get("none_scope", "clause"))
    except ValueError:
        raise ValueError(f"{where}: scope is clause, sentence or message") from None
    return Rule(
        number=number,
        category=category,
        request=request,
        topic=topic,
        all=all_,
        with_=_items(where, table, "with", concepts),
        none=_union(where, table, "none", concepts),
        window=window,
        scope=scope,
        none_scope=none_scope,
        none_window=none_window,
        ordered=bool(table.get("ordered", False)),
        max_words=max_words,
        statement=bool(table.get("statement", False)),
        what=_union(where, table, "what", concepts),
        fallback=bool(table.get("fallback", False)),
        lowered_by=lowered,
    )


def _result(
    where: str, table: Mapping[str, Any], topics: Sequence[str]
) -> tuple[Category | None, Request | None, str | None]:
    """What the rule produces: exactly one of a category, a request or a topic."""
    results = [name for name in ("category", "request", "topic") if name in table]
    if len(results) != 1:
        raise ValueError(f"{where}: needs exactly one of category, request or topic")
    if "category" in table:
        try:
            return Category(str(table["category"])), None, None
        except ValueError:
            raise ValueError(f"{where}: unknown category {table['category']!r}") from None
    if "request" in table:
        try:
            return None, Request(str(table["request"])), None
        except ValueError:
            raise ValueError(f"{where}: unknown request {table['request']!r}") from None
    topic = str(table["topic"])
    if topic not in topics:
        raise ValueError(f"{where}: unknown topic {topic!r}")
    return None, None, topic


def _items(
    where: str, table: Mapping[str, Any], name: str, concepts: frozenset[str]
) -> tuple[frozenset[str], ...]:
    """A list field of concept names, each item its alternatives ("a | b")."""
    raw = table.get(name, [])
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise ValueError(f"{where}: {name} must be a list of concept names")
    found = []
    for item in raw:
        names = frozenset(part.strip() for part in item.split("|"))
        for concept in names:
            if concept not in concepts:
                raise ValueError(f"{where}: unknown concept {concept!r}")
        found.append(names)
    return tuple(found)


def _union(
    where: str, table: Mapping[str, Any], name: str, concepts: frozenset[str]
) -> frozenset[str]:
    """Every concept a list field names, its alternatives and items alike."""
    if not table.get(name):
        return frozenset()
    return frozenset().union(*_items(where, table, name, concepts))


def _sizes(where: str, table: Mapping[str, Any]) -> tuple[int | None, int, int | None]:
    """``window``, ``none_window`` and ``max_words``, each a number of tokens."""
    window = table.get("window")
    if window is not None and (not isinstance(window, int) or window < 1):
        raise ValueError(f"{where}: window must be a positive number of tokens")
    none_window = table.get("none_window", 2)
    if not isinstance(none_window, int) or none_window < 0:
        raise ValueError(f"{where}: none_window must be a number of tokens")
    max_words = table.get("max_words")
    if max_words is not None and (not isinstance(max_words, int) or max_words < 1):
        raise ValueError(f"{where}: max_words must be a positive number")
    return window, none_window, max_words


_LOWERED_BY = ("negation", "question", "history", "other")


def _lowered_by(where: str, table: Mapping[str, Any]) -> frozenset[str]:
    lowered = table.get("lowered_by", list(_LOWERED_BY))
    if not isinstance(lowered, list) or not set(lowered) <= set(_LOWERED_BY):
        raise ValueError(f"{where}: lowered_by lists negation, question, history or other")
    return frozenset(lowered)
