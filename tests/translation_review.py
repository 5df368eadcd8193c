"""The side-by-side list of every text, English and Russian, for a clinic reviewer.

``python -m tests.translation_review`` rewrites the generated part of
``docs/translation-review-ru.md`` (everything after the marker line); the part above it is
written by hand (what we were unsure of, the sign-off). ``tests/chat/test_languages.py`` fails when
the document is older than the pack.
"""

from __future__ import annotations

import html

from bot.content import ContentLibrary, Message, Plural, load_library
from tests.conftest import CONTENT_DIR, ROOT

DOCUMENT = ROOT / "docs" / "translation-review-ru.md"
MARKER = "<!-- generated below by `python -m tests.translation_review`: do not edit by hand -->"


def _cell(text: str) -> str:
    """One table cell: the text as the patient reads it, tags kept, lines joined by <br>."""
    return html.escape(text.strip(), quote=False).replace("|", "\\|").replace("\n", "<br>")


def _message(message: Message | None) -> str:
    if message is None:
        return "**missing**"
    if isinstance(message, Plural):
        return "<br>".join(f"*{form}:* {_cell(text)}" for form, text in message.forms.items())
    return _cell(message)


def generated(library: ContentLibrary, other: str = "ru") -> str:
    english, russian = library.get(library.default), library.get(other)
    lines = [
        f"Content pack version {library.version}.",
        "",
        "## Quick-fact topics",
        "",
        "| key | English | Russian |",
        "| --- | --- | --- |",
    ]
    for key, topic in english.topics.items():
        theirs = russian.topics[key]
        for field in ("title", "menu", "summary", "body"):
            mine, translated = getattr(topic, field), getattr(theirs, field)
            lines.append(f"| `{key}.{field}` | {_cell(mine)} | {_cell(translated)} |")
        cited = ", ".join(topic.sources)
        lines.append(f"| `{key}.sources` | {cited} | {', '.join(theirs.sources)} |")
    lines += ["", "## Regions", "", "| key | English | Russian |", "| --- | --- | --- |"]
    for key, region in english.regions.items():
        theirs_region = russian.regions[key]
        for field in ("name", "emergency_note", "poison", "advice", "crisis"):
            mine, translated = getattr(region, field), getattr(theirs_region, field)
            if mine or translated:
                lines.append(f"| `{key}.{field}` | {_cell(mine)} | {_cell(translated)} |")
    lines += ["", "## Sources", "", "| key | English | Russian |", "| --- | --- | --- |"]
    for key, source in english.sources.items():
        lines.append(f"| `{key}` | {_cell(source.title)} | {_cell(russian.sources[key].title)} |")
    lines += ["", "## Messages", "", "| key | English | Russian |", "| --- | --- | --- |"]
    lines.extend(
        f"| `{key}` | {_message(text)} | {_message(russian.messages.get(key))} |"
        for key, text in english.messages.items()
    )
    return "\n".join(lines) + "\n"


def document(library: ContentLibrary) -> str:
    head = DOCUMENT.read_text(encoding="utf-8").split(MARKER)[0]
    return f"{head}{MARKER}\n\n{generated(library)}"


def main() -> None:
    DOCUMENT.write_text(document(load_library(CONTENT_DIR)), encoding="utf-8")
    print(f"wrote {DOCUMENT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
