"""Issue 19: no message the bot sends invites a dose too close to another, whatever happened.

A property test over the whole system, not one command: each example starts the real
Application against the Bot API stand-in with a real SQLite file and the fake clock, saves a
random plan in a random zone, then plays a random story: time passes (reminders, follow-ups,
snoozes, late and early answers), the patient presses Taken / Skip / Snooze on any message
that still has buttons, asks /missed and /today, changes the time zone (a trip: keeping home
times, moving gradually or at once, or cancelling at the preview), replaces the plan (from
today or a later day), pauses and resumes, turns simple mode on and off (Skip and Snooze then
sit behind "More"), presses Undo on a confirmed Taken or Skip, within the 5 minutes or after
them, and chooses how reminders repeat (once, or every 10, 15 or 30 minutes until answered:
issue 22).

Every message sent with a Taken button invites a dose, and so does a confirmation that an
Undo edits back into a Taken button. For each one, at the moment it left:
- no intake was recorded (Taken, any plan) less than 2 hours before;
- the current plan's next dose time was not less than 2 hours away;
- the dose is the current plan's, and the mg it names is the current plan's amount for it.

Plans keep their dose times at least 2.5 hours apart, so the 2-hour rule applies as written
(closer times are a prescriber's exception, asked for at save). ``test_the_property_fails_
without_the_check`` removes the check and shows that the same oracle then finds violations.
"""

from __future__ import annotations

import asyncio
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import build_application, serve
from bot.clock import FakeClock
from bot.content import ContentLibrary, load_library
from bot.context import SERVICES_KEY, Services
from bot.domain import safety
from bot.domain.safety import SAFE_GAP, Check, Verdict
from bot.domain.schedule import next_slot_after, planned_mg
from bot.emulator.api import FakeBotAPI
from bot.storage.doses import Status
from tests.conftest import CONTENT_DIR, START, make_settings

USER = 8008
CARER = 8010
_LINK = re.compile(r"start=(cg_[A-Za-z0-9_-]+)")
# How an alert about an unanswered dose reads (it names no amount), and its "skip" line.
_UNANSWERED = ("is still unanswered", "two doses in a row without an answer")
_NEXT_SOON = "The next dose is soon: skip the missed one"
ZONES = (
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kolkata",  # +05:30
    "Pacific/Tongatapu",  # +13
    "Etc/GMT+12",  # -12
    "Europe/Moscow",
    "Asia/Omsk",
)
REPEATS = (0, 10, 15, 30)  # how unanswered reminders repeat: 0 once, else every N minutes
_MG = re.compile(r"<b>([0-9]+(?:\.[0-9])?) mg</b>")


@dataclass(frozen=True)
class PlanSpec:
    minutes: tuple[int, ...]  # dose times, minutes after local midnight, >= 150 apart
    steps: tuple[tuple[int, int], ...]  # (mg at each time, days)
    start_in_days: int = 0

    def command(self, today: date) -> str:
        start = "today" if self.start_in_days == 0 else str(today + timedelta(self.start_in_days))
        times = " ".join(f"{minute // 60:02d}:{minute % 60:02d}=MG" for minute in self.minutes)
        steps = ", ".join(times.replace("MG", str(mg)) + f" x{days}" for mg, days in self.steps)
        return f"/schedule custom {start} {steps}"


@st.composite
def plan_specs(draw: st.DrawFn, *, later: bool = False) -> PlanSpec:
    count = draw(st.integers(1, 4), label="doses a day")
    first = draw(st.integers(0, 23 * 60 - 1), label="first dose")
    minutes = [first]
    for _ in range(count - 1):
        minutes.append(minutes[-1] + draw(st.integers(150, 420)))
    # Keep the last dose of a day 2.5 hours before the next day's first, too.
    minutes = [minute for minute in minutes if minute < 24 * 60 and minute - first <= 21 * 60 - 30]
    steps = tuple(
        draw(
            st.lists(
                st.tuples(st.sampled_from([5, 10, 15, 20]), st.integers(1, 3)),
                min_size=1,
                max_size=3,
            ),
            label="steps",
        )
    )
    start = draw(st.integers(1, 3), label="starts in days") if later else 0
    return PlanSpec(tuple(sorted(set(minutes))), steps, start)


