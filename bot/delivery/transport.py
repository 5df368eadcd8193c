"""HTTP transport to the Bot API: a PTB request class on aiohttp with JSON bodies.

Why not PTB's default (httpx): a profile of the interactive benchmark put the HTTP client at
43 % of the bot's CPU per update, httpcore's pool bookkeeping about 12 % and form-encoding
each reply (every parameter JSON-dumped into a string, then URL-encoded) 7.6 % more
(docs/benchmarks.md). The Bot API takes ``application/json`` bodies, so a reply is one
``json.dumps`` of its parameters; files still go as ``multipart/form-data``.

A reverse proxy in front of the Bot API (or Telegram's own front end) answers a 502 or 504 with
an HTML page, not Telegram's JSON. PTB would then raise a NetworkError chained to a
JSONDecodeError whose message carries the whole page. It is a 5xx like any other: we give PTB
the JSON error Telegram would have sent, so it becomes a plain NetworkError, handled as a
server error.
"""

from __future__ import annotations

import json
from http import HTTPStatus

import aiohttp
from telegram._utils.defaultvalue import DEFAULT_NONE, DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

_JSON = {"Content-Type": "application/json"}


class BotApiRequest(BaseRequest):
    """One aiohttp session (a pool of ``connection_pool_size`` kept-alive connections).

    Timeouts map onto aiohttp's: ``connect_timeout`` is the socket connect, ``pool_timeout``
    plus it the wait for a connection from the pool, ``read_timeout`` each socket read;
    ``write_timeout`` (``media_write_timeout`` for an upload) bounds the whole request, as
    aiohttp has no write timeout of its own.
    """

    __slots__ = (
        "_connect_timeout",
        "_limit",
        "_media_write_timeout",
        "_pool_timeout",
        "_read_timeout",
        "_session",
        "_write_timeout",
    )

    def __init__(
        self,
        connection_pool_size: int = 1,
        *,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._limit = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._limit, limit_per_host=self._limit)
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers={"User-Agent": self.USER_AGENT},
                # Telegram's answers are read as bytes and parsed by PTB: no cookies, no
                # automatic decompression beyond what aiohttp does for gzip.
                cookie_jar=aiohttp.DummyCookieJar(),
            )

    async def shutdown(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

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
        if self._session is None or self._session.closed:
            await self.initialize()
        assert self._session is not None
        uploads = request_data is not None and request_data.contains_files
        read = _given(read_timeout, self._read_timeout)
        write = _given(write_timeout, self._media_write_timeout if uploads else self._write_timeout)
        connect = _given(connect_timeout, self._connect_timeout)
        pool = _given(pool_timeout, self._pool_timeout)
        timeout = aiohttp.ClientTimeout(
            # The whole request: the write bound plus the read, when both are bounded.
            total=None if write is None or read is None else write + read,
            connect=None if connect is None or pool is None else connect + pool,
            sock_connect=connect,
            sock_read=read,
        )
        body: aiohttp.FormData | bytes | None = None
        headers: dict[str, str] | None = None
        if request_data is not None and uploads:
            body = _form(request_data)
        elif request_data is not None:
            body = json.dumps(request_data.parameters).encode()
            headers = _JSON
        try:
            async with self._session.request(
                method, url, data=body, headers=headers, timeout=timeout
            ) as response:
                code, payload = response.status, await response.read()
        except TimeoutError as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error
        if code >= HTTPStatus.INTERNAL_SERVER_ERROR and not _is_json(payload):
            payload = json.dumps(
                {"ok": False, "error_code": code, "description": _phrase(code)}
            ).encode()
        return code, payload


def _given(value: ODVInput[float], default: float | None) -> float | None:
    return default if isinstance(value, DefaultValue) else value


def _form(request_data: RequestData) -> aiohttp.FormData:
    """Parameters as form fields (JSON-encoded as PTB gives them) and the files as parts."""
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mime_type) in request_data.multipart_data.items():
        form.add_field(name, content, filename=filename, content_type=mime_type)
    return form


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
