"""Replies under load, through a stand-in that enforces Telegram's limits (about 30 messages a
second overall, 1 a second per chat, 429 past them), the bot a real process on the real clock.

- ``onboarding``: N patients start the bot at once and go through onboarding and saving a plan
  (/start, consent, time zone, region, /schedule, Save), each waiting for every reply.
- ``burst``: R reminders fall due at once while P patients a second, for D seconds, press
  Taken on a reminder they received or send a command. With ``paid`` on, the bot sends the
  reminders beyond the free rate with allow_paid_broadcast.
- ``repeats``: R patients who chose repeats every 10 minutes, each with a reminder sent 10
  minutes ago and not answered: their repeats fall due at once. Half of them answer (Taken on
  the repeat, as soon as the chat's own limit allows) while P other patients a second send a
  command for D seconds. Each patient must get one repeat (none lost, none twice); the
  answered ones' runs end, the others' next repeat is planned 10 minutes on.

    python -m bench.load onboarding [--patients 1000]
    python -m bench.load burst [--reminders 10000] [--rate 30] [--seconds 60] [--paid]
    python -m bench.load repeats [--reminders 10000] [--rate 15] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import sqlite3
import statistics
import tempfile
import time
from collections import Counter, deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.burst import REMINDER_MARK, prepare, prepare_repeats, reminder_deliveries
from bench.harness import BotProcess, pin_this_process_elsewhere
from bot.emulator.api import ApiCall, FakeBotAPI

FREE_RATE = 30.0  # the stand-in's (and Telegram's) overall limit, messages a second
PAID_RATE = 1000.0
REPLY_TIMEOUT = 600.0  # seconds: a reply not there by then counts as lost
FIRST_PATIENT = 5_000_000  # chats that only interact, apart from the reminder recipients
LEAD_SECONDS = 5


@dataclass(frozen=True)
class ReplyFigures:
    offered: int
    lost: int
    p50_s: float
    p99_s: float
    max_s: float


@dataclass(frozen=True)
class OnboardingResult:
    patients: int
    saved: int
    replies: ReplyFigures
    all_done_s: float
    retry_after_429: int
    handler_retry_after: int


@dataclass(frozen=True)
class BurstLoadResult:
    reminders: int
    paid: bool
    replies: ReplyFigures
    drain_s: float
    floor_s: float
    reply_messages: int
    lost: int
    duplicated: int
    paid_messages: int
    retry_after_429: int
    handler_retry_after: int


def _figures(latencies: list[float], offered: int) -> ReplyFigures:
    ordered = sorted(latencies) or [float("nan")]
    return ReplyFigures(
        offered=offered,
        lost=offered - len(latencies),
        p50_s=statistics.median(ordered),
        p99_s=ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        max_s=ordered[-1],
    )


class _Watcher:
    """Answers "when did the bot's next message in this chat arrive?" cheaply."""

    def __init__(self, api: FakeBotAPI, mark: str = REMINDER_MARK) -> None:
        self._api = api
        self._mark = mark  # what a reminder (or a repeat) says
        self._seen = 0
        self.by_chat: dict[int, list[ApiCall]] = {}
        self.reminded: deque[tuple[int, float]] = deque()  # reminder recipients, in order
        self._chat_events: dict[int, asyncio.Event] = {}

    async def follow(self) -> None:
        """Read the stand-in's new calls every 20 ms and wake the chats that got a message."""
        while True:
            self.refresh()
            await asyncio.sleep(0.02)

    def refresh(self) -> None:
        calls = self._api.calls
        for call in calls[self._seen :]:
            if call.status == 200 and call.method in ("sendMessage", "editMessageText"):
                chat = call.params.get("chat_id")
                if isinstance(chat, int):
                    self.by_chat.setdefault(chat, []).append(call)
                    event = self._chat_events.get(chat)
                    if event is not None:
                        event.set()
                    if self._mark in str(call.params.get("text", "")):
                        self.reminded.append((chat, call.at))
        self._seen = len(calls)

    async def next_after(
        self, chat: int, after: float, method: str = "sendMessage", count: int = 1
    ) -> list[ApiCall] | None:
        """Wait for the chat's next messages; woken only when that chat gets one, so a thousand
        waiting patients cost the load generator (and the stand-in beside it) nothing."""
        deadline = time.monotonic() + REPLY_TIMEOUT
        while True:
            self.refresh()
            found = [c for c in self.by_chat.get(chat, []) if c.at >= after and c.method == method]
            if len(found) >= count:
                return found[:count]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            changed = self._chat_events.setdefault(chat, asyncio.Event())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), timeout=min(remaining, 1.0))
            self._chat_events.pop(chat, None)


