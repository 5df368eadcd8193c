"""The concept engine (bot/domain/understanding.py, bot/domain/lexicon.py) on the pack's own
concepts: each rule family, the context scopes (negation, question, history, another person),
transliteration, fuzzy matching and lemmas, and the compiler refusing bad data."""

from __future__ import annotations

from typing import Any

import pytest

from bot.content import load_pack
from bot.domain.lexicon import (
    FuzzyIndex,
    LanguageWords,
    Lexicon,
    compile_lexicon,
    forms,
    lemmas,
    transliterations,
)
from bot.domain.redflags import Category, Intent, classify
from bot.domain.understanding import Meaning, Reading, analyse, understand
from tests.conftest import CONTENT_DIR

LEXICON: Lexicon = load_pack(CONTENT_DIR).intents


def read(text: str) -> Reading:
    return understand(text, LEXICON)


def alarm(text: str) -> frozenset[Category]:
    reading = read(text)
    assert reading.meaning is Meaning.EMERGENCY, (text, reading)
    return reading.categories


# ------------------------------------------------------------------ rule families


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("I can't breathe", Category.BREATHING),
        ("his lips are going blue", Category.BREATHING),
        ("she's only taking a breath every now and then", Category.BREATHING),
        ("не могу дышать", Category.BREATHING),
        ("муж не дышит", Category.BREATHING),
        ("cnt wake my wife up", Category.CONSCIOUSNESS),
        ("не могу разбудить маму", Category.CONSCIOUSNESS),
        ("grandma is on the floor and not responding", Category.CONSCIOUSNESS),
        ("my mum took 10 of her pills", Category.OVERDOSE),
        ("мама выпила десять таблеток", Category.OVERDOSE),
        ("took 6 tablets instead of 1", Category.OVERDOSE),
        ("my toddler ate a baclofen pill", Category.CHILD_INGESTION),
        ("сын проглотил мою таблетку", Category.CHILD_INGESTION),
        ("chest feels like someone is sitting on it, crushing pain", Category.CHEST_PAIN),
        ("she keeps having fits one after another", Category.SEIZURE),
        ("глаза закатились", Category.SEIZURE),
        ("seeing spiders on the walls", Category.HALLUCINATION),
        ("он видит пауков на стенах", Category.HALLUCINATION),
        ("high fever and my muscles are rigid", Category.FEVER_RIGIDITY),
        ("pump is beeping and says low reservoir", Category.PUMP),
        ("my tongue is swollen", Category.ALLERGY),
    ],
)
def test_each_emergency_family(text: str, category: Category) -> None:
    assert category in alarm(text)


@pytest.mark.parametrize(
    "text",
    [
        "i want to take all of them and sleep forever",
        "Everyone would be better off without me. I have enough pills saved",
        "хочу уснуть и не проснуться",
        "всем будет лучше без меня",
        "I want to die",
    ],
)
def test_self_harm_direct_and_indirect_is_its_own_category(text: str) -> None:
    assert Category.SELF_HARM in alarm(text)


def test_concepts_must_meet_within_their_window() -> None:
    assert Category.BREATHING in alarm("it is hard to breathe")
    far = "it was hard to find parking at the clinic today, breathing exercises help me though"
    assert read(far).meaning is not Meaning.EMERGENCY


def test_a_number_of_tablets_needs_a_taking_and_enough_of_them() -> None:
    assert Category.OVERDOSE in alarm("i took 20 tablets")
    assert read("I take 2 tablets in the morning").meaning is not Meaning.EMERGENCY
    assert read("the box has 20 tablets").meaning is not Meaning.EMERGENCY


def test_a_withdrawal_sign_beats_ran_out_and_stop_across_sentences() -> None:
    assert read("I ran out of baclofen.").meaning is Meaning.RAN_OUT
    assert alarm("I ran out of baclofen. Now I'm shaking and confused") == {Category.WITHDRAWAL}
    assert Category.WITHDRAWAL in alarm(
        "okay so my husband stopped his baclofen on Sunday ... now he's burning up and talking"
        " nonsense"
    )
    assert Category.WITHDRAWAL in alarm("бросил баклофен неделю назад, теперь трясет")


