"""Words for plans and reminders, assembled from the content pack (no text lives here)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup

from bot.content import ContentPack, Html
from bot.delivery.letters import Buttons
from bot.domain.missed import MissedAction, MissedAdvice, Record
from bot.domain.plans import Plan, Step, format_mg, step_change
from bot.domain.redflags import Category
from bot.domain.safety import Check
from bot.domain.tablets import format_tablets, tablets_for
from bot.domain.travel import Choice, TravelZone
from bot.storage.doses import DoseEvent, DueEvent, Status
from bot.views.callbacks import (
    DOSE_ANSWERS,
    DoseButton,
    DoseMoreButton,
    SimpleModeButton,
    UndoButton,
)


class NextDose(Protocol):
    """What the views read of the next dose (``bot.services.missed`` makes it): declared here,
    so the views depend on no service."""

    @property
    def event(self) -> DoseEvent: ...
    @property
    def check(self) -> Check: ...
    @property
    def after(self) -> DoseEvent | None: ...


def wall(instant: datetime, zone: ZoneInfo) -> datetime:
    """The clock the patient reads: a travelling patient's local clock, not the dose clock
    their travel zone runs on (bot.domain.travel)."""
    if isinstance(zone, TravelZone):
        return zone.wall(instant)
    return instant.astimezone(zone)


def local_hhmm(instant: datetime, zone: ZoneInfo) -> str:
    return wall(instant, zone).strftime("%H:%M")


def local_when(
    pack: ContentPack, instant: datetime, zone: ZoneInfo, today: date | None = None
) -> str:
    """``08:00`` today, else ``Tue 12 Jan 08:00`` in the pack's language: a time not from today
    carries its date. A patient keeping home times abroad reads both clocks."""
    local = wall(instant, zone)
    if today is not None and local.date() == today:
        text = local.strftime("%H:%M")
    else:
        text = pack.day_time(local)
    return both_clocks(pack, instant, zone, text)


def both_clocks(pack: ContentPack, instant: datetime, zone: ZoneInfo, local: str) -> str:
    """``14:00 local (08:00 home)`` while the patient keeps home times, else ``local``."""
    if not isinstance(zone, TravelZone) or zone.choice is not Choice.HOME:
        return local
    home = zone.home_wall(instant).strftime("%H:%M")
    if home == local[-5:]:
        return local
    return str(pack.text("travel.both_clocks", local=local, home=home))


def missed_advice_text(
    pack: ContentPack,
    advice: MissedAdvice,
    mg: str,
    zone: ZoneInfo,
    today: date,
    emergency_line: str,
) -> Html:
    """The words for a missed-dose decision; times not from today carry their date."""
    action = advice.action
    if action is MissedAction.NOTHING_DUE or advice.dose is None:
        parts = [pack.text("missed.nothing_due")]
        if advice.next_due is not None:
            parts.append(
                pack.text("missed.next", next=local_when(pack, advice.next_due, zone, today))
            )
        return Html("\n".join(parts))
    due = local_when(pack, advice.dose.due, zone, today)
    parts = []
    if action is MissedAction.NOTHING_OPEN:
        record = "taken" if advice.dose.record is Record.TAKEN else "skipped"
        parts.append(
            pack.text(
                "missed.nothing_open", mg=mg, due=due, record=pack.text(f"missed.record_{record}")
            )
        )
    elif action is MissedAction.TAKE_NOW:
        parts.append(pack.text("missed.take_now", mg=mg, due=due))
    elif action is MissedAction.SKIP:
        parts.append(pack.text("missed.skip", mg=mg, due=due))
    elif action is MissedAction.RECENTLY_TAKEN:
        taken = advice.taken_at or advice.dose.due
        parts.append(
            pack.text(
                "missed.recently_taken", mg=mg, due=due, taken=local_when(pack, taken, zone, today)
            )
        )
    elif action is MissedAction.NOT_REMINDED:
        parts.append(pack.text("missed.not_reminded", mg=mg, due=due))
        parts.append(Html(pack.render_topic("missed")))
    elif not advice.dose.current:
        # Another plan's dose: its amount is not named (it is not the patient's plan now).
        parts.append(pack.text("missed.superseded_plan", due=due))
    else:
        parts.append(pack.text("missed.superseded", mg=mg, due=due))
    if advice.superseded and action is not MissedAction.NOTHING_OPEN:
        parts.append(pack.text("missed.earlier", count=len(advice.superseded)))
    if advice.next_due is not None and action is not MissedAction.NOTHING_OPEN:
        parts.append(pack.text("missed.next", next=local_when(pack, advice.next_due, zone, today)))
    if action is not MissedAction.NOTHING_OPEN:
        parts.append(pack.text("missed.never_double"))
    text = "\n".join(parts)
    if advice.several_missed:
        several = pack.text(
            "missed.several", count=advice.missed_in_a_row, emergency_line=emergency_line
        )
        text = f"{text}\n\n{several}"
    return Html(text)


def next_dose_text(
    pack: ContentPack,
    key: str,
    placeholder: str,
    coming: NextDose | None,
    zone: ZoneInfo,
    today: date,
    **params: object,
) -> Html:
    """``key`` naming the next dose the patient will be reminded to take, after the
    dose-safety check: a dose time that comes too soon after a recorded intake is named as
    one to skip, and the dose after it is the one ``key`` names (``key_no_dose`` if none)."""
    if coming is None:
        return pack.text(f"{key}_no_dose", **params)
    if coming.check.offers:
        when = local_when(pack, coming.event.due_at, zone, today)
        return pack.text(key, **{placeholder: when}, **params)
    lines = []
    if coming.after is None:
        lines.append(pack.text(f"{key}_no_dose", **params))
    else:
        when = local_when(pack, coming.after.due_at, zone, today)
        lines.append(pack.text(key, **{placeholder: when}, **params))
    lines.append(skip_line(pack, coming, zone, today))
    return Html("\n\n".join(lines))


def skip_line(pack: ContentPack, coming: NextDose, zone: ZoneInfo, today: date) -> Html:
    """Why the next dose time is one to skip (a dose was recorded as taken too recently)."""
    taken = coming.check.taken_at
    at = local_when(pack, coming.event.due_at, zone, today)
    if taken is None:
        return pack.text("next_dose.skip_next_near", time=at)
    return pack.text("next_dose.skip", time=at, taken=local_when(pack, taken, zone, today))


def _dose_labels(pack: ContentPack) -> dict[str, str]:
    return {
        "taken": pack.text("reminder.button_taken"),
        "skip": pack.text("reminder.button_skip"),
        "snooze": pack.text("reminder.button_snooze"),
    }


def dose_buttons(pack: ContentPack, event_id: int, *, simple: bool = False) -> Buttons:
    """Taken / Skip / Snooze in one row; in simple mode one large Taken button (a row of its
    own fills the width) and "More" under it, which shows Skip and Snooze."""
    if simple:
        return Buttons(
            (
                ((pack.text("simple.button_taken"), DoseButton(event_id, "taken").pack()),),
                ((pack.text("simple.button_more"), DoseMoreButton(event_id).pack()),),
            )
        )
    labels = _dose_labels(pack)
    return Buttons(
        (tuple((labels[answer], DoseButton(event_id, answer).pack()) for answer in DOSE_ANSWERS),)
    )


def dose_keyboard(
    pack: ContentPack, event_id: int, *, simple: bool = False
) -> InlineKeyboardMarkup:
    """The same buttons, for a handler that puts them back on a message."""
    return dose_buttons(pack, event_id, simple=simple).markup()


def more_keyboard(pack: ContentPack, event_id: int) -> InlineKeyboardMarkup:
    """Simple mode after "More": the large Taken button stays first, Skip and Snooze below."""
    labels = _dose_labels(pack)
    taken = InlineKeyboardButton(
        pack.text("simple.button_taken"), callback_data=DoseButton(event_id, "taken").pack()
    )
    rest = [
        InlineKeyboardButton(labels[answer], callback_data=DoseButton(event_id, answer).pack())
        for answer in ("skip", "snooze")
    ]
    return InlineKeyboardMarkup([[taken], rest])


def undo_keyboard(pack: ContentPack, event_id: int, answer_id: int) -> InlineKeyboardMarkup:
    """Under a confirmed Taken or Skip: Undo, for a mis-tap (bot.domain.undo.UNDO_WINDOW)."""
    button = InlineKeyboardButton(
        pack.text("undo.button"), callback_data=UndoButton(event_id, answer_id).pack()
    )
    return InlineKeyboardMarkup([[button]])


def simple_mode_keyboard(pack: ContentPack, on: bool) -> InlineKeyboardMarkup:
    """The one toggle: turn simple mode off when it is on, on when it is off."""
    choice = "off" if on else "on"
    button = InlineKeyboardButton(
        pack.text(f"simple.button_{choice}"), callback_data=SimpleModeButton(choice).pack()
    )
    return InlineKeyboardMarkup([[button]])


def dose_time(event: DoseEvent, zone: ZoneInfo) -> str:
    """The local time the dose is actually due: one time everywhere, also when a clock change
    moved it (a 02:30 dose on the night the clocks skip 02:00-03:00 is due at 03:00)."""
    return local_hhmm(event.due_at, zone)


def dose_line(pack: ContentPack, due: DueEvent, zone: ZoneInfo) -> Html:
    event = due.event
    mg = format_mg(event.mg)
    at = both_clocks(pack, event.due_at, zone, dose_time(event, zone))
    if event.is_maintenance:
        line = pack.text("reminder.dose_maintenance", mg=mg, time=at)
    else:
        key = "reminder.dose_taper" if due.plan_kind == "taper" else "reminder.dose"
        line = pack.text(
            key,
            mg=mg,
            day=event.day_number,
            step=event.step_number,
            steps=event.step_count,
            time=at,
        )
    planned = event.local_time.strftime("%H:%M")
    if isinstance(zone, TravelZone):
        if zone.choice is Choice.GRADUAL and zone.ends is not None and event.due_at < zone.ends:
            moving = pack.text("travel.moving", planned=planned, time=at)
            line = Html(f"{line}\n{moving}")
    elif planned != at:
        moved = pack.text("reminder.moved_by_clock_change", planned=planned, time=at)
        line = Html(f"{line}\n{moved}")
    return line


def _frequency(pack: ContentPack, count: int) -> Html:
    if count <= 4:
        return pack.text(f"plan.freq_{count}")
    return pack.text("plan.freq_n", count=count)


def doses_text(pack: ContentPack, step: Step) -> Html:
    """``5 mg three times a day (08:00, 14:00, 20:00)``, or ``5 mg at 08:00, 10 mg at 22:00``."""
    times = [at.strftime("%H:%M") for at in step.times]
    uniform = step.uniform_mg
    if uniform is not None and len(times) > 1:
        return pack.text(
            "plan.doses_uniform",
            mg=format_mg(uniform),
            freq=_frequency(pack, len(times)),
            times=", ".join(times),
        )
    return Html(
        ", ".join(
            pack.text("plan.dose_at", mg=format_mg(dose.mg), time=dose.at.strftime("%H:%M"))
            for dose in step.doses
        )
    )


def tablets_line(pack: ContentPack, due: DueEvent) -> Html | None:
    if due.tablet_mg is None:
        return None
    count = tablets_for(due.event.mg, due.tablet_mg, due.tablet_scored)
    strength = format_mg(due.tablet_mg)
    if count is None:
        return pack.text("reminder.tablets_impossible", strength=strength)
    return pack.text("reminder.tablets", count=format_tablets(count), strength=strength)


def step_notice(pack: ContentPack, due: DueEvent) -> Html | None:
    """Step-change and end-of-plan lines, on the doses where they apply."""
    event = due.event
    emergency = pack.emergency_line(due.region)
    steps = due.steps
    number = min(event.step_number, len(steps))
    step = steps[number - 1]
    doses = doses_text(pack, step)
    daily = format_mg(step.daily_mg)
    lines: list[str] = []
    if event.is_step_start and number > 1:
        # Up or down by the doses themselves, whatever the plan is called: a custom plan can
        # step down too, and a step down always carries the withdrawal watch.
        change = step_change(steps[number - 2], step)
        if change.direction == "down":
            key = "reminder.step_down"
            lines.append(pack.text(key, doses=doses, daily=daily, emergency_line=emergency))
        elif change.direction == "up":
            lines.append(pack.text("reminder.step_up", doses=doses, daily=daily))
        else:
            lines.append(pack.text("reminder.step_same", doses=doses, daily=daily))
        if change.added:
            added = ", ".join(at.strftime("%H:%M") for at in change.added)
            lines.append(pack.text("reminder.time_added", times=added))
        if change.dropped:
            dropped = ", ".join(at.strftime("%H:%M") for at in change.dropped)
            lines.append(pack.text("reminder.time_dropped", times=dropped))
    if event.is_last_step_dose:
        if due.plan_kind != "taper":
            lines.append(pack.text("reminder.titration_end", doses=doses))
        elif due.plan_ends:
            lines.append(pack.text("reminder.taper_end", emergency_line=emergency))
        else:
            lines.append(pack.text("reminder.taper_hold", doses=doses))
    return Html("\n\n".join(lines)) if lines else None


def step_dates(pack: ContentPack, start: date, days: int, today: date) -> Html:
    """``12 to 14 January (3 days)`` (the year only when it is not this year); a one-day
    step is one day."""
    if days == 1:
        return pack.text("plan.dates_one", day=pack.long_date(start, today))
    first, last = pack.date_range(start, start + timedelta(days=days - 1), today)
    return pack.text("plan.dates_range", start=first, end=last, days=days)


def plan_summary(
    pack: ContentPack,
    plan: Plan,
    zone: ZoneInfo,
    today: date,
    *,
    high_dose_confirmed: bool = False,
) -> Html:
    """The plan step by step; ``today`` (in the patient's zone) decides which dates need
    their year."""
    lines = [pack.text("plan.header", kind=pack.text(f"plan.kind_{plan.kind}"), timezone=zone.key)]
    day = plan.start
    for number, step in enumerate(plan.steps, start=1):
        lines.append(
            pack.text(
                "plan.step",
                step=number,
                dates=step_dates(pack, day, step.days, today),
                doses=doses_text(pack, step),
                daily=format_mg(step.daily_mg),
            )
        )
        day += timedelta(days=step.days)
    last = plan.steps[-1]
    if plan.ends_after_last_step:
        lines.append(
            pack.text("plan.taper_stops", end=pack.long_date(day - timedelta(days=1), today))
        )
    else:
        lines.append(
            pack.text(
                "plan.maintenance",
                start=pack.long_date(day, today),
                doses=doses_text(pack, last),
                daily=format_mg(last.daily_mg),
            )
        )
    if high_dose_confirmed:
        lines.append(pack.text("plan.high_dose_note"))
    return Html("\n".join(lines))


def today_view(
    pack: ContentPack, events: list[DoseEvent], day: date, zone: ZoneInfo | None = None
) -> Html:
    """The plan day's doses by their planned times; on a trip, by the local clock (and the
    home clock beside it while keeping home times)."""
    lines = [pack.text("today.header", date=pack.long_date(day, day))]
    if not events:
        lines.append(pack.text("today.empty"))
    for event in events:
        at = event.local_time.strftime("%H:%M")
        if isinstance(zone, TravelZone):
            at = both_clocks(pack, event.due_at, zone, local_hhmm(event.due_at, zone))
        lines.append(
            pack.text(
                "today.line",
                time=at,
                mg=format_mg(event.mg),
                status=pack.text(f"today.status_{event.status.value}"),
            )
        )
    return Html("\n".join(lines))


HELP_BUTTON_MARK = "🆘"  # every language's help-button label starts with it


def help_keyboard(pack: ContentPack) -> ReplyKeyboardMarkup:
    """The one-button reply keyboard under the message field: "🆘 Help now". Telegram keeps it
    until a message removes it (none does); ``is_persistent`` keeps it shown even when the
    patient's app would hide it.

    A message with inline buttons cannot carry it, so it rides on the plain ones: the end of
    onboarding (``onboarding.done``), "Not now" (``onboarding.declined``), a time zone, region
    or language set (the language's own label), the welcome back of /start (its settings
    buttons follow in their own message), /help, /emergency, every emergency answer, the
    help button's own answer and the reply to thanks. Not on the welcome, the time-zone and
    region questions, or anything else with inline buttons."""
    return ReplyKeyboardMarkup(
        [[KeyboardButton(pack.text("emergency.button"))]],
        resize_keyboard=True,
        is_persistent=True,
    )


def emergency_reply(
    pack: ContentPack, categories: Collection[Category], region: str | None
) -> Html:
    """The red-flag answer: the emergency number first, then the region's other lines;
    ``categories`` are the red flags found (self-harm has its own words)."""
    emergency = pack.emergency_line(region)
    more = [pack.text("redflag.more_help", line=line) for line in pack.urgent_help_lines(region)]
    if Category.SELF_HARM in categories:
        lines = [pack.text("redflag.self_harm", emergency_line=emergency)]
        crisis = pack.crisis_line(region)
        if crisis is not None:
            lines.append(pack.text("redflag.crisis", line=crisis))
        lines.append(pack.text("redflag.self_harm_more"))
        if set(categories) - {Category.SELF_HARM}:
            lines.extend([*more, pack.text("redflag.advice")])
        return Html("\n".join(lines))
    return Html(
        "\n".join(
            [
                pack.text("redflag.first", emergency_line=emergency),
                *more,
                pack.text("redflag.advice"),
            ]
        )
    )


@dataclass(frozen=True)
class EarlierMissed:
    """Doses passed over before this message: while the bot was down, or undelivered."""

    down: int = 0
    unreached: int = 0

    def lines(self, pack: ContentPack) -> list[Html]:
        lines = []
        if self.down:
            lines.append(pack.text("reminder.earlier_missed_down", count=self.down))
        if self.unreached:
            lines.append(pack.text("reminder.earlier_missed", count=self.unreached))
        return lines


def _repeat_warning(pack: ContentPack, event: DoseEvent) -> list[str]:
    """The first part of a message an earlier try of which may have arrived: "if you already
    took this dose, do not take it again"."""
    return [pack.text("reminder.repeat")] if event.resend_as_repeat else []


