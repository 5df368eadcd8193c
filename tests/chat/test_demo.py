"""The demo without a browser: its web chat API over HTTP, the time machine, the shifted clock.

The demo runs in-process here (emulator, real bot, web chat), with a database in a temporary
folder; the page's requests are made with an HTTP client. The browser tests drive the page.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp import ClientSession
from telegram import Bot

from bot.clock import ShiftedClock
from bot.content import ContentLibrary
from bot.emulator import demo, web
from bot.emulator.api import TEST_TOKEN, FakeBotAPI
from bot.emulator.web import DemoChat
from tests.conftest import RunningBot, process_env, start_process
from tests.reminder_helpers import advance_until_messages, save_plan

PATIENT = demo.USERS[0].user_id
# Where the demo's clock starts in these tests: a winter noon (Berlin is UTC+1), so what
# "+1 day" passes through does not depend on the hour the suite runs at.
DEMO_START = datetime(2027, 1, 12, 12, 0, tzinfo=UTC)


@dataclass
class DemoClient:
    session: ClientSession
    url: str

    async def state(self, user: int = PATIENT, since: int | None = None) -> dict[str, Any]:
        query = f"?user={user}" + ("" if since is None else f"&since={since}")
        async with self.session.get(f"{self.url}api/state{query}") as response:
            assert response.status == 200
            body: dict[str, Any] = await response.json()
            return body

    async def post(self, path: str, **body: Any) -> tuple[int, dict[str, Any]]:
        async with self.session.post(f"{self.url}api/{path}", json=body) as response:
            answer: dict[str, Any] = await response.json(content_type=None)
            return response.status, answer

    async def say(self, text: str, user: int = PATIENT) -> dict[str, Any]:
        """Send as the user; return the chat once the bot has answered."""
        before = await self.state(user)
        await self.post("send", user=user, text=text)
        return await self.until(lambda s: len(s["messages"]) > len(before["messages"]) + 1, user)

    async def press(self, label: str, user: int = PATIENT) -> dict[str, Any]:
        """Press the newest button labelled ``label`` (waiting for it to appear); return the
        chat once the bot has changed that message."""

        def find(state: dict[str, Any]) -> tuple[dict[str, Any], str] | None:
            for message in reversed(state["messages"]):
                for row in message["buttons"]:
                    for button in row:
                        if label in button["text"]:
                            return message, button["callback_data"]
            return None

        state = await self.until(lambda s: find(s) is not None, user)
        found = find(state)
        assert found is not None
        message, data = found
        await self.post("press", user=user, message_id=message["id"], data=data)
        return await self.until(
            lambda s: next(m for m in s["messages"] if m["id"] == message["id"]) != message, user
        )

    async def until(self, condition: Any, user: int = PATIENT) -> dict[str, Any]:
        state = await self.state(user)
        async with asyncio.timeout(10):
            while not condition(state):
                state = await self.state(user, since=state["version"])
        return state


@pytest.fixture
async def client(tmp_path: Path, library: ContentLibrary) -> AsyncIterator[DemoClient]:
    data_dir = tmp_path / "data" / "demo"
    # As in the other in-process tests (tests/conftest.py), no per-chat pace: the demo's own
    # stand-in enforces none, and a second between messages to one chat made these tests wait
    # 25 s in all. The pace is tested in tests/chat/test_send_budget.py; the browser tests run the
    # demo as it ships.
    settings = replace(demo.demo_settings("http://127.0.0.1", data_dir), send_rate_per_chat=1000.0)
    stop = asyncio.Event()
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        demo.run_demo(
            settings,
            library,
            port=0,
            data_dir=data_dir,
            stop=stop,
            announce=ready.set_result,
            clock=ShiftedClock(start=DEMO_START),
        )
    )
    try:
        async with asyncio.timeout(30):
            url = await asyncio.shield(ready)
        async with ClientSession() as session:
            yield DemoClient(session, url)
    finally:
        stop.set()
        await task


async def onboard(client: DemoClient) -> None:
    await client.say("/start")
    await client.press("I agree")
    await client.press("Berlin")  # the zone button names the city
    await client.press("United Kingdom")
    # Onboarding ends with two messages ("All set", then the follow-up choice); wait for both
    # so that a test's next "the newest message says ..." is not raced by the second.
    await client.until(lambda s: "One more choice" in s["messages"][-1]["text"])


def test_shifted_clock_runs_with_real_time_and_only_jumps_forward() -> None:
    clock = ShiftedClock()
    jumps: list[datetime] = []
    clock.subscribe(lambda: jumps.append(clock.now()))
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=1)
    clock.advance(timedelta(days=2))
    assert abs(clock.now() - datetime.now(UTC) - timedelta(days=2)) < timedelta(seconds=1)
    assert len(jumps) == 1
    with pytest.raises(ValueError, match="forward"):
        clock.advance(timedelta(seconds=-1))
    before = clock.now()
    clock.advance_to(before - timedelta(hours=5))  # already past: no jump back
    assert clock.now() >= before
    pinned = ShiftedClock(start=DEMO_START)  # starts where it is told, then runs on
    assert timedelta(0) <= pinned.now() - DEMO_START < timedelta(seconds=1)


async def test_page_and_its_files_are_served(client: DemoClient) -> None:
    for path, kind in (("", "text/html"), ("static/chat.js", "text/javascript")):
        async with client.session.get(client.url + path) as response:
            assert response.status == 200
            assert response.content_type == kind
    for missing in ("static/../web.py", "static/nothing.js", "api/file/nope"):
        async with client.session.get(client.url + missing) as response:
            assert response.status == 404, missing
    # Only 127.0.0.1: the demo is for this machine.
    assert client.url.startswith("http://127.0.0.1:")


async def test_users_commands_and_admin_menu(client: DemoClient) -> None:
    state = await client.state()
    assert [user["role"] for user in state["users"]] == ["patient"] * 3 + ["admin"]
    patient_menu = {command["command"] for command in state["commands"]}
    assert {"schedule", "today", "help"} <= patient_menu
    assert "broadcast" not in patient_menu
    admin = await client.state(user=demo.ADMIN_USER.user_id)
    assert "broadcast" in {command["command"] for command in admin["commands"]}
    status, _ = await client.post("send", user=424242, text="/start")
    assert status == 400  # only the demo's users


async def test_time_machine_to_the_first_dose_sends_the_reminder(client: DemoClient) -> None:
    status, answer = await client.post("clock", user=PATIENT, action="next_dose")
    assert status == 409
    assert "/schedule" in answer["problem"]
    await onboard(client)
    await client.say("/schedule standard tomorrow 08:00 14:00 20:00 target=20")
    await client.press("Save plan")
    await client.until(lambda s: "Saved" in s["messages"][-1]["text"])
    status, answer = await client.post("clock", user=PATIENT, action="next_dose")
    assert status == 200
    assert answer["clock"]["local"].endswith("08:00")
    assert answer["clock"]["zone"] == "Europe/Berlin"
    state = await client.until(
        lambda s: "Time for your dose" in s["messages"][-1]["text"] and s["messages"][-1]["buttons"]
    )
    reminder = state["messages"][-1]
    assert reminder["time"] == "08:00"
    state = await client.press("Taken")
    edited = next(message for message in state["messages"] if message["id"] == reminder["id"])
    assert "recorded as taken" in edited["text"]
    assert edited["edited"]
    # The dose buttons are gone; only the Undo for a mis-tap stays (5 minutes).
    assert [[button["text"] for button in row] for row in edited["buttons"]] == [["↩️ Undo"]]
    # At a dose time, the next dose is the one after it.
    _, answer = await client.post("clock", user=PATIENT, action="next_dose")
    assert answer["clock"]["local"].endswith("14:00")


CARER = demo.USERS[1].user_id  # Ben helps Anna


async def link_ben_as_caregiver(client: DemoClient) -> None:
    """Anna's invite link, opened and accepted by Ben; alerts 30 min after a follow-up."""
    state = await client.say("/caregiver")
    match = re.search(r"start=(cg_[A-Za-z0-9_-]+)", state["messages"][-1]["text"])
    assert match, state["messages"][-1]["text"]
    await client.say(f"/start {match.group(1)}", user=CARER)
    await client.press("Accept", user=CARER)
    await client.until(lambda s: "is now your caregiver" in s["messages"][-1]["text"])
    state = await client.say("/caregiver delay 30")
    assert "30 min after its follow-up" in state["messages"][-1]["text"]


