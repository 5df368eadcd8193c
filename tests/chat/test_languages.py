"""The whole bot in the patient's language (issue 12), through the Bot API stand-in.

An English-speaking and a Russian-speaking patient go through onboarding, every fact topic, a
plan with a reminder and its buttons, a missed-dose answer, a taper's step-down notice and an
admin broadcast. Each chat must then hold only its own language: no text of the other pack,
no raw message key, no Cyrillic in the English chat and no English words in the Russian one.
"""

from __future__ import annotations

import html
import re
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.content import TOPICS, ContentError, ContentLibrary, ContentPack, Plural, load_library
from bot.content.keys import MESSAGES
from tests import translation_review
from tests.admin_helpers import press_control, wait_for_summary
from tests.conftest import ADMIN_ID, CONTENT_DIR, START, RunningBot, StartBot
from tests.reminder_helpers import advance_until_messages, dose_data, tap

ENGLISH, RUSSIAN = 301, 302
ADMIN_TEXT = "2026 ✓"  # what the admin typed is the same for everyone: keep it language-free
TAG = re.compile(r"<[^>]+>")
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
COMMAND = re.compile(r"/[a-z_]+")
CYRILLIC = re.compile(r"[А-Яа-яЁё]")
LATIN_WORD = re.compile(r"\b[A-Za-z][A-Za-z'’]{2,}\b")


def fragments(pack: ContentPack) -> set[str]:
    """Runs of at least four words from every text of a pack, between placeholders and tags:
    any of them showing up in the other language's chat is an untranslated text."""
    texts: list[str] = []
    for message in pack.messages.values():
        texts.extend(message.forms.values() if isinstance(message, Plural) else [message])
    for topic in pack.topics.values():
        texts.extend([topic.title, topic.summary, topic.body])
    found: set[str] = set()
    for text in texts:
        for piece in PLACEHOLDER.split(TAG.sub("\n", text)):
            for line in piece.splitlines():
                words = line.split()
                if len(words) >= 4 and not line.lstrip().startswith("/"):
                    found.add(" ".join(words))
    return found


def latin_words_of(pack: ContentPack) -> set[str]:
    """Latin words the Russian pack itself shows (brand names, typed examples such as
    <code>/schedule custom today</code>), leaving out placeholders, tags and commands."""
    texts: list[str] = []
    for message in pack.messages.values():
        texts.extend(message.forms.values() if isinstance(message, Plural) else [message])
    for topic in pack.topics.values():
        texts.append(f"{topic.title} {topic.summary} {topic.body}")
    texts.extend(source.title for source in pack.sources.values())
    texts.extend(f"{r.name} {r.poison} {r.advice} {r.crisis}" for r in pack.regions.values())
    words: set[str] = set()
    for text in texts:
        shown = COMMAND.sub("", PLACEHOLDER.sub("", TAG.sub(" ", text)))
        words.update(LATIN_WORD.findall(shown))
    return words


def visible(message: dict[str, Any]) -> str:
    """What the patient sees: the text and the button labels."""
    labels = [
        button["text"]
        for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
        for button in row
    ]
    text = html.unescape(TAG.sub("", message.get("text") or message.get("caption") or ""))
    return "\n".join([text, *labels])


async def say(bot: RunningBot, user: int, text: str, replies: int = 1) -> list[dict[str, Any]]:
    before = bot.sent_count(user)
    await bot.say(user, text, replies=replies)
    return bot.api.messages_to(user)[before:]


async def press(bot: RunningBot, user: int, message: dict[str, Any], data: str) -> list[str]:
    return await bot.press(user, message["message_id"], data, replies=1)


