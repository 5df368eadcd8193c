"""Admin work other than broadcasts: the audit log, content reloads and statistics."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from telegram.error import TelegramError

from bot.clock import Clock
from bot.content import (
    REGIONS,
    TOPICS,
    ContentError,
    ContentHolder,
    ContentLibrary,
    ContentPack,
    load_library,
)
from bot.domain.audience import Phase
from bot.services.audience import Audience
from bot.storage.admin import AdminStore, ContentLoad, ReminderCounts, UserCounts
from bot.storage.broadcasts import BroadcastStatus, BroadcastStore

log = logging.getLogger(__name__)

PublishCommands = Callable[[ContentLibrary], Awaitable[None]]


@dataclass(frozen=True)
class Reloaded:
    previous_version: str
    library: ContentLibrary
    changed_topics: tuple[str, ...]
    changed_messages: int
    load: ContentLoad


@dataclass(frozen=True)
class Refused:
    live_version: str
    problems: list[str]


@dataclass(frozen=True)
class Stats:
    users: UserCounts
    phases: dict[Phase, int]
    reminders: ReminderCounts
    broadcasts: dict[BroadcastStatus, int]
    broadcast_messages_week: int
    content_version: str


class AdminService:
    def __init__(
        self,
        *,
        store: AdminStore,
        broadcasts: BroadcastStore,
        audience: Audience,
        content: ContentHolder,
        clock: Clock,
        admin_ids: frozenset[int],
        content_dir: Path,
        publish_commands: PublishCommands,
    ) -> None:
        self._store = store
        self._broadcasts = broadcasts
        self._audience = audience
        self._content = content
        self._clock = clock
        self._admin_ids = admin_ids
        self._content_dir = content_dir
        self._publish_commands = publish_commands
        self._reload_lock = asyncio.Lock()

    def is_admin(self, user_id: int) -> bool:
        return user_id in self._admin_ids

    async def audit(self, actor_id: int, action: str, outcome: str, detail: str = "") -> None:
        await self._store.audit(actor_id, action, outcome, detail, self._clock.now())

    # ---------------------------------------------------------------- content

    async def record_live_pack(self) -> None:
        """At start: record the pack's version if it is not the one recorded last."""
        version = self._content.library.version
        live = await self._store.live_content()
        if live is None or live.version != version:
            await self._store.record_content_load(version, (), self._clock.now())

    async def live_content(self) -> ContentLoad | None:
        return await self._store.live_content()

    async def reload(self) -> Reloaded | Refused:
        """Read and validate the pack on disk; swap it in only if it is valid."""
        async with self._reload_lock:
            current = self._content.library
            try:
                fresh = await asyncio.to_thread(load_library, self._content_dir)
            except ContentError as error:
                log.warning("content_reload_refused problems=%d", len(error.problems))
                return Refused(current.version, error.problems)
            topics = changed_topics(current, fresh)
            self._content.library = fresh
            load = await self._store.record_content_load(fresh.version, topics, self._clock.now())
            try:
                await self._publish_commands(fresh)
            except TelegramError as error:  # the pack is live; the menus catch up at next start
                log.warning("commands_not_published kind=%s", type(error).__name__)
            log.info("content_reloaded version=%s changed_topics=%d", fresh.version, len(topics))
            return Reloaded(current.version, fresh, topics, changed_messages(current, fresh), load)

    async def topics_to_announce(self, load_id: int) -> tuple[str, ...] | None:
        """The changed topics of reload ``load_id``, if that pack is still the live one."""
        live = await self._store.live_content()
        if live is None or live.load_id != load_id or not live.changed_topics:
            return None
        return live.changed_topics

    # ---------------------------------------------------------------- statistics

    async def stats(self) -> Stats:
        now = self._clock.now()
        live = await self._store.live_content()
        return Stats(
            users=await self._store.user_counts(),
            phases=dict(await self._audience.phase_counts()),
            reminders=await self._store.reminder_counts(now),
            broadcasts=await self._broadcasts.count_by_status(),
            broadcast_messages_week=await self._broadcasts.sent_since(now - timedelta(days=7)),
            content_version=live.version if live else self._content.library.version,
        )


def changed_topics(old: ContentLibrary, new: ContentLibrary) -> tuple[str, ...]:
    """Topics whose fields or rendered text differ in any language (the emergency topic in
    every region); a language added or removed changes them all."""

    def rendered(pack: ContentPack | None, key: str) -> list[str]:
        if pack is None:
            return []
        regions = REGIONS if key == "emergency" else (None,)
        return [pack.render_topic(key, region) for region in regions]

    languages = old.packs.keys() | new.packs.keys()
    return tuple(
        key
        for key in TOPICS
        if any(
            rendered(old.packs.get(code), key) != rendered(new.packs.get(code), key)
            for code in languages
        )
    )


def changed_messages(old: ContentLibrary, new: ContentLibrary) -> int:
    """Texts that differ, counted once per language."""
    changed = 0
    for code in old.packs.keys() | new.packs.keys():
        before = old.packs[code].messages if code in old.packs else {}
        after = new.packs[code].messages if code in new.packs else {}
        keys = before.keys() | after.keys()
        changed += sum(1 for key in keys if before.get(key) != after.get(key))
    return changed