def bot_lines(state: dict[str, Any]) -> list[tuple[str, str]]:
    """(time on the bot's clock, text) of each bot message, in the order they came."""
    return [(m["time"], m["text"]) for m in state["messages"] if m["from_bot"]]


def first_at(lines: list[tuple[str, str]], needle: str) -> str:
    return next(time for time, text in lines if needle in text)


async def test_a_day_jumped_at_once_sends_every_event_on_the_way_in_order(
    client: DemoClient,
) -> None:
    """Issue 23: "+1 day" used to jump past the follow-ups (more than 10 minutes late, so the
    bot rightly dropped them). Now the clock stops at each due instant on its way: reminders,
    follow-ups, a missed-dose notice and the caregiver's alerts all come, each at its time."""
    await onboard(client)
    await client.say("/schedule custom tomorrow 06:45,10:00,12:15 5x10")
    await client.press("Save plan")
    await client.until(lambda s: "Saved" in s["messages"][-1]["text"])
    await link_ben_as_caregiver(client)
    before = len(bot_lines(await client.state()))
    status, answer = await client.post("clock", user=PATIENT, action="day")
    assert status == 200
    anna = bot_lines(await client.state())
    reminders = [time for time, text in anna if "Time for your dose" in text]
    assert reminders[:3] == ["06:45", "10:00", "12:15"]
    # The 06:45 dose's follow-up came at 07:15 (the next dose 2 h 45 min away) ...
    assert first_at(anna, "Did you take your <b>5 mg</b> dose due at 06:45") == "07:15"
    # ... the 10:00 one's became "skip it": the next dose was then 105 minutes away.
    assert first_at(anna, "You missed the <b>5 mg</b> dose due at 10:00") == "10:30"
    # Ben's chat shows his own clock (he chose no zone: UTC, an hour behind Berlin).
    ben = bot_lines(await client.state(user=CARER))
    assert first_at(ben, "dose due at 06:45</b>") == "06:45"  # 07:45 in Berlin
    assert "I sent them the reminder and asked again." in first_at_text(ben, "due at 06:45")
    assert first_at(ben, "<b>Anna has two doses in a row") == "10:00"  # 11:00 in Berlin
    # Tomorrow's messages, each stamped when it came: in the order of the clock.
    times = [time for time, _ in anna[before:]]
    assert times == sorted(times) and times[0] == "06:45", times
    # At least one stop per instant at which something came (a pass that leaves work due
    # may add a stop more, so the exact count depends on timing: not asserted).
    assert answer["stops"] >= len(set(times)), (answer["stops"], times)


