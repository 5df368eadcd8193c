"""The guided /schedule: each button press is one step of a table (``STEPS``), so a step's
rule lives in one small function. Two paths (drawn in docs/dialogues.md):

- **standard**: start (today / tomorrow) -> dose times (a preset) -> target -> the summary;
- **doses** ("different doses at different times"): start -> the dose times of the whole plan
  (a step may leave some out) -> the mg at each time -> the step's days -> another step or
  done (a plan whose steps only go down asks whether it ends at zero) -> the summary.

The answers so far wait in the session (``context.session.schedule_guide`` / ``dose_guide``);
a press that does not fit them (after a restart, or an old message's) answers "expired".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from itertools import pairwise

from telegram import InlineKeyboardMarkup, Update

from bot.content import ContentPack, Html
from bot.context import BotContext
from bot.domain.plans import (
    MAX_STEPS,
    STANDARD_STEP_MG,
    Plan,
    PlanError,
    PlanKind,
    format_mg,
    parse_standard_command,
    parse_start,
)
from bot.handlers.common import chunked, consented_user, drop_buttons, keyboard, reply
from bot.handlers.routes import Router
from bot.handlers.schedule import offer_plan, plan_error_text
from bot.session import DoseGuide, ScheduleGuide
from bot.views.callbacks import ScheduleButton
from bot.views.doses import doses_text

routes = Router("schedule_guide")

TIME_PRESETS = ("08:00,14:00,20:00", "07:00,13:00,19:00", "09:00,15:00,21:00", "08:00,16:00,23:00")
DOSE_TIME_PRESETS = (
    "22:00",
    "08:00,22:00",
    "08:00,14:00,22:00",
    "08:00,14:00,20:00",
    "08:00,12:00,16:00,20:00",
)
DOSE_MG_CHOICES = ("2.5", "5", "7.5", "10", "15", "20")
STEP_DAY_CHOICES = (1, 2, 3, 4, 5, 7, 10, 14)
_STARTS = ("today", "tomorrow")

# A step: (update, context, the button's value) -> False when the press does not fit the
# answers so far (then the guide says it has expired). The presser has consented.
Step = Callable[[Update, BotContext, str], Awaitable[bool]]


@routes.callback(ScheduleButton.pattern())
async def guide_pressed(update: Update, context: BotContext) -> None:
    query = context.query
    user = await consented_user(update, context)
    await query.answer()
    if user is None:
        return
    button = ScheduleButton.unpack(query.data)
    await drop_buttons(query)
    step = STEPS.get(button.step) if button else None
    if step is None or button is None or not await step(update, context, button.value):
        await reply(update, context.pack.text("schedule.expired"))


# ---------------------------------------------------------------- the first choice


async def _custom(update: Update, context: BotContext, value: str) -> bool:
    await reply(update, context.pack.text("schedule.custom_help"))
    return True


async def _standard(update: Update, context: BotContext, value: str) -> bool:
    context.session.schedule_guide = ScheduleGuide()
    await reply(
        update, context.pack.text("schedule.ask_start"), _start_keyboard(context.pack, "start")
    )
    return True


async def _doses(update: Update, context: BotContext, value: str) -> bool:
    await reply(
        update, context.pack.text("schedule.ask_start"), _start_keyboard(context.pack, "dstart")
    )
    return True


# ---------------------------------------------------------------- standard


async def _start(update: Update, context: BotContext, value: str) -> bool:
    if value not in _STARTS:
        return False
    context.session.schedule_guide = ScheduleGuide(start=value)
    markup = _presets_keyboard("times", {preset: preset for preset in TIME_PRESETS})
    await reply(update, context.pack.text("schedule.ask_times"), markup)
    return True


async def _times(update: Update, context: BotContext, value: str) -> bool:
    guide = context.session.schedule_guide
    if value not in TIME_PRESETS or guide is None or guide.start is None:
        return False
    context.session.schedule_guide = ScheduleGuide(guide.start, value)
    pack = context.pack
    targets = [
        (
            pack.text("schedule.target_button", mg=format_mg(mg)),
            ScheduleButton("target", str(mg)).pack(),
        )
        for mg in STANDARD_STEP_MG
    ]
    await reply(update, pack.text("schedule.ask_target"), keyboard(chunked(targets, 4)))
    return True


async def _target(update: Update, context: BotContext, value: str) -> bool:
    guide = context.session.schedule_guide
    if not value or guide is None or guide.start is None or guide.times is None:
        return False
    try:
        plan = parse_standard_command([guide.start, guide.times, f"target={value}"], context.today)
    except PlanError as error:
        await reply(update, plan_error_text(context.pack, error, usage="schedule.usage"))
        return True
    context.session.schedule_guide = None
    await offer_plan(update, context, plan)
    return True


# ---------------------------------------------------------------- doses per time


async def _dose_start(update: Update, context: BotContext, value: str) -> bool:
    if value not in _STARTS:
        return False
    context.session.dose_guide = DoseGuide(start=value)
    markup = _presets_keyboard(
        "dtimes", {str(index): preset for index, preset in enumerate(DOSE_TIME_PRESETS)}
    )
    await reply(update, context.pack.text("schedule.ask_dose_times"), markup)
    return True


async def _dose_times(update: Update, context: BotContext, value: str) -> bool:
    guide = context.session.dose_guide
    if guide is None or not value.isdigit() or int(value) >= len(DOSE_TIME_PRESETS):
        return False
    guide.times = DOSE_TIME_PRESETS[int(value)].split(",")
    await _ask_dose_mg(update, context, guide)
    return True


async def _dose_mg(update: Update, context: BotContext, value: str) -> bool:
    guide = context.session.dose_guide
    if guide is None or not (value == "0" or value in DOSE_MG_CHOICES):
        return False
    at = guide.next_time()
    if at is None:
        return False
    guide.current[at] = value
    pack = context.pack
    if guide.next_time() is not None:
        await _ask_dose_mg(update, context, guide)
    elif all(mg == "0" for mg in guide.current.values()):
        guide.current = {}
        await reply(update, pack.text("schedule.step_needs_a_dose", step=len(guide.steps) + 1))
        await _ask_dose_mg(update, context, guide)
    else:
        days = [
            (
                pack.text("schedule.days_button", days=days),
                ScheduleButton("ddays", str(days)).pack(),
            )
            for days in STEP_DAY_CHOICES
        ]
        text = pack.text(
            "schedule.ask_step_days",
            summary=_guide_summary(pack, guide),
            step=len(guide.steps) + 1,
            doses=doses_text(pack, guide.step_of(guide.current, 1)),
        )
        await reply(update, text, keyboard(chunked(days, 4)))
    return True


async def _step_days(update: Update, context: BotContext, value: str) -> bool:
    guide = context.session.dose_guide
    if guide is None or not guide.current or not value.isdigit():
        return False
    if int(value) not in STEP_DAY_CHOICES:
        return False
    guide.steps.append((guide.current, int(value)))
    guide.current = {}
    pack = context.pack
    buttons = [[(pack.text("schedule.button_done"), ScheduleButton("ddone").pack())]]
    if len(guide.steps) < MAX_STEPS:
        add = pack.text("schedule.button_add_step", step=len(guide.steps) + 1)
        buttons.insert(0, [(add, ScheduleButton("dnext").pack())])
    text = pack.text("schedule.ask_next_step", summary=_guide_summary(pack, guide))
    await reply(update, text, keyboard(buttons))
    return True


async def _next_step(update: Update, context: BotContext, value: str) -> bool:
    guide = context.session.dose_guide
    if guide is None or not guide.steps or guide.current:
        return False
    await _ask_dose_mg(update, context, guide)
    return True


async def _done(update: Update, context: BotContext, value: str) -> bool:
    guide = context.session.dose_guide
    if guide is None or not guide.steps:
        return False
    steps = [guide.step_of(doses, days) for doses, days in guide.steps]
    lowers = all(b.daily_mg <= a.daily_mg for a, b in pairwise(steps)) and any(
        b.daily_mg < a.daily_mg for a, b in pairwise(steps)
    )
    if lowers:
        # Steps that only go down are a taper: does the prescriber end it at zero?
        pack = context.pack
        buttons = [
            [(pack.text("schedule.button_taper_stops"), ScheduleButton("dend", "stop").pack())],
            [(pack.text("schedule.button_taper_holds"), ScheduleButton("dend", "keep").pack())],
        ]
        await reply(update, pack.text("schedule.ask_taper_end"), keyboard(buttons))
        return True
    await _offer_guided(update, context, guide, kind="custom", ends=False)
    return True


async def _taper_end(update: Update, context: BotContext, value: str) -> bool:
    guide = context.session.dose_guide
    if guide is None or not guide.steps or value not in ("stop", "keep"):
        return False
    await _offer_guided(update, context, guide, kind="taper", ends=value == "stop")
    return True


STEPS: dict[str, Step] = {
    "custom": _custom,
    "standard": _standard,
    "doses": _doses,
    "start": _start,
    "times": _times,
    "target": _target,
    "dstart": _dose_start,
    "dtimes": _dose_times,
    "dmg": _dose_mg,
    "ddays": _step_days,
    "dnext": _next_step,
    "ddone": _done,
    "dend": _taper_end,
}


# ---------------------------------------------------------------- shared


def _start_keyboard(pack: ContentPack, step: str) -> InlineKeyboardMarkup:
    """Today / Tomorrow, answering ``step`` of a guided path."""
    return keyboard(
        [
            [
                (pack.text("schedule.button_today"), ScheduleButton(step, "today").pack()),
                (pack.text("schedule.button_tomorrow"), ScheduleButton(step, "tomorrow").pack()),
            ]
        ]
    )


def _presets_keyboard(step: str, presets: dict[str, str]) -> InlineKeyboardMarkup:
    """One dose-times preset a row, shown as "08:00 14:00 20:00"; ``presets``: each button's
    value (answering ``step``) -> its times."""
    rows = [
        (times.replace(",", " "), ScheduleButton(step, value).pack())
        for value, times in presets.items()
    ]
    return keyboard(chunked(rows, 1))


async def _offer_guided(
    update: Update,
    context: BotContext,
    guide: DoseGuide,
    *,
    kind: PlanKind,
    ends: bool,
) -> None:
    plan = Plan(
        kind=kind,
        start=parse_start(guide.start, context.today),
        steps=tuple(guide.step_of(doses, days) for doses, days in guide.steps),
        ends_after_last_step=ends,
    )
    context.session.dose_guide = None
    await offer_plan(update, context, plan)


async def _ask_dose_mg(update: Update, context: BotContext, guide: DoseGuide) -> None:
    pack = context.pack
    at = guide.next_time()
    assert at is not None
    choices = [(pack.text("schedule.button_no_dose"), ScheduleButton("dmg", "0").pack())] + [
        (pack.text("schedule.mg_button", mg=mg), ScheduleButton("dmg", str(mg)).pack())
        for mg in DOSE_MG_CHOICES
    ]
    text = pack.text(
        "schedule.ask_dose_mg",
        summary=_guide_summary(pack, guide),
        step=len(guide.steps) + 1,
        time=at,
    )
    await reply(update, text, keyboard(chunked(choices, 4)))


def _guide_summary(pack: ContentPack, guide: DoseGuide) -> Html:
    """The running summary above each question; empty before the first step is done."""
    if not guide.steps:
        return Html("")
    lines = [
        pack.text(
            "schedule.step_so_far_line",
            step=number,
            days=days,
            doses=doses_text(pack, guide.step_of(doses, days)),
        )
        for number, (doses, days) in enumerate(guide.steps, start=1)
    ]
    return pack.text("schedule.step_so_far", steps=Html("\n".join(lines)))