def _with_earlier(
    pack: ContentPack, parts: list[str], earlier: EarlierMissed, several: Html | None = None
) -> Html:
    """How a message about a dose ends: the doses passed over before it, and the notice of
    several missed in a row."""
    parts.extend(earlier.lines(pack))
    if several is not None:
        parts.append(several)
    return Html("\n\n".join(parts))


def reminder_message(
    pack: ContentPack,
    due: DueEvent,
    zone: ZoneInfo,
    now: datetime,
    *,
    late: MissedAdvice | None,
    follow_up_at: datetime | None,
    earlier: EarlierMissed,
    several: Html | None,
) -> Html:
    """A dose reminder: the dose, tablets, step notices, and what is late, snoozed or missed."""
    event = due.event
    today = now.astimezone(zone).date()
    parts = _repeat_warning(pack, event)
    if due.simple:
        return _simple_reminder(pack, due, zone, today, parts, late, earlier, several)
    body = [dose_line(pack, due, zone)]
    tablets = tablets_line(pack, due)
    if tablets:
        body.append(tablets)
    parts.append("\n".join(body))
    notice = step_notice(pack, due)
    if notice:
        parts.append(notice)
    due_text = local_when(pack, event.due_at, zone, today)
    if event.status is Status.SNOOZED:
        parts.append(pack.text("reminder.snoozed", due=due_text))
    elif late is not None:
        if late.next_due is None:
            parts.append(pack.text("reminder.late_no_next", due=due_text))
        else:
            next_text = local_when(pack, late.next_due, zone, today)
            parts.append(pack.text("reminder.late", due=due_text, next=next_text))
    if follow_up_at is not None:
        parts.append(pack.text("reminder.follow_up_at", time=local_hhmm(follow_up_at, zone)))
    return _with_earlier(pack, parts, earlier, several)