@pytest.mark.parametrize(
    ("text", "meaning"),
    [
        ("pharmacy says they have no baclofen in stock", Meaning.RAN_OUT),
        ("уже три дня не пью таблетки", Meaning.RAN_OUT),
        ("I stopped my baclofen on Monday", Meaning.RAN_OUT),
        ("I want to stop taking baclofen", Meaning.WANTS_TO_STOP),
        ("хочу бросить баклофен", Meaning.WANTS_TO_STOP),
        ("I forgot my morning dose", Meaning.FORGOT_DOSE),
        ("забыла выпить утреннюю таблетку", Meaning.FORGOT_DOSE),
        ("just took my evening dose", Meaning.TOOK_IT),
        ("выпила", Meaning.TOOK_IT),
        ("stop the reminders please", Meaning.PAUSE_REMINDERS),
        ("перенеси напоминание на 9 вечера", Meaning.PAUSE_REMINDERS),
        ("thank you so much", Meaning.THANKS),
        ("спасибо", Meaning.THANKS),
        ("I feel a bit dizzy", Meaning.UNSURE),
        ("what is the weather like", Meaning.OTHER),
    ],
)
def test_stops_requests_thanks_and_mentions(text: str, meaning: Meaning) -> None:
    assert read(text).meaning is meaning


@pytest.mark.parametrize(
    "text",
    [
        "the new times fit my work better",
        "the pharmacy ran out of bags",
        "I want to stop the announcements",
        "I drink too much coffee",
        "pressed taken twice by mistake",
        "судороги в ногах по ночам стали реже",
        "батарейка в телефоне закончилась",
        "my husband is not answering his phone",
        "I saw a spider in the bathroom",
    ],
)
def test_look_alikes_do_not_alarm(text: str) -> None:
    assert read(text).meaning not in (Meaning.EMERGENCY, Meaning.RAN_OUT, Meaning.WANTS_TO_STOP)


def test_thanks_is_only_a_short_message() -> None:
    assert read("ok").meaning is Meaning.THANKS
    assert Category.BREATHING in alarm("ok thanks but I can't breathe")


# ------------------------------------------------------------------ context


def test_a_negation_lowers_what_follows_in_its_clause() -> None:
    reading = read("no seizures so far")
    assert reading.meaning is Meaning.OTHER
    assert reading.lowered == {Category.SEIZURE}
    assert read("I don't have any chest pain").meaning is not Meaning.EMERGENCY


def test_a_negation_after_the_term_lowers_it() -> None:
    assert read("судорог не было, всё спокойно").meaning is not Meaning.EMERGENCY


def test_a_negation_stops_at_a_terminator_or_a_comma() -> None:
    assert Category.BREATHING in alarm("no fever but he can't breathe")
    assert Category.BREATHING in alarm("no, he is not breathing")
    assert Category.SEIZURE in alarm("судорог не было, но сейчас начался приступ")


def test_a_negation_that_is_part_of_the_sign_does_not_lower_it() -> None:
    assert Category.BREATHING in alarm("he is not breathing")
    assert Category.CONSCIOUSNESS in alarm("she won't wake up")


def test_a_general_question_about_an_alarm_word_is_a_question() -> None:
    reading = read("can baclofen cause seizures?")
    assert reading.meaning is Meaning.QUESTION
    assert reading.topic == "sideeffects"
    assert reading.is_question
    assert reading.lowered == {Category.SEIZURE}
    assert read("бывают ли галлюцинации от баклофена?").topic == "sideeffects"
    assert read("what are the signs of an overdose?").topic == "overdose"


def test_a_question_about_what_is_happening_now_stays_an_alarm() -> None:
    assert Category.SEIZURE in alarm("he is having a seizure now, can baclofen cause this?")
    assert Category.OVERDOSE in alarm("my son swallowed 5 pills what do I do?")
    assert read("my son swallowed 5 pills what do I do?").is_question


