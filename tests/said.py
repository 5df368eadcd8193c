"""Which message the bot sent, by its content-pack key rather than its English wording.

A test whose point is that the bot sent a given message (not how that message reads)
compares the reply with the pack's own text, so rewording a message does not break it.
"""

from __future__ import annotations

from bot.content import ContentPack
from bot.content.model import Plural


def opening(pack: ContentPack, key: str) -> str:
    """The message ``key`` up to its first placeholder, as the bot sends it (HTML kept):
    what every rendering of it starts with, whatever the placeholders hold."""
    message = pack.messages[key]
    if isinstance(message, Plural):
        message = message.forms["other"]
    opening = message.split("{", 1)[0]
    assert opening.strip(), f"{key} opens with a placeholder: compare it whole"
    return opening


def ending(pack: ContentPack, key: str) -> str:
    """The message ``key`` after its last placeholder, as the bot sends it (HTML kept): what
    every rendering of it ends with, whatever the placeholders hold."""
    message = pack.messages[key]
    if isinstance(message, Plural):
        message = message.forms["other"]
    ending = message.rsplit("}", 1)[-1]
    assert ending.strip(), f"{key} ends with a placeholder: compare it whole"
    return ending
