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
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)  # resident memory, CPU, open files
        self.reminders_sent = Counter(
            "bot_reminders_sent",
            "Dose messages delivered, by kind (reminder, follow_up, missed_notice)",
            ["kind"],
            registry=self.registry,
        )
        self.reminder_lateness = Histogram(
            "bot_reminder_lateness_seconds",
            "Seconds from a dose's due time to the delivery of its reminder",
            buckets=LATENESS_BUCKETS,
            registry=self.registry,
        )
        self.send_errors = Counter(
            "bot_send_errors",
            "Bot API sends that failed, by error kind (Forbidden, RetryAfter, TimedOut, ...)",
            ["kind"],
            registry=self.registry,
        )
        self.broadcast_messages = Counter(
            "bot_broadcast_messages",
            "Broadcast messages processed, by outcome (sent, unreachable, failed)",
            ["outcome"],
            registry=self.registry,
        )
        self.broadcast_remaining = Gauge(
            "bot_broadcast_remaining",
            "Broadcast messages still to send",
            registry=self.registry,
        )
        self.send_queue_depth = Gauge(
            "bot_send_queue_depth",
            "Messages waiting for a send slot, by priority (reply, reminder, notice, broadcast)",
            ["priority"],
            registry=self.registry,
        )
        self.send_queue_seconds = Histogram(
            "bot_send_queue_seconds",
            "Seconds a message waited for its send slot, by priority",
            ["priority"],
            buckets=QUEUE_BUCKETS,
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "bot_rate_limited",
            "429 Too Many Requests answers received from the Bot API",
            registry=self.registry,
        )
        self.replies_given_up = Counter(
            "bot_replies_given_up",
            "Replies not delivered within the give-up limit (rate limited for too long)",
            registry=self.registry,
        )
        self.paid_messages = Counter(
            "bot_paid_broadcast_messages",
            "Messages sent with allow_paid_broadcast (each costs Telegram Stars)",
            registry=self.registry,
        )
        self.paid_rate = Gauge(
            "bot_paid_broadcast_rate",
            "Messages a second the paid lane may use now (follows the process's own load)",
            registry=self.registry,
        )
        self.updates_handled = Counter(
            "bot_updates_handled",
            "Telegram updates handled, by type (message, callback_query, ...)",
            ["type"],
            registry=self.registry,
        )

    def reminder_delivered(self, lateness_seconds: float) -> None:
        self.reminders_sent.labels("reminder").inc()
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
