"""Free-text figures on both corpora: recall, false alarms, questions, ask-backs.

``python -m tests.freetext_eval`` prints, per corpus and language:
- emergency recall (an ask-back on an emergency counts as half);
- false alarms: everyday messages (and requests, thanks, questions) answered as an emergency;
- stop / ran-out recall;
- questions answered first (not with the emergency answer) and with the right topic;
- how many messages of each corpus land on the ask-back buttons.

The held-out sets (``tests/data/freetext_heldout*.toml``) were written by people who never saw
the patterns, each measured first before anything was changed for it. They are only ever
measured, in aggregate: this script prints no held-out message, so nobody tunes to them. The
tuning corpus is ``tests/data/freetext_corpus*.toml`` (one file per batch); ``--batch FILE``
measures a new batch of tuning messages (same format) before it joins the corpus.
"""

from __future__ import annotations

import argparse
import tomllib
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent
HELD_OUT = ROOT / "data" / "freetext_heldout.toml"  # set 1, written 2026-12-01
HELD_OUT_SETS = {
    "held-out": HELD_OUT,
    "held-out 2": ROOT / "data" / "freetext_heldout2.toml",  # set 2, written 2026-12-02
    "held-out 3": ROOT / "data" / "freetext_heldout3.toml",  # set 3, written 2026-12-03
    "held-out 4": ROOT / "data" / "freetext_heldout4.toml",  # set 4, written 2026-12-03
    "held-out 5": ROOT / "data" / "freetext_heldout5.toml",  # set 5, written 2026-12-03
    "held-out 6": ROOT / "data" / "freetext_heldout6.toml",  # set 6, written 2026-12-03
    "held-out 7": ROOT / "data" / "freetext_heldout7.toml",  # set 7, written 2026-12-04
    "held-out 8": ROOT / "data" / "freetext_heldout8.toml",  # set 8, written 2026-12-04
}
TUNING = tuple(sorted((ROOT / "data").glob("freetext_corpus*.toml")))

# What the bot answered, in the terms of the labels.
EMERGENCY = "emergency"
RAN_OUT = "ran_out"
WANTS_TO_STOP = "wants_to_stop"
QUESTION = "question"
ASK_BACK = "ask_back"
OTHER = "other"


@dataclass(frozen=True)
class Labelled:
    language: str
    label: str
    text: str
    topic: str | None = None


@dataclass(frozen=True)
class Answer:
    kind: str  # one of the constants above, or a request ("forgot_dose", "thanks", ...)
    topic: str | None = None  # the fact topic shown first (or after the alarm)


def held_out(path: Path = HELD_OUT) -> list[Labelled]:
    with path.open("rb") as handle:
        raw = tomllib.load(handle)
    return [
        Labelled(language, entry["label"], entry["text"], entry.get("topic"))
        for language, entries in raw.items()
        for entry in entries
    ]


def tuning(*paths: Path) -> list[Labelled]:
    """The tuning corpus (every batch, or these files): lists per language and kind; a question
    list is ``question_<topic>``."""
    found: list[Labelled] = []
    for path in paths or TUNING:
        with path.open("rb") as handle:
            raw = tomllib.load(handle)
        found.extend(_labelled(raw))
    return found


def _labelled(raw: dict[str, dict[str, list[str]]]) -> list[Labelled]:
    found: list[Labelled] = []
    for language, kinds in raw.items():
        for kind, texts in kinds.items():
            label, topic = kind, None
            if kind.startswith("question_"):
                label, topic = QUESTION, kind.removeprefix("question_")
            found.extend(Labelled(language, label, text, topic) for text in texts)
    return found


_NOT_ALARMS = {"everyday", "forgot_dose", "took_it", "pause_reminders", "thanks", QUESTION}


@dataclass
class Share:
    """How many of the counted samples were right (or, for false alarms, wrong)."""

    part: float = 0.0
    whole: int = 0

    def add(self, hit: float) -> None:
        self.part += hit
        self.whole += 1

    def __str__(self) -> str:
        if not self.whole:
            return "-"
        return f"{self.part:g}/{self.whole} ({100.0 * self.part / self.whole:.1f} %)"


