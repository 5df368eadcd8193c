"""Caregivers: invites, links, the delay, and sending the alerts the dispatcher finds due.

The dispatcher (``bot.services.reminders``) runs :meth:`CaregiverAlerts.run_due` in each pass,
after the dose reminders, under the same send budget (a caregiver alert is a dose message).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from telegram import Bot
from telegram.error import TelegramError

from bot.clock import Clock
from bot.content import Html
from bot.delivery.budget import Priority, sending_as
from bot.delivery.courier import Drop, Letter, Rules
from bot.delivery.queue import Outcome, Settled
from bot.domain.caregivers import (
    INVITE_VALID_FOR,
    MAX_CAREGIVERS,
    AlertDose,
    AlertKind,
    AlertOutcome,
    InviteProblem,
    Said,
    dose_check,
    invite_payload,
    what_to_say,
)
from bot.domain.safety import Verdict
from bot.services.missed import past_dose
from bot.services.outgoing import Outgoing, Sender
from bot.storage.admin import AdminStore
from bot.storage.caregivers import Accepted, CaregiverStore, DueAlert, Link
from bot.storage.doses import DoseEvent, DoseStore, Status
from bot.views.caregivers import alert_text

log = logging.getLogger(__name__)

BATCH_SIZE = 200
MAX_ATTEMPTS = 8
# Enough earlier doses to see whether this is the second in a row without a Taken.
_RUN_DOSES = 4
# Enough of the latest doses to see every intake of the last hours (as /missed reads them).
_INTAKE_DOSES = 12


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Invite:
    link: str | None  # t.me deep link; None when the patient has MAX_CAREGIVERS already
    expires_at: datetime


class CaregiverService:
    """What the /caregiver handlers call. Every link change is written to the audit log."""

    def __init__(
        self,
        *,
        store: CaregiverStore,
        audit: AdminStore,
        clock: Clock,
        bot: Bot,
        wake_dispatcher: Callable[[], None],
    ) -> None:
        self._store = store
        self._wake_dispatcher = wake_dispatcher
        self._audit = audit
        self._clock = clock
        self._bot = bot

    async def invite(self, patient_id: int, patient_name: str) -> Invite:
        now = self._clock.now()
        expires_at = now + INVITE_VALID_FOR
        if len(await self._store.links_of_patient(patient_id)) >= MAX_CAREGIVERS:
            await self._audit.audit(patient_id, "caregiver_invite", "full", "", now)
            return Invite(None, expires_at)
        token = secrets.token_urlsafe(24)
        await self._store.create_invite(
            patient_id, token_hash(token), patient_name, now, expires_at
        )
        await self._audit.audit(patient_id, "caregiver_invite", "ok", "", now)
        log.info("caregiver_invite_created user=%d", patient_id)
        return Invite(
            f"https://t.me/{self._bot.username}?start={invite_payload(token)}", expires_at
        )

    async def check_invite(
        self, token: str, opener_id: int
    ) -> tuple[int, str, InviteProblem | None]:
        """(the patient, their name, why the opener cannot accept or None)."""
        patient_id, name, problem = await self._store.invite_check(
            token_hash(token), opener_id, self._clock.now()
        )
        if problem is not None:
            await self._refused(opener_id, problem)
        return patient_id, name, problem

    async def accept(self, token: str, caregiver_id: int, caregiver_name: str) -> Accepted:
        now = self._clock.now()
        accepted = await self._store.accept(token_hash(token), caregiver_id, caregiver_name, now)
        if accepted.problem is not None:
            await self._refused(caregiver_id, accepted.problem)
        elif accepted.link is not None:
            detail = f"link={accepted.link.link_id}"
            await self._audit.audit(caregiver_id, "caregiver_link", "ok", detail, now)
            log.info("caregiver_linked link=%d", accepted.link.link_id)
        return accepted

    async def _refused(self, user_id: int, problem: InviteProblem) -> None:
        await self._audit.audit(user_id, "caregiver_link", problem.value, "", self._clock.now())
        log.info("caregiver_invite_refused user=%d reason=%s", user_id, problem.value)

    async def caregivers_of(self, patient_id: int) -> list[Link]:
        return await self._store.links_of_patient(patient_id)

    async def patients_of(self, caregiver_id: int) -> list[Link]:
        return await self._store.links_of_caregiver(caregiver_id)

    async def links_either_way(self, user_id: int) -> list[Link]:
        """Every link this person is a side of (read before an erasure, to tell the others)."""
        return [
            *await self._store.links_of_patient(user_id),
            *await self._store.links_of_caregiver(user_id),
        ]

    async def remove(self, link_id: int, by_user: int) -> Link | None:
        """Either side ends the link; its waiting alerts go with it."""
        link = await self._store.remove(link_id, by_user)
        if link is None:
            return None
        action = "caregiver_remove" if by_user == link.patient_id else "caregiver_leave"
        await self._audit.audit(by_user, action, "ok", f"link={link_id}", self._clock.now())
        log.info("caregiver_unlinked link=%d by=%s", link_id, action)
        return link

    async def delay_minutes(self, patient_id: int) -> int:
        return await self._store.delay_minutes(patient_id)

    async def set_delay(self, patient_id: int, minutes: int) -> None:
        await self._store.set_delay(patient_id, minutes)
        self._wake_dispatcher()  # a shorter delay may make a waiting alert due now
        log.info("caregiver_delay_set user=%d minutes=%d", patient_id, minutes)

    async def tell(self, chat_id: int, text: Html) -> bool:
        """Best effort: the other side of a link is told it changed."""
        try:
            with sending_as(Priority.NOTICE):
                await self._bot.send_message(chat_id, text)
        except TelegramError as error:
            log.info("caregiver_notice_failed chat=%d kind=%s", chat_id, type(error).__name__)
            return False
        return True


class CaregiverAlerts(Sender[DueAlert]):
    """Sends due caregiver alerts on the delivery engine: this class is the queue's policy
    (what an alert says when it is due, or why it ends unsaid); the courier claims, sends and
    settles each row with one outcome."""

    name = "caregiver_alert"
    priority = Priority.REMINDER  # a caregiver alert is a dose message

    def __init__(self, *, store: CaregiverStore, doses: DoseStore, outgoing: Outgoing) -> None:
        super().__init__(outgoing, store, RULES)
        self._store = store
        self._doses = doses

    # ------------------------------------------------------------ the policy

    def ids(self, item: DueAlert) -> str:
        return f"alert={item.alert_id}"

    def attempts(self, item: DueAlert) -> int:
        return item.attempts

    def recipient(self, item: DueAlert) -> int:
        # One caregiver's alerts in order; after a 403 the rest of them are already ended.
        return item.caregiver_id

    async def compose(self, item: DueAlert, now: datetime) -> Letter | Drop:
        """Its dose still planned, the check passed (for an unanswered dose): its words."""
        if item.caregiver_unreachable:
            return Drop(AlertOutcome.UNREACHABLE)
        doses = await self._doses.recent_doses(item.patient_id, item.dose_due_at, _RUN_DOSES)
        own = next((dose for dose in doses if dose.event_id == item.event_id), None)
        if own is None:
            return Drop(AlertOutcome.CANCELLED)
        verdict = (
            await self._verdict(item, own, now)
            if item.kind is AlertKind.UNANSWERED
            else Verdict.OFFER
        )
        said = what_to_say(item.kind, [past_dose(dose) for dose in doses], verdict)
        if not isinstance(said, Said):
            return Drop(said)
        pack = self._languages.pack(item.caregiver_id)  # the caregiver's language
        text = alert_text(pack, item, said, self._zones.zone_for(item.timezone))
        return Letter(item.caregiver_id, text, detail=said)

    async def settled(self, item: DueAlert, settled: Settled) -> None:
        if settled.outcome is Outcome.SENT:
            said = settled.detail
            assert isinstance(said, Said)
            self._metrics.dose_message_delivered(f"caregiver_{said.value}")
            log.info("caregiver_alert_sent alert=%d said=%s", item.alert_id, said.value)
        elif settled.outcome is Outcome.DROPPED:
            if settled.reason == AlertOutcome.CANCELLED:
                log.info("caregiver_alert_cancelled alert=%d", item.alert_id)
            elif settled.reason != AlertOutcome.UNREACHABLE:
                log.info(
                    "caregiver_alert_dropped alert=%d outcome=%s", item.alert_id, settled.reason
                )
        elif settled.outcome is Outcome.UNREACHABLE:
            # Like any user who blocked the bot (their own doses stop too, if they have any);
            # the store has ended their other waiting alerts.
            await self._doses.mark_unreachable(item.caregiver_id, settled.at)
            log.warning("caregiver_unreachable user=%d", item.caregiver_id)

    async def _verdict(self, alert: DueAlert, own: DoseEvent, now: datetime) -> Verdict:
        """The one dose-safety check on the alert's dose now, fed as ``/missed`` is: the
        patient's active plan in their zone, and every intake recorded lately (any plan)."""
        stored = await self._doses.active_plan(alert.patient_id)
        latest = await self._doses.recent_doses(alert.patient_id, now, _INTAKE_DOSES)
        intakes = [
            dose.answered_at
            for dose in latest
            if dose.status is Status.TAKEN and dose.answered_at is not None
        ]
        dose = AlertDose(
            due=own.due_at,
            day=own.local_date,
            at=own.local_time,
            mg=own.mg,
            of_active_plan=stored is not None and stored.plan_id == own.plan_id,
        )
        plan = stored.plan if stored is not None else None
        zone = self._zones.zone_for(alert.timezone)
        return dose_check(dose, plan, zone, intakes, now).verdict


# A 403 ends the caregiver's alerts, a 400 the alert; anything else is retried after 15 s
# doubling to 10 min (or Telegram's retry_after), up to MAX_ATTEMPTS.
RULES = Rules(max_attempts=MAX_ATTEMPTS, batch_size=BATCH_SIZE)
