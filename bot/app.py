"""Builds the Application: services, handlers in the order they are tried, lifecycle.

Where things live:
- handlers (parse, call a service, reply): ``bot/handlers/``
- reminders are sent by ``bot/services/reminders.py``; broadcasts by ``bot/services/outbox.py``
- the missed-dose rule: ``bot/domain/missed.py``
- every text, per language: ``bot/pack/<language>/*.toml`` (loader: ``bot/content/loader.py``)
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sqlite3
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any
from urllib.parse import urlsplit

from telegram import Bot, BotCommand, BotCommandScopeChat, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, InvalidToken, NetworkError, TimedOut
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    Defaults,
    JobQueue,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.clock import SYSTEM_MONOTONIC, Clock, Monotonic, SystemClock
from bot.config import ConfigError, Settings
from bot.content import ContentHolder, ContentLibrary, ContentPack
from bot.context import SERVICES_KEY, BotContext, Services
from bot.delivery.budget import SendBudget
from bot.delivery.courier import Engine
from bot.delivery.transport import BotApiRequest
from bot.domain.flood import FloodGuard
from bot.handlers import (
    admin,
    caregivers,
    checkins,
    doses,
    errors,
    facts,
    freetext,
    guard,
    observe,
    onboarding,
    privacy,
    pump,
    repeats,
    report,
    schedule,
    schedule_guide,
    simple,
    travel,
)
from bot.handlers import settings as settings_page
from bot.handlers import supply as supply_handlers
from bot.metrics import Metrics, MetricsServer
from bot.services.admin import AdminService
from bot.services.audience import Audience
from bot.services.broadcasts import BroadcastService
from bot.services.caregivers import CaregiverAlerts, CaregiverService
from bot.services.checkins import CheckInService
from bot.services.languages import Languages
from bot.services.missed import MissedDoses
from bot.services.outbox import OutboxWorker
from bot.services.outgoing import Outgoing
from bot.services.plans import PlanService
from bot.services.privacy import PrivacyService
from bot.services.refills import PumpService, RefillSender
from bot.services.reminders import ReminderService
from bot.services.reports import ReportService
from bot.services.retention import RetentionService
from bot.services.simple_mode import SimpleModeService
from bot.services.supply_refills import SupplyRefills
from bot.services.travel import TravelService
from bot.services.zones import Zones
from bot.storage.admin import AdminStore
from bot.storage.broadcasts import BroadcastStore
from bot.storage.caregivers import CaregiverStore
from bot.storage.checkins import CheckInStore
from bot.storage.db import Database
from bot.storage.doses import DoseStore
from bot.storage.privacy import PrivacyStore
from bot.storage.refills import RefillStore
from bot.storage.supply import SupplyStore
from bot.storage.users import UserStore
from bot.views.callbacks import (
    AskButton,
)
from bot.views.commands import ADMIN_COMMANDS, PATIENT_COMMANDS, describe

log = logging.getLogger(__name__)

# The rate limiter and job queue make the full generic type long; handlers only need BotContext.
BotApplication = Application[Any, BotContext, Any, Any, Any, Any]

# How long a stop (SIGTERM) waits for reminder sends in flight; systemd and Docker allow 30 s.
SHUTDOWN_GRACE_SECONDS = 20.0
METRICS_SERVER_KEY = "metrics_server"


def build_application(
    settings: Settings,
    library: ContentLibrary,
    clock: Clock | None = None,
    monotonic: Monotonic = SYSTEM_MONOTONIC,
) -> BotApplication:
    context_types = ContextTypes(context=BotContext)
    metrics = Metrics()
    # The one outgoing budget: every send and edit, replies first (bot/delivery/budget.py).
    budget = SendBudget(
        rate=settings.send_rate,
        per_chat_interval=1.0 / settings.send_rate_per_chat,
        paid_broadcast=settings.paid_broadcast,
        metrics=metrics,
        clock=monotonic,
    )
    application = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token)
        .base_url(settings.bot_api_base_url)
        .base_file_url(settings.bot_api_file_url)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
                tzinfo=UTC,
            )
        )
        .rate_limiter(budget)
        .context_types(context_types)
        # Enough parallel updates and connections for a busy bot; many more idle connections
        # would cost more than they bring (httpcore checks each idle one on every request).
        .concurrent_updates(64)
        .request(BotApiRequest(connection_pool_size=64))
        .get_updates_request(BotApiRequest())
        .post_init(_on_startup)
        .post_shutdown(_on_shutdown)
        .build()
    )
    application.bot_data["startup"] = (settings, library, clock or SystemClock(), budget)
    register_handlers(application)
    return application


def register_handlers(application: BotApplication) -> None:
    """Handlers in the order they are tried. Negative groups run first and may stop the update:
    counting for metrics (-5), flood control (-4), edits, channel posts and the like (-3),
    group chats (-2), the "🆘 Help now" button (-1: before every text handler of group 0, so
    check-in notes, onboarding, plan entry and broadcast drafts never take its text)."""
    application.add_handler(TypeHandler(Update, observe.count_update), group=-5)
    application.add_handler(TypeHandler(Update, guard.flood_control), group=-4)
    application.add_handler(TypeHandler(Update, guard.not_acted_on), group=-3)
    application.add_handler(TypeHandler(Update, freetext.private_chats_only), group=-2)
    application.add_handler(
        MessageHandler(filters.ChatType.PRIVATE & filters.TEXT, freetext.help_button), group=-1
    )

    # Group 0: each feature module's own routes (bot/handlers/routes.py), in this order. A
    # caregiver invite link (/start cg_<token>) comes before onboarding's /start.
    for router in (
        caregivers.routes,
        onboarding.routes,
        facts.routes,
        schedule.routes,
        schedule_guide.routes,
        doses.routes,
        simple.routes,
        checkins.routes,
        report.routes,
        privacy.routes,
        settings_page.routes,
        repeats.routes,
        travel.routes,
        pump.routes,
        supply_handlers.routes,
        admin.routes,
    ):
        router.register(application)
    application.add_handler(CallbackQueryHandler(freetext.ask_pressed, pattern=AskButton.pattern()))
    application.add_handler(CallbackQueryHandler(_stale_button))

    # Free text and the fallbacks last: what no feature route took.
    private = filters.ChatType.PRIVATE
    application.add_handler(
        MessageHandler(private & filters.TEXT & ~filters.COMMAND, freetext.free_text)
    )
    application.add_handler(MessageHandler(private & filters.COMMAND, freetext.unknown_command))
    application.add_handler(
        MessageHandler(
            private & ~filters.UpdateType.EDITED & ~filters.StatusUpdate.ALL, freetext.non_text
        )
    )
    application.add_error_handler(errors.on_error)


async def _stale_button(update: Update, context: BotContext) -> None:
    if update.callback_query is not None:
        await update.callback_query.answer(context.pack.text("errors.stale_button"))


async def _on_startup(application: BotApplication) -> None:
    settings, library, clock, budget = application.bot_data.pop("startup")
    try:
        db = await Database.open(settings.database_path)
    except (OSError, sqlite3.Error) as error:
        raise ConfigError(
            f"DATABASE_PATH {settings.database_path} cannot be opened: {error}"
        ) from None
    services = _build_services(application, settings, library, clock, db, budget)
    await services.languages.load()
    application.bot_data[SERVICES_KEY] = services
    if settings.metrics_port is not None:
        application.bot_data[METRICS_SERVER_KEY] = _start_metrics(services.metrics, settings)
    await services.admin.record_live_pack()
    await publish_commands(application.bot, library, settings.admin_ids)
    log.info("started content_version=%s schema=%d", library.version, await db.schema_version())


def _build_services(
    application: BotApplication,
    settings: Settings,
    library: ContentLibrary,
    clock: Clock,
    db: Database,
    budget: SendBudget,
) -> Services:
    """Every service, wired once; handlers reach them through ``context.services``."""
    assert application.job_queue is not None
    stores = _Stores.over(db)
    basics = _Basics.of(settings, library, clock, stores)
    engine = Engine(clock=clock, bot=application.bot, metrics=budget.metrics)
    outgoing = Outgoing(engine, basics.languages, basics.zones)
    dose_side = _DoseSide.of(basics, stores, outgoing, application.job_queue)
    admin_side = _AdminSide.of(settings, basics, stores, outgoing, dose_side.reminders)
    return Services(
        settings=settings,
        clock=clock,
        content=basics.content,
        db=db,
        users=stores.users,
        doses=stores.doses,
        reminders=dose_side.reminders,
        plans=basics.plans,
        zones=basics.zones,
        languages=basics.languages,
        missed=basics.missed,
        checkins=basics.checkins,
        reports=ReportService(stores.doses, stores.checkins, clock),
        budget=budget,
        privacy=PrivacyService(stores.privacy, clock),
        retention=_retention(settings, stores, clock, application.job_queue),
        flood=FloodGuard(),
        metrics=engine.metrics,
        admin=admin_side.admin,
        broadcasts=admin_side.broadcasts,
        outbox=admin_side.outbox,
        caregivers=dose_side.caregivers,
        simple_mode=SimpleModeService(stores.users),
        travel=TravelService(stores.doses, stores.users, basics.zones, basics.plans, clock),
        pump=dose_side.pump,
        supply=dose_side.supply,
    )


@dataclass(frozen=True)
class _Stores:
    """Every table's store, each over the one database (all SQL is in ``bot.storage``)."""

    users: UserStore
    doses: DoseStore
    checkins: CheckInStore
    caregivers: CaregiverStore
    admin: AdminStore
    refills: RefillStore
    supply: SupplyStore
    privacy: PrivacyStore
    broadcasts: BroadcastStore

    @classmethod
    def over(cls, db: Database) -> _Stores:
        return cls(
            users=UserStore(db),
            doses=DoseStore(db),
            checkins=CheckInStore(db),
            caregivers=CaregiverStore(db),
            admin=AdminStore(db),
            refills=RefillStore(db),
            supply=SupplyStore(db),
            privacy=PrivacyStore(db),
            broadcasts=BroadcastStore(db),
        )


