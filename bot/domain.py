"""Value objects and errors shared by every part of the bot. Standard library only.

All datetimes are timezone-aware UTC. Every object is frozen and keyword-only, so a value
built in one part cannot be changed behind another part's back.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.messages import Message

STAR = "*"  # the whole story, as a subscription


class BriefbotError(Exception):
    """Root of the bot's own errors. Raised at I/O boundaries, chained with ``from``."""


class ConfigError(BriefbotError):
    """A configuration file or environment variable is wrong; the message says where and how."""


class FeedError(BriefbotError):
    """A feed could not be fetched or parsed; the message is fit to show a user."""


class StoreError(BriefbotError):
    """The database failed or holds something the code does not understand."""


class CommandError(BriefbotError):
    """A chat command could not be carried out; the message is the reply."""


def utc(dt: datetime) -> datetime:
    """Return ``dt`` as an aware UTC datetime; a naive one is taken to be UTC already."""
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


# --- sources and feeds ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Source:
    """One feed the bot polls."""

    id: str
    name: str
    url: str
    language: str | None = None  # declared in config; else read from the feed


@dataclass(frozen=True, slots=True, kw_only=True)
class PollState:
    """What the bot remembers between two polls of a source."""

    source_id: str
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    last_poll_at: datetime | None = None
    last_ok_at: datetime | None = None
    next_poll_at: datetime | None = None
    failures: int = 0
    last_error: str | None = None
    baselined: bool = False  # the first successful poll happened (its items are the baseline)
    feed_language: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchResult:
    """The outcome of one conditional GET. ``status`` 304 means unchanged, ``body`` is None."""

    status: int
    body: bytes | None
    etag: str | None = None
    last_modified: str | None = None
    final_url: str | None = None
    content_type: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedEntry:
    """One entry of a parsed feed, normalized: plain text, canonical link, aware UTC time."""

    guid: str
    link: str  # canonical: the article's identity, for finding copies
    title: str
    summary: str  # plain text
    published: datetime | None = None
    url: str = ""  # the absolute link as the feed gave it: what posts cite


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedFeed:
    title: str
    language: str | None
    entries: tuple[FeedEntry, ...]


# --- items and developments -----------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Item:
    """A stored entry of a source, unique per (source_id, guid)."""

    id: int
    source_id: str
    source_name: str
    guid: str
    link: str
    title: str
    summary: str
    published: datetime | None
    first_seen: datetime
    content_hash: str
    language: str | None = None
    edited_at: datetime | None = None
    baseline: bool = False
    on_story: bool = False
    topics: tuple[str, ...] = ()
    development_id: str | None = None
    url: str = ""  # as the feed gave it
    # A piece about the news (analysis, explainer, live blog), as judged when it was read: by
    # its headline's form or by meaning. Kept with its development, never alerted.
    analysis: bool = False

    @property
    def cite(self) -> str:
        """The link a post shows: the source's own, never one the bot made up."""
        return self.url or self.link


@dataclass(frozen=True, slots=True, kw_only=True)
class Development:
    """A cluster of items from one or more outlets that report the same event."""

    id: str
    first_seen: datetime
    updated_at: datetime
    title: str
    summary: str
    topics: tuple[str, ...]
    item_ids: tuple[int, ...] = ()
    language: str | None = None


# --- channels, subscriptions, posts ---------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelRef:
    """Where posts go. ``key`` is stable and unique across platforms."""

    platform: str  # "console", "replay", "slack", "discord"
    workspace: str
    channel: str
    thread: str | None = None

    @property
    def key(self) -> str:
        base = f"{self.platform}:{self.workspace}:{self.channel}"
        return f"{base}:{self.thread}" if self.thread else base

    @classmethod
    def from_key(cls, key: str) -> ChannelRef:
        parts = key.split(":", 3)
        if len(parts) < 3:
            raise ValueError(f"not a channel key: {key!r}")
        return cls(
            platform=parts[0],
            workspace=parts[1],
            channel=parts[2],
            thread=parts[3] if len(parts) == 4 else None,
        )


class ChannelMode(enum.StrEnum):
    ALERTS = "alerts"
    BRIEFING = "briefing"


