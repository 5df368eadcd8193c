"""Which language each person reads: their stored choice, else the one Telegram reports.

The choice is read on every update and for every reminder, so it is kept in memory (a few bytes
a user), loaded once at start and changed only through this service: consent, /language and
erasure.
"""

from __future__ import annotations

from bot.content import ContentHolder, ContentPack
from bot.storage.users import UserStore


class Languages:
    def __init__(self, users: UserStore, content: ContentHolder) -> None:
        self._users = users
        self._content = content
        self._chosen: dict[int, str] = {}

    async def load(self) -> None:
        self._chosen = await self._users.languages()

    def code(self, user_id: int | None, language_code: str | None = None) -> str:
        """The stored choice; before consent (nothing stored), Telegram's ``language_code``."""
        library = self._content.library
        chosen = self._chosen.get(user_id) if user_id is not None else None
        if chosen is not None and chosen in library.packs:
            return chosen
        return library.match(language_code)

    def pack(self, user_id: int | None, language_code: str | None = None) -> ContentPack:
        return self._content.library.get(self.code(user_id, language_code))

    def remember(self, user_id: int, code: str) -> None:
        """After consent: the user row now holds ``code``."""
        self._chosen[user_id] = code

    async def choose(self, user_id: int, code: str) -> None:
        await self._users.set_language(user_id, code)
        self._chosen[user_id] = code

    def forget(self, user_id: int) -> None:
        """After erasure: nothing is stored, so Telegram's language applies again."""
        self._chosen.pop(user_id, None)
