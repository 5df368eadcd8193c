"""The words and buttons of /supply and the refill reminders (issue 21; fact sheet 2.14)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction
from math import floor

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.content import ContentPack, Html
from bot.domain.plans import format_mg
from bot.domain.supply import HORIZON_DAYS, Product, Projection, Refusal, units_to_amount
from bot.views.callbacks import SupplyButton

TABLET_STRENGTHS = ("5", "10", "15", "20")  # mg, fact sheet 2.3
LIQUID_STRENGTHS = ("5", "10", "25")  # mg per 5 mL, fact sheet 2.3


def _button(label: str, action: str, value: str = "") -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=SupplyButton(action, value).pack())


def reminder_keyboard(pack: ContentPack) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                _button(pack.text("supply.button_ordered"), "ord"),
                _button(pack.text("supply.button_refill"), "ref"),
            ],
            [_button(pack.text("supply.button_show"), "show")],
        ]
    )


def status_keyboard(pack: ContentPack) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                _button(pack.text("supply.button_ordered"), "ord"),
                _button(pack.text("supply.button_refill"), "ref"),
            ],
            [
                _button(pack.text("supply.button_recount"), "cnt"),
                _button(pack.text("supply.button_change"), "new"),
            ],
        ]
    )


def form_keyboard(pack: ContentPack) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                _button(pack.text("supply.button_tablet"), "form", "tablet"),
                _button(pack.text("supply.button_liquid"), "form", "liquid"),
            ]
        ]
    )


def strength_keyboard(pack: ContentPack, form: str) -> InlineKeyboardMarkup:
    if form == "tablet":
        row = [
            _button(pack.text("supply.button_mg", mg=mg), "str", f"tablet:{mg}")
            for mg in TABLET_STRENGTHS
        ]
        return InlineKeyboardMarkup([row])
    row = [
        _button(pack.text("supply.button_mg_per_5ml", mg=mg), "str", f"liquid:{mg}")
        for mg in LIQUID_STRENGTHS
    ]
    return InlineKeyboardMarkup(
        [row, [_button(pack.text("supply.button_liquid_unknown"), "str", "liquid:-")]]
    )


def scored_keyboard(pack: ContentPack, mg: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                _button(pack.text("supply.button_scored"), "sc", f"{mg}:1"),
                _button(pack.text("supply.button_not_scored"), "sc", f"{mg}:0"),
            ]
        ]
    )


def my_supply_keyboard(pack: ContentPack) -> InlineKeyboardMarkup:
    """The "📦 My supply" button under the ran-out answer."""
    return InlineKeyboardMarkup([[_button(pack.text("supply.button_my_supply"), "show")]])


def _amount(units: Fraction | int, product: Product) -> str:
    amount = units_to_amount(units, product)
    if product.form == "tablet":
        whole = floor(amount)
        return f"{whole}½" if amount - whole else str(whole)
    return format_mg(Decimal(floor(amount * 10)) / 10)


def ask_count(pack: ContentPack, product: Product) -> Html:
    return pack.text(f"supply.ask_count_{product.form}")


def status_text(
    pack: ContentPack, product: Product, projection: Projection | None, today: date
) -> Html:
    """The count now and the run-out day, or why it cannot be worked out."""
    if product.form == "tablet":
        assert product.strength_mg is not None
        what = pack.text(
            "supply.product_tablet" if not product.scored else "supply.product_tablet_scored",
            mg=format_mg(product.strength_mg),
        )
    elif product.mg_per_ml is None:
        what = pack.text("supply.product_liquid_unknown")
    else:
        what = pack.text("supply.product_liquid", mg=format_mg(product.mg_per_ml * 5))
    if projection is None:
        return pack.text("supply.status_no_plan", product=what)
    if projection.refusal is Refusal.NO_LIQUID_STRENGTH:
        return pack.text("supply.liquid_no_strength", product=what)
    if projection.refusal is Refusal.UNMAKEABLE:
        assert projection.unmakeable_mg is not None and product.strength_mg is not None
        return pack.text(
            "supply.unmakeable",
            product=what,
            mg=format_mg(projection.unmakeable_mg),
            strength=format_mg(product.strength_mg),
        )
    left = _amount(projection.left_units, product)
    if projection.run_out is None:
        key = "supply.status_covers_plan" if projection.covers_plan else "supply.status_beyond"
        return pack.text(key, product=what, left=left, days=str(HORIZON_DAYS))
    assert projection.order_by is not None
    return pack.text(
        "supply.status",
        product=what,
        left=left,
        run_out=pack.long_date(projection.run_out, today),
        order_by=pack.long_date(max(projection.order_by, today), today),
    )


def plan_line(pack: ContentPack, projection: Projection | None, today: date) -> Html | None:
    """One line for /plan: the day the supply runs out."""
    if projection is None or projection.run_out is None:
        return None
    return pack.text("supply.plan_line", run_out=pack.long_date(projection.run_out, today))


def report_line(pack: ContentPack, projection: Projection | None, today: date) -> Html | None:
    """The same day, in the prescriber's report (worded for the prescriber, no command)."""
    if projection is None or projection.run_out is None:
        return None
    return pack.text("supply.report_line", run_out=pack.long_date(projection.run_out, today))
