"""The content pack's model: a language's texts, topics, regions and plural forms.

``loader.py`` reads ``bot/pack/`` into these; ``checks.py`` validates what it read.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from babel import Locale
from babel.dates import format_date, format_datetime, get_timezone, get_timezone_location

from bot.content.keys import MESSAGES
from bot.domain.lexicon import Lexicon
from bot.domain.timezones import COMMON_ZONES
from bot.domain.topics import TOPICS as TOPICS

REGIONS: tuple[str, ...] = ("us", "uk", "eu", "ru", "other")


class Html(str):
    """Text that is already Telegram HTML (built from the pack) and must not be escaped again."""

    __slots__ = ()


class ContentError(Exception):
    """The pack is invalid; ``problems`` lists every reason, one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Source:
    key: str
    title: str
    url: str


@dataclass(frozen=True)
class Topic:
    key: str
    title: str
    menu: str
    summary: str
    body: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Region:
    key: str
    name: str
    emergency: str
    emergency_note: str
    poison: str
    advice: str
    crisis: str  # the line for thoughts of self-harm, where one is verified


@dataclass(frozen=True)
class Plural:
    """A text whose wording depends on a number: one form per CLDR plural category."""

    by: str  # the placeholder that holds the number
    forms: Mapping[str, str]  # CLDR category ("one", "few", "many", "other") -> text

    def pick(self, locale: Locale, value: object) -> str:
        return self.forms.get(locale.plural_form(_number(value)), self.forms["other"])


Message = str | Plural


def _number(value: object) -> float:
    """The number a plural form is chosen by; "1½" (tablets) and the like count as fractions."""
    if isinstance(value, int | float):
        return value
    text = str(value).replace("½", ".5").replace(",", ".")
    try:
        return float(text)
    except ValueError:
        return 1.5  # not a plain number: CLDR's "other" (fraction) form reads right


# The Babel patterns of each language.toml [dates]: a short day with its weekday ("Mon 12
# Jan"), with the year, with a time; a date in a sentence ("12 January"), with the year, and
# the start of a range that shares the end's month ("12" of "12 to 14 January").
DATE_PATTERNS = ("day", "day_year", "day_time", "date", "date_year", "range_start")
# The three added for issue 23 have defaults, so a clinic's pack written before them loads.


@dataclass(frozen=True)
class Language:
    code: str  # the folder name, stored per user
    name: str  # in the language itself, for the switch ("Русский")
    locale: Locale
    dates: Mapping[str, str]  # Babel patterns: DATE_PATTERNS
    zones: tuple[str, ...] = COMMON_ZONES  # IANA names offered as buttons, in this order


