"""Admin commands and buttons: /broadcast, /broadcasts, /stats, /reload.

Each is wrapped by :func:`admin_only`: anyone not in ADMIN_IDS gets a plain refusal, and every
attempt, allowed or not, is written to the audit log with its outcome.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest

from bot.content import TELEGRAM_TEXT_LIMIT, ContentPack, Html
from bot.context import BotContext
from bot.domain.audience import Phase, Segment
from bot.handlers.common import chunked, event, keyboard, reply, user_id
from bot.handlers.routes import Router
from bot.services.admin import Refused, Reloaded, Stats
from bot.services.broadcasts import Bodies, BroadcastTooLong, Confirmation, Draft
from bot.storage.broadcasts import BroadcastStatus
from bot.views.admin import broadcasts_list, segment_name, summary_text
from bot.views.callbacks import AdminButton, AdminVerb

RECENT_BROADCASTS = 10
MAX_PROBLEMS_SHOWN = 10
MAX_PROBLEM_CHARS = 300
CONFIRMED = (BroadcastStatus.SENDING, BroadcastStatus.DONE, BroadcastStatus.CANCELLED)


@dataclass(frozen=True)
class Audited:
    """What an admin action came to, for the audit log (ids and counts only, never text)."""

    outcome: str
    detail: str = ""


AdminHandler = Callable[[Update, BotContext], Awaitable[Audited]]
Handler = Callable[[Update, BotContext], Coroutine[Any, Any, None]]


def admin_only(action: str, handler: AdminHandler) -> Handler:
    async def guarded(update: Update, context: BotContext) -> None:
        admin = context.services.admin
        actor = user_id(update)
        if not admin.is_admin(actor):
            await admin.audit(actor, action, "refused")
            event("admin_refused", update, action=action)
            await _refuse(update, context)
            return
        result = Audited("error")
        try:
            result = await handler(update, context)
        finally:
            await admin.audit(actor, action, result.outcome, result.detail)
            event("admin_action", update, action=action, outcome=result.outcome)

    return guarded


async def _refuse(update: Update, context: BotContext) -> None:
    refusal = context.pack.text("admin.refused")
    if update.callback_query is not None:
        await update.callback_query.answer(refusal)
    else:
        await reply(update, refusal)


# ----------------------------------------------------------------- /broadcast


async def broadcast_command(update: Update, context: BotContext) -> Audited:
    services = context.services
    pack = context.pack
    text = _text_after_command(update)
    if not text:
        await reply(update, pack.text("broadcast.usage"))
        return Audited("usage")
    try:
        body = services.broadcasts.compose(text)
    except BroadcastTooLong as error:
        excess = error.length - TELEGRAM_TEXT_LIMIT
        await reply(
            update,
            pack.text(
                "broadcast.too_long", length=error.length, limit=TELEGRAM_TEXT_LIMIT, excess=excess
            ),
        )
        return Audited("rejected", f"reason=too_long length={error.length}")
    return await _preview(update, context, body)


async def _preview(update: Update, context: BotContext, bodies: Bodies) -> Audited:
    """First the message exactly as recipients of the admin's language get it (the others get
    the same words in their language's template), then who gets it and the buttons."""
    services = context.services
    draft = await services.broadcasts.draft(user_id(update), bodies)
    await reply(update, bodies.get(context.language) or draft.broadcast.body)
    text, markup = _control(context.pack, draft)
    await reply(update, text, markup)
    return Audited("previewed", _draft_detail(draft))


def _control(pack: ContentPack, draft: Draft) -> tuple[Html, InlineKeyboardMarkup]:
    broadcast = draft.broadcast
    number = broadcast.broadcast_id
    text = pack.text(
        "broadcast.preview",
        segment=segment_name(pack, broadcast.segment),
        count=draft.recipients,
    )
    segments = [
        (
            pack.text("broadcast.segment_chosen", segment=segment_name(pack, segment))
            if segment is broadcast.segment
            else segment_name(pack, segment),
            AdminButton("seg", number, segment.value).pack(),
        )
        for segment in Segment
    ]
    decision = [
        (pack.text("broadcast.button_confirm"), AdminButton("send", number).pack()),
        (pack.text("broadcast.button_cancel"), AdminButton("drop", number).pack()),
    ]
    return text, keyboard([*chunked(segments, 2), decision])


async def segment_pressed(update: Update, context: BotContext) -> Audited:
    query = context.query
    services = context.services
    button = _button(update)
    number = button.number
    draft = await services.broadcasts.choose_segment(number, Segment(button.segment))
    await query.answer()
    if draft is None:
        await _stale(update, context, number)
        return Audited("stale", f"broadcast={number}")
    text, markup = _control(context.pack, draft)
    try:
        await query.edit_message_text(text, reply_markup=markup)
    except BadRequest as error:  # the same segment pressed again: nothing to change
        if "not modified" not in str(error).lower():
            raise
    return Audited("segment_chosen", _draft_detail(draft))


