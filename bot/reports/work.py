"""What the report worker process runs: each renderer, and a warm-up when it starts.

The functions are module-level so that they pickle by name into the worker.
"""

from __future__ import annotations

from bot.reports.charts import plan_picture, report_chart
from bot.reports.ical import doses_calendar
from bot.reports.pdf import report_pdf
from bot.reports.table import report_csv

__all__ = ["doses_calendar", "plan_picture", "report_chart", "report_csv", "report_pdf", "warm_up"]


def warm_up() -> None:
    """Load the libraries and fonts once, so the first patient does not wait for them."""
    import matplotlib.font_manager

    matplotlib.font_manager.findfont("DejaVu Sans")
