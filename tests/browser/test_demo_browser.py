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

from tests.chromium import BROWSER, NO_BROWSER, Page, open_browser
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


async def start_from_the_menu(
    page: Page, welcome: str, buttons: tuple[str, str, str], done: str
) -> str:
    """/start from the command menu the bot registered (setMyCommands), its welcome (which
    says ``welcome``), then the consent, city and region buttons; returns the bot's last
    text, once it says ``done``."""
    await page.click("#menu-button")
    await page.click("#menu button", "/start")
    await last_bot_text(page, welcome)
    for label in buttons:
        await page.click(".keyboard button", label)
    return await last_bot_text(page, done)


async def test_first_day_clicked_through_in_a_browser(page: Page, tmp_path: Path) -> None:
    shots = shots_folder(tmp_path)
    # Onboarding, from the command menu the bot registered (setMyCommands) and buttons.
    done = await start_from_the_menu(
        page,
        "not medical advice",
        ("I agree", "Berlin", "United Kingdom"),
        "Emergency number (United Kingdom)",
    )
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
    done = await start_from_the_menu(
        page, "а не медицинские советы", ("Соглашаюсь", "Москва", "Россия"), "112"
    )
    assert "Europe/Moscow" in done
    await page.type_and_send("/schedule standard tomorrow 08:00 14:00 20:00")
    await page.click(".keyboard button", "Сохранить план")
    await last_bot_text(page, "Сохранено")
    await page.click("#tm-next")
    reminder = await last_bot_text(page, "Время принять дозу")
    assert "5 мг" in reminder
    await screenshot(page, shots / "demo-reminder-ru.png")


async def onboard_in_page(page: Page, zone: str = "Berlin") -> None:
    await page.type_and_send("/start")
    await page.click(".keyboard button", "I agree")
    await page.click(".keyboard button", zone)
    await page.click(".keyboard button", "United Kingdom")
    await last_bot_text(page, "Emergency number (United Kingdom)")


async def next_event(page: Page, local: str) -> None:
    """Press "Next event"; wait until the clock shows ``local`` (HH:MM)."""
    await page.click("#tm-event")
    await page.wait_for(
        f"document.getElementById('clock-local').innerText.endsWith({json.dumps(local)})"
    )


async def test_time_machine_shows_follow_up_missed_notice_and_caregiver_alert(
    page: Page, tmp_path: Path
) -> None:
    """Issue 23: step by step with "Next event", as a real clock passes: the follow-up of an
    unanswered dose, its caregiver's alert, and the "skip it" notice of a dose whose next one
    is near, each at its own time (none dropped as late)."""
    shots = shots_folder(tmp_path)
    await onboard_in_page(page)
    await page.type_and_send("/schedule custom tomorrow 06:45,10:00,12:15 5x10")
    await page.click(".keyboard button", "Save plan")
    await last_bot_text(page, "Saved. Your first reminder")
    # Ben becomes Anna's caregiver through her invite link; alerts 30 min after a follow-up.
    await page.type_and_send("/caregiver")
    invite = await last_bot_text(page, "start=cg_")
    match = re.search(r"start=(cg_[A-Za-z0-9_-]+)", invite)
    assert match, invite
    await page.click("#users li", "Ben")
    await page.wait_for("document.getElementById('chat-sub').textContent.includes('Ben')")
    await page.type_and_send(f"/start {match.group(1)}")
    await page.click(".keyboard button", "Accept")
    await last_bot_text(page, "you are now Anna's caregiver")
    await page.click("#users li", "Anna")
    await page.wait_for("document.getElementById('chat-sub').textContent.includes('Anna')")
    await page.type_and_send("/caregiver delay 30")
    await last_bot_text(page, "30 min after its follow-up")

    await next_event(page, "06:45")
    reminder = await last_bot_text(page, "Time for your dose")
    assert "I will ask again at 07:15" in reminder
    await next_event(page, "07:15")
    follow_up = await last_bot_text(page, "Did you take your 5 mg dose due at 06:45?")
    assert "record it.\n07:15" in follow_up, follow_up  # its time on the bot's clock
    await next_event(page, "07:45")  # the caregiver's alert: in Ben's chat, not Anna's
    await next_event(page, "10:00")
    await last_bot_text(page, "Time for your dose: 5 mg at 10:00")
    await next_event(page, "10:30")
    notice = await last_bot_text(page, "You missed the 5 mg dose due at 10:00")
    assert "skip the missed dose" in notice and notice.rstrip().endswith("\n10:30"), notice
    await next_event(page, "11:00")  # the second alert: two doses in a row

    anna = await page.evaluate(BOT_TEXT)
    order = [
        next(i for i, text in enumerate(anna) if needle in text)
        for needle in ("ask again at 07:15", "dose due at 06:45?", "You missed the 5 mg")
    ]
    assert order == sorted(order), anna
    await page.click("#users li", "Ben")
    await page.wait_for("document.getElementById('chat-sub').textContent.includes('Ben')")
    second = await last_bot_text(page, "Anna has two doses in a row")
    assert "skip the missed one" in second
    alerts = [text for text in await page.evaluate(BOT_TEXT) if "is still unanswered." in text]
    assert len(alerts) == 1 and "Anna's dose due at 06:45" in alerts[0], alerts
    assert "I sent them the reminder and asked again." in alerts[0]
    await screenshot(page, shots / "demo-caregiver-alert.png")