Action = tuple[Any, ...]
Step = tuple[int, Action]  # minutes to let pass, then the action


def actions() -> st.SearchStrategy[list[Action]]:
    """Each step lets time pass first (a few minutes to most of a day), then does one thing."""
    one = st.one_of(
        st.tuples(st.just("nothing")),
        st.tuples(st.just("press"), st.sampled_from(["taken", "skip", "snooze"]), st.integers()),
        st.tuples(st.just("press"), st.just("taken"), st.integers()),
        st.tuples(st.just("missed")),
        st.tuples(st.just("today")),
        st.tuples(
            st.just("zone"),
            st.sampled_from(ZONES),
            st.sampled_from(["at_once", "gradual", "home", "cancel"]),
        ),
        st.tuples(st.just("plan"), st.one_of(plan_specs(), plan_specs(later=True))),
        st.tuples(st.just("pause")),
        st.tuples(st.just("resume")),
        st.tuples(st.just("simple"), st.booleans()),
        st.tuples(st.just("undo"), st.integers()),
        # A mis-tap noticed at once: Taken, then Undo within the 5 minutes.
        st.tuples(st.just("taken_then_undo"), st.integers(), st.integers(0, 7)),
        st.tuples(st.just("repeats"), st.sampled_from(REPEATS)),
    )
    long = st.integers(120, 14 * 60)
    wait = st.one_of(long, long, long, st.integers(25, 35), st.integers(0, 20), st.integers(5, 15))
    return st.lists(st.tuples(wait, one), min_size=6, max_size=20)