def _handler_retry_after(log: Path) -> int:
    text = log.read_text(errors="replace") if log.exists() else ""
    return sum(1 for line in text.splitlines() if "RetryAfter" in line and "bot.errors" in line)


# ---------------------------------------------------------------------- onboarding


async def _patient(api: FakeBotAPI, watcher: _Watcher, user: int, latencies: list[float]) -> bool:
    async def step(push: Any, method: str = "sendMessage", count: int = 1) -> bool:
        started = time.monotonic()
        push()
        found = await watcher.next_after(user, started, method, count)
        if found is None:
            return False
        latencies.extend(call.at - started for call in found)
        return True

    def last_id() -> int:
        return int(api.messages_to(user)[-1]["message_id"])

    steps: list[tuple[Any, int]] = [
        (lambda: api.send_text(user, "/start"), 1),
        (lambda: api.press_button(user, last_id(), "consent:yes"), 1),
        (lambda: api.send_text(user, "/timezone Europe/Berlin"), 2),
        (lambda: api.press_button(user, last_id(), "region:uk"), 2),  # and the repeats question
        (lambda: api.send_text(user, "/schedule custom today 23:59 10x5"), 1),
        (lambda: api.press_button(user, last_id(), "plan:save"), 1),
    ]
    for push, count in steps:
        if not await step(push, count=count):
            return False
    return "Saved" in str(api.messages_to(user)[-1]["text"])


async def measure_onboarding(patients: int, folder: Path) -> OnboardingResult:
    api = FakeBotAPI(global_rate=FREE_RATE, per_chat_rate=1)
    await api.start()
    log = folder / "bot.log"
    bot = BotProcess(api, folder / "onboarding.sqlite3", log_path=log)
    latencies: list[float] = []
    try:
        await bot.start()
        watcher = _Watcher(api)
        follower = asyncio.create_task(watcher.follow())
        started = time.monotonic()
        users = range(FIRST_PATIENT, FIRST_PATIENT + patients)
        saved = await asyncio.gather(*(_patient(api, watcher, u, latencies) for u in users))
        all_done = time.monotonic() - started
        follower.cancel()
    finally:
        await bot.stop()
        await api.close()
    return OnboardingResult(
        patients=patients,
        saved=sum(saved),
        replies=_figures(latencies, patients * 8),  # 8 replies each (see _patient)
        all_done_s=all_done,
        retry_after_429=api.retry_after_count,
        handler_retry_after=_handler_retry_after(log),
    )


# ---------------------------------------------------------------------- burst with replies


@contextlib.asynccontextmanager
async def _bot_under_load(
    path: Path, log: Path, mark: str = REMINDER_MARK, extra_env: dict[str, str] | None = None
) -> AsyncIterator[tuple[FakeBotAPI, _Watcher]]:
    """The stand-in at Telegram's limits and the bot on ``path``, with a watcher following
    the messages; both stopped on the way out (the API's calls stay readable)."""
    api = FakeBotAPI(global_rate=FREE_RATE, per_chat_rate=1)
    await api.start()
    bot = BotProcess(api, path, log_path=log, extra_env=extra_env)
    try:
        await bot.start()
        watcher = _Watcher(api, mark)
        follower = asyncio.create_task(watcher.follow())
        yield api, watcher
        follower.cancel()
    finally:
        await bot.stop()
        await api.close()


