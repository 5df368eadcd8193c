"""Readings of the concept engine added with tuning batches 8 and 9: a clause after a reporting
verb is what was said, not a question (Context.REPORTED); a year is not a count of tablets;
"sch" in Russian typed in Latin letters may be сч as well as щ."""

from __future__ import annotations

import pytest

from bot.content import load_pack
from bot.domain.lexicon import Lexicon, transliterations
from bot.domain.understanding import Meaning, understand
from tests.conftest import CONTENT_DIR

LEXICON: Lexicon = load_pack(CONTENT_DIR).intents


@pytest.mark.parametrize(
    "text",
    [
        "он говорит, что в комнате чужие люди",
        "she keeps saying there are people in the room",
        "мама говорит, что на стене пауки",
    ],
)
def test_what_someone_says_they_see_is_an_alarm_not_a_question(text: str) -> None:
    reading = understand(text, LEXICON)
    assert reading.meaning is Meaning.EMERGENCY, reading
    assert not reading.is_question


def test_a_question_mark_still_makes_it_a_question() -> None:
    assert understand("он говорит, что можно пить с алкоголем?", LEXICON).is_question


def test_a_clause_that_opens_with_a_question_word_is_still_a_question_elsewhere() -> None:
    # Without a reporting verb before the comma, the question reading stays.
    assert understand("я на 20 мг, можно выпить вина", LEXICON).is_question


@pytest.mark.parametrize("year", ["2019", "2022", "1999"])
def test_a_year_is_not_a_count_of_tablets(year: str) -> None:
    reading = understand(f"my old pump was taken out in {year}, im on tablets only now", LEXICON)
    assert reading.meaning is not Meaning.EMERGENCY, reading


def test_a_count_of_tablets_is_still_a_count() -> None:
    assert understand("took 12 tablets, im on tablets only now", LEXICON).meaning is (
        Meaning.EMERGENCY
    )


def test_sch_in_latin_letters_is_read_as_both_shch_and_sch() -> None:
    readings = transliterations("ischeznut", LEXICON.translit)
    assert "исчезнуть" in readings
    assert "ищезнуть" in readings
    assert understand("hochu prosto ischeznut, tabletki u menya est", LEXICON).meaning is (
        Meaning.EMERGENCY
    )