async def patient_journey(
    bot: RunningBot, user: int, pack: ContentPack, telegram: str, base: datetime
) -> None:
    """From /start to a taper's step down; ``base`` is 10:00 in Berlin on the first day."""
    bot.clock.set(base)
    bot.api.send_text(user, "/start", language_code=telegram)
    await bot.next_messages(user, 0, 1)
    welcome = bot.last_message(user)
    assert welcome["text"] == pack.text("onboarding.welcome")
    [asked] = await press(
        bot, user, welcome, bot.buttons(welcome)[pack.text("onboarding.consent_button")]
    )
    assert asked == pack.text("onboarding.ask_timezone")
    await say(bot, user, "/timezone Europe/Berlin", replies=2)
    region = "ru" if pack.language.code == "ru" else "uk"
    [done, repeats] = await bot.press(
        user, bot.last_message(user)["message_id"], f"region:{region}", replies=2
    )
    assert pack.region(region).emergency in done
    assert repeats == pack.text("repeats.ask_first", current=pack.text("repeats.once"))
    for topic in TOPICS:
        [shown] = await say(bot, user, f"/{topic}")
        assert pack.topics[topic].title in shown["text"]
    await say(bot, user, "/help")
    await say(bot, user, "/language")
    # A plan: the first dose is at 14:00 Berlin today (START is 10:00 there).
    [summary] = await say(bot, user, "/schedule custom today 14:00,20:00 5x2 10x2")
    await press(bot, user, summary, "plan:save")
    [reminder] = await advance_until_messages(bot, user, base + timedelta(hours=4))
    edited = await tap(bot, user, reminder, "taken")
    assert pack.text("reminder.button_taken") not in visible(edited)
    # The 20:00 dose goes unanswered (its follow-up comes too); /missed answers from the plan.
    await advance_until_messages(bot, user, base + timedelta(hours=10))
    [follow_up] = await advance_until_messages(bot, user, base + timedelta(hours=10, minutes=30))
    assert dose_data(follow_up, "taken")
    await say(bot, user, "/missed")
    # A taper (the prescriber's, confirmed): the step down is announced with the warning signs.
    [summary] = await say(bot, user, "/taper tomorrow 10:00 10x2 5x2 stop")
    await press(bot, user, summary, "plan:save_high")
    bot.clock.set(base + timedelta(days=3, hours=1))
    await bot.services.reminders.run_due()
    await wait_for(
        bot,
        user,
        pack.text("reminder.step_down", doses="\x00", daily="\x00", emergency_line="\x00").split(
            "\x00"
        )[0][:20],
    )


async def wait_for_reminders(bot: RunningBot, user: int, count: int) -> list[dict[str, Any]]:
    def has_dose_buttons(markup: object) -> bool:
        return "'callback_data': 'dose:" in str(markup)

    def with_dose_buttons() -> list[dict[str, Any]]:
        return [m for m in bot.api.messages_to(user) if has_dose_buttons(m.get("reply_markup"))]

    await bot.api.wait_for(
        "sendMessage",
        lambda call: (
            call.params.get("chat_id") == user
            and call.status == 200
            and has_dose_buttons(call.params.get("reply_markup"))
        ),
        count=count,
    )
    return with_dose_buttons()[-count:] if count == 1 else with_dose_buttons()


async def wait_for(bot: RunningBot, user: int, opening: str) -> None:
    await bot.api.wait_for(
        "sendMessage",
        lambda call: (
            call.params.get("chat_id") == user
            and opening in TAG.sub("", str(call.params.get("text")))
        ),
    )


@pytest.fixture
async def both(start_bot: StartBot, library: ContentLibrary) -> RunningBot:
    bot: RunningBot = await start_bot()
    await patient_journey(bot, ENGLISH, library.get("en"), "en-GB", START)
    await patient_journey(bot, RUSSIAN, library.get("ru"), "ru", START + timedelta(days=7))
    return bot