async def confirm_pressed(update: Update, context: BotContext) -> Audited:
    query = context.query
    services = context.services
    pack = context.pack
    number = _button(update).number
    result = await services.broadcasts.confirm(number)
    await query.answer()
    if result.outcome is Confirmation.STALE:
        await _stale(update, context, number)
        return Audited("stale", f"broadcast={number}")
    assert result.broadcast is not None
    broadcast = result.broadcast
    segment = segment_name(pack, broadcast.segment)
    if result.outcome is Confirmation.NO_RECIPIENTS:
        await reply(update, pack.text("broadcast.no_recipients", segment=segment))
        return Audited("no_recipients", f"broadcast={number} segment={broadcast.segment}")
    await _clear_buttons(update)
    await reply(
        update,
        pack.text("broadcast.started", id=number, count=broadcast.recipients, segment=segment),
    )
    return Audited(
        "started",
        f"broadcast={number} segment={broadcast.segment} recipients={broadcast.recipients}",
    )


async def discard_pressed(update: Update, context: BotContext) -> Audited:
    query = context.query
    number = _button(update).number
    discarded = await context.services.broadcasts.discard(number)
    await query.answer()
    if not discarded:
        await _stale(update, context, number)
        return Audited("stale", f"broadcast={number}")
    await _clear_buttons(update)
    await reply(update, context.pack.text("broadcast.discarded"))
    return Audited("discarded", f"broadcast={number}")


async def _stale(update: Update, context: BotContext, number: int) -> None:
    await _clear_buttons(update)
    await reply(update, context.pack.text("broadcast.stale", id=number))


async def _clear_buttons(update: Update) -> None:
    """Take the buttons off the pressed message (if it still has them)."""
    query = update.callback_query
    if query is not None and isinstance(query.message, Message) and query.message.reply_markup:
        await query.edit_message_reply_markup(None)


# ----------------------------------------------------------------- /broadcasts


async def broadcasts_command(update: Update, context: BotContext) -> Audited:
    services = context.services
    pack = context.pack
    recent = await services.broadcasts.recent(RECENT_BROADCASTS)
    zone = context.zone
    running = [
        progress.broadcast.broadcast_id
        for progress in recent
        if progress.broadcast.status is BroadcastStatus.SENDING
    ]
    buttons = [
        (pack.text("broadcasts.button_cancel", id=number), AdminButton("stop", number).pack())
        for number in running
    ]
    await reply(
        update,
        broadcasts_list(pack, recent, zone),
        keyboard(chunked(buttons, 2)) if buttons else None,
    )
    return Audited("listed", f"count={len(recent)}")


async def stop_pressed(update: Update, context: BotContext) -> Audited:
    query = context.query
    services = context.services
    number = _button(update).number
    progress = await services.broadcasts.cancel(number)
    await query.answer()
    if progress is None:
        await reply(update, context.pack.text("broadcast.not_running", id=number))
        return Audited("not_running", f"broadcast={number}")
    await reply(update, summary_text(context.pack, progress))
    return Audited("cancelled", f"broadcast={number} sent={progress.sent}")


# ----------------------------------------------------------------- /stats


async def stats_command(update: Update, context: BotContext) -> Audited:
    services = context.services
    await reply(update, _stats_text(context.pack, await services.admin.stats()))
    return Audited("shown")


def _stats_text(pack: ContentPack, stats: Stats) -> Html:
    reminders = stats.reminders
    if reminders.sent_week:
        share = pack.text(
            "stats.share", percent=round(100 * reminders.taken_week / reminders.sent_week)
        )
    else:
        share = pack.text("stats.no_share")
    confirmed = sum(stats.broadcasts.get(status, 0) for status in CONFIRMED)
    return pack.text(
        "stats.text",
        users=stats.users.users,
        unreachable=stats.users.unreachable,
        announcements_off=stats.users.announcements_off,
        titration=stats.phases.get(Phase.TITRATION, 0),
        maintenance=stats.phases.get(Phase.MAINTENANCE, 0),
        tapering=stats.phases.get(Phase.TAPERING, 0),
        taper_ended=stats.phases.get(Phase.TAPER_ENDED, 0),
        sent_day=reminders.sent_day,
        sent_week=reminders.sent_week,
        taken_share=share,
        broadcasts=confirmed,
        running=stats.broadcasts.get(BroadcastStatus.SENDING, 0),
        broadcast_messages=stats.broadcast_messages_week,
        version=stats.content_version,
    )