@dataclass(frozen=True, slots=True, kw_only=True)
class Channel:
    ref: ChannelRef
    mode: ChannelMode = ChannelMode.ALERTS
    timezone: str = "UTC"
    briefing_time: str | None = None  # "HH:MM" local
    paused: bool = False
    pause_reason: str | None = None  # why delivery to it stopped ("the bot was removed", …)
    quiet: str | None = None  # "22:00-07:00" local: alerts are held then
    subscribed_at: datetime | None = None  # its first subscription
    briefing_set_at: datetime | None = None  # when the briefing time was last set
    last_briefing_at: datetime | None = None
    last_briefing_date: str | None = None  # the local date (YYYY-MM-DD) of the last briefing


class PostKind(enum.StrEnum):
    ALERT = "alert"
    UPDATE = "update"
    BRIEFING = "briefing"
    ANSWER = "answer"
    NOTICE = "notice"


class PostState(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # gave up after the last attempt


@dataclass(frozen=True, slots=True, kw_only=True)
class Post:
    """One message the bot owes a channel. ``key`` makes enqueueing idempotent."""

    key: str
    channel: ChannelRef
    kind: PostKind
    text: str
    created_at: datetime
    development_id: str | None = None
    developments: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()  # every link the post stands on, shown ones first
    edit_of: str | None = None  # key of an earlier post whose message this one replaces
    thread_of: str | None = None  # key of an earlier post under whose message this one replies
    message: Message | None = None  # the neutral message ``text`` was rendered from
    state: PostState = PostState.PENDING
    attempts: int = 0
    next_attempt_at: datetime | None = None
    platform_message_id: str | None = None
    delivered_at: datetime | None = None
    last_error: str | None = None
    id: int | None = None


def alert_key(channel: ChannelRef, development_id: str) -> str:
    return f"alert:{channel.key}:{development_id}"


def update_key(channel: ChannelRef, development_id: str, seq: int) -> str:
    return f"update:{channel.key}:{development_id}:{seq}"


def edit_key(channel: ChannelRef, development_id: str, revision: str) -> str:
    return f"edit:{channel.key}:{development_id}:{revision}"


def briefing_key(channel: ChannelRef, local_date: str) -> str:
    return f"briefing:{channel.key}:{local_date}"


def answer_key(channel: ChannelRef, question_id: str) -> str:
    return f"answer:{channel.key}:{question_id}"


# --- who may change a channel ----------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Caller:
    """Who typed the command, as the platform told the adapter."""

    user: str = ""
    admin: bool = False  # a workspace admin or owner (Slack), an administrator (Discord)
    manager: bool = False  # may manage the channel (Discord's Manage Channels)


@dataclass(frozen=True, slots=True, kw_only=True)
class ManagePolicy:
    """Who may run the commands that change a channel (``Permission.MANAGE``):
    ``anyone``, ``admins``, ``managers`` (admins too), or only the listed user ids."""

    who: str = "anyone"
    users: frozenset[str] = frozenset()

    def allows(self, caller: Caller) -> bool:
        if caller.user and caller.user in self.users:
            return True
        if self.who == "anyone":
            return True
        if self.who == "admins":
            return caller.admin
        if self.who == "managers":
            return caller.admin or caller.manager
        return False  # "users": the list alone

    def describe(self) -> str:
        return {
            "anyone": "anyone in the channel",
            "admins": "workspace admins",
            "managers": "people who may manage this channel",
        }.get(self.who, "the users listed in bot.toml")


# --- topics -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Topic:
    id: str
    name: str
    description: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Story:
    """What a deployment follows: core terms that put an item on the story, and its topics."""

    id: str
    name: str
    description: str
    terms: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    topics: tuple[Topic, ...] = field(default_factory=tuple)
    # Words that back up a core term but never carry the story alone (Russia, Putin, Moscow).
    supporting: tuple[str, ...] = ()
    # Names of neighbouring stories that mention this one in passing (another war, another
    # crisis): when one is named, a core term must be in the headline itself.
    other_stories: tuple[str, ...] = ()

    def topic_ids(self) -> tuple[str, ...]:
        return tuple(t.id for t in self.topics)
