"""Russian that reads as if written in Russian (issue 23): a lint of the Russian pack.

The loader checks that every language says as much as English (keys, placeholders, sources,
numbers); this checks what a native reader found wrong in a faithful translation:

- a Telegram name is inserted as typed ("Anna", «Аня»), so it cannot be declined: the text
  must keep it in the nominative. A name right after a preposition («у {patient}», «для
  {patient}») or as the subject of a dative phrase («{patient} стоит связаться») or of a past
  tense, which needs its gender («{patient} удалил»), reads wrong;
- the bot has no gender: no «(а)» endings, no «я понял», «я напомнил»;
- one word for one thing: «этап» for a step of the plan, «одеревенение мышц» for muscle
  rigidity, «судорожный приступ» for a seizure, «без ответа» and «пропущена (ваша отметка)»
  for the two ways a dose goes without a Taken;
- what a Russian keyboard types is shown: «2х10», «завтра», «с риской», not Latin words.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from bot.content import ContentLibrary, ContentPack, Plural

# The placeholders that hold a person's name as Telegram has it.
NAME = r"\{(?:patient|name|names)\}"
TAG = re.compile(r"<[^>]+>")
# Prepositions govern a case other than the nominative; a name after one would need declining.
PREPOSITIONS = "у для от к ко с со о об обо при без про за над под перед между через по из до"
AFTER_PREPOSITION = re.compile(rf"(?<![\w-])(?:{'|'.join(PREPOSITIONS.split())})\s+{NAME}", re.I)
# A name followed by a word that wants it in the dative («Анне стоит», «Анне нужно»).
DATIVE = "стоит следует нужно надо можно нельзя пора лучше придётся удобно"
BEFORE_DATIVE = re.compile(
    rf"{NAME}\s+(?:(?:ещё|уже|не|сегодня|же)\s+)*(?:{'|'.join(DATIVE.split())})\b"
)
# ... or by a past tense, whose ending says the name's gender («Анна удалила»).
BEFORE_PAST = re.compile(rf"{NAME}\s+(?:(?:ещё|уже|не|сам|сама)\s+)*[а-яё]+(?:л|ла|ло|лся|лась)\b")
# «напомнил(а)», «отключил(а)сь», «принял(а)».
GENDER_BRACKET = re.compile(r"[а-яё]\((?:а|ла|ась|лась|ая|на|ен|ы|ой)\)", re.I)
# The bot speaking of itself in a gendered form: «я понял», «я не смог», «я рад».
BOT_PAST = re.compile(
    r"(?<![\w-])я\s+(?:(?:не|уже|ещё|вас|вам|это|его|её|их|снова)\s+)*[а-яё]+(?:л|ла|лся|лась)\b"
    r"|(?<![\w-])я\s+(?:не\s+)?(?:рад|рада|готов|готова|должен|должна|уверен|уверена|согласен)\b",
    re.I,
)
# One word for one thing: (pattern, the word to use instead).
BANNED = (
    (re.compile(r"(?<![\w-])шаг\w*", re.I), "«этап» for a step of the plan"),
    (re.compile(r"скованност\w*\s+мышц", re.I), "«одеревенение мышц» (muscle rigidity)"),
    (re.compile(r"ригидност|жёсткост\w*\s+мышц|жесткост\w*\s+мышц", re.I), "«одеревенение мышц»"),
    (re.compile(r"(?<![\w-])судорог", re.I), "«судорожный приступ» (a seizure)"),
    (re.compile(r"(?<![\w-])упущен", re.I), "«без ответа» (the status of an unanswered dose)"),
    (re.compile(r"пропущен\w*\s+вами", re.I), "«пропущена (ваша отметка)»"),
    (re.compile(r"пропущен\w*\s+или\s+(?:\w+\s+)?без\s+ответа", re.I), "«без ответа» alone"),
    (re.compile(r"отмечено\s+«пропустить»", re.I), "«пропущено (ваша отметка)»"),
)
# «шаг за шагом» (step by step, gradually) is not a step of the plan.
IDIOMS = re.compile(r"шаг за шагом", re.I)
# Latin words a Russian patient was told to type, where the parsers read Russian too.
CODE = re.compile(r"<code>(.*?)</code>", re.S)
LATIN_INPUT = re.compile(r"\b(?:today|tomorrow|scored)\b|(?<![A-Za-z])x(?=\d)|(?<=\d)x", re.I)
TOLD_LATIN = re.compile(r"латиниц|латинск", re.I)


def texts(pack: ContentPack) -> Iterator[tuple[str, str]]:
    """(where, text) for every text of a pack, each plural form on its own."""
    for key, message in pack.messages.items():
        if isinstance(message, Plural):
            for form, text in message.forms.items():
                yield f"{key}.{form}", text
        else:
            yield key, message
    for key, topic in pack.topics.items():
        for field in ("title", "menu", "summary", "body"):
            yield f"{key}.{field}", getattr(topic, field)
    for key, region in pack.regions.items():
        for field in ("name", "emergency_note", "poison", "advice", "crisis"):
            yield f"region {key}.{field}", getattr(region, field)


def problems_of(where: str, text: str) -> list[str]:
    found: list[str] = []
    plain = TAG.sub("", text)

    def flag(pattern: re.Pattern[str], why: str, source: str = plain) -> None:
        for match in pattern.finditer(source):
            found.append(f"{where}: «{match.group(0)}»: {why}")

    flag(AFTER_PREPOSITION, "a name after a preposition would need another case")
    flag(BEFORE_DATIVE, "a name before this word would need the dative")
    flag(BEFORE_PAST, "a past tense after a name needs its gender")
    flag(GENDER_BRACKET, "a bracketed gender ending: say it without a gender")
    flag(BOT_PAST, "the bot has no gender: say it impersonally")
    unidiomatic = IDIOMS.sub("", plain)
    for pattern, instead in BANNED:
        flag(pattern, f"use {instead}", unidiomatic)
    for code in CODE.findall(text):
        flag(LATIN_INPUT, "show what a Russian keyboard types (х, сегодня, завтра, с риской)", code)
    flag(TOLD_LATIN, "do not ask for Latin letters where Russian ones are read")
    return found


def lint(pack: ContentPack) -> list[str]:
    return [problem for where, text in texts(pack) for problem in problems_of(where, text)]


def test_the_russian_pack_reads_as_russian(library: ContentLibrary) -> None:
    problems = lint(library.get("ru"))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    "text",
    [
        "⏰ <b>Доза у {patient}</b> всё ещё без ответа.",
        "Готово: теперь вы помощник для {patient}.",
        "Если дозы пропущены, {patient} стоит сегодня же связаться с врачом.",
        "{patient} удалил свои данные.",
        "{name} отключил(а) вас.",
        "Я напомнил(а) и спросил(а) ещё раз.",
        "Я не понял. Отправьте /report.",
        "Этап 2 из 4. Шаг 2.",
        "при высокой температуре, скованности мышц или судорогах",
        "ригидность мышц",
        "принято — 3, упущено — 1",
        "пропущено вами — 2",
        "Пропущено или без ответа",
        "Отмечено «Пропустить»",
        "Например: <code>/tablets 10 scored</code>",
        "Например: <code>/schedule custom today 22:00=5 x3</code>",
        "<code>/schedule custom завтра 08:00 5x3</code>",
        "Даты: today или tomorrow (латиницей).",
    ],
)
def test_each_rule_catches_what_it_is_for(text: str) -> None:
    assert problems_of("sample", text)


@pytest.mark.parametrize(
    "text",
    [
        "⏰ <b>{patient}: доза на {due}</b> всё ещё без ответа.",
        "Пусть {patient} сегодня же свяжется с врачом.",
        "{patient} больше не получит сообщений.",
        "Напоминание и повторный вопрос уже отправлены.",
        "Не удалось разобрать команду.",
        "Дозу снижают шаг за шагом, этап за этапом.",
        "при высокой температуре, одеревенении мышц или судорожном приступе",
        "Сообщите врачу, если вернутся скованность или спазмы.",
        "принято — 3, без ответа — 1, пропущена (ваша отметка) — 2",
        "<code>/tablets 10 с риской</code>, <code>/schedule custom сегодня 22:00=5 х3</code>",
        "<code>/schedule custom завтра 08:00 5х3 10х3</code>",
        "Пациент: {name}",
    ],
)
def test_natural_russian_passes(text: str) -> None:
    assert problems_of("sample", text) == []
