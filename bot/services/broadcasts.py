"""Broadcasts as an admin handles them: compose, preview, choose a segment, confirm, cancel.

Delivery is the outbox worker's job (``bot.services.outbox``); confirming only writes the
outbox rows and wakes it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

from bot.clock import Clock
from bot.content import TELEGRAM_TEXT_LIMIT, ContentHolder, Html, telegram_length
from bot.domain.audience import Segment
from bot.services.audience import Audience
from bot.storage.broadcasts import Broadcast, BroadcastStatus, BroadcastStore, Progress

log = logging.getLogger(__name__)


class BroadcastTooLong(ValueError):
    def __init__(self, length: int) -> None:
        super().__init__(f"rendered length {length}")
        self.length = length


@dataclass(frozen=True)
class Draft:
    broadcast: Broadcast
    recipients: int


class Confirmation(Enum):
    STARTED = "started"
    NO_RECIPIENTS = "no_recipients"
    STALE = "stale"  # not a draft any more (confirmed, discarded, or unknown)


@dataclass(frozen=True)
class ConfirmResult:
    outcome: Confirmation
    broadcast: Broadcast | None = None


# A broadcast's text per language: language code -> Telegram HTML.
Bodies = Mapping[str, Html]


class BroadcastService:
    def __init__(
        self,
        *,
        store: BroadcastStore,
        audience: Audience,
        content: ContentHolder,
        clock: Clock,
        wake_outbox: Callable[[], None],
    ) -> None:
        self._store = store
        self._audience = audience
        self._content = content
        self._clock = clock
        self._wake_outbox = wake_outbox

    # ---------------------------------------------------------------- composing

    def compose(self, text: str) -> Bodies:
        """The admin's plain text in each language's broadcast template, exactly as recipients
        get it: the admin writes once, each recipient reads the template in their language."""
        library = self._content.library
        return self._checked(
            {
                code: pack.text("broadcast.message", text=text)
                for code, pack in library.packs.items()
            }
        )

    def compose_content_update(self, topics: Sequence[str]) -> Bodies:
        """An announcement that links to the commands of the changed topics, per language."""
        bodies: dict[str, Html] = {}
        for code, pack in self._content.library.packs.items():
            lines = Html("\n").join(
                pack.text(
                    "broadcast.content_update_line", command=key, title=pack.topics[key].title
                )
                for key in topics
            )
            update = pack.text("broadcast.content_update", topics=Html(lines))
            bodies[code] = pack.text("broadcast.message", text=update)
        return self._checked(bodies)

    @staticmethod
    def _checked(bodies: dict[str, Html]) -> Bodies:
        length = max(telegram_length(body) for body in bodies.values())
        if length > TELEGRAM_TEXT_LIMIT:
            raise BroadcastTooLong(length)
        return bodies

    # ---------------------------------------------------------------- drafts

    async def draft(self, admin_id: int, bodies: Bodies) -> Draft:
        broadcast = await self._store.create_draft(
            admin_id, Segment.ALL, bodies, self._content.library.default, self._clock.now()
        )
        log.info("broadcast_drafted broadcast=%d admin=%d", broadcast.broadcast_id, admin_id)
        return Draft(broadcast, len(await self._audience.members(Segment.ALL)))

    async def choose_segment(self, broadcast_id: int, segment: Segment) -> Draft | None:
        if not await self._store.set_segment(broadcast_id, segment):
            return None
        broadcast = await self._store.get(broadcast_id)
        assert broadcast is not None
        return Draft(broadcast, len(await self._audience.members(segment)))

    async def discard(self, broadcast_id: int) -> bool:
        return await self._store.discard(broadcast_id, self._clock.now())

    async def confirm(self, broadcast_id: int) -> ConfirmResult:
        """Write one outbox row per recipient the segment reaches now, and start sending."""
        draft = await self._store.get(broadcast_id)
        if draft is None or draft.status is not BroadcastStatus.DRAFT:
            return ConfirmResult(Confirmation.STALE)
        recipients = await self._audience.members(draft.segment)
        if not recipients:
            return ConfirmResult(Confirmation.NO_RECIPIENTS, draft)
        started = await self._store.confirm(broadcast_id, recipients, self._clock.now())
        if started is None:  # another admin confirmed or discarded it meanwhile
            return ConfirmResult(Confirmation.STALE)
        log.info("broadcast_confirmed broadcast=%d recipients=%d", broadcast_id, len(recipients))
        self._wake_outbox()
        return ConfirmResult(Confirmation.STARTED, started)

    # ---------------------------------------------------------------- running

    async def cancel(self, broadcast_id: int) -> Progress | None:
        """Stop a running broadcast; None if it is not running."""
        if not await self._store.cancel(broadcast_id, self._clock.now()):
            return None
        log.info("broadcast_cancelled broadcast=%d", broadcast_id)
        return await self._store.progress(broadcast_id)

    async def recent(self, limit: int) -> list[Progress]:
        return await self._store.recent(limit)