@dataclass
class Story:
    """Runs a story against a live bot and collects every invitation with what was true."""

    api: FakeBotAPI
    clock: FakeClock
    services: Services
    seen: int = 0  # sendMessage calls looked at (a repeat deletes the message before it)
    carer_seen: int = 0
    violations: list[str] = field(default_factory=list)
    invitations: int = 0
    alerts: int = 0

    def texts_since(self) -> list[dict[str, Any]]:
        """The text messages sent to the patient since the last look, as they left (from the
        calls: a repeat deletes the reminder before it, an answer edits it)."""
        calls = self.api.calls_of("sendMessage")
        new, self.seen = calls[self.seen :], len(calls)
        return [
            {"text": call.params.get("text", ""), "reply_markup": call.params.get("reply_markup")}
            for call in new
            if call.params.get("chat_id") == USER and call.status == 200
        ]

    async def settle(self) -> None:
        await self.services.reminders.run_due()
        await self.inspect()

    async def say(self, text: str) -> None:
        before = len(self.api.calls_of("sendMessage"))
        self.api.send_text(USER, text)
        await self.api.wait_for("sendMessage", lambda call: True, count=before + 1)
        await self.settle()

    async def press(self, message: dict[str, Any], data: str) -> None:
        edits = len(self.api.calls_of("editMessageText"))
        markups = len(self.api.calls_of("editMessageReplyMarkup"))
        query = self.api.press_button(USER, message["message_id"], data)
        [answer] = await self.api.wait_for(
            "answerCallbackQuery", lambda call: call.params.get("callback_query_id") == query
        )
        if data.startswith("dmore:"):  # "More" edits the keyboard only
            if "text" not in answer.params:
                await self.api.wait_for(
                    "editMessageReplyMarkup", lambda call: True, count=markups + 1
                )
        elif "text" not in answer.params:  # accepted: the message is edited
            await self.api.wait_for("editMessageText", lambda call: True, count=edits + 1)
        await self.settle()
        if data.startswith("undo:"):
            await self.inspect_edited(message["message_id"])

    async def inspect_edited(self, message_id: int) -> None:
        """An Undo edits the confirmation back into what may be done now: if that is a Taken
        button, it invites the dose as a new reminder would, and is checked the same way.

        Checked as the edit was sent, not as the chat shows it now: with repeats on, a repeat
        due while the dose was recorded comes at once after the Undo and replaces (deletes)
        the edited message, yet the patient may have seen and pressed it (the repeat itself is
        checked as every new message is)."""
        [*_, edit] = [
            call
            for call in self.api.calls_of("editMessageText")
            if call.params.get("message_id") == message_id
        ]
        edited = {
            "message_id": message_id,
            "text": edit.params["text"],
            "reply_markup": edit.params.get("reply_markup"),  # decoded by the stand-in
        }
        assert not isinstance(edited["reply_markup"], str)
        self.check_invitation(edited, self.clock.now(), await self.why_unsafe_of(edited))

    async def why_unsafe_of(self, message: dict[str, Any]) -> list[str]:
        taken = [data for data in _buttons(message).values() if data.endswith(":taken")]
        if not taken:
            return []
        self.invitations += 1
        event_id = int(taken[0].split(":")[1])
        return list(await self.why_unsafe(message["text"], event_id, self.clock.now()))

    def check_invitation(self, message: dict[str, Any], now: datetime, problems: list[str]) -> None:
        for problem in problems:
            self.violations.append(f"{now:%d %H:%M} {problem}: {message['text'][:160]}")

    async def press_answer(self, answer: str, index: int) -> dict[str, Any] | None:
        """Press ``answer`` on one of the messages that still have dose buttons (in simple
        mode Skip and Snooze come after "More"); the pressed message, or None."""
        open_ones = [
            message
            for message in self.api.messages_to(USER)
            if any(data.startswith("dose:") for data in _buttons(message).values())
        ]
        if not open_ones:
            return None
        message = open_ones[index % len(open_ones)]
        data = [d for d in _buttons(message).values() if d.endswith(f":{answer}")]
        more = [d for d in _buttons(message).values() if d.startswith("dmore:")]
        if not data and more:
            await self.press(message, more[0])
            message = next(
                m for m in self.api.messages_to(USER) if m["message_id"] == message["message_id"]
            )
            data = [d for d in _buttons(message).values() if d.endswith(f":{answer}")]
        if not data:
            return None
        await self.press(message, data[0])
        return message

    async def press_undo_on(self, message_id: int) -> None:
        message = next(m for m in self.api.messages_to(USER) if m["message_id"] == message_id)
        data = [d for d in _buttons(message).values() if d.startswith("undo:")]
        if data:
            await self.press(message, data[0])

    async def press_undo(self, index: int) -> None:
        undoable = [
            message
            for message in self.api.messages_to(USER)
            if any(data.startswith("undo:") for data in _buttons(message).values())
        ]
        if undoable:
            message = undoable[index % len(undoable)]
            [data] = [d for d in _buttons(message).values() if d.startswith("undo:")]
            await self.press(message, data)

    async def press_for_reply(
        self, message: dict[str, Any], data: str, *, replies: int = 1
    ) -> None:
        before = len(self.api.calls_of("sendMessage"))
        self.api.press_button(USER, message["message_id"], data)
        await self.api.wait_for("sendMessage", lambda call: True, count=before + replies)
        await self.settle()

    async def save_plan(self, spec: PlanSpec) -> None:
        zone = await self.zone()
        await self.say(spec.command(self.clock.now().astimezone(zone).date()))
        summary = self.api.messages_to(USER)[-1]
        buttons = _buttons(summary)
        data = buttons.get("plan:save_high") or buttons.get("plan:save")
        if data is not None:
            await self.press_for_reply(summary, data)

    async def choose_repeats(self, minutes: int) -> None:
        """/settings, its repeats row, then a choice (the question is edited to confirm it)."""
        await self.say("/settings")
        page = self.api.messages_to(USER)[-1]
        await self.press_for_reply(page, "set:repeats")
        await self.press(self.api.messages_to(USER)[-1], f"rep:{minutes}")

    async def change_zone(self, zone: str, choice: str) -> None:
        """/timezone; with a plan the bot asks how the doses move: choose, then Save (or
        Cancel at the preview)."""
        await self.say(f"/timezone {zone}")
        question = self.api.messages_to(USER)[-1]
        pick = "at_once" if choice == "cancel" else choice
        data = _buttons(question).get(f"trv:choose:{pick}:{zone}")
        if data is None:  # no plan, or nothing to move: the zone was set
            return
        await self.press_for_reply(question, data)
        preview = self.api.messages_to(USER)[-1]
        decision = "trv:cancel" if choice == "cancel" else f"trv:save:{pick}:{zone}"
        await self.press_for_reply(preview, decision)

    async def zone(self) -> ZoneInfo:
        user = await self.services.users.get(USER)
        return self.services.zones.zone_for(user.timezone if user else None)

    async def link_caregiver(self, delay_minutes: int) -> None:
        self.carer_seen = -1  # not yet linked: nothing to inspect
        await self.say("/caregiver")
        match = _LINK.search(self.api.messages_to(USER)[-1]["text"])
        assert match is not None
        before = len(self.api.calls_of("sendMessage"))
        self.api.send_text(CARER, f"/start {match.group(1)}", first_name="Anna")
        await self.api.wait_for("sendMessage", lambda call: True, count=before + 1)
        offer = self.api.messages_to(CARER)[-1]
        accept = [data for data in _buttons(offer) if data.startswith("cgi:yes:")]
        before = len(self.api.calls_of("sendMessage"))
        self.api.press_button(CARER, offer["message_id"], accept[0])
        await self.api.wait_for("sendMessage", lambda call: True, count=before + 2)
        await self.say(f"/caregiver delay {delay_minutes}")
        self.carer_seen = len(self.api.messages_to(CARER))

    async def inspect_alerts(self, now: datetime) -> None:
        """An alert about an unanswered dose: never after a recorded intake under 2 hours
        ago, and with "skip the missed one" when the next dose is under 2 hours away."""
        if self.carer_seen < 0:
            return
        messages = self.api.messages_to(CARER)
        new, self.carer_seen = messages[self.carer_seen :], len(messages)
        for message in new:
            text = message["text"] or ""
            if not any(marker in text for marker in _UNANSWERED):
                continue
            self.alerts += 1
            for row in await self.services.doses.recent_doses(USER, now, 50):
                intake = row.answered_at if row.status is Status.TAKEN else None
                if intake is not None and timedelta(0) <= now - intake < SAFE_GAP:
                    self.violations.append(f"{now:%d %H:%M} alert {now - intake} after intake")
            stored = await self.services.doses.active_plan(USER)
            if stored is None:
                continue
            following = next_slot_after(stored.plan, await self.zone(), now)
            near = following is not None and following.due_utc - now < SAFE_GAP
            if near and _NEXT_SOON not in text:
                self.violations.append(f"{now:%d %H:%M} alert without skip: {text[:120]}")

    async def inspect(self) -> None:
        """Check each message sent since the last look (all left at the clock's now)."""
        now = self.clock.now()
        await self.inspect_alerts(now)
        for message in self.texts_since():
            self.check_invitation(message, now, await self.why_unsafe_of(message))

    async def why_unsafe(self, text: str, event_id: int, now: datetime) -> Iterator[str]:
        doses = self.services.doses
        event = await doses.get_event(event_id, USER)
        stored = await doses.active_plan(USER)
        assert event is not None and stored is not None
        problems = []
        recent = await doses.recent_doses(USER, now, 50)
        for row in recent:
            intake = row.answered_at if row.status is Status.TAKEN else None
            if intake is not None and timedelta(0) <= now - intake < SAFE_GAP:
                problems.append(f"intake recorded {now - intake} before")
        following = next_slot_after(stored.plan, await self.zone(), now)
        if following is not None and following.due_utc - now < SAFE_GAP:
            problems.append(f"next planned dose {following.due_utc - now} away")
        planned = planned_mg(stored.plan, event.local_date, event.local_time)
        if event.plan_id != stored.plan_id or planned != event.mg:
            problems.append("not the current plan's dose")
        named = {Decimal(mg) for mg in _MG.findall(text)}
        if named - {event.mg}:
            problems.append(f"names {sorted(named)} for a {event.mg} mg dose")
        return iter(problems)

    async def play(self, story: list[Step]) -> None:
        for minutes, action in story:
            if minutes:
                self.clock.advance(timedelta(minutes=minutes))
                await self.settle()
            kind = action[0]
            if kind == "press":
                await self.press_answer(action[1], action[2])
            elif kind == "undo":
                await self.press_undo(action[1])
            elif kind == "taken_then_undo":
                pressed = await self.press_answer("taken", action[1])
                if pressed is not None:
                    self.clock.advance(timedelta(minutes=action[2]))
                    await self.settle()
                    await self.press_undo_on(pressed["message_id"])
            elif kind == "simple":
                await self.say("/simple on" if action[1] else "/simple off")
            elif kind == "missed":
                await self.say("/missed")
            elif kind == "today":
                await self.say("/today")
            elif kind == "zone":
                await self.change_zone(action[1], action[2])
            elif kind == "plan":
                await self.save_plan(action[1])
            elif kind == "pause":
                await self.say("/pause")
            elif kind == "resume":
                await self.say("/resume")
            elif kind == "repeats":
                await self.choose_repeats(action[1])