@dataclass(frozen=True)
class _Basics:
    """What most features read: the clock, the live pack, each user's language and zone, their
    plan, its missed doses and check-ins."""

    clock: Clock
    content: ContentHolder
    languages: Languages
    zones: Zones
    plans: PlanService
    missed: MissedDoses
    checkins: CheckInService

    @classmethod
    def of(
        cls, settings: Settings, library: ContentLibrary, clock: Clock, stores: _Stores
    ) -> _Basics:
        content = ContentHolder(library)
        zones = Zones(settings.default_timezone, clock)
        return cls(
            clock=clock,
            content=content,
            languages=Languages(stores.users, content),
            zones=zones,
            plans=PlanService(stores.doses, stores.users, zones, clock),
            missed=MissedDoses(stores.doses),
            checkins=CheckInService(stores.checkins, stores.doses, clock),
        )


@dataclass(frozen=True)
class _DoseSide:
    """The reminder dispatcher; the queues its passes send after the dose reminders (caregiver
    alerts, pump refill reminders, tablet supply reminders); the features that wake it when
    they change what falls due (a caregiver's delay, a pump's refill date)."""

    reminders: ReminderService
    supply: SupplyRefills
    caregivers: CaregiverService
    pump: PumpService

    @classmethod
    def of(
        cls, basics: _Basics, stores: _Stores, outgoing: Outgoing, job_queue: JobQueue[Any]
    ) -> _DoseSide:
        supply = SupplyRefills(
            store=stores.supply,
            doses=stores.doses,
            users=stores.users,
            caregivers=stores.caregivers,
            outgoing=outgoing,
        )
        reminders = ReminderService(
            doses=stores.doses,
            missed=basics.missed,
            checkins=basics.checkins,
            plans=basics.plans,
            outgoing=outgoing,
            job_queue=job_queue,
            caregiver_alerts=CaregiverAlerts(
                store=stores.caregivers, doses=stores.doses, outgoing=outgoing
            ),
            refills=RefillSender(
                store=stores.refills, caregivers=stores.caregivers, outgoing=outgoing
            ),
            supply_refills=supply,
        )
        caregivers = CaregiverService(
            store=stores.caregivers,
            audit=stores.admin,
            clock=basics.clock,
            bot=outgoing.engine.bot,
            wake_dispatcher=reminders.kick,
        )
        pump = PumpService(
            store=stores.refills,
            users=stores.users,
            zones=basics.zones,
            clock=basics.clock,
            wake_dispatcher=reminders.kick,
        )
        return cls(reminders, supply, caregivers, pump)


