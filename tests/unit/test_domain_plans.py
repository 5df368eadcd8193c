"""Plans: the label schedule, the 80 mg/day threshold and every parser error code."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.plans import (
    MAX_DAILY_MG,
    MIN_TAPER_TO_STOP_DAYS,
    STANDARD_STEP_DAYS,
    STANDARD_STEP_MG,
    Dose,
    Plan,
    PlanCheck,
    PlanError,
    Step,
    format_mg,
    parse_custom_command,
    parse_dose_steps,
    parse_mg,
    parse_standard_command,
    parse_start,
    parse_step,
    parse_taper_command,
    parse_time,
    parse_times,
    prescriber_checks,
    standard_steps,
)

TODAY = date(2026, 3, 1)
TOO_PRECISE = "10." + "0" * 29 + "1"


def raises_plan_error(code: str, **params: str) -> Callable[[Callable[[], object]], None]:
    def check(call: Callable[[], object]) -> None:
        with pytest.raises(PlanError) as info:
            call()
        assert info.value.code == code
        assert info.value.params == params

    return check


TIMES3 = (time(8), time(14), time(20))


def make_plan(mg: str, per_day: int, days: int = 3) -> Plan:
    times = tuple(time(6 + 2 * index) for index in range(per_day))
    return Plan(
        kind="custom",
        start=TODAY,
        steps=(Step.same_at(times, Decimal(mg), days),),
        ends_after_last_step=False,
    )


# --- PlanError -------------------------------------------------------------------------------


def test_plan_error_carries_code_and_string_params_and_logs_only_the_code() -> None:
    error = PlanError("mg_range", value="200", max="100")
    assert isinstance(error, ValueError)
    assert error.code == "mg_range"
    assert error.params == {"value": "200", "max": "100"}
    assert str(error) == "mg_range"


# --- standard schedule -----------------------------------------------------------------------


def test_standard_steps_default_is_the_label_schedule() -> None:
    steps = standard_steps(TIMES3)
    assert steps == (
        Step.same_at(TIMES3, Decimal(5), 3),
        Step.same_at(TIMES3, Decimal(10), 3),
        Step.same_at(TIMES3, Decimal(15), 3),
        Step.same_at(TIMES3, Decimal(20), 3),
    )
    assert STANDARD_STEP_DAYS == 3
    assert [format_mg(mg) for mg in STANDARD_STEP_MG] == ["5", "10", "15", "20"]


@pytest.mark.parametrize(
    ("target", "expected_mg"),
    [
        ("5", ["5"]),
        ("10", ["5", "10"]),
        ("15", ["5", "10", "15"]),
        ("20", ["5", "10", "15", "20"]),
        ("20.0", ["5", "10", "15", "20"]),
    ],
)
def test_standard_steps_stop_at_the_target(target: str, expected_mg: list[str]) -> None:
    steps = standard_steps(TIMES3, Decimal(target))
    assert [format_mg(step.uniform_mg or Decimal(0)) for step in steps] == expected_mg
    assert all(step.days == 3 for step in steps)


@pytest.mark.parametrize("target", ["0", "7.5", "12", "25", "80"])
def test_standard_steps_reject_other_targets(target: str) -> None:
    raises_plan_error("target_invalid", value=target, allowed="5, 10, 15, 20")(
        lambda: standard_steps(TIMES3, Decimal(target))
    )


# --- Plan ------------------------------------------------------------------------------------


def test_standard_plan_totals_and_days() -> None:
    plan = parse_standard_command(["2026-03-02", "08:00", "14:00", "20:00"], TODAY)
    assert [plan.daily_total(step) for step in plan.steps] == [15, 30, 45, 60]
    assert plan.max_daily_total() == Decimal(60)
    assert not plan.needs_high_dose_confirmation()
    assert plan.titration_days() == 12
    assert plan.last_step_day() == date(2026, 3, 13)


@pytest.mark.parametrize(
    ("mg", "per_day", "total", "needs_confirmation"),
    [
        ("30", 3, "90", True),  # 30 mg three times a day: above the label maximum
        ("20", 4, "80", False),  # 20 mg four times a day: exactly the maximum
        ("20", 5, "100", True),
        ("40", 2, "80", False),
        ("80.5", 1, "80.5", True),
        ("13.5", 6, "81", True),
    ],
)
def test_high_dose_detection(mg: str, per_day: int, total: str, needs_confirmation: bool) -> None:
    plan = make_plan(mg, per_day)
    assert plan.max_daily_total() == Decimal(total)
    assert plan.needs_high_dose_confirmation() is needs_confirmation
    assert (plan.max_daily_total() > MAX_DAILY_MG) is needs_confirmation


def test_high_dose_in_any_step_counts() -> None:
    plan = parse_custom_command(["today", "08:00,14:00,20:00", "10x3", "30x3", "20x3"], TODAY)
    assert plan.max_daily_total() == Decimal(90)
    assert plan.needs_high_dose_confirmation()


def test_last_step_day_of_one_day_plan_is_its_start() -> None:
    plan = make_plan("10", 1, days=1)
    assert plan.titration_days() == 1
    assert plan.last_step_day() == plan.start


@pytest.mark.parametrize(
    ("mg", "days", "code", "params"),
    [
        ("0", 3, "mg_range", {"value": "0", "max": "100"}),
        ("100.5", 3, "mg_range", {"value": "100.5", "max": "100"}),
        ("7.3", 3, "mg_precision", {"value": "7.3"}),
        ("10", 0, "days_range", {"value": "0", "max": "365"}),
        ("10", 366, "days_range", {"value": "366", "max": "365"}),
    ],
)
def test_step_validates_itself(mg: str, days: int, code: str, params: dict[str, str]) -> None:
    raises_plan_error(code, **params)(lambda: Step.same_at([time(8)], Decimal(mg), days))


def test_plan_validates_counts() -> None:
    step = Step.same_at([time(8)], Decimal(10), 3)
    raises_plan_error("times_count", count="0", max="6")(lambda: Step((), 3))
    raises_plan_error("steps_count", max="30")(lambda: Plan("custom", TODAY, (step,) * 31, False))
    raises_plan_error("taper_empty")(lambda: Plan("taper", TODAY, (), True))
    with pytest.raises(ValueError, match="time order"):
        Step((Dose(time(20), Decimal(5)), Dose(time(8), Decimal(5))), 3)
    raises_plan_error("time_duplicate", value="08:00")(
        lambda: Step((Dose(time(8), Decimal(5)), Dose(time(8), Decimal(10))), 3)
    )
    with pytest.raises(ValueError, match="taper"):
        Plan("custom", TODAY, (step,), True)


# --- parse_time / parse_times ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("8:00", time(8, 0)),
        ("08:00", time(8, 0)),
        ("20:30", time(20, 30)),
        ("0:00", time(0, 0)),
        ("23:59", time(23, 59)),
        (" 07:05 ", time(7, 5)),
    ],
)
def test_parse_time_accepts(text: str, expected: time) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "24:00",
        "7",
        "7pm",
        "08:00:00",
        "8:60",
        "8:5",
        "008:00",
        "",
        "08.00",
        "８:00",
        "-1:00",
        "ab:cd",
    ],
)
def test_parse_time_rejects(text: str) -> None:
    raises_plan_error("time_format", value=text.strip())(lambda: parse_time(text))


@pytest.mark.parametrize(
    ("tokens", "expected"),
    [
        (["08:00"], (time(8),)),
        (["20:00", "08:00", "14:00"], (time(8), time(14), time(20))),
        (["20:00,08:00,14:00"], (time(8), time(14), time(20))),
        (["08:00,", "14:00"], (time(8), time(14))),
        (["8:00,12:00", "16:00,20:00"], (time(8), time(12), time(16), time(20))),
        (["1:00,2:00,3:00,4:00,5:00,6:00"], tuple(time(hour) for hour in range(1, 7))),
    ],
)
def test_parse_times_sorts_and_splits(tokens: list[str], expected: tuple[time, ...]) -> None:
    assert parse_times(tokens) == expected


def test_parse_times_errors() -> None:
    raises_plan_error("time_duplicate", value="08:00")(lambda: parse_times(["8:00", "08:00"]))
    raises_plan_error("time_duplicate", value="14:00")(lambda: parse_times(["14:00,08:00,14:00"]))
    raises_plan_error("times_count", count="0", max="6")(lambda: parse_times([]))
    raises_plan_error("times_count", count="0", max="6")(lambda: parse_times([","]))
    raises_plan_error("times_count", count="7", max="6")(
        lambda: parse_times(["1:00,2:00,3:00,4:00,5:00,6:00,7:00"])
    )
    raises_plan_error("time_format", value="7pm")(lambda: parse_times(["08:00,7pm"]))


# --- parse_start -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("today", TODAY),
        ("Today", TODAY),
        ("TOMORROW", TODAY + timedelta(days=1)),
        ("2026-03-01", TODAY),
        ("2026-12-24", date(2026, 12, 24)),
        ("2027-03-02", TODAY + timedelta(days=366)),
    ],
)
def test_parse_start_accepts(text: str, expected: date) -> None:
    assert parse_start(text, TODAY) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("2026-02-28", "date_past"),
        ("2025-03-01", "date_past"),
        ("yesterday", "date_format"),
        ("2027-03-03", "date_too_far"),
        ("2030-01-01", "date_too_far"),
        ("2026-02-30", "date_format"),
        ("2026-13-01", "date_format"),
        ("2026/03/05", "date_format"),
        ("20260305", "date_format"),
        ("05.03.2026", "date_format"),
        ("2026-3-5", "date_format"),
        ("next week", "date_format"),
        ("", "date_format"),
    ],
)
def test_parse_start_rejects(text: str, code: str) -> None:
    raises_plan_error(code, value=text)(lambda: parse_start(text, TODAY))


# --- parse_mg --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10", "10"),
        ("7.5", "7.5"),
        ("7,5", "7.5"),
        ("10mg", "10"),
        ("10MG", "10"),
        ("10 mg", "10"),
        ("10.0", "10"),
        ("07.50", "7.5"),
        ("0.5", "0.5"),
        (".5", "0.5"),
        ("100", "100"),
    ],
)
def test_parse_mg_accepts_and_normalizes(text: str, expected: str) -> None:
    mg = parse_mg(text)
    assert mg == Decimal(expected)
    assert str(mg) == expected  # plain notation, no exponent, no trailing zero
    assert format_mg(mg) == expected


@pytest.mark.parametrize(
    ("text", "code", "params"),
    [
        ("ten", "mg_format", {"value": "ten"}),
        ("", "mg_format", {"value": ""}),
        ("-5", "mg_format", {"value": "-5"}),
        ("5 g", "mg_format", {"value": "5 g"}),
        ("1e1", "mg_format", {"value": "1e1"}),
        ("NaN", "mg_format", {"value": "NaN"}),
        ("7..5", "mg_format", {"value": "7..5"}),
        ("0", "mg_range", {"value": "0", "max": "100"}),
        ("0mg", "mg_range", {"value": "0mg", "max": "100"}),
        ("100.5", "mg_range", {"value": "100.5", "max": "100"}),
        ("1000000", "mg_range", {"value": "1000000", "max": "100"}),
        ("7.3", "mg_precision", {"value": "7.3"}),
        ("0.25", "mg_precision", {"value": "0.25"}),
        (TOO_PRECISE, "mg_precision", {"value": TOO_PRECISE}),  # beyond Decimal's 28 digits
    ],
)
def test_parse_mg_rejects(text: str, code: str, params: dict[str, str]) -> None:
    raises_plan_error(code, **params)(lambda: parse_mg(text))


@pytest.mark.parametrize(
    ("mg", "text"),
    [("5", "5"), ("7.50", "7.5"), ("1E+1", "10"), ("100", "100"), ("0.5", "0.5"), ("22.5", "22.5")],
)
def test_format_mg(mg: str, text: str) -> None:
    assert format_mg(Decimal(mg)) == text


# --- parse_step ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "mg", "days"),
    [
        ("10x3", "10", 3),
        ("7.5x7", "7.5", 7),
        ("7,5x7", "7.5", 7),
        ("10mgx3", "10", 3),
        ("10X3", "10", 3),
        ("10MGX14", "10", 14),
        ("10 x 3", "10", 3),
        ("0.5x365", "0.5", 365),
    ],
)
def test_parse_step_accepts(text: str, mg: str, days: int) -> None:
    assert parse_step(text) == (Decimal(mg), days)


@pytest.mark.parametrize(
    ("text", "code", "params"),
    [
        ("10", "step_format", {"value": "10"}),
        ("x3", "step_format", {"value": "x3"}),
        ("10x", "step_format", {"value": "10x"}),
        ("10x3x2", "step_format", {"value": "10x3x2"}),
        ("abcx3", "step_format", {"value": "abcx3"}),
        ("10x3d", "step_format", {"value": "10x3d"}),
        ("10x-3", "step_format", {"value": "10x-3"}),
        ("10*3", "step_format", {"value": "10*3"}),
        ("10x0", "days_range", {"value": "0", "max": "365"}),
        ("10x366", "days_range", {"value": "366", "max": "365"}),
        ("0x3", "mg_range", {"value": "0", "max": "100"}),
        ("200x3", "mg_range", {"value": "200", "max": "100"}),
        ("7.3x3", "mg_precision", {"value": "7.3"}),
    ],
)
def test_parse_step_rejects(text: str, code: str, params: dict[str, str]) -> None:
    raises_plan_error(code, **params)(lambda: parse_step(text))


# --- /schedule standard ----------------------------------------------------------------------


def test_standard_command_builds_the_label_plan() -> None:
    plan = parse_standard_command(["tomorrow", "08:00", "14:00", "20:00"], TODAY)
    assert plan == Plan(
        kind="standard",
        start=date(2026, 3, 2),
        steps=standard_steps(TIMES3),
        ends_after_last_step=False,
    )


@pytest.mark.parametrize(
    ("args", "target_steps"),
    [
        (["today", "08:00,14:00,20:00", "target=10"], 2),
        (["today", "08:00", "14:00", "20:00", "TARGET=15mg"], 3),
        (["today", "08:00", "14:00", "20:00", "target=5"], 1),
        (["today", "08:00", "14:00", "20:00", "target=20"], 4),
    ],
)
def test_standard_command_target(args: list[str], target_steps: int) -> None:
    plan = parse_standard_command(args, TODAY)
    assert len(plan.steps) == target_steps
    assert plan.steps == standard_steps(TIMES3)[:target_steps]


@pytest.mark.parametrize(
    ("args", "code", "params"),
    [
        ([], "args_missing", {"usage": "standard"}),
        (["today"], "args_missing", {"usage": "standard"}),
        (["today", "target=10"], "args_missing", {"usage": "standard"}),
        (["someday", "08:00"], "date_format", {"value": "someday"}),
        (["2026-01-01", "08:00"], "date_past", {"value": "2026-01-01"}),
        (["2028-01-01", "08:00"], "date_too_far", {"value": "2028-01-01"}),
        (["today", "8am"], "time_format", {"value": "8am"}),
        (["today", "08:00", "08:00"], "time_duplicate", {"value": "08:00"}),
        (
            ["today", "1:00,2:00,3:00,4:00", "5:00,6:00,7:00"],
            "times_count",
            {"count": "7", "max": "6"},
        ),
        (
            ["today", "08:00", "target=12"],
            "target_invalid",
            {"value": "12", "allowed": "5, 10, 15, 20"},
        ),
        (
            ["today", "08:00", "target=lots"],
            "target_invalid",
            {"value": "lots", "allowed": "5, 10, 15, 20"},
        ),
        (
            ["today", "08:00", "target="],
            "target_invalid",
            {"value": "", "allowed": "5, 10, 15, 20"},
        ),
        (["today", "target=10", "08:00"], "time_format", {"value": "target=10"}),
    ],
)
def test_standard_command_errors(args: list[str], code: str, params: dict[str, str]) -> None:
    raises_plan_error(code, **params)(lambda: parse_standard_command(args, TODAY))


# --- /schedule custom ------------------------------------------------------------------------


def test_custom_command_builds_the_prescribed_steps() -> None:
    plan = parse_custom_command(
        ["2026-03-05", "08:00,20:00", "5x7", "7.5x7", "10mgx14"],
        TODAY,
    )
    times = (time(8), time(20))
    assert plan == Plan(
        kind="custom",
        start=date(2026, 3, 5),
        steps=(
            Step.same_at(times, Decimal(5), 7),
            Step.same_at(times, Decimal("7.5"), 7),
            Step.same_at(times, Decimal(10), 14),
        ),
        ends_after_last_step=False,
    )
    assert plan.titration_days() == 28


def test_custom_command_accepts_separate_time_tokens() -> None:
    plan = parse_custom_command(["today", "20:00", "8:00", "14:00", "10x3"], TODAY)
    assert plan.all_times() == TIMES3
    assert plan.steps == (Step.same_at(TIMES3, Decimal(10), 3),)


@pytest.mark.parametrize(
    ("args", "code", "params"),
    [
        ([], "args_missing", {"usage": "custom"}),
        (["today"], "args_missing", {"usage": "custom"}),
        (["today", "08:00"], "args_missing", {"usage": "custom"}),
        (["today", "08:00", "14:00"], "args_missing", {"usage": "custom"}),
        (["today", "10x3", "20x3"], "time_format", {"value": "10x3"}),
        (["today", "8", "10x3"], "time_format", {"value": "8"}),
        (["01/04/2026", "08:00", "10x3"], "date_format", {"value": "01/04/2026"}),
        (["2026-02-01", "08:00", "10x3"], "date_past", {"value": "2026-02-01"}),
        (["2027-06-01", "08:00", "10x3"], "date_too_far", {"value": "2027-06-01"}),
        (["today", "08:00,08:00", "10x3"], "time_duplicate", {"value": "08:00"}),
        (["today", "08:00", "ten-x3"], "step_format", {"value": "ten-x3"}),
        (["today", "08:00", "10x3", "20:00"], "step_format", {"value": "20:00"}),
        (["today", "08:00", "10x400"], "days_range", {"value": "400", "max": "365"}),
        (["today", "08:00", "150x3"], "mg_range", {"value": "150", "max": "100"}),
        (["today", "08:00", "2.2x3"], "mg_precision", {"value": "2.2"}),
        (["today", "08:00", *["10x1"] * 31], "steps_count", {"max": "30"}),
    ],
)
def test_custom_command_errors(args: list[str], code: str, params: dict[str, str]) -> None:
    raises_plan_error(code, **params)(lambda: parse_custom_command(args, TODAY))


def test_custom_command_allows_thirty_steps() -> None:
    plan = parse_custom_command(["today", "08:00", *["10x1"] * 30], TODAY)
    assert len(plan.steps) == 30


# --- /taper ----------------------------------------------------------------------------------


def test_taper_command_without_stop_keeps_the_last_dose() -> None:
    plan = parse_taper_command(["today", "08:00,14:00,20:00", "15x7", "10x7", "5x7"], TODAY)
    assert plan.kind == "taper"
    assert plan.steps == tuple(Step.same_at(TIMES3, Decimal(mg), 7) for mg in (15, 10, 5))
    assert plan.ends_after_last_step is False


@pytest.mark.parametrize("stop", ["stop", "STOP", "Stop"])
def test_taper_command_with_stop_ends_after_the_last_step(stop: str) -> None:
    plan = parse_taper_command(["tomorrow", "08:00,20:00", "10x3", "10x3", "5x4", stop], TODAY)
    assert plan.ends_after_last_step is True
    assert plan.titration_days() == 10
    assert plan.last_step_day() == date(2026, 3, 11)


@pytest.mark.parametrize(
    ("args", "code", "params"),
    [
        ([], "args_missing", {"usage": "taper"}),
        (["today"], "args_missing", {"usage": "taper"}),
        (["stop"], "args_missing", {"usage": "taper"}),
        (["today", "stop"], "args_missing", {"usage": "taper"}),
        (["today", "08:00"], "taper_empty", {}),
        (["today", "08:00", "stop"], "taper_empty", {}),
        (["today", "08:00", "10x3", "20x3"], "taper_increases", {"value": "2"}),
        (["today", "08:00", "10x3", "5x3", "7.5x3", "stop"], "taper_increases", {"value": "3"}),
        (["today", "08:00", "10x3", "stop", "5x3"], "step_format", {"value": "stop"}),
        (["today", "08:00", "10x0"], "days_range", {"value": "0", "max": "365"}),
        (["yesterday", "08:00", "10x3"], "date_format", {"value": "yesterday"}),
        (["today", "25:00", "10x3"], "time_format", {"value": "25:00"}),
    ],
)
def test_taper_command_errors(args: list[str], code: str, params: dict[str, str]) -> None:
    raises_plan_error(code, **params)(lambda: parse_taper_command(args, TODAY))


# --- robustness: no input raises anything but PlanError --------------------------------------

TOKENS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "today",
            "tomorrow",
            "2026-03-05",
            "2026-02-30",
            "08:00",
            "8:00,14:00",
            "24:00",
            "10x3",
            "7.5x7",
            "0x3",
            "10x0",
            "7.3x2",
            "20mgx3",
            "target=10",
            "target=x",
            "stop",
            ",",
            "x",
        ]
    ),
)
DAYS = st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31))


def _only_plan_errors(call: Callable[[], object]) -> None:
    error: PlanError | None = None
    try:
        call()
    except PlanError as raised:
        error = raised
    if error is not None:
        assert error.code
        assert all(isinstance(value, str) for value in error.params.values())


@given(st.text())
def test_single_value_parsers_only_raise_plan_error(text: str) -> None:
    _only_plan_errors(lambda: parse_time(text))
    _only_plan_errors(lambda: parse_mg(text))
    _only_plan_errors(lambda: parse_step(text))
    _only_plan_errors(lambda: parse_times([text]))


@given(st.text(), DAYS)
def test_parse_start_only_raises_plan_error(text: str, today: date) -> None:
    _only_plan_errors(lambda: parse_start(text, today))


@given(st.lists(TOKENS, max_size=10), DAYS)
def test_command_parsers_only_raise_plan_error(args: list[str], today: date) -> None:
    _only_plan_errors(lambda: parse_standard_command(args, today))
    _only_plan_errors(lambda: parse_custom_command(args, today))
    _only_plan_errors(lambda: parse_taper_command(args, today))


@given(st.integers(min_value=1, max_value=200), st.integers(min_value=1, max_value=365))
def test_parse_step_round_trips(halves: int, days: int) -> None:
    mg = Decimal(halves) / 2
    parsed_mg, parsed_days = parse_step(f"{format_mg(mg)}x{days}")
    assert (parsed_mg, parsed_days) == (mg, days)
    assert format_mg(parsed_mg) == format_mg(mg)


# --- prescriber checks: asked once more, never refused ------------------------------------


def _custom(*steps: str, times: tuple[str, ...] = ("08:00", "14:00", "20:00")) -> Plan:
    return parse_custom_command(["today", ",".join(times), *steps], TODAY)


def test_a_plan_within_the_label_needs_no_check() -> None:
    assert (
        prescriber_checks(parse_standard_command(["today", "08:00", "14:00", "20:00"], TODAY)) == ()
    )
    assert prescriber_checks(_custom("5x3", "10x3", "15x3", "20x3")) == ()
    assert (
        prescriber_checks(
            parse_taper_command(["today", "08:00", "20:00", "15x5", "10x5", "5x4", "stop"], TODAY)
        )
        == ()
    )


@pytest.mark.parametrize(
    ("plan", "expected"),
    [
        (lambda: _custom("30x3"), {"high_daily", "above_label_intake"}),
        (lambda: _custom("25x3", times=("08:00", "20:00")), {"above_label_intake"}),
        (
            lambda: parse_taper_command(["today", "08:00", "20:00", "10x3", "5x3", "stop"], TODAY),
            {"fast_taper"},
        ),
        (
            lambda: parse_taper_command(["today", "08:00", "20:00", "20x7", "5x7"], TODAY),
            {"big_drop"},
        ),
        (lambda: _custom("20x7", "5x7"), {"big_drop"}),  # a custom plan can step down too
        (
            lambda: parse_taper_command(["today", "08:00", "20:00", "20x7", "10x7", "stop"], TODAY),
            set(),
        ),
    ],
)
def test_prescriber_checks(plan: Callable[[], Plan], expected: set[str]) -> None:
    assert {check.value for check in prescriber_checks(plan())} == expected


@pytest.mark.parametrize(
    ("steps", "fast"),
    [
        (["10x13"], True),
        (["10x14"], False),  # exactly two weeks: the NHS's "1 to 2 weeks" must pass
        (["15x5", "10x5", "5x3"], True),  # 13 days
        (["15x5", "10x5", "5x4"], False),  # 14 days
        (["15x5", "10x5", "5x5"], False),
    ],
)
def test_a_taper_that_stops_after_exactly_14_days_is_not_fast(steps: list[str], fast: bool) -> None:
    """Fact sheet 2.7: stopping over 1 to 2 weeks (NHS), 2 weeks or more (PDR). The check is
    "under 14 days", so a 14-day taper passes and a 13-day one is asked about."""
    assert MIN_TAPER_TO_STOP_DAYS == 14
    plan = parse_taper_command(["today", "08:00,14:00,20:00", *steps, "stop"], TODAY)
    assert (PlanCheck.FAST_TAPER in prescriber_checks(plan)) is fast
    # The same steps without "stop" never stop baclofen, so they are never a fast taper.
    kept = parse_taper_command(["today", "08:00,14:00,20:00", *steps], TODAY)
    assert PlanCheck.FAST_TAPER not in prescriber_checks(kept)


@pytest.mark.parametrize(
    "times", [["08:00"], ["08:00", "20:00"], ["07:00", "11:00", "15:00", "19:00"]]
)
def test_the_standard_build_up_is_three_times_a_day(times: list[str]) -> None:
    raises_plan_error("standard_times", count=str(len(times)))(
        lambda: parse_standard_command(["today", *times], TODAY)
    )


def test_a_russian_keyboard_types_the_same_prescription() -> None:
    """Cyrillic «х» looks like x, «мг» is mg, and сегодня / завтра / стоп are the words."""
    today = date(2026, 1, 11)
    assert parse_step("10х3") == parse_step("10x3") == (Decimal(10), 3)
    assert parse_step("7,5мгХ7") == (Decimal("7.5"), 7)
    assert parse_start("Сегодня", today) == today
    assert parse_start("завтра", today) == today + timedelta(days=1)
    assert parse_dose_steps("08:00=5 20:00=10 х3") == parse_dose_steps("08:00=5 20:00=10 x3")
