"""The content pack: every text the bot sends, in every language, loaded from ``bot/pack/``.

Layout (docs/content-pack.md): ``pack.toml`` (version, languages), ``sources.toml`` (URLs),
``regions.toml`` (numbers) and ``concepts/`` (free-text words and rules) are shared; each
language has a folder (``en/``, ``ru/``) with ``language.toml``, ``messages.toml``,
``topics.toml``, ``regions.toml`` and ``sources.toml``.

The library is validated as a whole before it is used (at start and on ``/reload``): every topic
and message the code needs is present in every language, each uses only the placeholders the
code fills and the same ones as the default language, plural forms cover the language's CLDR
categories, the HTML is the subset Telegram accepts, each rendered text fits in one Telegram
message, every language cites the same sources for a topic and carries the same phone numbers.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_datetime

from bot.content.checks import check_html, check_parity, check_placeholders, check_rendered, forms
from bot.content.keys import MESSAGES
from bot.content.model import (
    DATE_PATTERNS,
    REGIONS,
    TOPICS,
    ContentError,
    ContentLibrary,
    ContentPack,
    Language,
    Message,
    Plural,
    Region,
    Source,
    Topic,
)
from bot.domain.lexicon import LanguageWords, Lexicon, compile_lexicon
from bot.domain.timezones import COMMON_ZONES, TimezoneError, parse_timezone

_TOPIC_PLACEHOLDERS: Mapping[str, frozenset[str]] = {"emergency": frozenset({"region_numbers"})}
_DATE_DEFAULTS = {"date": "d MMMM", "date_year": "d MMMM y", "range_start": "d"}


def load_library(directory: Path) -> ContentLibrary:
    """Read and validate every language; raise :class:`ContentError` with every problem found."""
    problems: list[str] = []
    meta = _read_toml(directory / "pack.toml", problems)
    version = str(meta.get("version", "")).strip()
    if not version:
        problems.append("pack.toml: version is missing")
    languages = meta.get("languages")
    if (
        not isinstance(languages, list)
        or not languages
        or not all(
            isinstance(code, str) and re.fullmatch(r"[a-z]{2,3}", code) for code in languages
        )
    ):
        problems.append('pack.toml: languages must list language folders, e.g. ["en", "ru"]')
        languages = []
    default = str(meta.get("default", ""))
    if languages and default not in languages:
        problems.append(f"pack.toml: default {default!r} is not one of the languages")
    urls = _source_urls(_read_toml(directory / "sources.toml", problems), problems)
    numbers = _read_toml(directory / "regions.toml", problems)
    intents = _concepts(directory / CONCEPTS_DIR, problems)
    packs: dict[str, ContentPack] = {}
    for code in languages:
        pack = _load_language(directory, code, version, urls, numbers, intents, problems)
        if pack is not None:
            packs[code] = pack
    # Parity is checked even when a language has other problems: a translator sees them all.
    reference = packs.get(default)
    for code, pack in packs.items():
        if reference is not None and code != default:
            check_parity(reference, pack, problems)
    if problems:
        raise ContentError(problems)
    for pack in packs.values():
        check_rendered(pack, problems)
    if problems:
        raise ContentError(problems)
    return ContentLibrary(version, default, packs)


def load_pack(directory: Path, language: str | None = None) -> ContentPack:
    """One language of the library (the default one unless named); tests and tools use it."""
    return load_library(directory).get(language)


def _load_language(
    directory: Path,
    code: str,
    version: str,
    urls: Mapping[str, str],
    numbers: Mapping[str, Any],
    intents: Lexicon,
    problems: list[str],
) -> ContentPack | None:
    folder = directory / code
    if not folder.is_dir():
        problems.append(f"{code}/: the language folder is missing")
        return None
    language = _language(
        code, _read_toml(folder / "language.toml", problems, f"{code}/language.toml"), problems
    )
    raw = {
        name: _read_toml(folder / f"{name}.toml", problems, f"{code}/{name}.toml")
        for name in ("sources", "topics", "regions", "messages")
    }
    sources = _sources(code, raw["sources"], urls, problems)
    topics = _topics(code, raw["topics"], sources, problems)
    regions = _regions(code, numbers, raw["regions"], sources, problems)
    messages = _messages(code, raw["messages"], language, problems)
    if language is None:
        return None
    return ContentPack(version, language, topics, sources, regions, messages, intents)


def _language(code: str, raw: Mapping[str, Any], problems: list[str]) -> Language | None:
    where = f"{code}/language.toml"
    if not raw:
        return None
    if raw.get("code") != code:
        problems.append(f"{where}: code must be {code!r} (the folder name)")
    try:
        locale = Locale.parse(str(raw.get("locale", "")))
    except (ValueError, UnknownLocaleError):
        problems.append(f"{where}: locale must be a Babel locale such as en_GB or ru")
        return None
    dates = raw.get("dates", {})
    patterns: dict[str, str] = {}
    for name in DATE_PATTERNS:
        pattern = dates.get(name, _DATE_DEFAULTS.get(name)) if isinstance(dates, dict) else None
        if not isinstance(pattern, str) or not pattern.strip():
            problems.append(f"{where}: dates.{name} is missing")
            continue
        try:
            format_datetime(datetime(2026, 1, 12, 8, 5), pattern, locale=locale)  # noqa: DTZ001
        except (ValueError, KeyError) as error:
            problems.append(f"{where}: dates.{name} is not a Babel pattern ({error})")
            continue
        patterns[name] = pattern
    # TOML puts every key below [dates] into that table: a `zones` list there would be lost.
    strays = set(dates) - set(DATE_PATTERNS) if isinstance(dates, dict) else set()
    for name in sorted(strays):
        problems.append(f"{where}: dates.{name} is not a date pattern (is it below [dates]?)")
    zones = _zones(raw.get("zones", list(COMMON_ZONES)), where, problems)
    return Language(code, _text_field(raw, "name", where, problems), locale, patterns, zones)


MAX_ZONE_BUTTONS = 12  # four rows of three under the question


def _zones(raw: object, where: str, problems: list[str]) -> tuple[str, ...]:
    """The zone buttons of a language (``zones`` in language.toml; the common zones when it is
    left out): IANA names zoneinfo can load, each once. Every IANA name fits a zone button's 64
    bytes (tests/unit/test_callbacks.py)."""
    if not isinstance(raw, list) or not raw or not all(isinstance(name, str) for name in raw):
        problems.append(f"{where}: zones must be a non-empty list of IANA names")
        return COMMON_ZONES
    if len(raw) > MAX_ZONE_BUTTONS:
        problems.append(f"{where}: zones lists {len(raw)} zones, at most {MAX_ZONE_BUTTONS}")
    zones: list[str] = []
    for name in raw:
        try:
            canonical = parse_timezone(name).key
        except TimezoneError:
            problems.append(f"{where}: zones: {name!r} is not an IANA time zone")
            continue
        if canonical != name:
            problems.append(f"{where}: zones: {name!r} is spelt {canonical!r}")
        if canonical in zones:
            problems.append(f"{where}: zones: {name!r} is listed twice")
            continue
        zones.append(canonical)
    return tuple(zones) or COMMON_ZONES


CONCEPTS_DIR = "concepts"
RULES_FILE = "rules.toml"


def concept_languages(directory: Path) -> tuple[str, ...]:
    """The languages with free-text concepts: one file each in ``concepts/``."""
    return tuple(
        sorted(
            path.stem
            for path in (directory / CONCEPTS_DIR).glob("*.toml")
            if path.name != RULES_FILE
        )
    )


def _concepts(directory: Path, problems: list[str]) -> Lexicon:
    """The free-text concepts: ``rules.toml`` (the concepts and the rules, shared) and one
    word file per language; every language's words are used for every patient, whatever
    language they chose (people mix languages when frightened)."""
    rules = _read_toml(directory / RULES_FILE, problems, f"{CONCEPTS_DIR}/{RULES_FILE}")
    declared = rules.get("concepts", {})
    if not isinstance(declared, dict) or not declared:
        problems.append(f"{CONCEPTS_DIR}/{RULES_FILE}: [concepts] must declare the concepts")
        declared = {}
    raw_rules = rules.get("rule", [])
    if not isinstance(raw_rules, list) or not all(isinstance(r, dict) for r in raw_rules):
        problems.append(f"{CONCEPTS_DIR}/{RULES_FILE}: each [[rule]] must be a table")
        raw_rules = []
    many = rules.get("many", 4)
    if not isinstance(many, int | float) or isinstance(many, bool) or many < 2:
        problems.append(f"{CONCEPTS_DIR}/{RULES_FILE}: many must be a number of 2 or more")
        many = 4
    parts: list[LanguageWords] = []
    languages = concept_languages(directory.parent)
    if not languages:
        problems.append(f"{CONCEPTS_DIR}/: no word files")
    for language in languages:
        name = f"{CONCEPTS_DIR}/{language}.toml"
        raw = _read_toml(directory / f"{language}.toml", problems, name)
        if not raw:
            continue
        if raw.get("language") != language:
            problems.append(f"{name}: language must be {language!r}")
        for key in set(raw) - {"language", "words", "context", "numbers", "translit"}:
            problems.append(f"{name}: {key} is not a section of a word file")
        tables = {}
        for section in ("words", "context"):
            table = raw.get(section, {})
            if not isinstance(table, dict) or not all(
                isinstance(v, list) and all(isinstance(w, str) for w in v) for v in table.values()
            ):
                problems.append(f"{name}: [{section}] must map names to lists of words")
                table = {}
            tables[section] = table
        numbers = raw.get("numbers", {})
        if not isinstance(numbers, dict) or not all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in numbers.values()
        ):
            problems.append(f"{name}: [numbers] must map words to numbers")
            numbers = {}
        translit = raw.get("translit", {})
        if not isinstance(translit, dict) or not all(isinstance(v, str) for v in translit.values()):
            problems.append(f"{name}: [translit] must map Latin letters to letters")
            translit = {}
        parts.append(LanguageWords(language, tables["words"], tables["context"], numbers, translit))
    try:
        return compile_lexicon(
            {str(k): str(v) for k, v in declared.items()}, raw_rules, parts, float(many)
        )
    except ValueError as error:
        problems.append(f"{CONCEPTS_DIR}/: {error}")
        return compile_lexicon({}, [], [])


def _read_toml(path: Path, problems: list[str], name: str | None = None) -> dict[str, Any]:
    name = name or path.name
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        problems.append(f"{name}: file is missing")
    except tomllib.TOMLDecodeError as error:
        problems.append(f"{name}: not valid TOML ({error})")
    except OSError as error:
        problems.append(f"{name}: cannot be read ({error.strerror})")
    return {}


def _text_field(table: Mapping[str, Any], field: str, where: str, problems: list[str]) -> str:
    value = table.get(field)
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{where}: {field} is missing or empty")
        return ""
    return value.strip()


def _source_urls(raw: Mapping[str, Any], problems: list[str]) -> dict[str, str]:
    urls: dict[str, str] = {}
    for key, table in raw.items():
        where = f"sources.toml [{key}]"
        if not isinstance(table, dict):
            problems.append(f"{where}: must be a table")
            continue
        url = _text_field(table, "url", where, problems)
        if url and not url.startswith(("https://", "http://")):
            problems.append(f"{where}: url must start with https:// or http://")
        urls[key] = url
    if not urls:
        problems.append("sources.toml: no sources")
    return urls


def _sources(
    code: str, raw: Mapping[str, Any], urls: Mapping[str, str], problems: list[str]
) -> dict[str, Source]:
    """Each source's title in this language; every source needs one, and nothing else."""
    sources: dict[str, Source] = {}
    for key, url in urls.items():
        where = f"{code}/sources.toml [{key}]"
        table = raw.get(key)
        if not isinstance(table, dict):
            problems.append(f"{where}: title is missing")
            continue
        sources[key] = Source(key, _text_field(table, "title", where, problems), url)
    for key in raw:
        if key not in urls:
            problems.append(f"{code}/sources.toml [{key}]: not a source in sources.toml")
    return sources