async def _until_due(due: int) -> float:
    """Sleep until a second after ``due`` (unix seconds); ``due`` on the monotonic clock."""
    due_mono = due + time.monotonic() - time.time()
    await asyncio.sleep(max(0.0, due_mono + 1.0 - time.monotonic()))
    return due_mono


def _reply_messages(api: FakeBotAPI, mark: str, until: float) -> int:
    """Messages (and edits) delivered by ``until`` that are not reminders saying ``mark``."""
    return sum(
        1
        for call in api.calls
        if call.status == 200
        and call.method in ("sendMessage", "editMessageText")
        and mark not in str(call.params.get("text", ""))
        and call.at <= until
    )


async def _press_or_ask(
    api: FakeBotAPI, watcher: _Watcher, rate: float, seconds: float, latencies: list[float]
) -> int:
    """``rate`` patients a second for ``seconds``: every second one presses Taken on a
    reminder it got (when there is one), the others send /help. Returns how many were
    offered, once every one of them has its answer (or timed out)."""
    pending: list[asyncio.Task[None]] = []
    started = time.monotonic()
    for index in range(int(rate * seconds)):
        delay = started + index / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        target = _press_target(api, watcher) if index % 2 == 0 else None
        pending.append(asyncio.create_task(_interact(api, watcher, index, target, latencies)))
    await asyncio.gather(*pending)
    return len(pending)


async def _until_delivered(api: FakeBotAPI, reminders: int) -> None:
    """Until every reminder is out (or three times the floor and two minutes more), then two
    seconds more: anything sent twice would show up then."""
    deadline = time.monotonic() + 3 * reminders / FREE_RATE + 120
    while time.monotonic() < deadline:
        if len(reminder_deliveries(api)) >= reminders:
            break
        await asyncio.sleep(1.0)
    await asyncio.sleep(2.0)


async def measure_burst(
    reminders: int, rate: float, seconds: float, paid: bool, folder: Path, due: int
) -> BurstLoadResult:
    log = folder / "bot.log"
    extra = {"PAID_BROADCAST": "on"} if paid else {}
    latencies: list[float] = []
    async with _bot_under_load(folder / "burst-load.sqlite3", log, extra_env=extra) as (
        api,
        watcher,
    ):
        due_mono = await _until_due(due)
        offered = await _press_or_ask(api, watcher, rate, seconds, latencies)
        await _until_delivered(api, reminders)
    deliveries = reminder_deliveries(api)
    per_user = Counter(chat for chat, _ in deliveries)
    drain = max((at for _, at in deliveries), default=float("nan")) - due_mono
    reply_messages = _reply_messages(api, REMINDER_MARK, due_mono + drain)
    # The floor: the time the whole budget needs for the reminders plus what the replies took
    # of it meanwhile (replies go first). With paid broadcasting, reminders beyond the free
    # rate may use up to the paid rate.
    budget = PAID_RATE if paid else FREE_RATE
    floor = (reminders + reply_messages) / budget
    return BurstLoadResult(
        reminders=reminders,
        paid=paid,
        replies=_figures(latencies, offered),
        drain_s=drain,
        floor_s=floor,
        reply_messages=reply_messages,
        lost=reminders - len(per_user),
        duplicated=sum(count - 1 for count in per_user.values()),
        paid_messages=api.paid_messages,
        retry_after_429=api.retry_after_count,
        handler_retry_after=_handler_retry_after(log),
    )


def _taken_button(api: FakeBotAPI, chat: int) -> str | None:
    """The Taken button on the chat's last message, as ``message_id|callback_data``."""
    messages = api.messages_to(chat)
    if not messages or not messages[-1]["reply_markup"]:
        return None
    for row in messages[-1]["reply_markup"]["inline_keyboard"]:
        for button in row:
            if button["callback_data"].endswith(":taken"):
                return f"{messages[-1]['message_id']}|{button['callback_data']}"
    return None


def _press_target(api: FakeBotAPI, watcher: _Watcher) -> tuple[int, str] | None:
    """A reminder recipient who got theirs over a second ago (the chat's own limit)."""
    watcher.refresh()
    now = time.monotonic()
    while watcher.reminded and watcher.reminded[0][1] <= now - 1.5:
        chat, _ = watcher.reminded.popleft()
        button = _taken_button(api, chat)
        if button is not None:
            return chat, button
    return None


