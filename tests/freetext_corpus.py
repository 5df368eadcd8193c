"""The free-text corpus (``tests/data/freetext_corpus.toml``): load, classify, report.

``python -m tests.freetext_corpus`` prints recall per language and kind, and the false alarms
on everyday messages. The test that replays the corpus through the Bot API stand-in is
``tests/test_freetext_corpus.py``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bot.content import load_pack
from bot.domain.redflags import Intent, IntentRules, classify

CORPUS = Path(__file__).resolve().parent / "data" / "freetext_corpus.toml"
CONTENT_DIR = Path(__file__).resolve().parent.parent / "bot" / "pack"
EXPECTED: dict[str, Intent] = {
    "emergency": Intent.EMERGENCY,
    "ran_out": Intent.RAN_OUT,
    "wants_to_stop": Intent.WANTS_TO_STOP,
    "everyday": Intent.OTHER,
}


@dataclass(frozen=True)
class Sample:
    language: str
    kind: str  # a key of EXPECTED
    text: str

    @property
    def expected(self) -> Intent:
        return EXPECTED[self.kind]


def samples() -> list[Sample]:
    with CORPUS.open("rb") as handle:
        raw = tomllib.load(handle)
    return [
        Sample(language, kind, text)
        for language, kinds in raw.items()
        for kind, texts in kinds.items()
        for text in texts
    ]


@dataclass(frozen=True)
class Figure:
    language: str
    kind: str
    right: int
    total: int

    def line(self) -> str:
        share = 100.0 * self.right / self.total if self.total else 100.0
        if self.kind == "everyday":
            alarms = self.total - self.right
            return f"{self.language}  {self.kind:<14} false alarms {alarms}/{self.total}"
        return f"{self.language}  {self.kind:<14} recall {self.right}/{self.total} ({share:.1f} %)"


def figures(outcomes: Iterable[tuple[Sample, Intent]]) -> list[Figure]:
    """Right answers per language and kind; ``outcomes`` pairs a sample with what it got."""
    counts: dict[tuple[str, str], list[int]] = {}
    for sample, got in outcomes:
        right, total = counts.setdefault((sample.language, sample.kind), [0, 0])
        counts[(sample.language, sample.kind)] = [right + (got is sample.expected), total + 1]
    return [Figure(lang, kind, right, total) for (lang, kind), (right, total) in counts.items()]


def classify_all(rules: IntentRules) -> list[tuple[Sample, Intent]]:
    return [(sample, classify(sample.text, rules).intent) for sample in samples()]


def main() -> None:
    outcomes = classify_all(load_pack(CONTENT_DIR).intents)
    print(f"{len(outcomes)} messages in {CORPUS.name}")
    for figure in figures(outcomes):
        print(figure.line())
    for sample, got in outcomes:
        if got is not sample.expected:
            print(f"  wrong: [{sample.language} {sample.kind}] {sample.text!r} -> {got.label}")


if __name__ == "__main__":
    main()
