"""What every handler can reach: the services, typed, through ``context.services``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram.ext import CallbackContext, ExtBot

from bot.clock import Clock
from bot.config import Settings
from bot.content import ContentHolder, ContentPack
from bot.domain.flood import FloodGuard
from bot.metrics import Metrics
from bot.services.admin import AdminService
from bot.services.broadcasts import BroadcastService
from bot.services.budget import SendBudget
from bot.services.checkins import CheckInService
from bot.services.missed import MissedDoses
from bot.services.outbox import OutboxWorker
from bot.services.plans import PlanService
from bot.services.privacy import PrivacyService
from bot.services.reminders import ReminderService
from bot.services.reports import ReportService
from bot.services.retention import RetentionService
from bot.services.zones import Zones
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

    @property
    def pack(self) -> ContentPack:
        return self.content.pack


SERVICES_KEY = "services"


class BotContext(CallbackContext[ExtBot[Any], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    @property
    def services(self) -> Services:
        services: Services = self.application.bot_data[SERVICES_KEY]
        return services
