"""The one table of patient commands: it feeds the command menu (setMyCommands) and /help.

Both read the same groups in the same order, so a command cannot be in one and not the other.
Descriptions and group headings are content-pack texts; fact topics use their topic summary.
"""

from __future__ import annotations

from bot.content import TOPICS, ContentPack

# (group key, commands in the order shown). The heading of a group is ``help.group_<key>``.
# /emergency leads, so the menu shows it near the top in every language.
PATIENT_COMMAND_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("urgent", ("emergency",)),
    (
        "plan",
        ("schedule", "plan", "calendar", "taper", "pause", "resume", "tablets", "supply", "pump"),
    ),
    ("doses", ("today", "missed", "checkin", "progress", "report")),
    ("facts", ("facts", *(topic for topic in TOPICS if topic not in ("missed", "emergency")))),
    ("data", ("mydata", "deleteme")),
    (
        "settings",
        (
            "settings",
            "start",
            "language",
            "timezone",
            "simple",
            "announcements",
            "caregiver",
            "help",
        ),
    ),
)
PATIENT_COMMANDS: tuple[str, ...] = tuple(
    command for _, commands in PATIENT_COMMAND_GROUPS for command in commands
)
# Shown, after the patient commands, only in the chats of ADMIN_IDS (a per-chat command scope).
ADMIN_COMMANDS: tuple[str, ...] = ("broadcast", "broadcasts", "stats", "reload")


def describe(pack: ContentPack, command: str) -> str:
    """The one-line description of a patient command, as the menu and /help show it."""
    # /missed answers from the user's own plan, but its line is the topic's summary.
    if command in TOPICS:
        return pack.topics[command].summary
    return pack.text(f"commands.{command}")