def first_at_text(lines: list[tuple[str, str]], needle: str) -> str:
    return next(text for _, text in lines if needle in text)


async def test_next_event_stops_at_each_thing_the_bot_has_due(client: DemoClient) -> None:
    status, answer = await client.post("clock", user=PATIENT, action="next_event")
    assert (status, answer["problem"]) == (
        409,
        "Nothing is due: set a plan with /schedule, or move on with +1 day.",
    )
    await onboard(client)
    await client.say("/schedule standard tomorrow 08:00 14:00 20:00 target=20")
    await client.press("Save plan")
    await client.until(lambda s: "Saved" in s["messages"][-1]["text"])
    _, answer = await client.post("clock", user=PATIENT, action="next_event")
    assert answer["clock"]["local"].endswith("08:00")
    state = await client.until(lambda s: "Time for your dose" in s["messages"][-1]["text"])
    assert "I will ask again at 08:30" in state["messages"][-1]["text"]
    _, answer = await client.post("clock", user=PATIENT, action="next_event")
    assert answer["clock"]["local"].endswith("08:30")
    state = await client.until(lambda s: "Did you take" in s["messages"][-1]["text"])
    assert state["messages"][-1]["time"] == "08:30"
    # "Next dose" from here passes nothing due on its way: straight to 14:00.
    _, answer = await client.post("clock", user=PATIENT, action="next_dose")
    assert answer["clock"]["local"].endswith("14:00")
    assert answer["stops"] == 1