@dataclass(frozen=True)
class ContentPack:
    """Everything one language says; the views take one of these."""

    version: str
    language: Language
    topics: Mapping[str, Topic]
    sources: Mapping[str, Source]
    regions: Mapping[str, Region]
    messages: Mapping[str, Message]
    intents: Lexicon  # the free-text concepts of every language (``understand`` reads them)

    def text(self, key: str, /, **params: object) -> Html:
        """A message with its placeholders filled; values are HTML-escaped."""
        allowed = MESSAGES[key]
        unexpected = set(params) - allowed
        if unexpected:
            raise KeyError(f"{key} does not take {sorted(unexpected)}")
        escaped = {
            name: value if isinstance(value, Html) else html.escape(str(value), quote=False)
            for name, value in params.items()
        }
        message = self.messages[key]
        if isinstance(message, Plural):
            message = message.pick(self.language.locale, params[message.by])
        return Html(message.format_map(escaped))

    def day(self, day: date) -> str:
        """ "Mon 12 Jan" / "пн, 12 янв." """
        return format_date(day, self.language.dates["day"], locale=self.language.locale)

    def day_year(self, day: date) -> str:
        return format_date(day, self.language.dates["day_year"], locale=self.language.locale)

    def long_date(self, day: date, today: date) -> str:
        """A date as a sentence says it: "16 December" / «16 декабря», with the year only when
        it is not this year ("16 December 2027")."""
        key = "date" if day.year == today.year else "date_year"
        return format_date(day, self.language.dates[key], locale=self.language.locale)

    def date_range(self, start: date, end: date, today: date) -> tuple[str, str]:
        """The two ends of a span, each saying only what the other does not: «с 4 по 6
        декабря», «с 30 ноября по 2 декабря», «с 30 декабря 2026 по 2 января 2027» (the
        language's text puts the words around them: "4 to 6 December")."""
        if start.year != end.year:
            key = "date_year"
        elif start.month != end.month:
            key = "date"
        else:
            key = "range_start"
        first = format_date(start, self.language.dates[key], locale=self.language.locale)
        return first, self.long_date(end, today)

    def zone_city(self, zone: str) -> str:
        """A time zone's city in this language, for buttons ("Москва" for Europe/Moscow)."""
        try:
            return get_timezone_location(get_timezone(zone), self.language.locale, return_city=True)
        except LookupError:
            return zone.replace("_", " ")

    def day_time(self, local: datetime) -> str:
        """A local date and 24-hour time; ``local`` is already in the patient's zone."""
        pattern = self.language.dates["day_time"]
        return format_datetime(local, pattern, tzinfo=local.tzinfo, locale=self.language.locale)

    def region(self, key: str | None) -> Region:
        return self.regions.get(key or "other", self.regions["other"])

    def emergency_line(self, region_key: str | None) -> Html:
        region = self.region(region_key)
        if not region.emergency:
            return self.text("emergency.unknown_region")
        return self.text("emergency.line", number=region.emergency, region=region.name)

    def urgent_help_lines(self, region_key: str | None) -> list[Html]:
        """The region's poison or urgent-advice lines, where it has them (escaped)."""
        region = self.region(region_key)
        return [Html(html.escape(line)) for line in (region.poison, region.advice) if line]

    def crisis_line(self, region_key: str | None) -> Html | None:
        region = self.region(region_key)
        return Html(html.escape(region.crisis)) if region.crisis else None

    def region_numbers(self, region_key: str | None) -> str:
        region = self.region(region_key)
        lines: list[str] = [self.emergency_line(region_key)]
        lines.extend(html.escape(line) for line in (region.poison, region.advice) if line)
        return "\n".join(lines)

    def render_topic(self, key: str, region_key: str | None = None) -> str:
        topic = self.topics[key]
        body = topic.body
        if key == "emergency":
            body = body.replace("{region_numbers}", self.region_numbers(region_key))
        if key == "sources":
            listing = "\n".join(
                f'• <a href="{html.escape(source.url)}">{html.escape(source.title)}</a>'
                for source in self.sources.values()
            )
            body = f"{body}\n\n{listing}"
        cited = ", ".join(html.escape(self.sources[ref].title) for ref in topic.sources)
        prefix = self.text("facts.source_prefix")
        return f"<b>{html.escape(topic.title)}</b>\n\n{body}\n\n<i>{prefix} {cited}</i>"


@dataclass(frozen=True)
class ContentLibrary:
    """The pack in every language, loaded and validated together."""

    version: str
    default: str
    packs: Mapping[str, ContentPack]

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self.packs)

    def get(self, code: str | None) -> ContentPack:
        return self.packs.get(code or self.default, self.packs[self.default])

    def match(self, language_code: str | None) -> str:
        """The pack language for Telegram's ``language_code`` (an IETF tag such as "ru" or
        "en-GB"); the default language when there is none or the bot does not speak it."""
        primary = (language_code or "").split("-")[0].lower()
        return primary if primary in self.packs else self.default


@dataclass
class ContentHolder:
    """The live content library; ``/reload`` swaps it in one assignment."""

    library: ContentLibrary

    def pack(self, language: str | None) -> ContentPack:
        return self.library.get(language)
