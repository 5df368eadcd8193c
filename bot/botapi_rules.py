"""Rules of the Telegram Bot API that both the bot and the stand-in need, as pure data and
functions (no network, no Telegram library).

- :data:`METHOD_PARAMETERS`: the parameters each method this project uses takes, as the
  published Bot API documents them (https://core.telegram.org/bots/api). The stand-in refuses
  any other, as Telegram would; the send budget drops what PTB's Defaults add where a method
  does not take it.
- :data:`COUNTED_METHODS`: the methods whose requests Telegram counts against its message
  limits (about 30 a second overall, 1 a second per chat).
- :func:`visible_text`: the text of a message after entity parsing (HTML tags removed, HTML
  entities decoded), which is what Telegram's length limits count, in UTF-16 code units.
"""

from __future__ import annotations

import functools
import html
import re

# Parameters of every sending method that replies and keyboards use (Bot API 9.x).
_SEND_COMMON = frozenset(
    {
        "business_connection_id",
        "chat_id",
        "message_thread_id",
        "direct_messages_topic_id",
        "disable_notification",
        "protect_content",
        "allow_paid_broadcast",
        "message_effect_id",
        "suggested_post_parameters",
        "reply_parameters",
        "reply_markup",
    }
)

METHOD_PARAMETERS: dict[str, frozenset[str]] = {
    "getMe": frozenset(),
    "logOut": frozenset(),
    "close": frozenset(),
    "getUpdates": frozenset({"offset", "limit", "timeout", "allowed_updates"}),
    "setWebhook": frozenset(
        {
            "url",
            "certificate",
            "ip_address",
            "max_connections",
            "allowed_updates",
            "drop_pending_updates",
            "secret_token",
        }
    ),
    "deleteWebhook": frozenset({"drop_pending_updates"}),
    "getWebhookInfo": frozenset(),
    "sendMessage": _SEND_COMMON | {"text", "parse_mode", "entities", "link_preview_options"},
    "sendDocument": _SEND_COMMON
    | {
        "document",
        "thumbnail",
        "caption",
        "parse_mode",
        "caption_entities",
        "disable_content_type_detection",
    },
    "sendPhoto": _SEND_COMMON
    | {
        "photo",
        "caption",
        "parse_mode",
        "caption_entities",
        "show_caption_above_media",
        "has_spoiler",
    },
    "editMessageText": frozenset(
        {
            "business_connection_id",
            "chat_id",
            "message_id",
            "inline_message_id",
            "text",
            "parse_mode",
            "entities",
            "link_preview_options",
            "reply_markup",
        }
    ),
    "editMessageReplyMarkup": frozenset(
        {"business_connection_id", "chat_id", "message_id", "inline_message_id", "reply_markup"}
    ),
    "answerCallbackQuery": frozenset(
        {"callback_query_id", "text", "show_alert", "url", "cache_time"}
    ),
    "sendChatAction": frozenset(
        {"business_connection_id", "chat_id", "message_thread_id", "action"}
    ),
    "deleteMessage": frozenset({"chat_id", "message_id"}),
    "setMyCommands": frozenset({"commands", "scope", "language_code"}),
    "deleteMyCommands": frozenset({"scope", "language_code"}),
    "getMyCommands": frozenset({"scope", "language_code"}),
    "setChatMenuButton": frozenset({"chat_id", "menu_button"}),
    "getChatMenuButton": frozenset({"chat_id"}),
    "setMyDescription": frozenset({"description", "language_code"}),
    "setMyShortDescription": frozenset({"short_description", "language_code"}),
    "setMyName": frozenset({"name", "language_code"}),
}

# Messages Telegram counts against its limits: sends, and edits of sent messages.
COUNTED_METHODS = frozenset(
    {"sendMessage", "sendDocument", "sendPhoto", "editMessageText", "editMessageReplyMarkup"}
)

# Only these accept allow_paid_broadcast (up to 1000 a second, for a fee in Stars).
PAID_BROADCAST_METHODS = frozenset(
    name for name, params in METHOD_PARAMETERS.items() if "allow_paid_broadcast" in params
)

MAX_TEXT = 4096  # characters after entity parsing
MAX_CAPTION = 1024


def accepts(method: str, parameter: str) -> bool:
    """Does ``method`` take ``parameter``? Unknown methods are taken to accept anything."""
    known = METHOD_PARAMETERS.get(method)
    return known is None or parameter in known


def unknown_parameters(method: str, parameters: set[str] | frozenset[str]) -> list[str]:
    """The parameters in ``parameters`` that ``method`` does not take (sorted)."""
    known = METHOD_PARAMETERS.get(method)
    if known is None:
        return []
    return sorted(set(parameters) - known)


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


class EntityParseError(ValueError):
    """Text that Telegram would refuse with "can't parse entities"; ``str`` is its reason."""


PARSE_MODES = frozenset({"html", "markdown", "markdownv2"})
HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "tg-emoji",
        "code",
        "pre",
        "blockquote",
    }
)
# Telegram decodes numeric entities and only these named ones.
_HTML_ENTITY_RE = re.compile(r"&(?:#[0-9]+|#x[0-9a-fA-F]+|lt|gt|amp|quot);")
_HTML_TAG_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9-]*")


@functools.lru_cache(maxsize=4096)
def html_to_plain(text: str) -> str:
    """Validate Telegram HTML like the Bot API does and return the visible text.

    Cached: a burst sends the same few texts thousands of times, and the stand-in checked each
    one again (a refused text raises, and raising is not cached)."""
    plain: list[str] = []
    stack: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "&":
            entity = _HTML_ENTITY_RE.match(text, i)
            if entity is not None:
                plain.append(html.unescape(entity.group()))
                i = entity.end()
                continue
        if char != "<":
            plain.append(char)
            i += 1
            continue
        offset = len(text[:i].encode())
        closing = text.startswith("</", i)
        name_match = _HTML_TAG_NAME_RE.match(text, i + (2 if closing else 1))
        if name_match is None:
            raise EntityParseError(
                f"can't parse entities: Unexpected end of name token at byte offset {offset}"
            )
        end = text.find(">", name_match.end())
        if end == -1:
            raise EntityParseError(
                f"can't parse entities: Unclosed start tag at byte offset {offset}"
            )
        name = name_match.group().lower()
        if not closing:
            if name not in HTML_TAGS:
                raise EntityParseError(
                    f'can\'t parse entities: Unsupported start tag "{name}" at byte offset {offset}'
                )
            stack.append(name)
        elif not stack:
            raise EntityParseError(
                f"can't parse entities: Unexpected end tag at byte offset {offset}"
            )
        elif stack[-1] != name:
            raise EntityParseError(
                f"can't parse entities: Unmatched end tag at byte offset {offset}, "
                f'expected "</{stack[-1]}>", found "</{name}>"'
            )
        else:
            stack.pop()
        i = end + 1
    if stack:
        raise EntityParseError(
            f"can't parse entities: Can't find end tag corresponding to start tag \"{stack[-1]}\""
        )
    return "".join(plain)


def visible_text(text: str, parse_mode: str | None) -> str:
    """The text after entity parsing, as Telegram shows and counts it.

    Raises :class:`EntityParseError` for markup Telegram refuses, and ``ValueError`` for a parse
    mode it does not know. Only HTML is parsed here (the bot sends nothing else); Markdown is
    taken as it is.
    """
    if not parse_mode:
        return text
    if parse_mode.lower() not in PARSE_MODES:
        raise ValueError(f"unsupported parse_mode {parse_mode!r}")
    if parse_mode.lower() == "html":
        return html_to_plain(text)
    return text
