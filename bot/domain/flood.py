"""Flood control: a user who sends too much too fast is paused for a while.

A sliding window of recent update instants per user, in memory. Pure: the caller passes the
current instant. Memory stays bounded: a user is forgotten once their window is empty and
their pause (if any) is over, and forgetting is done a little at every call.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Verdict(StrEnum):
    ALLOW = "allow"
    NOTIFY = "notify"  # this update tipped the user over the limit: tell them once, then drop
    DROP = "drop"  # paused: ignore the update


@dataclass(frozen=True)
class FloodPolicy:
    limit: int = 50  # updates allowed ...
    window: timedelta = timedelta(seconds=10)  # ... within this window
    pause: timedelta = timedelta(seconds=60)  # then everything from the user is dropped this long


class FloodGuard:
    def __init__(self, policy: FloodPolicy | None = None) -> None:
        self.policy = policy or FloodPolicy()
        # user id -> instants (unix seconds) inside the window; least recently active first.
        self._recent: OrderedDict[int, deque[float]] = OrderedDict()
        # user id -> end of pause; all pauses are equally long, so the earliest ends first.
        self._paused: OrderedDict[int, float] = OrderedDict()
        self.dropped = 0  # updates dropped since start (for tests and statistics)

    def check(self, user_id: int, now: datetime) -> Verdict:
        at = now.timestamp()
        self._forget_idle(at)
        paused_until = self._paused.get(user_id)
        if paused_until is not None and at < paused_until:
            self.dropped += 1
            return Verdict.DROP
        self._paused.pop(user_id, None)
        recent = self._recent.pop(user_id, None) or deque()
        self._recent[user_id] = recent  # now the most recently active
        self._drop_older_than(recent, at - self.policy.window.total_seconds())
        recent.append(at)
        if len(recent) <= self.policy.limit:
            return Verdict.ALLOW
        del self._recent[user_id]
        self._paused[user_id] = at + self.policy.pause.total_seconds()
        self.dropped += 1
        return Verdict.NOTIFY

    @property
    def tracked_users(self) -> int:
        return len(self._recent) + len(self._paused)

    def _forget_idle(self, at: float) -> None:
        window_start = at - self.policy.window.total_seconds()
        while self._recent:
            user_id, recent = next(iter(self._recent.items()))
            if recent and recent[-1] > window_start:
                break
            del self._recent[user_id]
        while self._paused:
            user_id, until = next(iter(self._paused.items()))
            if until > at:
                break
            del self._paused[user_id]

    @staticmethod
    def _drop_older_than(recent: deque[float], window_start: float) -> None:
        while recent and recent[0] <= window_start:
            recent.popleft()
