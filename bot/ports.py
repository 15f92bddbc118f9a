"""The small interfaces the core talks through. Concrete classes live in ``store``, ``ingest``,
``summarize`` and ``adapters``; only ``app.py`` (and the replay) pick which ones run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bot.domain import (
    Channel,
    ChannelRef,
    Development,
    FetchResult,
    Item,
    PollState,
    Post,
    Source,
)


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, aware UTC."""
        ...


class Fetcher(Protocol):
    async def fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        """One conditional GET of ``url``.

        Returns status 200 with the body, or 304 with ``body=None``. Raises ``FeedError`` with a
        message fit for a user on anything else: a network error, a timeout, an HTTP error
        status, a body over the size cap, too many redirects.
        """
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class SummaryInput:
    """What a summarizer may read: the development's items, oldest first. Untrusted text."""

    title: str
    items: Sequence[Item]
    max_chars: int = 400


class Summarizer(Protocol):
    async def summarize(self, development: SummaryInput) -> str:
        """A plain-text summary of at most ``max_chars`` characters, grounded in the items."""
        ...


class NoveltyJudge(Protocol):
    """A second opinion on one pair (the LLM): is the new report the same event as the known
    ones, or another one (the next step of a storyline)? None: unsure or unavailable."""

    async def same_event(
        self, new: tuple[str, str], known: Sequence[tuple[str, str]]
    ) -> bool | None: ...


class Outlet(Protocol):
    """Delivers posts to one platform (the console, the replay file, Slack, Discord).

    An outlet renders ``post.message`` (the neutral value) its own way, falling back to
    ``post.text`` for a post stored before messages were; it paces itself to the platform's
    limits. ``ready`` is False while the platform is not connected: its posts then stay pending.
    """

    platform: str

    @property
    def ready(self) -> bool: ...

    async def send(self, post: Post, *, thread_id: str | None = None) -> str:
        """Post a new message (under ``thread_id``'s message when given); return the platform's
        message id. Raise ``DeliveryError``."""
        ...

    async def edit(self, post: Post, message_id: str) -> None:
        """Replace an earlier message with ``post``'s current view. Raise ``DeliveryError``."""
        ...


class Platform(Protocol):
    """A chat platform the bot serves (Slack, Discord): its connection and its ``Outlet``.

    The composition root builds one per configured platform, calls ``start`` (which returns once
    the platform is serving, or raises ``BriefbotError`` with a message naming the fix) and
    ``stop`` at shutdown. Platform events go to ``services.chat.ChatService``.
    """

    name: str  # "slack", "discord": the ``ChannelRef.platform`` of its channels

    @property
    def outlet(self) -> Outlet: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def status(self) -> Mapping[str, Any]:
        """For ``briefbot status``: connected, mode, workspace or guilds, last_error (JSON-able)."""
        ...


class DeliveryError(Exception):
    """A platform refused or failed a post.

    - ``retry_after`` (seconds) when it said when to retry;
    - ``permanent`` when retrying this post cannot help (a message too large, a bad request);
    - ``gone`` when the post's message was deleted by a person (an edit then gives up quietly);
    - ``pause`` with a reason when the channel (``scope="channel"``) or the whole workspace
      (``scope="workspace"``) cannot take posts until something changes (the bot was removed,
      the channel archived, the app uninstalled): its subscriptions pause and the post waits;
    - ``uncertain`` when the request may have reached the platform (a timeout after sending):
      the outlet looks for the post's key in the channel before it sends again.
    """

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        permanent: bool = False,
        gone: bool = False,
        pause: str | None = None,
        scope: str = "channel",
        uncertain: bool = False,
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent
        self.gone = gone
        self.pause = pause
        self.scope = scope
        self.uncertain = uncertain


@dataclass(frozen=True, slots=True, kw_only=True)
class RuntimeState:
    """What a running part of the bot last wrote about itself (``Store.save_runtime``)."""

    name: str  # "process", "platform:slack", …
    value: Mapping[str, Any]
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class NewItem:
    """An item about to be stored (the store gives it an id)."""

    source_id: str
    guid: str
    link: str
    title: str
    summary: str
    published: datetime | None
    first_seen: datetime
    content_hash: str
    language: str | None = None
    baseline: bool = False
    url: str = ""  # the link as the feed gave it (``link`` is canonical)


@dataclass(frozen=True, slots=True, kw_only=True)
class KnownEntry:
    item_id: int
    content_hash: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Subscriber:
    """A channel that follows some of a development's topics (or ``*``)."""

    channel: Channel
    topics: tuple[str, ...]  # the channel's topics among the development's, or ("*",)