def _topics(
    code: str, raw: Mapping[str, Any], sources: Mapping[str, Source], problems: list[str]
) -> dict[str, Topic]:
    topics: dict[str, Topic] = {}
    for key in TOPICS:
        table = raw.get(key)
        where = f"{code}/topics.toml [{key}]"
        if not isinstance(table, dict):
            problems.append(f"{where}: topic is missing")
            continue
        refs = table.get("sources")
        if not isinstance(refs, list) or not refs or not all(isinstance(r, str) for r in refs):
            problems.append(f"{where}: sources must be a non-empty list of source keys")
            refs = []
        for ref in refs:
            if ref not in sources:
                problems.append(f"{where}: unknown source {ref!r}")
        topic = Topic(
            key=key,
            title=_text_field(table, "title", where, problems),
            menu=_text_field(table, "menu", where, problems),
            summary=_text_field(table, "summary", where, problems),
            body=_text_field(table, "body", where, problems),
            sources=tuple(refs),
        )
        if len(topic.menu) > 30:
            problems.append(f"{where}: menu is longer than 30 characters")
        if len(topic.summary) > 60:
            problems.append(f"{where}: summary is longer than 60 characters")
        allowed = _TOPIC_PLACEHOLDERS.get(key, frozenset())
        check_placeholders(topic.body, allowed, where, problems, required=allowed)
        check_html(topic.body, where, problems)
        topics[key] = topic
    for key in raw:
        if key not in TOPICS:
            problems.append(f"{code}/topics.toml [{key}]: not a known topic")
    return topics


