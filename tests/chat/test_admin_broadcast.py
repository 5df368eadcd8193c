"""/broadcast from preview to summary, segments, cancelling, and delivery faults."""

from __future__ import annotations

from collections.abc import Callable
from datetime import time, timedelta
from decimal import Decimal

from bot.domain.plans import Plan, Step
from bot.emulator.api import ApiCall
from bot.storage.broadcasts import BroadcastStore, Delivery
from tests.admin_helpers import add_users, press_control, preview, received, wait_for_summary
from tests.conftest import ADMIN_ID, RunningBot
from tests.said import opening

USERS = [5001, 5002, 5003, 5004, 5005]


async def test_preview_is_exactly_what_recipients_get(bot: RunningBot) -> None:
    await add_users(bot, USERS)
    await bot.services.users.set_announcements(5003, False)
    await bot.services.doses.mark_unreachable(5004, bot.clock.now())

    body, control = await preview(bot, "Closed on <24 Dec> & 25 Dec.\nReminders continue.")
    assert opening(bot.pack, "broadcast.message") in body
    assert "Closed on &lt;24 Dec&gt; &amp; 25 Dec.\nReminders continue." in body  # plain text
    assert "Send to: <b>All users</b>, 3 recipient(s)" in control["text"]
    assert set(bot.buttons(control)) >= {"✓ All users", "In titration", "Confirm and send"}

    [started] = await press_control(bot, control, "Confirm")
    assert "Sending broadcast #1 to 3 recipients" in started
    summary = await wait_for_summary(bot)
    assert "Broadcast #1 (All users) is done: 3 sent, 0 failed, 0 pending" in summary

    for user in (5001, 5002, 5005):
        assert received(bot, user) == [body]
    assert received(bot, 5003) == []  # announcements off
    assert received(bot, 5004) == []  # unreachable
    assert bot.last_message(ADMIN_ID)["text"] == summary


async def test_usage_and_length_are_checked(bot: RunningBot) -> None:
    [usage] = await bot.say(ADMIN_ID, "/broadcast")
    assert "<code>/broadcast The clinic is closed" in usage
    [too_long] = await bot.say(ADMIN_ID, "/broadcast " + "x" * 4050)
    assert "Telegram allows 4096" in too_long
    assert "shorten it by at least" in too_long
    assert await bot.services.broadcasts.recent(10) == []


async def _plan(bot: RunningBot, user: int, plan: Plan) -> None:
    await bot.services.plans.save(user, plan, high_dose_confirmed=False)


async def test_segments_follow_each_users_plan(bot: RunningBot) -> None:
    titrating, maintaining, tapering, planless = USERS[:4]
    await add_users(bot, USERS[:4])
    today = bot.clock.now().date()
    times = (time(8), time(20))
    steps = (Step.same_at(times, Decimal(5), 3), Step.same_at(times, Decimal(10), 3))
    await _plan(bot, titrating, Plan("standard", today, steps, False))
    await _plan(bot, maintaining, Plan("custom", today - timedelta(days=7), steps, False))
    await _plan(bot, tapering, Plan("taper", today, steps[::-1], True))

    _, control = await preview(bot, "For people on maintenance.")
    assert "3 recipient(s)" not in control["text"]
    assert "4 recipient(s)" in control["text"]
    for label, count in (("In titration", 1), ("On maintenance", 1), ("Tapering", 1)):
        await press_control(bot, control, label)
        edited = await bot.api.wait_for("editMessageText", _text_has(label))
        assert f"{count} recipient(s)" in edited[0].params["text"]
    await press_control(bot, control, "On maintenance")
    [started] = await press_control(bot, control, "Confirm")
    assert "to 1 recipient (On maintenance)" in started
    await wait_for_summary(bot)
    assert len(received(bot, maintaining)) == 1
    for other in (titrating, tapering, planless):
        assert received(bot, other) == []


async def test_cancel_on_preview_sends_nothing(bot: RunningBot) -> None:
    await add_users(bot, USERS)
    _, control = await preview(bot, "Never mind.")
    [cancelled] = await press_control(bot, control, "Cancel")
    assert bot.pack.text("broadcast.discarded") in cancelled
    # A stale Confirm (another admin's screen, a double tap) does nothing either.
    [stale] = await bot.press(ADMIN_ID, control["message_id"], "adm:send:1", replies=1)
    assert bot.pack.text("broadcast.stale", id=1) in stale
    for user in USERS:
        assert received(bot, user) == []


async def test_confirm_twice_sends_once(bot: RunningBot) -> None:
    await add_users(bot, USERS)
    _, control = await preview(bot, "Only once, please.")
    await press_control(bot, control, "Confirm")
    [stale] = await bot.press(ADMIN_ID, control["message_id"], "adm:send:1", replies=1)
    assert bot.pack.text("broadcast.stale", id=1) in stale
    await wait_for_summary(bot)
    for user in USERS:
        assert len(received(bot, user)) == 1


