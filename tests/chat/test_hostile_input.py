"""Hostile and odd input: parsers, typed text, buttons and non-text updates never break the bot,
never reach another user's data and never corrupt the database."""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import available_timezones

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.content import ContentPack, load_pack, visible_length
from bot.domain.city_zones import city_zone
from bot.domain.flood import FloodGuard, FloodPolicy
from bot.domain.plans import (
    PlanError,
    parse_custom_command,
    parse_standard_command,
    parse_taper_command,
)
from bot.domain.timezones import TimezoneError, parse_timezone
from bot.domain.understanding import Meaning, understand
from bot.handlers.schedule import plan_error_text
from bot.storage.db import Database, Row
from bot.storage.privacy import PrivacyStore, StoredRecords
from tests.conftest import CONTENT_DIR, RunningBot
from tests.privacy_helpers import press_as, stored
from tests.reminder_helpers import advance_until_messages, dose_data, save_plan

USER = 8008
ATTACKER = 8009
STALE = "This button is no longer active."
TODAY = date(2026, 1, 11)


def _decode(line: str) -> str:
    r"""Corpus escapes: \uXXXX (surrogate pairs join), \xXX and \n."""
    text = re.sub(
        r"\\u([0-9a-fA-F]{4})|\\x([0-9a-fA-F]{2})|\\n",
        lambda match: (
            chr(int(match.group(1) or match.group(2), 16)) if match.group(0) != r"\n" else "\n"
        ),
        line,
    )
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le")


CORPUS: list[str] = [
    _decode(line)
    for line in (Path(__file__).parents[1] / "hostile_inputs.txt").read_text("utf-8").splitlines()
    if line and not line.startswith("#")
]
ODD_TEXT = st.text(max_size=200) | st.sampled_from(CORPUS)
PLANNISH = st.text(alphabet="0123456789:.,xX-/ =targetodymsp<>&", max_size=40)
HUGE = st.text(min_size=1000, max_size=4000)


def _no_errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]


def _button_data(text: str) -> str:
    """Telegram carries 1-64 bytes of callback data."""
    return text.encode()[:64].decode(errors="ignore") or "x"


# ------------------------------------------------------------------ the parsers


@given(ODD_TEXT)
def test_parse_timezone_accepts_iana_names_and_cities_only(text: str) -> None:
    try:
        zone = parse_timezone(text)
    except TimezoneError:
        return
    assert zone.key in available_timezones()
    assert zone.key.lower() == text.strip().lower() or city_zone(text.strip()) == zone.key


@given(st.sampled_from(sorted(available_timezones())), st.data())
def test_every_iana_name_is_accepted_in_any_letter_case(name: str, data: st.DataObject) -> None:
    flips = data.draw(st.lists(st.booleans(), min_size=len(name), max_size=len(name)))
    typed = "".join(
        char.swapcase() if flip else char for char, flip in zip(name, flips, strict=True)
    )
    assert parse_timezone(f" {typed} ").key == name


EMERGENCIES = (
    "I had a seizure",
    "she is not breathing",
    "I took too many pills",
    "I have chest pain",
    "he fainted",
    "thoughts of suicide",
    "I am hallucinating",
)
RULES = load_pack(CONTENT_DIR).intents
WISHES_TO_STOP = ("I want to stop baclofen", "can I quit my meds", "coming off baclofen")


# On lines of its own: the words around a phrase in its own sentence are its context ("no
# seizure", "can baclofen cause a seizure?"), which may rightly lower it.
@given(ODD_TEXT, st.sampled_from(EMERGENCIES), ODD_TEXT)
def test_an_emergency_is_recognised_whatever_surrounds_it(
    before: str, phrase: str, after: str
) -> None:
    assert understand(f"{before}\n{phrase}\n{after}", RULES).meaning is Meaning.EMERGENCY


