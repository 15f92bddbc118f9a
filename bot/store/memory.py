"""An in-memory ``Store`` for fast tests: plain dicts, the same behaviour as the SQLite store
(the contract suite in ``tests/test_store_contract.py`` runs both). Search is a simple
all-words substring match ranked by hits. Nothing survives ``close``.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from bot.domain import (
    STAR,
    Channel,
    ChannelMode,
    ChannelRef,
    Development,
    Item,
    PollState,
    Post,
    PostState,
    Source,
    StoreError,
    utc,
)
from bot.ports import KnownEntry, NewItem, RuntimeState, Subscriber
from bot.store._shared import subscriber_topics, subscription_order, unique

_WORD = re.compile(r"\w+")


def _utc_or_none(dt: datetime | None) -> datetime | None:
    return None if dt is None else utc(dt)


@dataclass(slots=True)
class _SourceRow:
    source: Source
    position: int | None


class MemoryStore:
    """``Store`` in dicts. Not shared between processes; fine for one event loop."""

    def __init__(self) -> None:
        self._sources: dict[str, _SourceRow] = {}
        self._poll: dict[str, PollState] = {}
        self._items: dict[int, Item] = {}
        self._by_guid: dict[tuple[str, str], int] = {}
        self._item_ids = itertools.count(1)
        self._developments: dict[str, Development] = {}
        self._channels: dict[str, Channel] = {}
        self._subscriptions: dict[str, set[str]] = {}
        self._posts: dict[str, Post] = {}
        self._post_ids = itertools.count(1)
        self._runtime: dict[str, RuntimeState] = {}

    async def close(self) -> None:
        return None

    # --- sources and poll state ----------------------------------------------------------------

    async def sync_sources(self, sources: Sequence[Source]) -> None:
        urls = {source_id: row.source.url for source_id, row in self._sources.items()}
        for row in self._sources.values():
            row.position = None
        for position, source in enumerate(sources):
            if source.id in urls and urls[source.id] != source.url:
                # A different feed: poll it afresh, as a new source (its backlog is a baseline).
                self._poll.pop(source.id, None)
            self._sources[source.id] = _SourceRow(source=source, position=position)

    async def list_sources(self) -> list[Source]:
        listed = [row for row in self._sources.values() if row.position is not None]
        listed.sort(key=lambda row: row.position or 0)
        return [row.source for row in listed]

    async def get_poll_state(self, source_id: str) -> PollState:
        return self._poll.get(source_id) or PollState(source_id=source_id)

    async def save_poll_state(self, state: PollState) -> None:
        if state.source_id not in self._sources:
            raise StoreError(
                f"cannot save the poll state of source {state.source_id!r}: the source is unknown"
            )
        self._poll[state.source_id] = replace(
            state,
            last_poll_at=_utc_or_none(state.last_poll_at),
            last_ok_at=_utc_or_none(state.last_ok_at),
            next_poll_at=_utc_or_none(state.next_poll_at),
        )

    # --- items ---------------------------------------------------------------------------------

    def _current(self, item: Item) -> Item:
        """The item with its source's current name."""
        name = self._sources[item.source_id].source.name
        return item if name == item.source_name else replace(item, source_name=name)

    async def known_entries(self, source_id: str, guids: Iterable[str]) -> dict[str, KnownEntry]:
        known: dict[str, KnownEntry] = {}
        for guid in guids:
            item_id = self._by_guid.get((source_id, guid))
            if item_id is not None:
                known[guid] = KnownEntry(
                    item_id=item_id, content_hash=self._items[item_id].content_hash
                )
        return known

    async def add_item(self, item: NewItem) -> Item:
        what = f"store item {item.guid!r} of source {item.source_id!r}"
        source = self._sources.get(item.source_id)
        if source is None:
            raise StoreError(f"cannot {what}: the source is unknown (sync_sources first)")
        if (item.source_id, item.guid) in self._by_guid:
            raise StoreError(f"cannot {what}: it is stored already")
        stored = Item(
            id=next(self._item_ids),
            source_id=item.source_id,
            source_name=source.source.name,
            guid=item.guid,
            link=item.link,
            title=item.title,
            summary=item.summary,
            published=_utc_or_none(item.published),
            first_seen=utc(item.first_seen),
            content_hash=item.content_hash,
            language=item.language,
            baseline=item.baseline,
            url=item.url,
        )
        self._items[stored.id] = stored
        self._by_guid[(item.source_id, item.guid)] = stored.id
        return stored

    def _existing(self, item_id: int, what: str) -> Item:
        item = self._items.get(item_id)
        if item is None:
            raise StoreError(f"cannot {what}: no such item")
        return item

    async def edit_item(
        self, item_id: int, *, title: str, summary: str, content_hash: str, edited_at: datetime
    ) -> Item:
        item = self._existing(item_id, f"record an edit of item {item_id}")
        edited = replace(
            item,
            title=title,
            summary=summary,
            content_hash=content_hash,
            edited_at=utc(edited_at),
        )
        self._items[item_id] = edited
        return self._current(edited)

    async def get_item(self, item_id: int) -> Item | None:
        item = self._items.get(item_id)
        return None if item is None else self._current(item)

    async def get_items(self, item_ids: Sequence[int]) -> list[Item]:
        return [self._current(self._items[i]) for i in item_ids if i in self._items]

    async def items_by_link(self, link: str) -> list[Item]:
        found = [item for item in self._items.values() if item.link == link]
        found.sort(key=lambda item: (item.first_seen, item.id))
        return [self._current(item) for item in found]

    async def classify_item(
        self,
        item_id: int,
        *,
        on_story: bool,
        topics: Sequence[str],
        development_id: str | None,
        analysis: bool = False,
    ) -> None:
        item = self._existing(item_id, f"classify item {item_id}")
        self._items[item_id] = replace(
            item,
            on_story=on_story,
            topics=tuple(topics),
            development_id=development_id,
            analysis=analysis,
        )

    async def story_items_since(self, since: datetime) -> list[Item]:
        since = utc(since)
        found = [i for i in self._items.values() if i.on_story and i.first_seen >= since]
        found.sort(key=lambda item: (item.first_seen, item.id))
        return [self._current(item) for item in found]

    async def recent_items(self, *, limit: int) -> list[Item]:
        if limit <= 0:
            return []
        found = sorted(self._items.values(), key=lambda item: (item.first_seen, item.id))
        return [self._current(item) for item in found[-limit:]]

    async def search_items(self, query: str, *, limit: int = 20) -> list[Item]:
        words = unique(_WORD.findall(query.casefold()))
        if not words or limit <= 0:
            return []
        scored: list[tuple[int, int, Item]] = []
        for item in self._items.values():
            title, summary = item.title.casefold(), item.summary.casefold()
            if all(w in title or w in summary for w in words):
                hits = sum(2 * title.count(w) + summary.count(w) for w in words)
                scored.append((-hits, -item.id, item))
        scored.sort(key=lambda entry: (entry[0], entry[1]))
        return [self._current(item) for _, _, item in scored[:limit]]

    # --- developments --------------------------------------------------------------------------

    async def save_development(self, development: Development) -> None:
        self._developments[development.id] = replace(
            development,
            first_seen=utc(development.first_seen),
            updated_at=utc(development.updated_at),
            topics=tuple(development.topics),
            item_ids=tuple(development.item_ids),
        )

    async def get_development(self, development_id: str) -> Development | None:
        return self._developments.get(development_id)

    async def recent_developments(
        self, *, topic: str | None, since: datetime | None, limit: int
    ) -> list[Development]:
        if limit <= 0:
            return []
        found = [
            d
            for d in self._developments.values()
            if (topic is None or topic == STAR or topic in d.topics)
            and (since is None or d.first_seen >= utc(since))
        ]
        found.sort(key=lambda d: (d.first_seen, d.id), reverse=True)
        return found[:limit]

    # --- channels and subscriptions ------------------------------------------------------------

    async def save_channel(self, channel: Channel) -> None:
        known = self._channels.get(channel.ref.key)
        # Like the SQLite store, the first ref saved under a key stays.
        if known is not None:
            channel = replace(channel, ref=known.ref)
        self._channels[channel.ref.key] = channel

    async def get_channel(self, ref: ChannelRef) -> Channel | None:
        return self._channels.get(ref.key)

    async def subscribe(self, ref: ChannelRef, topics: Sequence[str]) -> list[str]:
        self._channels.setdefault(ref.key, Channel(ref=ref))
        followed = self._subscriptions.setdefault(ref.key, set())
        added = [t for t in unique(topics) if t not in followed]
        followed.update(added)
        return added

    async def unsubscribe(self, ref: ChannelRef, topics: Sequence[str]) -> list[str]:
        followed = self._subscriptions.get(ref.key, set())
        removed = [t for t in unique(topics) if t in followed]
        followed.difference_update(removed)
        return removed

    async def subscriptions(self, ref: ChannelRef) -> list[str]:
        return sorted(self._subscriptions.get(ref.key, set()), key=subscription_order)

    async def subscribers(self, topics: Sequence[str]) -> list[Subscriber]:
        wanted = unique(t for t in topics if t != STAR)
        found: list[Subscriber] = []
        for key in sorted(self._subscriptions):
            followed = self._subscriptions[key]
            if STAR in followed or any(t in followed for t in wanted):
                found.append(
                    Subscriber(
                        channel=self._channels[key], topics=subscriber_topics(wanted, followed)
                    )
                )
        return found

    # --- outbox --------------------------------------------------------------------------------

    async def enqueue(self, post: Post) -> bool:
        if post.key in self._posts:
            return False
        self._posts[post.key] = replace(
            post,
            id=next(self._post_ids),
            created_at=utc(post.created_at),
            next_attempt_at=_utc_or_none(post.next_attempt_at),
            delivered_at=_utc_or_none(post.delivered_at),
        )
        return True

    async def due_posts(self, now: datetime, *, limit: int = 100) -> list[Post]:
        if limit <= 0:
            return []
        now = utc(now)
        due = [
            p
            for p in self._posts.values()
            if p.state == PostState.PENDING
            and (p.next_attempt_at is None or p.next_attempt_at <= now)
        ]
        due.sort(key=lambda p: p.id or 0)
        return due[:limit]

    async def pending_heads(self, *, per_channel: int, limit: int) -> list[Post]:
        if per_channel <= 0 or limit <= 0:
            return []
        pending = sorted(
            (p for p in self._posts.values() if p.state == PostState.PENDING),
            key=lambda p: p.id or 0,
        )
        taken: dict[str, int] = {}
        heads: list[Post] = []
        for post in pending:
            place = taken.get(post.channel.key, 0)
            if place < per_channel:
                taken[post.channel.key] = place + 1
                heads.append(post)
        return heads[:limit]

    async def pending_for_channel(self, ref: ChannelRef) -> list[Post]:
        found = [
            p
            for p in self._posts.values()
            if p.state == PostState.PENDING
            and (p.channel.platform, p.channel.workspace, p.channel.channel)
            == (ref.platform, ref.workspace, ref.channel)
        ]
        return sorted(found, key=lambda p: p.id or 0)

    def _post(self, key: str, what: str) -> Post:
        post = self._posts.get(key)
        if post is None:
            raise StoreError(f"cannot {what}: no such post")
        return post

    async def mark_delivered(self, key: str, *, message_id: str, at: datetime) -> None:
        post = self._post(key, f"mark post {key!r} delivered")
        self._posts[key] = replace(
            post,
            state=PostState.DELIVERED,
            attempts=post.attempts + 1,
            platform_message_id=message_id,
            delivered_at=utc(at),
            next_attempt_at=None,
        )

    async def mark_attempt_failed(
        self, key: str, *, error: str, next_attempt_at: datetime | None
    ) -> None:
        post = self._post(key, f"record a failed attempt of post {key!r}")
        self._posts[key] = replace(
            post,
            state=PostState.PENDING if next_attempt_at is not None else PostState.FAILED,
            attempts=post.attempts + 1,
            last_error=error,
            next_attempt_at=_utc_or_none(next_attempt_at),
        )

    async def get_post(self, key: str) -> Post | None:
        return self._posts.get(key)

    async def posts_for_development(self, ref: ChannelRef, development_id: str) -> list[Post]:
        found = [
            p
            for p in self._posts.values()
            if p.channel.key == ref.key and p.development_id == development_id
        ]
        found.sort(key=lambda p: p.id or 0)
        return found

    async def outbox_depth(self) -> int:
        return sum(1 for p in self._posts.values() if p.state == PostState.PENDING)

    async def set_paused(
        self, *, platform: str, workspace: str, channel: str | None, reason: str | None
    ) -> list[ChannelRef]:
        changed: list[ChannelRef] = []
        for key, known in sorted(self._channels.items()):
            ref = known.ref
            if (ref.platform, ref.workspace) != (platform, workspace):
                continue
            if channel is not None and ref.channel != channel:
                continue
            if known.paused == (reason is not None):
                continue
            self._channels[key] = replace(known, paused=reason is not None, pause_reason=reason)
            changed.append(ref)
        return changed

    async def briefing_channels(self) -> list[Channel]:
        return [
            c
            for _, c in sorted(self._channels.items())
            if c.briefing_time is not None or c.mode is ChannelMode.BRIEFING
        ]

    async def paused_channels(self) -> list[Channel]:
        return [c for _, c in sorted(self._channels.items()) if c.paused]

    async def save_runtime(self, name: str, value: Mapping[str, Any], *, at: datetime) -> None:
        self._runtime[name] = RuntimeState(
            name=name, value=json.loads(json.dumps(dict(value))), at=utc(at)
        )

    async def runtime(self) -> dict[str, RuntimeState]:
        return dict(sorted(self._runtime.items()))

    # --- status --------------------------------------------------------------------------------

    async def stats(self) -> dict[str, int]:
        """Counts for ``briefbot status``: listed sources, items, developments, pending posts."""
        return {
            "sources": sum(1 for row in self._sources.values() if row.position is not None),
            "items": len(self._items),
            "developments": len(self._developments),
            "pending_posts": await self.outbox_depth(),
        }
