"""The Bot API transport (bot/delivery/transport.py) against a small real HTTP server: JSON
bodies for plain calls, multipart for uploads, and PTB's errors for timeouts and refusals."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import BodyPartReader, web
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import NetworkError, TimedOut
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from bot.delivery.send_errors import SendFailure, classify
from bot.delivery.transport import BotApiRequest

Seen = list[dict[str, Any]]


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, Seen]]:
    seen: Seen = []

    async def answer(request: web.Request) -> web.Response:
        if request.path.endswith("/slow"):
            await asyncio.sleep(1)
        record: dict[str, Any] = {"type": request.content_type}
        if request.content_type == "application/json":
            record["body"] = await request.json()
        else:
            fields: dict[str | None, bytes] = {}
            reader = await request.multipart()
            while isinstance(part := await reader.next(), BodyPartReader):
                fields[part.name] = bytes(await part.read())
            record["fields"] = fields
        seen.append(record)
        return web.json_response({"ok": True, "result": {"message_id": 7}})

    app = web.Application()
    app.router.add_post("/{method}", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}", seen
    await runner.cleanup()


def _data(**values: object) -> RequestData:
    return RequestData([RequestParameter.from_input(name, value) for name, value in values.items()])


async def test_a_plain_call_goes_as_one_json_body(server: tuple[str, Seen]) -> None:
    url, seen = server
    request = BotApiRequest(4)
    await request.initialize()
    try:
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("Taken", callback_data="d:1:t")]])
        code, payload = await request.do_request(
            f"{url}/sendMessage", "POST", _data(chat_id=5, text="hi", reply_markup=markup)
        )
    finally:
        await request.shutdown()
    assert (code, json.loads(payload)["result"]["message_id"]) == (200, 7)
    [call] = seen
    assert call["type"] == "application/json"
    # Nested objects stay objects (no JSON string inside the JSON), as the Bot API reads them.
    assert call["body"]["reply_markup"] == {
        "inline_keyboard": [[{"text": "Taken", "callback_data": "d:1:t"}]]
    }
    assert call["body"]["chat_id"] == 5


async def test_an_upload_goes_as_multipart(server: tuple[str, Seen]) -> None:
    url, seen = server
    request = BotApiRequest(4)
    try:
        photo = InputFile(b"\x89PNG fake", filename="plan.png")
        await request.do_request(f"{url}/sendPhoto", "POST", _data(chat_id=5, photo=photo))
    finally:
        await request.shutdown()
    [call] = seen
    assert call["type"].startswith("multipart/")
    assert call["fields"]["chat_id"] == b"5"
    assert b"\x89PNG fake" in call["fields"].values()


async def test_a_slow_answer_is_timed_out_and_a_refused_connection_a_network_error(
    server: tuple[str, Seen],
) -> None:
    url, _ = server
    request = BotApiRequest(1, read_timeout=0.2)
    try:
        with pytest.raises(TimedOut) as waited:
            await request.do_request(f"{url}/slow", "POST", _data(chat_id=5))
        # The request left: the message may have arrived (a reminder is marked "Repeat").
        assert classify(waited.value).kind is SendFailure.MAY_HAVE_ARRIVED
        with socket.socket() as unused:
            unused.bind(("127.0.0.1", 0))
            port = unused.getsockname()[1]
        with pytest.raises(NetworkError) as refused:
            await request.do_request(f"http://127.0.0.1:{port}/getMe", "POST")
        assert not isinstance(refused.value, TimedOut)  # a refusal, not a wait
        assert classify(refused.value).kind is SendFailure.NEVER_SENT  # nothing left
    finally:
        await request.shutdown()
