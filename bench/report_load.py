"""Do reminders stay on time while 20 patients ask for a report at once? And how long does
each file take for a three-month plan?

The real process (pinned to one core, as the other benchmarks), the real clock, the Bot API
stand-in. 20 patients with three months of doses and check-ins have each sent /report; they
all press "Everything" at the same moment, while 60 other patients have a dose falling due
over the next 10 seconds. The same reminders are measured again with no report asked, for
comparison. Then each file is made once, in this process, for one of the three-month
patients.

    python -m bench.report_load [--reports 20] [--reminders 60]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import tempfile
import time as monotonic_time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.harness import BotProcess, pin_this_process_elsewhere
from bot.clock import SystemClock
from bot.content import ContentPack, load_pack
from bot.domain.report import Period
from bot.emulator.api import ApiCall, FakeBotAPI
from bot.reports import work
from bot.services.reports import ReportService
from bot.storage.checkins import CheckInStore
from bot.storage.db import Database
from bot.storage.doses import DoseStore, StoredPlan
from bot.views.report import (
    calendar_spec,
    plan_picture_spec,
    report_csv_table,
    report_pdf_spec,
)
from tests.seed import seed_due_doses, seed_report_history

ROOT = Path(__file__).resolve().parent.parent
FIRST_PATIENT = 500_001  # the report patients; the reminder patients are 1..N
LEAD = timedelta(seconds=15)  # the first reminder falls due this long after seeding
SPREAD = 10.0  # seconds over which the reminders fall due
GROUPS = 10  # whole seconds apart: due instants are stored to the second


async def _seed(
    database: Path, patients: range, reminders: int
) -> tuple[datetime, dict[int, datetime]]:
    """The report patients' three months; ``reminders`` patients with a dose falling due in
    each of GROUPS seconds from LEAD on. Returns the first due instant and each one's."""
    await seed_report_history(database, patients, datetime.now(UTC))
    now = datetime.now(UTC).replace(microsecond=0)
    per_group = max(1, reminders // GROUPS)
    due_at: dict[int, datetime] = {}
    for group in range(GROUPS):
        users = range(1 + group * per_group, 1 + (group + 1) * per_group)
        age = -(LEAD + timedelta(seconds=SPREAD * group / GROUPS))
        await seed_due_doses(database, users, [age], now=now)
        due_at.update({user: now - age for user in users})
    return now + LEAD, due_at


async def _ask_for_reports(api: FakeBotAPI, patients: range) -> list[ApiCall]:
    """/report from each patient; the period choices they got."""
    for patient in patients:
        api.send_text(patient, "/report")
    return await api.wait_for(
        "sendMessage",
        lambda call: call.params["chat_id"] >= FIRST_PATIENT,
        count=len(patients),
        timeout=60,
    )


def _press_everything(api: FakeBotAPI, choices: list[ApiCall]) -> None:
    for call in choices:
        message_id = api.messages_to(call.params["chat_id"])[0]["message_id"]
        api.press_button(call.params["chat_id"], message_id, "report:pdf:all")


async def run(reports: int, reminders: int, *, with_reports: bool = True) -> dict[str, float]:
    api = FakeBotAPI()
    await api.start()
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "bot.sqlite3"
        patients = range(FIRST_PATIENT, FIRST_PATIENT + reports)
        first_due, due_at = await _seed(database, patients, reminders)
        bot = BotProcess(api, database)
        await bot.start()
        try:
            choices = await _ask_for_reports(api, patients) if with_reports else []
            await _sleep_until(first_due - timedelta(seconds=0.5))
            pressed = monotonic_time.monotonic()
            _press_everything(api, choices)
            sent = await api.wait_for(
                "sendMessage",
                lambda call: call.params["chat_id"] < FIRST_PATIENT and call.status == 200,
                count=len(due_at),
                timeout=120,
            )
            documents = (
                await api.wait_for("sendDocument", count=reports, timeout=600)
                if with_reports
                else []
            )
        finally:
            await bot.stop()
    await api.close()
    offset = monotonic_time.monotonic() - datetime.now(UTC).timestamp()
    lateness = sorted(
        call.at - (due_at[call.params["chat_id"]].timestamp() + offset) for call in sent
    )
    made = sorted(call.at - pressed for call in documents) or [0.0]
    assert all(call.status == 200 for call in documents)
    return {
        "reports": reports if with_reports else 0,
        "reminders": len(lateness),
        "p50_s": statistics.median(lateness),
        "max_s": lateness[-1],
        "first_report_s": made[0],
        "last_report_s": made[-1],
    }


async def _sleep_until(instant: datetime) -> None:
    await asyncio.sleep(max(0.0, (instant - datetime.now(UTC)).total_seconds()))


@contextlib.contextmanager
def _timed(timings: dict[str, float], name: str) -> Iterator[None]:
    started = monotonic_time.perf_counter()
    yield
    timings[name] = monotonic_time.perf_counter() - started


async def _time_report_files(
    pack: ContentPack, service: ReportService, patient: int, zone: ZoneInfo
) -> dict[str, float]:
    """The report's data, its PDF (with the chart) and its CSV, after a first PDF made to
    warm up (the first figure and font load are not part of a request once warm)."""
    work.warm_up()
    work.report_pdf(
        report_pdf_spec(
            pack,
            await service.report(patient, zone, Period.ALL),
            zone,
            name=None,
            made_at=datetime.now(UTC),
        )
    )
    timings: dict[str, float] = {}
    with _timed(timings, "data"):
        report = await service.report(patient, zone, Period.ALL)
    with _timed(timings, "pdf"):
        pdf = work.report_pdf(
            report_pdf_spec(pack, report, zone, name=None, made_at=datetime.now(UTC))
        )
    with _timed(timings, "csv"):
        work.report_csv(report_csv_table(pack, report))
    timings["rows"] = len(report.rows)
    timings["pdf_kb"] = len(pdf) / 1024
    return timings


async def _time_plan_files(
    pack: ContentPack, service: ReportService, stored: StoredPlan, zone: ZoneInfo
) -> dict[str, float]:
    """The /plan picture and the calendar of the coming doses."""
    timings: dict[str, float] = {}
    with _timed(timings, "picture"):
        today = datetime.now(UTC).astimezone(zone).date()
        work.plan_picture(plan_picture_spec(pack, stored.plan, today))
    with _timed(timings, "calendar"):
        calendar = await service.calendar_doses(stored, zone)
        slots = calendar.coming
        work.doses_calendar(
            calendar_spec(
                pack,
                "bench-key",
                slots,
                zone,
                made_at=datetime.now(UTC),
                dropped=calendar.dropped,
            )
        )
    timings["events"] = len(slots)
    return timings


async def file_timings() -> dict[str, float]:
    """Seconds to gather and make each file once, for one three-month patient (in this
    process, no worker, so that only the work itself is timed)."""
    pack = load_pack(ROOT / "bot" / "pack")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bot.sqlite3"
        patient = FIRST_PATIENT
        await seed_report_history(path, [patient], datetime.now(UTC))
        database = await Database.open(path)
        try:
            doses = DoseStore(database)
            service = ReportService(doses, CheckInStore(database), SystemClock())
            zone = ZoneInfo("Europe/Berlin")
            timings = await _time_report_files(pack, service, patient, zone)
            stored = await doses.active_plan(patient)
            assert stored is not None
            timings |= await _time_plan_files(pack, service, stored, zone)
        finally:
            await database.close()
    return timings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=20)
    parser.add_argument("--reminders", type=int, default=60)
    args = parser.parse_args(argv)
    pin_this_process_elsewhere()
    for with_reports in (False, True):
        report(asyncio.run(run(args.reports, args.reminders, with_reports=with_reports)))
    timings = asyncio.run(file_timings())
    print(
        f"one three-month patient ({timings['rows']:.0f} rows, {timings['events']:.0f} calendar "
        f"events): data {timings['data'] * 1000:.0f} ms, PDF with chart "
        f"{timings['pdf'] * 1000:.0f} ms ({timings['pdf_kb']:.0f} KB), CSV "
        f"{timings['csv'] * 1000:.1f} ms, /plan picture {timings['picture'] * 1000:.0f} ms, "
        f"calendar {timings['calendar'] * 1000:.0f} ms"
    )


def report(figures: dict[str, float]) -> None:
    what = (
        f"{figures['reports']:.0f} reports asked at once"
        if figures["reports"]
        else "no report asked"
    )
    line = (
        f"reminder lateness, {figures['reminders']:.0f} doses due over {SPREAD:.0f} s, {what}: "
        f"p50 {figures['p50_s']:.2f} s, max {figures['max_s']:.2f} s (target: within 5 s)"
    )
    if figures["reports"]:
        line += (
            f"; reports sent {figures['first_report_s']:.1f} s to "
            f"{figures['last_report_s']:.1f} s after the presses"
        )
    print(line)


if __name__ == "__main__":
    main()
