"""Who may use the admin commands, what the command menus show, and the audit log."""

from __future__ import annotations

from telegram import BotCommandScopeChat

from tests.admin_helpers import add_users, audit_log, press_control, preview, wait_for_summary
from tests.conftest import ADMIN_ID, RunningBot

PATIENT = 6001
ADMIN_COMMANDS = {"broadcast", "broadcasts", "stats", "reload"}


async def test_non_admin_is_refused_and_audited(bot: RunningBot) -> None:
    await bot.onboard(PATIENT)
    for command in ("/broadcast Free pizza", "/broadcasts", "/stats", "/reload"):
        [refusal] = await bot.say(PATIENT, command)
        assert refusal == bot.pack.text("admin.refused")
    # A forged admin button is refused the same way.
    query_id = bot.api.press_button(PATIENT, 1, "adm:send:1")
    [answer] = await bot.api.wait_for(
        "answerCallbackQuery", lambda call: call.params["callback_query_id"] == query_id
    )
    assert answer.params["text"] == bot.pack.text("admin.refused")

    log = await audit_log(bot, 5)
    refused = [(entry.actor_id, entry.action, entry.outcome) for entry in log]
    assert refused == [
        (PATIENT, "broadcast", "refused"),
        (PATIENT, "broadcasts", "refused"),
        (PATIENT, "stats", "refused"),
        (PATIENT, "reload", "refused"),
        (PATIENT, "broadcast_confirm", "refused"),
    ]
    assert all(entry.at == bot.clock.now() for entry in log)
    assert await bot.services.broadcasts.recent(10) == []


async def test_someone_who_never_started_is_refused_too(bot: RunningBot) -> None:
    [refusal] = await bot.say(6002, "/stats")
    assert bot.pack.text("admin.refused") in refusal
    [entry] = await audit_log(bot, 1)
    assert (entry.actor_id, entry.action, entry.outcome) == (6002, "stats", "refused")


async def test_every_admin_action_is_audited(bot: RunningBot) -> None:
    await add_users(bot, [6003, 6004])
    await bot.say(ADMIN_ID, "/broadcast")
    _, control = await preview(bot, "Audit me.")
    await press_control(bot, control, "In titration")
    await bot.api.wait_for("editMessageText")
    await press_control(bot, control, "All users")
    await bot.api.wait_for("editMessageText", count=2)
    await press_control(bot, control, "Confirm")
    await wait_for_summary(bot)
    await bot.say(ADMIN_ID, "/broadcasts")
    await bot.say(ADMIN_ID, "/stats")

    log = await audit_log(bot, 7)
    assert [(entry.actor_id, entry.action, entry.outcome) for entry in log] == [
        (ADMIN_ID, "broadcast", "usage"),
        (ADMIN_ID, "broadcast", "previewed"),
        (ADMIN_ID, "broadcast_segment", "segment_chosen"),
        (ADMIN_ID, "broadcast_segment", "segment_chosen"),
        (ADMIN_ID, "broadcast_confirm", "started"),
        (ADMIN_ID, "broadcasts", "listed"),
        (ADMIN_ID, "stats", "shown"),
    ]
    assert log[4].detail == "broadcast=1 segment=all recipients=2"
    for entry in log:  # ids and counts only: never the announcement's text
        assert "Audit me" not in entry.detail


async def test_admin_commands_are_only_in_the_admins_menu(bot: RunningBot) -> None:
    await bot.api.wait_for("setMyCommands", count=2)
    everyone = {command["command"] for command in bot.api.commands_for()}
    admins = {
        command["command"]
        for command in bot.api.commands_for(BotCommandScopeChat(ADMIN_ID).to_dict())
    }
    assert not everyone & ADMIN_COMMANDS
    assert admins >= ADMIN_COMMANDS | everyone
