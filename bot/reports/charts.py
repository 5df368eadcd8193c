"""The report chart and the /plan staircase, as PNG bytes.

matplotlib's object API with the Agg canvas, never pyplot: pyplot keeps global state (the
current figure) that is not safe to share between threads, and a figure made here is freed
when the function returns. Dates on the axes are written as day.month, the same in every
language.
"""

from __future__ import annotations

import io
from datetime import date, datetime

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, DateFormatter, date2num
from matplotlib.figure import Figure

from bot.reports.specs import ChartSpec, StairSpec

_DOSE_COLOUR = "#1f5fa8"
_TAKEN_COLOUR = "#7fb77e"
_STIFFNESS_COLOUR = "#c0392b"
_SUPPLY_COLOUR = "#b9770e"
_DPI = 150


def _x(moment: date | datetime) -> float:
    """A date as matplotlib's axis number (days since its epoch)."""
    return float(date2num(moment))  # type: ignore[no-untyped-call]


def _png(figure: Figure) -> bytes:
    canvas = FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    canvas.print_png(buffer)  # type: ignore[no-untyped-call]
    return buffer.getvalue()


def _date_axis(figure: Figure) -> None:
    for axes in figure.axes:
        locator = AutoDateLocator(minticks=3, maxticks=10)  # type: ignore[no-untyped-call]
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(DateFormatter("%d.%m"))  # type: ignore[no-untyped-call]


def report_chart(spec: ChartSpec, *, width_in: float = 7.2, height_in: float = 3.0) -> bytes:
    figure = Figure(figsize=(width_in, height_in), dpi=_DPI, layout="constrained")
    dose = figure.add_subplot()
    dose.set_title(spec.title, fontsize=10)
    if not spec.days:
        dose.text(0.5, 0.5, spec.empty, ha="center", va="center", transform=dose.transAxes)
        dose.set_axis_off()
        return _png(figure)
    days = list(spec.days)
    dose.bar(
        [_x(day) + 0.5 for day in days],
        spec.taken_mg,
        width=0.8,
        color=_TAKEN_COLOUR,
        label=spec.taken_label,
        zorder=2,
    )
    # The prescribed total holds from the start of a day to the start of the next.
    edges = [_x(day) for day in days] + [_x(days[-1]) + 1]
    planned = [*spec.planned_mg, spec.planned_mg[-1]]
    dose.step(
        edges,
        planned,
        where="post",
        color=_DOSE_COLOUR,
        linewidth=2,
        label=spec.planned_label,
        zorder=3,
    )
    dose.set_ylabel(spec.dose_axis, fontsize=9)
    dose.set_ylim(0, max([*spec.planned_mg, *spec.taken_mg, 1.0]) * 1.25)
    dose.grid(axis="y", alpha=0.3)
    stiffness = dose.twinx()
    stiffness.set_ylim(0, 10.5)
    stiffness.set_ylabel(spec.stiffness_axis, fontsize=9, color=_STIFFNESS_COLOUR)
    stiffness.tick_params(axis="y", colors=_STIFFNESS_COLOUR)
    if spec.stiffness:
        stiffness.plot(
            [_x(day) + 0.5 for day, _ in spec.stiffness],
            [score for _, score in spec.stiffness],
            marker="o",
            color=_STIFFNESS_COLOUR,
            linestyle="--",
            label=spec.stiffness_label,
            zorder=4,
        )
    handles, labels = dose.get_legend_handles_labels()
    more_handles, more_labels = stiffness.get_legend_handles_labels()
    dose.legend(handles + more_handles, labels + more_labels, fontsize=8, loc="upper left")
    _date_axis(figure)
    return _png(figure)


def plan_picture(spec: StairSpec) -> bytes:
    figure = Figure(figsize=(8.0, 4.5), dpi=120, layout="constrained")
    axes = figure.add_subplot()
    axes.set_title(spec.title, fontsize=12)
    _plan_steps(axes, spec)
    end = _x(spec.starts[-1]) + spec.days[-1]
    if spec.continues:
        end = _plan_continues(axes, spec, end)
    start = _x(spec.starts[0])
    if spec.today is not None and start <= _x(spec.today) < end:
        _today_marker(axes, spec, _x(spec.today))
    if spec.runs_out is not None and start <= _x(spec.runs_out) < end:
        _runs_out_marker(axes, spec, _x(spec.runs_out), start, end)
    axes.set_ylim(0, max(spec.daily_mg) * 1.3)
    axes.set_ylabel(spec.dose_axis)
    axes.grid(axis="y", alpha=0.3)
    _date_axis(figure)
    return _png(figure)


def _plan_steps(axes: Axes, spec: StairSpec) -> None:
    """One bar a step, as wide as its days, with its label on top."""
    narrow = len(spec.starts) > 6
    for start, days, mg, label in zip(
        spec.starts, spec.days, spec.daily_mg, spec.labels, strict=True
    ):
        left = _x(start)
        axes.bar(
            left, mg, width=days, align="edge", color=_DOSE_COLOUR, alpha=0.85, edgecolor="white"
        )
        axes.text(
            left + days / 2,
            mg,
            label,
            ha="center",
            va="bottom",
            fontsize=8 if not narrow else 6,
            rotation=90 if narrow and days < 4 else 0,
        )


def _plan_continues(axes: Axes, spec: StairSpec, end: float) -> float:
    """A faint hatched tail for a last step that goes on; returns the picture's new end."""
    tail = max(2, sum(spec.days) // 8)
    axes.bar(
        end,
        spec.daily_mg[-1],
        width=tail,
        align="edge",
        color=_DOSE_COLOUR,
        alpha=0.3,
        hatch="//",
        edgecolor="white",
    )
    axes.text(
        end + tail / 2,
        spec.daily_mg[-1] / 2,
        spec.continues_label,
        ha="center",
        va="center",
        fontsize=8,
        rotation=90,
    )
    return end + tail


def _today_marker(axes: Axes, spec: StairSpec, day: float) -> None:
    today = day + 0.5  # the middle of the day
    axes.axvline(today, color=_STIFFNESS_COLOUR, linestyle="--", linewidth=1.5)
    axes.text(
        today,
        max(spec.daily_mg) * 1.12,
        f" {spec.today_label}",
        color=_STIFFNESS_COLOUR,
        ha="left",
        va="bottom",
        fontsize=8,
    )


def _runs_out_marker(
    axes: Axes, spec: StairSpec, last_day: float, start: float, end: float
) -> None:
    # The end of the last covered day: from the next morning the supply is gone.
    runs_out = last_day + 1.0
    axes.axvline(runs_out, color=_SUPPLY_COLOUR, linestyle=":", linewidth=2.0)
    axes.text(
        runs_out,
        max(spec.daily_mg) * 1.27,  # above the step labels and the "today" marker
        f" {spec.runs_out_label} ",
        color=_SUPPLY_COLOUR,
        # Left of the line, unless that would run off the picture's left edge.
        ha="right" if runs_out - start > (end - start) / 3 else "left",
        va="top",
        fontsize=8,
    )