def test_a_terminator_ends_the_scope_of_a_general_question_word() -> None:
    # «может» ("maybe it's nothing") before «но» does not make what follows a general question.
    text = "может ерунда, но муж не просыпается и дышит как-то редко, это нормально?"
    assert Category.CONSCIOUSNESS in alarm(text)
    assert read("может ли баклофен вызвать судороги?").meaning is Meaning.QUESTION
    # A general question word after the match reaches back only within its clause.
    assert Category.OVERDOSE in alarm("муж выпил 10 таблеток, что делать при передозировке?")
    assert read("как понять, что выпил слишком много?").meaning is Meaning.QUESTION


def test_a_pet_that_swallowed_tablets_asks_back_in_russian_too() -> None:
    for text in ("собака сгрызла блистер с таблетками!!", "sobaka s'ela baklofen chto delat"):
        assert read(text).meaning is Meaning.UNSURE, text
    assert read("собака сгрызла тапок").meaning is Meaning.OTHER


def test_a_supply_that_is_refused_or_nearly_gone_is_ran_out() -> None:
    for text in ("рецепт не продлили", "по льготе в этом месяце не дают", "осталось две таблетки"):
        assert read(text).meaning is Meaning.RAN_OUT, text
    for text in ("рецепт продлили, всё в порядке", "осталось 30 таблеток", "аптеку перенесли"):
        assert read(text).meaning is not Meaning.RAN_OUT, text


def test_history_lowers_an_alarm_unless_it_is_happening_again() -> None:
    assert read("I had a seizure years ago, long before baclofen").meaning is not (
        Meaning.EMERGENCY
    )
    assert Category.SEIZURE in alarm("I had a seizure years ago and now again")


def test_another_being_not_here_lowers_to_asking_back() -> None:
    assert read("watching a movie where someone overdoses").meaning is Meaning.UNSURE


def test_self_harm_and_third_person_are_never_lowered_by_another() -> None:
    assert Category.SELF_HARM in alarm("my dog died and I want to kill myself")
    assert Category.OVERDOSE in alarm("my mum took 10 of her pills after the film")


def test_a_question_gets_its_best_topic() -> None:
    cases = {
        "Can I drink alcohol with baclofen?": "interactions",
        "I'm pregnant, is baclofen safe?": "pregnancy",
        "what is the half life of baclofen": "halflife",
        "is baclofen ok with kidney disease?": "warnings",
        "what should I do if I miss a dose?": "missed",
        "можно ли водить машину на баклофене?": "warnings",
        "какая максимальная доза баклофена?": "dosage",
    }
    for text, topic in cases.items():
        reading = read(text)
        assert (reading.meaning, reading.topic) == (Meaning.QUESTION, topic), text


def test_a_hypothetical_stop_or_missed_dose_is_a_question() -> None:
    assert read("what happens if I stop baclofen suddenly?").topic == "withdrawal"
    assert read("what happens if I stop baclofen suddenly?").meaning is Meaning.QUESTION
    assert read("I forgot my dose, what should I do?").meaning is Meaning.FORGOT_DOSE


def test_line_breaks_end_sentences() -> None:
    assert Category.SEIZURE in alarm("no fever\nhe had a seizure")


# ------------------------------------------------------------------ tokens, lemmas, translit, fuzzy


def test_russian_words_are_read_as_their_lemmas() -> None:
    assert "таблетка" in lemmas("таблеток")
    assert "муж" in lemmas("мужа")
    assert "трясти" in forms("трясет")
    assert forms("seizures") >= {"seizures", "seizure"}


def test_russian_typed_in_latin_letters_is_transliterated() -> None:
    assert "дышать" in {
        lemma
        for variant in transliterations("dyshat", LEXICON.translit)
        for lemma in lemmas(variant)
    }
    assert "закончились" in transliterations("zakonchilis", LEXICON.translit)
    assert "больше" in transliterations("bolshe", LEXICON.translit)  # the soft sign left out
    assert "пищит" in transliterations("piwit", LEXICON.translit)  # w for щ (or ш)
    assert "машину" in transliterations("mawinu", LEXICON.translit)
    assert Category.SELF_HARM in alarm("ne hochu bolshe zhit")
    assert Category.BREATHING in alarm("ne mogu dyshat")
    assert Category.BREATHING in alarm("muzh ne dyshit pomogite")
    assert read("tabletki zakonchilis").meaning is Meaning.RAN_OUT
    assert Category.OVERDOSE in alarm("peredoz baklofena")