@dataclass
class Tally:
    emergency: Share = field(default_factory=Share)  # recall; an ask-back counts half
    alarms: Share = field(default_factory=Share)  # an alarm on a message that is not one
    stops: Share = field(default_factory=Share)  # stop / ran-out recall
    first: Share = field(default_factory=Share)  # questions answered first
    right_topic: Share = field(default_factory=Share)  # questions on the right topic
    requests: Share = field(default_factory=Share)  # requests answered as asked
    asked_back: Share = field(default_factory=Share)  # of every message

    def lines(self, name: str) -> list[str]:
        return [
            f"{name}: emergency recall {self.emergency}",
            f"{name}: false alarms {self.alarms}",
            f"{name}: stop / ran-out recall {self.stops}",
            f"{name}: questions answered first {self.first}, right topic {self.right_topic}",
            f"{name}: requests answered as asked {self.requests}",
            f"{name}: ask-back buttons {self.asked_back}",
        ]


def tally(samples: Iterable[tuple[Labelled, Answer]]) -> dict[str, Tally]:
    tallies: dict[str, Tally] = defaultdict(Tally)
    for sample, answer in samples:
        figures = tallies[sample.language]
        figures.asked_back.add(answer.kind == ASK_BACK)
        if sample.label == EMERGENCY:
            figures.emergency.add(
                1.0 if answer.kind == EMERGENCY else 0.5 * (answer.kind == ASK_BACK)
            )
            continue
        if sample.label in _NOT_ALARMS:
            figures.alarms.add(answer.kind == EMERGENCY)
        if sample.label in (RAN_OUT, WANTS_TO_STOP):
            figures.stops.add(answer.kind == sample.label)
        elif sample.label == QUESTION:
            figures.first.add(answer.kind == QUESTION)
            figures.right_topic.add(answer.topic == sample.topic)
        elif sample.label in ("forgot_dose", "took_it", "pause_reminders", "thanks"):
            figures.requests.add(answer.kind == sample.label)
    return dict(tallies)


Understand = Callable[[str, str], Answer]  # (text, the chat's language) -> what the bot does


def report(understand: Understand, corpora: dict[str, list[Labelled]]) -> list[str]:
    lines = []
    for name, samples in corpora.items():
        tallies = tally((sample, understand(sample.text, sample.language)) for sample in samples)
        for language, figures in sorted(tallies.items()):
            lines.extend(figures.lines(f"{name} {language}"))
    return lines


def current_understanding() -> Understand:
    """The bot's free-text understanding as it is (``bot.domain.understanding``)."""
    from bot.content import load_library
    from tests.conftest import CONTENT_DIR

    library = load_library(CONTENT_DIR)
    from bot.domain.understanding import Meaning, understand

    kinds = {
        Meaning.EMERGENCY: EMERGENCY,
        Meaning.RAN_OUT: RAN_OUT,
        Meaning.WANTS_TO_STOP: WANTS_TO_STOP,
        Meaning.QUESTION: QUESTION,
        Meaning.UNSURE: ASK_BACK,
        Meaning.OTHER: OTHER,
    }

    def answer(text: str, language: str) -> Answer:
        reading = understand(text, library.get(language).intents)
        topic = (
            reading.topic if reading.is_question or reading.meaning is Meaning.QUESTION else None
        )
        return Answer(kinds.get(reading.meaning, reading.meaning.value), topic)

    return answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tuning-only", action="store_true", help="skip the held-out sets")
    parser.add_argument("--batch", type=Path, help="also measure this new batch of tuning messages")
    arguments = parser.parse_args()
    corpora = {"tuning": tuning()}
    if arguments.batch is not None:
        corpora["batch"] = tuning(arguments.batch)
    if not arguments.tuning_only:
        corpora.update(
            (name, held_out(path)) for name, path in HELD_OUT_SETS.items() if path.exists()
        )
    for line in report(current_understanding(), corpora):
        print(line)


if __name__ == "__main__":
    main()
