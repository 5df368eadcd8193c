"""``python -m bot demo`` in a real browser: a patient's first day, clicked through the web chat.

Starts the demo as a separate process (emulator, bot and web chat) and drives its page in
headless Chromium. ``make screenshots`` (DEMO_SCREENSHOTS=docs) keeps the screenshots in docs/.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.browser import BROWSER, NO_BROWSER, Page, open_browser
from tests.conftest import ROOT, process_env, start_process

# .ci/run sets REQUIRE_BROWSER: there a missing browser fails the run instead.
SKIP = BROWSER is None and not os.environ.get("REQUIRE_BROWSER")
pytestmark = [pytest.mark.process, pytest.mark.skipif(SKIP, reason=NO_BROWSER)]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
BOT_TEXT = "[...document.querySelectorAll('.message.bot')].map(m => m.innerText)"


@pytest.fixture
async def demo_url(tmp_path: Path) -> AsyncIterator[str]:
    """A demo started from an empty folder, as ``make demo`` starts it; stopped by SIGTERM."""
    folder = tmp_path / "empty"
    folder.mkdir()
    process = await start_process(process_env(), folder, "demo", "--port", "0")
    assert process.stdout is not None
    try:
        async with asyncio.timeout(60):
            line = (await process.stdout.readline()).decode()
        match = re.search(r"open (http://127\.0\.0\.1:\d+/) in your browser", line)
        assert match, f"no address printed: {line!r}"
        yield match.group(1)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
        assert process.returncode == 0, stderr.decode()[-2000:]
    # Its own database, under data/demo/ of the folder it was started in.
    assert (folder / "data" / "demo" / "demo.sqlite3").is_file()


@pytest.fixture
async def page(tmp_path: Path, demo_url: str) -> AsyncIterator[Page]:
    async with open_browser(tmp_path / "profile") as browser_page:
        await browser_page.goto(demo_url)
        await browser_page.wait_for("document.querySelectorAll('#users li').length === 4")
        yield browser_page


def shots_folder(tmp_path: Path) -> Path:
    wanted = os.environ.get("DEMO_SCREENSHOTS")
    return ROOT / wanted if wanted else tmp_path


async def screenshot(page: Page, path: Path) -> bytes:
    shot = await page.screenshot()
    assert shot.startswith(PNG_SIGNATURE)
    await asyncio.to_thread(path.write_bytes, shot)
    return shot


async def last_bot_text(page: Page, contains: str) -> str:
    """Wait until the newest bot message contains ``contains``; return its text."""
    text: str = await page.wait_for(
        f"(() => {{ const t = {BOT_TEXT}; const last = t[t.length - 1] || '';"
        f" return last.includes({json.dumps(contains)}) ? last : null; }})()"
    )
    return text


async def test_first_day_clicked_through_in_a_browser(page: Page, tmp_path: Path) -> None:
    shots = shots_folder(tmp_path)
    # Onboarding, from the command menu the bot registered (setMyCommands) and buttons.
    await page.click("#menu-button")
    await page.click("#menu button", "/start")
    await last_bot_text(page, "not medical advice")
    await page.click(".keyboard button", "I agree")
    await page.click(".keyboard button", "Berlin")
    await page.click(".keyboard button", "United Kingdom")
    done = await last_bot_text(page, "Emergency number (United Kingdom)")
    assert "Europe/Berlin" in done
    # Telegram HTML is rendered, not shown as tags.
    assert await page.evaluate("document.querySelector('.message.bot b') !== null")
    assert "<b>" not in await page.evaluate("document.getElementById('messages').innerText")
    await screenshot(page, shots / "demo-onboarding.png")

    # A schedule, set by buttons only.
    await page.type_and_send("/schedule")
    await page.click(".keyboard button", "Standard build-up")
    await page.click(".keyboard button", "Tomorrow")
    await page.click(".keyboard button", "08:00 14:00 20:00")
    await page.click(".keyboard button", "20 mg")
    summary = await last_bot_text(page, "Save plan")
    assert "5 mg three times a day" in summary
    await screenshot(page, shots / "demo-plan.png")
    await page.click(".keyboard button", "Save plan")
    saved = await last_bot_text(page, "Saved. Your first reminder")
    assert "08:00" in saved

    # The time machine jumps to the first dose: tomorrow 08:00 in Berlin; the reminder comes.
    await page.click("#tm-next")
    reminder = await last_bot_text(page, "Time for your dose")
    assert "5 mg at 08:00, day 1, step 1 of 4" in reminder
    clock = await page.evaluate("document.getElementById('clock-local').innerText")
    assert clock.endswith("08:00"), clock
    await screenshot(page, shots / "demo-reminder.png")

    # Taken: the reminder is edited in place to show what was recorded.
    count = await page.evaluate("document.querySelectorAll('.message').length")
    await page.click(".keyboard button", "Taken")
    recorded = await page.wait_for(
        "[...document.querySelectorAll('.message.bot')]"
        ".map(m => m.innerText).find(t => t.includes('recorded as taken'))"
    )
    assert "edited" in recorded
    assert await page.evaluate("document.querySelectorAll('.message').length") == count
    await screenshot(page, shots / "demo-taken.png")

    # /today shows it.
    await page.type_and_send("/today")
    today = await last_bot_text(page, "Today,")
    assert re.search(r"08:00\s+5 mg: ✅ taken", today), today
    await screenshot(page, shots / "demo-today.png")


async def test_patients_and_admin_switch_and_documents_download(page: Page) -> None:
    # A patient's export arrives as documents the page offers for download.
    await page.type_and_send("/start")
    await page.click(".keyboard button", "I agree")
    await page.click(".keyboard button", "London")
    await page.click(".keyboard button", "United Kingdom")
    await last_bot_text(page, "Emergency number")
    await page.type_and_send("/mydata")
    link = await page.wait_for("document.querySelector('a.file')?.getAttribute('href')")
    exported = await page.evaluate(f"fetch({json.dumps(link)}).then(r => r.text())")
    assert exported.lstrip().startswith("{")
    assert "1001" in exported

    # Another patient has a chat of their own.
    await page.click("#users li", "Ben")
    await page.wait_for("document.querySelectorAll('.message').length === 0")
    # The admin's command menu has the admin commands; a patient's does not.
    await page.click("#users li", "Clinic admin")
    await page.click("#menu-button")
    admin_menu = await page.wait_for(
        "(() => { const t = document.getElementById('menu').innerText;"
        " return t.includes('/broadcast') ? t : null; })()"
    )
    assert "/stats" in admin_menu
    await page.click("#menu button", "/stats")
    await last_bot_text(page, "Statistics")
    await page.click("#users li", "Anna")
    await page.wait_for("document.querySelector('a.file') !== null")
    await page.click("#menu-button")
    patient_menu = await page.evaluate("document.getElementById('menu').innerText")
    assert "/schedule" in patient_menu
    assert "/broadcast" not in patient_menu


async def test_a_russian_speaking_patient_gets_russian(page: Page, tmp_path: Path) -> None:
    """Olga's Telegram is in Russian: the menu, the welcome, the buttons and the reminder."""
    shots = shots_folder(tmp_path)
    await page.click("#users li", "Olga")
    # Olga's chat, with her Russian command menu, is drawn when her state arrives: wait for it,
    # or the menu opened now is the previous chat's and is drawn again under the pointer.
    await page.wait_for("document.getElementById('chat-sub').textContent.includes('Olga')")
    await page.click("#menu-button")
    await page.click("#menu button", "/start")
    await last_bot_text(page, "а не медицинские советы")
    await page.click(".keyboard button", "Соглашаюсь")
    await page.click(".keyboard button", "Москва")
    await page.click(".keyboard button", "Россия")
    done = await last_bot_text(page, "112")
    assert "Europe/Moscow" in done
    await page.type_and_send("/schedule standard tomorrow 08:00 14:00 20:00")
    await page.click(".keyboard button", "Сохранить план")
    await last_bot_text(page, "Сохранено")
    await page.click("#tm-next")
    reminder = await last_bot_text(page, "Время принять дозу")
    assert "5 мг" in reminder
    await screenshot(page, shots / "demo-reminder-ru.png")
