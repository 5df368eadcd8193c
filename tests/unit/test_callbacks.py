"""Typed button data: every button packs within Telegram's 64 bytes and unpacks to itself;
anything else unpacks to None."""

from __future__ import annotations

import zoneinfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.repeats import REPEAT_CHOICES
from bot.handlers.settings import ROWS
from bot.views.callbacks import (
    ASK_CHOICES,
    BROADCAST_SEGMENTS,
    CALLBACK_DATA_MAX_BYTES,
    AdminButton,
    AnnouncementsButton,
    AskButton,
    CallbackData,
    CaregiverButton,
    CheckInButton,
    ConsentButton,
    DoseButton,
    EraseButton,
    FactButton,
    HoldButton,
    InviteButton,
    PlanButton,
    RegionButton,
    RepeatButton,
    ScheduleButton,
    SettingsButton,
    ZoneButton,
)

IDS = st.integers(min_value=0, max_value=10**18 - 1)
BUTTONS = st.one_of(
    st.builds(DoseButton, IDS, st.sampled_from(["taken", "skip", "snooze"])),
    st.builds(
        CheckInButton,
        IDS,
        st.sampled_from(["stiffness", "drowsiness", "note"]),
        st.sampled_from(["0", "10", "2", "-"]),
    ),
    st.builds(HoldButton, IDS, st.sampled_from(["ask", "0", "7"])),
    st.builds(ConsentButton, st.sampled_from(["yes", "no"])),
    st.builds(ZoneButton, st.sampled_from(["Europe/Berlin", "America/Argentina/Buenos_Aires"])),
    st.builds(RegionButton, st.sampled_from(["us", "uk", "other"])),
    st.builds(FactButton, st.sampled_from(["halflife", "sources"])),
    st.builds(AskButton, st.sampled_from(ASK_CHOICES)),
    st.builds(
        ScheduleButton,
        st.sampled_from(["times", "dmg"]),
        st.sampled_from(["", "08:00,14:00,20:00", "7.5"]),
    ),
    st.builds(PlanButton, st.sampled_from(["save", "save_high", "cancel"])),
    st.builds(EraseButton, st.sampled_from(["yes", "no"]), st.just("0123456789abcdef")),
    st.builds(CaregiverButton, st.sampled_from(["remove", "leave", "delay"]), IDS),
    st.builds(
        InviteButton,
        st.sampled_from(["yes", "no"]),
        st.text("abcXYZ019_-", min_size=20, max_size=56),
    ),
    st.builds(SettingsButton, st.sampled_from([row.key for row in ROWS])),
    st.builds(RepeatButton, st.sampled_from(REPEAT_CHOICES)),
    st.builds(AnnouncementsButton, st.sampled_from(["on", "off"])),
    st.builds(AdminButton, st.sampled_from(["send", "drop", "stop", "announce"]), IDS),
    st.builds(AdminButton, st.just("seg"), IDS, st.sampled_from(BROADCAST_SEGMENTS)),
)


@given(BUTTONS)
def test_every_button_round_trips_within_64_bytes(button: CallbackData) -> None:
    data = button.pack()
    assert len(data.encode()) <= CALLBACK_DATA_MAX_BYTES
    assert type(button).unpack(data) == button


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        (DoseButton, "dose:12:eat"),
        (DoseButton, "dose:x:taken"),
        (DoseButton, "dose:12"),
        (DoseButton, "dose:12:taken:extra"),
        (DoseButton, "dose:1234567890123456789:taken"),  # 19 digits
        (DoseButton, "ci:12:taken"),
        (CheckInButton, "ci:1:fever:2"),
        (CheckInButton, "ci:1:stiffness:100"),
        (HoldButton, "hold:1:10"),
        (ConsentButton, "consent:maybe"),
        (PlanButton, "plan:save_everything"),
        (EraseButton, "erase:yes:short"),
        (CaregiverButton, "cg:erase:12"),
        (CaregiverButton, "cg:remove:x"),
        (InviteButton, "cgi:yes:short"),
        (InviteButton, "cgi:yes:" + "A" * 40 + "!"),
        (InviteButton, "cgi:maybe:" + "A" * 32),
        (AskButton, "ask:panic"),
        (AskButton, "ask:"),
        (AskButton, "ask:unwell:now"),
        (SettingsButton, "set:"),
        (SettingsButton, "set:Language"),
        (SettingsButton, "set:" + "a" * 25),
        (RepeatButton, "rep:7"),
        (RepeatButton, "rep:-10"),
        (RepeatButton, "rep:ten"),
        (AnnouncementsButton, "ann:maybe"),
        (AdminButton, "adm:seg:12"),  # a segment button without its segment
        (AdminButton, "adm:seg:12:everyone"),
        (AdminButton, "adm:send:12:all"),  # only a segment button carries one
        (AdminButton, "adm:send:x"),
        (AdminButton, "adm:nuke:12"),
        (DoseButton, None),
        (DoseButton, ""),
    ],
)
def test_anything_else_unpacks_to_none(kind: type[CallbackData], data: str | None) -> None:
    assert kind.unpack(data) is None


def test_an_oversized_button_is_refused_when_built() -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        ZoneButton("A" * 70).pack()


def test_every_iana_zone_fits_a_zone_button() -> None:
    # The pack's zone lists are checked to be IANA names only, relying on this.
    for name in zoneinfo.available_timezones():
        assert ZoneButton.unpack(ZoneButton(name).pack()) == ZoneButton(name)


def test_the_guided_schedule_keeps_its_short_form() -> None:
    assert ScheduleButton("standard").pack() == "sched:standard"
    assert ScheduleButton.unpack("sched:times:08:00,14:00,20:00") == ScheduleButton(
        "times", "08:00,14:00,20:00"
    )


def test_each_admin_verb_has_its_own_filter() -> None:
    send = AdminButton.of("send")
    assert send("adm:send:12") and not send("adm:drop:12") and not send("adm:send:1x")
    assert AdminButton.of("seg")("adm:seg:3:titration") and not send(None)
