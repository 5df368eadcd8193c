"""The content pack: every text the bot sends to a patient, loaded from ``bot/pack/*.toml``.

The pack is validated as a whole before it is used (at start and on ``/reload``): every topic
and message the code needs is present, each uses only the placeholders the code fills, the HTML
is the subset Telegram accepts, and each rendered text fits in one Telegram message.
"""

from __future__ import annotations

import html
import re
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from bot.domain.redflags import IntentRules, compile_rules
from bot.messages import MESSAGES

TOPICS: tuple[str, ...] = (
    "halflife",
    "dosage",
    "sideeffects",
    "interactions",
    "warnings",
    "pregnancy",
    "overdose",
    "withdrawal",
    "missed",
    "emergency",
    "sources",
)
REGIONS: tuple[str, ...] = ("us", "uk", "eu", "ru", "other")
TELEGRAM_TEXT_LIMIT = 4096
_ALLOWED_TAGS = frozenset({"b", "i", "u", "s", "code", "pre", "a", "blockquote"})
_TOPIC_PLACEHOLDERS: Mapping[str, frozenset[str]] = {"emergency": frozenset({"region_numbers"})}


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
class ContentPack:
    version: str
    topics: Mapping[str, Topic]
    sources: Mapping[str, Source]
    regions: Mapping[str, Region]
    messages: Mapping[str, str]
    intents: IntentRules

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
        return Html(self.messages[key].format_map(escaped))

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


@dataclass
class ContentHolder:
    """The live content pack; ``/reload`` swaps it in one assignment."""

    pack: ContentPack


def load_pack(directory: Path) -> ContentPack:
    """Read and validate the pack; raise :class:`ContentError` with every problem found."""
    problems: list[str] = []
    raw = {name: _read_toml(directory / f"{name}.toml", problems) for name in _FILES}
    version = str(raw["pack"].get("version", "")).strip()
    if not version:
        problems.append("pack.toml: version is missing")
    sources = _sources(raw["sources"], problems)
    topics = _topics(raw["topics"], sources, problems)
    regions = _regions(raw["regions"], sources, problems)
    messages = _messages(raw["messages"], problems)
    intents = _intents(directory / INTENTS_DIR, problems)
    if problems:
        raise ContentError(problems)
    pack = ContentPack(version, topics, sources, regions, messages, intents)
    _check_rendered(pack, problems)
    if problems:
        raise ContentError(problems)
    return pack


_FILES = ("pack", "sources", "topics", "regions", "messages")
INTENTS_DIR = "intents"
INTENT_LANGUAGES: tuple[str, ...] = ("en", "ru")


def _intents(directory: Path, problems: list[str]) -> IntentRules:
    """The free-text patterns, one file per language in the same shape; all are used."""
    parts: list[IntentRules] = []
    for language in INTENT_LANGUAGES:
        name = f"{INTENTS_DIR}/{language}.toml"
        raw = _read_toml(directory / f"{language}.toml", problems, name)
        if not raw:
            continue
        if raw.get("language") != language:
            problems.append(f"{name}: language must be {language!r}")
        rules: list[tuple[str, list[str]]] = []
        for number, table in enumerate(raw.get("rule", []), start=1):
            patterns = table.get("all") if isinstance(table, dict) else None
            if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
                problems.append(f"{name}: rule {number} needs a list `all` of patterns")
                continue
            rules.append((str(table.get("category", "")), patterns))
        try:
            parts.append(
                compile_rules(
                    rules,
                    [str(p) for p in raw.get("neutral", [])],
                    [str(p) for p in raw.get("questions", [])],
                )
            )
        except ValueError as error:
            problems.append(f"{name}: {error}")
    return IntentRules.merge(parts)


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


def _sources(raw: Mapping[str, Any], problems: list[str]) -> dict[str, Source]:
    sources: dict[str, Source] = {}
    for key, table in raw.items():
        where = f"sources.toml [{key}]"
        if not isinstance(table, dict):
            problems.append(f"{where}: must be a table")
            continue
        url = _text_field(table, "url", where, problems)
        if url and not url.startswith(("https://", "http://")):
            problems.append(f"{where}: url must start with https:// or http://")
        sources[key] = Source(key, _text_field(table, "title", where, problems), url)
    if not sources:
        problems.append("sources.toml: no sources")
    return sources


