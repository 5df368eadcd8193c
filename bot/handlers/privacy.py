"""/mydata (a copy of everything stored about the user) and /deleteme (erase it all).

The erase button is bound to the user who asked, to the message it is on and to a one-time
nonce, and it expires: a replayed, forged or forwarded press erases nothing.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from telegram import Update

from bot.context import BotContext
from bot.handlers.common import event, keyboard, reply, user_id
from bot.handlers.routes import Router
from bot.session import PendingErasure
from bot.views.callbacks import EraseButton

routes = Router("privacy")

ERASE_VALID_FOR = timedelta(minutes=5)


@routes.command("mydata")
async def mydata_command(update: Update, context: BotContext) -> None:
    services = context.services
    pack = context.pack
    export = await services.privacy.export(user_id(update))
    chat = update.effective_chat
    if export is None or chat is None:
        await reply(update, pack.text("privacy.nothing_stored"))
        return
    event("data_exported", update)
    for file, caption in (
        (export.document, "privacy.export_document"),
        (export.dose_log, "privacy.export_dose_log"),
    ):
        await chat.send_document(file.content, filename=file.filename, caption=pack.text(caption))


@routes.command("deleteme")
async def deleteme_command(update: Update, context: BotContext) -> None:
    services = context.services
    pack = context.pack
    owner = user_id(update)
    if context.user is None:
        # No profile; anything else that still names them (e.g. an audit row) loses the id.
        await services.privacy.erase(owner)
        services.languages.forget(owner)
        context.session.end_all()
        await reply(update, pack.text("privacy.nothing_stored"))
        return
    # Stored before the offer is sent, so that no press can arrive before it.
    pending = PendingErasure(secrets.token_hex(8), services.clock.now() + ERASE_VALID_FOR)
    context.session.erasure = pending
    buttons = [
        (pack.text("privacy.erase_button"), EraseButton("yes", pending.nonce).pack()),
        (pack.text("privacy.keep_button"), EraseButton("no", pending.nonce).pack()),
    ]
    pending.message_id = await reply(
        update, pack.text("privacy.erase_confirm"), keyboard([buttons])
    )
    event("erase_offered", update)


@routes.callback(EraseButton.pattern())
async def erase_pressed(update: Update, context: BotContext) -> None:
    query = context.query
    services = context.services
    pack = context.pack
    decision = _take_decision(update, context)
    if decision is None:
        event("erase_button_refused", update)
        await query.answer(pack.text("errors.stale_button"))
        return
    confirmed, pending = decision
    await query.answer()
    if services.clock.now() > pending.expires_at:
        event("erase_expired", update)
        await query.edit_message_text(pack.text("privacy.erase_expired"), reply_markup=None)
        return
    if not confirmed:
        event("erase_cancelled", update)
        await query.edit_message_text(pack.text("privacy.erase_cancelled"), reply_markup=None)
        return
    me = user_id(update)
    links = await services.caregivers.links_either_way(me)
    await services.privacy.erase(me)
    services.languages.forget(me)
    context.session.end_all()  # a plan waiting to be saved, a half-done guide
    event("data_erased", update, caregiver_links=len(links))
    await query.edit_message_text(pack.text("privacy.erased"), reply_markup=None)
    # The other side of each link must not go on believing they would be told of a missed
    # dose. Their own copy of the name is all the notice says.
    for link in links:
        if link.patient_id == me:
            theirs = services.languages.pack(link.caregiver_id)  # told in their language
            text = theirs.text("caregiver.patient_erased", patient=link.patient_name)
            await services.caregivers.tell(link.caregiver_id, text)
        else:
            theirs = services.languages.pack(link.patient_id)
            text = theirs.text("caregiver.caregiver_erased", name=link.caregiver_name)
            await services.caregivers.tell(link.patient_id, text)


def _take_decision(update: Update, context: BotContext) -> tuple[bool, PendingErasure] | None:
    """(confirmed, the offer) if the press answers the presser's own open offer on its own
    message; the offer is used up. No await in here: two quick presses cannot both pass."""
    query = context.query
    button = EraseButton.unpack(query.data)
    session = context.session
    pending = session.erasure
    if (
        button is None
        or query.message is None
        or pending is None
        or not secrets.compare_digest(button.nonce, pending.nonce)
        or pending.message_id not in (None, query.message.message_id)
    ):
        return None
    session.erasure = None
    return button.choice == "yes", pending
