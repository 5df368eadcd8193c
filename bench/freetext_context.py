"""ConText for the free text: medspaCy's ``ConText`` against the engine's own small one.

    python -m bench.freetext_context            # both, each in a fresh interpreter
    python -m bench.freetext_context --variant own|medspacy   # one, as JSON

Both variants run the same engine (``bot.domain.understanding``): the same tokens, concepts
and rules; only the step that decides whether a match is negated, hypothetical (in a
question), historical or about someone not here differs. The medspaCy variant builds a spaCy
``Doc`` from the engine's tokens (commas kept as terminators), marks the match as an entity
and runs medspaCy's ``ConText`` (blank spaCy pipeline, no model download) with ConText rules
made from the same trigger words of ``bot/pack/concepts/<language>.toml`` (``[context]``):
negation forward/backward (NEGATED_EXISTENCE), hypothetical (HYPOTHETICAL), history
(HISTORICAL), another (FAMILY), terminators (TERMINATE). The rest (a question needs a
hypothetical trigger, "now" keeps an alarm up, self-harm is never lowered by another) is the
same code.

Per variant, pinned to one core: messages read as their list says per language, the time per
message (p50/p99, first pass and warm), the start-up time of the context step and the
resident memory after it is ready. medspaCy is not a dependency of the bot: install it to
compare (``pip install medspacy``; it pins numpy below 2, so reinstall ``numpy>=2`` after).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.freetext_load import PACK, percentile
from bench.memory import rss_mb
from bot.domain.lexicon import Context, Scope

if TYPE_CHECKING:
    from bot.domain.understanding import Hit, Text

ROOT = Path(__file__).resolve().parent.parent
CONTEXT_CATEGORIES = {
    "negation": ("NEGATED_EXISTENCE", "FORWARD", 6),
    "negation_after": ("NEGATED_EXISTENCE", "BACKWARD", 6),
    "hypothetical": ("HYPOTHETICAL", "BIDIRECTIONAL", None),
    "history": ("HISTORICAL", "BIDIRECTIONAL", 12),
    "other": ("FAMILY", "BIDIRECTIONAL", None),
    "terminator": ("TERMINATE", "TERMINATE", None),
}


def _pattern(literal: str) -> list[dict[str, Any]]:
    """A trigger as a token pattern: a word ending in ``*`` matches as a prefix."""
    return [
        {"LOWER": {"REGEX": f"^{word.rstrip('*')}"}} if word.endswith("*") else {"LOWER": word}
        for word in literal.replace("-", " ").split()
    ]


def _context_rules(rule: Callable[..., Any]) -> list[Any]:
    """medspaCy ConText rules (made by ``rule``, its ``ConTextRule``) from the trigger words of
    every language's ``[context]``, and a comma as a terminator."""
    rules = [rule(",", "TERMINATE", direction="TERMINATE")]
    for path in sorted((PACK / "concepts").glob("*.toml")):
        if path.name == "rules.toml":
            continue
        with path.open("rb") as handle:
            triggers = tomllib.load(handle).get("context", {})
        for name, (category, direction, scope) in CONTEXT_CATEGORIES.items():
            for literal in triggers.get(name, []):
                rules.append(
                    rule(
                        literal,
                        category,
                        pattern=_pattern(literal),
                        direction=direction,
                        max_scope=scope,
                    )
                )
    return rules


def _doc_maker(nlp: Any, doc_class: Any) -> Callable[[Text], tuple[Any, list[int]]]:
    """The spaCy ``Doc`` of the engine's tokens (a comma between clauses, a sentence start
    where the engine's sentence changes) and the Doc index of each engine token; the last
    one is kept, as the engine asks about one text many times in a row."""
    docs: dict[int, tuple[Text, Any, list[int]]] = {}

    def doc_of(text: Text) -> tuple[Any, list[int]]:
        cached = docs.get(id(text))
        if cached is not None and cached[0] is text:
            return cached[1], cached[2]
        words: list[str] = []
        starts: list[bool] = []
        where: list[int] = []  # the Doc index of each engine token
        for token in text.tokens:
            previous = text.tokens[token.index - 1] if token.index else None
            new_sentence = previous is None or previous.sentence != token.sentence
            if previous is not None and not new_sentence and previous.clause != token.clause:
                words.append(",")
                starts.append(False)
            where.append(len(words))
            words.append(token.text)
            starts.append(new_sentence)
        doc = doc_class(nlp.vocab, words=words, sent_starts=starts)
        docs.clear()
        docs[id(text)] = (text, doc, where)
        return doc, where

    return doc_of


