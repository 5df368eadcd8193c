"""Tablet helper: whole tablets, halves only when scored, otherwise refer to the pharmacist."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from bot.domain.tablets import format_tablets, tablets_for


@pytest.mark.parametrize(
    ("dose", "strength", "scored", "expected"),
    [
        ("5", "5", False, Fraction(1)),
        ("5", "5", True, Fraction(1)),
        ("15", "10", True, Fraction(3, 2)),
        ("15", "10", False, None),
        ("5", "10", True, Fraction(1, 2)),  # UK: 5 mg = half a 10 mg tablet
        ("5", "10", False, None),
        ("20", "10", False, Fraction(2)),
        ("20", "20", True, Fraction(1)),
        ("10", "20", True, Fraction(1, 2)),
        ("7.5", "5", True, Fraction(3, 2)),
        ("7.5", "5", False, None),
        ("2.5", "5", True, Fraction(1, 2)),
        ("2.5", "10", True, None),  # a quarter tablet: never suggested
        ("15", "20", True, None),
        ("25", "10", True, Fraction(5, 2)),
        ("7.5", "15", True, Fraction(1, 2)),
        ("10", "15", True, None),
        ("10.0", "5", False, Fraction(2)),
    ],
)
def test_tablets_for(dose: str, strength: str, scored: bool, expected: Fraction | None) -> None:
    assert tablets_for(Decimal(dose), Decimal(strength), scored) == expected


@pytest.mark.parametrize(
    ("dose", "strength"),
    [("0", "10"), ("-5", "10"), ("10", "0"), ("10", "-10"), ("NaN", "10"), ("10", "Infinity")],
)
def test_tablets_for_refuses_non_positive_input(dose: str, strength: str) -> None:
    with pytest.raises(ValueError, match="positive"):
        tablets_for(Decimal(dose), Decimal(strength), scored=True)


@pytest.mark.parametrize(
    ("count", "text"),
    [
        (Fraction(1), "1"),
        (Fraction(1, 2), "½"),
        (Fraction(3, 2), "1½"),
        (Fraction(2), "2"),
        (Fraction(5, 2), "2½"),
        (Fraction(4), "4"),
        (Fraction(0), "0"),
    ],
)
def test_format_tablets(count: Fraction, text: str) -> None:
    assert format_tablets(count) == text


@pytest.mark.parametrize("count", [Fraction(1, 3), Fraction(1, 4), Fraction(-1), Fraction(-1, 2)])
def test_format_tablets_refuses_other_counts(count: Fraction) -> None:
    with pytest.raises(ValueError, match="half"):
        format_tablets(count)


def test_unmakeable_doses_lists_each_step_dose_once() -> None:
    from datetime import date, time

    from bot.domain.plans import Plan, Step
    from bot.domain.tablets import unmakeable_doses

    plan = Plan(
        "custom",
        date(2026, 1, 1),
        tuple(
            Step.same_at([time(8)], Decimal(mg), days)
            for mg, days in (("5", 3), ("7.5", 3), ("15", 3), ("5", 1))
        ),
        False,
    )
    assert unmakeable_doses(plan, Decimal(10), scored=True) == [Decimal("7.5")]
    assert unmakeable_doses(plan, Decimal(10), scored=False) == [
        Decimal(5),
        Decimal("7.5"),
        Decimal(15),
    ]
    assert unmakeable_doses(plan, Decimal(5), scored=True) == []
