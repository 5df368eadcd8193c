"""Tablet helper: how many tablets of a strength make a dose (halves only for scored tablets)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

from bot.domain.plans import Plan

_HALF = "½"
# What follows the strength in ``/tablets 10 scored``: the word on a Russian keyboard too
# («/tablets 10 с риской»), so neither language is told to switch layouts.
_SCORED_MARKS = (("scored",), ("с", "риской"), ("риской",))


def is_scored_mark(words: Sequence[str]) -> bool:
    """``["scored"]`` or ``["с", "риской"]`` (any case, е for ё): the tablets can be halved."""
    return tuple(word.lower().replace("ё", "е") for word in words) in _SCORED_MARKS


def tablets_for(dose_mg: Decimal, strength_mg: Decimal, scored: bool) -> Fraction | None:
    """Whole tablets, or whole and half tablets when ``scored``, that make exactly ``dose_mg``.

    None when no such count exists (the bot then refers the user to the pharmacist).
    Raises ValueError when the dose or the strength is not a positive finite number.
    """
    for name, value in (("dose_mg", dose_mg), ("strength_mg", strength_mg)):
        if not value.is_finite() or value <= 0:
            raise ValueError(f"{name} must be a positive number")
    count = Fraction(dose_mg) / Fraction(strength_mg)
    if count.denominator == 1 or (scored and count.denominator == 2):
        return count
    return None


def format_tablets(count: Fraction) -> str:
    """``1`` -> ``"1"``, ``1/2`` -> ``"½"``, ``3/2`` -> ``"1½"``, ``2`` -> ``"2"``."""
    if count < 0 or count.denominator not in (1, 2):
        raise ValueError("a tablet count is a non-negative multiple of one half")
    whole = count.numerator // count.denominator
    if count.denominator == 1:
        return str(whole)
    return f"{whole}{_HALF}" if whole else _HALF


def unmakeable_doses(plan: Plan, strength_mg: Decimal, scored: bool) -> list[Decimal]:
    """The plan's doses that whole (or, if scored, half) tablets of this strength cannot make."""
    return [mg for mg in plan.all_mg() if tablets_for(mg, strength_mg, scored) is None]