async def test_each_patient_reads_only_their_language(
    both: RunningBot, library: ContentLibrary
) -> None:
    bot = both
    before = {user: bot.sent_count(user) for user in (ENGLISH, RUSSIAN)}
    await bot.say(ADMIN_ID, f"/broadcast {ADMIN_TEXT}", replies=2)
    control = bot.last_message(ADMIN_ID)
    await press_control(bot, control, library.get("en").text("broadcast.button_confirm"))
    await wait_for_summary(bot)
    for user, code in ((ENGLISH, "en"), (RUSSIAN, "ru")):
        [news] = bot.api.messages_to(user)[before[user] :]
        assert news["text"] == library.get(code).text("broadcast.message", text=ADMIN_TEXT)

    english, russian = library.get("en"), library.get("ru")
    # Each language is offered by its own name ("Русский" on the English switch): by design.
    names = [pack.language.name for pack in library.packs.values()]

    def seen(user: int) -> list[str]:
        texts = [visible(m) for m in bot.api.messages_to(user)]
        return [re.sub("|".join(names), "", text) for text in texts]

    en_chat, ru_chat = seen(ENGLISH), seen(RUSSIAN)
    # The English plan goes on while the Russian patient's days pass: more English messages.
    assert len(en_chat) > 25 and len(ru_chat) > 25
    keys = re.compile("|".join(re.escape(key) for key in sorted(MESSAGES, key=len, reverse=True)))
    # Zone names are identifiers (the patient typed Europe/Berlin); UTC is the same in Russian.
    allowed_latin = latin_words_of(russian) | {"Europe", "Berlin", "UTC"}
    russian_fragments, english_fragments = fragments(russian), fragments(english)
    for text in en_chat:
        assert not CYRILLIC.search(text), text
        assert not keys.search(text), text
        assert not any(piece in text for piece in russian_fragments), text
    for text in ru_chat:
        assert not keys.search(text), text
        leaked = [piece for piece in english_fragments if piece in text]
        assert not leaked, (leaked, text)
        # Commands (/dosage) stay as they are in every language.
        english_words = set(LATIN_WORD.findall(COMMAND.sub("", text))) - allowed_latin
        assert not english_words, (english_words, text)


async def test_menus_are_registered_per_language(both: RunningBot, library: ContentLibrary) -> None:
    default = both.api.commands_for()
    russian = both.api.commands_for(language_code="ru")
    assert [c["command"] for c in default] == [c["command"] for c in russian]
    assert {c["description"] for c in russian}.isdisjoint({c["description"] for c in default})
    assert any(CYRILLIC.search(c["description"]) for c in russian)
    assert "language" in [c["command"] for c in default]


def test_the_parity_check_refuses_a_translation_that_says_less(tmp_path: Path) -> None:
    """A missing Russian key, a dropped or renamed placeholder, other sources for a topic and
    another phone number each refuse the whole pack, with the place named."""
    pack = tmp_path / "pack"
    shutil.copytree(CONTENT_DIR, pack)
    messages = pack / "ru" / "messages.toml"
    text = messages.read_text(encoding="utf-8")
    text = text.replace('button_taken = "✅ Принято"\n', "")
    text = text.replace("Время {value} указано дважды", "Время указано дважды")
    text = text.replace("«{value}» — такой город", "«{zone}» — такой город")
    messages.write_text(text, encoding="utf-8")
    topics = pack / "ru" / "topics.toml"
    topics.write_text(
        topics.read_text(encoding="utf-8").replace('"WUIS1989", ', "", 1), encoding="utf-8"
    )
    regions = pack / "ru" / "regions.toml"
    regions.write_text(regions.read_text(encoding="utf-8").replace("103", "104"), encoding="utf-8")
    with pytest.raises(ContentError) as refused:
        load_library(pack)
    problems = refused.value.problems
    assert "ru/messages.toml reminder.button_taken: missing" in problems
    assert (
        "ru/messages.toml plan_error.time_duplicate: placeholder {value} is missing (en has it)"
        in problems
    )
    assert "ru/messages.toml timezone.invalid: unknown placeholder {zone}" in problems
    assert "ru/topics.toml [halflife]: sources differ from en/topics.toml" in problems
    assert "ru/regions.toml [ru]: advice has other numbers than en" in problems


