"""Caregiver rules: invites, the alert delay, how many links, what an alert says.

Pure: no Telegram, no database. The caller passes instants and the recent doses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain.missed import PastDose, Record, missed_in_a_row

MAX_CAREGIVERS = 3  # per patient; a caregiver may be linked to any number of patients
INVITE_VALID_FOR = timedelta(hours=24)
DELAY_MIN = timedelta(minutes=30)
DELAY_MAX = timedelta(hours=3)
DEFAULT_DELAY = timedelta(hours=1)
DELAY_CHOICES = (30, 60, 90, 120, 180)  # minutes offered as buttons
TWO_IN_A_ROW = 2

# The /start payload of an invite: Telegram allows 1-64 characters of [A-Za-z0-9_-].
INVITE_PREFIX = "cg_"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,61}")
START_PAYLOAD_MAX = 64


class AlertKind(StrEnum):
    """Why an alert row exists."""

    UNANSWERED = "unanswered"  # a reminder was sent; told if still unanswered after the delay
    TAPER_STEP = "taper_step"  # the first dose of a taper step was reminded


class Said(StrEnum):
    """What the message said (an unanswered dose may be the second missed in a row)."""

    UNANSWERED = "unanswered"
    TWO_MISSED = "two_missed"
    TAPER_STEP = "taper_step"


class AlertOutcome(StrEnum):
    """How an alert's life ended (the transitions are in ``bot.storage.caregivers``)."""

    SENT = "sent"  # Telegram accepted it
    ANSWERED = "answered"  # the patient pressed Taken or Skip first: nothing to tell
    CANCELLED = "cancelled"  # its dose is no longer planned (the plan changed): nothing to tell
    UNREACHABLE = "unreachable"  # the caregiver blocked the bot
    REJECTED = "rejected"  # Telegram refused it (a 400): sending again would fail again
    GIVEN_UP = "given_up"  # every retry failed


class InviteProblem(StrEnum):
    UNKNOWN = "unknown"  # no such token (mistyped, or erased with its patient)
    EXPIRED = "expired"
    USED = "used"
    OWN = "own"  # the patient opened their own link
    ALREADY_LINKED = "already_linked"
    FULL = "full"  # the patient has MAX_CAREGIVERS already


class DelayError(ValueError):
    """Not a delay between 30 minutes and 3 hours."""


_DELAY = re.compile(r"(?:(\d{1,2})\s*h)?\s*(?:(\d{1,3})\s*(?:m|min|mins|minutes)?)?")


def parse_delay(text: str) -> timedelta:
    """``90``, ``90m``, ``1h``, ``1h30`` or ``2 h 30 min``: between 30 minutes and 3 hours."""
    cleaned = text.strip().lower().replace("hours", "h").replace("hour", "h")
    match = _DELAY.fullmatch(cleaned)
    if not cleaned or match is None or not any(match.groups()):
        raise DelayError(text)
    hours, minutes = (int(part) if part else 0 for part in match.groups())
    delay = timedelta(hours=hours, minutes=minutes)
    if not DELAY_MIN <= delay <= DELAY_MAX:
        raise DelayError(text)
    return delay


def valid_delay_minutes(minutes: int) -> bool:
    return DELAY_MIN <= timedelta(minutes=minutes) <= DELAY_MAX


def invite_payload(token: str) -> str:
    payload = INVITE_PREFIX + token
    if len(payload) > START_PAYLOAD_MAX or _TOKEN.fullmatch(token) is None:
        raise ValueError("an invite token must fit Telegram's /start parameter")
    return payload


def invite_token(payload: str) -> str | None:
    """The token of an invite's /start payload, or None if the payload is not one."""
    if not payload.startswith(INVITE_PREFIX) or len(payload) > START_PAYLOAD_MAX:
        return None
    token = payload[len(INVITE_PREFIX) :]
    return token if _TOKEN.fullmatch(token) else None


@dataclass(frozen=True)
class InviteState:
    patient_id: int
    expires_at: datetime
    used: bool


def invite_problem(
    invite: InviteState | None,
    opener_id: int,
    now: datetime,
    *,
    already_linked: bool,
    linked_count: int,
) -> InviteProblem | None:
    """Why this person cannot accept this invite now, or None if they can."""
    if invite is None:
        return InviteProblem.UNKNOWN
    if invite.patient_id == opener_id:
        return InviteProblem.OWN
    if invite.used:
        return InviteProblem.USED
    if now >= invite.expires_at:
        return InviteProblem.EXPIRED
    if already_linked:
        return InviteProblem.ALREADY_LINKED
    if linked_count >= MAX_CAREGIVERS:
        return InviteProblem.FULL
    return None


def what_to_say(kind: AlertKind, doses: Iterable[PastDose]) -> Said | None:
    """What an alert due now says, from the patient's doses up to and including its own
    (its own is the latest; order does not matter).

    An unanswered-dose alert whose dose has a Taken or Skip since says nothing (None). The
    second dose in a row without a Taken is said as such, once per run: later ones in the same
    run are told as plain unanswered doses.
    """
    if kind is AlertKind.TAPER_STEP:
        return Said.TAPER_STEP
    listed = list(doses)
    latest = max(listed, key=lambda dose: dose.due, default=None)
    if latest is None or latest.record in (Record.TAKEN, Record.SKIPPED):
        return None
    if missed_in_a_row(listed) == TWO_IN_A_ROW:
        return Said.TWO_MISSED
    return Said.UNANSWERED
