"""The report rows as CSV: UTF-8 with a byte-order mark, so a spreadsheet opened by a double
click reads Cyrillic right; the same rows and headers as the PDF table."""

from __future__ import annotations

import csv
import io

from bot.reports.specs import TableSpec


def report_csv(spec: TableSpec) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(spec.header)
    writer.writerows(spec.rows)
    return buffer.getvalue().encode("utf-8-sig")
