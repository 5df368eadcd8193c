"""Prometheus metrics, served on ``METRICS_PORT`` when it is set.

Each Application has its own registry, so counts never mix between bots in one process (the
tests start many). Recording is a counter increment under a lock held for nanoseconds: cheap
enough for the send path. Labels are fixed words (kinds, outcomes), never ids or text.
"""

from __future__ import annotations

import asyncio
import threading
from wsgiref.simple_server import WSGIServer

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    start_http_server,
)

# Time in the send queue: a reply waits milliseconds, a reminder in a burst minutes.
QUEUE_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 15.0, 60.0, 300.0, 900.0)
# Reminder lateness spans "on time" (well under a second) to "the bot was down for an hour".
LATENESS_BUCKETS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)


class Metrics:
    """Every metric of one Application, declared by what it watches."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)  # resident memory, CPU, open files
        self._declare_doses()
        self._declare_sends()
        self._declare_paid_lane()
        self._declare_broadcasts()
        self.updates_handled = self._counter(
            "bot_updates_handled",
            "Telegram updates handled, by type (message, callback_query, ...)",
            "type",
        )

    def _declare_doses(self) -> None:
        self.reminders_sent = self._counter(
            "bot_reminders_sent",
            "Dose messages delivered, by kind (reminder, follow_up, missed_notice)",
            "kind",
        )
        self._reminder_sent = self.reminders_sent.labels("reminder")  # once per reminder
        self.reminder_lateness = self._histogram(
            "bot_reminder_lateness_seconds",
            "Seconds from a dose's due time to the delivery of its reminder",
            LATENESS_BUCKETS,
        )

    def _declare_sends(self) -> None:
        """The send path: what failed, what waits for a slot and how long, what gave up."""
        self.send_errors = self._counter(
            "bot_send_errors",
            "Bot API sends that failed, by error kind (Forbidden, RetryAfter, TimedOut, ...)",
            "kind",
        )
        self.send_queue_depth = self._gauge(
            "bot_send_queue_depth",
            "Messages waiting for a send slot, by priority (reply, reminder, notice, broadcast)",
            "priority",
        )
        self.send_queue_seconds = self._histogram(
            "bot_send_queue_seconds",
            "Seconds a message waited for its send slot, by priority",
            QUEUE_BUCKETS,
            "priority",
        )
        self.rate_limited = self._counter(
            "bot_rate_limited", "429 Too Many Requests answers received from the Bot API"
        )
        self.replies_given_up = self._counter(
            "bot_replies_given_up",
            "Replies not delivered within the give-up limit (rate limited for too long)",
        )

    def _declare_paid_lane(self) -> None:
        self.paid_messages = self._counter(
            "bot_paid_broadcast_messages",
            "Messages sent with allow_paid_broadcast (each costs Telegram Stars)",
        )
        self.paid_rate = self._gauge(
            "bot_paid_broadcast_rate",
            "Messages a second the paid lane may use now (follows the process's own load)",
        )

    def _declare_broadcasts(self) -> None:
        self.broadcast_messages = self._counter(
            "bot_broadcast_messages",
            "Broadcast messages processed, by outcome (sent, unreachable, failed)",
            "outcome",
        )
        self.broadcast_remaining = self._gauge(
            "bot_broadcast_remaining", "Broadcast messages still to send"
        )

    def _counter(self, name: str, documentation: str, *labels: str) -> Counter:
        return Counter(name, documentation, labels, registry=self.registry)

    def _gauge(self, name: str, documentation: str, *labels: str) -> Gauge:
        return Gauge(name, documentation, labels, registry=self.registry)

    def _histogram(
        self, name: str, documentation: str, buckets: tuple[float, ...], *labels: str
    ) -> Histogram:
        return Histogram(name, documentation, labels, buckets=buckets, registry=self.registry)

    def reminder_delivered(self, lateness_seconds: float) -> None:
        self._reminder_sent.inc()
        self.reminder_lateness.observe(max(0.0, lateness_seconds))

    def dose_message_delivered(self, kind: str) -> None:
        """A follow-up or missed-dose notice went out."""
        self.reminders_sent.labels(kind).inc()

    def send_failed(self, kind: str) -> None:
        self.send_errors.labels(kind).inc()

    def update_handled(self, kind: str) -> None:
        self.updates_handled.labels(kind).inc()


class MetricsServer:
    """The text endpoint (``GET /metrics``) on a daemon thread of its own."""

    def __init__(self, server: WSGIServer, thread: threading.Thread) -> None:
        self._server = server
        self._thread = thread

    @classmethod
    def start(cls, metrics: Metrics, listen: str, port: int) -> MetricsServer:
        """Raise OSError if the address cannot be bound."""
        server, thread = start_http_server(port, addr=listen, registry=metrics.registry)
        return cls(server, thread)

    async def stop(self) -> None:
        # shutdown() blocks until the serving loop notices (up to half a second).
        await asyncio.to_thread(self._server.shutdown)
        self._server.server_close()
        await asyncio.to_thread(self._thread.join)