def test_an_english_sentence_is_not_read_as_russian() -> None:
    text = analyse("he is not breathing", LEXICON)
    assert all(not any("а" <= ch <= "я" for key in t.keys for ch in key) for t in text.tokens)


def test_mixed_scripts_in_one_message() -> None:
    assert Category.OVERDOSE in alarm("мама took 10 таблеток и не отвечает")


def test_one_typo_in_a_long_word_is_forgiven() -> None:
    assert Category.OVERDOSE in alarm("ovrdose on baclfen")
    assert Category.OVERDOSE in alarm("передазировка баклафена")
    assert Category.SEIZURE in alarm("судароги у сына")
    index = FuzzyIndex(["seizure", "overdose", "breath"])
    assert index.near("seziure") == {"seizure"}  # neighbours swapped
    assert index.near("ovrdose") == {"overdose"}  # a letter left out
    assert index.near("oxerdose") == {"overdose"}  # a letter changed
    assert index.near("brath") == frozenset()  # too short to guess


def test_a_known_russian_word_is_not_corrected() -> None:
    # «стали» is a word of its own: it must not become anything one letter away.
    assert read("ноги стали лучше").meaning is not Meaning.EMERGENCY


def test_the_old_classify_view_for_the_handlers() -> None:
    assert classify("I can't breathe", LEXICON).intent is Intent.EMERGENCY
    assert classify("I ran out", LEXICON).intent is Intent.RAN_OUT
    assert classify("Can I drink alcohol with baclofen?", LEXICON).intent is Intent.OTHER


# ------------------------------------------------------------------ the compiler refuses bad data


def _compile(
    words: dict[str, list[str]] | None = None,
    rules: list[dict[str, Any]] | None = None,
    context: dict[str, list[str]] | None = None,
) -> Lexicon:
    declared = {"breath": "breathing", "distress": "trouble"}
    part = LanguageWords("en", words or {"breath": ["breathe"]}, context or {}, {}, {})
    return compile_lexicon(
        declared, rules or [{"category": "breathing", "all": ["breath"]}], [part]
    )


def test_a_small_lexicon_compiles_and_reads() -> None:
    lexicon = _compile(
        {"breath": ["breath*"], "distress": ["can't"]},
        [{"category": "breathing", "all": ["breath", "distress"], "window": 3}],
    )
    assert understand("I can't breathe", lexicon).categories == {Category.BREATHING}


@pytest.mark.parametrize(
    ("words", "rules", "context", "problem"),
    [
        ({"sneezing": ["achoo"]}, None, None, "unknown concept 'sneezing'"),
        (None, [{"category": "sneezing", "all": ["breath"]}], None, "unknown category"),
        (None, [{"category": "seizure", "all": ["sneeze"]}], None, "unknown concept 'sneeze'"),
        (None, [{"category": "seizure", "all": ["breath"], "what": ["sneeze"]}], None, "sneeze"),
        (None, [{"request": "dance", "all": ["breath"]}], None, "unknown request"),
        (None, [{"topic": "weather", "all": ["breath"]}], None, "unknown topic"),
        (None, [{"category": "seizure", "all": []}], None, "at least one concept"),
        (None, [{"category": "seizure", "any": ["breath"]}], None, "unknown field 'any'"),
        (None, [{"category": "seizure", "topic": "dosage", "all": ["breath"]}], None, "one of"),
        (None, [{"category": "seizure", "all": ["breath"], "window": 0}], None, "window"),
        (None, [{"category": "seizure", "all": ["breath"], "scope": "page"}], None, "scope"),
        ({"breath": [" "]}, None, None, "empty entry"),
        ({"breath": ["br*"]}, None, None, "a prefix needs 3 letters"),
        (None, None, {"maybe": ["perhaps"]}, "unknown context 'maybe'"),
    ],
)
def test_the_compiler_refuses_bad_data(
    words: dict[str, list[str]] | None,
    rules: list[dict[str, Any]] | None,
    context: dict[str, list[str]] | None,
    problem: str,
) -> None:
    with pytest.raises(ValueError, match=problem):
        _compile(words, rules, context)


