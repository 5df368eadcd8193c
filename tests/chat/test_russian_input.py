"""What a Russian keyboard types is read (issue 23), through the Bot API stand-in.

A Russian patient is never told to switch to Latin letters: «/timezone Москва» (and every
Russian region's capital, the CIS and European capitals), «/tablets 10 с риской», «5х3» with
the Cyrillic х, «сегодня», «завтра», «стоп»; and every example the Russian pack shows for
these commands works as typed.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.content import ContentLibrary, ContentPack, Plural
from bot.domain.city_zones import _ELSEWHERE, _RUSSIA, city_key, city_zone
from bot.domain.timezones import TimezoneError, parse_timezone
from tests.conftest import RunningBot

USER = 1101
CODE = re.compile(r"<code>(.*?)</code>", re.S)


async def onboard_in_russian(bot: RunningBot, russian: ContentPack) -> None:
    await bot.say(USER, "/start", language_code="ru")
    welcome = bot.last_message(USER)
    consent = bot.buttons(welcome)[russian.text("onboarding.consent_button")]
    await bot.press(USER, welcome["message_id"], consent, replies=1)
    await bot.say(USER, "/timezone Europe/Berlin", replies=2)
    await bot.press(USER, bot.last_message(USER)["message_id"], "region:ru", replies=2)


@pytest.fixture
async def russian(bot: RunningBot, library: ContentLibrary) -> ContentPack:
    pack = library.get("ru")
    await onboard_in_russian(bot, pack)
    return pack


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("Москва", "Europe/Moscow"),
        ("москва", "Europe/Moscow"),
        ("Санкт Петербург", "Europe/Moscow"),
        ("Уфа", "Asia/Yekaterinburg"),
        ("Ижевск", "Europe/Samara"),
        ("Орел", "Europe/Moscow"),
        ("Петропавловск-Камчатский", "Asia/Kamchatka"),
        ("Минск", "Europe/Minsk"),
        ("Берлин", "Europe/Berlin"),
    ],
)
async def test_a_city_by_its_russian_name_sets_its_zone(
    bot: RunningBot, russian: ContentPack, typed: str, zone: str
) -> None:
    [reply] = await bot.say(USER, f"/timezone {typed}")
    local = bot.clock.now().astimezone(ZoneInfo(zone)).strftime("%H:%M")
    assert reply == russian.text("timezone.set", timezone=zone, local_time=local)
    user = await bot.services.users.get(USER)
    assert user is not None and user.timezone == zone


async def test_a_declined_or_unknown_city_gets_the_example(
    bot: RunningBot, russian: ContentPack
) -> None:
    for typed in ("Москве", "Атлантида"):
        [reply] = await bot.say(USER, f"/timezone {typed}")
        assert reply == russian.text("timezone.invalid", value=typed)
        assert "/timezone Екатеринбург" in reply
    user = await bot.services.users.get(USER)
    assert user is not None and user.timezone == "Europe/Berlin"


async def test_scored_tablets_in_russian(bot: RunningBot, russian: ContentPack) -> None:
    [reply] = await bot.say(USER, "/tablets 10 с риской")
    suffix = russian.text("tablets.scored_suffix")
    assert reply == html.unescape(russian.text("tablets.set", strength="10", scored=suffix))
    user = await bot.services.users.get(USER)
    assert user is not None and user.tablet_scored
    [reply] = await bot.say(USER, "/tablets 5 без риски")
    assert reply == russian.text("tablets.usage")
    user = await bot.services.users.get(USER)
    assert user is not None and user.tablet_mg is not None and str(user.tablet_mg) == "10"


async def test_a_plan_typed_in_russian_is_read(bot: RunningBot, russian: ContentPack) -> None:
    [summary] = await bot.say(USER, "/schedule custom завтра 08:00,20:00 5х3 10х3")
    assert summary.startswith("<b>Пожалуйста, проверьте свой план")
    await bot.press(USER, bot.last_message(USER)["message_id"], "plan:save", replies=1)
    stored = await bot.services.doses.active_plan(USER)
    assert stored is not None
    assert [(step.days, [str(dose.mg) for dose in step.doses]) for step in stored.plan.steps] == [
        (3, ["5", "5"]),
        (3, ["10", "10"]),
    ]
    today = bot.clock.now().astimezone(ZoneInfo("Europe/Berlin")).date()
    assert stored.plan.start == today + timedelta(days=1)


def examples(pack: ContentPack, command: str, words: int = 2) -> list[str]:
    """Every ``<code>/command …</code>`` of at least ``words`` words the pack shows, as the
    patient would copy it."""
    found: list[str] = []
    for message in pack.messages.values():
        forms = message.forms.values() if isinstance(message, Plural) else [message]
        for text in forms:
            for code in CODE.findall(text):
                if code.startswith(f"/{command} ") and len(code.split()) >= words:
                    found.append(html.unescape(code))
    return sorted(set(found))


@pytest.mark.parametrize("command", ["schedule", "taper"])
async def test_every_plan_example_of_the_russian_pack_works(
    bot: RunningBot, russian: ContentPack, command: str
) -> None:
    shown = examples(russian, command, words=3)  # not "/schedule custom" alone
    assert shown
    for example in shown:
        [reply] = await bot.say(USER, example)
        assert reply.startswith("<b>Пожалуйста, проверьте свой план"), (example, reply)


async def test_every_tablets_and_timezone_example_of_the_russian_pack_works(
    bot: RunningBot, russian: ContentPack, library: ContentLibrary
) -> None:
    for example in examples(russian, "tablets"):
        [reply] = await bot.say(USER, example)
        assert reply.startswith("Сохранено: таблетки по"), (example, reply)
    # The English examples too ("/timezone New York"): a city is a city in any chat.
    for example in examples(russian, "timezone") + examples(library.get("en"), "timezone"):
        [reply] = await bot.say(USER, example)
        assert reply.startswith("Часовой пояс установлен"), (example, reply)


# Offsets in winter 2026-27 (Russia keeps one offset all year).
RUSSIAN_OFFSETS = {
    "Калининград": 2, "Москва": 3, "Казань": 3, "Киров": 3, "Волгоград": 3, "Самара": 4,
    "Ижевск": 4, "Саратов": 4, "Ульяновск": 4, "Астрахань": 4, "Екатеринбург": 5, "Уфа": 5,
    "Пермь": 5, "Оренбург": 5, "Челябинск": 5, "Тюмень": 5, "Омск": 6, "Новосибирск": 7,
    "Барнаул": 7, "Томск": 7, "Кемерово": 7, "Красноярск": 7, "Иркутск": 8, "Улан-Удэ": 8,
    "Чита": 9, "Якутск": 9, "Благовещенск": 9, "Владивосток": 10, "Хабаровск": 10,
    "Магадан": 11, "Южно-Сахалинск": 11, "Петропавловск-Камчатский": 12, "Анадырь": 12,
}  # fmt: skip


@pytest.mark.parametrize(("city", "hours"), RUSSIAN_OFFSETS.items())
def test_each_russian_city_is_on_its_own_time(city: str, hours: int) -> None:
    zone = parse_timezone(city)
    offset = datetime(2027, 1, 15, tzinfo=UTC).astimezone(zone).utcoffset()
    assert offset is not None and offset.total_seconds() == hours * 3600


def test_every_city_of_the_table_loads_and_is_read_back() -> None:
    for table in (_RUSSIA, _ELSEWHERE):
        for zone, names in table.items():
            ZoneInfo(zone)
            for name in names:
                assert city_zone(name) == zone, name
                assert city_zone(name.upper().replace("Е", "Ё")) == zone, name


def test_a_city_key_ignores_case_yo_hyphens_and_the_city_prefix() -> None:
    assert city_key("г. Санкт-Петербург") == city_key("санкт  петербург") == "санкт петербург"
    assert city_key("Орёл") == city_key("ОРЕЛ")
    for bad in ("", "Москве", "x" * 300, "Europe/Atlantis"):
        with pytest.raises(TimezoneError):
            parse_timezone(bad)


def test_the_city_on_each_zone_button_can_be_typed(library: ContentLibrary) -> None:
    """What a zone button says («Лондон», "Sydney") is what a patient may type instead; a
    name Babel also gives an old alias (Europe/Belfast) goes to the zone tzdata lists."""
    for code in library.languages:
        pack = library.get(code)
        for zone in pack.language.zones:
            if zone == "UTC":
                continue
            assert city_zone(pack.zone_city(zone)) == zone, (code, zone)
    assert city_zone("London") == city_zone("Лондон") == "Europe/London"
    assert city_zone("Sydney") == "Australia/Sydney"
