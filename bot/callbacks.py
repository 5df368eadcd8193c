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
