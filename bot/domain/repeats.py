"""How an unanswered reminder repeats: the patient's choice, and when the next repeat is due.

A patient chooses "once" (one follow-up 30 minutes after the reminder: the default, as before
repeats existed) or a repeat every 10, 15 or 30 minutes until the dose is answered (Taken,
Skip or Snooze). Whether a repeat may still offer the dose is not decided here: every repeat
asks the one dose-safety check (``bot.domain.safety`` through the missed-dose rule) when it
falls due, and once the next dose is under 2 hours away the repeat becomes the "skip it"
notice and the dose is missed. That is what ends a run in a plan of several doses a day.

The run also ends ``REPEAT_FOR`` after the dose time, quietly (the last reminder stays with
its buttons, ``/missed`` still answers). Without it, a dose with the next one a day away (a
night-time dose, a plan of one dose a day) would be repeated every 10 minutes for some
twenty hours, all night long. In a plan of doses 6 hours apart or closer the skip window
comes first, so this limit never cuts a run there.

Pure: the caller passes the instants.
"""

from __future__ import annotations

from datetime import datetime, timedelta

ONCE = 0  # one follow-up, no repeats
REPEAT_CHOICES: tuple[int, ...] = (ONCE, 10, 15, 30)  # minutes; 0 = once (users' column check)
FOLLOW_UP_AFTER = timedelta(minutes=30)  # the one follow-up of "once"
REPEAT_FOR = timedelta(hours=4)  # no repeat later than this after the dose time


def valid_choice(minutes: int) -> bool:
    return minutes in REPEAT_CHOICES


def next_repeat(due_at: datetime, sent_at: datetime, repeat_minutes: int) -> datetime | None:
    """When the repeat after one sent at ``sent_at`` is due; None when the run is over (the
    dose was due more than ``REPEAT_FOR`` before it, or the patient chose "once")."""
    if repeat_minutes == ONCE:
        return None
    following = sent_at + timedelta(minutes=repeat_minutes)
    if following - due_at > REPEAT_FOR:
        return None
    return following
