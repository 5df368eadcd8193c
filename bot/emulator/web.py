"""The demo's web chat: a page that looks like a Telegram chat, served next to the emulator.

The page (``static/``, plain HTML, CSS and JavaScript, nothing fetched from elsewhere) talks to
this JSON API; every action becomes what Telegram would send the bot (an update in the
emulator), and every answer is read back from the emulator's record of the chat.

    GET  /api/state?user=ID&since=N   the chat of one demo user (long poll until it changes)
    POST /api/send   {"user", "text"}               a message from that user
    POST /api/press  {"user", "message_id", "data"} an inline button pressed
    POST /api/location {"user", "latitude", "longitude"} a shared location
    POST /api/clock  {"user", "action", "date"}     the time machine: next_event, next_dose,
                                                    hour, day, date
    GET  /api/file/FILE_ID                          a document or photo the bot sent
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.clock import ShiftedClock
from bot.emulator.api import FakeBotAPI, JSONDict

log = logging.getLogger(__name__)

# A long poll answers at the latest after this long, so proxies and browsers never time out.
LONG_POLL_SECONDS = 20.0
_STATIC = resources.files("bot.emulator").joinpath("static")
_STATIC_TYPES = {".html": "text/html", ".css": "text/css", ".js": "text/javascript"}


@dataclass(frozen=True)
class DemoUser:
    user_id: int
    first_name: str
    role: str  # "patient" or "admin": the page shows it next to the name
    language_code: str = "en"  # the app language Telegram would report for them


# The next due dose of a user after an instant, and a user's time zone (None: not chosen yet).
NextDose = Callable[[int, datetime], Awaitable[datetime | None]]
UserZone = Callable[[int], Awaitable[ZoneInfo]]
# The next instant the bot's dispatcher has work (any user), and one dispatcher pass, awaited
# until it has sent what was due.
NextEvent = Callable[[], Awaitable[datetime | None]]
Dispatch = Callable[[], Awaitable[None]]

# A jump stops at most this many times on its way; the rest of the way is one jump, which the
# bot treats as a downtime (the missed-dose rule). Keeps a jump of years to a few seconds.
MAX_STOPS = 300


class DemoChat:
    """The web chat server; :meth:`start` serves it on ``host:port`` (0: any free port)."""

    def __init__(
        self,
        api: FakeBotAPI,
        clock: ShiftedClock,
        users: tuple[DemoUser, ...],
        *,
        next_dose: NextDose,
        user_zone: UserZone,
        next_event: NextEvent,
        dispatch: Dispatch,
    ) -> None:
        self._api = api
        self._clock = clock
        self._users = {user.user_id: user for user in users}
        self._next_dose = next_dose
        self._user_zone = user_zone
        self._next_event = next_event
        self._dispatch = dispatch
        self._travelling = asyncio.Lock()  # one jump at a time, even from two tabs
        self._runner: web.AppRunner | None = None
        self.url = ""
        # Callback queries pressed in the page, and the short answers ("toasts") the bot gave.
        self._pressed: dict[str, int] = {}
        self._toasts: dict[int, list[str]] = {}
        self._calls_seen = 0
        # When each message appeared, on the bot's clock (the emulator dates them in real time,
        # which the time machine leaves behind).
        self._stamps: dict[tuple[int, int], datetime] = {}
        # The text each message first had: Telegram marks a message "edited" when its text
        # changes, not when the bot only takes its buttons away.
        self._first_texts: dict[tuple[int, int], str] = {}
        self._stamper: asyncio.Task[None] | None = None

    async def start(self, host: str, port: int) -> None:
        app = web.Application()
        app.router.add_get("/", self._index)
        app.router.add_get("/static/{name}", self._static)
        app.router.add_get("/api/state", self._state)
        app.router.add_post("/api/send", self._send)
        app.router.add_post("/api/press", self._press)
        app.router.add_post("/api/location", self._location)
        app.router.add_post("/api/clock", self._clock_jump)
        app.router.add_get("/api/file/{file_id}", self._file)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        self._runner = runner
        self._stamper = asyncio.create_task(self._stamp_forever())
        bound_host, bound_port = runner.addresses[0][:2]
        self.url = f"http://{bound_host}:{bound_port}/"

    async def close(self) -> None:
        if self._stamper is not None:
            self._stamper.cancel()
            await asyncio.wait({self._stamper})
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    # ------------------------------------------------------------------ page

    async def _index(self, request: web.Request) -> web.Response:
        return self._static_file("index.html")

    async def _static(self, request: web.Request) -> web.Response:
        return self._static_file(request.match_info["name"])

    @staticmethod
    def _static_file(name: str) -> web.Response:
        suffix = name[name.rfind(".") :] if "." in name else ""
        resource = _STATIC.joinpath(name)
        if suffix not in _STATIC_TYPES or "/" in name or not resource.is_file():
            raise web.HTTPNotFound()
        return web.Response(
            body=resource.read_bytes(),
            content_type=_STATIC_TYPES[suffix],
            charset="utf-8",
            headers={"Cache-Control": "no-store"},
        )

    # ------------------------------------------------------------------ API

    def _version(self) -> int:
        """Grows with every update the page sent and every call the bot made."""
        return len(self._api.calls) + len(self._api.pushed_updates)

    async def _state(self, request: web.Request) -> web.Response:
        user = self._user(request.query.get("user"))
        since = request.query.get("since", "")
        if since.isdigit():
            # Long poll: answer as soon as anything happens (or after LONG_POLL_SECONDS).
            loop = asyncio.get_running_loop()
            deadline = loop.time() + LONG_POLL_SECONDS
            while int(since) == self._version() and loop.time() < deadline:
                await self._api.wait_for_change(deadline - loop.time())
        self._collect_toasts()
        return web.json_response(await self._snapshot(user))

    def _menu(self, user: DemoUser) -> list[JSONDict]:
        """The menu Telegram would show: the chat's own, else everyone's; in each, the one for
        the user's app language first, then the one without a language."""
        chat = {"type": "chat", "chat_id": user.user_id}
        for scope in (chat, None):
            for language in (user.language_code, ""):
                commands = self._api.commands_for(scope, language)
                if commands:
                    return commands
        return []

    async def _snapshot(self, user: DemoUser) -> JSONDict:
        self._stamp()
        zone = await self._user_zone(user.user_id)
        now = self._clock.now().astimezone(zone)
        return {
            "version": self._version(),
            "users": [
                {"id": item.user_id, "name": item.first_name, "role": item.role}
                for item in self._users.values()
            ],
            "user": user.user_id,
            "clock": {
                "local": now.strftime("%a %d %b %Y, %H:%M"),
                "zone": str(zone),
                "date": now.date().isoformat(),
            },
            "commands": self._menu(user),
            "messages": [
                {**_view(message), **self._when(user.user_id, message, zone)}
                for message in self._api.chat_history(user.user_id)
            ],
            "toasts": self._toasts.pop(user.user_id, []),
        }

    async def _send(self, request: web.Request) -> web.Response:
        body = await _json(request)
        user = self._user(body.get("user"))
        text = str(body.get("text") or "").strip()
        if not text:
            raise _bad_request("empty message")
        self._api.send_text(
            user.user_id, text[:4096], first_name=user.first_name, language_code=user.language_code
        )
        return web.json_response({"ok": True})

    async def _press(self, request: web.Request) -> web.Response:
        body = await _json(request)
        user = self._user(body.get("user"))
        message_id, data = body.get("message_id"), body.get("data")
        if not isinstance(message_id, int) or not isinstance(data, str):
            raise _bad_request("message_id and data are required")
        query_id = self._api.press_button(user.user_id, message_id, data)
        self._pressed[query_id] = user.user_id
        return web.json_response({"ok": True})

    async def _location(self, request: web.Request) -> web.Response:
        body = await _json(request)
        user = self._user(body.get("user"))
        try:
            latitude, longitude = float(body["latitude"]), float(body["longitude"])
        except (KeyError, TypeError, ValueError):
            raise _bad_request("latitude and longitude are required") from None
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise _bad_request("latitude -90..90, longitude -180..180")
        self._api.share_location(user.user_id, latitude, longitude)
        return web.json_response({"ok": True})

    async def _clock_jump(self, request: web.Request) -> web.Response:
        body = await _json(request)
        user = self._user(body.get("user"))
        async with self._travelling:
            target = await self._target(user, body)
            if isinstance(target, web.Response):
                return target
            stops = await self._travel(target)
        log.info("demo_clock_moved action=%s stops=%d", body.get("action"), stops)
        return web.json_response({"ok": True, "stops": stops, **await self._snapshot(user)})

    async def _target(self, user: DemoUser, body: JSONDict) -> datetime | web.Response:
        """Where the time machine is asked to go (or why it cannot)."""
        action = body.get("action")
        now = self._clock.now()
        if action == "hour":
            return now + timedelta(hours=1)
        if action == "day":
            return now + timedelta(days=1)
        if action == "next_event":
            due = await self._next_event()
            if due is None:
                return _problem(
                    "Nothing is due: set a plan with /schedule, or move on with +1 day."
                )
            return max(due, now)
        if action == "next_dose":
            due = await self._next_dose(user.user_id, now)
            if due is None:
                return _problem(
                    "No dose is planned in the next days: set a plan with /schedule, or move "
                    "on with +1 day."
                )
            return due
        if action == "date":
            zone = await self._user_zone(user.user_id)
            try:
                day = date.fromisoformat(str(body.get("date")))
            except ValueError:
                return _problem("Pick a date.")
            # The same time of day on that date, in the patient's zone.
            local_now = now.astimezone(zone)
            target = datetime.combine(day, time(local_now.hour, local_now.minute), zone)
            if target <= now:
                return _problem("The time machine only goes forward.")
            return target
        raise _bad_request("unknown action")

    async def _travel(self, target: datetime) -> int:
        """Move the clock to ``target`` as a real clock would pass: to each instant on the
        way at which the dispatcher has work (a reminder, a follow-up, a missed-dose notice,
        a caregiver alert, a plan's start), one after the other, letting it send what is due
        there before going on. The bot's own rules (a follow-up more than 10 minutes late is
        dropped) stay as they are: nothing it sends is late. Returns the stops made."""
        stops = 0
        stuck = 0
        last: datetime | None = None
        while stops < MAX_STOPS:
            due = await self._next_event()
            if due is None or due > target:
                break
            if last is not None and due <= last:
                # A pass left something due at an instant already passed (a row it could not
                # act on): never loop on it; give up stopping after a few tries.
                stuck += 1
                if stuck > 3:
                    break
            else:
                stuck = 0
            last = max(due, self._clock.now())
            self._clock.advance_to(due)
            await self._dispatch()
            self._stamp()  # its messages appeared at this instant, not at the next stop
            stops += 1
        self._clock.advance_to(target)
        await self._dispatch()
        self._stamp()
        return stops

    async def _file(self, request: web.Request) -> web.Response:
        stored = self._api.files.get(request.match_info["file_id"])
        if stored is None:
            raise web.HTTPNotFound()
        name = str(stored["filename"]).replace('"', "")
        disposition = "inline" if str(stored["mime_type"]).startswith("image/") else "attachment"
        return web.Response(
            body=stored["content"],
            content_type=str(stored["mime_type"]),
            headers={"Content-Disposition": f'{disposition}; filename="{name}"'},
        )

    # ------------------------------------------------------------------ helpers

    def _user(self, raw: Any) -> DemoUser:
        if raw is None:  # the page's first look, before it picked a chat
            return next(iter(self._users.values()))
        with contextlib.suppress(TypeError, ValueError):
            user = self._users.get(int(raw))
            if user is not None:
                return user
        raise _bad_request("unknown demo user")

    async def _stamp_forever(self) -> None:
        while True:
            self._stamp()
            await self._api.wait_for_change(LONG_POLL_SECONDS)

    def _stamp(self) -> None:
        now = self._clock.now()
        for user_id in self._users:
            for message in self._api.chat_history(user_id):
                key = (user_id, message["message_id"])
                self._stamps.setdefault(key, now)
                self._first_texts.setdefault(key, _text(message))

    def _when(self, user_id: int, message: JSONDict, zone: ZoneInfo) -> JSONDict:
        stamp = self._stamps.get((user_id, message["message_id"]), self._clock.now())
        local = stamp.astimezone(zone)
        first_text = self._first_texts.get((user_id, message["message_id"]), _text(message))
        return {
            "time": local.strftime("%H:%M"),
            "day": local.strftime("%A %d %B %Y"),
            "edited": _text(message) != first_text,
        }

    def _collect_toasts(self) -> None:
        """Answers to button presses that carry a text, for the page to show briefly."""
        calls = self._api.calls
        for call in calls[self._calls_seen :]:
            if call.method != "answerCallbackQuery" or call.status != 200:
                continue
            user_id = self._pressed.pop(str(call.params.get("callback_query_id")), None)
            text = call.params.get("text")
            if user_id is not None and isinstance(text, str) and text:
                self._toasts.setdefault(user_id, []).append(text)
        self._calls_seen = len(calls)


