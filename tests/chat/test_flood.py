"""Flood control: the sliding window itself, then a flooding user through the stand-in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain.flood import FloodGuard, FloodPolicy, Verdict
from tests.conftest import RunningBot
from tests.privacy_helpers import eventually

T0 = datetime(2026, 1, 11, 9, 0, tzinfo=UTC)
FLOODER = 6006
BYSTANDER = 6007


def _seconds(value: float) -> datetime:
    return T0 + timedelta(seconds=value)


def test_the_51st_update_in_ten_seconds_is_refused_once_then_dropped() -> None:
    guard = FloodGuard()
    verdicts = [guard.check(FLOODER, _seconds(index * 0.1)) for index in range(55)]
    assert verdicts[:50] == [Verdict.ALLOW] * 50
    assert verdicts[50] is Verdict.NOTIFY
    assert verdicts[51:] == [Verdict.DROP] * 4
    assert guard.check(BYSTANDER, _seconds(5.5)) is Verdict.ALLOW  # others are not slowed
    assert guard.check(FLOODER, _seconds(5.0 + 59)) is Verdict.DROP  # paused for a minute
    assert guard.check(FLOODER, _seconds(5.0 + 60)) is Verdict.ALLOW
    assert guard.dropped == 6


def test_the_window_slides() -> None:
    guard = FloodGuard(FloodPolicy(limit=3, window=timedelta(seconds=10)))
    for second in (0, 1, 2):
        assert guard.check(FLOODER, _seconds(second)) is Verdict.ALLOW
    assert guard.check(FLOODER, _seconds(10.5)) is Verdict.ALLOW  # the update at 0 s has left
    assert guard.check(FLOODER, _seconds(10.6)) is Verdict.NOTIFY  # 1, 2, 10.5 and this one


def test_memory_is_bounded_by_recent_activity() -> None:
    guard = FloodGuard(FloodPolicy(limit=2))
    for user in range(100_000, 110_000):
        guard.check(user, T0)
    for _ in range(3):
        guard.check(FLOODER, T0)  # paused
    assert guard.tracked_users == 10_001
    guard.check(BYSTANDER, _seconds(11))  # every window is empty now
    assert guard.tracked_users == 2  # the bystander, and the flooder's pause
    guard.check(BYSTANDER, _seconds(61))
    assert guard.tracked_users == 1


async def test_a_flooding_user_gets_one_notice_and_others_are_served(bot: RunningBot) -> None:
    await bot.onboard(FLOODER, region="uk")
    bot.clock.advance(timedelta(minutes=1))  # onboarding counted too; start a fresh window
    limit = bot.services.flood.policy.limit
    before = bot.sent_count(FLOODER)
    for index in range(limit + 10):
        bot.api.send_text(FLOODER, f"hello {index}")
    await bot.next_messages(FLOODER, before, limit + 1)
    await eventually(lambda: bot.services.flood.dropped == 10)
    [bystander] = await bot.say(BYSTANDER, "hello")  # not slowed down by the flood
    assert "/help" in bystander

    replies = [m["text"] for m in bot.api.messages_to(FLOODER)[before:]]
    notices = [text for text in replies if "faster than I can read" in text]
    assert len(replies) == limit + 1
    assert len(notices) == 1
    assert "999" in notices[0]  # the emergency number of their region, even while paused
    assert len([text for text in replies if "/help" in text]) == limit

    # While paused nothing is answered; after the pause the user is served again.
    bot.api.send_text(FLOODER, "/help")
    await eventually(lambda: bot.services.flood.dropped == 11)
    bot.clock.advance(bot.services.flood.policy.pause)
    [served] = await bot.say(FLOODER, "hello again")
    assert "/help" in served
    assert bot.sent_count(FLOODER) == before + limit + 2
