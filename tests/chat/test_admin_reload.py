"""/reload: a valid pack is swapped in and its changes reported; an invalid one is refused."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from bot.storage.admin import AdminStore
from tests.admin_helpers import add_users, audit_log, press_control, received, wait_for_summary
from tests.conftest import ADMIN_ID, CONTENT_DIR, RunningBot

PATIENT = 7001
OLD_VERSION = 'version = "2026.12.02-2"'
HALFLIFE_OPENING = "Baclofen is absorbed quickly and leaves the body fairly fast."
HALFLIFE_SUMMARY = 'summary = "Half-life, kidneys and why it is taken several times a day"'


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """A copy of the real pack that a test may edit."""
    copy = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, copy)
    return copy


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


async def _start(start_bot: Any, content: Path) -> RunningBot:
    bot: RunningBot = await start_bot(CONTENT_DIR=str(content))
    await add_users(bot, [PATIENT])
    return bot


async def test_valid_pack_goes_live_and_can_be_announced(start_bot: Any, content: Path) -> None:
    bot = await _start(start_bot, content)
    live = await AdminStore(bot.services.db).live_content()
    assert live is not None
    assert live.version == "2026.12.02-2"  # recorded at start

    edit(content / "pack.toml", OLD_VERSION, 'version = "2026.12.01-1"')
    edit(content / "en" / "topics.toml", HALFLIFE_OPENING, "Revised: " + HALFLIFE_OPENING)
    edit(content / "en" / "topics.toml", HALFLIFE_SUMMARY, 'summary = "Half-life and kidneys"')
    edit(content / "en" / "messages.toml", 'on = "Announcements are on."', 'on = "News is on."')
    [report] = await bot.say(ADMIN_ID, "/reload")
    assert "Content pack <b>2026.12.01-1</b> is live (was 2026.12.02-2)." in report
    assert "Changed topics: /halflife." in report
    assert bot.pack.text("reload.messages_changed", count=1) in report
    assert "did not change" not in report

    [halflife] = await bot.say(PATIENT, "/halflife")
    assert "Revised: Baclofen is absorbed quickly" in halflife
    live = await AdminStore(bot.services.db).live_content()
    assert live is not None
    assert live.version == "2026.12.01-1"
    assert live.changed_topics == ("halflife",)
    await bot.api.wait_for("setMyCommands", count=4)  # everyone's menu and the admin's, again
    menu = {command["command"]: command["description"] for command in bot.api.commands_for()}
    assert menu["halflife"] == "Half-life and kidneys"

    # One button: the changed topics announced, previewed and confirmed like any broadcast.
    offer = bot.last_message(ADMIN_ID)
    [announcement, _] = await bot.press(
        ADMIN_ID, offer["message_id"], f"adm:announce:{live.load_id}", replies=2
    )
    assert "/halflife: How long baclofen stays in your body" in announcement
    await press_control(bot, bot.last_message(ADMIN_ID), "Confirm")
    await wait_for_summary(bot)
    assert received(bot, PATIENT, mark="/halflife") == [announcement]


async def test_invalid_pack_is_refused_and_the_old_one_stays(start_bot: Any, content: Path) -> None:
    bot = await _start(start_bot, content)
    [before] = await bot.say(PATIENT, "/halflife")
    edit(content / "pack.toml", OLD_VERSION, 'version = ""')
    edit(content / "en" / "topics.toml", HALFLIFE_OPENING, "Broken <b>bold.")
    [refusal] = await bot.say(ADMIN_ID, "/reload")
    assert "refused; <b>2026.12.02-2</b> stays live" in refusal
    assert "• pack.toml: version is missing" in refusal
    assert "• en/topics.toml [halflife]: &lt;b&gt; is never closed" in refusal
    assert bot.buttons(bot.last_message(ADMIN_ID)) == {}

    [after] = await bot.say(PATIENT, "/halflife")
    assert after == before
    live = await AdminStore(bot.services.db).live_content()
    assert live is not None
    assert live.version == "2026.12.02-2"
    entries = await audit_log(bot, 1)
    assert (entries[-1].action, entries[-1].outcome, entries[-1].detail) == (
        "reload",
        "rejected",
        "problems=2",
    )


async def test_unchanged_pack_reports_no_changes(start_bot: Any, content: Path) -> None:
    bot = await _start(start_bot, content)
    [report] = await bot.say(ADMIN_ID, "/reload")
    assert "Content pack <b>2026.12.02-2</b> is live (was 2026.12.02-2)." in report
    assert bot.pack.text("reload.no_topic_changes") in report
    assert bot.buttons(bot.last_message(ADMIN_ID)) == {}


async def test_change_without_a_new_version_is_flagged(start_bot: Any, content: Path) -> None:
    bot = await _start(start_bot, content)
    edit(content / "en" / "topics.toml", HALFLIFE_OPENING, "Revised: " + HALFLIFE_OPENING)
    [report] = await bot.say(ADMIN_ID, "/reload")
    assert "Changed topics: /halflife." in report
    assert bot.pack.text("reload.same_version") in report


async def test_announcing_an_outdated_reload_is_refused(start_bot: Any, content: Path) -> None:
    bot = await _start(start_bot, content)
    edit(content / "en" / "topics.toml", HALFLIFE_OPENING, "Revised: " + HALFLIFE_OPENING)
    await bot.say(ADMIN_ID, "/reload")
    first_offer = bot.last_message(ADMIN_ID)
    [first_data] = bot.buttons(first_offer).values()
    edit(content / "en" / "topics.toml", "Revised: ", "Revised again: ")
    await bot.say(ADMIN_ID, "/reload")
    [stale] = await bot.press(ADMIN_ID, first_offer["message_id"], first_data, replies=1)
    assert bot.pack.text("reload.announce_stale") in stale
    assert await bot.services.broadcasts.recent(10) == []
