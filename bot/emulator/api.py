"""A local stand-in for the Telegram Bot API, for tests, benchmarks and ``make demo``.

``FakeBotAPI`` runs an aiohttp server on 127.0.0.1 that answers the Bot API methods this project
uses the way Telegram does (same result shapes, same error bodies), records every call, keeps the
state of the messages the bot sent, serves updates through ``getUpdates`` long polling and can
inject faults (429/403/5xx/dropped connections) and enforce rate limits. Like Telegram, it refuses
parameters a method does not take and counts text length after entity parsing; both rules live in
``bot/botapi_rules.py``.

Point a bot at it with ``Bot(token, base_url=f"{api.url}/bot",
base_file_url=f"{api.url}/file/bot")``.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import copy
import itertools
import json
import re
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from aiohttp import BodyPartReader, ClientSession, web

from bot import botapi_rules
from bot.clock import SYSTEM_MONOTONIC, Monotonic

TEST_TOKEN = "123456789:TEST-token-abcdefghijklmnopqrstuvwxyz0123"
BOT_USER_ID = 123456789  # also the getMe id
BOT_USERNAME = "baclofen_test_bot"
BOT_FIRST_NAME = "Baclofen Test Bot"

JSONDict = dict[str, Any]

# Parameters decoded to int when numeric, and parameters that carry JSON (form encoding sends every
# non-string value JSON-encoded; PTB sends them that way too).
_INT_PARAMS = frozenset({"chat_id", "message_id", "user_id", "offset", "limit", "timeout"})
_JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "commands",
        "scope",
        "entities",
        "allowed_updates",
        "link_preview_options",
        "reply_parameters",
        "results",
        "caption_entities",
        "menu_button",
        "message_ids",
        "media",
    }
)
# Methods that count against the rate limits.
_SENDING_METHODS = botapi_rules.COUNTED_METHODS
# Methods that answer 403 when the target chat is in ``FakeBotAPI.blocked``.
_BLOCKABLE_METHODS = _SENDING_METHODS | {"sendChatAction", "deleteMessage"}

_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_PATH_RE = re.compile(r"bot([^/]*)/([A-Za-z0-9_]+)/?")

_MAX_TEXT = 4096
_MAX_CAPTION = 1024
_FIRST_UPDATE_ID = 100_001

_DELETE_WITHIN = 48 * 3600  # seconds: older messages cannot be deleted (Bot API deleteMessage)

_BLOCKED_DESCRIPTION = "Forbidden: bot was blocked by the user"

PAID_BROADCAST_RATE = 1000.0  # messages a second with allow_paid_broadcast
PAID_MESSAGE_STARS = 0.1  # the fee per paid message


@dataclass
class ApiCall:
    """One request the fake API answered."""

    method: str
    params: dict[str, Any]
    status: int
    at: float  # when it arrived, on the stand-in's monotonic clock (FakeBotAPI.clock)


@dataclass
class _Fault:
    method: str
    status: int
    description: str
    retry_after: int | None
    remaining: int
    chat_id: int | None
    html_body: bool = False


@dataclass
class _BotMessage:
    """State of one message the bot sent."""

    message: JSONDict  # the Message object as Telegram returns it
    text: str | None  # text, or caption of a document
    reply_markup: JSONDict | None  # as sent (any keyboard type)
    parse_mode: str | None
    document: str | None = None  # file name of a sent document
    edited: bool = False


class _ApiError(Exception):
    def __init__(self, status: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


class _HtmlError(Exception):
    """Answer with an HTML page instead of JSON, as a proxy in front of the Bot API does."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class _DropConnection(Exception):
    """Answer nothing and close the connection."""


def _bad_request(reason: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {reason}")


def _too_many_requests(retry_after: int, description: str = "") -> _ApiError:
    return _ApiError(
        429,
        description or f"Too Many Requests: retry after {retry_after}",
        {"retry_after": retry_after},
    )


def _now() -> int:
    return int(datetime.now(UTC).timestamp())


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in {"true", "1"})