def _buttons(message: dict[str, Any]) -> dict[str, str]:
    markup = message.get("reply_markup") or {}
    return {
        button["callback_data"]: button["callback_data"]
        for row in markup.get("inline_keyboard", [])
        for button in row
        if "callback_data" in button
    }


async def run_story(
    library: ContentLibrary,
    zone: str,
    first: PlanSpec,
    story: list[Step],
    caregiver_delay: int | None = None,
    repeat_minutes: int = 0,
) -> Story:
    api = FakeBotAPI()
    await api.start()
    with tempfile.TemporaryDirectory() as folder:
        settings_ = make_settings(api, Path(folder))
        clock = FakeClock(START)
        application = build_application(settings_, library, clock)
        stop = asyncio.Event()
        task = asyncio.create_task(serve(application, settings_, stop))
        try:
            await api.wait_until_polling()
            services: Services = application.bot_data[SERVICES_KEY]
            runner = Story(api, clock, services)
            await runner.say("/start")
            await runner.press_for_reply(api.messages_to(USER)[-1], "consent:yes")
            await runner.say(f"/timezone {zone}")
            await runner.press_for_reply(api.messages_to(USER)[-1], "region:uk", replies=2)
            if repeat_minutes:
                await runner.choose_repeats(repeat_minutes)
            await runner.save_plan(first)
            if caregiver_delay is not None:
                await runner.link_caregiver(caregiver_delay)
            await runner.play(story)
            return runner
        finally:
            stop.set()
            await task
            await api.close()


