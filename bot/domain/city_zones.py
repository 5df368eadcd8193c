"""A city typed for ``/timezone`` (``/timezone Москва``, ``/timezone Уфа``) → its IANA zone.

A patient knows their city, not "Asia/Yekaterinburg". Two sources, the first wins:

- the table below: the capital of every Russian federal subject (and a few large cities),
  which is where most of Russia's eleven zones are told apart (Уфа and Пермь are on
  Yekaterinburg time, Ижевск on Samara's, Кемерово on Novokuznetsk's), the capitals of the
  CIS and of Europe, and the cities that Babel names for more than one IANA zone;
- the city Babel (CLDR) gives each IANA zone in Russian and in English ("Берлин",
  "Нью-Йорк", "New York"); a name Babel gives to a zone and its old aliases ("London":
  Europe/London, Europe/Belfast) goes to the zone tzdata's zone.tab lists.

A name is compared in lower case, with е for ё and hyphens as spaces ("санкт петербург").
Nominative only: «Москве» is not read (a declined name would need a dictionary).
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from zoneinfo import available_timezones

# Russia, west to east: federal-subject capitals and large cities, by zone.
_RUSSIA: dict[str, tuple[str, ...]] = {
    "Europe/Kaliningrad": ("Калининград",),
    "Europe/Moscow": (
        "Москва",
        "Мск",
        "Санкт-Петербург",
        "Петербург",
        "Питер",
        "СПб",
        "Белгород",
        "Брянск",
        "Владимир",
        "Воронеж",
        "Иваново",
        "Калуга",
        "Кострома",
        "Курск",
        "Липецк",
        "Орёл",
        "Рязань",
        "Смоленск",
        "Тамбов",
        "Тверь",
        "Тула",
        "Ярославль",
        "Петрозаводск",
        "Сыктывкар",
        "Архангельск",
        "Нарьян-Мар",
        "Вологда",
        "Мурманск",
        "Великий Новгород",
        "Новгород",
        "Псков",
        "Майкоп",
        "Элиста",
        "Краснодар",
        "Сочи",
        "Ростов-на-Дону",
        "Махачкала",
        "Магас",
        "Нальчик",
        "Черкесск",
        "Владикавказ",
        "Грозный",
        "Ставрополь",
        "Нижний Новгород",
        "Казань",
        "Набережные Челны",
        "Йошкар-Ола",
        "Саранск",
        "Чебоксары",
        "Пенза",
    ),
    "Europe/Kirov": ("Киров",),
    "Europe/Volgograd": ("Волгоград",),
    "Europe/Simferopol": ("Симферополь", "Севастополь"),
    "Europe/Samara": ("Самара", "Тольятти", "Ижевск"),
    "Europe/Ulyanovsk": ("Ульяновск",),
    "Europe/Saratov": ("Саратов",),
    "Europe/Astrakhan": ("Астрахань",),
    "Asia/Yekaterinburg": (
        "Екатеринбург",
        "Уфа",
        "Пермь",
        "Оренбург",
        "Курган",
        "Челябинск",
        "Магнитогорск",
        "Тюмень",
        "Ханты-Мансийск",
        "Сургут",
        "Салехард",
    ),
    "Asia/Omsk": ("Омск",),
    "Asia/Novosibirsk": ("Новосибирск",),
    "Asia/Barnaul": ("Барнаул", "Горно-Алтайск"),
    "Asia/Tomsk": ("Томск",),
    "Asia/Novokuznetsk": ("Кемерово", "Новокузнецк"),
    "Asia/Krasnoyarsk": ("Красноярск", "Абакан", "Кызыл", "Норильск"),
    "Asia/Irkutsk": ("Иркутск", "Улан-Удэ"),
    "Asia/Chita": ("Чита",),
    "Asia/Yakutsk": ("Якутск", "Благовещенск"),
    "Asia/Vladivostok": ("Владивосток", "Хабаровск", "Биробиджан"),
    "Asia/Sakhalin": ("Южно-Сахалинск",),
    "Asia/Magadan": ("Магадан",),
    "Asia/Srednekolymsk": ("Среднеколымск",),
    "Asia/Kamchatka": ("Петропавловск-Камчатский", "Камчатка"),
    "Asia/Anadyr": ("Анадырь",),
}
# The CIS, Europe, and names Babel gives to several zones.
_ELSEWHERE: dict[str, tuple[str, ...]] = {
    "Europe/Minsk": ("Минск",),
    "Europe/Kyiv": ("Киев", "Київ", "Kyiv", "Kiev"),
    "Europe/Chisinau": ("Кишинёв",),
    "Asia/Tbilisi": ("Тбилиси",),
    "Asia/Yerevan": ("Ереван",),
    "Asia/Baku": ("Баку",),
    "Asia/Almaty": ("Астана", "Алматы", "Алма-Ата", "Astana"),
    "Asia/Tashkent": ("Ташкент",),
    "Asia/Bishkek": ("Бишкек",),
    "Asia/Dushanbe": ("Душанбе",),
    "Asia/Ashgabat": ("Ашхабад", "Ashgabat"),
    "Europe/London": ("Лондон",),
    "Europe/Dublin": ("Дублин",),
    "Europe/Lisbon": ("Лиссабон",),
    "Europe/Madrid": ("Мадрид",),
    "Europe/Paris": ("Париж",),
    "Europe/Brussels": ("Брюссель",),
    "Europe/Amsterdam": ("Амстердам",),
    "Europe/Luxembourg": ("Люксембург",),
    "Europe/Berlin": ("Берлин",),
    "Europe/Zurich": ("Берн", "Цюрих", "Женева", "Bern"),
    "Europe/Rome": ("Рим",),
    "Europe/Vienna": ("Вена",),
    "Europe/Prague": ("Прага",),
    "Europe/Bratislava": ("Братислава",),
    "Europe/Warsaw": ("Варшава",),
    "Europe/Budapest": ("Будапешт",),
    "Europe/Ljubljana": ("Любляна",),
    "Europe/Zagreb": ("Загреб",),
    "Europe/Sarajevo": ("Сараево",),
    "Europe/Belgrade": ("Белград",),
    "Europe/Podgorica": ("Подгорица",),
    "Europe/Skopje": ("Скопье",),
    "Europe/Tirane": ("Тирана",),
    "Europe/Sofia": ("София",),
    "Europe/Bucharest": ("Бухарест",),
    "Europe/Athens": ("Афины",),
    "Europe/Istanbul": ("Стамбул", "Анкара", "Istanbul", "Ankara"),
    "Asia/Nicosia": ("Никосия",),
    "Europe/Malta": ("Валлетта",),
    "Europe/Copenhagen": ("Копенгаген",),
    "Europe/Oslo": ("Осло",),
    "Europe/Stockholm": ("Стокгольм",),
    "Europe/Helsinki": ("Хельсинки",),
    "Europe/Tallinn": ("Таллин", "Таллинн"),
    "Europe/Riga": ("Рига",),
    "Europe/Vilnius": ("Вильнюс",),
    "Atlantic/Reykjavik": ("Рейкьявик",),
    "Asia/Jerusalem": ("Иерусалим", "Тель-Авив", "Jerusalem", "Tel Aviv"),
    "Asia/Kolkata": ("Калькутта", "Дели", "Нью-Дели", "Мумбаи", "Kolkata", "Delhi", "Mumbai"),
    "Asia/Shanghai": ("Шанхай", "Пекин", "Shanghai", "Beijing"),
    "Asia/Ho_Chi_Minh": ("Хошимин", "Ho Chi Minh"),
    "Asia/Ulaanbaatar": ("Улан-Батор", "Ulaanbaatar"),
    "Asia/Dhaka": ("Дакка", "Dhaka"),
    "America/Toronto": ("Торонто", "Toronto"),
    "America/Denver": ("Денвер", "Denver"),
    "America/Argentina/Buenos_Aires": ("Буэнос-Айрес", "Buenos Aires"),
    "America/Indiana/Indianapolis": ("Индианаполис", "Indianapolis"),
}
_TOP_LEVELS = (
    "Africa", "America", "Antarctica", "Asia", "Atlantic", "Australia", "Europe", "Indian",
    "Pacific",
)  # fmt: skip
_BABEL_LOCALES = ("ru", "en")
_SEPARATORS = re.compile(r"[\s\-‐‑–—_]+")
_CITY_PREFIX = re.compile(r"^(?:г\.|г |город )\s*")
_MAX_LENGTH = 64


def city_key(text: str) -> str:
    """How a typed city is compared: «Санкт-Петербург», «санкт петербург» and «г. Санкт
    Петербург» are one key; ё is е."""
    key = text.strip().lower().replace("ё", "е")
    key = _CITY_PREFIX.sub("", key)
    return _SEPARATORS.sub(" ", key).strip()


def city_zone(text: str) -> str | None:
    """The IANA zone of a city typed in Russian or English, or None."""
    if len(text) > _MAX_LENGTH:
        return None
    return _cities().get(city_key(text))


@lru_cache(maxsize=1)
def _cities() -> dict[str, str]:
    """Built on the first city typed (Babel's names for some 600 zones: about 0.1 s)."""
    known = available_timezones()
    cities: dict[str, str] = {}
    for table in (_RUSSIA, _ELSEWHERE):
        for zone, names in table.items():
            if zone not in known:  # an older tz database here: leave the name out
                continue
            for name in names:
                cities.setdefault(city_key(name), zone)
    babel: dict[str, set[str]] = {}
    for name, zone in _babel_names(known):
        babel.setdefault(city_key(name), set()).add(zone)
    listed = _listed_zones()
    for key, zones in babel.items():
        if key in cities:
            continue
        # "London" is Europe/London and its old alias Europe/Belfast: keep the zone that
        # tzdata's zone.tab lists (one name per zone of a country), or leave the name out.
        chosen = zones if len(zones) == 1 else zones & listed
        if len(chosen) == 1:
            cities[key] = next(iter(chosen))
    return cities


def _listed_zones() -> set[str]:
    """The zones of tzdata's zone.tab (the ``tzdata`` package: a dependency of the bot)."""
    try:
        table = resources.files("tzdata").joinpath("zoneinfo", "zone.tab")
        lines = table.read_text(encoding="utf-8").splitlines()
    except (ModuleNotFoundError, OSError):
        return set()
    fields = (line.split("\t") for line in lines if line and not line.startswith("#"))
    return {columns[2] for columns in fields if len(columns) > 2}


def _babel_names(known: set[str]) -> list[tuple[str, str]]:
    from babel.dates import get_timezone, get_timezone_location

    found: list[tuple[str, str]] = []
    for zone in sorted(known):
        if zone.split("/")[0] not in _TOP_LEVELS:
            continue
        for locale in _BABEL_LOCALES:
            try:
                found.append((get_timezone_location(get_timezone(zone), locale, True), zone))
            except LookupError:
                continue
    return found
