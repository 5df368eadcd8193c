"""The calendar's event ids, revisions and cancelled dose times (bot/domain/calendar.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.calendar import (
    HeldStep,
    PastVersion,
    dropped_doses,
    event_uid,
    past_versions,
    sequence,
)
from bot.domain.plans import parse_custom_command
from bot.domain.schedule import slots_between

BERLIN = ZoneInfo("Europe/Berlin")
TODAY = date(2026, 3, 1)
NOW = datetime(2026, 3, 1, 6, tzinfo=UTC)
KEY = "0f" * 32


def test_the_uid_depends_on_the_key_and_the_local_date_and_time_only() -> None:
    uid = event_uid(KEY, date(2026, 3, 2), time(8))
    assert uid == event_uid(KEY, date(2026, 3, 2), time(8))
    assert uid != event_uid(KEY, date(2026, 3, 2), time(20))
    assert uid != event_uid(KEY, date(2026, 3, 3), time(8))
    assert uid != event_uid("1e" * 32, date(2026, 3, 2), time(8))
    name, domain = uid.split("@")
    assert domain == "baclofen-bot"
    assert len(name) == 26 and set(name) <= set("abcdefghijklmnopqrstuvwxyz234567")


@given(st.integers(min_value=0, max_value=68 * 365 * 86400))
def test_the_sequence_grows_with_the_time_the_file_is_made(seconds: int) -> None:
    made_at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)
    assert 0 <= sequence(made_at) < sequence(made_at + timedelta(seconds=1)) < 2**31


def test_a_held_step_gives_back_the_plan_before_the_hold() -> None:
    plan = parse_custom_command(["today", "08:00", "5x3", "10x3"], TODAY)
    held = plan.held(1, 2)
    chosen = datetime(2026, 3, 3, 19, tzinfo=UTC)
    [before] = past_versions(held, [HeldStep(1, 2, chosen)], None)
    assert before == PastVersion(plan, chosen)
    # Superseded too: the stored (held) plan is a past version as well.
    replaced = datetime(2026, 3, 5, tzinfo=UTC)
    versions = past_versions(held, [HeldStep(1, 2, chosen)], replaced)
    assert versions == [PastVersion(held, replaced), PastVersion(plan, chosen)]
    # A hold that cannot be taken back from this plan is not guessed at.
    assert past_versions(held, [HeldStep(1, 9, chosen)], None) == []
    assert past_versions(held, [HeldStep(7, 1, chosen)], None) == []


def test_dropped_doses_are_the_times_the_plan_no_longer_has() -> None:
    old = parse_custom_command(["today", "08:00,20:00", "10x30"], TODAY)
    new = parse_custom_command(["today", "08:00,14:00", "10x30"], TODAY)
    end = NOW + timedelta(days=90)
    coming = slots_between(new, BERLIN, NOW, end)
    replaced = NOW + timedelta(hours=1)
    dropped = dropped_doses(coming, [PastVersion(old, replaced)], BERLIN, NOW, end, file_days=90)
    assert {slot.local_time for slot in dropped} == {time(20)}
    assert len(dropped) == 90  # its last dose went on after the steps: every 20:00 ahead
    kept = {(slot.local_date, slot.local_time) for slot in coming}
    assert not kept & {(slot.local_date, slot.local_time) for slot in dropped}
    assert dropped == sorted(dropped, key=lambda slot: slot.due_utc)


def test_a_version_replaced_long_ago_cannot_be_in_a_file_of_the_coming_doses() -> None:
    old = parse_custom_command(["2026-01-01", "20:00", "10x200"], date(2026, 1, 1))
    new = parse_custom_command(["today", "08:00", "10x30"], TODAY)
    end = NOW + timedelta(days=90)
    coming = slots_between(new, BERLIN, NOW, end)
    replaced = NOW - timedelta(days=80)  # its last file held doses up to 10 days from now
    dropped = dropped_doses(coming, [PastVersion(old, replaced)], BERLIN, NOW, end, file_days=90)
    assert dropped
    assert max(slot.due_utc for slot in dropped) < replaced + timedelta(days=90)
    long_ago = NOW - timedelta(days=91)
    assert not dropped_doses(coming, [PastVersion(old, long_ago)], BERLIN, NOW, end, file_days=90)
