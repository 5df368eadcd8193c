"""Retention: dose history older than DATA_RETENTION_DAYS is purged once a day."""

from __future__ import annotations

import contextlib
import logging
from datetime import timedelta

from apscheduler.jobstores.base import JobLookupError
from telegram.ext import Job, JobQueue

from bot.clock import Clock
from bot.storage.privacy import PrivacyStore, PurgeResult

log = logging.getLogger(__name__)

PURGE_EVERY = timedelta(days=1)
FIRST_PURGE_AFTER = timedelta(minutes=1)  # after start, when the catch-up of reminders is done
JOB_NAME = "retention-purge"


class RetentionService:
    def __init__(
        self,
        *,
        store: PrivacyStore,
        clock: Clock,
        keep: timedelta,
        job_queue: JobQueue,  # type: ignore[type-arg]
    ) -> None:
        self._store = store
        self._clock = clock
        self.keep = keep
        self._job_queue = job_queue
        self._job: Job | None = None  # type: ignore[type-arg]

    def start(self) -> None:
        self._job = self._job_queue.run_repeating(
            self._on_timer, interval=PURGE_EVERY, first=FIRST_PURGE_AFTER, name=JOB_NAME
        )

    def stop(self) -> None:
        if self._job is not None and not self._job.removed:
            with contextlib.suppress(JobLookupError):
                self._job.schedule_removal()
        self._job = None

    async def _on_timer(self, _context: object) -> None:
        await self.purge()

    async def purge(self) -> PurgeResult:
        """Delete finished dose history due before now minus the retention period."""
        result = await self._store.purge_history(self._clock.now() - self.keep)
        log.info(
            "history_purged dose_events=%d plans=%d caregiver_alerts=%d",
            result.dose_events,
            result.plans,
            result.caregiver_alerts,
        )
        return result