class Store(Protocol):
    """Everything the bot keeps. Implementations: SQLite (``store.sqlite``), in-memory
    (``store.memory``), later PostgreSQL; one contract test suite runs them all.

    Every method raises ``StoreError`` when the database fails. Times are aware UTC.
    """

    async def close(self) -> None: ...

    # sources and poll state
    async def sync_sources(self, sources: Sequence[Source]) -> None:
        """Make the configured sources known, updating name/url/language of known ids.
        Sources no longer configured are kept (their items stay searchable) but not listed."""
        ...

    async def list_sources(self) -> list[Source]:
        """The sources given to the last ``sync_sources``, in that order."""
        ...

    async def get_poll_state(self, source_id: str) -> PollState: ...

    async def save_poll_state(self, state: PollState) -> None: ...

    # items
    async def known_entries(self, source_id: str, guids: Iterable[str]) -> dict[str, KnownEntry]:
        """Of ``guids``, those already stored for the source, with their content hash."""
        ...

    async def add_item(self, item: NewItem) -> Item:
        """Store a new item. Raises ``StoreError`` if (source_id, guid) exists already."""
        ...

    async def edit_item(
        self, item_id: int, *, title: str, summary: str, content_hash: str, edited_at: datetime
    ) -> Item:
        """Record an edit of an entry (same guid, changed text)."""
        ...

    async def get_item(self, item_id: int) -> Item | None: ...

    async def get_items(self, item_ids: Sequence[int]) -> list[Item]:
        """Items by id, in the order asked; unknown ids are skipped."""
        ...

    async def items_by_link(self, link: str) -> list[Item]:
        """Items whose canonical link is ``link``, oldest first."""
        ...

    async def classify_item(
        self,
        item_id: int,
        *,
        on_story: bool,
        topics: Sequence[str],
        development_id: str | None,
        analysis: bool = False,
    ) -> None:
        """Record the story gate's verdict, topic tags and development of an item, and
        whether it is a piece about the news rather than news (``analysis``)."""
        ...

    async def story_items_since(self, since: datetime) -> list[Item]:
        """On-story items first seen at or after ``since``, oldest first (to rebuild the
        clusterer's window at start-up)."""
        ...

    async def recent_items(self, *, limit: int) -> list[Item]:
        """The ``limit`` items first seen last (on the story or not), oldest first: the
        clusterer relearns its word statistics from them at start-up."""
        ...

    async def search_items(self, query: str, *, limit: int = 20) -> list[Item]:
        """Full-text search over item titles and summaries, best match first."""
        ...

    # developments
    async def save_development(self, development: Development) -> None:
        """Insert or replace a development (its items are given by ``item_ids``)."""
        ...

    async def get_development(self, development_id: str) -> Development | None: ...

    async def recent_developments(
        self, *, topic: str | None, since: datetime | None, limit: int
    ) -> list[Development]:
        """Developments newest first (by first_seen); ``topic`` None or ``*`` means any."""
        ...

    # channels and subscriptions
    async def save_channel(self, channel: Channel) -> None:
        """Insert or update a channel's settings."""
        ...

    async def get_channel(self, ref: ChannelRef) -> Channel | None: ...

    async def subscribe(self, ref: ChannelRef, topics: Sequence[str]) -> list[str]:
        """Add subscriptions (creating the channel if needed); return those that are new."""
        ...

    async def unsubscribe(self, ref: ChannelRef, topics: Sequence[str]) -> list[str]:
        """Remove subscriptions; return those that existed."""
        ...

    async def subscriptions(self, ref: ChannelRef) -> list[str]:
        """The channel's topics, sorted, ``*`` first."""
        ...

    async def subscribers(self, topics: Sequence[str]) -> list[Subscriber]:
        """Channels following any of ``topics`` or ``*``, sorted by channel key."""
        ...

    # outbox
    async def enqueue(self, post: Post) -> bool:
        """Queue a post; False (and nothing changes) if its key is queued already."""
        ...

    async def due_posts(self, now: datetime, *, limit: int = 100) -> list[Post]:
        """Pending posts whose next attempt is due, oldest first (by id)."""
        ...

    async def pending_heads(self, *, per_channel: int, limit: int) -> list[Post]:
        """The first ``per_channel`` pending posts of every channel (due or not), oldest first,
        at most ``limit`` in all: one channel's long queue never hides the others."""
        ...

    async def pending_for_channel(self, ref: ChannelRef) -> list[Post]:
        """The channel's pending posts (its threads' too), oldest first."""
        ...

    async def mark_delivered(self, key: str, *, message_id: str, at: datetime) -> None: ...

    async def mark_attempt_failed(
        self, key: str, *, error: str, next_attempt_at: datetime | None
    ) -> None:
        """Count a failed attempt; ``next_attempt_at`` None gives up (state ``failed``)."""
        ...

    async def get_post(self, key: str) -> Post | None: ...

    async def posts_for_development(self, ref: ChannelRef, development_id: str) -> list[Post]:
        """Posts about a development in a channel, oldest first."""
        ...

    async def outbox_depth(self) -> int:
        """How many posts are pending."""
        ...

    async def set_paused(
        self, *, platform: str, workspace: str, channel: str | None, reason: str | None
    ) -> list[ChannelRef]:
        """Pause (``reason`` given) or resume (``reason`` None) a workspace's known channels, or
        one of them; returns the channels whose state changed. Their subscriptions stay."""
        ...

    async def paused_channels(self) -> list[Channel]: ...

    async def briefing_channels(self) -> list[Channel]:
        """Channels with a briefing time, or in briefing mode, sorted by key."""
        ...

    async def save_runtime(self, name: str, value: Mapping[str, Any], *, at: datetime) -> None:
        """Record what a running part says about itself (JSON-able values)."""
        ...

    async def runtime(self) -> dict[str, RuntimeState]: ...

    async def stats(self) -> dict[str, int]:
        """Counts for ``briefbot status``: ``sources``, ``items``, ``developments``,
        ``pending_posts``."""
        ...
