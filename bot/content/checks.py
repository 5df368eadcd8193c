"""Checks the loader runs on every language: placeholders, parity with the default language,
the HTML subset Telegram accepts and the length of each rendered text."""

from __future__ import annotations

import html
import re
import string
from html.parser import HTMLParser

from bot.content.model import REGIONS, TOPICS, ContentPack, Message, Plural

ALLOWED_TAGS = frozenset({"b", "i", "u", "s", "code", "pre", "a", "blockquote"})

TELEGRAM_TEXT_LIMIT = 4096


def forms(message: Message) -> list[str]:
    return list(message.forms.values()) if isinstance(message, Plural) else [message]


def placeholders(text: str) -> frozenset[str]:
    try:
        return frozenset(
            name for _, name, _, _ in string.Formatter().parse(text) if name is not None
        )
    except ValueError:
        return frozenset()  # reported by check_placeholders


_DIGITS = re.compile(r"\d[\d\s-]*\d|\d")


def phone_numbers(text: str) -> list[str]:
    """The numbers in a region line, spaces and dashes removed ("116 123" -> "116123")."""
    return sorted(re.sub(r"[\s-]", "", found) for found in _DIGITS.findall(text))


def check_parity(reference: ContentPack, pack: ContentPack, problems: list[str]) -> None:
    """A translation says the same things: same keys, placeholders, sources and numbers."""
    code, ref = pack.language.code, reference.language.code
    for key, message in reference.messages.items():
        other = pack.messages.get(key)
        if other is None:
            continue  # already reported as missing
        wanted = frozenset().union(*(placeholders(text) for text in forms(message)))
        for text in forms(other):
            used = placeholders(text)
            # A plural form may leave out its number ("one" = "a day"), nothing else.
            by = other.by if isinstance(other, Plural) else None
            for name in sorted(wanted - used - {by}):
                problems.append(
                    f"{code}/messages.toml {key}: placeholder {{{name}}} is missing ({ref} has it)"
                )
            for name in sorted(used - wanted):
                problems.append(
                    f"{code}/messages.toml {key}: placeholder {{{name}}} is not in the {ref} text"
                )
    for key, topic in reference.topics.items():
        other_topic = pack.topics.get(key)
        if other_topic is not None and other_topic.sources != topic.sources:
            problems.append(f"{code}/topics.toml [{key}]: sources differ from {ref}/topics.toml")
    for key, region in reference.regions.items():
        theirs = pack.regions.get(key)
        if theirs is None:
            continue
        for field in ("emergency_note", "poison", "advice", "crisis"):
            if phone_numbers(getattr(region, field)) != phone_numbers(getattr(theirs, field)):
                problems.append(
                    f"{code}/regions.toml [{key}]: {field} has other numbers than {ref}"
                )


def check_placeholders(
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
        if tag not in ALLOWED_TAGS:
            self.errors.append(f"tag <{tag}> is not allowed by Telegram")
        if tag == "a" and not any(n == "href" and v and v.startswith("http") for n, v in attrs):
            self.errors.append("<a> needs an http(s) href")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> does not close the open tag")
        else:
            self.stack.pop()


def check_html(text: str, where: str, problems: list[str]) -> None:
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


def check_rendered(pack: ContentPack, problems: list[str]) -> None:
    for key in TOPICS:
        for region in REGIONS:
            # A topic may follow a short intro: after a red-flag answer, or a question's
            # "if this is happening now" line.
            intros = (
                pack.text("redflag.question_topic"),
                pack.text("freetext.question_now", number=pack.region(region).emergency),
                pack.text("freetext.question_now_unknown"),
            )
            topic = pack.render_topic(key, region)
            rendered = max((f"{intro}\n\n{topic}" for intro in intros), key=telegram_length)
            if telegram_length(rendered) > TELEGRAM_TEXT_LIMIT:
                problems.append(
                    f"{pack.language.code}/topics.toml [{key}]: longer than "
                    f"{TELEGRAM_TEXT_LIMIT} rendered"
                )
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
