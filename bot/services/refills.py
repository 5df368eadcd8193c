"""Pump mode (issue 21): what /pump calls (:class:`PumpService`), and the sender of due refill
reminders and pump caregiver alerts (:class:`RefillSender`), run by the dispatcher in each pass
after the dose reminders and caregiver alerts (the database is the schedule)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime

from bot.clock import Clock
from bot.delivery.budget import Priority
from bot.delivery.courier import Drop, Fanout, Letter, Rules
from bot.delivery.queue import Outcome, Settled
from bot.domain.refills import reminder_plan
from bot.services.outgoing import Outgoing, Sender
from bot.services.zones import Zones
from bot.storage.caregivers import CaregiverStore
from bot.storage.refills import DueRefill, Pump, RefillStatus, RefillStore
from bot.storage.users import UserStore
from bot.views import pump as pump_views

log = logging.getLogger(__name__)

BATCH_SIZE = 200
MAX_ATTEMPTS = 8


class PumpService:
    def __init__(
        self,
        *,
        store: RefillStore,
        users: UserStore,
        zones: Zones,
        clock: Clock,
        wake_dispatcher: Callable[[], None],
    ) -> None:
        self._store = store
        self._users = users
        self._zones = zones
        self._clock = clock
        self._wake = wake_dispatcher

    async def pump(self, user_id: int) -> Pump:
        return await self._store.pump(user_id)

    async def set_mode(self, user_id: int, on: bool) -> bool:
        changed = await self._store.set_mode(user_id, on)
        log.info("pump_mode_set user=%d on=%d", user_id, int(on))
        return changed

    async def set_refill(self, user_id: int, refill_on: date) -> datetime | None:
        """Store the clinic's date and plan its reminders; return the first one's instant."""
        user = await self._users.get(user_id)
        zone = self._zones.zone_for(user.timezone if user else None)
        planned = reminder_plan(refill_on, zone, self._clock.now())
        await self._store.set_refill(user_id, refill_on, planned)
        self._wake()
        log.info("pump_refill_set user=%d reminders=%d", user_id, len(planned))
        first = [item.due_at for item in planned if item.kind != "cg_missed"]
        return first[0] if first else None

    async def refill_done(self, user_id: int, refill_on: date) -> bool:
        done = await self._store.refill_done(user_id, refill_on)
        log.info("pump_refill_done user=%d recorded=%d", user_id, int(done))
        return done

    async def set_alarm_date(self, user_id: int, alarm_on: date | None) -> None:
        await self._store.set_alarm_date(user_id, alarm_on)

    async def set_clinic_phone(self, user_id: int, phone: str | None) -> None:
        await self._store.set_clinic_phone(user_id, phone)

    async def alarm_written(self, user_id: int, has_caregivers: bool) -> None:
        """The patient wrote about a pump alarm: their caregivers are told (a due row)."""
        if not has_caregivers:
            return
        await self._store.add_alarm_alert(user_id, self._clock.now())
        self._wake()
        log.info("pump_alarm_alert_planned user=%d", user_id)


class RefillSender(Sender[DueRefill]):
    """Sends due refill reminders (to the patient) and pump alerts (to each caregiver), on
    the delivery engine: this class is the queue's policy (what to say, what is stale)."""

    name = "refill_reminder"
    priority = Priority.REMINDER

    def __init__(
        self, *, store: RefillStore, caregivers: CaregiverStore, outgoing: Outgoing
    ) -> None:
        super().__init__(outgoing, store, RULES)
        self._store = store
        self._caregivers = caregivers

    # ------------------------------------------------------------ the policy

    def ids(self, item: DueRefill) -> str:
        return f"reminder={item.reminder_id}"

    def attempts(self, item: DueRefill) -> int:
        return item.attempts

    def recipient(self, item: DueRefill) -> int:
        return item.user_id

    async def compose(self, item: DueRefill, now: datetime) -> Letter | Fanout | Drop:
        zone = self._zones.zone_for(item.timezone)
        today = now.astimezone(zone).date()
        pump = await self._store.pump(item.user_id)
        if item.kind.startswith("cg_"):
            return await self._caregiver_copies(item, today)
        if item.unreachable or not pump.on or item.refill_on is None:
            return Drop(RefillStatus.CANCELLED)
        pack = self._languages.pack(item.user_id)
        text, markup = pump_views.reminder(
            pack, item.kind, item.refill_on, pump, item.region, today
        )
        return Letter(item.user_id, text, markup)

    async def _caregiver_copies(self, item: DueRefill, today: date) -> Fanout:
        letters = []
        for link in await self._caregivers.links_of_patient(item.user_id):
            pack = self._languages.pack(link.caregiver_id)
            text = pump_views.caregiver_alert(
                pack, item.kind, link.patient_name, item.refill_on, item.region, today
            )
            letters.append(Letter(link.caregiver_id, text))
        return Fanout(letters)

    async def settled(self, item: DueRefill, settled: Settled) -> None:
        if settled.outcome is Outcome.SENT and not item.kind.startswith("cg_"):
            self._metrics.dose_message_delivered(f"pump_{item.kind}")
            log.info("refill_reminder_sent reminder=%d kind=%s", item.reminder_id, item.kind)


# Refused (403, 400) ends the row as failed; anything else is retried, up to 8 attempts.
RULES = Rules(max_attempts=MAX_ATTEMPTS, batch_size=BATCH_SIZE)
