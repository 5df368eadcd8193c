"""HTTP transport to the Bot API: PTB's httpx request, with proxy error pages made plain.

A reverse proxy in front of the Bot API (or Telegram's own front end) answers a 502 or 504 with
an HTML page, not Telegram's JSON. PTB then raises a NetworkError chained to a JSONDecodeError
whose message carries the whole page. It is a 5xx like any other: we give PTB the JSON error
Telegram would have sent, so it becomes a plain NetworkError, handled as a server error.
"""

from __future__ import annotations

import json
from http import HTTPStatus

from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import ODVInput
from telegram.request import HTTPXRequest, RequestData


class BotApiRequest(HTTPXRequest):
    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        code, payload = await super().do_request(
            url,
            method,
            request_data=request_data,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )
        if code >= HTTPStatus.INTERNAL_SERVER_ERROR and not _is_json(payload):
            payload = json.dumps(
                {"ok": False, "error_code": code, "description": _phrase(code)}
            ).encode()
        return code, payload


def _is_json(payload: bytes) -> bool:
    try:
        json.loads(payload)
    except ValueError:
        return False
    return True


def _phrase(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "Server Error"