async def _interact(
    api: FakeBotAPI,
    watcher: _Watcher,
    index: int,
    target: tuple[int, str] | None,
    latencies: list[float],
) -> None:
    started = time.monotonic()
    if target is not None:
        chat, packed = target
        message_id, data = packed.split("|", 1)
        api.press_button(chat, int(message_id), data)
        found = await watcher.next_after(chat, started, "editMessageText")
    else:
        chat = FIRST_PATIENT + index
        api.send_text(chat, "/help")
        found = await watcher.next_after(chat, started)
    if found is not None:
        latencies.append(found[0].at - started)


# ---------------------------------------------------------------------- repeats with replies


@dataclass(frozen=True)
class RepeatBurstResult:
    patients: int
    answered: int  # patients who pressed Taken on their repeat
    replies: ReplyFigures  # the presses' edits and the commands' replies
    drain_s: float
    floor_s: float
    lost: int  # patients who got no repeat
    duplicated: int  # repeats beyond one per patient
    runs_ended: int  # answered doses with nothing more planned
    runs_going_on: int  # unanswered doses with their next repeat planned ~10 minutes on
    retry_after_429: int
    handler_retry_after: int


def _answer_repeats(
    api: FakeBotAPI, watcher: _Watcher, latencies: list[float]
) -> list[asyncio.Task[None]]:
    """Taken pressed on each repeat that every second recipient got over a second ago."""
    return [
        asyncio.create_task(_interact(api, watcher, 0, (chat, target), latencies))
        for chat, target in _repeat_targets(api, watcher)
    ]


async def _answer_and_ask(
    api: FakeBotAPI,
    watcher: _Watcher,
    patients: int,
    rate: float,
    seconds: float,
    latencies: list[float],
) -> int:
    """Until every repeat is out: half the recipients answer theirs, and ``rate`` other
    patients a second (for ``seconds``) send a command; then the last recipients' answers.
    Returns how many were offered, once each has its answer (or timed out)."""
    pending: list[asyncio.Task[None]] = []
    started = time.monotonic()
    deadline = started + 3 * patients / FREE_RATE + 120
    index = 0
    while time.monotonic() < deadline:
        pending += _answer_repeats(api, watcher, latencies)
        while index < rate * min(seconds, time.monotonic() - started):
            pending.append(asyncio.create_task(_interact(api, watcher, index, None, latencies)))
            index += 1
        if len(reminder_deliveries(api, REPEAT_MARK)) >= patients and index >= rate * seconds:
            break
        await asyncio.sleep(0.05)
    while watcher.reminded:  # the last recipients' answers
        pending += _answer_repeats(api, watcher, latencies)
        await asyncio.sleep(0.2)
    await asyncio.gather(*pending)
    return len(pending)


def _twice(by_chat: dict[int, list[float]]) -> int:
    """Sent twice: a repeat within 9 minutes of the chat's one before (a slow run may reach a
    patient's next repeat, 10 minutes on: that one is no duplicate)."""
    return sum(
        1
        for times in by_chat.values()
        for before, after in itertools.pairwise(times)
        if after - before < 540
    )


def _runs(path: Path, due: int) -> tuple[int, int]:
    """Doses answered with nothing more planned; doses unanswered with their next repeat
    planned about 10 minutes on."""
    connection = sqlite3.connect(path)
    with connection:
        ended = connection.execute(
            "SELECT COUNT(*) FROM dose_events WHERE status = 'taken' AND next_action_at IS NULL"
        ).fetchone()[0]
        going_on = connection.execute(
            "SELECT COUNT(*) FROM dose_events WHERE status = 'sent'"
            " AND next_action_at BETWEEN ? AND ?",
            (due + 9 * 60, int(time.time()) + 11 * 60),
        ).fetchone()[0]
    connection.close()
    return ended, going_on


