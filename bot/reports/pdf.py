"""The prescriber report as an A4 PDF (fpdf2), usually one page, two for a long history.

fpdf2 is pure Python and embeds a subset of a TrueType font: matplotlib's DejaVu Sans, which
has Cyrillic and is installed with it, prints every language of the pack.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import matplotlib
from fpdf import FPDF
from fpdf.fonts import FontFace

from bot.reports.charts import report_chart
from bot.reports.specs import PdfSpec

_FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
_FONT = "DejaVu"
_MARGIN = 12  # mm
# Column widths in mm across the 186 mm between the margins: step, dates, mg per time, taken,
# skipped, missed, not reminded, check-ins, holds. Wide enough that no header word of either
# language is broken across lines («Без напоминания» is the widest; tests/chat/test_report.py
# measures every header of every language against these).
_COLUMNS = (12, 22, 26, 15, 19, 15, 22, 40, 15)
_TABLE_FONT_SIZE = 7


def report_pdf(spec: PdfSpec) -> bytes:
    pdf = _document()
    pdf.set_title(spec.title)
    pdf.set_creator(spec.author)
    pdf.set_producer(spec.author)
    pdf.set_creation_date(spec.made_at)  # the bot's clock, not the worker's
    pdf.add_page()

    pdf.set_font(_FONT, "B", 15)
    pdf.multi_cell(pdf.epw, 8, spec.title, new_x="LMARGIN", new_y="NEXT")
    _lines(pdf, spec.facts, size=9, height=5)

    _heading(pdf, spec.plan_heading)
    _lines(pdf, spec.plan_lines, size=9, height=4.6)

    _heading(pdf, spec.table_heading)
    if spec.table.rows:
        _table(pdf, (spec.table.header, *spec.table.rows))
    else:
        _lines(pdf, [spec.empty_table], size=9, height=5)

    _heading(pdf, spec.chart_heading)
    _chart(pdf, report_chart(spec.chart))

    if spec.notes:
        _heading(pdf, spec.notes_heading)
        _lines(pdf, spec.notes, size=8, height=4.2)

    if spec.corrections:
        _heading(pdf, spec.corrections_heading)
        _lines(pdf, spec.corrections, size=8, height=4.2)

    pdf.ln(3)
    _lines(pdf, [spec.footer], size=7.5, height=4)
    return bytes(pdf.output())


def _lines(pdf: FPDF, lines: Sequence[str], *, size: float, height: float) -> None:
    """Paragraphs across the page's width, each wrapped as it needs."""
    pdf.set_font(_FONT, "", size)
    for line in lines:
        pdf.multi_cell(pdf.epw, height, line, new_x="LMARGIN", new_y="NEXT")


def _table(pdf: FPDF, rows: Sequence[Sequence[str]]) -> None:
    """The per-step table; its first row is the header."""
    pdf.set_font(_FONT, "", _TABLE_FONT_SIZE)
    with pdf.table(
        col_widths=_COLUMNS,
        headings_style=FontFace(emphasis="BOLD", fill_color=(225, 232, 242)),
        line_height=3.6,
        text_align="LEFT",
        first_row_as_headings=True,
    ) as table:
        for cells in rows:
            row = table.row()
            for cell in cells:
                row.cell(cell)


def _chart(pdf: FPDF, chart: bytes) -> None:
    """The chart across the page's width, on a new page when it would not fit below."""
    width = pdf.epw
    chart_height = width * 3.0 / 7.2
    if pdf.get_y() + chart_height > pdf.h - _MARGIN:
        pdf.add_page()
    pdf.image(io.BytesIO(chart), x=_MARGIN, w=width, h=chart_height)  # moves y below it


def _document() -> FPDF:
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_margins(_MARGIN, _MARGIN, _MARGIN)
    pdf.set_auto_page_break(auto=True, margin=_MARGIN)
    pdf.add_font(_FONT, "", str(_FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font(_FONT, "B", str(_FONT_DIR / "DejaVuSans-Bold.ttf"))
    return pdf


def broken_header_words(header: Sequence[str]) -> list[str]:
    """The words of the table's header row wider than their column's text width: fpdf2
    breaks such a word inside itself («Приня то»). The column, less the cell margins on both
    sides and the border line, is what a line of the cell may hold."""
    pdf = _document()
    pdf.set_font(_FONT, "B", _TABLE_FONT_SIZE)
    scale = pdf.epw / sum(_COLUMNS)
    broken: list[str] = []
    for text, column in zip(header, _COLUMNS, strict=True):
        room = column * scale - 2 * pdf.c_margin - pdf.line_width
        broken.extend(word for word in text.split() if pdf.get_string_width(word) > room)
    return broken


def _heading(pdf: FPDF, text: str) -> None:
    pdf.ln(2.5)
    pdf.set_font(_FONT, "B", 11)
    pdf.multi_cell(pdf.epw, 6, text, new_x="LMARGIN", new_y="NEXT")
