"""What every handler can reach: the services, typed, through ``context.services``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from telegram import CallbackQuery, Update
from telegram.ext import Application, CallbackContext, ExtBot

from bot.clock import Clock
from bot.config import Settings
from bot.content import ContentHolder, ContentPack
from bot.delivery.budget import SendBudget
from bot.domain.flood import FloodGuard
from bot.metrics import Metrics
from bot.services.admin import AdminService
from bot.services.broadcasts import BroadcastService
from bot.services.caregivers import CaregiverService
from bot.services.checkins import CheckInService
from bot.services.languages import Languages
from bot.services.missed import MissedDoses
from bot.services.outbox import OutboxWorker
from bot.services.plans import PlanService
from bot.services.privacy import PrivacyService
from bot.services.refills import PumpService
from bot.services.reminders import ReminderService
from bot.services.reports import ReportService
from bot.services.retention import RetentionService
from bot.services.simple_mode import SimpleModeService
from bot.services.supply_refills import SupplyRefills
from bot.services.travel import TravelService
from bot.services.zones import Zones
from bot.session import Session, session_in
from bot.storage.db import Database
from bot.storage.doses import DoseStore
from bot.storage.users import User, UserStore


@dataclass
class Services:
    settings: Settings
    clock: Clock
    content: ContentHolder
    db: Database
    users: UserStore
    doses: DoseStore
    reminders: ReminderService
    plans: PlanService
    zones: Zones
    languages: Languages
    missed: MissedDoses
    checkins: CheckInService
    reports: ReportService
    budget: SendBudget
    privacy: PrivacyService
    retention: RetentionService
    flood: FloodGuard
    admin: AdminService
    broadcasts: BroadcastService
    outbox: OutboxWorker
    metrics: Metrics
    caregivers: CaregiverService
    simple_mode: SimpleModeService
    travel: TravelService
    pump: PumpService
    supply: SupplyRefills


SERVICES_KEY = "services"


class BotContext(CallbackContext[ExtBot[Any], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """The handlers' context: the services, the content pack in the user's language, and the
    sender's stored row with their zone and local date.

    PTB makes one context per update, so the row read here (:meth:`load_user`, which every
    route in ``bot/handlers/routes.py`` calls before its handler) is read once per update and
    shared by every handler and helper that update reaches."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application, chat_id=chat_id, user_id=user_id)
        self.language_code: str | None = None  # what Telegram reports for the sender
        self._user: User | None = None
        self._user_loaded = False
        self._query: CallbackQuery | None = None

    @classmethod
    def from_update(
        cls, update: object, application: Application[Any, Any, Any, Any, Any, Any]
    ) -> BotContext:
        context = super().from_update(update, application)
        if isinstance(update, Update):
            if update.effective_user is not None:
                context.language_code = update.effective_user.language_code
            context._query = update.callback_query
        return context

    @property
    def services(self) -> Services:
        services: Services = self.application.bot_data[SERVICES_KEY]
        return services

    @property
    def language(self) -> str:
        """The sender's language: their stored choice, else Telegram's, else the default."""
        return self.services.languages.code(self._user_id, self.language_code)

    @property
    def pack(self) -> ContentPack:
        """Every reply to this update is written from this pack."""
        return self.services.content.pack(self.language)

    @property
    def query(self) -> CallbackQuery:
        """The press this update brings (a handler registered for button presses)."""
        if self._query is None:
            raise LookupError("this update is not a button press")
        return self._query

    @property
    def session(self) -> Session:
        """The dialogues this user is in the middle of (bot/session.py)."""
        return session_in(self.user_data)

    async def load_user(self) -> User | None:
        """The sender's stored row (None: nothing stored about them), read on the first call of
        this update; later calls give the same row."""
        if not self._user_loaded:
            found = self._user_id
            self._user = await self.services.users.get(found) if found is not None else None
            self._user_loaded = True
        return self._user

    async def reload_user(self) -> User | None:
        """The row again, after this update changed it (a later read must see the change)."""
        self._user_loaded = False
        return await self.load_user()

    @property
    def user(self) -> User | None:
        """The sender's row as :meth:`load_user` read it for this update."""
        if not self._user_loaded:
            raise RuntimeError("the user is read by the route before its handler runs")
        return self._user

    @property
    def patient(self) -> User:
        """The sender's row, in a handler that runs only for a consented user (a route with
        ``consented=True``, or after :func:`bot.handlers.onboarding.consented_user`)."""
        user = self.user
        if user is None or not user.has_consented:
            raise LookupError("this handler runs only for a consented user")
        return user

    @property
    def zone(self) -> ZoneInfo:
        """The sender's time zone (the configured default when none is stored)."""
        user = self.user
        return self.services.zones.zone_for(user.timezone if user else None)

    @property
    def today(self) -> date:
        """The sender's local date now, by the injected clock."""
        return self.services.zones.today(self.zone)
