"""/caregiver: invite a caregiver, see and end links either way, choose the alert delay; and
the invite link (``/start cg_<token>``) with its Accept / No buttons."""

from __future__ import annotations

from telegram import Message, Update
from telegram.ext import filters

from bot.content import Html
from bot.context import BotContext
from bot.domain.caregivers import (
    DelayError,
    InviteProblem,
    invite_token,
    parse_delay,
    valid_delay_minutes,
)
from bot.handlers.common import command_args, drop_buttons, event, keyboard, reply, shorten, user_id
from bot.handlers.routes import Router
from bot.views.callbacks import CaregiverButton, InviteButton
from bot.views.caregivers import delay_label, overview
from bot.views.doses import local_when

routes = Router("caregivers")

_PROBLEM_KEYS = {
    InviteProblem.UNKNOWN: "caregiver.invite_unknown",
    InviteProblem.EXPIRED: "caregiver.invite_expired",
    InviteProblem.USED: "caregiver.invite_used",
    InviteProblem.OWN: "caregiver.invite_own",
    InviteProblem.ALREADY_LINKED: "caregiver.invite_already_linked",
    InviteProblem.FULL: "caregiver.invite_full",
}


def _display_name(update: Update) -> str:
    """How the other side of a link sees this person: first name, and @username if any."""
    person = update.effective_user
    assert person is not None
    name = shorten(person.first_name or "?", 40)
    return f"{name} (@{person.username})" if person.username else name


@routes.command("caregiver")
async def caregiver_command(update: Update, context: BotContext, *, typed: bool = True) -> None:
    """/caregiver (``typed``: its arguments are read), or its row of /settings."""
    services = context.services
    pack = context.pack
    me = user_id(update)
    stored = context.user
    if stored is not None and stored.unreachable_at is not None:
        # They blocked the bot once and are back, as after /start.
        await services.users.mark_reachable(me)
        if stored.has_consented:
            await services.plans.regenerate(me)
    patients = await services.caregivers.patients_of(me)
    patient = stored is not None and stored.has_consented
    if not patient and not patients:
        await reply(update, pack.text("onboarding.need_consent"))
        return
    message = update.effective_message
    args = command_args(message.text if message and typed else None)
    if args:
        if not patient or args[0].lower() != "delay" or len(args) < 2:
            await reply(update, pack.text("caregiver.usage"))
            return
        await _set_delay_typed(update, context, " ".join(args[1:]))
        return
    invite_text: Html | None = None
    delay: int | None = None
    caregivers = []
    if patient:
        assert stored is not None
        delay = await services.caregivers.delay_minutes(me)
        person = update.effective_user
        invite = await services.caregivers.invite(
            me, shorten(person.first_name if person else "?", 40)
        )
        caregivers = await services.caregivers.caregivers_of(me)
        if invite.link is None:
            invite_text = pack.text("caregiver.full", count=len(caregivers))
        else:
            zone = context.zone
            invite_text = pack.text(
                "caregiver.invite",
                link=invite.link,
                expires=local_when(pack, invite.expires_at, zone),
                timezone=zone.key,
                delay=delay_label(pack, delay),
            )
    text, markup = overview(pack, caregivers, patients, delay, invite_text)
    event("caregiver_overview", update, caregivers=len(caregivers), patients=len(patients))
    await reply(update, text, markup)


