"""What every handler can reach: the services, typed, through ``context.services``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram import Update
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
from bot.storage.users import UserStore


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
    """The handlers' context: the services, and the content pack in the user's language."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application, chat_id=chat_id, user_id=user_id)
        self.language_code: str | None = None  # what Telegram reports for the sender

    @classmethod
    def from_update(
        cls, update: object, application: Application[Any, Any, Any, Any, Any, Any]
    ) -> BotContext:
        context = super().from_update(update, application)
        if isinstance(update, Update) and update.effective_user is not None:
            context.language_code = update.effective_user.language_code
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
    def session(self) -> Session:
        """The dialogues this user is in the middle of (bot/session.py)."""
        return session_in(self.user_data)
