"""One classification of a failed send for reminders and broadcasts."""

from __future__ import annotations

from datetime import timedelta

import aiohttp
import pytest
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from bot.delivery.send_errors import SendFailure, classify


def _caused(error: NetworkError, cause: BaseException) -> NetworkError:
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (Forbidden("Forbidden: bot was blocked by the user"), SendFailure.UNREACHABLE),
        (BadRequest("Bad Request: chat not found"), SendFailure.UNREACHABLE),
        (BadRequest("Bad Request: message is too long"), SendFailure.REJECTED),
        (RetryAfter(timedelta(seconds=7)), SendFailure.RATE_LIMITED),
        (NetworkError("Bad Gateway"), SendFailure.SERVER_ERROR),
        (TelegramError("Conflict"), SendFailure.SERVER_ERROR),
        (_caused(TimedOut(), aiohttp.SocketTimeoutError("read")), SendFailure.MAY_HAVE_ARRIVED),
        (
            _caused(NetworkError("dropped"), aiohttp.ServerDisconnectedError()),
            SendFailure.MAY_HAVE_ARRIVED,
        ),
        (_caused(TimedOut(), aiohttp.ConnectionTimeoutError("pool")), SendFailure.NEVER_SENT),
    ],
)
def test_each_failure_has_one_meaning(error: TelegramError, kind: SendFailure) -> None:
    classified = classify(error)
    assert classified.kind is kind
    assert classified.name == type(error).__name__  # logs and metrics carry the name only


def test_rate_limited_carries_its_wait() -> None:
    assert classify(RetryAfter(12)).retry_after == timedelta(seconds=12)
