"""The message keys the code uses, with the placeholders each may contain.

The texts themselves live in ``content/messages.toml``; the loader checks them against this
table, so a typo in the pack is caught when it is loaded, not when a patient triggers it.
"""

from __future__ import annotations

from collections.abc import Mapping


def _keys(*names: str) -> frozenset[str]:
    return frozenset(names)


NONE = frozenset[str]()

MESSAGES: Mapping[str, frozenset[str]] = {
    # Onboarding and settings
    "onboarding.welcome": NONE,
    "onboarding.consent_button": NONE,
    "onboarding.decline_button": NONE,
    "onboarding.declined": NONE,
    "onboarding.ask_timezone": NONE,
    "onboarding.ask_region": NONE,
    "onboarding.done": _keys("timezone", "region", "emergency_line"),
    "onboarding.welcome_back": _keys("timezone", "region"),
    "onboarding.need_consent": NONE,
    "timezone.usage": NONE,
    "timezone.invalid": _keys("value"),
    "timezone.set": _keys("timezone", "local_time"),
    "timezone.from_location": _keys("timezone", "local_time"),
    "timezone.location_invalid": NONE,
    "region.set": _keys("region", "emergency_line"),
    "announcements.usage": NONE,
    "announcements.on": NONE,
    "announcements.off": NONE,
    # Help, facts and free text
    "help.text": _keys("fact_commands"),
    "help.fact_line": _keys("command", "summary"),
    "facts.menu": NONE,
    "facts.source_prefix": NONE,
    "freetext.pointer": NONE,
    "freetext.unknown_command": NONE,
    "freetext.non_text": NONE,
    "redflag.reply": _keys("emergency_line"),
    "stop.guidance": NONE,
    "group.private_only": NONE,
    "emergency.line": _keys("number", "region"),
    "emergency.unknown_region": NONE,
    "errors.generic": NONE,
    "errors.stale_button": NONE,
    # Bot command menu descriptions (setMyCommands)
    "commands.start": NONE,
    "commands.help": NONE,
    "commands.timezone": NONE,
    "commands.facts": NONE,
    "commands.announcements": NONE,
}