_LIBRARY = load_library(CONTENT_DIR)


@pytest.mark.slow
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.sampled_from(ZONES), plan_specs(), actions(), st.sampled_from(REPEATS))
def test_no_message_invites_a_dose_too_close(
    zone: str, first: PlanSpec, story: list[Step], repeats: int
) -> None:
    runner = asyncio.run(run_story(_LIBRARY, zone, first, story, repeat_minutes=repeats))
    assert not runner.violations, runner.violations


def _always_offer(*_args: object, **_kwargs: object) -> Check:
    return Check(Verdict.OFFER)


def _remove_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """The dose-safety check taken out: it always offers the dose, wherever it is asked."""
    monkeypatch.setattr(safety, "check", _always_offer)
    monkeypatch.setattr("bot.domain.missed.check", _always_offer)


def _run_in_utc(named: tuple[PlanSpec, list[Step]], repeat_minutes: int = 0) -> Story:
    """One of the stories below, told by a patient in UTC."""
    spec, story = named
    return asyncio.run(run_story(_LIBRARY, "UTC", spec, story, repeat_minutes=repeat_minutes))


# A story that needs the check on an on-time reminder: the 14:00 dose answered late, at
# 19:45, then the 20:00 reminder comes on time.
_LATE_INTAKE = (
    PlanSpec((14 * 60, 20 * 60), ((10, 3),)),
    [
        (5 * 60, ("nothing",)),
        (30, ("nothing",)),
        (5 * 60 + 15, ("press", "taken", 0)),
        (15, ("nothing",)),
    ],
)