def test_a_plural_text_needs_every_form_of_its_language(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    shutil.copytree(CONTENT_DIR, pack)
    messages = pack / "ru" / "messages.toml"
    text = messages.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines(keepends=True) if not line.startswith("earlier.few")]
    messages.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(ContentError) as refused:
        load_library(pack)
    assert "ru/messages.toml missed.earlier: plural form 'few' is missing" in refused.value.problems


def test_russian_plural_forms_and_dates(library: ContentLibrary) -> None:
    russian = library.get("ru")
    assert [russian.text("missed.earlier", count=n).split()[:2] for n in (1, 3, 5, 21)] == [
        ["1", "доза"],
        ["3", "дозы"],
        ["5", "доз"],
        ["21", "доза"],
    ]
    assert russian.day(date(2026, 1, 12)) == "пн, 12 янв."
    assert library.get("en").day(date(2026, 1, 12)) == "Mon 12 Jan"


TODAY = date(2026, 12, 2)


@pytest.mark.parametrize(
    ("start", "end", "russian", "english"),
    [
        (date(2026, 12, 4), date(2026, 12, 6), "с 4 по 6 декабря", "4 to 6 December"),
        (
            date(2026, 11, 30),
            date(2026, 12, 2),
            "с 30 ноября по 2 декабря",
            "30 November to 2 December",
        ),
        (
            date(2026, 12, 30),
            date(2027, 1, 2),
            "с 30 декабря 2026 по 2 января 2027",
            "30 December 2026 to 2 January 2027",
        ),
        (date(2027, 3, 1), date(2027, 3, 3), "с 1 по 3 марта 2027", "1 to 3 March 2027"),
    ],
)
def test_a_date_range_reads_as_a_sentence_says_it(
    library: ContentLibrary, start: date, end: date, russian: str, english: str
) -> None:
    """Issue 23: «с 4 по 6 декабря», not «с пт, 4 дек. 2026 по вс, 6 дек. 2026»; the year
    only when it is not this year."""
    days = (end - start).days + 1
    for code, expected in (("ru", russian), ("en", english)):
        pack = library.get(code)
        first, last = pack.date_range(start, end, TODAY)
        text = pack.text("plan.dates_range", start=first, end=last, days=days)
        assert text.startswith(f"{expected} ("), (code, text)


def test_a_start_date_reads_as_a_sentence_says_it(library: ContentLibrary) -> None:
    russian, english = library.get("ru"), library.get("en")
    start = date(2026, 12, 16)
    assert russian.text(
        "plan.maintenance", start=russian.long_date(start, TODAY), doses="…", daily="5"
    ).startswith("С 16 декабря:")
    assert english.long_date(start, TODAY) == "16 December"
    assert russian.long_date(date(2027, 1, 5), TODAY) == "5 января 2027"


def test_a_pack_written_before_the_sentence_dates_still_loads(tmp_path: Path) -> None:
    """A clinic's language.toml without `date`, `date_year`, `range_start` gets the defaults."""
    pack = tmp_path / "pack"
    shutil.copytree(CONTENT_DIR, pack)
    for code in ("en", "ru"):
        language = pack / code / "language.toml"
        kept = [
            line
            for line in language.read_text(encoding="utf-8").splitlines(keepends=True)
            if not line.startswith(("date =", "date_year =", "range_start ="))
        ]
        language.write_text("".join(kept), encoding="utf-8")
    russian = load_library(pack).get("ru")
    assert russian.date_range(date(2026, 12, 4), date(2026, 12, 6), TODAY) == ("4", "6 декабря")


def test_telegram_language_codes_fall_back_to_english(library: ContentLibrary) -> None:
    assert library.match("ru") == "ru"
    assert library.match("ru-RU") == "ru"
    assert library.match("en-GB") == "en"
    assert library.match("de") == "en"
    assert library.match(None) == "en"


def test_the_review_document_shows_the_pack_as_it_is(library: ContentLibrary) -> None:
    """docs/translation-review-ru.md is what a clinic signs off: it must match the pack."""
    current = translation_review.DOCUMENT.read_text(encoding="utf-8")
    assert current == translation_review.document(library), (
        "run: python -m tests.translation_review"
    )
