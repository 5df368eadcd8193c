"""The typed session (bot/session.py): one slot per dialogue, independent of each other."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bot.domain.supply import Product
from bot.session import Dialogue, DoseGuide, Session, session_in


def test_each_dialogue_has_its_slot_and_they_are_independent() -> None:
    session = Session()
    assert session.open() == frozenset()
    session.checkin_note = 7
    session.dose_guide = DoseGuide(start="today")
    assert session.open() == {Dialogue.CHECKIN_NOTE, Dialogue.DOSE_GUIDE}
    session.checkin_note = None  # the note arrived: the guide goes on
    assert session.open() == {Dialogue.DOSE_GUIDE}
    # Every Dialogue names a slot, and every slot is a Dialogue (no loose key on the side).
    assert {Dialogue(name) for name in vars(Session())} == set(Dialogue)


def test_end_all_closes_every_dialogue() -> None:
    session = Session(supply_count=Product("tablet", Decimal(10)), report_name="Anna")
    session.end_all()
    assert session.open() == frozenset()


def test_the_session_lives_in_user_data_and_replaces_anything_else_there() -> None:
    user_data: dict[Any, Any] = {}
    first = session_in(user_data)
    first.report_name = "Anna"
    assert session_in(user_data) is first
    user_data["session"] = "left by an older version"
    assert session_in(user_data).open() == frozenset()