@given(ODD_TEXT, st.sampled_from(WISHES_TO_STOP), ODD_TEXT)
def test_a_wish_to_stop_is_recognised_whatever_surrounds_it(
    before: str, phrase: str, after: str
) -> None:
    # Whatever surrounds it, the answer is one of the do-not-stop-suddenly answers ("can I
    # quit my meds yesterday" reads as already stopped, which says the same and more).
    assert understand(f"{before}\n{phrase}\n{after}", RULES).meaning in (
        Meaning.WANTS_TO_STOP,
        Meaning.RAN_OUT,
        Meaning.EMERGENCY,
    )


@given(st.text(max_size=5000))
def test_understand_answers_for_any_text(text: str) -> None:
    assert understand(text, RULES).meaning in Meaning


@given(st.lists(PLANNISH | ODD_TEXT | HUGE, max_size=8))
def test_every_rejected_plan_is_explained_with_an_example(
    pack: ContentPack, args: list[str]
) -> None:
    for parse, usage in (
        (parse_standard_command, "schedule.usage"),
        (parse_custom_command, "schedule.usage"),
        (parse_taper_command, "taper.usage"),
    ):
        try:
            parse(args, TODAY)
        except PlanError as error:
            text = plan_error_text(pack, error, usage=usage)
        else:
            continue
        assert "<code>" in text
        assert visible_length(text) < 1000  # quoting the input never makes it huge


# ------------------------------------------------------------------ typed input


@pytest.fixture
async def patient(bot: RunningBot) -> RunningBot:
    await bot.onboard(USER)
    return bot


ARGUMENT_COMMANDS = (
    "/timezone",
    "/schedule custom",
    "/schedule standard",
    "/taper",
    "/tablets",
    "/announcements",
)
ACCEPTED = ("Please check your plan", "Time zone set", "Saved:", "Announcements are")
CAREFUL = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@CAREFUL
@given(command=st.sampled_from(ARGUMENT_COMMANDS), args=PLANNISH | ODD_TEXT | HUGE)
async def test_any_command_argument_gets_one_clear_answer(
    patient: RunningBot, command: str, args: str
) -> None:
    patient.clock.advance(timedelta(seconds=1))  # a person typing, not a flood
    [reply] = await patient.say(USER, f"{command} {args}"[:4096])
    assert "<code>" in reply or any(phrase in reply for phrase in ACCEPTED), reply


@CAREFUL
@given(text=(ODD_TEXT | HUGE).filter(lambda text: text.strip() and not text.startswith("/")))
async def test_any_free_text_gets_an_answer(patient: RunningBot, text: str) -> None:
    patient.clock.advance(timedelta(seconds=1))
    # The first answer is the one that matters (an alarm that is also a question is followed
    # by its fact topic).
    reply = (await patient.say(USER, text[:4096]))[0]
    # Every answer leaves a way to help: /help, the emergency line, the stop guidance, the
    # question line, or a dose answer (issue 20's meanings).
    answers = (
        "/help",
        "may be an emergency",
        "do not stop",
        "emergency",
        "if this is happening now",
        "/missed",
        "/today",
        "/pause",
        "as taken",
    )
    assert any(part in reply.lower() for part in answers), reply[:300]


async def test_very_long_messages_and_odd_unicode_are_answered(patient: RunningBot) -> None:
    for text in (
        "x" * 4096,
        "😀" * 2048,  # 4096 UTF-16 units, Telegram's limit
        "\u202e\u200d\u200b\x00\x07 hello \ufeff",
        "👨‍👩‍👧‍👦" * 300,
    ):
        [reply] = await patient.say(USER, text)
        assert "/help" in reply
    [zone] = await patient.say(USER, ("/timezone " + "Europe/Berlin" * 400)[:4096])
    assert "is not a city or time zone I know" in zone
    [step] = await patient.say(USER, "/schedule custom today 08:00 " + "9" * 4000)
    assert "is not a step" in step
    assert visible_length(step) < 400


async def test_user_text_quoted_back_is_escaped(patient: RunningBot) -> None:
    await patient.assert_replies(
        USER,
        [
            ("/timezone <b>Mars</b> & <script>", "&lt;b&gt;Mars&lt;/b&gt; &amp; &lt;script&gt;"),
            ("/schedule custom today 08:00 <i>10x3", "&lt;i&gt;10x3"),
            ("/taper today <b>8:00</b> 10x3", "&lt;b&gt;8:00&lt;/b&gt;"),
        ],
    )
    assert all(call.status == 200 for call in patient.api.calls_of("sendMessage"))


