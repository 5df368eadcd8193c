"""The free-text corpus, replayed through the Bot API stand-in: every emergency answered with
the emergency number first, every stop or ran-out message with its guidance, and no alarm on
everyday messages (figures: ``python -m tests.freetext_corpus``)."""

from __future__ import annotations

from collections import Counter

from bot.content import ContentLibrary, ContentPack
from bot.domain.redflags import Intent, classify
from tests.conftest import RunningBot
from tests.freetext_corpus import classify_all, figures, samples

FIRST_USER = 710_000
ANSWERS = {
    Intent.EMERGENCY: ("redflag.first", "redflag.self_harm"),
    Intent.RAN_OUT: ("stop.ran_out",),
    Intent.WANTS_TO_STOP: ("stop.guidance",),
    Intent.OTHER: ("freetext.pointer",),
}


def openings(pack: ContentPack) -> dict[Intent, tuple[str, ...]]:
    """How each answer starts in this language: its text up to the first placeholder."""

    def start(key: str) -> str:
        text = pack.messages[key]
        assert isinstance(text, str)
        return text.split("{")[0].strip()[:30]

    return {intent: tuple(start(key) for key in keys) for intent, keys in ANSWERS.items()}


def test_the_corpus_is_large_and_covers_both_languages() -> None:
    counts = Counter((sample.language, sample.kind) for sample in samples())
    assert sum(counts.values()) >= 150
    assert sum(n for (language, _), n in counts.items() if language == "ru") >= 80
    assert {kind for _, kind in counts} == {"emergency", "ran_out", "wants_to_stop", "everyday"}


def test_every_message_is_classified_as_written(bot: RunningBot) -> None:
    outcomes = classify_all(bot.pack.intents)
    wrong = [
        (s.language, s.kind, s.text, got.label) for s, got in outcomes if got is not s.expected
    ]
    report = "\n".join(figure.line() for figure in figures(outcomes))
    assert not wrong, f"{report}\n{wrong}"


async def test_the_corpus_through_the_stand_in(bot: RunningBot, library: ContentLibrary) -> None:
    """One new user per message (so flood control never steps in), whose Telegram speaks the
    message's language: no region, so the emergency line is "your local emergency number" in
    that language; the first line carries it."""
    outcomes = []
    for number, sample in enumerate(samples()):
        user = FIRST_USER + number
        pack = library.get(sample.language)
        recognised = classify(sample.text, pack.intents)
        expect_topic = recognised.is_question and recognised.intent is not Intent.OTHER
        before = bot.sent_count(user)
        bot.api.send_text(user, sample.text, language_code=sample.language)
        replies = await bot.next_messages(user, before, 2 if expect_topic else 1)
        got = next(
            (intent for intent, start in openings(pack).items() if replies[0].startswith(start)),
            None,
        )
        if got is Intent.EMERGENCY:
            unknown = pack.text("emergency.unknown_region")
            assert unknown in replies[0].split("\n")[0], replies[0]
        if expect_topic:
            assert replies[1].startswith(pack.text("redflag.question_topic")[:20]), replies[1]
            assert pack.text("facts.source_prefix") in replies[1]
        assert got is not None, (sample, replies[0])
        outcomes.append((sample, got))
    wrong = [(s.text, got.label) for s, got in outcomes if got is not s.expected]
    assert not wrong, "\n".join(figure.line() for figure in figures(outcomes)) + f"\n{wrong}"