async def measure_repeat_burst(
    patients: int, rate: float, seconds: float, folder: Path, due: int
) -> RepeatBurstResult:
    path = folder / "repeats-load.sqlite3"
    log = folder / "bot.log"
    latencies: list[float] = []
    async with _bot_under_load(path, log, REPEAT_MARK) as (api, watcher):
        due_mono = await _until_due(due)
        offered = await _answer_and_ask(api, watcher, patients, rate, seconds, latencies)
        await asyncio.sleep(2.0)  # anything sent twice would show up now
    by_chat: dict[int, list[float]] = {}
    for chat, at in reminder_deliveries(api, REPEAT_MARK):
        by_chat.setdefault(chat, []).append(at)
    firsts = [times[0] for times in by_chat.values()]
    drain = max(firsts, default=float("nan")) - due_mono
    reply_messages = _reply_messages(api, REPEAT_MARK, due_mono + drain)
    ended, going_on = _runs(path, due)
    return RepeatBurstResult(
        patients=patients,
        answered=ended,
        replies=_figures(latencies, offered),
        drain_s=drain,
        floor_s=(patients + reply_messages) / FREE_RATE,
        lost=patients - len(by_chat),
        duplicated=_twice(by_chat),
        runs_ended=ended,
        runs_going_on=going_on,
        retry_after_429=api.retry_after_count,
        handler_retry_after=_handler_retry_after(log),
    )


REPEAT_MARK = "has no answer yet"


def _repeat_targets(api: FakeBotAPI, watcher: _Watcher) -> list[tuple[int, str]]:
    """Every second repeat recipient (even chat ids) whose repeat came over a second ago (the
    chat's own limit): their Taken button, as ``message_id|callback_data``."""
    watcher.refresh()
    now = time.monotonic()
    targets = []
    while watcher.reminded and watcher.reminded[0][1] <= now - 1.5:
        chat, _ = watcher.reminded.popleft()
        button = _taken_button(api, chat) if chat % 2 == 0 else None
        if button is not None:
            targets.append((chat, button))
    return targets


# ---------------------------------------------------------------------- entry points


def run_onboarding(patients: int) -> OnboardingResult:
    pin_this_process_elsewhere()
    with tempfile.TemporaryDirectory() as folder:
        return asyncio.run(measure_onboarding(patients, Path(folder)))


def run_burst(reminders: int, rate: float, seconds: float, paid: bool) -> BurstLoadResult:
    pin_this_process_elsewhere()
    with tempfile.TemporaryDirectory() as folder:
        due = int(time.time()) + LEAD_SECONDS
        prepare(Path(folder) / "burst-load.sqlite3", reminders, due)
        return asyncio.run(measure_burst(reminders, rate, seconds, paid, Path(folder), due))


def run_repeat_burst(patients: int, rate: float, seconds: float) -> RepeatBurstResult:
    pin_this_process_elsewhere()
    with tempfile.TemporaryDirectory() as folder:
        due = int(time.time()) + LEAD_SECONDS
        prepare_repeats(Path(folder) / "repeats-load.sqlite3", patients, due)
        return asyncio.run(measure_repeat_burst(patients, rate, seconds, Path(folder), due))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    onboarding = commands.add_parser("onboarding")
    onboarding.add_argument("--patients", type=int, default=1_000)
    burst = commands.add_parser("burst")
    burst.add_argument("--reminders", type=int, default=10_000)
    burst.add_argument("--rate", type=float, default=30.0)
    burst.add_argument("--seconds", type=float, default=60.0)
    burst.add_argument("--paid", action="store_true")
    repeats = commands.add_parser("repeats")
    repeats.add_argument("--reminders", type=int, default=10_000)
    repeats.add_argument("--rate", type=float, default=15.0)
    repeats.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    if args.command == "onboarding":
        print(run_onboarding(args.patients))
    elif args.command == "repeats":
        print(run_repeat_burst(args.reminders, args.rate, args.seconds))
    else:
        print(run_burst(args.reminders, args.rate, args.seconds, args.paid))


if __name__ == "__main__":
    main()
