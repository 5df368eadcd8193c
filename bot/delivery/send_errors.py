"""What a failed send means, decided once for reminders and broadcasts.

Each caller then acts on the kind. A reminder is retried, marked as a possible repeat unless
nothing left (a 5xx from a proxy may come after Telegram took the message). A broadcast
message is retried, or recorded as "may have arrived" and not repeated. An unreachable user's
reminders stop in both cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

import aiohttp
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError


class SendFailure(StrEnum):
    UNREACHABLE = "unreachable"  # 403 (blocked), or the chat does not exist
    REJECTED = "rejected"  # any other 400: sending it again would fail again
    RATE_LIMITED = "rate_limited"  # 429 that the send budget passed back: try after retry_after
    SERVER_ERROR = "server_error"  # a 5xx (from Telegram, or from a proxy in front of it)
    MAY_HAVE_ARRIVED = "may_have_arrived"  # a time-out or a connection dropped mid-request
    NEVER_SENT = "never_sent"  # the connection was never opened: nothing left


@dataclass(frozen=True)
class SendError:
    kind: SendFailure
    name: str  # the exception's class name, for logs and metrics (never its text)
    retry_after: timedelta | None = None


# A connection that was never opened carried nothing: refused or unresolved
# (ClientConnectorError), or no connection within the connect and pool wait
# (ConnectionTimeoutError). A read time-out (SocketTimeoutError) or a dropped connection
# (ServerDisconnectedError) may have delivered the message.
_NEVER_SENT = (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)


def classify(error: TelegramError) -> SendError:
    name = type(error).__name__
    if isinstance(error, Forbidden):
        return SendError(SendFailure.UNREACHABLE, name)
    if isinstance(error, BadRequest):
        if "chat not found" in str(error).lower():
            return SendError(SendFailure.UNREACHABLE, name)
        return SendError(SendFailure.REJECTED, name)
    if isinstance(error, RetryAfter):
        wait = error.retry_after
        seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
        return SendError(SendFailure.RATE_LIMITED, name, timedelta(seconds=seconds))
    if isinstance(error, NetworkError) and error.__cause__ is not None:
        # A time-out or a connection dropped while waiting for the answer may have delivered
        # the message; a connection that was never opened did not.
        if isinstance(error.__cause__, _NEVER_SENT):
            return SendError(SendFailure.NEVER_SENT, name)
        return SendError(SendFailure.MAY_HAVE_ARRIVED, name)
    # No cause: an error answer (a 5xx, or a proxy's page made into one by the transport).
    return SendError(SendFailure.SERVER_ERROR, name)
