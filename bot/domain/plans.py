"""Titration and taper plans: the data, the label schedule, and the command-argument parsers.

Pure: no Telegram, no database, no clock. ``today`` is passed in by the caller.
Errors are :class:`PlanError` with a code and string parameters; the bot renders them from
the content pack, so there is no user-facing prose here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
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
_MG_RE = re.compile(r"([0-9]+(?:[.,][0-9]+)?|[.,][0-9]+)\s*(?:mg)?", re.IGNORECASE)
_MAX_NUMBER_TEXT = 40
_DAYS_RE = re.compile(r"[0-9]{1,9}")
_TARGET_PREFIX = "target="
_STOP_WORD = "stop"
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


@dataclass(frozen=True)
class Step:
    """One dose level: ``mg`` per intake, taken at every dose time for ``days`` days."""

    mg: Decimal
    days: int

    def __post_init__(self) -> None:
        if not isinstance(self.mg, Decimal):
            raise TypeError("Step.mg must be a Decimal")
        if isinstance(self.days, bool) or not isinstance(self.days, int):
            raise TypeError("Step.days must be an int")
        value = format_mg(self.mg)
        if not self.mg.is_finite() or self.mg <= 0 or self.mg > MAX_MG_PER_INTAKE:
            raise PlanError("mg_range", value=value, max=format_mg(MAX_MG_PER_INTAKE))
        if Fraction(self.mg).denominator not in (1, 2):
            raise PlanError("mg_precision", value=value)
        if not 1 <= self.days <= MAX_STEP_DAYS:
            raise PlanError("days_range", value=str(self.days), max=str(MAX_STEP_DAYS))


@dataclass(frozen=True)
class Plan:
    """A prescribed schedule: ``steps`` in order from ``start``, a dose at each of ``times``.

    After the last step the last dose continues as maintenance, unless ``ends_after_last_step``
    (a taper that the prescriber set to end at zero).
    """

    kind: PlanKind
    start: date
    times: tuple[time, ...]
    steps: tuple[Step, ...]
    ends_after_last_step: bool

    def __post_init__(self) -> None:
        if self.kind not in _PLAN_KINDS:
            raise ValueError(f"unknown plan kind {self.kind!r}")
        if not 1 <= len(self.times) <= MAX_DOSES_PER_DAY:
            raise PlanError("times_count", count=str(len(self.times)), max=str(MAX_DOSES_PER_DAY))
        for at in self.times:
            if at.tzinfo is not None or at.second or at.microsecond:
                raise ValueError("plan times must be naive wall times with minute precision")
        for earlier, later in pairwise(self.times):
            if earlier == later:
                raise PlanError("time_duplicate", value=_format_time(later))
            if earlier > later:
                raise ValueError("plan times must be sorted")
        if not self.steps:
            if self.kind == "taper":
                raise PlanError("taper_empty")
            raise PlanError("steps_count", max=str(MAX_STEPS))
        if len(self.steps) > MAX_STEPS:
            raise PlanError("steps_count", max=str(MAX_STEPS))
        if self.ends_after_last_step and self.kind != "taper":
            raise ValueError("only a taper can end after its last step")

    def daily_total(self, step: Step) -> Decimal:
        """Milligrams per day on ``step``: the dose per intake times the number of dose times."""
        return step.mg * len(self.times)

    def max_daily_total(self) -> Decimal:
        return max(self.daily_total(step) for step in self.steps)

    def needs_high_dose_confirmation(self) -> bool:
        """True when any day's total exceeds the label maximum (80 mg/day)."""
        return self.max_daily_total() > MAX_DAILY_MG

    def titration_days(self) -> int:
        """Days covered by the steps (without maintenance)."""
        return sum(step.days for step in self.steps)

    def last_step_day(self) -> date:
        """Local date of the last day of the last step."""
        return self.start + timedelta(days=self.titration_days() - 1)


class PlanCheck(StrEnum):
    """What makes a plan need the patient's "my prescriber set this" before it is saved."""

    HIGH_DAILY = "high_daily"  # more than the label maximum of 80 mg a day
    ABOVE_LABEL_INTAKE = "above_label_intake"  # a single dose above 20 mg
    FAST_TAPER = "fast_taper"  # a taper that stops in under two weeks
    BIG_DROP = "big_drop"  # one step lowers the dose by more than half


