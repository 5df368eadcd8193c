"""Pump mode (issue 21): what /pump calls (:class:`PumpService`), and the sender of due refill
reminders and pump caregiver alerts (:class:`RefillSender`), run by the dispatcher in each pass
after the dose reminders and caregiver alerts (the database is the schedule)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta

from telegram import Bot
from telegram.error import TelegramError

from bot import pump_views
from bot.clock import Clock
from bot.domain.refills import reminder_plan
from bot.metrics import Metrics
from bot.services.budget import Priority, sending_as
from bot.services.languages import Languages
from bot.services.send_errors import SendFailure
from bot.services.send_errors import classify as classify_send_error
from bot.services.zones import Zones
from bot.storage.caregivers import CaregiverStore
from bot.storage.refills import DueRefill, Pump, RefillStore
from bot.storage.users import UserStore

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


class RefillSender:
    """Sends due refill reminders (to the patient) and pump alerts (to each caregiver)."""

    def __init__(
        self,
        *,
        store: RefillStore,
        caregivers: CaregiverStore,
        zones: Zones,
        languages: Languages,
        clock: Clock,
        bot: Bot,
        metrics: Metrics,
    ) -> None:
        self._store = store
        self._caregivers = caregivers
        self._zones = zones
        self._languages = languages
        self._clock = clock
        self._bot = bot
        self._metrics = metrics

    async def next_action_at(self) -> datetime | None:
        return await self._store.next_due_at()

    async def recover_claims(self) -> int:
        return await self._store.recover_claims()

    async def run_due(self, stopping: Callable[[], bool]) -> None:
        next_at = await self._store.next_due_at()
        if next_at is None or next_at > self._clock.now():
            return
        while not stopping() and (
            batch := await self._store.claim_due(self._clock.now(), BATCH_SIZE)
        ):
            for due in batch:
                if stopping():
                    await self._store.release(due.reminder_id, self._clock.now())
                    continue
                try:
                    await self._send(due)
                except Exception:
                    log.exception("refill_reminder_failed reminder=%d", due.reminder_id)
                    await self._retry(due)

    async def _retry(self, due: DueRefill) -> None:
        now = self._clock.now()
        if due.attempts + 1 >= MAX_ATTEMPTS:
            await self._store.finish(due.reminder_id, "failed", now)
            return
        await self._store.release(
            due.reminder_id, now + timedelta(seconds=min(15 * 2**due.attempts, 600))
        )

    async def _send(self, due: DueRefill) -> None:
        now = self._clock.now()
        zone = self._zones.zone_for(due.timezone)
        today = now.astimezone(zone).date()
        pump = await self._store.pump(due.user_id)
        if due.kind.startswith("cg_"):
            await self._send_caregivers(due, today)
            return
        if due.unreachable or not pump.on or due.refill_on is None:
            await self._store.finish(due.reminder_id, "cancelled", now)
            return
        pack = self._languages.pack(due.user_id)
        text, markup = pump_views.reminder(pack, due.kind, due.refill_on, pump, due.region, today)
        try:
            with sending_as(Priority.REMINDER):
                await self._bot.send_message(due.user_id, text, reply_markup=markup)
        except TelegramError as raised:
            await self._failed(due, raised)
            return
        await self._store.finish(due.reminder_id, "sent", self._clock.now())
        self._metrics.dose_message_delivered(f"pump_{due.kind}")
        log.info("refill_reminder_sent reminder=%d kind=%s", due.reminder_id, due.kind)

    async def _send_caregivers(self, due: DueRefill, today: date) -> None:
        links = await self._caregivers.links_of_patient(due.user_id)
        for link in links:
            pack = self._languages.pack(link.caregiver_id)
            text = pump_views.caregiver_alert(
                pack, due.kind, link.patient_name, due.refill_on, due.region, today
            )
            try:
                with sending_as(Priority.REMINDER):
                    await self._bot.send_message(link.caregiver_id, text)
            except TelegramError as raised:
                log.info(
                    "pump_caregiver_alert_failed link=%d kind=%s",
                    link.link_id,
                    type(raised).__name__,
                )
                continue
            log.info("pump_caregiver_alert_sent link=%d kind=%s", link.link_id, due.kind)
        await self._store.finish(due.reminder_id, "sent", self._clock.now())

    async def _failed(self, due: DueRefill, raised: TelegramError) -> None:
        error = classify_send_error(raised)
        self._metrics.send_failed(error.name)
        if error.kind in (SendFailure.UNREACHABLE, SendFailure.REJECTED):
            await self._store.finish(due.reminder_id, "failed", self._clock.now())
            return
        await self._retry(due)