async def test_blocked_recipient_is_marked_unreachable(bot: RunningBot) -> None:
    await add_users(bot, USERS)
    bot.api.blocked.add(5002)
    _, control = await preview(bot, "Hello.")
    await press_control(bot, control, "Confirm")
    summary = await wait_for_summary(bot)
    assert "4 sent, 1 failed, 0 pending" in summary
    assert "1 blocked the bot" in summary
    user = await bot.services.users.get(5002)
    assert user is not None
    assert user.unreachable_at is not None
    # The next broadcast leaves them out.
    _, control = await preview(bot, "Hello again.")
    assert "4 recipient(s)" in control["text"]


async def test_server_error_is_retried_with_backoff(bot: RunningBot) -> None:
    await add_users(bot, USERS)
    bot.api.fail("sendMessage", status=502, chat_id=5003)
    _, control = await preview(bot, "Second try.")
    await press_control(bot, control, "Confirm")
    await bot.api.wait_for("sendMessage", lambda call: call.params["chat_id"] == 5003)
    await bot.api.wait_for(
        "sendMessage",
        lambda call: call.params["chat_id"] in (5001, 5002, 5004, 5005) and call.status == 200,
        count=4,
    )
    assert received(bot, 5003) == []
    [progress] = await bot.services.broadcasts.recent(1)
    assert progress.pending == 1  # waiting for its backoff
    bot.clock.advance(timedelta(seconds=5))
    await wait_for_summary(bot)
    assert len(received(bot, 5003)) == 1


async def test_connection_lost_mid_send_is_not_repeated(bot: RunningBot) -> None:
    """The request may have reached Telegram: record it as unknown rather than risk a double."""
    await add_users(bot, USERS)
    bot.api.fail("sendMessage", status=0, chat_id=5003)
    _, control = await preview(bot, "Maybe.")
    await press_control(bot, control, "Confirm")
    summary = await wait_for_summary(bot)
    assert "4 sent, 1 failed, 0 pending" in summary
    assert "1 may or may not have arrived" in summary
    [progress] = await bot.services.broadcasts.recent(1)
    deliveries = await BroadcastStore(bot.services.db).deliveries(progress.broadcast.broadcast_id)
    assert deliveries[5003] is Delivery.UNKNOWN
    attempts = [call for call in bot.api.calls_of("sendMessage") if call.params["chat_id"] == 5003]
    assert len(attempts) == 1  # tried once, never again


async def test_too_many_requests_waits_and_delivers_once(bot: RunningBot) -> None:
    await add_users(bot, USERS[:2])
    # More 429s than the application's rate limiter retries: the outbox itself waits and retries.
    bot.api.fail("sendMessage", status=429, retry_after=1, chat_id=5001, times=4)
    _, control = await preview(bot, "Patience.")
    await press_control(bot, control, "Confirm")
    summary = await wait_for_summary(bot, timeout=30)
    assert "2 sent, 0 failed, 0 pending" in summary
    assert len(received(bot, 5001)) == 1
    assert bot.api.retry_after_count == 4


async def test_running_broadcast_can_be_cancelled(bot: RunningBot) -> None:
    await add_users(bot, USERS)
    bot.api.fail("sendMessage", status=502, chat_id=5005)
    _, control = await preview(bot, "Stop me.")
    await press_control(bot, control, "Confirm")
    await bot.api.wait_for(
        "sendMessage", lambda call: call.params["chat_id"] in USERS, count=len(USERS)
    )
    [listing] = await bot.say(ADMIN_ID, "/broadcasts")
    assert "<b>#1</b> All users" in listing
    assert "(sending): 4 sent, 0 failed, 1 pending" in listing
    listed = bot.last_message(ADMIN_ID)
    [cancelled] = await bot.press(ADMIN_ID, listed["message_id"], "adm:stop:1", replies=1)
    assert "Broadcast #1 (All users) is cancelled: 4 sent, 0 failed, 0 pending" in cancelled
    bot.clock.advance(timedelta(minutes=10))
    [listing] = await bot.say(ADMIN_ID, "/broadcasts")
    assert "(cancelled): 4 sent" in listing
    assert received(bot, 5005) == []
    [again] = await bot.press(ADMIN_ID, listed["message_id"], "adm:stop:1", replies=1)
    assert bot.pack.text("broadcast.not_running", id=1) in again


async def test_announcements_turned_off_before_their_turn_are_skipped(bot: RunningBot) -> None:
    await add_users(bot, USERS)
    bot.api.fail("sendMessage", status=502, chat_id=5002)  # holds 5002 back for a while
    _, control = await preview(bot, "News.")
    await press_control(bot, control, "Confirm")
    await bot.api.wait_for(
        "sendMessage", lambda call: call.params["chat_id"] in USERS, count=len(USERS)
    )
    await bot.say(5002, "/announcements off")
    bot.clock.advance(timedelta(seconds=5))
    summary = await wait_for_summary(bot)
    assert "4 sent, 0 failed, 0 pending" in summary
    assert "1 turned announcements off or blocked the bot before their turn" in summary
    assert received(bot, 5002) == []


def _text_has(part: str) -> Callable[[ApiCall], bool]:
    def matches(call: ApiCall) -> bool:
        return part in call.params["text"]

    return matches