def _simple_reminder(
    pack: ContentPack,
    due: DueEvent,
    zone: ZoneInfo,
    today: date,
    parts: list[str],
    late: MissedAdvice | None,
    earlier: EarlierMissed,
    several: Html | None,
) -> Html:
    """Simple mode: "💊 10 mg now", and only what changes what to do: a repeat ("if you
    already took it, do not take it again", already in ``parts``), a late dose ("if you have
    not taken it yet"), a step change, doses passed over, several missed in a row."""
    event = due.event
    line = pack.text("simple.dose", mg=format_mg(event.mg))
    tablets = tablets_line(pack, due)
    parts.append(f"{line}\n{tablets}" if tablets else line)
    if late is not None:
        parts.append(pack.text("simple.late", due=local_when(pack, event.due_at, zone, today)))
    notice = step_notice(pack, due)
    if notice:
        parts.append(notice)
    return _with_earlier(pack, parts, earlier, several)


def missed_notice(
    pack: ContentPack,
    due: DueEvent,
    advice: MissedAdvice,
    zone: ZoneInfo,
    now: datetime,
    earlier: EarlierMissed,
) -> Html:
    """A late dose that must not be taken now (skip, or recently taken): no buttons."""
    event = due.event
    today = now.astimezone(zone).date()
    parts = _repeat_warning(pack, event)
    if advice.action is MissedAction.SKIP and advice.next_due is not None:
        parts.append(
            pack.text(
                "missed.notice",
                mg=format_mg(event.mg),
                due=local_when(pack, event.due_at, zone, today),
                next=local_when(pack, advice.next_due, zone, today),
            )
        )
    else:
        emergency = pack.emergency_line(due.region)
        parts.append(missed_advice_text(pack, advice, format_mg(event.mg), zone, today, emergency))
    return _with_earlier(pack, parts, earlier)


def repeat_message(
    pack: ContentPack, due: DueEvent, zone: ZoneInfo, following: datetime | None
) -> Html:
    """A repeat of an unanswered reminder: the dose, its time, and when the next repeat comes
    (``following``; None: this is the last one). Sent only when the dose-safety check offers
    the dose now."""
    event = due.event
    parts = _repeat_warning(pack, event)
    mg = format_mg(event.mg)
    at = dose_time(event, zone)
    if following is None:
        parts.append(pack.text("repeats.last", mg=mg, due=at))
    else:
        parts.append(pack.text("repeats.again", mg=mg, due=at, time=local_hhmm(following, zone)))
    return Html("\n\n".join(parts))
