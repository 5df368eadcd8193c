"""The common design we compare against: one in-memory APScheduler job per dose.

At start it loads every upcoming dose from the same database and schedules one JobQueue job
for each; sending relies on PTB's AIORateLimiter (30 messages a second). Nothing is claimed
in the database, so a crash loses or repeats whatever was in flight. Built for the benchmark
only: ``python -m bench.baseline_bot`` with the same environment as ``python -m bot``.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime
from typing import Any

from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes

TEXT = "💊 Time for your dose: {mg} mg ({time})."


async def send_reminder(context: ContextTypes.DEFAULT_TYPE) -> None:
    job = context.job
    assert job is not None
    data: dict[str, Any] = job.data  # type: ignore[assignment]
    await context.bot.send_message(data["user_id"], TEXT.format(mg=data["mg"], time=data["time"]))


async def load_jobs(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    connection = sqlite3.connect(os.environ["DATABASE_PATH"])
    rows = connection.execute(
        "SELECT user_id, due_at, mg, local_time FROM dose_events WHERE status = 'scheduled'"
    ).fetchall()
    connection.close()
    assert application.job_queue is not None
    for user_id, due_at, mg, local_time in rows:
        application.job_queue.run_once(
            send_reminder,
            when=datetime.fromtimestamp(due_at, UTC),
            data={"user_id": user_id, "mg": mg, "time": local_time},
        )


def main() -> None:
    root = os.environ["TELEGRAM_API_BASE_URL"]
    application = (
        ApplicationBuilder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(f"{root}/bot")
        .rate_limiter(AIORateLimiter(max_retries=5))
        .post_init(load_jobs)
        .build()
    )
    application.run_polling()


if __name__ == "__main__":
    main()
