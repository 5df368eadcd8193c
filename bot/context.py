"""What every handler can reach: the services, typed, through ``context.services``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from telegram.ext import CallbackContext, ExtBot

from bot.clock import Clock
from bot.config import Settings
from bot.content import ContentPack
from bot.storage.db import Database
from bot.storage.users import UserStore


@dataclass
class ContentHolder:
    """The live content pack; ``/reload`` swaps it in one assignment."""

    pack: ContentPack


@dataclass
class Services:
    settings: Settings
    clock: Clock
    content: ContentHolder
    db: Database
    users: UserStore
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def pack(self) -> ContentPack:
        return self.content.pack


SERVICES_KEY = "services"


class BotContext(CallbackContext[ExtBot[Any], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    @property
    def services(self) -> Services:
        services: Services = self.application.bot_data[SERVICES_KEY]
        return services
