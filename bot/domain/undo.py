"""Undo for a mis-tap: how long a Taken or Skip can be taken back.

A patient with stiff or shaking hands may press Taken on the wrong message, or Taken when
they meant Skip. For a short while the confirmation carries an Undo button; after that a
record stands (the report keeps what happened), and /today shows what is recorded.

Pure: the caller passes ``now``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

UNDO_WINDOW = timedelta(minutes=5)


def undo_since(now: datetime) -> datetime:
    """The earliest answer an Undo pressed at ``now`` may take back."""
    return now - UNDO_WINDOW


def can_undo(answered_at: datetime, now: datetime) -> bool:
    """May the answer recorded at ``answered_at`` still be undone at ``now``?"""
    return answered_at >= undo_since(now)