async def test_time_machine_hour_day_date_and_never_backward(client: DemoClient) -> None:
    start = (await client.state())["clock"]["date"]
    _, after_day = await client.post("clock", user=PATIENT, action="day")
    assert after_day["clock"]["date"] > start
    _, after_hour = await client.post("clock", user=PATIENT, action="hour")
    assert after_hour["clock"]["local"] != after_day["clock"]["local"]
    status, answer = await client.post("clock", user=PATIENT, action="date", date=start)
    assert (status, answer["problem"]) == (409, "The time machine only goes forward.")
    status, answer = await client.post("clock", user=PATIENT, action="date", date="2099-06-01")
    assert status == 200
    assert answer["clock"]["date"] == "2099-06-01"
    status, _ = await client.post("clock", user=PATIENT, action="backward")
    assert status == 400


async def test_mydata_documents_download_from_the_page(client: DemoClient) -> None:
    await onboard(client)
    state = await client.say("/mydata")
    state = await client.until(lambda s: any("document" in m for m in s["messages"]))
    documents = [message["document"] for message in state["messages"] if "document" in message]
    async with client.session.get(f"{client.url}api/file/{documents[0]['file_id']}") as response:
        assert response.status == 200
        assert "attachment" in response.headers["Content-Disposition"]
        assert str(PATIENT) in await response.text()


async def test_a_shared_location_sets_the_time_zone(client: DemoClient) -> None:
    await client.say("/start")
    await client.press("I agree")
    # The question of the time zone follows the consent: the shared location comes after it.
    before = await client.until(lambda s: "time zone" in s["messages"][-1]["text"])
    status, _ = await client.post("location", user=PATIENT, latitude=40.42, longitude=-3.70)
    assert status == 200
    state = await client.until(lambda s: "Europe/Madrid" in str(s["messages"]))
    # The shared location shows in the chat after the question (a message the bot was still
    # sending then may come between them).
    shared = [
        m["location"] for m in state["messages"][len(before["messages"]) :] if "location" in m
    ]
    assert [place["latitude"] for place in shared] == [40.42]
    status, _ = await client.post("location", user=PATIENT, latitude=123, longitude=0)
    assert status == 400


@pytest.mark.process
async def test_demo_refuses_a_busy_port_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = await start_process(process_env(), tmp_path, "demo", "--port", str(port))
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 2
    assert (
        stderr.decode()
        .strip()
        .splitlines()[-1]
        .startswith(f"configuration error: demo port {port} cannot be used")
    )


async def _no_dose(user_id: int, after: datetime) -> datetime | None:
    return None


async def _utc(user_id: int) -> ZoneInfo:
    return ZoneInfo("UTC")


@contextlib.asynccontextmanager
async def _web_chat_alone(
    clock: ShiftedClock,
    next_event: Callable[[], Awaitable[datetime | None]],
    dispatch: Callable[[], Awaitable[None]],
) -> AsyncIterator[tuple[FakeBotAPI, DemoChat]]:
    """The emulator and the demo's web chat on it, with no bot: no dose anyone has, every
    user in UTC, ``next_event`` and ``dispatch`` standing in for the dispatcher."""
    api = FakeBotAPI()
    await api.start()
    chat = DemoChat(
        api,
        clock,
        demo.USERS,
        next_dose=_no_dose,
        user_zone=_utc,
        next_event=next_event,
        dispatch=dispatch,
    )
    await chat.start("127.0.0.1", 0)
    try:
        yield api, chat
    finally:
        await chat.close()
        await api.close()