# ------------------------------------------------------------------ updates that are not text


def _private(user: int, message_id: int, **content: Any) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "date": 1_768_122_000,
        "chat": {"id": user, "type": "private", "first_name": "Pat"},
        "from": {"id": user, "is_bot": False, "first_name": "Pat"},
        **content,
    }


def _file(**extra: Any) -> dict[str, Any]:
    return {"file_id": "f1", "file_unique_id": "u1", **extra}


_USER_FROM = {"id": USER, "is_bot": False, "first_name": "Pat"}
_THE_BOT = {"id": 123456789, "is_bot": True, "first_name": "Baclofen Test Bot"}
_CHANNEL: dict[str, Any] = {"id": -100_777, "type": "channel", "title": "News"}
_GROUP: dict[str, Any] = {"id": -555, "type": "group", "title": "Friends"}
_EDITED = {"edit_date": 1_768_122_100}
# Messages the bot cannot read, each answered with a polite "I only read text".
_ANSWERED_POLITELY: list[dict[str, Any]] = [
    {"sticker": _file(type="regular", width=512, height=512, is_animated=False, is_video=False)},
    {"photo": [_file(width=90, height=90)], "caption": "/deleteme"},
    {"voice": _file(duration=3)},
    {"video_note": _file(length=240, duration=2)},
    {"document": _file(file_name="notes.pdf")},
    {"contact": {"phone_number": "+100", "first_name": "Pat"}},
    {"dice": {"emoji": "🎲", "value": 3}},
    {"audio": _file(duration=5)},
    {"video": _file(width=16, height=16, duration=1)},
]
# Updates the bot leaves unanswered: other chats, edits it cannot act on, kinds it never asked for.
_IGNORED: list[dict[str, Any]] = [
    {"edited_message": {**_private(USER, 3, text="/start", **_EDITED), "chat": _GROUP}},
    {"edited_message": _private(USER, 5, location={"latitude": 1, "longitude": 2}, **_EDITED)},
    {"channel_post": {"message_id": 1, "date": 1, "chat": _CHANNEL, "text": "/start"}},
    {"edited_channel_post": {"message_id": 1, "date": 1, "chat": _CHANNEL, "text": "hi"}},
    {"inline_query": {"id": "q1", "from": _USER_FROM, "query": "<b>", "offset": ""}},
    {"chosen_inline_result": {"result_id": "r1", "from": _USER_FROM, "query": "x"}},
    {
        "my_chat_member": {
            "chat": {"id": USER, "type": "private", "first_name": "Pat"},
            "from": _USER_FROM,
            "date": 1,
            "old_chat_member": {"status": "member", "user": _THE_BOT},
            "new_chat_member": {"status": "kicked", "user": _THE_BOT, "until_date": 0},
        }
    },
    {
        "message_reaction": {
            "chat": {"id": USER, "type": "private", "first_name": "Pat"},
            "message_id": 1,
            "date": 1,
            "user": _USER_FROM,
            "old_reaction": [],
            "new_reaction": [{"type": "emoji", "emoji": "👍"}],
        }
    },
    {"business_message": {**_private(USER, 4, text="/deleteme"), "business_connection_id": "b1"}},
]
# Presses the bot can only answer as stale: a game's button and one on an inline message.
_STALE_PRESSES: list[dict[str, Any]] = [
    {"id": "cq1", "from": _USER_FROM, "chat_instance": "1", "game_short_name": "g"},
    {
        "id": "cq2",
        "from": _USER_FROM,
        "chat_instance": "1",
        "inline_message_id": "im1",
        "data": "consent:yes",
    },
]


