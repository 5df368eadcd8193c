"""/stats: aggregates only."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.admin_helpers import add_users, press_control, preview, wait_for_summary
from tests.conftest import ADMIN_ID, RunningBot
from tests.reminder_helpers import save_plan, tap

TAKER, FORGETTER, TAPERER = 8001, 8002, 8003
QUIET, BLOCKED = 8004, 8005


async def test_stats_count_users_plans_reminders_and_broadcasts(bot: RunningBot) -> None:
    for user in (TAKER, FORGETTER, TAPERER):
        await bot.onboard(user, zone="UTC")
    await add_users(bot, [QUIET, BLOCKED])
    await bot.say(QUIET, "/announcements off")
    await bot.services.doses.mark_unreachable(BLOCKED, bot.clock.now())
    await save_plan(bot, TAKER, "/schedule custom today 10:00 10x5")
    await save_plan(bot, FORGETTER, "/schedule custom today 10:00 5x3 10x3")
    await save_plan(bot, TAPERER, "/taper today 10:00 10x3 5x3 stop", confirm=True)

    before = {user: bot.sent_count(user) for user in (TAKER, FORGETTER, TAPERER)}
    bot.clock.set(datetime(2026, 1, 11, 10, 0, tzinfo=UTC))
    for user, count in before.items():
        await bot.next_messages(user, count, 1)
    await bot.services.reminders.run_due()
    await tap(bot, TAKER, bot.last_message(TAKER), "taken")

    _, control = await preview(bot, "Hello.")
    await press_control(bot, control, "Confirm")
    await wait_for_summary(bot)

    [stats] = await bot.say(ADMIN_ID, "/stats")
    assert "Users: 5 (1 unreachable, 1 with announcements off)" in stats
    assert "Active plans: 2 in titration, 0 on maintenance, 1 tapering, 0 finished tapers" in stats
    assert "Reminders sent: 3 in the last 24 hours, 3 in the last 7 days" in stats
    assert "Answered Taken (reminders of the last 7 days): 33%" in stats
    assert "Broadcasts: 1 confirmed (0 running); 3 messages delivered in the last 7 days" in stats
    assert "Content pack: 2026.12.02-2" in stats
    for user in (TAKER, FORGETTER, TAPERER, QUIET, BLOCKED):
        assert str(user) not in stats


async def test_stats_with_nothing_yet(bot: RunningBot) -> None:
    [stats] = await bot.say(ADMIN_ID, "/stats")
    assert "Users: 0 (0 unreachable, 0 with announcements off)" in stats
    assert "Answered Taken (reminders of the last 7 days): no reminders yet" in stats
