"""What a patient's free text means: an emergency, a stop or ran-out message, a question with
its fact topic, an everyday request, thanks, or "not sure" (ask back with buttons).

Pure: no Telegram, no database. The caller passes the text and the compiled lexicon
(``bot.domain.lexicon``, built from ``bot/pack/concepts/`` by the pack loader).

How (docs/content-pack.md, "concepts/"):
1. the text is normalised (``redflags.normalise``) and cut into sentences, clauses and tokens;
2. each token is looked up as itself, its lemmas (Russian, pymorphy3), its transliteration
   (Russian typed in Latin letters, when the sentence reads as such) and, for an unknown word
   of six letters or more, the vocabulary words one edit away (rapidfuzz): the concepts found,
   one-word entries, prefixes and phrases;
3. a rule fires when its concepts meet within a window of tokens or one sentence;
4. each firing is put in context as ConText / NegEx do: negated ("no seizures so far"), a
   general question ("can baclofen cause seizures?"), history ("years ago"), or not a person
   here now ("the dog"); only these lower an alarm, and never a self-harm rule by "another";
5. the most urgent unlowered result wins: an emergency, ran out, wants to stop, a request, a
   question with its best topic, thanks, unsure, nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import pairwise, product

from bot.domain.lexicon import (
    CLAUSE_END,
    HISTORY_SCOPE,
    LINE_BREAK,
    NEGATION_SCOPE,
    SENTENCE_END,
    Context,
    Lexicon,
    Request,
    Rule,
    Scope,
    is_noun,
    tokenise,
)
from bot.domain.redflags import CATEGORIES, Category, Intent, normalise


class Meaning(StrEnum):
    """What the bot answers, most urgent first."""

    EMERGENCY = "emergency"  # the emergency answer first
    RAN_OUT = "ran_out"  # ran out or already stopped: act today
    WANTS_TO_STOP = "wants_to_stop"  # do not stop suddenly; the taper flow
    QUESTION = "question"  # a question: its fact topic (``Reading.topic``) first
    FORGOT_DOSE = "forgot_dose"  # the missed-dose rule for the latest dose
    TOOK_IT = "took_it"  # offer to record it against the latest open dose (on a press)
    PAUSE_REMINDERS = "pause_reminders"  # stop or move the reminders (not the medicine)
    THANKS = "thanks"  # thanks, greetings, ok: a short friendly reply
    UNSURE = "unsure"  # mentions a sign, an amount, the drug or a person: ask back
    OTHER = "other"  # nothing recognised


_URGENCY = {meaning: rank for rank, meaning in enumerate(Meaning)}


@dataclass(frozen=True)
class Reading:
    meaning: Meaning
    categories: frozenset[Category] = frozenset()  # the emergency / stop categories found
    topic: str | None = None  # the fact topic that answers it (questions, and alarms)
    is_question: bool = False
    # Alarm categories that were found but lowered by their context: negated, a general
    # question, history, or not about a person here now.
    lowered: frozenset[Category] = frozenset()


# ------------------------------------------------------------------ tokens in their places


@dataclass
class Token:
    text: str
    index: int  # among the words of the form (punctuation left out)
    sentence: int
    clause: int
    keys: frozenset[str]
    latin: bool
    surfaces: frozenset[str] = frozenset()
    position: int = 0  # among all the tokens of the form, punctuation included


@dataclass(frozen=True)
class Hit:
    concept: str
    start: int  # word indexes, inclusive
    end: int
    sentence: int
    clause: int


@dataclass
class Text:
    """One normalised form, analysed."""

    tokens: list[Token]
    hits: list[Hit]
    by_concept: dict[str, list[Hit]]
    questions: set[int]  # sentences that are questions
    words: int = 0
    _by_unit: dict[tuple[str, Scope, int], list[Hit]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for hit in self.hits:
            self._by_unit.setdefault((hit.concept, Scope.SENTENCE, hit.sentence), []).append(hit)
            self._by_unit.setdefault((hit.concept, Scope.CLAUSE, hit.clause), []).append(hit)

    def find(self, concept: str, unit: Scope, unit_id: int) -> list[Hit]:
        if unit is Scope.MESSAGE:
            return self.by_concept.get(concept, [])
        return self._by_unit.get((concept, unit, unit_id), [])


_LATIN_WORD = frozenset("abcdefghijklmnopqrstuvwxyz'")


def analyse(form: str, lexicon: Lexicon) -> Text:
    raw_tokens = tokenise(form)
    tokens, questions = _place(raw_tokens, lexicon)
    _transliterate(tokens, lexicon)
    hits: list[Hit] = []
    for token in tokens:
        hits.extend(_token_hits(tokens, raw_tokens, token, lexicon))
    hits = _without_pseudo(hits)
    hits.extend(_noun_negations(hits, tokens))
    by_concept: dict[str, list[Hit]] = {}
    for hit in hits:
        by_concept.setdefault(hit.concept, []).append(hit)
    questions |= _opened_questions(tokens, by_concept)
    return Text(tokens, hits, by_concept, questions, len(tokens))


def _place(raw_tokens: Sequence[str], lexicon: Lexicon) -> tuple[list[Token], set[int]]:
    """The words of the form, each in its sentence and clause (punctuation ends them), and
    the sentences that end in a question mark."""
    tokens: list[Token] = []
    sentence = clause = 0
    questions: set[int] = set()
    for position, raw in enumerate(raw_tokens):
        if raw in SENTENCE_END:
            if raw == "?" and tokens and tokens[-1].sentence == sentence:
                questions.add(sentence)
            if tokens and tokens[-1].sentence == sentence:
                sentence += 1
                clause += 1
            continue
        if raw in CLAUSE_END:
            if tokens and tokens[-1].clause == clause:
                clause += 1
            continue
        latin = set(raw) <= _LATIN_WORD
        tokens.append(
            Token(
                raw,
                len(tokens),
                sentence,
                clause,
                lexicon.keys(raw),
                latin,
                frozenset({raw}),
                position,
            )
        )
    return tokens, questions


def _token_hits(
    tokens: Sequence[Token], raw_tokens: Sequence[str], token: Token, lexicon: Lexicon
) -> Iterator[Hit]:
    """The concepts one token is found as: its words, a number (not a time of day) and how
    big, and the phrases it starts."""
    for concept in lexicon.concepts_of(token.keys, token.surfaces):
        yield Hit(concept, token.index, token.index, token.sentence, token.clause)
    value = _number(token.text) if token.text[0].isdigit() else lexicon.number(token.keys)
    if value is not None and not _clock_time(tokens, raw_tokens, token) and not _year(token):
        yield Hit("number", token.index, token.index, token.sentence, token.clause)
        for concept, floor in (("number_two", 2), ("number_many", lexicon.many)):
            if value >= floor:
                yield Hit(concept, token.index, token.index, token.sentence, token.clause)
    yield from _phrases(tokens, token, lexicon)


def _noun_negations(hits: Sequence[Hit], tokens: Sequence[Token]) -> list[Hit]:
    """A negation for each «не» followed by a noun in its clause («не галлюцинации»)."""
    return [
        Hit(Context.NEGATION, hit.start, hit.end, hit.sentence, hit.clause)
        for hit in hits
        if hit.concept == Context.NEGATION_NOUN
        and hit.end + 1 < len(tokens)
        and tokens[hit.end + 1].clause == hit.clause
        and is_noun(tokens[hit.end + 1].text)
    ]


def _opened_questions(tokens: Sequence[Token], by_concept: dict[str, list[Hit]]) -> set[int]:
    """The sentences a question word opens (or holds anywhere, for a question phrase)."""
    questions: set[int] = set()
    # A sentence is a question when one of its clauses opens with a question word ("I'm on
    # 20 mg, can I drink wine": run-ons put the question after a comma) or it holds a
    # question phrase anywhere.
    # After a comma, "if" / «если» opens a condition, not a question («никто не заметит, если
    # меня не станет»).
    starts = {b.index for a, b in pairwise(tokens) if a.sentence != b.sentence}
    starts |= {tokens[0].index} if tokens else set()  # "👍", "...": no word at all
    conditions = {hit.start for hit in by_concept.get(Context.HYPOTHETICAL, ())}
    openings = starts | {b.index for a, b in pairwise(tokens) if a.clause != b.clause}
    # "so can I ...", «а можно ...»: a lead word moves the opening one word on.
    for hit in by_concept.get(Context.LEAD, ()):
        if hit.start in openings:
            openings.add(hit.end + 1)
            if hit.start in starts:
                starts.add(hit.end + 1)
    said = {hit.end for hit in by_concept.get(Context.REPORTED, ())}
    reported = {b.index for a, b in pairwise(tokens) if a.clause != b.clause and a.index in said}
    for hit in by_concept.get(Context.QUESTION_START, ()):
        if hit.start in reported:
            continue
        if hit.start in openings and (hit.start in starts or hit.start not in conditions):
            questions.add(hit.sentence)
    for hit in by_concept.get(Context.QUESTION_ANY, ()):
        questions.add(hit.sentence)
    return questions


_TRIGGERS = frozenset(
    {Context.NEGATION, Context.NEGATION_AFTER, Context.HYPOTHETICAL, Context.HISTORY, Context.NOW}
)


def _without_pseudo(hits: list[Hit]) -> list[Hit]:
    """Drop the context triggers that sit inside a pseudo-trigger: "oh no I forgot" negates
    nothing, "nothing for 20 years now" is no "now" (NegEx's pseudo-triggers)."""
    pseudo = [hit for hit in hits if hit.concept == Context.PSEUDO]
    if not pseudo:
        return hits
    return [
        hit
        for hit in hits
        if hit.concept not in _TRIGGERS
        or not any(p.start <= hit.start and hit.end <= p.end for p in pseudo)
    ]


_BEFORE_TIME = frozenset({"at", "around", "в", "около"})
_AFTER_TIME = frozenset({"am", "pm", "o'clock", "oclock", "утра", "вечера", "ночи", "дня", "часов"})


def _clock_time(tokens: Sequence[Token], raw: Sequence[str], token: Token) -> bool:
    """A number that is a time of day ("at 7", "8 pm", "10:30", "в 8 утра") counts nothing."""
    if not token.text[0].isdigit():
        return False
    after = tokens[token.index + 1].text if token.index + 1 < len(tokens) else ""
    before = tokens[token.index - 1].text if token.index else ""
    if after in _AFTER_TIME or (token.position + 1 < len(raw) and raw[token.position + 1] == ":"):
        return True
    return before in _BEFORE_TIME and not after.startswith("раз")


def _year(token: Token) -> bool:
    """ "in 2022", «в 2019 году»: four digits from 1900 to 2099 name a year, not a count (a
    count that large is told with its unit, "2000 mg", which the unit rules read)."""
    return len(token.text) == 4 and token.text.isdigit() and 1900 <= int(token.text) <= 2099


def _number(text: str) -> float | None:
    try:
        return float(text.replace(",", "."))
    except ValueError:
        return None


def _transliterate(tokens: list[Token], lexicon: Lexicon) -> None:
    """Read a sentence's Latin words as the transliterated language (Russian typed in Latin
    letters) when more of its words are found that way than as written."""
    if not lexicon.translit:
        return
    sentences: dict[int, list[Token]] = {}
    for token in tokens:
        if token.latin:
            sentences.setdefault(token.sentence, []).append(token)
    for latin in sentences.values():
        read_as_is = read_across = 0
        for token in latin:
            if len(token.text) < 3:
                continue
            read_as_is += lexicon._known(token.keys)
            read_across += lexicon._known(lexicon.translit_keys_of(token.text))
        if read_across and read_across >= read_as_is:
            for token in latin:
                token.keys = token.keys | lexicon.translit_keys_of(token.text)
                token.surfaces = token.surfaces | frozenset(lexicon.translit_surfaces(token.text))


def _phrases(tokens: Sequence[Token], token: Token, lexicon: Lexicon) -> Iterator[Hit]:
    seen: set[int] = set()
    candidates = [phrase for key in token.keys for phrase in lexicon.phrases.get(key, ())]
    following = tokens[token.index + 1] if token.index + 1 < len(tokens) else None
    if following is not None:
        seconds = following.keys | following.surfaces
        candidates.extend(
            phrase
            for key in token.keys | token.surfaces
            for second in seconds
            for phrase in lexicon.phrases.get(f"{key} {second}", ())
        )
    for key in token.keys:
        candidates.extend(
            phrase
            for prefix, phrase in lexicon.prefix_phrases.get(key[:3], ())
            if key.startswith(prefix)
        )
    for phrase in candidates:
        if id(phrase) in seen:
            continue
        seen.add(id(phrase))
        end = token.index + len(phrase.specs) - 1
        if end >= len(tokens) or tokens[end].clause != token.clause:
            continue
        if all(
            spec.matches(tokens[token.index + offset].keys, tokens[token.index + offset].surfaces)
            for offset, spec in enumerate(phrase.specs)
        ):
            yield Hit(phrase.concept, token.index, end, token.sentence, token.clause)


# ------------------------------------------------------------------ rules in context


@dataclass(frozen=True)
class Fired:
    rule: Rule
    lowered: str | None  # None, or "negation", "question", "history", "other"
    sentence: int


def _units(rule: Rule, text: Text) -> list[tuple[Scope, int]]:
    """The sentences (clauses) where the rule's first concept is found, or the message."""
    if rule.scope is Scope.MESSAGE:
        return [(Scope.MESSAGE, 0)]
    found: set[int] = set()
    for concept in rule.all[0]:
        for hit in text.by_concept.get(concept, ()):
            found.add(hit.clause if rule.scope is Scope.CLAUSE else hit.sentence)
    return [(rule.scope, unit) for unit in sorted(found)]


def _present(text: Text, concepts: frozenset[str], unit: Scope, unit_id: int) -> list[Hit]:
    found: list[Hit] = []
    for concept in concepts:
        found.extend(text.find(concept, unit, unit_id))
    return found


def evaluate(rule: Rule, text: Text) -> Fired | None:
    if rule.max_words is not None and text.words > rule.max_words:
        return None
    best: Fired | None = None
    for unit, unit_id in _units(rule, text):
        options = [_present(text, item, unit, unit_id) for item in rule.all]
        if not all(options):
            continue
        if not all(_present(text, item, unit, unit_id) for item in rule.with_):
            continue
        for combination in _combinations(options):
            if _overlap(combination):
                continue  # concepts meet in different words
            if rule.window is not None:
                span = max(h.end for h in combination) - min(h.start for h in combination) + 1
                if span > rule.window:
                    continue
            if rule.ordered and any(a.start > b.start for a, b in pairwise(combination)):
                continue
            if rule.none and _blocked(rule, text, combination):
                continue
            if rule.what and _names_other(rule, text, combination):
                continue
            lowered = _lowered(rule, text, combination)
            fired = Fired(rule, lowered, combination[0].sentence)
            if lowered is None:
                return fired
            best = best or fired
    return best


def _overlap(hits: Sequence[Hit]) -> bool:
    spans = sorted((hit.start, hit.end) for hit in hits)
    return any(b_start <= a_end for (_, a_end), (b_start, _) in pairwise(spans))


def _combinations(options: list[list[Hit]]) -> Iterator[tuple[Hit, ...]]:
    limited = [hits[:6] for hits in options]
    yield from product(*limited)


def _blocked(rule: Rule, text: Text, match: Sequence[Hit]) -> bool:
    """A concept of ``none`` near the match (``none_window`` tokens either side, in its
    clauses), or anywhere in its sentence or message when ``none_scope`` says so."""
    if rule.none_scope is Scope.MESSAGE:
        return bool(_present(text, rule.none, Scope.MESSAGE, 0))
    if rule.none_scope is Scope.SENTENCE:
        return any(
            _present(text, rule.none, Scope.SENTENCE, s) for s in {h.sentence for h in match}
        )
    if any(h.concept in _MEDICINE for h in match):
        return False  # "coming off baclofen": what is stopped is named
    start = min(h.start for h in match)
    end = max(h.end for h in match)
    clauses = {h.clause for h in match}
    # "of my" stands for the pills in "took 10 of my ..."; it names no medicine here.
    medicine = [
        h for h in text.hits if h.concept in _MEDICINE and text.tokens[h.start].text != "of"
    ]
    # "lost my pills on the train": the phrase matched names the medicine, and a word after it
    # names no other thing; right after it, it does ("пол пачки печенья", half a pack of biscuits).
    shields = [
        h for h in match for m in medicine if h.start <= m.start and m.end <= h.end > h.start
    ]
    covered = _covered(match)
    for clause in clauses:
        for hit in _present(text, rule.none, Scope.CLAUSE, clause):
            if not start - rule.none_window <= hit.start <= end + rule.none_window:
                continue
            if _inside(hit, covered):
                continue  # "thinking about stopping": a word of the match itself blocks nothing
            if shields and all(hit.start != shield.end + 1 for shield in shields):
                continue
            # "took too many pills (of my) ...": the medicine named first is what was meant.
            if any(end < m.start < hit.start or hit.end < m.end < start for m in medicine):
                continue
            return True
    return False


_MEDICINE = frozenset({"drug", "pills"})


def _names_other(rule: Rule, text: Text, match: Sequence[Hit]) -> bool:
    """A noun right before or after the match, in its clause, that is none of ``rule.what``:
    the thing the match is about is named, and it is something else («кончились мандарины»,
    «зарплата закончилась»)."""
    start = min(h.start for h in match)
    end = max(h.end for h in match)
    clause = text.tokens[start].clause
    for index in (start - 1, end + 1):
        if not 0 <= index < len(text.tokens) or text.tokens[index].clause != clause:
            continue
        if not is_noun(text.tokens[index].text):
            continue
        if not any(h.start <= index <= h.end and h.concept in rule.what for h in text.hits):
            return True
    return False


def _inside(hit: Hit, covered: set[int]) -> bool:
    return all(i in covered for i in range(hit.start, hit.end + 1))


def _covered(match: Sequence[Hit]) -> set[int]:
    return {i for hit in match for i in range(hit.start, hit.end + 1)}


def _touches(hit: Hit, covered: set[int]) -> bool:
    return bool(covered & set(range(hit.start, hit.end + 1)))


@dataclass(frozen=True)
class _Place:
    """Where a rule's match sits in the text, for putting it in context."""

    rule: Rule
    text: Text
    match: Sequence[Hit]
    covered: set[int]  # the word indexes of the match
    start: int
    end: int
    sentence: int
    clauses: set[int]  # the clauses of the match's words

    @classmethod
    def of(cls, rule: Rule, text: Text, match: Sequence[Hit]) -> _Place:
        covered = _covered(match)
        clauses = {text.tokens[i].clause for i in covered}
        return cls(
            rule, text, match, covered, min(covered), max(covered), match[0].sentence, clauses
        )

    @property
    def first_clause(self) -> int:
        return self.text.tokens[self.start].clause

    @property
    def last_clause(self) -> int:
        return self.text.tokens[self.end].clause

    def triggers(self, context: Context, overlapping: bool = False) -> list[Hit]:
        """The trigger's hits in the sentence; outside the match unless ``overlapping`` ("if I
        forget" asks about the forgetting it contains; "not breathing" is not negated)."""
        return [
            hit
            for hit in self.text.by_concept.get(context, ())
            if hit.sentence == self.sentence and (overlapping or not _touches(hit, self.covered))
        ]

    def terminated(self, low: int, high: int) -> bool:
        return any(low < hit.start < high for hit in self.triggers(Context.TERMINATOR))


def _lowered(rule: Rule, text: Text, match: Sequence[Hit]) -> str | None:
    """Why the context lowers this match, if it does (ConText: trigger, direction, scope)."""
    place = _Place.of(rule, text, match)
    now = any(hit.clause in place.clauses for hit in place.triggers(Context.NOW))
    if "negation" in rule.lowered_by and _negated(place):
        return "negation"
    if "question" in rule.lowered_by and not now and _asked_in_general(place):
        return "question"
    if "history" in rule.lowered_by and not now and _told_as_past(place):
        return "history"
    if (
        "other" in rule.lowered_by
        and place.triggers(Context.OTHER)
        and not _people_here(text, place.sentence)
    ):
        return "other"
    return None


def _negated(place: _Place) -> bool:
    """A negation of the match: before it in its first clause, after it in its last, or
    between its concepts."""
    rule, text = place.rule, place.text
    # A message-wide rule's concepts may sit in different sentences ("had a temperature last
    # week ... I never missed a tablet"): each is put in context on its own, as ConText does.
    if rule.scope is Scope.MESSAGE and any(_negated_alone(hit, text) for hit in place.match):
        return True
    negations = [
        h for h in text.by_concept.get(Context.NEGATION, ()) if h.sentence == place.sentence
    ]
    if _negated_between(place, negations):
        return True
    # "not breathing": the negation is the sign itself, not a word about it.
    if any(_inside(hit, place.covered) for hit in negations):
        return False
    for hit in negations:
        if (
            hit.start < place.start  # "I don't want to stop": it may end inside the match
            and not _inside(hit, place.covered)
            and text.tokens[hit.start].clause == place.first_clause
            and place.start - hit.end <= NEGATION_SCOPE
            and not place.terminated(hit.end, place.start)
        ):
            return True
    return any(
        hit.start > place.end
        and hit.clause == place.last_clause
        and hit.start - place.end <= NEGATION_SCOPE
        and not place.terminated(place.end, hit.start)
        for hit in place.triggers(Context.NEGATION_AFTER)
    )


def _negated_between(place: _Place, negations: Sequence[Hit]) -> bool:
    """ "грудь не болит", "chest does not hurt": a negation between the concepts of an alarm
    negates them."""
    rule, text = place.rule, place.text
    if rule.category is None or rule.scope is Scope.MESSAGE:
        return False  # a request, or concepts told apart in different sentences
    # "не" is the concept "not" in Russian ("не дышит"); between a rule's other concepts it
    # is a negation of them ("грудь не болит").
    uses_not = any("not" in item for item in rule.all)
    nots = [] if uses_not else text.by_concept.get("not", ())
    between = [*negations, *(h for h in nots if h.sentence == place.sentence)]
    return any(
        place.start < hit.start and hit.end < place.end and not _touches(hit, place.covered)
        for hit in between
    )


def _asked_in_general(place: _Place) -> bool:
    """A general question about what the match names ("can baclofen cause seizures?")."""
    return place.sentence in place.text.questions and any(
        # "maybe it's nothing, but he won't wake": a terminator ends the trigger's scope;
        # "he took 10, what to do if it's an overdose?": a trigger after the match lowers
        # it only in its own clause
        not place.terminated(min(hit.end, place.end), max(hit.start, place.start))
        and (hit.start < place.start or hit.clause in place.clauses)
        for hit in place.triggers(Context.HYPOTHETICAL, overlapping=True)
    )


def _told_as_past(place: _Place) -> bool:
    """History ("years ago") in the match's clauses, or a sign told as over later on."""
    for hit in place.triggers(Context.HISTORY, overlapping=True):
        # In the match's own clauses: "I'm boiling, I quit my tablets last week" dates the
        # stopping, not the fever.
        if hit.clause not in place.clauses:
            continue
        # «раньше болело» dates the pain it runs into; "spasms are back in force" has no
        # "back in" that starts before the match, so nothing dates it.
        if _touches(hit, place.covered) and hit.start >= place.start:
            continue
        if abs(hit.start - place.start) <= HISTORY_SCOPE and not place.terminated(
            min(hit.end, place.end), max(hit.start, place.start)
        ):
            return True
    return place.rule.category in _SIGNS and any(
        hit.start > place.end for hit in place.triggers(Context.RESOLVED)
    )


def _people_here(text: Text, sentence: int) -> list[Hit]:
    """The people of the sentence, but not those a story is told about ("an article about
    overdoses in teenagers", «передача про подростков»): they are not here now."""
    about = [h for h in text.find(_TOLD_ABOUT, Scope.SENTENCE, sentence)]
    return [
        person
        for person in text.find("person", Scope.SENTENCE, sentence)
        if not any(a.end < person.start <= a.end + _ABOUT_REACH for a in about)
    ]


_TOLD_ABOUT = "told_about"
_ABOUT_REACH = 3  # "about overdoses in teenagers": the people told about follow closely


# Signs a later "nothing since" can tell as over; what was taken, and self-harm, stay.
_SIGNS = frozenset(
    {
        Category.BREATHING,
        Category.CONSCIOUSNESS,
        Category.CHEST_PAIN,
        Category.SEIZURE,
        Category.HALLUCINATION,
        Category.FEVER_RIGIDITY,
        Category.ALLERGY,
    }
)


def _negated_alone(hit: Hit, text: Text) -> bool:
    """A negation just before this one hit, in its clause, with no terminator between."""
    for negation in text.by_concept.get(Context.NEGATION, ()):
        if (
            negation.clause == hit.clause
            and negation.end < hit.start
            and hit.start - negation.end <= NEGATION_SCOPE
            and not any(
                negation.end < t.start < hit.start
                for t in text.by_concept.get(Context.TERMINATOR, ())
            )
        ):
            return True
    return False


# ------------------------------------------------------------------ the answer


_QUESTION_MARKS_ONLY = re.compile(r"\s*[?？!¿]*\?[?？!¿\s]*")
_REQUESTS = (Request.PAUSE_REMINDERS, Request.FORGOT_DOSE, Request.TOOK_IT)
_MEANING_OF = {
    Request.PAUSE_REMINDERS: Meaning.PAUSE_REMINDERS,
    Request.FORGOT_DOSE: Meaning.FORGOT_DOSE,
    Request.TOOK_IT: Meaning.TOOK_IT,
}


def understand(text: str, lexicon: Lexicon) -> Reading:
    """The most urgent reading of any normalised form of ``text``."""
    if _QUESTION_MARKS_ONLY.fullmatch(text):
        return Reading(Meaning.UNSURE, is_question=True)  # "???": something is wrong; ask
    best: Reading | None = None
    for form in normalise(text.replace("\n", f" {LINE_BREAK} ")):
        reading = _read(analyse(form, lexicon), lexicon)
        if best is None or _URGENCY[reading.meaning] < _URGENCY[best.meaning]:
            best = reading
    return best or Reading(Meaning.OTHER)


def _read(text: Text, lexicon: Lexicon) -> Reading:
    if not text.tokens:
        return Reading(Meaning.OTHER)
    fired = _fired(text, lexicon)
    up = [f for f in fired if f.lowered is None]
    categories = {f.rule.category for f in up if f.rule.category is not None}
    lowered = {
        f.rule.category for f in fired if f.lowered is not None and f.rule.category is not None
    } - categories
    question = bool(text.questions)
    asked = {
        f.rule.category for f in fired if f.lowered == "question" and f.rule.category is not None
    } - categories
    topic = _best_topic(fired, asked, text)
    lowered_alarms = frozenset(c for c in lowered if CATEGORIES[c].intent is Intent.EMERGENCY)
    urgent = _urgent(categories)
    if urgent is not None:
        meaning, found, about = urgent
        return Reading(meaning, found, about, question, lowered_alarms)
    meaning, about = _everyday(text, fired, up, topic, bool(asked))
    return Reading(meaning, frozenset(), about, question, lowered_alarms)


def _fired(text: Text, lexicon: Lexicon) -> list[Fired]:
    """The rules that fire, in rules.toml's order: only those whose every item has a concept
    in the text are evaluated."""
    present = text.by_concept.keys()
    candidates = sorted(
        {i for concept in present for i in lexicon.rules_by_concept.get(concept, ())}
    )
    return [
        found
        for rule in (lexicon.rules[i] for i in candidates)
        if all(not item.isdisjoint(present) for item in rule.all)
        and (found := evaluate(rule, text)) is not None
    ]


# Stopping told, most urgent first: acting today comes before the taper flow.
_STOPPING = (
    (Category.RAN_OUT, Meaning.RAN_OUT),
    (Category.WANTS_TO_STOP, Meaning.WANTS_TO_STOP),
)


def _urgent(
    categories: set[Category],
) -> tuple[Meaning, frozenset[Category], str | None] | None:
    """An emergency (with its alarms' topic), or a stop or ran-out message; None otherwise."""
    alarms = frozenset(c for c in categories if CATEGORIES[c].intent is Intent.EMERGENCY)
    if alarms:
        return Meaning.EMERGENCY, alarms, _category_topic(alarms)
    for category, meaning in _STOPPING:
        if category in categories:
            return meaning, frozenset({category}), "withdrawal"
    return None


def _everyday(
    text: Text, fired: Sequence[Fired], up: Sequence[Fired], topic: str | None, asked: bool
) -> tuple[Meaning, str | None]:
    """A request, a question with its topic, thanks, unsure or nothing, and the topic named."""
    question = bool(text.questions)
    requests = _requests(text, up, topic)
    for request in _REQUESTS:
        if request in requests:
            return _MEANING_OF[request], topic
    if Request.VAGUE in requests and topic is None:
        return Meaning.UNSURE, None
    if topic is not None and (question or asked):
        return Meaning.QUESTION, topic
    statements = {f.rule.topic for f in fired if f.rule.topic is not None and f.rule.statement}
    if topic is not None and topic in statements:
        return Meaning.QUESTION, topic
    if Request.THANKS in requests:
        return Meaning.THANKS, None
    unsure = Request.UNSURE in requests or any(f.lowered == "other" for f in fired)
    if question and topic is None and unsure:
        return Meaning.QUESTION, None
    if unsure:
        return Meaning.UNSURE, None
    return Meaning.OTHER, None


def _requests(text: Text, up: Sequence[Fired], topic: str | None) -> set[Request]:
    """The requests of the unlowered rules, less those a question asks about instead."""
    requests = {f.rule.request for f in up if f.rule.request is not None}
    if (
        Request.FORGOT_DOSE in requests
        and topic == "missed"
        and _asks(text, up, Request.FORGOT_DOSE)
    ):
        # «до какого времени можно выпить пропущенную таблетку»: a question that opens with a
        # question word asks the rule; "I forgot my dose, can I take it now?" tells first.
        requests.discard(Request.FORGOT_DOSE)
    if Request.TOOK_IT in requests and topic is not None and text.questions:
        # "took my morning one 2 hours late, do I push the rest back?": the question is what
        # is asked; recording the dose is not.
        requests.discard(Request.TOOK_IT)
    return requests


def _asks(text: Text, fired: Sequence[Fired], request: Request) -> bool:
    """Whether every sentence where ``request`` fired is a question opening with a question
    word."""
    sentences = {f.sentence for f in fired if f.rule.request is request}
    firsts = {s: next(t.index for t in text.tokens if t.sentence == s) for s in sentences}
    leads = {hit.start: hit.end for hit in text.by_concept.get(Context.LEAD, ())}
    opening = {s: leads[first] + 1 if first in leads else first for s, first in firsts.items()}
    starts = {hit.start for hit in text.by_concept.get(Context.QUESTION_START, ())}
    return bool(sentences) and all(s in text.questions and opening[s] in starts for s in sentences)


def _category_topic(categories: frozenset[Category]) -> str | None:
    for category in Category:
        if category in categories:
            return CATEGORIES[category].topic
    return None


_WITHDRAWAL_SIGNS = frozenset(
    {Category.HALLUCINATION, Category.FEVER_RIGIDITY, Category.SEIZURE, Category.WITHDRAWAL}
)


def _best_topic(fired: Sequence[Fired], asked: set[Category], text: Text) -> str | None:
    """The topic whose words are found most often (each firing rule counts its concepts'
    hits in the message); an alarm lowered to a question counts two; ties go to the topic
    whose rule comes first in rules.toml (the more specific ones come first)."""
    scores: dict[str, float] = {}
    first: dict[str, int] = {}
    # A fallback rule ("stop" asked about) counts only when no other topic rule fired.
    specific = any(f.rule.topic is not None and not f.rule.fallback for f in fired)
    for found in fired:
        topic = found.rule.topic
        if topic is None or (found.rule.fallback and (specific or asked)):
            continue
        hits = sum(len(text.by_concept.get(c, ())) for item in found.rule.all for c in item)
        scores[topic] = scores.get(topic, 0.0) + max(1.0, hits / len(found.rule.all))
        first[topic] = min(first.get(topic, found.rule.number), found.rule.number)
    stopping = "withdrawal" in scores
    for category in asked:
        topic = CATEGORIES[category].topic
        if stopping and category in _WITHDRAWAL_SIGNS:
            topic = "withdrawal"  # "can stopping it cause hallucinations?" asks about withdrawal
        scores[topic] = scores.get(topic, 0.0) + 2.0
        first.setdefault(topic, 0)
    if not scores:
        return None
    if "emergency" in scores:
        # "who do I call if someone takes too many?": whom to call is what is asked, whatever
        # the trouble asked about.
        return "emergency"
    return max(scores, key=lambda topic: (scores[topic], -first[topic]))