# ----------------------------------------------------------------- /reload


async def reload_command(update: Update, context: BotContext) -> Audited:
    services = context.services
    result = await services.admin.reload()
    if isinstance(result, Refused):
        await reply(update, _refused_text(context.pack, result))
        return Audited("rejected", f"problems={len(result.problems)}")
    await reply(update, *_reloaded_text(result, context.language))
    return Audited(
        "reloaded",
        f"version={result.library.version} topics={len(result.changed_topics)}"
        f" messages={result.changed_messages}",
    )


def _refused_text(pack: ContentPack, refused: Refused) -> Html:
    shown = refused.problems[:MAX_PROBLEMS_SHOWN]
    lines = [
        pack.text("reload.problem_line", problem=problem[:MAX_PROBLEM_CHARS]) for problem in shown
    ]
    if len(refused.problems) > len(shown):
        lines.append(pack.text("reload.more_problems", count=len(refused.problems) - len(shown)))
    return pack.text(
        "reload.refused", version=refused.live_version, problems=Html("\n".join(lines))
    )


def _reloaded_text(reloaded: Reloaded, language: str) -> tuple[Html, InlineKeyboardMarkup | None]:
    pack = reloaded.library.get(language)  # the new pack speaks from now on
    lines = [pack.text("reload.ok", version=pack.version, previous=reloaded.previous_version)]
    if reloaded.changed_topics:
        topics = ", ".join(f"/{key}" for key in reloaded.changed_topics)
        lines.append(pack.text("reload.changed_topics", topics=topics))
    else:
        lines.append(pack.text("reload.no_topic_changes"))
    if reloaded.changed_messages:
        lines.append(pack.text("reload.messages_changed", count=reloaded.changed_messages))
    changed = bool(reloaded.changed_topics or reloaded.changed_messages)
    if changed and pack.version == reloaded.previous_version:
        lines.append(pack.text("reload.same_version"))
    markup = None
    if reloaded.changed_topics:
        announce = AdminButton("announce", reloaded.load.load_id).pack()
        markup = keyboard([[(pack.text("reload.button_announce"), announce)]])
    return Html("\n".join(lines)), markup


async def announce_pressed(update: Update, context: BotContext) -> Audited:
    """The one-button announcement of the topics a reload changed: previewed like any other."""
    query = context.query
    services = context.services
    load_id = _button(update).number
    topics = await services.admin.topics_to_announce(load_id)
    await query.answer()
    await _clear_buttons(update)
    if topics is None:
        await reply(update, context.pack.text("reload.announce_stale"))
        return Audited("stale", f"load={load_id}")
    return await _preview(update, context, services.broadcasts.compose_content_update(topics))


async def _unknown_button(update: Update, context: BotContext) -> Audited:
    query = context.query
    await query.answer(context.pack.text("errors.stale_button"))
    return Audited("stale")


# ----------------------------------------------------------------- registration

# Every admin command and button is refused (and audited) for anyone not in ADMIN_IDS.
routes = Router("admin")
for _name, _handler in (
    ("broadcast", broadcast_command),
    ("broadcasts", broadcasts_command),
    ("stats", stats_command),
    ("reload", reload_command),
):
    routes.command(_name)(admin_only(_name, _handler))
_VERBS: tuple[tuple[AdminVerb, str, AdminHandler], ...] = (
    ("seg", "broadcast_segment", segment_pressed),
    ("send", "broadcast_confirm", confirm_pressed),
    ("drop", "broadcast_discard", discard_pressed),
    ("stop", "broadcast_cancel", stop_pressed),
    ("announce", "announce_changes", announce_pressed),
)
for _verb, _action, _pressed in _VERBS:
    routes.callback(AdminButton.of(_verb))(admin_only(_action, _pressed))
# Anything else under the admin prefix (forged or from an old version): refused if not an
# admin, otherwise told it is stale.
routes.callback(AdminButton.pattern())(admin_only("unknown_button", _unknown_button))


def _button(update: Update) -> AdminButton:
    """The pressed button (its handler's filter let only a well-formed one through)."""
    query = update.callback_query
    button = AdminButton.unpack(query.data if query else None)
    assert button is not None
    return button


def _text_after_command(update: Update) -> str:
    """Everything after the command word, line breaks kept."""
    message = update.effective_message
    parts = (message.text or "").split(None, 1) if message else []
    return parts[1].strip() if len(parts) > 1 else ""


def _draft_detail(draft: Draft) -> str:
    broadcast = draft.broadcast
    return (
        f"broadcast={broadcast.broadcast_id} segment={broadcast.segment}"
        f" recipients={draft.recipients}"
    )