def test_the_story_of_a_late_intake_is_safe() -> None:
    runner = _run_in_utc(_LATE_INTAKE)
    assert runner.invitations >= 1
    assert not runner.violations, runner.violations


# A mis-tap on a late answer: the 14:00 dose taken at 19:45, undone a minute later, when the
# 20:00 dose is 14 minutes away. The dose is open again, but may not be offered.
_LATE_UNDO = (
    PlanSpec((14 * 60, 20 * 60), ((10, 3),)),
    [
        (5 * 60, ("nothing",)),
        (30, ("nothing",)),
        (5 * 60 + 15, ("taken_then_undo", 0, 1)),
        (20, ("nothing",)),
    ],
)


def test_the_story_of_an_undo_near_the_next_dose_is_safe() -> None:
    runner = _run_in_utc(_LATE_UNDO)
    assert runner.invitations >= 2  # the 14:00 reminder and the 20:00 one
    assert not runner.violations, runner.violations


def test_the_undo_property_fails_without_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the check removed, the Undo at 19:46 edits the confirmation back into a Taken
    button 14 minutes before the next dose: the oracle must see it (it reads edits too)."""
    _remove_the_check(monkeypatch)
    runner = _run_in_utc(_LATE_UNDO)
    assert any(
        "next planned dose" in problem and "Undone" in problem for problem in runner.violations
    ), runner.violations


def test_the_property_fails_without_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove the on-time reminder check (the check always offers): the oracle above must
    then find the 20:00 reminder that comes 15 minutes after an intake."""
    _remove_the_check(monkeypatch)
    runner = _run_in_utc(_LATE_INTAKE)
    assert any("intake recorded" in problem for problem in runner.violations), runner.violations


# Repeats every 10 minutes of the 10:00 dose, with the next dose at 13:00: from 11:10 the
# next dose is under 2 hours away, and the repeat due then must be the "skip it" notice.
_REPEATS_TO_THE_WINDOW = (
    PlanSpec((10 * 60, 13 * 60), ((10, 3),)),
    [(60, ("nothing",)), *[(10, ("nothing",))] * 9],
)


def test_the_story_of_repeats_up_to_the_skip_window_is_safe() -> None:
    runner = _run_in_utc(_REPEATS_TO_THE_WINDOW, repeat_minutes=10)
    assert runner.invitations == 7  # the reminder and the repeats of 10:10 to 11:00
    assert not runner.violations, runner.violations


def test_the_property_fails_for_repeats_without_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the check, a repeat runs into the skip window, and the oracle finds it."""
    _remove_the_check(monkeypatch)
    runner = _run_in_utc(_REPEATS_TO_THE_WINDOW, repeat_minutes=10)
    assert any("next planned dose" in problem for problem in runner.violations), runner.violations
