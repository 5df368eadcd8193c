"""What the report worker process runs: each renderer, and a warm-up when it starts.

The functions are module-level so that they pickle by name into the worker. They import their
renderer when called, in the worker: matplotlib, fpdf and icalendar cost the bot's own process
about 110 MB and 1.5 s at start (`python -X importtime -c "import bot.app"`), and it only ever
hands a spec to the worker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.reports.specs import CalendarSpec, ChartSpec, PdfSpec, StairSpec, TableSpec

__all__ = ["doses_calendar", "plan_picture", "report_chart", "report_csv", "report_pdf", "warm_up"]


def report_pdf(spec: PdfSpec) -> bytes:
    from bot.reports.pdf import report_pdf as render

    return render(spec)


def report_chart(spec: ChartSpec) -> bytes:
    from bot.reports.charts import report_chart as render

    return render(spec)


def plan_picture(spec: StairSpec) -> bytes:
    from bot.reports.charts import plan_picture as render

    return render(spec)


def doses_calendar(spec: CalendarSpec) -> bytes:
    from bot.reports.ical import doses_calendar as render

    return render(spec)


def report_csv(spec: TableSpec) -> bytes:
    from bot.reports.table import report_csv as render

    return render(spec)


def warm_up() -> None:
    """Load the libraries and fonts once, so the first patient does not wait for them."""
    import matplotlib.font_manager

    import bot.reports.charts
    import bot.reports.ical
    import bot.reports.pdf  # noqa: F401 - imported for the worker's first report

    matplotlib.font_manager.findfont("DejaVu Sans")