@pytest.fixture
async def phone(tmp_path: Path, demo_url: str) -> AsyncIterator[Page]:
    """The demo at a phone's width (390 × 844 CSS pixels)."""
    async with open_browser(tmp_path / "profile", width=PHONE_WIDTH, height=844) as phone_page:
        await phone_page.goto(demo_url)
        await phone_page.wait_for("document.querySelectorAll('#users li').length === 4")
        yield phone_page


PHONE_WIDTH = 390


async def test_at_phone_width_the_chat_takes_the_screen(phone: Page, tmp_path: Path) -> None:
    """Issue 23: at 390 px the chat list squeezed the chat to a letter or two per line. Now
    the list and the time machine fold into a menu, and the messages use the width."""
    shots = shots_folder(tmp_path)
    # The chat list is folded away: nothing of it is under the chat.
    hidden = "document.getElementById('sidebar').getBoundingClientRect().right <= 0"
    assert await phone.evaluate(hidden)
    await onboard_in_page(phone)
    await phone.type_and_send("/schedule standard tomorrow 08:00 14:00 20:00 target=20")
    await phone.click(".keyboard button", "Save plan")
    await last_bot_text(phone, "Saved. Your first reminder")
    await phone.click("#chats-button")
    await phone.click("#tm-next")
    await phone.wait_for("document.getElementById('clock-local').innerText.endsWith('08:00')")
    # A tap beside the menu, on the dimmed chat, closes it.
    for kind in ("mousePressed", "mouseReleased"):
        await phone.call(
            "Input.dispatchMouseEvent",
            type=kind,
            x=PHONE_WIDTH - 20,
            y=400,
            button="left",
            clickCount=1,
        )
    await phone.wait_for(hidden)
    await last_bot_text(phone, "Time for your dose")
    widths = await phone.evaluate(
        "[...document.querySelectorAll('.message.bot .bubble')]"
        ".map(b => b.getBoundingClientRect().width)"
    )
    # Long messages fill the row as Telegram's do (not a narrow column of a few letters).
    assert max(widths) >= 0.7 * PHONE_WIDTH, widths
    overflow = await phone.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, overflow
    await screenshot(phone, shots / "demo-phone.png")
    # Picking another chat from the menu closes it again.
    await phone.click("#chats-button")
    await phone.click("#users li", "Ben")
    await phone.wait_for(hidden)
    await phone.wait_for("document.getElementById('chat-sub').textContent.includes('Ben')")
