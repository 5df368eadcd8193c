"""Webhook mode: the webhook is registered with a secret, and requests without it are refused.

The bot listens on plain http on 127.0.0.1 (in production a reverse proxy terminates TLS in
front of it); the test posts updates there directly, as Telegram would through the proxy.
"""

from __future__ import annotations

from typing import Any

from telegram import Update

from bot.emulator.api import FakeBotAPI
from tests.conftest import RunningBot, free_port

PUBLIC_URL = "https://bot.example.org/telegram/hook-7f3a"
SECRET = "webhook-secret_0123456789"
INTRUDER = 5001
PATIENT = 5002


async def _start_webhook_bot(start_bot: Any) -> tuple[RunningBot, str]:
    port = free_port()
    bot: RunningBot = await start_bot(
        BOT_MODE="webhook", WEBHOOK_URL=PUBLIC_URL, WEBHOOK_SECRET=SECRET, WEBHOOK_PORT=str(port)
    )
    return bot, f"http://127.0.0.1:{port}/telegram/hook-7f3a"


async def test_webhook_is_registered_with_the_secret_and_never_polls(
    start_bot: Any, api: FakeBotAPI
) -> None:
    await _start_webhook_bot(start_bot)
    [registered] = api.calls_of("setWebhook")
    assert registered.status == 200
    assert registered.params["url"] == PUBLIC_URL
    assert registered.params["secret_token"] == SECRET
    assert set(registered.params["allowed_updates"]) == set(Update.ALL_TYPES)
    assert api.webhook_url == PUBLIC_URL
    assert api.calls_of("getUpdates") == []


async def test_updates_without_the_secret_are_refused(start_bot: Any, api: FakeBotAPI) -> None:
    bot, local_url = await _start_webhook_bot(start_bot)
    halflife = api.text_update(INTRUDER, "/halflife")
    assert await api.post_update(local_url, halflife, secret_token=None) == 403
    wrong = api.text_update(INTRUDER, "/halflife")
    assert await api.post_update(local_url, wrong, secret_token="not-the-secret-0000") == 403

    genuine = api.text_update(PATIENT, "/halflife")
    assert await api.post_update(local_url, genuine, secret_token=SECRET) == 200
    [answer] = await bot.next_messages(PATIENT, 0, 1)
    assert bot.pack.topics["halflife"].title in answer
    # The refused updates were never handled: no reply went to their sender.
    assert api.messages_to(INTRUDER) == []