def _retention(
    settings: Settings, stores: _Stores, clock: Clock, job_queue: JobQueue[Any]
) -> RetentionService:
    return RetentionService(
        store=stores.privacy,
        clock=clock,
        keep=timedelta(days=settings.data_retention_days),
        job_queue=job_queue,
    )


@dataclass(frozen=True)
class _AdminSide:
    """The admins' work: the audit log, content reloads and statistics, broadcasts and the
    outbox worker that sends them (after the dose reminders)."""

    admin: AdminService
    broadcasts: BroadcastService
    outbox: OutboxWorker

    @classmethod
    def of(
        cls,
        settings: Settings,
        basics: _Basics,
        stores: _Stores,
        outgoing: Outgoing,
        reminders: ReminderService,
    ) -> _AdminSide:
        bot = outgoing.engine.bot

        async def publish(fresh: ContentLibrary) -> None:
            await publish_commands(bot, fresh, settings.admin_ids)

        audience = Audience(store=stores.admin, clock=basics.clock, zone_for=basics.zones.zone_for)
        outbox = OutboxWorker(
            store=stores.broadcasts, doses=stores.doses, reminders=reminders, outgoing=outgoing
        )
        admin = AdminService(
            store=stores.admin,
            broadcasts=stores.broadcasts,
            audience=audience,
            content=basics.content,
            clock=basics.clock,
            admin_ids=settings.admin_ids,
            content_dir=settings.content_dir,
            publish_commands=publish,
        )
        broadcasts = BroadcastService(
            store=stores.broadcasts,
            audience=audience,
            content=basics.content,
            clock=basics.clock,
            wake_outbox=outbox.wake,
        )
        return cls(admin, broadcasts, outbox)


