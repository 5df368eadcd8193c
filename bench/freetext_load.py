"""How fast is the free-text understanding, and what does its lexicon cost in memory?

    python -m bench.freetext_load [--rounds 3]

Pinned to one core. Prints: the resident memory of the process before the content pack (and
with it the concept lexicon: pymorphy3's Russian dictionaries, the lemmas of the vocabulary,
the fuzzy index) is loaded and after, the load time, and the time ``understand`` takes per
message over both languages of the tuning corpus (``tests/data/freetext_corpus*.toml``): the
first pass (every word new to the token cache, as after a start) and the passes after it.
Tests never assert on these timings; the target is under 5 ms p99 per message on one core.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import tomllib
from pathlib import Path

from bench.memory import rss_mb

ROOT = Path(__file__).resolve().parent.parent
CORPUS = tuple(sorted((ROOT / "tests" / "data").glob("freetext_corpus*.toml")))
PACK = ROOT / "bot" / "pack"


def corpus_messages() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in CORPUS:
        with path.open("rb") as handle:
            raw = tomllib.load(handle)
        for lang, kinds in raw.items():
            found.setdefault(lang, []).extend(t for texts in kinds.values() for t in texts)
    return found


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def one_core() -> str:
    try:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        return f"core {min(os.sched_getaffinity(0))}"
    except (AttributeError, OSError):
        return "not pinned"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3, help="warm passes over the corpus")
    args = parser.parse_args()
    pinned = one_core()
    import bot.content  # the code, without the pack
    import bot.domain.lexicon
    import bot.domain.understanding

    before = rss_mb()
    started = time.perf_counter()
    bot.domain.lexicon._morph()
    morph_s = time.perf_counter() - started
    with_morph = rss_mb()
    started = time.perf_counter()
    problems: list[str] = []
    lexicon = bot.content.loader._concepts(PACK / bot.content.CONCEPTS_DIR, problems)
    lexicon_s = time.perf_counter() - started
    with_lexicon = rss_mb()
    assert not problems, problems
    started = time.perf_counter()
    pack = bot.content.load_pack(PACK)
    load_s = time.perf_counter() - started
    del lexicon
    after = rss_mb()
    lexicon = pack.intents
    messages = corpus_messages()
    print(f"pinned: {pinned}")
    print(f"lexicon: {lexicon!r}, fuzzy index {len(lexicon.fuzzy)} keys")
    print(
        f"RSS before the lexicon {before:.1f} MB; pymorphy3 with its Russian dictionaries"
        f" {with_morph:.1f} MB (+{with_morph - before:.1f} MB, {morph_s * 1000:.0f} ms);"
        f" the lexicon built {with_lexicon:.1f} MB (+{with_lexicon - with_morph:.1f} MB,"
        f" {lexicon_s * 1000:.0f} ms: lemmas of the vocabulary, the fuzzy index)"
    )
    print(f"RSS with the whole pack {after:.1f} MB; the whole pack loads in {load_s * 1000:.0f} ms")
    understand = bot.domain.understanding.understand
    for name, rounds in (("first pass", 1), ("warm passes", args.rounds)):
        for language, texts in sorted(messages.items()):
            times: list[float] = []
            for _ in range(rounds):
                for text in texts:
                    started = time.perf_counter()
                    understand(text, lexicon)
                    times.append((time.perf_counter() - started) * 1000)
            print(
                f"{name:<12} {language}: {len(texts)} messages,"
                f" p50 {percentile(times, 0.5):.2f} ms, p99 {percentile(times, 0.99):.2f} ms,"
                f" max {max(times):.2f} ms,"
                f" mean {statistics.fmean(times):.2f} ms"
            )
    print(f"RSS after the runs {rss_mb():.1f} MB")


if __name__ == "__main__":
    main()