_REGION_WORDS = ("name", "emergency_note", "poison", "advice", "crisis")


def _regions(
    code: str,
    numbers: Mapping[str, Any],
    words: Mapping[str, Any],
    known_sources: Mapping[str, Source],
    problems: list[str],
) -> dict[str, Region]:
    """Numbers from the shared regions.toml, the words around them from the language's."""
    regions: dict[str, Region] = {}
    for key in REGIONS:
        shared = numbers.get(key)
        table = words.get(key)
        where = f"{code}/regions.toml [{key}]"
        if not isinstance(shared, dict):
            problems.append(f"regions.toml [{key}]: region is missing")
            continue
        if not isinstance(table, dict):
            problems.append(f"{where}: region is missing")
            continue
        emergency = str(shared.get("emergency", "")).strip()
        if key != "other" and not emergency:
            problems.append(f"regions.toml [{key}]: emergency number is missing")
        regions[key] = Region(
            key=key,
            name=_text_field(table, "name", where, problems),
            emergency=emergency,
            emergency_note=str(table.get("emergency_note", "")).strip(),
            poison=str(table.get("poison", "")).strip(),
            advice=str(table.get("advice", "")).strip(),
            crisis=str(table.get("crisis", "")).strip(),
        )
        for field in set(table) - set(_REGION_WORDS):
            problems.append(f"{where}: {field} belongs in regions.toml or is not a field")
        refs = shared.get("sources", [])
        if not isinstance(refs, list) or any(ref not in known_sources for ref in refs):
            problems.append(f"regions.toml [{key}]: sources must be a list of known source keys")
    return regions