def _start_metrics(metrics: Metrics, settings: Settings) -> MetricsServer:
    assert settings.metrics_port is not None
    try:
        server = MetricsServer.start(metrics, settings.metrics_listen, settings.metrics_port)
    except OSError as error:
        raise ConfigError(
            f"METRICS_PORT {settings.metrics_port} cannot be used on {settings.metrics_listen}: "
            f"{error.strerror or error}"
        ) from None
    log.info("metrics_listening port=%d", settings.metrics_port)
    return server


async def _on_shutdown(application: BotApplication) -> None:
    services: Services | None = application.bot_data.get(SERVICES_KEY)
    if services is not None:
        await services.reports.close()
        await services.db.close()
    metrics_server: MetricsServer | None = application.bot_data.pop(METRICS_SERVER_KEY, None)
    if metrics_server is not None:
        await metrics_server.stop()
    log.info("stopped")


def menu_commands(pack: ContentPack) -> list[BotCommand]:
    # The same table and descriptions as /help (bot/views/commands.py), so the two cannot drift.
    # Telegram allows 100 commands; we register fewer than 30.
    return [BotCommand(name, describe(pack, name)) for name in PATIENT_COMMANDS]


async def publish_commands(bot: Bot, library: ContentLibrary, admin_ids: frozenset[int]) -> None:
    """Everyone's command menu in each language (Telegram shows the one matching the user's
    app language, else the one without a language); admins get theirs with the admin commands.
    """
    for code, pack in library.packs.items():
        # The default language is also the menu for every language the pack does not have.
        language_code = None if code == library.default else code
        patient_menu = menu_commands(pack)
        await bot.set_my_commands(patient_menu, language_code=language_code)
        admin_menu = patient_menu + [
            BotCommand(name, pack.text(f"admin_commands.{name}")) for name in ADMIN_COMMANDS
        ]
        for admin_id in sorted(admin_ids):
            try:
                await bot.set_my_commands(
                    admin_menu, scope=BotCommandScopeChat(admin_id), language_code=language_code
                )
            except BadRequest:  # Telegram knows no chat with this admin until they open one
                log.warning("admin_commands_not_set admin=%d", admin_id)