def _push_updates_that_are_not_text(bot: RunningBot) -> None:
    for number, content in enumerate(_ANSWERED_POLITELY, start=100):
        bot.api.push_update({"message": _private(USER, number, **content)})
    bot.api.push_update({"edited_message": _private(USER, 1, text="/deleteme", **_EDITED)})
    bot.api.push_update({"edited_message": _private(USER, 2, text="I had a seizure", **_EDITED)})
    for update in _IGNORED:
        bot.api.push_update({**update})  # a copy: the emulator numbers the update it is given
    pushed = [bot.api.push_update({"callback_query": press}) for press in _STALE_PRESSES]
    assert all(pushed)


async def test_updates_that_are_not_text_never_raise(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    _push_updates_that_are_not_text(bot)
    replies = await bot.next_messages(USER, 0, len(_ANSWERED_POLITELY) + 2)
    answers = await bot.api.wait_for("answerCallbackQuery", count=2)
    assert {call.params.get("text") for call in answers} == {STALE}
    [help_text] = await bot.say(USER, "/help")  # the bot is still fine
    assert "/mydata" in help_text

    assert len([text for text in replies if "only read text" in text]) == len(_ANSWERED_POLITELY)
    assert len([text for text in replies if bot.pack.text("input.edited") in text]) == 1
    assert len([text for text in replies if "may be an emergency" in text]) == 1
    assert not any("Erase everything" in text for text in replies)
    assert bot.api.messages_to(_CHANNEL["id"]) == []
    assert bot.api.messages_to(_GROUP["id"]) == []
    assert await stored(bot, USER) is None  # nothing was stored, not even by the inline press
    assert _no_errors_logged(caplog) == []


# ------------------------------------------------------------------ buttons


async def test_forged_and_replayed_buttons_reach_no_one_elses_data(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    await bot.onboard(USER, zone="UTC")
    await save_plan(bot, USER, "/schedule custom today 10:00,18:00 10x5")
    [reminder] = await advance_until_messages(bot, USER, datetime(2026, 1, 11, 10, tzinfo=UTC))
    await bot.onboard(ATTACKER, zone="UTC")
    victim = await stored(bot, USER)

    for answer in ("taken", "skip", "snooze"):
        data = dose_data(reminder, answer)
        # On the attacker's own chat, and on the victim's message (as if forwarded).
        assert await press_as(bot, ATTACKER, ATTACKER, 1, data) == STALE
        assert await press_as(bot, ATTACKER, USER, reminder["message_id"], data) == STALE
    own = bot.last_message(ATTACKER)["message_id"]
    for data in (
        "consent:maybe",
        "tz:Mars/Base",
        "tz:../../etc/localtime",
        "region:atlantis",
        "fact:../sources",
        "dose:abc:taken",
        f"dose:{reminder['message_id']}:taken",
        "sched:times:25:00",
        "sched:target:<b>5</b>",
        "plan:save",
        "plan:save_high",
        "erase:yes:" + "0" * 16,
        "x" * 64,
    ):
        await press_as(bot, ATTACKER, ATTACKER, own, data)
    # A press replayed on a message whose buttons are already gone is harmless.
    ask_region = await bot.say(ATTACKER, "/timezone UTC")
    assert ask_region
    await bot.say(ATTACKER, "/start", replies=2)  # welcome back, then the settings buttons
    settings_message = bot.last_message(ATTACKER)["message_id"]
    for _ in range(2):
        await press_as(bot, ATTACKER, ATTACKER, settings_message, "region:us")

    assert await stored(bot, USER) == victim
    assert _no_errors_logged(caplog) == []
    assert all(call.status == 200 for call in bot.api.calls_of("sendMessage"))


async def test_save_on_an_older_plan_summary_saves_nothing(bot: RunningBot) -> None:
    await bot.onboard(USER, zone="UTC")
    await bot.say(USER, "/schedule custom today 08:00 5x3")
    first = bot.last_message(USER)["message_id"]
    await bot.say(USER, "/schedule custom today 20:00 20x3")
    second = bot.last_message(USER)["message_id"]
    [expired] = await bot.press(USER, first, "plan:save", replies=1)
    assert "no longer waiting" in expired
    assert await bot.services.doses.active_plan(USER) is None
    [saved] = await bot.press(USER, second, "plan:save", replies=1)
    assert "Saved" in saved
    stored_plan = await bot.services.doses.active_plan(USER)
    assert stored_plan is not None
    assert [step.daily_mg for step in stored_plan.plan.steps] == [20]


# ------------------------------------------------------------------ the corpus


async def _send_the_corpus(bot: RunningBot, reminder: dict[str, Any]) -> None:
    """Each line as text, as the arguments of one of the commands that parse them, and as
    button data, from ATTACKER; returns once every press is answered and every text replied to.
    (Replies are paced at Telegram's 30 a second: the count stays modest.)"""
    forms = (
        "/timezone {}",
        "/schedule custom today 08:00 {}",
        "/taper today 08:00 {}",
        "/tablets {}",
    )
    texts = CORPUS + [forms[index % len(forms)].format(line) for index, line in enumerate(CORPUS)]
    before = bot.sent_count(ATTACKER)
    for text in texts:
        bot.api.send_text(ATTACKER, text)
    buttons = [_button_data(line) for line in CORPUS]
    buttons += [dose_data(reminder, "taken"), dose_data(reminder, "skip")]
    # Forged data on a real message of the bot: "All set", before the repeats question (a
    # message with buttons of its own, which two forged presses at once would race to drop).
    own = bot.messages(ATTACKER)[-2]["message_id"]
    queries = [bot.api.press_button(ATTACKER, own, data) for data in buttons]
    queries.append(
        bot.api.press_button(ATTACKER, reminder["message_id"], buttons[-1], chat_id=USER)
    )
    await bot.api.wait_for(
        "answerCallbackQuery",
        lambda call: call.params.get("callback_query_id") in queries,
        count=len(queries),
    )
    await bot.api.wait_for(
        "sendMessage",
        lambda call: call.params.get("chat_id") == ATTACKER and call.status == 200,
        count=before + len(texts),
        timeout=30,
    )


async def _assert_database_whole(
    bot: RunningBot, victim: StoredRecords | None, tables: list[Row]
) -> None:
    """Reopened after shutdown: intact, the same tables, the victim's rows exactly as before."""
    database = await Database.open(bot.services.settings.database_path)
    try:
        row = await database.fetch_one("PRAGMA integrity_check")
        assert row is not None
        assert row[0] == "ok"
        assert await database.fetch_all("SELECT name FROM sqlite_master ORDER BY name") == tables
        assert await PrivacyStore(database).records(USER) == victim
        attacker = await PrivacyStore(database).records(ATTACKER)
        assert attacker is not None
        assert (attacker.user["timezone"], attacker.user["region"]) == ("UTC", "uk")
        assert "DROP TABLE" in CORPUS[0]
    finally:
        await database.close()


async def test_hostile_corpus_leaves_the_database_whole_and_others_untouched(
    start_bot: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Every corpus line as text, as command arguments and as button data, from one user;
    afterwards the database is intact and the other user's rows are exactly as before."""
    bot: RunningBot = await start_bot()
    await bot.onboard(USER, zone="UTC")
    await save_plan(bot, USER, "/schedule custom today 10:00,18:00 10x5")
    [reminder] = await advance_until_messages(bot, USER, datetime(2026, 1, 11, 10, tzinfo=UTC))
    await bot.onboard(ATTACKER, zone="UTC")
    victim = await stored(bot, USER)
    tables = await bot.services.db.fetch_all("SELECT name FROM sqlite_master ORDER BY name")
    # This test is about content, not pace: let the whole corpus through at once.
    bot.services.flood = FloodGuard(FloodPolicy(limit=100_000))

    await _send_the_corpus(bot, reminder)
    await bot.shutdown()  # lets every update in progress finish

    assert _no_errors_logged(caplog) == []
    assert all(call.status == 200 for call in bot.api.calls if call.method != "getUpdates")
    assert not any("went wrong" in (m["text"] or "") for m in bot.api.messages_to(ATTACKER))
    await _assert_database_whole(bot, victim, tables)
