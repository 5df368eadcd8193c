"""What every queue of outgoing messages is built with (bot/app.py wires it once): the delivery
engine it sends on, and each recipient's language and zone to write its messages in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from bot.delivery.courier import Engine, OnCourier, Rules
from bot.delivery.queue import Queue
from bot.services.languages import Languages
from bot.services.zones import Zones

Item = TypeVar("Item")


@dataclass(frozen=True)
class Outgoing:
    """The engine, and who reads what: ``languages.pack(user_id)``, ``zones.zone_for(name)``."""

    engine: Engine
    languages: Languages
    zones: Zones


class Sender(OnCourier[Item]):
    """The policy of a queue the dispatcher runs after the dose reminders (caregiver alerts,
    pump and supply refill reminders): each message in its recipient's language and clock."""

    def __init__(self, outgoing: Outgoing, queue: Queue[Item], rules: Rules) -> None:
        super().__init__(outgoing.engine, queue, rules)
        self._languages = outgoing.languages
        self._zones = outgoing.zones
