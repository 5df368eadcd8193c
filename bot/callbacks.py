"""Typed button data: each button's format lives here once, for the keyboard and the handler.

Telegram carries at most 64 bytes of ``callback_data``; :meth:`pack` refuses anything longer,
so an oversized button fails in a test rather than at Telegram.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar, Literal, get_args

CALLBACK_DATA_MAX_BYTES = 64

DoseAnswer = Literal["taken", "skip", "snooze"]
DOSE_ANSWERS: tuple[DoseAnswer, ...] = get_args(DoseAnswer)


def _checked(data: str) -> str:
    if len(data.encode("utf-8")) > CALLBACK_DATA_MAX_BYTES:
        raise ValueError(f"callback_data over {CALLBACK_DATA_MAX_BYTES} bytes")
    return data


@dataclass(frozen=True)
class DoseButton:
    """Taken / Skip / Snooze on a dose: ``dose:<event id>:<answer>``."""

    PREFIX: ClassVar[str] = "dose"
    PATTERN: ClassVar[str] = r"^dose:"
    _FORMAT: ClassVar[re.Pattern[str]] = re.compile(
        r"^dose:(\d{1,18}):(" + "|".join(DOSE_ANSWERS) + r")$"
    )

    event_id: int
    answer: DoseAnswer

    def pack(self) -> str:
        return _checked(f"{self.PREFIX}:{self.event_id}:{self.answer}")

    @classmethod
    def unpack(cls, data: str | None) -> DoseButton | None:
        """The button, or None for data that is not one (stale, forged or mangled)."""
        match = cls._FORMAT.match(data or "")
        if match is None:
            return None
        answer = match.group(2)
        for known in DOSE_ANSWERS:
            if known == answer:
                return cls(int(match.group(1)), known)
        return None  # pragma: no cover - the pattern only admits known answers


_CHECKIN_QUESTIONS = ("stiffness", "drowsiness", "dizziness", "weakness", "nausea", "note")


@dataclass(frozen=True)
class CheckInButton:
    """An answer in a check-in: ``ci:<check-in id>:<question>:<value>`` (value "-" for Skip)."""

    PATTERN: ClassVar[str] = r"^ci:"
    _FORMAT: ClassVar[re.Pattern[str]] = re.compile(
        r"^ci:(\d{1,18}):(" + "|".join(_CHECKIN_QUESTIONS) + r"):(\d{1,2}|-)$"
    )

    checkin_id: int
    question: str
    value: str

    def pack(self) -> str:
        return _checked(f"ci:{self.checkin_id}:{self.question}:{self.value}")

    @classmethod
    def unpack(cls, data: str | None) -> CheckInButton | None:
        match = cls._FORMAT.match(data or "")
        if match is None:
            return None
        return cls(int(match.group(1)), match.group(2), match.group(3))


@dataclass(frozen=True)
class HoldButton:
    """After a check-in: ``hold:<check-in id>:<days>``; 0 days is "carry on as planned", and
    "ask" opens the choice of days."""

    PATTERN: ClassVar[str] = r"^hold:"
    _FORMAT: ClassVar[re.Pattern[str]] = re.compile(r"^hold:(\d{1,18}):(\d|ask)$")

    checkin_id: int
    days: str

    def pack(self) -> str:
        return _checked(f"hold:{self.checkin_id}:{self.days}")

    @classmethod
    def unpack(cls, data: str | None) -> HoldButton | None:
        match = cls._FORMAT.match(data or "")
        return cls(int(match.group(1)), match.group(2)) if match else None
