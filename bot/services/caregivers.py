"""Caregivers: invites, links, the delay, and sending the alerts the dispatcher finds due.

The dispatcher (``bot.services.reminders``) runs :meth:`CaregiverAlerts.run_due` in each pass,
after the dose reminders, under the same send budget (a caregiver alert is a dose message).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from telegram import Bot
from telegram.error import TelegramError

from bot.caregiver_views import alert_text
from bot.clock import Clock
from bot.content import Html
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
from bot.metrics import Metrics
from bot.services.budget import Priority, sending_as
from bot.services.languages import Languages
from bot.services.missed import past_dose
from bot.services.send_errors import SendFailure
from bot.services.send_errors import classify as classify_send_error
from bot.services.zones import Zones
from bot.storage.admin import AdminStore
from bot.storage.caregivers import Accepted, CaregiverStore, DueAlert, Link
from bot.storage.doses import DoseEvent, DoseStore, Status

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


@dataclass(frozen=True)
class _Sent:
    retry_at: datetime | None = None  # released for a retry at this instant
    unreachable: bool = False  # the caregiver blocked the bot: nothing more to them


class CaregiverAlerts:
    """Sends due caregiver alerts: claim before send, then one named outcome per row."""

    def __init__(
        self,
        *,
        store: CaregiverStore,
        doses: DoseStore,
        zones: Zones,
        languages: Languages,
        clock: Clock,
        bot: Bot,
        metrics: Metrics,
    ) -> None:
        self._store = store
        self._doses = doses
        self._zones = zones
        self._languages = languages
        self._clock = clock
        self._bot = bot
        self._metrics = metrics

    async def next_action_at(self) -> datetime | None:
        return await self._store.next_action_at()

    async def recover_claims(self) -> int:
        return await self._store.recover_claims(self._clock.now())

    async def run_due(self, stopping: Callable[[], bool]) -> datetime | None:
        """Send what is due; return the earliest retry instant asked for (None: none; a
        retry is also a due row, which the dispatcher's next wake-up reads)."""
        retry: list[datetime] = []
        next_at = await self._store.next_action_at()
        if next_at is None or next_at > self._clock.now():
            return None  # one index read, no write lock: most passes have no alert due
        while not stopping() and (
            batch := await self._store.claim_due(self._clock.now(), BATCH_SIZE)
        ):
            by_caregiver: defaultdict[int, list[DueAlert]] = defaultdict(list)
            for alert in batch:
                by_caregiver[alert.caregiver_id].append(alert)
            await asyncio.gather(
                *(self._deliver(items, stopping, retry) for items in by_caregiver.values())
            )
        return min(retry, default=None)

    async def _deliver(
        self, items: list[DueAlert], stopping: Callable[[], bool], retry: list[datetime]
    ) -> None:
        """One caregiver's alerts in order; after a 403 the rest of them are already ended."""
        for alert in items:
            if stopping():
                await self._store.release(alert.alert_id, self._clock.now())
                continue
            try:
                sent = await self._send(alert)
            except Exception:
                log.exception("caregiver_alert_failed alert=%d", alert.alert_id)
                retry_at = self._clock.now() + _backoff(alert.attempts)
                await self._store.release(alert.alert_id, retry_at)
                sent = _Sent(retry_at=retry_at)
            if sent.retry_at is not None:
                retry.append(sent.retry_at)
            if sent.unreachable:
                return

    async def _mark_in_flight(self, alert_id: int) -> None:
        await self._store.mark_in_flight(alert_id, self._clock.now())

    async def _send(self, alert: DueAlert) -> _Sent:
        """Claimed: its dose still planned, the check passed (for an unanswered dose), sent."""
        now = self._clock.now()
        if alert.caregiver_unreachable:
            await self._store.finish(alert.alert_id, AlertOutcome.UNREACHABLE, now)
            return _Sent()
        doses = await self._doses.recent_doses(alert.patient_id, alert.dose_due_at, _RUN_DOSES)
        own = next((dose for dose in doses if dose.event_id == alert.event_id), None)
        if own is None:
            await self._store.finish(alert.alert_id, AlertOutcome.CANCELLED, now)
            log.info("caregiver_alert_cancelled alert=%d", alert.alert_id)
            return _Sent()
        verdict = (
            await self._verdict(alert, own, now)
            if alert.kind is AlertKind.UNANSWERED
            else Verdict.OFFER
        )
        said = what_to_say(alert.kind, [past_dose(dose) for dose in doses], verdict)
        if not isinstance(said, Said):
            await self._store.finish(alert.alert_id, said, now)
            log.info("caregiver_alert_dropped alert=%d outcome=%s", alert.alert_id, said.value)
            return _Sent()
        pack = self._languages.pack(alert.caregiver_id)  # the caregiver's language
        text = alert_text(pack, alert, said, self._zones.zone_for(alert.timezone))
        leave = partial(self._mark_in_flight, alert.alert_id)
        try:
            with sending_as(Priority.REMINDER, on_leave=leave):
                message = await self._bot.send_message(alert.caregiver_id, text)
        except TelegramError as raised:
            return await self._after_failure(alert, raised)
        await self._store.record_sent(alert.alert_id, said, message.message_id, self._clock.now())
        self._metrics.dose_message_delivered(f"caregiver_{said.value}")
        log.info("caregiver_alert_sent alert=%d said=%s", alert.alert_id, said.value)
        return _Sent()

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

    async def _after_failure(self, alert: DueAlert, raised: TelegramError) -> _Sent:
        now = self._clock.now()
        error = classify_send_error(raised)
        self._metrics.send_failed(error.name)
        if error.kind is SendFailure.UNREACHABLE:
            # Like any user who blocked the bot (their own doses stop too, if they have any).
            await self._store.finish(alert.alert_id, AlertOutcome.UNREACHABLE, now)
            await self._doses.mark_unreachable(alert.caregiver_id, now)
            ended = await self._store.caregiver_unreachable(alert.caregiver_id, now)
            log.warning("caregiver_unreachable user=%d alerts=%d", alert.caregiver_id, ended)
            return _Sent(unreachable=True)
        if error.kind is SendFailure.REJECTED:
            log.error("caregiver_alert_rejected alert=%d kind=%s", alert.alert_id, error.name)
            await self._store.finish(alert.alert_id, AlertOutcome.REJECTED, now)
            return _Sent()
        if alert.attempts + 1 >= MAX_ATTEMPTS:
            log.error("caregiver_alert_gave_up alert=%d", alert.alert_id)
            await self._store.finish(alert.alert_id, AlertOutcome.GIVEN_UP, now)
            return _Sent()
        retry_at = max(now + (error.retry_after or timedelta(0)), now + _backoff(alert.attempts))
        await self._store.release(alert.alert_id, retry_at)
        log.info("caregiver_alert_retry alert=%d attempt=%d", alert.alert_id, alert.attempts + 1)
        return _Sent(retry_at=retry_at)


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(15 * 2**attempts, 600))
