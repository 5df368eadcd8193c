"""Dose reminders: the dispatcher that sends what is due, and the plan changes that feed it.

The database decides what is due. One JobQueue job is armed for the next due instant (and
re-armed whenever plans change or the clock jumps), and a periodic sweep catches anything else.
Each due row is claimed in the database before its message is sent (see ``bot.storage.doses``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.jobstores.base import JobLookupError
from telegram import InlineKeyboardMarkup
from telegram.error import TelegramError
from telegram.ext import Job, JobQueue

from bot.content import Html
from bot.delivery.budget import Priority, sending_as
from bot.delivery.courier import Drop, Letter, Rules
from bot.delivery.queue import Outcome, Settled
from bot.delivery.send_errors import SendFailure
from bot.delivery.send_errors import classify as classify_send_error
from bot.domain.checkins import asks_before_increase
from bot.domain.missed import SEVERAL_MISSED, MissedAction, MissedAdvice, Record, missed_in_a_row
from bot.domain.plans import format_mg
from bot.domain.repeats import (
    FOLLOW_UP_AFTER,
    ONCE,
    REPEAT_FOR,
    next_repeat,
)
from bot.domain.safety import SAFE_GAP
from bot.services.caregivers import CaregiverAlerts
from bot.services.checkins import CheckInService
from bot.services.dose_queue import DoseDrop, DoseMessage, DoseQueue, DoseSent
from bot.services.missed import MissedDoses, past_dose
from bot.services.outgoing import Outgoing
from bot.services.plans import LATE_AFTER, PlanService
from bot.services.refills import RefillSender
from bot.services.supply_refills import SupplyRefills
from bot.storage.doses import Action, DoseStore, DueEvent, Status
from bot.views.checkins import checkin_intro, checkin_question
from bot.views.doses import (
    EarlierMissed,
    dose_buttons,
    local_hhmm,
    missed_notice,
    reminder_message,
    repeat_message,
)

log = logging.getLogger(__name__)

SWEEP_EVERY = timedelta(seconds=60)
BATCH_SIZE = 200
MAX_ATTEMPTS = 8


# What a failed send means for a dose message: a 403 stops the user's reminders; anything else
# is retried (15 s doubling to 10 min, or Telegram's retry_after; a 400 after 10 min) up to
# MAX_ATTEMPTS, as a possible repeat when it may have arrived (a 5xx, a time-out).
RULES = Rules(
    max_attempts=MAX_ATTEMPTS,
    batch_size=BATCH_SIZE,
    failures={
        **dict.fromkeys(SendFailure, Outcome.RETRY),
        SendFailure.UNREACHABLE: Outcome.UNREACHABLE,
    },
    least_wait={SendFailure.REJECTED: timedelta(minutes=10)},
)


class ReminderService:
    """The dispatcher (its passes send every queue's due rows) and the dose queue's policy."""

    name = "reminder"
    priority = Priority.REMINDER

    def __init__(
        self,
        *,
        doses: DoseStore,
        missed: MissedDoses,
        checkins: CheckInService,
        plans: PlanService,
        outgoing: Outgoing,
        job_queue: JobQueue,  # type: ignore[type-arg]
        caregiver_alerts: CaregiverAlerts | None = None,
        refills: RefillSender | None = None,
        supply_refills: SupplyRefills | None = None,
    ) -> None:
        # Tablet supply refill reminders (issue 21): at 10:00 local on their days, sent in
        # the same passes (the minute sweep starts one after 10:00).
        self._supply = supply_refills
        self._doses = doses
        # Pump refill reminders (issue 21): rows with a due instant, sent in the same passes.
        self._refills = refills
        # Caregivers' alerts are rows with a due instant too: the same passes send them.
        self._alerts = caregiver_alerts
        self._missed = missed
        self._checkins = checkins
        self._plans = plans
        self._zones = outgoing.zones
        self._languages = outgoing.languages
        self._clock = outgoing.engine.clock
        self._bot = outgoing.engine.bot
        self._job_queue = job_queue
        self._run_lock = asyncio.Lock()
        self._run_again = False
        self._wake_job: Job | None = None  # type: ignore[type-arg]
        self._sweep_job: Job | None = None  # type: ignore[type-arg]
        # Per user, in the current pass: doses passed over as missed, split by why they were
        # late: never tried (the bot itself was down) or tried and not delivered.
        self._earlier_missed: Counter[int] = Counter()
        self._earlier_missed_down: Counter[int] = Counter()
        # Reminders of this pass that also tell of earlier ones never delivered: how many.
        self._telling_undelivered: dict[int, int] = {}
        # Users with a row given up in this pass: the count their claim read may be behind.
        self._gave_up: set[int] = set()
        self._metrics = outgoing.engine.metrics
        self._courier = outgoing.engine.courier(DoseQueue(doses), self, RULES)
        self._stopping = False
        self._pass_task: asyncio.Task[object] | None = None

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        recovered = await self._doses.recover_claims(self._clock.now())
        if recovered:
            log.warning("reminder_claims_recovered count=%d", recovered)
        if self._alerts is not None and (alerts := await self._alerts.recover_claims()):
            log.warning("caregiver_alert_claims_recovered count=%d", alerts)
        if self._refills is not None and (refills := await self._refills.recover_claims()):
            log.warning("refill_reminder_claims_recovered count=%d", refills)
        self._sweep_job = self._job_queue.run_repeating(
            self._on_timer, interval=SWEEP_EVERY, first=SWEEP_EVERY, name="dose-sweep"
        )
        self._clock.subscribe(self.kick)
        self._plans.subscribe(self.wake)
        self.kick()

    def stop(self) -> None:
        """Take no new work: no more timers, and a pass in flight stops claiming rows."""
        self._stopping = True
        for job in (self._wake_job, self._sweep_job):
            _cancel(job)
        self._wake_job = self._sweep_job = None

    async def wait_stopped(self, grace_seconds: float) -> None:
        """After :meth:`stop`: let the sends in flight finish; their pass releases the rest.

        A pass still running after ``grace_seconds`` is cancelled, and what it held is
        recovered as after a crash (re-sent at the next start, marked as a repeat), so no row
        stays claimed.
        """
        try:
            async with asyncio.timeout(grace_seconds), self._run_lock:
                return
        except TimeoutError:
            pass
        task = self._pass_task
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait({task})
        recovered = await self._doses.recover_claims(self._clock.now())
        if self._alerts is not None:
            recovered += await self._alerts.recover_claims()
        log.warning("reminder_pass_cut_short grace_s=%.0f claims=%d", grace_seconds, recovered)

    def kick(self) -> None:
        """Look for due work now (plans changed, or the clock jumped)."""
        self._arm(0.0)

    def _arm(self, delay_seconds: float) -> None:
        if self._stopping:
            return
        _cancel(self._wake_job)
        self._wake_job = self._job_queue.run_once(
            self._on_timer, when=max(0.0, delay_seconds), name="dose-wakeup"
        )

    async def _on_timer(self, _context: object) -> None:
        # A timer never waits for a running pass: that pass looks again, and the job ends, so
        # a long burst does not make the scheduler skip (and warn about) the next sweep.
        await self.run_due(wait=False)

    async def has_due_work(self, within: timedelta = timedelta(0)) -> bool:
        """Is a pass sending, or a dose action due (within ``within``)? Broadcasts wait till not."""
        if self._run_lock.locked():
            return True
        next_at = await self._next_action_at()
        return next_at is not None and next_at <= self._clock.now() + within

    # ------------------------------------------------------------ dispatch

    async def run_due(self, *, wait: bool = True) -> None:
        """Send everything that is due, then arm the wake-up for the next due instant.

        A call during a pass asks that pass to look again, and (with ``wait``) waits for it.
        """
        if self._stopping:
            return
        if self._run_lock.locked():
            self._run_again = True
            if wait:
                async with self._run_lock:
                    return
            return
        async with self._run_lock:
            self._pass_task = asyncio.current_task()
            self._run_again = True
            while self._run_again and not self._stopping:
                self._run_again = False
                await self._plans.extend_due()
                retry_at = await self._courier.run(lambda: self._stopping)
                if retry_at is not None:
                    self._arm((retry_at - self._clock.now()).total_seconds())
                if self._alerts is not None and not self._stopping:
                    # A retry it asks for is a due instant in its table: _arm_next sees it.
                    await self._alerts.run_due(lambda: self._stopping)
                if self._refills is not None and not self._stopping:
                    await self._refills.run_due(lambda: self._stopping)
                if self._supply is not None and not self._stopping:
                    await self._supply.run_due(lambda: self._stopping)
            self._earlier_missed.clear()
            self._earlier_missed_down.clear()
            self._telling_undelivered.clear()
            self._gave_up.clear()
            await self._arm_next()

    async def next_due_at(self) -> datetime | None:
        """The next instant at which a pass has something to do: a reminder, follow-up or
        retry, a caregiver alert, or a waiting plan's start. The demo's time machine stops
        at each one on its way, as a real clock would pass through them."""
        found = (await self._next_action_at(), await self._plans.next_start_at())
        return min((at for at in found if at is not None), default=None)

    async def _next_action_at(self) -> datetime | None:
        found = [await self._doses.next_action_at()]
        if self._alerts is not None:
            found.append(await self._alerts.next_action_at())
        if self._refills is not None:
            found.append(await self._refills.next_action_at())
        return min((at for at in found if at is not None), default=None)

    async def _arm_next(self) -> None:
        next_at = await self._next_action_at()
        if next_at is None:
            return
        delay = (next_at - self._clock.now()).total_seconds()
        if delay < SWEEP_EVERY.total_seconds():
            self._arm(delay)

    # ------------------------------------------------------------ the policy (bot.delivery)

    def ids(self, item: DueEvent) -> str:
        return f"event={item.event.event_id}"

    def attempts(self, item: DueEvent) -> int:
        return item.event.attempts

    def recipient(self, item: DueEvent) -> int:
        # Users in parallel (the send budget paces them); one user's doses in order.
        return item.event.user_id

    async def compose(self, item: DueEvent, now: datetime) -> Letter | Drop:
        if item.action is Action.FOLLOW_UP and item.repeat_minutes != ONCE:
            return await self._compose_repeat(item, now)
        if item.action is Action.FOLLOW_UP:
            return await self._compose_follow_up(item, now)
        return await self._compose_reminder_telling_undelivered(item, now)

    async def settled(self, item: DueEvent, settled: Settled) -> None:
        event = item.event
        undelivered = self._telling_undelivered.pop(event.event_id, 0)
        if settled.outcome is Outcome.GAVE_UP:
            self._gave_up.add(event.user_id)
        if settled.outcome is Outcome.SENT:
            assert isinstance(settled.detail, DoseSent) and settled.message_id is not None
            await self._after_sent(item, settled.detail, settled.message_id, settled)
        elif settled.outcome is Outcome.UNREACHABLE:
            log.warning("user_unreachable user=%d", event.user_id)
        elif settled.error is not None:
            self._log_failure(event.user_id, settled)
        if undelivered and event.user_id not in self._earlier_missed:
            if await self._doses.delivered(event.event_id):
                await self._doses.clear_undelivered(event.user_id)
                log.info("undelivered_told user=%d count=%d", event.user_id, undelivered)
            else:  # not sent after all: the next reminder tells them
                self._earlier_missed.pop(event.user_id, None)

    def _log_failure(self, chat_id: int, settled: Settled) -> None:
        error = settled.error
        assert error is not None
        if error.kind is SendFailure.REJECTED:
            log.error("reminder_rejected chat=%d kind=%s", chat_id, error.name)
        elif error.kind is not SendFailure.RATE_LIMITED:
            # A 5xx, a time-out or a dropped connection: it may have arrived, so the retry is
            # marked as a possible repeat. Never a silent duplicate. Only a connection that was
            # never opened is retried as a first send.
            log.warning("reminder_send_error chat=%d kind=%s", chat_id, error.name)

    async def _after_sent(
        self, item: DueEvent, sent: DoseSent, message_id: int, settled: Settled
    ) -> None:
        event = item.event
        if sent.message is DoseMessage.REMINDER:
            lateness = (settled.at - event.due_at).total_seconds()
            self._metrics.reminder_delivered(lateness)
            if not event.is_maintenance and asks_before_increase(
                item.steps, event.step_number, event.day_number, event.local_time
            ):
                await self._ask_checkin(item)
            log.info(
                "reminder_sent event=%d user=%d lateness_s=%.1f repeat=%d",
                event.event_id,
                event.user_id,
                lateness,
                int(event.resend_as_repeat),
            )
        elif sent.message is DoseMessage.MISSED_NOTICE:
            log.info(
                "missed_notice_sent event=%d user=%d action=%s",
                event.event_id,
                event.user_id,
                sent.action.value if sent.action is not None else "",
            )
            self._metrics.dose_message_delivered("missed_notice")
            # A repeat's "skip it": the reminder before it loses its buttons.
            await self._retire(event.user_id, sent.retire)
        elif sent.message is DoseMessage.FOLLOW_UP:
            log.info("follow_up_sent event=%d user=%d", event.event_id, event.user_id)
            self._metrics.dose_message_delivered("follow_up")
        else:
            if settled.applied:
                await self._retire(event.user_id, event.live_message_id)
            else:
                # Answered while the repeat was on its way: the answered message stays as the
                # press edited it, and the repeat, which would offer the dose again, goes.
                await self._retire(event.user_id, message_id)
            log.info(
                "repeat_sent event=%d user=%d number=%d last=%d",
                event.event_id,
                event.user_id,
                event.repeats_sent + 1,
                int(sent.following is None),
            )
            self._metrics.dose_message_delivered("repeat")

    async def _compose_reminder_telling_undelivered(
        self, due: DueEvent, now: datetime
    ) -> Letter | Drop:
        """A reminder; if earlier ones were given up unsent, it also says those doses passed
        (the "earlier doses" line), the first place that can still say so."""
        user = due.event.user_id
        undelivered = due.undelivered
        if undelivered or user in self._gave_up:
            # The claim's count may be out of date: this user's earlier row of the same batch
            # may have been given up, or its reminder told them and cleared the count.
            undelivered = await self._doses.undelivered_count(user)
        # Already counted in this pass if an earlier dose of theirs passed silently just now.
        if undelivered and user not in self._earlier_missed:
            self._earlier_missed[user] += undelivered
        # Once settled, the line is cleared if the message got through (see settled()).
        self._telling_undelivered[due.event.event_id] = undelivered
        return await self._compose_reminder(due)

    async def _compose_reminder(self, due: DueEvent) -> Letter | Drop:
        event = due.event
        now = self._clock.now()  # after the read above: the instant the reminder is decided
        zone = self._zones.zone_for(due.timezone)
        pack = self._languages.pack(event.user_id)
        is_late = now - event.due_at > LATE_AFTER
        late = None
        if is_late or not _plainly_safe(due, now):
            # The dose-safety check (bot.domain.safety, through the missed-dose rule), exactly
            # as /missed would answer now: late (the bot was down, or a snooze), a recent
            # intake, the next dose near, or a plan replaced since the row was made.
            advice = await self._missed.advice(event.user_id, zone, now)
            if (
                advice is None
                or advice.dose is None
                or advice.dose.event_id != event.event_id
                or advice.action not in _SPEAKS
            ):
                # A later dose time has passed, the plan changed, or the dose was never
                # reminded: this one is simply missed; the later one speaks (or already did).
                # A row replaced with its plan is no dose that passed unreminded: not counted.
                if due.plan_active:
                    passed = (
                        self._earlier_missed_down if event.attempts == 0 else self._earlier_missed
                    )
                    passed[event.user_id] += 1
                log.info("dose_missed_silently event=%d user=%d", event.event_id, event.user_id)
                return Drop(DoseDrop.MISSED)
            if advice.action is not MissedAction.TAKE_NOW:
                return self._compose_missed_notice(due, advice, zone, now)
            late = advice if is_late else None
        first_send = event.followup_message_id is None and event.status is not Status.SNOOZED
        # "Once" asks again only after the first reminder; repeats follow every reminder of
        # the dose, a snoozed one too, until it is answered (or the run's end).
        if due.repeat_minutes != ONCE:
            ask_again = next_repeat(event.due_at, now, due.repeat_minutes)
        else:
            ask_again = now + FOLLOW_UP_AFTER if first_send else None
        text = reminder_message(
            pack,
            due,
            zone,
            now,
            late=late,
            follow_up_at=ask_again,
            earlier=self._take_earlier(event.user_id),
            several=await self._several_missed_warning(due, now),
        )
        keyboard = dose_buttons(pack, event.event_id, simple=due.simple)
        return Letter(event.user_id, text, keyboard, detail=DoseSent(DoseMessage.REMINDER))

    def _compose_missed_notice(
        self,
        due: DueEvent,
        advice: MissedAdvice,
        zone: ZoneInfo,
        now: datetime,
        retire: int | None = None,
    ) -> Letter:
        """The dose must not be taken now (the next one is near, or a dose was recorded as
        taken under 2 hours ago): say so, without buttons, and record it as missed."""
        event = due.event
        pack = self._languages.pack(event.user_id)
        text = missed_notice(pack, due, advice, zone, now, self._take_earlier(event.user_id))
        sent = DoseSent(DoseMessage.MISSED_NOTICE, action=advice.action, retire=retire)
        return Letter(event.user_id, text, detail=sent)

    async def _ask_checkin(self, due: DueEvent) -> None:
        """The evening before an increase: how is the patient doing at this step? Best effort:
        a check-in that cannot be delivered is simply not asked (the reminder was)."""
        zone = self._zones.zone_for(due.timezone)
        started = await self._checkins.start(
            due.event.user_id, zone, step_number=due.event.step_number, before_increase=True
        )
        if started is None:
            return
        checkin, stored = started
        if stored.plan_id != due.event.plan_id:
            return
        pack = self._languages.pack(due.event.user_id)
        text, markup = checkin_question(pack, checkin, checkin_intro(pack, checkin, stored.plan))
        delivered = await self._send_best_effort(due.event.user_id, text, markup)
        log.info(
            "checkin_sent checkin=%d user=%d delivered=%d",
            checkin.checkin_id,
            due.event.user_id,
            int(delivered),
        )

    async def _several_missed_warning(self, due: DueEvent, now: datetime) -> Html | None:
        """Once per run of missed doses: on the reminder after the third in a row.

        A run that ended with a Skip press was already warned about on that press.
        """
        if due.event.status is Status.SNOOZED:
            return None
        before = [
            past_dose(item)
            for item in due.recent  # read with the claim (SEVERAL_MISSED_LOOKBACK of them)
            if item.event_id != due.event.event_id and item.due_at < due.event.due_at
        ]
        if missed_in_a_row(before) != SEVERAL_MISSED:
            return None
        latest = max(before, key=lambda item: item.due)
        if latest.record is Record.SKIPPED:
            return None
        pack = self._languages.pack(due.event.user_id)
        return pack.text(
            "missed.several", count=SEVERAL_MISSED, emergency_line=pack.emergency_line(due.region)
        )

    def _take_earlier(self, user_id: int) -> EarlierMissed:
        """The doses passed over for this user so far in this pass; said once, then cleared."""
        return EarlierMissed(
            down=self._earlier_missed_down.pop(user_id, 0),
            unreached=self._earlier_missed.pop(user_id, 0),
        )

    async def _compose_follow_up(self, due: DueEvent, now: datetime) -> Letter | Drop:
        event = due.event
        planned = (event.sent_at or now) + FOLLOW_UP_AFTER
        if now - planned > LATE_AFTER:
            # Long overdue (the bot was down): a stale "did you take it?" helps nobody.
            log.info("follow_up_dropped event=%d user=%d", event.event_id, event.user_id)
            return Drop(DoseDrop.FOLLOW_UP_DROPPED)
        zone = self._zones.zone_for(due.timezone)
        pack = self._languages.pack(event.user_id)
        # A follow-up offers the dose again: the same check as any reminder.
        advice = await self._missed.advice(event.user_id, zone, now)
        if (
            advice is not None
            and advice.dose is not None
            and advice.dose.event_id == (event.event_id)
        ):
            if advice.action is MissedAction.SKIP:
                return self._compose_missed_notice(due, advice, zone, now)
            speaks = advice.action is MissedAction.TAKE_NOW
        else:
            speaks = False
        if not speaks:
            # Answered from elsewhere, a dose recorded as taken since, a later dose time, or
            # a new plan: asking "did you take it?" now could invite a second dose.
            log.info("follow_up_dropped_unsafe event=%d user=%d", event.event_id, event.user_id)
            return Drop(DoseDrop.FOLLOW_UP_DROPPED)
        text = pack.text(
            "simple.follow_up" if due.simple else "reminder.follow_up",
            mg=format_mg(event.mg),
            due=local_hhmm(event.due_at, zone),
        )
        keyboard = dose_buttons(pack, event.event_id, simple=due.simple)
        return Letter(event.user_id, text, keyboard, detail=DoseSent(DoseMessage.FOLLOW_UP))

    async def _compose_repeat(self, due: DueEvent, now: datetime) -> Letter | Drop:
        """The next repeat of an unanswered reminder (the patient chose repeats).

        A repeat is sent as a new message and the one before it is deleted: a new message
        notifies (the point of a repeat is to be noticed), an edit of the old one would not,
        and deleting it leaves one live reminder with buttons, so the chat does not fill with
        copies. (A message the bot cannot delete, or already gone, loses its buttons instead.)
        """
        event = due.event
        if now - event.due_at > REPEAT_FOR:
            # Overdue past the run's end (the bot was down): the run is over, quietly.
            log.info("repeat_dropped_late event=%d user=%d", event.event_id, event.user_id)
            return Drop(DoseDrop.FOLLOW_UP_DROPPED)
        zone = self._zones.zone_for(due.timezone)
        pack = self._languages.pack(event.user_id)
        # A repeat offers the dose again: the one check, exactly as for any reminder.
        advice = await self._missed.advice(event.user_id, zone, now)
        action = (
            advice.action
            if advice is not None
            and advice.dose is not None
            and advice.dose.event_id == event.event_id
            else None
        )
        if action is MissedAction.SKIP:
            # The next dose is under 2 hours away: the last repeat says to skip this one
            # (fact sheet 2.6), the dose is missed, and its reminder loses its buttons.
            assert advice is not None
            return self._compose_missed_notice(due, advice, zone, now, event.live_message_id)
        if action is not MissedAction.TAKE_NOW:
            # Answered from elsewhere, a dose recorded as taken since, a later dose time or
            # a new plan: a repeat now could invite a second dose. The run ends.
            log.info("repeat_dropped_unsafe event=%d user=%d", event.event_id, event.user_id)
            return Drop(DoseDrop.FOLLOW_UP_DROPPED)
        following = next_repeat(event.due_at, now, due.repeat_minutes)
        text = repeat_message(pack, due, zone, following)
        sent = DoseSent(DoseMessage.REPEAT, following=following)
        return Letter(event.user_id, text, dose_buttons(pack, event.event_id), detail=sent)

    async def _retire(self, chat_id: int, message_id: int | None) -> None:
        """Take a reminder's buttons out of the chat: delete it, else remove its keyboard.
        Best effort: a reminder the patient deleted, or already without buttons, is fine."""
        if message_id is None:
            return
        with sending_as(Priority.REMINDER):
            try:
                await self._bot.delete_message(chat_id, message_id)
                return
            except TelegramError as error:
                if "not found" in str(error).lower():
                    return  # the patient deleted it: nothing left to take back
                log.info("reminder_delete_failed chat=%d", chat_id)
            with contextlib.suppress(TelegramError):
                await self._bot.edit_message_reply_markup(chat_id, message_id, reply_markup=None)

    async def _send_best_effort(
        self, chat_id: int, text: str, markup: InlineKeyboardMarkup | None
    ) -> bool:
        """A dose message that is no row's own (the check-in before an increase)."""
        try:
            with sending_as(Priority.REMINDER):
                await self._bot.send_message(chat_id, text, reply_markup=markup)
        except TelegramError as raised:
            error = classify_send_error(raised)
            self._metrics.send_failed(error.name)
            log.warning("reminder_send_error chat=%d kind=%s", chat_id, error.name)
            return False
        return True

    def wake(self, instant: datetime | None) -> None:
        """A plan change or an answer made a dose due at ``instant`` (None: now)."""
        if instant is None:
            self.kick()
            return
        delay = (instant - self._clock.now()).total_seconds()
        if delay < SWEEP_EVERY.total_seconds():
            self._arm(delay)


# What a reminder row may turn into when the check does not offer it: a notice that says
# why not. Any other outcome (superseded, never reminded) passes silently.
_SPEAKS = frozenset({MissedAction.TAKE_NOW, MissedAction.SKIP, MissedAction.RECENTLY_TAKEN})


def _plainly_safe(due: DueEvent, now: datetime) -> bool:
    """The quick path of a burst: an on-time first reminder of the active plan, with no
    intake and no other dose row within the safety window, is one the check would offer
    (bot.domain.safety's window is never wider than SAFE_GAP). Anything else asks the check."""
    event = due.event
    return (
        event.status is Status.SCHEDULED
        and due.plan_active
        and now - event.due_at <= LATE_AFTER
        and (due.last_intake_at is None or now - due.last_intake_at >= SAFE_GAP)
        and (due.next_due_at is None or due.next_due_at - now >= SAFE_GAP)
    )


def _cancel(job: Job | None) -> None:  # type: ignore[type-arg]
    """Remove a job unless it already ran (a one-off job removes itself when it runs)."""
    if job is None or job.removed:
        return
    with contextlib.suppress(JobLookupError):
        job.schedule_removal()