def _decode_param(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if name in _INT_PARAMS:
        if re.fullmatch(r"-?[0-9]+", value):
            return int(value)
        if name == "timeout":
            with contextlib.suppress(ValueError):
                return float(value)
        return value
    if name in _JSON_PARAMS:
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _check_formatted(text: str, parse_mode: Any, *, limit: int, what: str) -> None:
    """Check parse_mode, HTML well-formedness and the length limit of a text or caption,
    counted after entity parsing as Telegram does."""
    if parse_mode is not None and not isinstance(parse_mode, str):
        raise _bad_request(f"unsupported parse_mode {parse_mode!r}")
    try:
        visible = botapi_rules.visible_text(text, parse_mode)
    except botapi_rules.EntityParseError as error:
        raise _bad_request(str(error)) from None
    except ValueError:
        raise _bad_request(f"unsupported parse_mode {parse_mode!r}") from None
    if what == "text" and not visible.strip():
        raise _bad_request("message text is empty")
    if _utf16_len(visible) > limit:
        raise _bad_request(
            "message is too long" if what == "text" else "message caption is too long"
        )


def _check_markup(markup: Any, *, inline_only: bool = False) -> JSONDict | None:
    if markup is None or markup == "":
        return None
    if not isinstance(markup, dict):
        raise _bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad_request(
                'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array'
            )
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not button.get("text"):
                    raise _bad_request("BUTTON_TEXT_INVALID")
                if "callback_data" in button:
                    data = button["callback_data"]
                    if not isinstance(data, str) or not 1 <= len(data.encode()) <= 64:
                        raise _bad_request("BUTTON_DATA_INVALID")
                elif "url" in button and not re.match(r"(https?|tg)://", str(button["url"])):
                    raise _bad_request(f"inline keyboard button URL '{button['url']}' is invalid")
        return markup
    if inline_only:
        raise _bad_request("inline keyboard expected")
    if not {"keyboard", "remove_keyboard", "force_reply"} & markup.keys():
        raise _bad_request("can't parse reply keyboard markup JSON object")
    return markup


class FakeBotAPI:
    """An in-process Telegram Bot API server for tests (see the module docstring)."""

    def __init__(
        self,
        token: str = TEST_TOKEN,
        *,
        global_rate: float | None = None,
        per_chat_rate: float | None = None,
        paid_rate: float = PAID_BROADCAST_RATE,
        clock: Monotonic = SYSTEM_MONOTONIC,
    ) -> None:
        self.token = token
        # The limits' windows and each call's ``at`` are read on this clock: give it the bot's
        # send budget's, so that both count the same seconds (tests run it on virtual time).
        self.clock = clock
        self.global_rate = global_rate
        self.per_chat_rate = per_chat_rate
        # Sends with allow_paid_broadcast ignore global_rate, up to paid_rate a second in all,
        # at PAID_MESSAGE_STARS each (counted in ``paid_messages``).
        self.paid_rate = paid_rate
        self.paid_messages = 0
        self.calls: list[ApiCall] = []
        self.blocked: set[int] = set()
        self.retry_after_count = 0
        self.webhook_url = ""
        self.commands: dict[tuple[str, str], list[JSONDict]] = {}
        self.menu_buttons: dict[int | None, JSONDict] = {}
        self.profile: dict[str, str] = {}
        self.pushed_updates: list[JSONDict] = []
        # Seconds to wait before answering a method (the message is already "delivered"), to
        # hold requests in flight, e.g. while a test kills the bot. Real seconds, not
        # ``clock``'s: a virtual clock would skip them while the test looks for the request.
        self.answer_delay: dict[str, float] = {}
        # Requests received per method, counted on arrival (``calls`` records them once answered).
        self.received: Counter[str] = Counter()
        # Uploaded documents and photos by file_id: file name, mime type and bytes (the demo's
        # chat page offers them for download).
        self.files: dict[str, JSONDict] = {}

        self._runner: web.AppRunner | None = None
        self._url: str | None = None
        self._closed = False
        self._changed = asyncio.Event()
        self._pending: list[JSONDict] = []
        self._next_update_id = _FIRST_UPDATE_ID
        self._callback_ids = itertools.count(4_242_000_001)
        self._open_callback_queries: set[str] = set()
        self._file_ids = itertools.count(1)
        self._faults: list[_Fault] = []
        self._global_window: deque[float] = deque()
        self._paid_window: deque[float] = deque()
        self._chat_windows: dict[int, deque[float]] = {}
        self._poll_generation = 0
        self._pollers = 0
        self._chats: dict[int, JSONDict] = {}
        self._users: dict[int, JSONDict] = {}
        self._message_counters: dict[int, int] = {}
        self._chat_messages: dict[int, dict[int, JSONDict]] = {}
        self._bot_messages: dict[int, dict[int, _BotMessage]] = {}
        self._handlers: dict[str, Callable[[JSONDict], Any]] = {
            "getMe": self._get_me,
            "setMyCommands": self._set_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "getMyCommands": self._get_my_commands,
            "setChatMenuButton": self._set_chat_menu_button,
            "getChatMenuButton": self._get_chat_menu_button,
            "setMyDescription": self._set_profile("description"),
            "setMyShortDescription": self._set_profile("short_description"),
            "setMyName": self._set_profile("name"),
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "answerCallbackQuery": self._answer_callback_query,
            "sendDocument": self._send_document,
            "sendPhoto": self._send_photo,
            "sendChatAction": self._send_chat_action,
            "deleteMessage": self._delete_message,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "logOut": self._true,
            "close": self._true,
        }
        self._method_names = {name.lower(): name for name in [*self._handlers, "getUpdates"]}

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Start serving on 127.0.0.1 on a free port."""
        if self._runner is not None:
            raise RuntimeError("FakeBotAPI already started")
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        port = runner.addresses[0][1]
        self._url = f"http://127.0.0.1:{port}"

    async def close(self) -> None:
        """Release pending long polls and stop the server (idempotent)."""
        self._closed = True
        self._notify()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    @property
    def url(self) -> str:
        """Root URL; bot requests go to ``{url}/bot{token}/{method}``."""
        if self._url is None:
            raise RuntimeError("FakeBotAPI not started")
        return self._url

    # ------------------------------------------------------------------ inspection

    def calls_of(self, method: str) -> list[ApiCall]:
        return [call for call in self.calls if call.method == method]

    async def wait_for(
        self,
        method: str,
        predicate: Callable[[ApiCall], bool] = lambda c: True,
        *,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - the timeout is part of the contract
    ) -> list[ApiCall]:
        """Return the first ``count`` answered calls of ``method`` matching ``predicate``.

        ``calls`` only grows, so each look reads only the calls recorded since the last one:
        a hundred waiters re-reading thousands of calls at every answer took most of the CPU
        of a test of many patients at once."""
        found: list[ApiCall] = []
        read = 0

        def enough() -> bool:
            nonlocal read
            calls = self.calls
            while read < len(calls) and len(found) < count:
                call = calls[read]
                read += 1
                if call.method == method and predicate(call):
                    found.append(call)
            return len(found) >= count

        try:
            await self._wait_until(enough, timeout)
        except TimeoutError:
            raise AssertionError(
                f"timed out after {timeout}s waiting for {count} matching {method} call(s), "
                f"got {len(found)}; recent calls:\n{self.describe_calls()}"
            ) from None
        return found

    async def wait_until_polling(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until a getUpdates long poll is waiting for updates."""
        try:
            await self._wait_until(lambda: self._pollers > 0, timeout)
        except TimeoutError:
            raise AssertionError(
                f"no getUpdates long poll within {timeout}s; recent calls:\n{self.describe_calls()}"
            ) from None

    def describe_calls(self, last: int = 25) -> str:
        """Human-readable listing of the most recent calls."""
        if not self.calls:
            return "  (no calls)"
        lines = []
        for call in self.calls[-last:]:
            params = ", ".join(f"{k}={_short(v)}" for k, v in call.params.items())
            lines.append(f"  {call.method} -> {call.status} ({params})")
        return "\n".join(lines)

    def messages_to(self, chat_id: int) -> list[dict[str, Any]]:
        """Bot messages in a chat, in order, each in its current state (deleted ones omitted)."""
        return [
            {
                "message_id": state.message["message_id"],
                "text": state.text,
                "reply_markup": copy.deepcopy(state.reply_markup),
                "parse_mode": state.parse_mode,
                "edited": state.edited,
                "document": state.document,
                "photo": "photo" in state.message,
            }
            for state in self._bot_messages.get(chat_id, {}).values()
        ]

    def last_text(self, chat_id: int) -> str:
        """Text (or caption) of the latest bot message in the chat that has one."""
        for message in reversed(self.messages_to(chat_id)):
            if message["text"] is not None:
                return str(message["text"])
        raise AssertionError(f"the bot sent no text to chat {chat_id}")

    def chat_history(self, chat_id: int) -> list[JSONDict]:
        """Every message of a chat, the user's and the bot's, in order, each as it is now."""
        messages = self._chat_messages.get(chat_id, {})
        return [copy.deepcopy(messages[message_id]) for message_id in sorted(messages)]

    async def wait_for_change(self, timeout: float) -> None:  # noqa: ASYNC109
        """Return at the next call or update, or after ``timeout`` seconds (live chat views)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._changed.wait()

    def commands_for(
        self, scope: JSONDict | None = None, language_code: str = ""
    ) -> list[JSONDict]:
        """Commands set for a scope (default scope if None) and language."""
        return copy.deepcopy(self.commands.get((_scope_key(scope), language_code), []))

    # ------------------------------------------------------------------ updates

    async def wait_for_requests(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - the timeout is part of the contract
    ) -> None:
        """Wait until ``count`` requests of ``method`` have arrived, answered or not."""
        try:
            await self._wait_until(lambda: self.received[method] >= count, timeout)
        except TimeoutError:
            raise AssertionError(
                f"timed out after {timeout}s waiting for {count} {method} request(s), "
                f"got {self.received[method]}"
            ) from None

    def push_update(self, update: dict[str, Any]) -> int:
        """Queue an update for getUpdates; assigns ``update_id`` if missing and returns it."""
        update_id = self._register(update)
        # In update_id order; nearly always the newest, so an insertion instead of a re-sort.
        bisect.insort(self._pending, update, key=lambda u: int(u["update_id"]))
        self.pushed_updates.append(update)
        self._notify()
        return update_id

    async def post_update(
        self, url: str, update: dict[str, Any], *, secret_token: str | None
    ) -> int:
        """Deliver ``update`` as Telegram does in webhook mode: POST it to ``url``.

        ``secret_token`` goes in the ``X-Telegram-Bot-Api-Secret-Token`` header (None: no
        header). Returns the HTTP status the bot answered.
        """
        self._register(update)
        headers = {} if secret_token is None else {"X-Telegram-Bot-Api-Secret-Token": secret_token}
        async with (
            ClientSession() as session,
            session.post(url, json=update, headers=headers) as response,
        ):
            return response.status

    def _register(self, update: dict[str, Any]) -> int:
        if "update_id" not in update:
            update["update_id"] = self._next_update_id
        update_id = int(update["update_id"])
        self._next_update_id = max(self._next_update_id, update_id + 1)
        self._remember(update)
        return update_id

    def send_text(self, user_id: int, text: str, **sender: Any) -> int:
        """Queue a text message from a user (options of :meth:`text_update`); return its id."""
        return self.push_update(self.text_update(user_id, text, **sender))

    def text_update(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        chat_type: str = "private",
        first_name: str = "Pat",
        language_code: str | None = None,
        username: str | None = None,
    ) -> dict[str, Any]:
        """A text message from a user, as an update without an id (push or post it).

        ``language_code`` is the user's app language; once given, later messages keep it, as
        Telegram does (default "en")."""
        known = str(self._users.get(user_id, {}).get("language_code", "en"))
        message = self._user_message(
            user_id,
            chat_id,
            chat_type,
            first_name,
            language_code or known,
            {"text": text},
            username,
        )
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": _utf16_len(command)}
            ]
        return {"message": message}

    def share_location(self, user_id: int, latitude: float, longitude: float) -> int:
        """Queue a location message from a user (private chat); returns the update_id."""
        user = self._users.get(user_id, {})
        message = self._user_message(
            user_id,
            None,
            "private",
            str(user.get("first_name", "Pat")),
            str(user.get("language_code", "en")),
            {"location": {"latitude": latitude, "longitude": longitude}},
        )
        return self.push_update({"message": message})

    def press_button(
        self, user_id: int, message_id: int, data: str, *, chat_id: int | None = None
    ) -> str:
        """Queue a callback query for an inline button; returns the callback query id."""
        chat_id = user_id if chat_id is None else chat_id
        state = self._bot_messages.get(chat_id, {}).get(message_id)
        if state is not None:
            message = copy.deepcopy(state.message)
        else:
            message = {"message_id": message_id, "date": _now(), "chat": self._chat(chat_id)}
        query_id = str(next(self._callback_ids))
        query = {
            "id": query_id,
            "from": self._user(user_id),
            "message": message,
            "chat_instance": f"-{abs(chat_id) * 7919 + 1}",
            "data": data,
        }
        self.push_update({"callback_query": query})
        return query_id

    # ------------------------------------------------------------------ fault injection

    def fail(
        self,
        method: str,
        *,
        status: int,
        description: str = "",
        retry_after: int | None = None,
        times: int = 1,
        chat_id: int | None = None,
        html_body: bool = False,
    ) -> None:
        """Answer the next ``times`` matching calls of ``method`` with an error.

        ``status=0`` drops the connection without an answer; ``html_body`` answers with an HTML
        page (as nginx does for a 502) instead of Telegram's JSON.
        """
        self._faults.append(
            _Fault(method, status, description, retry_after, times, chat_id, html_body)
        )

    # ------------------------------------------------------------------ HTTP plumbing

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        at = self.clock.monotonic()
        match = _PATH_RE.fullmatch(request.match_info["tail"])
        if match is None:
            return _error_response(_ApiError(404, "Not Found"))
        token, raw_method = match.groups()
        method = self._method_names.get(raw_method.lower(), raw_method)
        self.received[method] += 1
        self._notify()
        try:
            params = await _read_params(request)
        except ValueError as exc:
            params = {}
            error: _ApiError | None = _bad_request(str(exc))
        else:
            error = None
        try:
            if error is not None:
                raise error
            result = await self._dispatch(token, method, params)
        except _ApiError as exc:
            if exc.status == HTTPStatus.TOO_MANY_REQUESTS:
                self.retry_after_count += 1
            self._record(ApiCall(method, params, exc.status, at))
            return _error_response(exc)
        except _HtmlError as exc:
            self._record(ApiCall(method, params, exc.status, at))
            page = f"<html><body><h1>{exc.status} {_status_phrase(exc.status)}</h1></body></html>"
            return web.Response(status=exc.status, text=page, content_type="text/html")
        except _DropConnection:
            self._record(ApiCall(method, params, 0, at))
            if request.transport is not None:
                request.transport.abort()
            raise web.HTTPInternalServerError() from None  # never reaches the client
        self._record(ApiCall(method, params, 200, at))
        return web.json_response({"ok": True, "result": result})

    async def _dispatch(self, token: str, method: str, params: JSONDict) -> Any:
        if token != self.token:
            raise _ApiError(401, "Unauthorized")
        if method != "getUpdates" and method not in self._handlers:
            raise _ApiError(404, "Not Found")
        unknown = botapi_rules.unknown_parameters(method, frozenset(params))
        if unknown:
            # Checked against the published Bot API: a parameter the method does not take is
            # a mistake in the bot, so the stand-in refuses it rather than ignore it.
            raise _bad_request(f"method {method} does not take parameter {unknown[0]}")
        self._apply_fault(method, params)
        chat_id = params.get("chat_id")
        if method in _BLOCKABLE_METHODS and isinstance(chat_id, int) and chat_id in self.blocked:
            raise _ApiError(403, _BLOCKED_DESCRIPTION)
        self._apply_rate_limit(method, params)
        if method == "getUpdates":
            return await self._get_updates(params)
        result = self._handlers[method](params)
        delay = self.answer_delay.get(method, 0.0)
        if delay:
            await asyncio.sleep(delay)
        return result

    def _record(self, call: ApiCall) -> None:
        self.calls.append(call)
        self._notify()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_until(self, condition: Callable[[], bool], timeout: float) -> None:  # noqa: ASYNC109
        async with asyncio.timeout(timeout):
            while not condition():
                await self._changed.wait()

    def _apply_fault(self, method: str, params: JSONDict) -> None:
        for fault in self._faults:
            if fault.method != method or fault.remaining <= 0:
                continue
            if fault.chat_id is not None and params.get("chat_id") != fault.chat_id:
                continue
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._faults.remove(fault)
            if fault.status == 0:
                raise _DropConnection
            if fault.html_body:
                raise _HtmlError(fault.status)
            if fault.status == HTTPStatus.TOO_MANY_REQUESTS:
                raise _too_many_requests(fault.retry_after or 1, fault.description)
            if fault.description:
                description = fault.description
            elif fault.status == HTTPStatus.FORBIDDEN:
                description = _BLOCKED_DESCRIPTION
            elif fault.status >= HTTPStatus.INTERNAL_SERVER_ERROR:
                description = "Internal Server Error"
            else:
                description = _status_phrase(fault.status)
            parameters = {"retry_after": fault.retry_after} if fault.retry_after else None
            raise _ApiError(fault.status, description, parameters)

    def _apply_rate_limit(self, method: str, params: JSONDict) -> None:
        if method not in _SENDING_METHODS:
            return
        now = self.clock.monotonic()
        paid = _truthy(params.get("allow_paid_broadcast"))
        windows: list[tuple[deque[float], float]] = []
        if paid:
            windows.append((self._paid_window, self.paid_rate))
        elif self.global_rate is not None:
            windows.append((self._global_window, self.global_rate))
        chat_id = params.get("chat_id")
        if self.per_chat_rate is not None and isinstance(chat_id, int):
            windows.append((self._chat_windows.setdefault(chat_id, deque()), self.per_chat_rate))
        for window, _ in windows:
            while window and window[0] <= now - 1.0:
                window.popleft()
        if any(len(window) >= rate for window, rate in windows):
            raise _too_many_requests(1)
        for window, _ in windows:
            window.append(now)
        if paid:
            self.paid_messages += 1

    # ------------------------------------------------------------------ chats, users, messages

    def _user(self, user_id: int) -> JSONDict:
        return copy.deepcopy(
            self._users.get(user_id)
            or {"id": user_id, "is_bot": False, "first_name": "Pat", "language_code": "en"}
        )

    def _chat(self, chat_id: int) -> JSONDict:
        known = self._chats.get(chat_id)
        if known is not None:
            return copy.deepcopy(known)
        if chat_id > 0:
            return {"id": chat_id, "type": "private", "first_name": "Pat"}
        kind = "supergroup" if str(chat_id).startswith("-100") else "group"
        return {"id": chat_id, "type": kind, "title": "Test Group"}

    def _next_message_id(self, chat_id: int) -> int:
        self._message_counters[chat_id] = self._message_counters.get(chat_id, 0) + 1
        return self._message_counters[chat_id]

    def _user_message(
        self,
        user_id: int,
        chat_id: int | None,
        chat_type: str,
        first_name: str,
        language_code: str,
        content: JSONDict,
        username: str | None = None,
    ) -> JSONDict:
        chat_id = user_id if chat_id is None else chat_id
        user: JSONDict = {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name,
            "language_code": language_code,
        }
        if username is None:
            # A later message without one (most test helpers) keeps the name the user has.
            username = self._users.get(user_id, {}).get("username")
        if username is not None:
            user["username"] = username
        self._users[user_id] = user
        if chat_type == "private":
            chat: JSONDict = {"id": chat_id, "type": "private", "first_name": first_name}
        else:
            chat = {"id": chat_id, "type": chat_type, "title": "Test Group"}
        self._chats[chat_id] = chat
        return {
            "message_id": self._next_message_id(chat_id),
            "from": copy.deepcopy(user),
            "chat": copy.deepcopy(chat),
            "date": _now(),
            **content,
        }

    def _remember(self, update: JSONDict) -> None:
        """Track chats, users, message ids and callback ids of a pushed update."""
        query = update.get("callback_query")
        if isinstance(query, dict) and "id" in query:
            self._open_callback_queries.add(str(query["id"]))
        message = update.get("message")
        if not isinstance(message, dict):
            return
        chat = message.get("chat")
        if not isinstance(chat, dict) or not isinstance(chat.get("id"), int):
            return
        chat_id: int = chat["id"]
        self._chats.setdefault(chat_id, copy.deepcopy(chat))
        message_id = message.get("message_id")
        if isinstance(message_id, int):
            self._chat_messages.setdefault(chat_id, {})[message_id] = copy.deepcopy(message)
            self._message_counters[chat_id] = max(
                self._message_counters.get(chat_id, 0), message_id
            )

    def _new_bot_message(
        self,
        chat_id: int,
        content: JSONDict,
        markup: JSONDict | None,
        params: JSONDict,
        *,
        text: str | None,
        document: str | None = None,
    ) -> JSONDict:
        message: JSONDict = {
            "message_id": self._next_message_id(chat_id),
            "from": self._bot_user(),
            "chat": self._chat(chat_id),
            "date": _now(),
            **content,
        }
        reply = params.get("reply_parameters")
        if isinstance(reply, dict) and isinstance(reply.get("message_id"), int):
            replied = self._chat_messages.get(chat_id, {}).get(reply["message_id"])
            if replied is not None:
                message["reply_to_message"] = copy.deepcopy(replied)
            elif not _truthy(reply.get("allow_sending_without_reply")):
                raise _bad_request("message to be replied not found")
        if markup is not None and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        self._chat_messages.setdefault(chat_id, {})[message["message_id"]] = message
        self._bot_messages.setdefault(chat_id, {})[message["message_id"]] = _BotMessage(
            message=message,
            text=text,
            reply_markup=markup,
            parse_mode=_optional_str(params.get("parse_mode")),
            document=document,
        )
        return copy.deepcopy(message)

    def _message_to_edit(self, params: JSONDict) -> tuple[int, _BotMessage]:
        if "inline_message_id" in params:
            raise _bad_request("MESSAGE_ID_INVALID")
        chat_id = _require_chat_id(params)
        message_id = params.get("message_id")
        if not isinstance(message_id, int):
            raise _bad_request("message identifier is not specified")
        state = self._bot_messages.get(chat_id, {}).get(message_id)
        if state is None:
            if message_id in self._chat_messages.get(chat_id, {}):
                raise _bad_request("message can't be edited")
            raise _bad_request("message to edit not found")
        return chat_id, state

    @staticmethod
    def _bot_user() -> JSONDict:
        return {
            "id": BOT_USER_ID,
            "is_bot": True,
            "first_name": BOT_FIRST_NAME,
            "username": BOT_USERNAME,
        }

    # ------------------------------------------------------------------ Bot API methods

    def _true(self, params: JSONDict) -> bool:
        return True

    def _get_me(self, params: JSONDict) -> JSONDict:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: JSONDict) -> list[JSONDict]:
        if self.webhook_url:
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = params.get("offset")
        limit = params.get("limit", 100)
        limit = min(max(limit, 1), 100) if isinstance(limit, int) else 100
        timeout = params.get("timeout", 0)
        timeout = float(timeout) if isinstance(timeout, int | float) else 0.0
        if isinstance(offset, int):
            if offset < 0:
                self._pending = self._pending[offset:]
            else:
                first = bisect.bisect_left(self._pending, offset, key=lambda u: int(u["update_id"]))
                del self._pending[:first]

        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # a newer poll terminates an older waiting one
        deadline = asyncio.get_running_loop().time() + timeout
        self._pollers += 1
        try:
            while True:
                if generation != self._poll_generation:
                    raise _ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; make sure that "
                        "only one bot instance is running",
                    )
                if self._pending or self._closed:
                    # The answer is encoded as JSON at once and a queued update is never
                    # changed, so a slice is enough (a deep copy per poll cost the most here).
                    return self._pending[:limit]
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0:
                    return []
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(remaining):
                        await self._changed.wait()
        finally:
            self._pollers -= 1
            self._notify()

    def _set_my_commands(self, params: JSONDict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad_request('parameter "commands" is required')
        if len(commands) > 100:
            raise _bad_request("too many commands specified")
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND_RE.fullmatch(
                str(command.get("command", ""))
            ):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = (_scope_key(params.get("scope")), str(params.get("language_code", "")))
        self.commands[key] = copy.deepcopy(commands)
        return True

    def _delete_my_commands(self, params: JSONDict) -> bool:
        key = (_scope_key(params.get("scope")), str(params.get("language_code", "")))
        self.commands.pop(key, None)
        return True

    def _get_my_commands(self, params: JSONDict) -> list[JSONDict]:
        key = (_scope_key(params.get("scope")), str(params.get("language_code", "")))
        return copy.deepcopy(self.commands.get(key, []))

    def _set_chat_menu_button(self, params: JSONDict) -> bool:
        chat_id = params.get("chat_id")
        button = params.get("menu_button") or {"type": "default"}
        if not isinstance(button, dict) or button.get("type") not in {
            "default",
            "commands",
            "web_app",
        }:
            raise _bad_request("can't parse menu button JSON object")
        self.menu_buttons[chat_id if isinstance(chat_id, int) else None] = button
        return True

    def _get_chat_menu_button(self, params: JSONDict) -> JSONDict:
        chat_id = params.get("chat_id")
        key = chat_id if isinstance(chat_id, int) else None
        button = self.menu_buttons.get(key) or self.menu_buttons.get(None)
        return copy.deepcopy(button or {"type": "commands"})

    def _set_profile(self, field: str) -> Callable[[JSONDict], bool]:
        def handler(params: JSONDict) -> bool:
            language = str(params.get("language_code", ""))
            self.profile[f"{field}:{language}" if language else field] = str(params.get(field, ""))
            return True

        return handler

    def _send_message(self, params: JSONDict) -> JSONDict:
        chat_id = _require_chat_id(params)
        text = params.get("text")
        if not isinstance(text, str) or not text:
            raise _bad_request("message text is empty")
        _check_formatted(text, params.get("parse_mode"), limit=_MAX_TEXT, what="text")
        markup = _check_markup(params.get("reply_markup"))
        content: JSONDict = {"text": text}
        if isinstance(params.get("link_preview_options"), dict):
            content["link_preview_options"] = params["link_preview_options"]
        return self._new_bot_message(chat_id, content, markup, params, text=text)

    def _edit_message_text(self, params: JSONDict) -> JSONDict:
        _, state = self._message_to_edit(params)
        text = params.get("text")
        if not isinstance(text, str) or not text:
            raise _bad_request("message text is empty")
        if state.document is not None or "text" not in state.message:
            raise _bad_request("there is no text in the message to edit")
        _check_formatted(text, params.get("parse_mode"), limit=_MAX_TEXT, what="text")
        markup = _check_markup(params.get("reply_markup"), inline_only=True)
        parse_mode = _optional_str(params.get("parse_mode"))
        if (text, parse_mode, markup) == (state.text, state.parse_mode, state.reply_markup):
            raise _bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        state.text = text
        state.parse_mode = parse_mode
        state.message["text"] = text
        return self._apply_edit(state, markup)

    def _edit_message_reply_markup(self, params: JSONDict) -> JSONDict:
        _, state = self._message_to_edit(params)
        markup = _check_markup(params.get("reply_markup"), inline_only=True)
        if markup == state.reply_markup:
            raise _bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        return self._apply_edit(state, markup)

    @staticmethod
    def _apply_edit(state: _BotMessage, markup: JSONDict | None) -> JSONDict:
        state.reply_markup = markup
        if markup is None:
            state.message.pop("reply_markup", None)
        else:
            state.message["reply_markup"] = markup
        state.message["edit_date"] = _now()
        state.edited = True
        return copy.deepcopy(state.message)

    def _answer_callback_query(self, params: JSONDict) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        if query_id not in self._open_callback_queries:
            raise _bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        if len(str(params.get("text", ""))) > 200:
            raise _bad_request("MESSAGE_TOO_LONG")
        self._open_callback_queries.discard(query_id)
        return True

    def _send_document(self, params: JSONDict) -> JSONDict:
        chat_id = _require_chat_id(params)
        document = params.get("document")
        number = next(self._file_ids)
        file: JSONDict = {"file_id": f"BQACAgTEST{number:06d}", "file_unique_id": f"AgAD{number}"}
        if isinstance(document, dict):
            filename = str(document.get("filename") or "document")
            content = document.get("content", b"")
            file["file_name"] = filename
            file["mime_type"] = str(document.get("mime_type") or "application/octet-stream")
            file["file_size"] = len(content) if isinstance(content, bytes) else 0
            if not file["file_size"]:
                raise _bad_request("file must be non-empty")
            self.files[file["file_id"]] = {
                "filename": filename,
                "mime_type": file["mime_type"],
                "content": content,
            }
        elif isinstance(document, str) and document:
            filename = document.rstrip("/").rsplit("/", 1)[-1]
            file["file_name"] = filename
        else:
            raise _bad_request("there is no document in the request")
        caption = params.get("caption")
        content_fields: JSONDict = {"document": file}
        if isinstance(caption, str) and caption:
            _check_formatted(caption, params.get("parse_mode"), limit=_MAX_CAPTION, what="caption")
            content_fields["caption"] = caption
        markup = _check_markup(params.get("reply_markup"))
        return self._new_bot_message(
            chat_id,
            content_fields,
            markup,
            params,
            text=caption if isinstance(caption, str) and caption else None,
            document=filename,
        )

    def _send_photo(self, params: JSONDict) -> JSONDict:
        chat_id = _require_chat_id(params)
        photo = params.get("photo")
        if not isinstance(photo, dict) or not isinstance(photo.get("content"), bytes):
            raise _bad_request("there is no photo in the request")
        if not photo["content"]:
            raise _bad_request("file must be non-empty")
        width, height = _check_photo(photo["content"])
        number = next(self._file_ids)
        size: JSONDict = {
            "file_id": f"AgACAgTEST{number:06d}",
            "file_unique_id": f"AQAD{number}",
            "width": width,
            "height": height,
            "file_size": len(photo["content"]),
        }
        # Telegram stores photos as JPEG; a PNG stays a PNG here, so the demo can show it.
        png = photo["content"].startswith(b"\x89PNG")
        self.files[size["file_id"]] = {
            "filename": f"photo_{number}.{'png' if png else 'jpg'}",
            "mime_type": "image/png" if png else "image/jpeg",
            "content": photo["content"],
        }
        caption = params.get("caption")
        content_fields: JSONDict = {"photo": [size]}
        if isinstance(caption, str) and caption:
            _check_formatted(caption, params.get("parse_mode"), limit=_MAX_CAPTION, what="caption")
            content_fields["caption"] = caption
        return self._new_bot_message(
            chat_id,
            content_fields,
            _check_markup(params.get("reply_markup")),
            params,
            text=caption if isinstance(caption, str) and caption else None,
            document=size["file_id"],
        )

    def _send_chat_action(self, params: JSONDict) -> bool:
        _require_chat_id(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        return True

    def _delete_message(self, params: JSONDict) -> bool:
        chat_id = _require_chat_id(params)
        message_id = params.get("message_id")
        messages = self._chat_messages.get(chat_id, {})
        if not isinstance(message_id, int) or message_id not in messages:
            raise _bad_request("message to delete not found")
        # Bot API: "A message can only be deleted if it was sent less than 48 hours ago."
        if _now() - int(messages[message_id].get("date", _now())) >= _DELETE_WITHIN:
            raise _bad_request("message can't be deleted")
        del messages[message_id]
        self._bot_messages.get(chat_id, {}).pop(message_id, None)
        return True

    def _set_webhook(self, params: JSONDict) -> bool:
        url = params.get("url")
        if not isinstance(url, str):
            raise _bad_request('parameter "url" is required')
        if url and not url.startswith("https://"):
            raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        self.webhook_url = url
        if _truthy(params.get("drop_pending_updates")):
            self._pending.clear()
        self._notify()
        return True

    def _delete_webhook(self, params: JSONDict) -> bool:
        self.webhook_url = ""
        if _truthy(params.get("drop_pending_updates")):
            self._pending.clear()
        return True

    def _get_webhook_info(self, params: JSONDict) -> JSONDict:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }


# ---------------------------------------------------------------------- helpers


_MAX_PHOTO_BYTES = 10 * 1024 * 1024
_MAX_PHOTO_SIDES = 10_000  # width + height
_MAX_PHOTO_RATIO = 20
_JPEG_SIZE_MARKERS = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB})


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG (its IHDR) or JPEG (its SOF segment); None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR" and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if not data.startswith(b"\xff\xd8"):
        return None
    at = 2
    while at + 9 < len(data):
        if data[at] != 0xFF:
            return None
        marker, length = data[at + 1], int.from_bytes(data[at + 2 : at + 4], "big")
        if marker in _JPEG_SIZE_MARKERS:
            height = int.from_bytes(data[at + 5 : at + 7], "big")
            return int.from_bytes(data[at + 7 : at + 9], "big"), height
        at += 2 + length
    return None


def _check_photo(content: bytes) -> tuple[int, int]:
    """Telegram's limits for an uploaded photo (Bot API, sendPhoto): at most 10 MB, width plus
    height at most 10000, the ratio of the sides at most 20."""
    if len(content) > _MAX_PHOTO_BYTES:
        raise _bad_request("file is too big")
    size = image_size(content)
    if size is None or 0 in size:
        raise _bad_request("IMAGE_PROCESS_FAILED")
    width, height = size
    if width + height > _MAX_PHOTO_SIDES or max(width, height) > _MAX_PHOTO_RATIO * min(
        width, height
    ):
        raise _bad_request("PHOTO_INVALID_DIMENSIONS")
    return width, height


def _require_chat_id(params: JSONDict) -> int:
    chat_id = params.get("chat_id")
    if chat_id is None or chat_id == "":
        raise _bad_request("chat_id is empty")
    if not isinstance(chat_id, int):
        raise _bad_request("chat not found")
    return chat_id


def _optional_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _scope_key(scope: Any) -> str:
    if not isinstance(scope, dict) or not scope:
        scope = {"type": "default"}
    return json.dumps(scope, sort_keys=True)


def _short(value: Any) -> str:
    if isinstance(value, dict) and isinstance(value.get("content"), bytes):
        value = {**value, "content": f"<{len(value['content'])} bytes>"}
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _status_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _error_response(error: _ApiError) -> web.Response:
    body: JSONDict = {"ok": False, "error_code": error.status, "description": error.description}
    if error.parameters:
        body["parameters"] = error.parameters
    return web.json_response(body, status=error.status)


async def _read_params(request: web.Request) -> JSONDict:
    """Decode query string, form, JSON or multipart fields like the Bot API does."""
    raw: JSONDict = dict(request.query)
    files: dict[str, JSONDict] = {}
    if request.can_read_body:
        if request.content_type == "application/json":
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError("JSON body must be an object")
            raw.update(body)
        elif request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if not isinstance(part, BodyPartReader) or part.name is None:
                    continue
                data = await part.read(decode=True)
                if part.filename is not None:
                    files[part.name] = {
                        "filename": part.filename,
                        "content": bytes(data),
                        "mime_type": part.headers.get("Content-Type", ""),
                    }
                else:
                    raw[part.name] = bytes(data).decode(part.get_charset("utf-8"))
        else:
            raw.update(await request.post())
    params = {name: _decode_param(name, value) for name, value in raw.items()}
    for name, value in list(params.items()):
        if isinstance(value, str) and value.startswith("attach://"):
            attached = files.pop(value.removeprefix("attach://"), None)
            if attached is not None:
                params[name] = attached
    params.update(files)
    return params