def _messages(
    code: str, raw: Mapping[str, Any], language: Language | None, problems: list[str]
) -> dict[str, Message]:
    flat: dict[str, Message] = {}
    for section, table in raw.items():
        if not isinstance(table, dict):
            problems.append(f"{code}/messages.toml [{section}]: must be a table")
            continue
        for name, value in table.items():
            key = f"{section}.{name}"
            if isinstance(value, str):
                flat[key] = value.strip()
            elif isinstance(value, dict):
                plural = _plural(code, key, value, language, problems)
                if plural is not None:
                    flat[key] = plural
            else:
                problems.append(f"{code}/messages.toml {key}: must be text or a plural table")
    for key, allowed in MESSAGES.items():
        where = f"{code}/messages.toml {key}"
        message = flat.get(key)
        if not message:
            problems.append(f"{where}: missing")
            continue
        if isinstance(message, Plural) and message.by not in allowed:
            problems.append(f"{where}: by = {message.by!r} is not one of its placeholders")
        for text in forms(message):
            check_placeholders(text, allowed, where, problems)
            check_html(text, where, problems)
    for key in sorted(set(flat) - set(MESSAGES)):
        problems.append(f"{code}/messages.toml {key}: not a key the bot uses (bot/content/keys.py)")
    return flat


def _plural(
    code: str,
    key: str,
    table: Mapping[str, Any],
    language: Language | None,
    problems: list[str],
) -> Plural | None:
    where = f"{code}/messages.toml {key}"
    by = table.get("by")
    forms = {name: str(text).strip() for name, text in table.items() if name != "by"}
    needed = {"other"} | (set(language.locale.plural_form.tags) if language else set())
    if not isinstance(by, str) or not by:
        problems.append(f'{where}: a plural table needs by = "<placeholder>"')
        return None
    for name in sorted(needed - set(forms)):
        problems.append(f"{where}: plural form {name!r} is missing")
    for name in sorted(set(forms) - needed):
        problems.append(f"{where}: {name!r} is not a plural form of this language")
    if needed - set(forms):
        return None
    return Plural(by, forms)
