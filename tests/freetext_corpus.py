"""The free-text tuning corpus (``tests/data/freetext_corpus*.toml``): load, understand, report.

The corpus grows in files, one per batch (``freetext_corpus.toml``, ``freetext_corpus_2.toml``,
...), each with the same lists, so a batch can be measured on its own before it joins.

``python -m tests.freetext_corpus [FILE]`` prints, per language and list, how many messages are
read as their list says, and every one that is not (FILE: another file in the same format, such
as a new batch of tuning messages before it joins the corpus; never a held-out set). The lists:
- ``emergency``, ``ran_out``, ``wants_to_stop``: that meaning;
- ``question_<topic>``: a question, with that fact topic first;
- ``forgot_dose``, ``took_it``, ``pause_reminders``, ``thanks``: that request;
- ``everyday``: anything but an alarm (not an emergency, ran out or wants to stop).

The test that replays the corpus through the Bot API stand-in is
``tests/chat/test_freetext_corpus.py``; the figures of ``tests/freetext_eval.py`` cover it too.
"""

from __future__ import annotations

import sys
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bot.content import TOPICS, load_pack
from bot.domain.lexicon import Lexicon
from bot.domain.understanding import Meaning, Reading, understand

DATA = Path(__file__).resolve().parent / "data"
CORPUS = DATA / "freetext_corpus.toml"  # the first batch; every batch is in CORPUS_FILES
CORPUS_FILES = tuple(sorted(DATA.glob("freetext_corpus*.toml")))
CONTENT_DIR = Path(__file__).resolve().parent.parent / "bot" / "pack"
ALARMS = frozenset({Meaning.EMERGENCY, Meaning.RAN_OUT, Meaning.WANTS_TO_STOP})
EXPECTED: dict[str, Meaning | None] = {
    "emergency": Meaning.EMERGENCY,
    "ran_out": Meaning.RAN_OUT,
    "wants_to_stop": Meaning.WANTS_TO_STOP,
    "forgot_dose": Meaning.FORGOT_DOSE,
    "took_it": Meaning.TOOK_IT,
    "pause_reminders": Meaning.PAUSE_REMINDERS,
    "thanks": Meaning.THANKS,
    "everyday": None,  # anything but an alarm
    # Ask back with the buttons: a pet that swallowed tablets is no patient's emergency answer
    # (it is about people), but it must not be read as an intake or pass in silence.
    "unsure": Meaning.UNSURE,
    **{f"question_{topic}": Meaning.QUESTION for topic in TOPICS},
}


@dataclass(frozen=True)
class Sample:
    language: str
    kind: str  # a key of EXPECTED
    text: str

    @property
    def expected(self) -> Meaning | None:
        return EXPECTED[self.kind]

    @property
    def topic(self) -> str | None:
        return self.kind.removeprefix("question_") if self.kind.startswith("question_") else None

    def right(self, reading: Reading) -> bool:
        if self.expected is None:
            return reading.meaning not in ALARMS
        if self.topic is not None:
            return reading.meaning is Meaning.QUESTION and reading.topic == self.topic
        return reading.meaning is self.expected


def samples(*paths: Path) -> list[Sample]:
    """The messages of these files (by default the whole corpus, every batch)."""
    found: list[Sample] = []
    for path in paths or CORPUS_FILES:
        with path.open("rb") as handle:
            raw = tomllib.load(handle)
        found.extend(
            Sample(language, kind, text)
            for language, kinds in raw.items()
            for kind, texts in kinds.items()
            for text in texts
        )
    return found


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
            return f"{self.language}  {self.kind:<24} false alarms {alarms}/{self.total}"
        return f"{self.language}  {self.kind:<24} right {self.right}/{self.total} ({share:.1f} %)"


def figures(outcomes: Iterable[tuple[Sample, bool]]) -> list[Figure]:
    """Right answers per language and list; ``outcomes`` pairs a sample with whether it was."""
    counts: dict[tuple[str, str], list[int]] = {}
    for sample, right in outcomes:
        done, total = counts.setdefault((sample.language, sample.kind), [0, 0])
        counts[(sample.language, sample.kind)] = [done + right, total + 1]
    return [Figure(lang, kind, right, total) for (lang, kind), (right, total) in counts.items()]


def read_all(lexicon: Lexicon, *paths: Path) -> list[tuple[Sample, Reading]]:
    return [(sample, understand(sample.text, lexicon)) for sample in samples(*paths)]


def main() -> None:
    paths = tuple(Path(arg) for arg in sys.argv[1:]) or CORPUS_FILES
    if any("heldout" in path.name for path in paths):
        sys.exit("A held-out set is measured, never read: python -m tests.freetext_eval")
    outcomes = read_all(load_pack(CONTENT_DIR).intents, *paths)
    print(f"{len(outcomes)} messages in {', '.join(path.name for path in paths)}")
    for figure in figures((sample, sample.right(got)) for sample, got in outcomes):
        print(figure.line())
    for sample, got in outcomes:
        if not sample.right(got):
            print(
                f"  wrong: [{sample.language} {sample.kind}] {sample.text!r}"
                f" -> {got.meaning.value} {got.topic or ''}"
            )


if __name__ == "__main__":
    main()