# ------------------------------------------------------------------ context, batch 7 (issue 20)


@pytest.mark.parametrize(
    ("text", "meaning"),
    [
        # NegEx pseudo-triggers: a trigger inside one negates, dates or asks nothing.
        ("oh no I forgot to give him his evening dose", Meaning.FORGOT_DOSE),
        ("what if i just quit the baclofen from tomorrow", Meaning.WANTS_TO_STOP),
        # «не» before a noun negates it; before a verb it is the sign itself.
        ("не, не галлюцинации, это соседи шумят", Meaning.OTHER),
        # A vague message asks back, even where a greeting would be read.
        ("help", Meaning.UNSURE),
        ("???", Meaning.UNSURE),
        ("а так и должно быть?", Meaning.UNSURE),
        # A noun next to "ran out" that names something else.
        ("в магазине кончились мандарины", Meaning.OTHER),
        ("у бабули закончился баклофен", Meaning.RAN_OUT),
        # A question after a comma or a lead word is still a question.
        ("I'm on 20 mg, can I drink wine tonight", Meaning.QUESTION),
        ("a mozhno vypit srazu dve esli vchera zabyla", Meaning.QUESTION),
    ],
)
def test_context_reads_batch_7_styles(text: str, meaning: Meaning) -> None:
    assert read(text).meaning is meaning, read(text)


def test_a_verb_after_ne_is_still_the_sign() -> None:
    assert Category.BREATHING in alarm("он не дышит")
    assert read("это не судороги, просто дрожь").meaning is not Meaning.EMERGENCY


def test_a_sign_told_as_over_is_lowered_but_a_taking_is_not() -> None:
    assert read("my son had a fit when he was 2 but nothing since").meaning is not (
        Meaning.EMERGENCY
    )
    assert read("у дочки в 2 года были судороги, больше не повторялось").meaning is not (
        Meaning.EMERGENCY
    )
    assert Category.OVERDOSE in alarm("he took 15 tablets, nothing since")


def test_a_reported_question_raises_no_alarm() -> None:
    assert read("the nurse asked if i'd had any hallucinations, i said no").meaning is not (
        Meaning.EMERGENCY
    )
    assert read("врач спросил про галлюцинации, я сказала нет").meaning is not Meaning.EMERGENCY


def test_people_a_story_is_about_are_not_here() -> None:
    assert read("читала статью про передозировки у подростков").meaning is not Meaning.EMERGENCY
    assert Category.OVERDOSE in alarm("мой сын выпил 20 таблеток, читала что это опасно")


def test_a_question_opening_with_a_question_word_about_a_missed_dose_is_asked() -> None:
    assert read("до какого времени можно выпить пропущенную таблетку").meaning is (Meaning.QUESTION)
    assert read("I forgot my morning dose").meaning is Meaning.FORGOT_DOSE


@pytest.mark.parametrize(
    ("text", "meaning", "topic"),
    [
        ("whats the safest way to stop", Meaning.QUESTION, "withdrawal"),
        ("what if i skip a day", Meaning.QUESTION, "missed"),
        ("how many tablets is an overdose", Meaning.QUESTION, "overdose"),
        ("pharmacy cant get baclofen in for another fortnight", Meaning.RAN_OUT, "withdrawal"),
        ("через сколько перестает действовать", Meaning.QUESTION, "halflife"),
    ],
)
def test_questions_and_supply_said_plainly(text: str, meaning: Meaning, topic: str) -> None:
    reading = read(text)
    assert (reading.meaning, reading.topic) == (meaning, topic), reading


def test_not_knowing_how_many_were_taken_stays_an_overdose() -> None:
    assert Category.OVERDOSE in alarm("she took idk how many of her pills?")
    assert Category.OVERDOSE in alarm("no idea how many he took, what do we do?")


@pytest.mark.parametrize("text", ["👍", "...", "!!", "🙏🙏", "-", ""])
def test_a_message_with_no_word_is_read_without_failing(text: str) -> None:
    assert read(text).meaning in (Meaning.OTHER, Meaning.UNSURE)