async def _set_delay_typed(update: Update, context: BotContext, value: str) -> None:
    pack = context.pack
    try:
        delay = parse_delay(value)
    except DelayError:
        event("caregiver_delay_invalid", update)
        await reply(update, pack.text("caregiver.delay_invalid", value=shorten(value, 32)))
        return
    minutes = int(delay.total_seconds() // 60)
    await context.services.caregivers.set_delay(user_id(update), minutes)
    event("caregiver_delay_set", update, minutes=minutes)
    await reply(update, pack.text("caregiver.delay_set", delay=delay_label(pack, minutes)))


class _InviteLink(filters.MessageFilter):
    """``/start cg_<token>`` with a well-formed token: a caregiver invite link
    (t.me/<bot>?start=cg_<token>), its own flow, no onboarding. Anything else after /start
    is onboarding's."""

    def filter(self, message: Message) -> bool:
        args = command_args(message.text)
        return bool(args) and invite_token(args[0]) is not None


INVITE_LINK = _InviteLink(name="caregiver_invite_link")


@routes.command("start", filters=INVITE_LINK)
async def invite_link(update: Update, context: BotContext) -> None:
    message = update.effective_message
    args = command_args(message.text if message else None)
    token = invite_token(args[0]) if args else None
    assert token is not None  # INVITE_LINK let only a well-formed one through
    await invite_opened(update, context, token)


async def invite_opened(update: Update, context: BotContext, token: str) -> None:
    """``/start cg_<token>``: what the invitee agrees to, with Accept / No; or why not."""
    services = context.services
    pack = context.pack
    patient_id, patient_name, problem = await services.caregivers.check_invite(
        token, user_id(update)
    )
    event("caregiver_invite_opened", update, problem=problem.value if problem else "none")
    if problem is not None:
        await reply(
            update, pack.text(_PROBLEM_KEYS[problem], **_problem_params(problem, patient_name))
        )
        return
    delay = await services.caregivers.delay_minutes(patient_id)
    buttons = [
        (pack.text("caregiver.button_accept"), InviteButton("yes", token).pack()),
        (pack.text("caregiver.button_decline"), InviteButton("no", token).pack()),
    ]
    await reply(
        update,
        pack.text("caregiver.offer", patient=patient_name, delay=delay_label(pack, delay)),
        keyboard([buttons]),
    )


def _problem_params(problem: InviteProblem, patient_name: str) -> dict[str, object]:
    if problem in (InviteProblem.ALREADY_LINKED, InviteProblem.FULL):
        return {"patient": patient_name}
    return {}


@routes.button(InviteButton)
async def invite_pressed(update: Update, context: BotContext, button: InviteButton) -> None:
    services = context.services
    pack = context.pack
    await context.query.answer()
    await drop_buttons(context.query)
    if button.choice == "no":
        event("caregiver_invite_declined", update)
        await reply(update, pack.text("caregiver.declined"))
        return
    accepted = await services.caregivers.accept(
        button.token, user_id(update), _display_name(update)
    )
    if accepted.problem is not None or accepted.link is None:
        problem = accepted.problem or InviteProblem.UNKNOWN
        event("caregiver_accept_refused", update, problem=problem.value)
        _, name, _ = await services.caregivers.check_invite(button.token, user_id(update))
        await reply(update, pack.text(_PROBLEM_KEYS[problem], **_problem_params(problem, name)))
        return
    link = accepted.link
    event("caregiver_linked", update, link=link.link_id)
    await reply(
        update,
        pack.text(
            "caregiver.accepted",
            patient=link.patient_name,
            emergency_line=pack.emergency_line(accepted.patient_region),
        ),
    )
    # A caregiver's row is made on accepting: it keeps the language they read the offer in.
    await services.languages.choose(user_id(update), pack.language.code)
    patients = services.languages.pack(link.patient_id)  # each side is told in their language
    await services.caregivers.tell(
        link.patient_id, patients.text("caregiver.linked_notice", name=link.caregiver_name)
    )


@routes.button(CaregiverButton)
async def caregiver_pressed(update: Update, context: BotContext, button: CaregiverButton) -> None:
    services = context.services
    pack = context.pack
    me = user_id(update)
    if button.action == "delay":
        stored = context.user
        if stored is None or not stored.has_consented or not valid_delay_minutes(button.number):
            await context.query.answer(pack.text("errors.stale_button"))
            return
        await context.query.answer()
        await drop_buttons(context.query)
        await services.caregivers.set_delay(me, button.number)
        event("caregiver_delay_set", update, minutes=button.number)
        await reply(
            update, pack.text("caregiver.delay_set", delay=delay_label(pack, button.number))
        )
        return
    link = await services.caregivers.remove(button.number, me)
    if link is None:
        await context.query.answer(pack.text("errors.stale_button"))
        return
    await context.query.answer()
    await drop_buttons(context.query)
    if me == link.patient_id:
        event("caregiver_removed", update, link=link.link_id)
        await reply(update, pack.text("caregiver.removed", name=link.caregiver_name))
        theirs = services.languages.pack(link.caregiver_id)
        notice = theirs.text("caregiver.removed_notice", patient=link.patient_name)
        await services.caregivers.tell(link.caregiver_id, notice)
    else:
        event("caregiver_left", update, link=link.link_id)
        await reply(update, pack.text("caregiver.left", patient=link.patient_name))
        theirs = services.languages.pack(link.patient_id)
        notice = theirs.text("caregiver.left_notice", name=link.caregiver_name)
        await services.caregivers.tell(link.patient_id, notice)
