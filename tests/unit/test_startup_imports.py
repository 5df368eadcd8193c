"""The bot's own process does not load the report libraries: only the report worker does.

matplotlib (with numpy and Pillow), fpdf and icalendar cost the bot about 110 MB of memory
and 1.5 s at start; the renderers in bot.reports.work import them when the worker calls them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("matplotlib", "numpy", "PIL", "fpdf", "icalendar")


def test_starting_the_bot_imports_no_report_library() -> None:
    found = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, bot.app, bot.handlers.report, bot.services.reports; "
            f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert found.stdout.strip() == ""


def test_the_worker_still_renders_a_table() -> None:
    from bot.reports import work
    from bot.reports.specs import TableSpec

    table = work.report_csv(TableSpec(header=("a", "b"), rows=(("1", "2"),)))
    assert table.decode("utf-8-sig") == "a,b\r\n1,2\r\n"