def _view(message: JSONDict) -> JSONDict:
    """What the page draws of one message."""
    sender = message.get("from") or {}
    view: JSONDict = {
        "id": message["message_id"],
        "from_bot": bool(sender.get("is_bot")),
        "text": _text(message),
        "buttons": [
            [
                {key: button[key] for key in ("text", "callback_data", "url") if key in button}
                for button in row
            ]
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
        ],
    }
    document = message.get("document")
    if isinstance(document, dict):
        view["document"] = {
            "file_id": document.get("file_id"),
            "name": document.get("file_name", "document"),
            "size": document.get("file_size", 0),
        }
    photos = message.get("photo")
    if isinstance(photos, list) and photos:
        view["photo"] = {"file_id": photos[-1].get("file_id")}
    if "location" in message:
        view["location"] = message["location"]
    return view


def _text(message: JSONDict) -> str:
    return str(message.get("text") or message.get("caption") or "")


async def _json(request: web.Request) -> JSONDict:
    try:
        body = await request.json()
    except ValueError:
        raise _bad_request("JSON body expected") from None
    if not isinstance(body, dict):
        raise _bad_request("JSON object expected")
    return body


def _bad_request(message: str) -> web.HTTPBadRequest:
    body = json.dumps({"ok": False, "problem": message})
    return web.HTTPBadRequest(text=body, content_type="application/json")


def _problem(message: str) -> web.Response:
    return web.json_response({"ok": False, "problem": message}, status=409)
