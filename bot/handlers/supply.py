"""/supply: what the patient has on hand, and when it runs out on their plan (issue 21).

``/supply`` shows the count and the run-out day (or asks for the product with buttons);
``/supply 40`` saves the count of a product just chosen, or recounts; ``/supply +60`` adds a
refill; ``/supply lead 7`` sets how many days before running out to order. The product chosen
with the buttons waits in the session (``context.session.supply_count``) until its count is
typed, so nothing is half-written.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from telegram import Update

from bot.context import BotContext
from bot.domain.supply import Product, count_units, parse_lead_days
from bot.handlers.common import command_args, event, reply, user_id
from bot.handlers.routes import NEED_CONSENT, Router
from bot.views.callbacks import SupplyButton
from bot.views.supply import (
    ask_count,
    form_keyboard,
    scored_keyboard,
    status_keyboard,
    status_text,
    strength_keyboard,
)

routes = Router("supply")


def _amount(text: str) -> Decimal | None:
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


@routes.command("supply", consented=True)
async def supply_command(update: Update, context: BotContext) -> None:
    user = context.patient
    pack = context.pack
    service = context.services.supply
    args = command_args(update.effective_message.text)  # type: ignore[union-attr]
    if not args:
        await _show(update, context)
        return
    if args[0].lower() == "lead":
        await _set_lead(update, context, user.user_id, args[1:])
        return
    if len(args) != 1:
        await reply(update, pack.text("supply.bad_count"))
        return
    text = args[0]
    adding = text.startswith("+")
    amount = _amount(text[1:] if adding else text)
    pending = context.session.supply_count
    state = await service.state(user.user_id)
    product = pending if pending is not None and not adding else None
    if product is None and state is not None:
        product = state.supply.product
    if amount is None or product is None:
        key = "supply.bad_count" if product is not None else "supply.intro"
        markup = None if product is not None else form_keyboard(pack)
        await reply(update, pack.text(key), markup)
        return
    try:
        units = count_units(amount, product)
    except ValueError:
        await reply(update, pack.text(f"supply.bad_count_{product.form}"))
        return
    if adding:
        await service.refill(user.user_id, units)
        event("supply_refill", update)
    elif pending is not None:
        await service.save(user.user_id, product, units)
        context.session.supply_count = None
        event("supply_saved", update, form=product.form)
    else:
        await service.recount(user.user_id, units)
        event("supply_recount", update)
    await _show(update, context)


async def _set_lead(update: Update, context: BotContext, user_id: int, args: list[str]) -> None:
    """``/supply lead 7``: order this many days before running out (fact sheet 2.14)."""
    pack = context.pack
    days = parse_lead_days(args[0]) if len(args) == 1 else None
    if days is None:
        await reply(update, pack.text("supply.bad_lead"))
        return
    if not await context.services.supply.set_lead(user_id, days):
        await reply(update, pack.text("supply.intro"), form_keyboard(pack))
        return
    event("supply_lead_set", update, days=days)
    await reply(update, pack.text("supply.lead_set", days=days))
    await _show(update, context)


async def _show(update: Update, context: BotContext) -> None:
    pack = context.pack
    state = await context.services.supply.state(user_id(update))
    if state is None:
        await reply(update, pack.text("supply.intro"), form_keyboard(pack))
        return
    text = status_text(pack, state.supply.product, state.projection, state.today)
    await reply(update, text, status_keyboard(pack))


@routes.button(SupplyButton, unconsented=NEED_CONSENT)
async def supply_pressed(update: Update, context: BotContext, button: SupplyButton) -> None:
    pack = context.pack
    user = context.patient
    await context.query.answer()
    service = context.services.supply
    action, value = button.action, button.value
    if action in ("show",):
        await _show(update, context)
    elif action == "new":
        await reply(update, pack.text("supply.ask_form"), form_keyboard(pack))
    elif action == "form" and value in ("tablet", "liquid"):
        await reply(
            update, pack.text(f"supply.ask_strength_{value}"), strength_keyboard(pack, value)
        )
    elif action == "str" and value.startswith("tablet:"):
        mg = value.partition(":")[2]
        if _amount(mg) is None:
            return
        await reply(update, pack.text("supply.ask_scored"), scored_keyboard(pack, mg))
    elif action == "str" and value.startswith("liquid:"):
        per_5 = _amount(value.partition(":")[2])
        product = Product("liquid", mg_per_ml=None if per_5 is None else per_5 / 5)
        context.session.supply_count = product
        await reply(update, ask_count(pack, product))
    elif action == "sc":
        mg, _, scored = value.partition(":")
        strength = _amount(mg)
        if strength is None or strength <= 0:
            return
        product = Product("tablet", strength, scored=scored == "1")
        context.session.supply_count = product
        await reply(update, ask_count(pack, product))
    elif action == "ord":
        if await service.mark_ordered(user.user_id):
            event("supply_ordered", update)
            await reply(update, pack.text("supply.ordered"))
        else:
            await reply(update, pack.text("supply.intro"), form_keyboard(pack))
    elif action == "ref":
        await reply(update, pack.text("supply.ask_refill"))
    elif action == "cnt":
        await reply(update, pack.text("supply.ask_recount"))
