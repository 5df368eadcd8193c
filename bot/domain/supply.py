"""Supply projection: when a patient's tablets or liquid run out on their own plan (2.14).

Pure rules. The count is kept in whole *units*: half-tablets for tablets, hundredths of a mL
for a liquid. Each planned dose needs a number of units worked out from the plan's mg and the
product; the count goes down by every dose that may have been used, and the run-out day is the
last local day whose every dose the count still covers.

Conservative count rule: a Taken press and a past dose left unanswered count as used (the
patient may have taken it); only an explicit Skip, a paused dose and a cancelled dose do not.
A liquid is never projected without the strength printed on the bottle: mL are never
converted to mg without it (fact sheet 2.14, section 3 item 11).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Literal

from bot.domain.tablets import tablets_for

Form = Literal["tablet", "liquid"]

# 2.14 [GP-REPEAT]: order 7-10 days before running out, allow 2-3 working days. The default is
# the early end, so the order goes in with the most room for a slow pharmacy.
DEFAULT_LEAD_DAYS = 10
MAX_LEAD_DAYS = 30  # "/supply lead N" takes 0..30 days
# How far the projection looks ahead; a supply that outlasts it is "more than" this.
HORIZON_DAYS = 400
# A typed count above this is refused as a typo.
MAX_TABLETS = 2000
MAX_ML = Decimal(5000)
ML_UNITS = 100  # a liquid is counted in hundredths of a mL
TWO_DAYS_BEFORE = 2


class Use(StrEnum):
    """What a dose event does to the count."""

    USED = "used"  # Taken, unanswered in the past, or planned in the future
    NOT_USED = "not_used"  # Skip, paused, cancelled


@dataclass(frozen=True)
class Product:
    form: Form
    strength_mg: Decimal | None = None  # per tablet
    scored: bool = False
    mg_per_ml: Decimal | None = None  # liquid strength as printed on the bottle

    def __post_init__(self) -> None:
        if self.form == "tablet" and (self.strength_mg is None or self.strength_mg <= 0):
            raise ValueError("a tablet needs a positive strength")
        if self.mg_per_ml is not None and self.mg_per_ml <= 0:
            raise ValueError("a liquid strength must be positive")


@dataclass(frozen=True)
class DoseUse:
    """One planned dose, in the plan day it belongs to, and whether it takes from the count."""

    local_date: date
    mg: Decimal
    use: Use = Use.USED


class Refusal(StrEnum):
    NO_LIQUID_STRENGTH = "no_liquid_strength"  # never convert mL to mg without it
    UNMAKEABLE = "unmakeable"  # a dose is not whole (or half, if scored) tablets


@dataclass(frozen=True)
class Projection:
    """The result: either a refusal, or the count left now and the run-out day."""

    refusal: Refusal | None = None
    unmakeable_mg: Decimal | None = None  # the plan's own dose that tablets cannot make
    left_units: Fraction = Fraction(0)  # after the doses already used (never below zero)
    run_out: date | None = None  # the last day fully covered; None: beyond the horizon/plan
    covers_plan: bool = False  # a plan that ends (a taper) is covered to its end
    order_by: date | None = None  # run_out minus the lead days

    @property
    def ok(self) -> bool:
        return self.refusal is None


def units_per_dose(mg: Decimal, product: Product) -> Fraction | None:
    """Units (half-tablets, or 0.01 mL) one dose of ``mg`` needs; None if tablets cannot make
    it. Raises ValueError for a liquid without its strength (never guess it)."""
    if product.form == "tablet":
        assert product.strength_mg is not None
        tablets = tablets_for(mg, product.strength_mg, product.scored)
        return None if tablets is None else tablets * 2
    if product.mg_per_ml is None:
        raise ValueError("no liquid strength")
    return Fraction(mg) / Fraction(product.mg_per_ml) * ML_UNITS


def count_units(amount: Decimal, product: Product) -> int:
    """A typed count (tablets, or mL) in units; ValueError if it is not a whole number of
    units (a half only for scored tablets) or out of range."""
    if not amount.is_finite() or amount < 0:
        raise ValueError("negative")
    if product.form == "tablet":
        if amount > MAX_TABLETS:
            raise ValueError("too many")
        halves = Fraction(amount) * 2
        if halves.denominator != 1 or (halves.numerator % 2 and not product.scored):
            raise ValueError("not whole")
        return halves.numerator
    if amount > MAX_ML:
        raise ValueError("too much")
    units = Fraction(amount) * ML_UNITS
    if units.denominator != 1:
        raise ValueError("too precise")
    return units.numerator


def units_to_amount(units: Fraction | int, product: Product) -> Fraction:
    """Units back in tablets or mL."""
    return Fraction(units) / (2 if product.form == "tablet" else ML_UNITS)


def project(
    product: Product,
    on_hand_units: int,
    used: Iterable[DoseUse],
    planned: Sequence[DoseUse],
    lead_days: int = DEFAULT_LEAD_DAYS,
    plan_ends: bool = False,
) -> Projection:
    """The run-out day of ``on_hand_units`` counted before the doses ``used`` (since the count,
    up to now) and then the ``planned`` doses (from now, in time order).

    ``planned`` must reach the end of the plan when ``plan_ends`` (a taper that stops), else at
    least the horizon: a supply that outlasts the list has no run-out day.
    """
    if product.form == "liquid" and product.mg_per_ml is None:
        return Projection(refusal=Refusal.NO_LIQUID_STRENGTH)
    spent = _needs(used, product)
    needs = _needs(planned, product)
    if isinstance(spent, Decimal):
        return Projection(refusal=Refusal.UNMAKEABLE, unmakeable_mg=spent)
    if isinstance(needs, Decimal):
        return Projection(refusal=Refusal.UNMAKEABLE, unmakeable_mg=needs)
    left = max(Fraction(on_hand_units) - sum((need for _, need in spent), Fraction(0)), Fraction(0))
    remaining = left
    day_index = 0
    while day_index < len(needs):
        day = needs[day_index][0]
        day_need = Fraction(0)
        while day_index < len(needs) and needs[day_index][0] == day:
            day_need += needs[day_index][1]
            day_index += 1
        if remaining < day_need:
            run_out = day - timedelta(days=1)
            return Projection(
                left_units=left, run_out=run_out, order_by=run_out - timedelta(days=lead_days)
            )
        remaining -= day_need
    return Projection(left_units=left, covers_plan=plan_ends)


def _needs(doses: Iterable[DoseUse], product: Product) -> list[tuple[date, Fraction]] | Decimal:
    """(local date, units) of each dose that uses the supply, in order; or the first dose
    amount the product cannot make (whole or half tablets only)."""
    needs: list[tuple[date, Fraction]] = []
    for dose in doses:
        if dose.use is Use.NOT_USED:
            continue
        need = units_per_dose(dose.mg, product)
        if need is None:
            return dose.mg
        needs.append((dose.local_date, need))
    return needs


class ReminderKind(StrEnum):
    ORDER = "order"  # the day the order must go in
    TWO_DAYS = "two_days"  # two days before running out
    LAST_DAY = "last_day"  # the last day covered


def reminders_due(projection: Projection, today: date, ordered: bool) -> list[ReminderKind]:
    """Which refill reminders fall on the local date ``today`` (sent at 10:00 local).

    "I ordered" snoozes the order reminders (order day, two days before) until a refill is
    recorded; the last-day reminder still comes, since the supply is still about to end."""
    if projection.run_out is None or projection.order_by is None:
        return []
    kinds: list[ReminderKind] = []
    if not ordered and today == projection.order_by:
        kinds.append(ReminderKind.ORDER)
    two_days = projection.run_out - timedelta(days=TWO_DAYS_BEFORE)
    if not ordered and today == two_days and ReminderKind.ORDER not in kinds:
        kinds.append(ReminderKind.TWO_DAYS)
    if today == projection.run_out:
        kinds.append(ReminderKind.LAST_DAY)
    return kinds


def parse_lead_days(text: str) -> int | None:
    """The days of "/supply lead N": a whole number from 0 to MAX_LEAD_DAYS, else None."""
    text = text.strip()
    if not text.isascii() or not text.isdigit():
        return None
    days = int(text)
    return days if days <= MAX_LEAD_DAYS else None