def _verdict(rule: Any, text: Text, match: Sequence[Hit], span: Any) -> str | None:
    """What lowers the match, from the ConText attributes of its span: the same conditions
    as the engine's own step (a question needs the sentence to be one, "now" keeps an alarm
    up, another person only where no person of the patient's own is named)."""
    start = min(hit.start for hit in match)
    end = max(hit.end for hit in match)
    sentence = match[0].sentence
    now = any(
        hit.sentence == sentence and not start <= hit.start <= end
        for hit in text.by_concept.get(Context.NOW, ())
    )
    if "negation" in rule.lowered_by and span._.is_negated:
        return "negation"
    if (
        "question" in rule.lowered_by
        and span._.is_hypothetical
        and sentence in text.questions
        and not now
    ):
        return "question"
    if "history" in rule.lowered_by and span._.is_historical and not now:
        return "history"
    if (
        "other" in rule.lowered_by
        and span._.is_family
        and not text.find("person", Scope.SENTENCE, sentence)
    ):
        return "other"
    return None


def _medspacy_lowered() -> tuple[Callable[..., str | None], float]:
    """The engine's ``_lowered`` step done by medspaCy; and how long building it took."""
    started = time.perf_counter()
    import spacy
    from medspacy.context import ConText, ConTextRule
    from spacy.tokens import Doc, Span

    nlp = spacy.blank("xx")
    context = ConText(nlp, rules=None, prune_on_target_overlap=True)
    context.add(_context_rules(ConTextRule))
    built = time.perf_counter() - started
    doc_of = _doc_maker(nlp, Doc)

    def lowered(rule: Any, text: Text, match: Sequence[Hit]) -> str | None:
        doc, where = doc_of(text)
        start = min(hit.start for hit in match)
        end = max(hit.end for hit in match)
        doc.ents = [Span(doc, where[start], where[end] + 1, label="TARGET")]
        context(doc)
        return _verdict(rule, text, match, doc.ents[0])

    return lowered, built


def run(variant: str) -> dict[str, Any]:
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    import bot.content
    import bot.domain.understanding as engine
    from tests.freetext_corpus import samples

    pack = bot.content.load_pack(PACK)
    before = rss_mb()
    built = 0.0
    if variant == "medspacy":
        lowered, built = _medspacy_lowered()
        engine._lowered = lowered  # type: ignore[assignment]
    ready = rss_mb()
    figures: dict[str, Any] = {
        "variant": variant,
        "startup_ms": built * 1000,
        "rss_before_mb": before,
        "rss_ready_mb": ready,
    }
    corpus = samples()
    wrong: list[str] = []
    for name, rounds in (("first", 1), ("warm", 3)):
        times: dict[str, list[float]] = {}
        right: dict[str, list[int]] = {}
        for _ in range(rounds):
            for sample in corpus:
                started = time.perf_counter()
                reading = engine.understand(sample.text, pack.intents)
                times.setdefault(sample.language, []).append((time.perf_counter() - started) * 1000)
                tally = right.setdefault(sample.language, [0, 0])
                tally[0] += sample.right(reading)
                tally[1] += 1
                if name == "first" and not sample.right(reading):
                    wrong.append(f"[{sample.language} {sample.kind}] {sample.text[:60]!r}")
        for language, values in times.items():
            figures[f"{name}_{language}_p50_ms"] = percentile(values, 0.5)
            figures[f"{name}_{language}_p99_ms"] = percentile(values, 0.99)
            if name == "first":
                figures[f"right_{language}"] = right[language]
    figures["rss_after_mb"] = rss_mb()
    figures["wrong"] = wrong
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--variant", choices=["own", "medspacy"])
    args = parser.parse_args()
    if args.variant:
        print(json.dumps(run(args.variant)))
        return
    for variant in ("own", "medspacy"):
        done = subprocess.run(
            [sys.executable, "-m", "bench.freetext_context", "--variant", variant],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            check=False,
        )
        if done.returncode:
            last = (done.stderr.strip().splitlines() or ["?"])[-1]
            print(f"{variant}: did not run ({last})")
            continue
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"{variant}:")
        for language in ("en", "ru"):
            right, total = figures[f"right_{language}"]
            print(
                f"  {language}: right {right}/{total} ({100 * right / total:.1f} %);"
                f" first pass p50 {figures[f'first_{language}_p50_ms']:.2f} ms"
                f" p99 {figures[f'first_{language}_p99_ms']:.2f} ms;"
                f" warm p50 {figures[f'warm_{language}_p50_ms']:.2f} ms"
                f" p99 {figures[f'warm_{language}_p99_ms']:.2f} ms"
            )
        print(
            f"  context start-up {figures['startup_ms']:.0f} ms; RSS with the pack"
            f" {figures['rss_before_mb']:.1f} MB, context ready {figures['rss_ready_mb']:.1f} MB"
            f" (+{figures['rss_ready_mb'] - figures['rss_before_mb']:.1f} MB),"
            f" after the runs {figures['rss_after_mb']:.1f} MB"
        )
        for line in figures["wrong"]:
            print(f"  wrong: {line}")


if __name__ == "__main__":
    main()