async def serve(application: BotApplication, settings: Settings, stop: asyncio.Event) -> None:
    """Run until ``stop`` is set: the lifecycle ``run_polling`` would run, on our own loop.

    Tests and ``python -m bot`` share this, so both exercise the same start and stop order.
    """
    if not await _initialize(application, stop):
        return
    try:
        if application.post_init is not None:
            await application.post_init(application)
        assert application.updater is not None
        if settings.bot_mode == "webhook":
            assert settings.webhook_url is not None
            await application.updater.start_webhook(
                listen=settings.webhook_listen,
                port=settings.webhook_port,
                url_path=urlsplit(settings.webhook_url).path.lstrip("/"),
                webhook_url=settings.webhook_url,
                secret_token=settings.webhook_secret,
                allowed_updates=Update.ALL_TYPES,
            )
        else:
            await application.updater.start_polling(
                allowed_updates=Update.ALL_TYPES, bootstrap_retries=-1
            )
        await application.start()
        # Reminders start once the job queue runs: due doses (and any from before a crash or
        # downtime) go out right away.
        await application.bot_data[SERVICES_KEY].reminders.start()
        application.bot_data[SERVICES_KEY].retention.start()
        # Broadcasts resume where they stopped; they only send while no reminder is due.
        await application.bot_data[SERVICES_KEY].outbox.start()
        log.info("ready mode=%s", settings.bot_mode)
        await stop.wait()
    finally:
        # Stop order: no new reminder work, no new updates, then let the sends in flight
        # finish (claims not sent are released), then the handlers in flight, then the database.
        services: Services | None = application.bot_data.get(SERVICES_KEY)
        if services is not None:
            await services.outbox.stop()
            services.reminders.stop()
            services.retention.stop()
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if services is not None:
            await services.reminders.wait_stopped(SHUTDOWN_GRACE_SECONDS)
        if application.running:
            await application.stop()
        try:
            if application.post_shutdown is not None:
                await application.post_shutdown(application)
        finally:
            await application.shutdown()


async def _initialize(application: BotApplication, stop: asyncio.Event) -> bool:
    """Reach the Bot API (getMe), retrying with backoff while it is unreachable.

    Returns False if asked to stop before it answered. A rejected token is a configuration
    error: no retry helps.
    """
    delay = 1.0
    while True:
        try:
            await application.initialize()
            return True
        except InvalidToken:
            raise ConfigError("TELEGRAM_BOT_TOKEN was rejected by the Bot API server") from None
        except (NetworkError, TimedOut) as error:
            log.warning("bot_api_unreachable kind=%s retry_in_s=%.0f", type(error).__name__, delay)
        try:
            await asyncio.wait_for(stop.wait(), timeout=delay)
            return False
        except TimeoutError:
            delay = min(delay * 2, 60.0)


def run(application: BotApplication, settings: Settings) -> None:
    """Serve until SIGINT or SIGTERM."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await serve(application, settings, stop)

    asyncio.run(main())