def _topics(
    raw: Mapping[str, Any], sources: Mapping[str, Source], problems: list[str]
) -> dict[str, Topic]:
    topics: dict[str, Topic] = {}
    for key in TOPICS:
        table = raw.get(key)
        where = f"topics.toml [{key}]"
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
        _check_placeholders(topic.body, allowed, where, problems, required=allowed)
        _check_html(topic.body, where, problems)
        topics[key] = topic
    for key in raw:
        if key not in TOPICS:
            problems.append(f"topics.toml [{key}]: not a known topic")
    return topics


def _regions(
    raw: Mapping[str, Any], known_sources: Mapping[str, Source], problems: list[str]
) -> dict[str, Region]:
    regions: dict[str, Region] = {}
    for key in REGIONS:
        table = raw.get(key)
        where = f"regions.toml [{key}]"
        if not isinstance(table, dict):
            problems.append(f"{where}: region is missing")
            continue
        emergency = str(table.get("emergency", "")).strip()
        if key != "other" and not emergency:
            problems.append(f"{where}: emergency number is missing")
        regions[key] = Region(
            key=key,
            name=_text_field(table, "name", where, problems),
            emergency=emergency,
            emergency_note=str(table.get("emergency_note", "")).strip(),
            poison=str(table.get("poison", "")).strip(),
            advice=str(table.get("advice", "")).strip(),
            crisis=str(table.get("crisis", "")).strip(),
        )
        refs = table.get("sources", [])
        if not isinstance(refs, list) or any(ref not in known_sources for ref in refs):
            problems.append(f"{where}: sources must be a list of known source keys")
    return regions


def _messages(raw: Mapping[str, Any], problems: list[str]) -> dict[str, str]:
    flat: dict[str, str] = {}
    for section, table in raw.items():
        if not isinstance(table, dict):
            problems.append(f"messages.toml [{section}]: must be a table")
            continue
        for name, value in table.items():
            if isinstance(value, str):
                flat[f"{section}.{name}"] = value.strip()
    for key, allowed in MESSAGES.items():
        where = f"messages.toml {key}"
        if key not in flat or not flat[key]:
            problems.append(f"{where}: missing")
            continue
        _check_placeholders(flat[key], allowed, where, problems)
        _check_html(flat[key], where, problems)
    return flat


def _check_placeholders(
    text: str,
    allowed: frozenset[str],
    where: str,
    problems: list[str],
    required: frozenset[str] = frozenset(),
) -> None:
    try:
        used = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as error:
        problems.append(f"{where}: bad braces ({error}); write {{{{ and }}}} for literal braces")
        return
    for name in sorted(used - allowed):
        problems.append(f"{where}: unknown placeholder {{{name}}}")
    for name in sorted(required - used):
        problems.append(f"{where}: placeholder {{{name}}} is required")


class _TagChecker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _ALLOWED_TAGS:
            self.errors.append(f"tag <{tag}> is not allowed by Telegram")
        if tag == "a" and not any(n == "href" and v and v.startswith("http") for n, v in attrs):
            self.errors.append("<a> needs an http(s) href")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> does not close the open tag")
        else:
            self.stack.pop()


def _check_html(text: str, where: str, problems: list[str]) -> None:
    checker = _TagChecker()
    checker.feed(text.replace("{", "").replace("}", ""))
    checker.close()
    if checker.stack:
        checker.errors.append(f"<{checker.stack[-1]}> is never closed")
    if "<" in _strip_tags(text):
        checker.errors.append("a bare '<' must be written &lt;")
    problems.extend(f"{where}: {error}" for error in checker.errors)


def _strip_tags(text: str) -> str:
    return re.sub(r"</?[a-z]+(\s[^<>]*)?>", "", text)


def _check_rendered(pack: ContentPack, problems: list[str]) -> None:
    for key in TOPICS:
        for region in REGIONS:
            # A topic may follow the short question intro (after a red-flag answer).
            rendered = f"{pack.text('redflag.question_topic')}\n\n{pack.render_topic(key, region)}"
            if visible_length(rendered) > TELEGRAM_TEXT_LIMIT:
                problems.append(f"topics.toml [{key}]: longer than {TELEGRAM_TEXT_LIMIT} rendered")
            if key != "emergency":
                break


def visible_length(text: str) -> int:
    """Telegram's limit counts the text after the HTML entities are parsed out."""
    return len(html.unescape(_strip_tags(text)))


def telegram_length(text: str) -> int:
    """Length as Telegram counts it against the 4096 limit: UTF-16 code units of the visible text.

    Stricter than :func:`visible_length` for emoji and other characters outside the BMP.
    """
    return len(html.unescape(_strip_tags(text)).encode("utf-16-le")) // 2
