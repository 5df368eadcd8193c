"""The free-text corpus, replayed through the Bot API stand-in: every emergency answered with
the emergency number first, every stop or ran-out message with its guidance, and no alarm on
everyday messages (figures: ``python -m tests.freetext_corpus``)."""

from __future__ import annotations

from collections import Counter

from bot.domain.redflags import Intent, classify
from tests.conftest import RunningBot
from tests.freetext_corpus import classify_all, figures, samples

FIRST_USER = 710_000
OPENINGS = {
    Intent.EMERGENCY: ("<b>This may be an emergency.</b>", "<b>Please reach out for help now.</b>"),
    Intent.RAN_OUT: ("<b>If you have run out of baclofen or already stopped it",),
    Intent.WANTS_TO_STOP: ("<b>Please do not stop baclofen suddenly.</b>",),
    Intent.OTHER: ("I did not understand that.",),
}


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


async def test_the_corpus_through_the_stand_in(bot: RunningBot) -> None:
    """One new user per message (so flood control never steps in): no region, so the
    emergency line is "your local emergency number"; the first line carries it."""
    outcomes = []
    for number, sample in enumerate(samples()):
        user = FIRST_USER + number
        recognised = classify(sample.text, bot.pack.intents)
        expect_topic = recognised.is_question and recognised.intent is not Intent.OTHER
        replies = await bot.say(user, sample.text, replies=2 if expect_topic else 1)
        got = next(
            (intent for intent, openings in OPENINGS.items() if replies[0].startswith(openings)),
            None,
        )
        if got is Intent.EMERGENCY:
            assert "your local emergency number" in replies[0].split("\n")[0], replies[0]
        if expect_topic:
            assert "here is what the sources say" in replies[1], replies[1]
            assert "Source:" in replies[1]
        assert got is not None, (sample, replies[0])
        outcomes.append((sample, got))
    wrong = [(s.text, got.label) for s, got in outcomes if got is not s.expected]
    assert not wrong, "\n".join(figure.line() for figure in figures(outcomes)) + f"\n{wrong}"