async def test_photos_the_bot_sends_show_and_download(tmp_path: Path) -> None:
    async def nothing_due() -> datetime | None:
        return None

    async def no_pass() -> None:
        return None

    picture = PNG_1x1
    async with _web_chat_alone(ShiftedClock(), nothing_due, no_pass) as (api, chat):
        async with Bot(TEST_TOKEN, base_url=f"{api.url}/bot") as bot:
            await bot.send_photo(PATIENT, picture, caption="<b>Your plan</b>", parse_mode="HTML")
        async with ClientSession() as session:
            async with session.get(f"{chat.url}api/state?user={PATIENT}") as response:
                [message] = (await response.json())["messages"]
            assert message["text"] == "<b>Your plan</b>"
            async with session.get(f"{chat.url}api/file/{message['photo']['file_id']}") as response:
                assert response.status == 200
                assert response.headers["Content-Disposition"].startswith("inline")
                assert await response.read() == picture


PNG_1x1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005ff01ff5d8d5b6a0000000049454e44ae426082"
)


def test_each_start_drops_only_the_demo_database(tmp_path: Path) -> None:
    (tmp_path / "bot.sqlite3").write_text("a real bot's data")
    for name in ("demo.sqlite3", "demo.sqlite3-wal", "demo.sqlite3-shm"):
        (tmp_path / name).write_text("the last demo")
    demo.fresh_database(tmp_path)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["bot.sqlite3"]


async def test_the_next_due_instant_includes_a_waiting_plans_start(bot: RunningBot) -> None:
    """The time machine stops where the dispatcher has work; a plan saved to start on a later
    day begins at its first local midnight, before that day's first dose."""
    user = 7007
    await bot.onboard(user, zone="UTC")  # the clock starts at 09:00 UTC on 11 Jan 2026
    await save_plan(bot, user, "/schedule custom today 10:00 20x365")
    saved = await save_plan(bot, user, "/taper 2026-01-12 10:00=15 x7, 10:00=10 x7 stop")
    assert "starts on" in saved
    ten = datetime(2026, 1, 11, 10, tzinfo=UTC)
    assert await bot.services.reminders.next_due_at() == ten
    await advance_until_messages(bot, user, ten)
    await advance_until_messages(bot, user, ten + timedelta(minutes=30))  # its follow-up
    # Next: the taper's first midnight (not tomorrow's 10:00 dose).
    assert await bot.services.reminders.next_due_at() == datetime(2026, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize("every", [timedelta(minutes=1), None])
async def test_a_jump_stops_a_bounded_number_of_times_and_ends_at_its_target(
    every: timedelta | None,
) -> None:
    """Something due every minute (or a row stuck "due" at an instant already passed): the
    jump still ends, at its target, after at most MAX_STOPS passes."""
    clock = ShiftedClock()
    passes: list[datetime] = []
    stuck_at = clock.now()

    async def always_due() -> datetime | None:
        return stuck_at if every is None else clock.now() + every

    async def dispatch() -> None:
        passes.append(clock.now())

    async with _web_chat_alone(clock, always_due, dispatch) as (_, chat):
        target = clock.now() + timedelta(days=1)
        async with ClientSession() as session:
            body = {"user": PATIENT, "action": "day"}
            async with session.post(f"{chat.url}api/clock", json=body) as response:
                answer = await response.json()
        assert answer["ok"]
        assert answer["stops"] == (web.MAX_STOPS if every else 4)
        assert len(passes) == answer["stops"] + 1  # and one at the target
        assert passes == sorted(passes)
        assert clock.now() >= target
