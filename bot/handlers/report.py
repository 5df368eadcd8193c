"""/report (PDF or CSV for the prescriber, the period chosen by buttons), the /plan picture and
/calendar. The files are made in the report worker (``bot/services/reports.py``); these
handlers only gather, word and send."""

from __future__ import annotations

import logging
from datetime import date

from telegram import Update
from telegram.constants import ChatAction
from telegram.error import TelegramError

from bot.context import BotContext
from bot.domain.report import MAX_NAME, Period, Report, ReportArgsError, parse_report_args
from bot.handlers.common import command_args, edit_query_message, event, keyboard, reply
from bot.handlers.routes import STALE, Router
from bot.reports import work
from bot.services.reports import CALENDAR_DAYS
from bot.storage.doses import StoredPlan
from bot.storage.users import User
from bot.views import pump as pump_views
from bot.views import supply as supply_views
from bot.views.callbacks import REPORT_PERIODS, ReportButton
from bot.views.report import (
    calendar_spec,
    period_name,
    plan_picture_spec,
    report_csv_table,
    report_pdf_spec,
)

routes = Router("report")

log = logging.getLogger(__name__)


@routes.command("report", consented=True)
async def report_command(update: Update, context: BotContext) -> None:
    user = context.patient
    services = context.services
    pack = context.pack
    message = update.effective_message
    try:
        fmt, name = parse_report_args(command_args(message.text if message else None))
    except ReportArgsError as error:
        event("report_refused", update, reason=error.code)
        params = {"max": MAX_NAME} if error.code == "name_too_long" else {}
        await reply(update, pack.text(f"report.{error.code}", **params))
        return
    if not await services.reports.has_plans(user.user_id):
        # A pump-only patient is not sent to /schedule: the pump is the clinic's; the report
        # is of oral plans. Their next refill date instead (issue 21).
        pump = pump_views.plan_line(pack, await services.pump.pump(user.user_id), context.today)
        if pump is not None:
            await reply(update, pack.text("report.no_plan_pump", pump=pump))
            return
        await reply(update, pack.text("report.no_plan"))
        return
    context.session.report_name = name or None
    if name:
        text = pack.text("report.choose_named", name=name)
    else:
        text = pack.text("report.choose_csv" if fmt == "csv" else "report.choose")
    buttons = [
        (pack.text(f"report.button_{period}"), ReportButton(fmt, period).pack())
        for period in REPORT_PERIODS
    ]
    event("report_offered", update, format=fmt, named=int(bool(name)))
    await reply(update, text, keyboard([buttons]))


@routes.button(ReportButton, unconsented=STALE)
async def report_pressed(update: Update, context: BotContext, button: ReportButton) -> None:
    pack = context.pack
    await context.query.answer()
    period = Period(button.period)
    session = context.session
    name, session.report_name = session.report_name, None
    if button.format != "pdf":
        name = None
    # The buttons go first: once this edit lands, no tap on them can ask for another file.
    await edit_query_message(
        context.query, pack.text("report.making", period=period_name(pack, period))
    )
    chat = update.effective_chat
    assert chat is not None
    await chat.send_chat_action(ChatAction.UPLOAD_DOCUMENT)
    user = context.patient
    report = await context.services.reports.report(user.user_id, context.zone, period)
    try:
        content, filename = await _report_file(context, button.format, report, name)
    except Exception as error:  # any failure of the worker: the patient is told, the bot goes on
        # The kind only: a renderer's message may quote the texts, which are health data.
        log.error("report_failed user=%d kind=%s", user.user_id, type(error).__name__)
        await reply(update, pack.text("report.failed"))
        return
    caption = pack.text(f"report.caption_{button.format}", period=period_name(pack, period))
    await chat.send_document(content, filename=filename, caption=caption)
    event(
        "report_sent",
        update,
        format=button.format,
        period=period.value,
        rows=len(report.rows),
        bytes=len(content),
    )


async def _report_file(
    context: BotContext, fmt: str, report: Report, name: str | None
) -> tuple[bytes, str]:
    """The report as a CSV table or a PDF (with the pump and supply lines), and its file name
    with the patient's local date."""
    services = context.services
    pack = context.pack
    user = context.patient
    today = context.today
    if fmt == "csv":
        content = await services.reports.render(work.report_csv, report_csv_table(pack, report))
        return content, f"baclofen-report-{today.isoformat()}.csv"
    pump = pump_views.plan_line(pack, await services.pump.pump(user.user_id), today)
    supply = await services.supply.state(user.user_id)
    supply_line = (
        None if supply is None else supply_views.report_line(pack, supply.projection, supply.today)
    )
    made_at = services.clock.now()
    spec = report_pdf_spec(
        pack,
        report,
        context.zone,
        name=name,
        made_at=made_at,
        pump_line=pump,
        supply_line=supply_line,
    )
    content = await services.reports.render(work.report_pdf, spec)
    return content, f"baclofen-report-{today.isoformat()}.pdf"


async def send_plan_picture(
    update: Update,
    context: BotContext,
    user: User,
    stored: StoredPlan,
    runs_out: date | None = None,
) -> None:
    """The plan's staircase as a photo under /plan's text, with the last day the recorded
    supply covers (``runs_out``, as /plan's text gives it). A failure here costs the patient
    only the picture: the text is already sent."""
    pack = context.pack
    chat = update.effective_chat
    if chat is None:
        return
    try:
        picture = await context.services.reports.render(
            work.plan_picture, plan_picture_spec(pack, stored.plan, context.today, runs_out)
        )
        await chat.send_photo(picture, caption=pack.text("picture.caption"))
    except (TelegramError, OSError, RuntimeError, ValueError) as error:
        log.warning("plan_picture_failed user=%d kind=%s", user.user_id, type(error).__name__)
        return
    event("plan_picture_sent", update, bytes=len(picture))


@routes.command("calendar", consented=True)
async def calendar_command(update: Update, context: BotContext) -> None:
    user = context.patient
    services = context.services
    pack = context.pack
    stored = await services.doses.active_plan(user.user_id)
    if stored is None:
        await reply(update, pack.text("calendar.no_plan"))
        return
    zone = context.zone
    doses = await services.reports.calendar_doses(stored, zone)
    slots = doses.coming
    if not slots:
        await reply(update, pack.text("calendar.nothing_ahead"))
        return
    chat = update.effective_chat
    assert chat is not None
    key = await services.users.calendar_key(user.user_id)
    spec = calendar_spec(
        pack, key, slots, zone, made_at=services.clock.now(), dropped=doses.dropped
    )
    try:
        content = await services.reports.render(work.doses_calendar, spec)
    except Exception as error:  # any failure of the worker: the patient is told, the bot goes on
        log.error("calendar_failed user=%d kind=%s", user.user_id, type(error).__name__)
        await reply(update, pack.text("report.failed"))
        return
    await chat.send_document(
        content,
        filename="baclofen-doses.ics",
        caption=pack.text("calendar.caption", days=CALENDAR_DAYS, timezone=zone.key),
    )
    event(
        "calendar_sent", update, events=len(slots), cancelled=len(doses.dropped), days=CALENDAR_DAYS
    )
