"""Simple mode, a per-patient setting (issue 22): short reminders ("💊 10 mg now"), one large
Taken button with Skip and Snooze behind "More", check-ins that ask only the stiffness score.

It changes wording and buttons, never a rule: every message still passes the dose-safety
check, and a notice that says "skip the dose" still says it.
"""

from __future__ import annotations

import logging

from bot.storage.users import UserStore

log = logging.getLogger(__name__)


class SimpleModeService:
    def __init__(self, users: UserStore) -> None:
        self._users = users

    async def is_on(self, user_id: int) -> bool:
        user = await self._users.get(user_id)
        return bool(user and user.simple_mode)

    async def set(self, user_id: int, on: bool) -> bool:
        """Turn simple mode on or off; False if the user has no stored profile yet."""
        done = await self._users.set_simple_mode(user_id, on)
        if done:
            log.info("simple_mode_set user=%d on=%d", user_id, int(on))
        return done