def prescriber_checks(plan: Plan) -> tuple[PlanCheck, ...]:
    """Every reason to ask once more; empty for a plan within the label's usual range.

    Never a refusal: a prescriber may order any of these. The bot only makes sure the patient
    typed what was prescribed.
    """
    checks: list[PlanCheck] = []
    if plan.needs_high_dose_confirmation():
        checks.append(PlanCheck.HIGH_DAILY)
    if any(step.mg > LABEL_MAX_MG_PER_INTAKE for step in plan.steps):
        checks.append(PlanCheck.ABOVE_LABEL_INTAKE)
    if plan.ends_after_last_step and plan.titration_days() < MIN_TAPER_TO_STOP_DAYS:
        checks.append(PlanCheck.FAST_TAPER)
    # The final stop of a taper is not a "drop": how fast it ends is the FAST_TAPER check.
    if any(later.mg * 2 < earlier.mg for earlier, later in pairwise(plan.steps)):
        checks.append(PlanCheck.BIG_DROP)
    return tuple(checks)


def standard_steps(target_mg: Decimal = Decimal(20)) -> tuple[Step, ...]:
    """The label schedule (5, 10, 15, 20 mg per intake, 3 days each) up to ``target_mg``."""
    if not target_mg.is_finite() or target_mg not in STANDARD_STEP_MG:
        raise PlanError(
            "target_invalid",
            value=format_mg(target_mg),
            allowed=_ALLOWED_TARGETS,
        )
    return tuple(Step(mg, STANDARD_STEP_DAYS) for mg in STANDARD_STEP_MG if mg <= target_mg)


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
        if word == "today":
            return today
        if word == "tomorrow":
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


def parse_step(text: str) -> Step:
    """``<mg>x<days>``: ``"10x3"``, ``"7.5x7"``, ``"10mgx3"``, ``"10X3"``."""
    value = text.strip()
    separators = [index for index, char in enumerate(value) if char in "xX"]
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
    days = int(days_text)
    if not 1 <= days <= MAX_STEP_DAYS:
        raise PlanError("days_range", value=days_text, max=str(MAX_STEP_DAYS))
    return Step(mg, days)


def _clean(args: Sequence[str]) -> list[str]:
    return [arg.strip() for arg in args if arg.strip()]


def _is_time_token(token: str) -> bool:
    return ":" in token


def _parse_start_and_times(
    args: list[str], today: date, usage: str
) -> tuple[date, tuple[time, ...], list[str]]:
    """Split ``<start> <times...> <rest...>``: the times are the tokens after the start that
    hold a colon; the first token after the start is always read as a time."""
    if len(args) < 2:
        raise PlanError("args_missing", usage=usage)
    start = parse_start(args[0], today)
    index = 1
    while index < len(args) and _is_time_token(args[index]):
        index += 1
    if index == 1:
        parse_time(args[1])  # not a time: raises "time_format" naming it
    times = parse_times(args[1:index])
    return start, times, args[index:]


def _parse_steps(tokens: Sequence[str]) -> tuple[Step, ...]:
    if len(tokens) > MAX_STEPS:
        raise PlanError("steps_count", max=str(MAX_STEPS))
    return tuple(parse_step(token) for token in tokens)


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
        times=times,
        steps=standard_steps(target),
        ends_after_last_step=False,
    )


def parse_custom_command(args: Sequence[str], today: date) -> Plan:
    """``/schedule custom <start> <HH:MM>[,<HH:MM>...] <mg>x<days> [...]`` (args after "custom")."""
    tokens = _clean(args)
    if len(tokens) < 3:
        raise PlanError("args_missing", usage="custom")
    start, times, rest = _parse_start_and_times(tokens, today, "custom")
    if not rest:
        raise PlanError("args_missing", usage="custom")
    steps = _parse_steps(rest)
    return Plan(kind="custom", start=start, times=times, steps=steps, ends_after_last_step=False)


def parse_taper_command(args: Sequence[str], today: date) -> Plan:
    """``/taper <start> <HH:MM>[,<HH:MM>...] <mg>x<days> [...] [stop]``.

    Steps must not increase. A final ``stop`` ends the plan after the last step; otherwise the
    last step's dose continues until the user changes the plan.
    """
    tokens = _clean(args)
    ends = bool(tokens) and tokens[-1].lower() == _STOP_WORD
    if ends:
        tokens.pop()
    start, times, rest = _parse_start_and_times(tokens, today, "taper")
    if not rest:
        raise PlanError("taper_empty")
    steps = _parse_steps(rest)
    for token, previous, step in zip(rest[1:], steps[:-1], steps[1:], strict=True):
        if step.mg > previous.mg:
            raise PlanError("taper_increases", value=token)
    return Plan(kind="taper", start=start, times=times, steps=steps, ends_after_last_step=ends)
