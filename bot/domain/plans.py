"""Titration and taper plans: the data, the label schedule, and the command-argument parsers.

Pure: no Telegram, no database, no clock. ``today`` is passed in by the caller.
Errors are :class:`PlanError` with a code and string parameters; the bot renders them from
the content pack, so there is no user-facing prose here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, time, timedelta
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from itertools import pairwise
from typing import Literal

MAX_DAILY_MG = Decimal(80)  # label maximum per day (US); above it the user must confirm
MAX_DOSES_PER_DAY = 6
STANDARD_STEP_MG = (Decimal(5), Decimal(10), Decimal(15), Decimal(20))  # per intake
STANDARD_STEP_DAYS = 3
STANDARD_TIMES_PER_DAY = 3

# The label's build-up reaches 20 mg three times a day; a single dose above this is outside it.
LABEL_MAX_MG_PER_INTAKE = Decimal(20)
# Stopping is spread over 1 to 2 weeks (NHS) or 2 weeks or more (PDR): fact sheet 2.7.
MIN_TAPER_TO_STOP_DAYS = 14

MAX_MG_PER_INTAKE = Decimal(100)
MAX_STEP_DAYS = 365
MAX_STEPS = 30
MAX_START_AHEAD_DAYS = 366

PlanKind = Literal["standard", "custom", "taper"]

_PLAN_KINDS: frozenset[str] = frozenset({"standard", "custom", "taper"})
_TIME_RE = re.compile(r"([0-9]{1,2}):([0-9]{2})")
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# A Russian keyboard types "мг" and the Cyrillic "х" (it looks like x): both are read too.
_MG_RE = re.compile(r"([0-9]+(?:[.,][0-9]+)?|[.,][0-9]+)\s*(?:mg|мг)?", re.IGNORECASE)
_MAX_NUMBER_TEXT = 40
_DAYS_RE = re.compile(r"[0-9]{1,9}")
_TARGET_PREFIX = "target="
_STOP_WORDS = ("stop", "стоп")
_DAYS_MARKS = ("x", "X", "×", "х", "Х")
_TODAY_WORDS = ("today", "сегодня")
_TOMORROW_WORDS = ("tomorrow", "завтра")
_ALLOWED_TARGETS = ", ".join(str(int(mg)) for mg in STANDARD_STEP_MG)


class PlanError(ValueError):
    """A plan or a command argument is invalid.

    ``code`` names the message template; ``params`` fill it (all strings). ``str(error)`` is
    the code alone, so logging the exception never leaks a dose or a date.
    """

    def __init__(self, code: str, **params: str) -> None:
        super().__init__(code)
        self.code = code
        self.params: dict[str, str] = dict(params)

    def __repr__(self) -> str:
        return f"PlanError({self.code!r}, **{self.params!r})"


def format_mg(mg: Decimal) -> str:
    """Plain milligrams: ``Decimal(5)`` -> ``"5"``, ``Decimal("7.50")`` -> ``"7.5"``."""
    if not mg.is_finite():
        return str(mg)
    text = format(mg.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def _format_time(at: time) -> str:
    return f"{at.hour:02d}:{at.minute:02d}"


def _halves_to_decimal(halves: int) -> Decimal:
    """An exact count of half milligrams as a plain Decimal: 15 -> 7.5, 20 -> 10."""
    if halves % 2 == 0:
        return Decimal(halves // 2)
    return Decimal(halves * 5).scaleb(-1)


def _check_wall_time(at: time) -> None:
    if at.tzinfo is not None or at.second or at.microsecond:
        raise ValueError("dose times must be naive wall times with minute precision")


def _check_mg(mg: Decimal) -> None:
    if not isinstance(mg, Decimal):
        raise TypeError("mg must be a Decimal")
    value = format_mg(mg)
    if not mg.is_finite() or mg <= 0 or mg > MAX_MG_PER_INTAKE:
        raise PlanError("mg_range", value=value, max=format_mg(MAX_MG_PER_INTAKE))
    if Fraction(mg).denominator not in (1, 2):
        raise PlanError("mg_precision", value=value)


@dataclass(frozen=True)
class Dose:
    """One intake in a day: ``mg`` at the local wall time ``at``."""

    at: time
    mg: Decimal

    def __post_init__(self) -> None:
        _check_wall_time(self.at)
        _check_mg(self.mg)


@dataclass(frozen=True)
class Step:
    """One stage of a plan: the same day of doses (``doses``, in time order) for ``days`` days.

    The doses of a step may differ by time ("5 mg in the morning, 10 mg at night"), and the
    steps of a plan may have different dose times ("at night first, then morning and night").
    """

    doses: tuple[Dose, ...]
    days: int

    def __post_init__(self) -> None:
        if isinstance(self.days, bool) or not isinstance(self.days, int):
            raise TypeError("Step.days must be an int")
        if not 1 <= self.days <= MAX_STEP_DAYS:
            raise PlanError("days_range", value=str(self.days), max=str(MAX_STEP_DAYS))
        if not 1 <= len(self.doses) <= MAX_DOSES_PER_DAY:
            raise PlanError("times_count", count=str(len(self.doses)), max=str(MAX_DOSES_PER_DAY))
        for earlier, later in pairwise(self.doses):
            if earlier.at == later.at:
                raise PlanError("time_duplicate", value=_format_time(later.at))
            if earlier.at > later.at:
                raise ValueError("the doses of a step must be in time order")

    @classmethod
    def same_at(cls, times: Sequence[time], mg: Decimal, days: int) -> Step:
        """``mg`` at each of ``times`` (the label's shape: the same dose three times a day)."""
        return cls(tuple(Dose(at, mg) for at in sorted(times)), days)

    @property
    def times(self) -> tuple[time, ...]:
        return tuple(dose.at for dose in self.doses)

    @property
    def daily_mg(self) -> Decimal:
        return sum((dose.mg for dose in self.doses), Decimal(0))

    @property
    def uniform_mg(self) -> Decimal | None:
        """The mg of every dose when they are all the same, else None."""
        amounts = {dose.mg for dose in self.doses}
        return amounts.pop() if len(amounts) == 1 else None


@dataclass(frozen=True)
class StepChange:
    """How a step differs from the one before it (for the step-change notice)."""

    direction: Literal["up", "down", "same"]  # by the daily total
    added: tuple[time, ...]  # dose times this step has and the previous one had not
    dropped: tuple[time, ...]  # dose times the previous step had and this one has not


def step_change(previous: Step, step: Step) -> StepChange:
    before, after = set(previous.times), set(step.times)
    if step.daily_mg > previous.daily_mg:
        direction: Literal["up", "down", "same"] = "up"
    elif step.daily_mg < previous.daily_mg:
        direction = "down"
    else:
        direction = "same"
    return StepChange(direction, tuple(sorted(after - before)), tuple(sorted(before - after)))


@dataclass(frozen=True)
class Plan:
    """A prescribed schedule: ``steps`` in order from ``start``.

    After the last step its doses continue as maintenance, unless ``ends_after_last_step``
    (a taper that the prescriber set to end at zero).
    """

    kind: PlanKind
    start: date
    steps: tuple[Step, ...]
    ends_after_last_step: bool

    def __post_init__(self) -> None:
        if self.kind not in _PLAN_KINDS:
            raise ValueError(f"unknown plan kind {self.kind!r}")
        if not self.steps:
            if self.kind == "taper":
                raise PlanError("taper_empty")
            raise PlanError("steps_count", max=str(MAX_STEPS))
        if len(self.steps) > MAX_STEPS:
            raise PlanError("steps_count", max=str(MAX_STEPS))
        if self.ends_after_last_step and self.kind != "taper":
            raise ValueError("only a taper can end after its last step")

    def daily_total(self, step: Step) -> Decimal:
        """Milligrams per day on ``step``."""
        return step.daily_mg

    def max_daily_total(self) -> Decimal:
        return max(step.daily_mg for step in self.steps)

    def needs_high_dose_confirmation(self) -> bool:
        """True when any day's total exceeds the label maximum (80 mg/day)."""
        return self.max_daily_total() > MAX_DAILY_MG

    def titration_days(self) -> int:
        """Days covered by the steps (without maintenance)."""
        return sum(step.days for step in self.steps)

    def last_step_day(self) -> date:
        """Local date of the last day of the last step."""
        return self.start + timedelta(days=self.titration_days() - 1)

    def all_times(self) -> tuple[time, ...]:
        """Every dose time any step uses, in order."""
        return tuple(sorted({at for step in self.steps for at in step.times}))

    def all_mg(self) -> tuple[Decimal, ...]:
        """Every single-dose amount the plan uses, smallest first."""
        return tuple(sorted({dose.mg for step in self.steps for dose in step.doses}))

    def step_start(self, number: int) -> date:
        """Local date of the first day of step ``number`` (1-based)."""
        return self.start + timedelta(days=sum(step.days for step in self.steps[: number - 1]))

    def held(self, number: int, extra_days: int) -> Plan:
        """The plan with step ``number`` lasting ``extra_days`` longer; later steps move."""
        steps = list(self.steps)
        step = steps[number - 1]
        steps[number - 1] = Step(step.doses, step.days + extra_days)
        return replace(self, steps=tuple(steps))


class PlanCheck(StrEnum):
    """What makes a plan need the patient's "my prescriber set this" before it is saved."""

    HIGH_DAILY = "high_daily"  # more than the label maximum of 80 mg a day
    ABOVE_LABEL_INTAKE = "above_label_intake"  # a single dose above 20 mg
    FAST_TAPER = "fast_taper"  # a taper that stops in under two weeks
    BIG_DROP = "big_drop"  # one step lowers the dose by more than half
    BIG_DROP_FROM_CURRENT = "big_drop_current"  # the first step is under half of today's dose
    CLOSE_TIMES = "close_times"  # two dose times less than 2 hours apart


def prescriber_checks(plan: Plan, current_daily: Decimal | None = None) -> tuple[PlanCheck, ...]:
    """Every reason to ask once more; empty for a plan within the label's usual range.

    ``current_daily`` is the mg a day of the plan the new one replaces, today (None: no
    plan): a new plan that starts far below it is a steep drop like one inside a plan.
    Never a refusal: a prescriber may order any of these. The bot only makes sure the patient
    typed what was prescribed.
    """
    checks: list[PlanCheck] = []
    if plan.needs_high_dose_confirmation():
        checks.append(PlanCheck.HIGH_DAILY)
    if max(plan.all_mg()) > LABEL_MAX_MG_PER_INTAKE:
        checks.append(PlanCheck.ABOVE_LABEL_INTAKE)
    if plan.ends_after_last_step and plan.titration_days() < MIN_TAPER_TO_STOP_DAYS:
        checks.append(PlanCheck.FAST_TAPER)
    # The final stop of a taper is not a "drop": how fast it ends is the FAST_TAPER check.
    if big_drop(plan) is not None:
        checks.append(PlanCheck.BIG_DROP)
    if current_daily is not None and plan.steps[0].daily_mg * 2 < current_daily:
        checks.append(PlanCheck.BIG_DROP_FROM_CURRENT)
    if close_times(plan) is not None:
        checks.append(PlanCheck.CLOSE_TIMES)
    return tuple(checks)


# Doses closer than this are unusual (fact sheet 2.6's 2-hour rule): a typo for 18:30 in
# "12:00,12:30,13:00" gives three doses in an hour.
CLOSE_DOSES = timedelta(hours=2)


def close_times(plan: Plan) -> tuple[time, time] | None:
    """The first two dose times of a step less than 2 hours apart (also across midnight,
    from a step's last dose to its first the next day), if any."""
    for step in plan.steps:
        minutes = [at.hour * 60 + at.minute for at in step.times]
        for (earlier, first), (later, second) in pairwise(zip(minutes, step.times, strict=True)):
            if later - earlier < CLOSE_DOSES.total_seconds() / 60:
                return first, second
        if (
            len(minutes) > 1
            and minutes[0] + 24 * 60 - minutes[-1] < CLOSE_DOSES.total_seconds() / 60
        ):
            return step.times[-1], step.times[0]
    return None


def big_drop(plan: Plan) -> tuple[Step, Step] | None:
    """The first pair of steps where the daily total falls by more than half, if any."""
    for earlier, later in pairwise(plan.steps):
        if later.daily_mg * 2 < earlier.daily_mg:
            return earlier, later
    return None


def standard_steps(times: Sequence[time], target_mg: Decimal = Decimal(20)) -> tuple[Step, ...]:
    """The label schedule (5, 10, 15, 20 mg at each dose time, 3 days each) up to ``target_mg``."""
    if not target_mg.is_finite() or target_mg not in STANDARD_STEP_MG:
        raise PlanError(
            "target_invalid",
            value=format_mg(target_mg),
            allowed=_ALLOWED_TARGETS,
        )
    return tuple(
        Step.same_at(times, mg, STANDARD_STEP_DAYS) for mg in STANDARD_STEP_MG if mg <= target_mg
    )


def parse_time(text: str) -> time:
    """``"8:00"``, ``"08:00"``, ``"20:30"``; anything else (``24:00``, ``7``, ``7pm``) fails."""
    value = text.strip()
    match = _TIME_RE.fullmatch(value)
    if match is None:
        raise PlanError("time_format", value=value)
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        raise PlanError("time_format", value=value)
    return time(hour, minute)


def parse_times(tokens: Sequence[str]) -> tuple[time, ...]:
    """Dose times from tokens, each of which may hold several comma-joined times; sorted."""
    parsed: list[time] = []
    for token in tokens:
        for part in token.split(","):
            if part.strip():
                parsed.append(parse_time(part))
    seen: set[time] = set()
    for at in parsed:
        if at in seen:
            raise PlanError("time_duplicate", value=_format_time(at))
        seen.add(at)
    if not 1 <= len(parsed) <= MAX_DOSES_PER_DAY:
        raise PlanError("times_count", count=str(len(parsed)), max=str(MAX_DOSES_PER_DAY))
    return tuple(sorted(parsed))


def parse_start(text: str, today: date) -> date:
    """``YYYY-MM-DD``, ``today`` or ``tomorrow`` (any case); not past, at most 366 days ahead."""
    value = text.strip()
    word = value.lower()
    try:
        if word in _TODAY_WORDS:
            return today
        if word in _TOMORROW_WORDS:
            return today + timedelta(days=1)
    except OverflowError:
        raise PlanError("date_too_far", value=value) from None
    if _DATE_RE.fullmatch(value) is None:
        raise PlanError("date_format", value=value)
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise PlanError("date_format", value=value) from None
    if day < today:
        raise PlanError("date_past", value=value)
    if (day - today).days > MAX_START_AHEAD_DAYS:
        raise PlanError("date_too_far", value=value)
    return day


def parse_mg(text: str) -> Decimal:
    """Milligrams per intake: ``"10"``, ``"7.5"``, ``"7,5"``, ``"10mg"``; steps of 0.5, max 100."""
    value = text.strip()
    match = _MG_RE.fullmatch(value) if len(value) <= _MAX_NUMBER_TEXT else None
    if match is None:
        raise PlanError("mg_format", value=value)
    mg = Decimal(match.group(1).replace(",", "."))
    if mg <= 0 or mg > MAX_MG_PER_INTAKE:
        raise PlanError("mg_range", value=value, max=format_mg(MAX_MG_PER_INTAKE))
    halves = Fraction(mg) * 2
    if halves.denominator != 1:
        raise PlanError("mg_precision", value=value)
    return _halves_to_decimal(halves.numerator)


def _parse_days(text: str, value: str) -> int:
    if _DAYS_RE.fullmatch(text) is None:
        raise PlanError("step_format", value=value)
    days = int(text)
    if not 1 <= days <= MAX_STEP_DAYS:
        raise PlanError("days_range", value=text, max=str(MAX_STEP_DAYS))
    return days


def parse_step(text: str) -> tuple[Decimal, int]:
    """The shorthand ``<mg>x<days>``: ``"10x3"``, ``"7.5x7"``, ``"10mgx3"``, ``"10X3"``."""
    value = text.strip()
    separators = [index for index, char in enumerate(value) if char in _DAYS_MARKS]
    if len(separators) != 1:
        raise PlanError("step_format", value=value)
    mg_text = value[: separators[0]].strip()
    days_text = value[separators[0] + 1 :].strip()
    if not mg_text or _DAYS_RE.fullmatch(days_text) is None:
        raise PlanError("step_format", value=value)
    try:
        mg = parse_mg(mg_text)
    except PlanError as error:
        if error.code == "mg_format":
            raise PlanError("step_format", value=value) from None
        raise
    return mg, _parse_days(days_text, value)


def _parse_dose(token: str) -> Dose:
    """``22:00=5`` or ``22:00=7.5mg``: the mg at a time of day."""
    at_text, _, mg_text = token.partition("=")
    if not at_text or not mg_text:
        raise PlanError("dose_format", value=token)
    return Dose(parse_time(at_text), parse_mg(mg_text))


def parse_dose_step(text: str) -> Step:
    """One step of the prescription syntax: ``08:00=5 22:00=10 x3`` (doses, then days)."""
    value = " ".join(text.split())
    tokens = value.split(" ")
    last = tokens[-1]
    if len(tokens) >= 2 and last.isdigit() and tokens[-2] in _DAYS_MARKS:
        days_text, dose_tokens = last, tokens[:-2]
    elif last[:1] in _DAYS_MARKS and len(last) > 1:
        days_text, dose_tokens = last[1:], tokens[:-1]
    else:
        raise PlanError("step_days_missing", value=value)
    if not dose_tokens:
        raise PlanError("dose_format", value=value)
    doses = [_parse_dose(token) for token in dose_tokens]
    by_time: dict[time, Dose] = {}
    for dose in doses:
        if dose.at in by_time:
            raise PlanError("time_duplicate", value=_format_time(dose.at))
        by_time[dose.at] = dose
    return Step(tuple(sorted(doses, key=lambda dose: dose.at)), _parse_days(days_text, value))


def format_steps(steps: Sequence[Step]) -> str:
    """The steps in the prescription syntax; :func:`parse_dose_steps` reads it back."""
    return ", ".join(
        " ".join(f"{_format_time(dose.at)}={format_mg(dose.mg)}" for dose in step.doses)
        + f" x{step.days}"
        for step in steps
    )


def parse_dose_steps(text: str) -> tuple[Step, ...]:
    """Steps separated by commas, each ``<HH:MM>=<mg> [...] x<days>``."""
    parts = [part for part in text.split(",") if part.strip()]
    if len(parts) > MAX_STEPS:
        raise PlanError("steps_count", max=str(MAX_STEPS))
    return tuple(parse_dose_step(part) for part in parts)


def _clean(args: Sequence[str]) -> list[str]:
    return [arg.strip() for arg in args if arg.strip()]


def _is_time_token(token: str) -> bool:
    return ":" in token and "=" not in token


def _uses_dose_syntax(tokens: Sequence[str]) -> bool:
    return any("=" in token for token in tokens)


def _parse_steps(args: list[str], today: date, usage: str) -> tuple[date, tuple[Step, ...]]:
    """``<start>`` and then either the prescription syntax (``22:00=5 x3, 08:00=5 22:00=5
    x3``) or the shorthand ``<HH:MM>[,<HH:MM>...] <mg>x<days> [...]`` (the same mg at every
    time)."""
    if len(args) < 2:
        raise PlanError("args_missing", usage=usage)
    start = parse_start(args[0], today)
    rest = args[1:]
    if _uses_dose_syntax(rest):
        return start, parse_dose_steps(" ".join(rest))
    index = 0
    while index < len(rest) and _is_time_token(rest[index]):
        index += 1
    if index == 0:
        parse_time(rest[0])  # not a time: raises "time_format" naming it
    times = parse_times(rest[:index])
    step_tokens = rest[index:]
    if not step_tokens:
        if usage == "taper":
            raise PlanError("taper_empty")
        raise PlanError("args_missing", usage=usage)
    if len(step_tokens) > MAX_STEPS:
        raise PlanError("steps_count", max=str(MAX_STEPS))
    steps = []
    for token in step_tokens:
        mg, days = parse_step(token)
        steps.append(Step.same_at(times, mg, days))
    return start, tuple(steps)


def parse_standard_command(args: Sequence[str], today: date) -> Plan:
    """``/schedule standard <start> <HH:MM> [<HH:MM> ...] [target=<mg>]`` (args after the kind)."""
    tokens = _clean(args)
    target = Decimal(20)
    if tokens and tokens[-1].lower().startswith(_TARGET_PREFIX):
        raw = tokens.pop()[len(_TARGET_PREFIX) :].strip()
        try:
            target = parse_mg(raw)
        except PlanError:
            raise PlanError(
                "target_invalid",
                value=raw,
                allowed=_ALLOWED_TARGETS,
            ) from None
        if target not in STANDARD_STEP_MG:
            raise PlanError(
                "target_invalid",
                value=raw,
                allowed=_ALLOWED_TARGETS,
            )
    if len(tokens) < 2:
        raise PlanError("args_missing", usage="standard")
    start = parse_start(tokens[0], today)
    times = parse_times(tokens[1:])
    if len(times) != STANDARD_TIMES_PER_DAY:
        # The label's schedule is three times a day; other counts are a custom plan.
        raise PlanError("standard_times", count=str(len(times)))
    return Plan(
        kind="standard",
        start=start,
        steps=standard_steps(times, target),
        ends_after_last_step=False,
    )


def parse_custom_command(args: Sequence[str], today: date) -> Plan:
    """``/schedule custom <start> <steps>`` (args after "custom"): see :func:`_parse_steps`."""
    tokens = _clean(args)
    if len(tokens) < 2:
        raise PlanError("args_missing", usage="custom")
    start, steps = _parse_steps(tokens, today, "custom")
    return Plan(kind="custom", start=start, steps=steps, ends_after_last_step=False)


def parse_taper_command(args: Sequence[str], today: date) -> Plan:
    """``/taper <start> <steps> [stop]``.

    The daily total must not rise from one step to the next (a step may drop a dose time
    before the others are lowered). A final ``stop`` ends the plan after the last step;
    otherwise the last step's doses continue until the user changes the plan.
    """
    tokens = _clean(args)
    ends = bool(tokens) and tokens[-1].lower() in _STOP_WORDS
    if ends:
        tokens.pop()
    start, steps = _parse_steps(tokens, today, "taper")
    for number, (previous, step) in enumerate(pairwise(steps), start=2):
        if step.daily_mg > previous.daily_mg:
            raise PlanError("taper_increases", value=str(number))
    return Plan(kind="taper", start=start, steps=steps, ends_after_last_step=ends)
