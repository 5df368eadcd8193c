"""Supply on hand and refill reminders (issue 21, supply part; fact sheet 2.14).

The projection is worked out when it is needed, from the count, the dose rows since it (their
answers) and the active plan's doses from now on (``bot.domain.supply.project``). The refill
reminders are sent by the dispatcher's passes (``ReminderService.run_due`` calls
:meth:`SupplyRefills.run_due`), at 10:00 local on their days; ``supply_reminders`` records each
one sent, so a restart never sends it twice and a refill that moves the date makes new ones due.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from math import floor

from telegram import InlineKeyboardMarkup
from telegram.error import TelegramError

from bot.content import ContentPack
from bot.delivery.budget import Priority, sending_as
from bot.delivery.courier import Letter, Rules
from bot.delivery.queue import Outcome, Settled
from bot.delivery.send_errors import SendFailure
from bot.domain.schedule import slots_between
from bot.domain.supply import (
    HORIZON_DAYS,
    MAX_LEAD_DAYS,
    DoseUse,
    Product,
    Projection,
    ReminderKind,
    Use,
    project,
    reminders_due,
)
from bot.services.outgoing import Outgoing, Sender
from bot.storage.caregivers import CaregiverStore
from bot.storage.doses import DoseStore, Status
from bot.storage.supply import Supply, SupplyStore
from bot.storage.users import UserStore
from bot.views.supply import reminder_keyboard

log = logging.getLogger(__name__)

REMINDER_AT = time(10, 0)  # local
SCAN_EVERY = timedelta(minutes=1)  # the most often every patient's supply is projected
_NOT_USED = (Status.SKIPPED, Status.PAUSED, Status.CANCELLED)


# Any failed send is tried again at the next pass (no attempt limit, nothing to back off from:
# the minute sweep is the pace); it ends the patient's turn, their other reminders wait too.
RULES = Rules(
    max_attempts=None,
    failures=dict.fromkeys(SendFailure, Outcome.RETRY),
    drain=False,
    failure_ends_turn=True,
)


@dataclass(frozen=True)
class DueSupply:
    """A refill reminder claimed for sending (recorded in ``supply_reminders``)."""

    user_id: int
    kind: ReminderKind
    run_out: date
    today: date  # the patient's local date at the claim
    region: str | None


@dataclass(frozen=True)
class SupplyState:
    supply: Supply
    projection: Projection | None  # None: no active plan
    today: date  # in the patient's zone


class SupplyRefills(Sender[DueSupply]):
    """The count, the projection, and the refill reminders: a queue on the delivery engine
    whose rows are computed (what is due today) and whose claim is the record of a send."""

    name = "supply_reminder"
    priority = Priority.REMINDER

    def __init__(
        self,
        *,
        store: SupplyStore,
        doses: DoseStore,
        users: UserStore,
        caregivers: CaregiverStore,
        outgoing: Outgoing,
    ) -> None:
        # The reminders are computed, not stored: this class is the queue too.
        super().__init__(outgoing, self, RULES)
        self._store = store
        self._doses = doses
        self._users = users
        self._caregivers = caregivers
        # The last full scan: the scan projects every patient's supply, so it runs at most
        # once a minute (dispatcher passes come far more often in a burst), and again at the
        # next pass after a failed send or a change made here.
        self._scanned_at: datetime | None = None

    # ------------------------------------------------------------ the count

    async def state(self, user_id: int) -> SupplyState | None:
        supply = await self._store.get(user_id)
        if supply is None:
            return None
        now = self._clock.now()
        user = await self._users.get(user_id)
        zone = self._zones.zone_for(user.timezone if user else None)
        today = now.astimezone(zone).date()
        stored = await self._doses.active_plan(user_id)
        if stored is None:
            return SupplyState(supply, None, today)
        rows = await self._doses.events_between(user_id, supply.counted_at, now)
        used = [
            DoseUse(row.local_date, row.mg, Use.NOT_USED if row.status in _NOT_USED else Use.USED)
            for row in rows
        ]
        # Future rows the patient paused do not take from the count; every other planned dose
        # from now on does (the plan itself says them, beyond the rows made so far).
        ahead = await self._doses.events_between(user_id, now, now + timedelta(days=3))
        paused = {row.due_at for row in ahead if row.status in _NOT_USED}
        slots = slots_between(stored.plan, zone, now, now + timedelta(days=HORIZON_DAYS))
        planned = [
            DoseUse(slot.local_date, slot.mg, Use.NOT_USED if slot.due_utc in paused else Use.USED)
            for slot in slots
        ]
        projection = project(
            supply.product,
            supply.on_hand,
            used,
            planned,
            lead_days=supply.lead_days,
            plan_ends=stored.plan.ends_after_last_step,
        )
        return SupplyState(supply, projection, today)

    async def has_supply(self, user_id: int) -> bool:
        return await self._store.get(user_id) is not None

    async def save(self, user_id: int, product: Product, on_hand: int) -> None:
        """A new product and count; a lead time the patient set is kept."""
        existing = await self._store.get(user_id)
        lead = None if existing is None else existing.lead_days
        await self._store.save(user_id, product, on_hand, self._clock.now(), lead)
        self._scanned_at = None

    async def set_lead(self, user_id: int, lead_days: int) -> bool:
        if not 0 <= lead_days <= MAX_LEAD_DAYS:
            raise ValueError("lead days out of range")
        changed = await self._store.set_lead(user_id, lead_days, self._clock.now())
        self._scanned_at = None  # the next pass sees the change
        return changed

    async def recount(self, user_id: int, on_hand: int) -> bool:
        changed = await self._store.recount(user_id, on_hand, self._clock.now())
        self._scanned_at = None  # the next pass sees the change
        return changed

    async def refill(self, user_id: int, added: int) -> bool:
        """Add a refill to what is left now (as the count says); ends "I ordered"."""
        state = await self.state(user_id)
        if state is None:
            return False
        left = state.supply.on_hand
        if state.projection is not None and state.projection.ok:
            left = floor(state.projection.left_units)
        changed = await self._store.refill(user_id, left, added, self._clock.now())
        self._scanned_at = None  # the next pass sees the change
        return changed

    async def mark_ordered(self, user_id: int) -> bool:
        changed = await self._store.mark_ordered(user_id, self._clock.now())
        self._scanned_at = None  # the next pass sees the change
        return changed

    # ------------------------------------------------------------ reminders

    # -------------------------- the queue (bot.delivery.queue.Queue): computed, not stored

    async def claim(self, now: datetime, limit: int) -> list[DueSupply]:
        """Today's reminders of every patient past 10:00 local, each recorded as sent before
        it goes (``supply_reminders``: a restart never sends it twice); one scan is a pass."""
        last = self._scanned_at
        if last is not None and timedelta(0) <= now - last < SCAN_EVERY:
            return []
        self._scanned_at = now
        claimed: list[DueSupply] = []
        for user_id in await self._store.users():
            if len(claimed) >= limit:
                self._scanned_at = None  # the rest at the next pass
                break
            claimed.extend(await self._due_of(user_id, now))
        return claimed

    async def _due_of(self, user_id: int, now: datetime) -> list[DueSupply]:
        user = await self._users.get(user_id)
        if user is None or not user.has_consented or user.unreachable_at is not None:
            return []
        local = now.astimezone(self._zones.zone_for(user.timezone))
        if local.time() < REMINDER_AT:
            return []
        state = await self.state(user_id)
        if state is None or state.projection is None or state.projection.run_out is None:
            return []
        run_out = state.projection.run_out
        ordered = state.supply.refill_ordered_at is not None
        due = []
        for kind in reminders_due(state.projection, local.date(), ordered):
            if await self._store.record_reminder(user_id, kind.value, run_out, now):
                due.append(DueSupply(user_id, kind, run_out, local.date(), user.region))
        return due

    async def mark_in_flight(self, items: Sequence[DueSupply], now: datetime) -> None:
        """Nothing to record: the reminder counts as sent from its claim."""

    async def settle(self, item: DueSupply, settled: Settled) -> bool:
        if settled.outcome is not Outcome.SENT:
            # Not delivered (or never tried): due again at the next pass.
            await self._store.forget_reminder(item.user_id, item.kind.value, item.run_out)
            self._scanned_at = None
        return True

    async def recover(self, now: datetime) -> int:
        """Nothing stays claimed: a reminder is recorded as sent when it is claimed."""
        return 0

    async def next_due_at(self) -> datetime | None:
        """None: 10:00 local is found by the dispatcher's minute sweep."""
        return None

    # ------------------------------------------------------------ the policy

    def ids(self, item: DueSupply) -> str:
        return f"user={item.user_id} kind={item.kind.value}"

    def attempts(self, item: DueSupply) -> int:
        return 0  # never given up: the next pass tries again

    def recipient(self, item: DueSupply) -> int:
        return item.user_id

    async def compose(self, item: DueSupply, now: datetime) -> Letter:
        pack = self._languages.pack(item.user_id)
        text = pack.text(
            f"supply.remind_{item.kind.value}",
            run_out=pack.long_date(item.run_out, item.today),
            emergency_line=pack.emergency_line(item.region),
        )
        return Letter(item.user_id, text, self._buttons(pack))

    async def settled(self, item: DueSupply, settled: Settled) -> None:
        if settled.outcome is not Outcome.SENT:
            return
        log.info("supply_reminder_sent user=%d kind=%s", item.user_id, item.kind.value)
        if item.kind is ReminderKind.LAST_DAY:
            await self._tell_caregivers(item.user_id, item.run_out)

    async def _tell_caregivers(self, patient_id: int, run_out: date) -> None:
        for link in await self._caregivers.links_of_patient(patient_id):
            carer = await self._users.get(link.caregiver_id)
            if carer is None or carer.unreachable_at is not None:
                continue
            pack = self._languages.pack(link.caregiver_id)
            zone = self._zones.zone_for(carer.timezone)
            today = self._clock.now().astimezone(zone).date()
            text = pack.text(
                "supply.caregiver_last_day",
                name=link.patient_name,
                run_out=pack.long_date(run_out, today),
            )
            try:
                with sending_as(Priority.REMINDER):
                    await self._bot.send_message(link.caregiver_id, text)
            except TelegramError:
                log.warning("supply_caregiver_failed caregiver=%d", link.caregiver_id)
                continue
            log.info("supply_caregiver_told patient=%d caregiver=%d", patient_id, link.caregiver_id)

    def _buttons(self, pack: ContentPack) -> InlineKeyboardMarkup:
        return reminder_keyboard(pack)
