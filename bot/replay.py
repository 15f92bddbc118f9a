"""``briefbot replay``: the whole bot against a recorded stream on a simulated clock.

The formats are a public interface, specified in docs/replay.md (ITEMS.jsonl in, SCENARIO.toml,
POSTS.jsonl out). Each poll renders the source's feed as a real RSS 2.0 document that goes
through the same parse path as a fetched one.
"""

from __future__ import annotations

import bisect
import json
import logging
import re
import tomllib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import escape

from bot.clock import ManualClock
from bot.domain import (
    STAR,
    Channel,
    ChannelMode,
    ChannelRef,
    ConfigError,
    FeedError,
    FetchResult,
    Post,
    Source,
    Story,
    utc,
)
from bot.novelty.embed import Embedder
from bot.ports import NoveltyJudge, Outlet, Store, Summarizer
from bot.services.answers import AnswerWriter
from bot.services.chat import Mention
from bot.services.core import build_core
from bot.services.pipeline import PipelineSettings
from bot.services.schedule import DEFAULT_BRIEFING_TIME, briefings_between, parse_briefing_setting

log = logging.getLogger(__name__)

PLATFORM = "replay"
WORKSPACE = "replay"
FEED_SIZE = 50
_XML_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_TICK = re.compile(r"^\s*(\d+)\s*([smh])\s*$")


class ReplayError(ConfigError):
    """Bad replay input: the message names the file, the line or key, and what is expected."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplayItem:
    at: datetime
    source: str
    source_name: str
    source_url: str
    link: str
    guid: str
    title: str
    summary: str
    published: datetime | None
    language: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplayChannel:
    id: str
    topics: tuple[str, ...]
    mode: ChannelMode = ChannelMode.ALERTS
    briefing: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplayAsk:
    at: datetime
    channel: str
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Scenario:
    start: datetime | None
    end: datetime | None
    tick: timedelta
    channels: tuple[ReplayChannel, ...]
    asks: tuple[ReplayAsk, ...] = ()


@dataclass(slots=True)
class ReplayStats:
    polls: int = 0
    items: int = 0
    posts: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)


def _parse_time(value: Any, where: str) -> datetime:
    if isinstance(value, datetime):
        return utc(value)
    if not isinstance(value, str):
        raise ReplayError(f"{where} must be an ISO-8601 time, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ReplayError(f"{where} must be an ISO-8601 time, got {value!r}") from None
    return utc(parsed)


def load_items(path: Path) -> list[ReplayItem]:
    """Read ITEMS.jsonl, sorted by ``at``. A bad line raises ``ReplayError`` naming its number."""
    items: list[ReplayItem] = []
    try:
        handle = path.open("rb")
    except OSError as e:
        raise ReplayError(f"{path}: cannot read the items file ({e.strerror})") from e
    with handle:
        for number, data in enumerate(handle, start=1):
            where = f"{path}:{number}"
            try:
                line = data.decode("utf-8")
            except UnicodeDecodeError as e:
                raise ReplayError(f"{where}: not UTF-8 text ({e.reason} at byte {e.start})") from e
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as e:
                raise ReplayError(f"{where}: not valid JSON ({e.msg})") from e
            if not isinstance(raw, dict):
                raise ReplayError(f"{where}: expected a JSON object, got {type(raw).__name__}")
            for key in ("at", "source", "link", "title"):
                if not isinstance(raw.get(key), str) or not raw[key].strip():
                    raise ReplayError(f"{where}: field {key!r} is required (a non-empty string)")
            source = raw["source"].strip()
            published = raw.get("published")
            items.append(
                ReplayItem(
                    at=_parse_time(raw["at"], f"{where}: field 'at'"),
                    source=source,
                    source_name=str(raw.get("source_name") or source),
                    source_url=str(
                        raw.get("source_url") or f"https://{source}.replay.invalid/feed"
                    ),
                    link=raw["link"].strip(),
                    guid=str(raw.get("guid") or raw["link"]).strip(),
                    title=raw["title"],
                    summary=str(raw.get("summary") or ""),
                    published=(
                        _parse_time(published, f"{where}: field 'published'")
                        if isinstance(published, str) and published.strip()
                        else None
                    ),
                    language=str(raw["language"]) if raw.get("language") else None,
                )
            )
    items.sort(key=lambda i: i.at)
    return items


def parse_tick(value: Any, where: str) -> timedelta:
    match = _TICK.match(value) if isinstance(value, str) else None
    if match is None or int(match.group(1)) == 0:
        raise ReplayError(f"{where} must look like 30s, 10m or 1h, got {value!r}")
    amount = int(match.group(1))
    return timedelta(seconds=amount * {"s": 1, "m": 60, "h": 3600}[match.group(2)])


def load_scenario(path: Path, story: Story) -> Scenario:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ReplayError(f"{path}: cannot read the scenario ({e.strerror})") from e
    except UnicodeDecodeError as e:
        raise ReplayError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from e
    except tomllib.TOMLDecodeError as e:
        raise ReplayError(f"{path}: not valid TOML ({e})") from e
    known = set(story.topic_ids())
    start = _parse_time(raw["start"], f"{path}: start") if "start" in raw else None
    end = _parse_time(raw["end"], f"{path}: end") if "end" in raw else None
    if start and end and end < start:
        raise ReplayError(f"{path}: end ({end}) is before start ({start})")
    tick = parse_tick(raw.get("tick", "10m"), f"{path}: tick")
    channels: list[ReplayChannel] = []
    raw_channels = raw.get("channels", [])
    if not isinstance(raw_channels, list):
        raise ReplayError(f"{path}: channels must be an array of tables ([[channels]])")
    for n, ch in enumerate(raw_channels):
        where = f"{path}: channels[{n}]"
        if not isinstance(ch, dict) or not isinstance(ch.get("id"), str) or not ch["id"]:
            raise ReplayError(f"{where}.id is required (a string)")
        topics = ch.get("topics")
        if (
            not isinstance(topics, list)
            or not topics
            or not all(isinstance(t, str) for t in topics)
        ):
            raise ReplayError(f'{where}.topics is required: a list of topic ids, or ["*"]')
        unknown = [t for t in topics if t != STAR and t not in known]
        if unknown:
            raise ReplayError(
                f"{where}.topics: unknown topic {unknown[0]!r}; known topics: "
                + ", ".join(story.topic_ids())
                + ', or "*"'
            )
        mode = ch.get("mode", "alerts")
        if mode not in ("alerts", "briefing"):
            raise ReplayError(f'{where}.mode must be "alerts" or "briefing", got {mode!r}')
        if any(c.id == ch["id"] for c in channels):
            raise ReplayError(f"{where}.id {ch['id']!r} is used by two channels")
        briefing = ch.get("briefing")
        if briefing is not None:
            try:
                if not isinstance(briefing, str) or parse_briefing_setting(briefing) is None:
                    raise ValueError(f'expected a time like "07:30 Europe/Kyiv", got {briefing!r}')
            except ValueError as e:
                raise ReplayError(f"{where}.briefing: {e}") from None
        channels.append(
            ReplayChannel(
                id=ch["id"],
                topics=tuple(topics),
                mode=ChannelMode(mode),
                briefing=ch.get("briefing"),
            )
        )
    raw_asks = raw.get("ask", [])
    if not isinstance(raw_asks, list):
        raise ReplayError(f"{path}: ask must be an array of tables ([[ask]])")
    asks: list[ReplayAsk] = []
    ids = {c.id for c in channels}
    for n, ask in enumerate(raw_asks):
        where = f"{path}: ask[{n}]"
        if not isinstance(ask, dict):
            raise ReplayError(f"{where} must be a table with at, channel and text")
        if ask.get("channel") not in ids:
            raise ReplayError(
                f"{where}.channel must name a channel of the scenario ({', '.join(sorted(ids))}),"
                f" got {ask.get('channel')!r}"
            )
        if not isinstance(ask.get("text"), str):
            raise ReplayError(f"{where}.text is required (what the user typed)")
        asks.append(
            ReplayAsk(
                at=_parse_time(ask.get("at"), f"{where}.at"),
                channel=str(ask["channel"]),
                text=ask["text"],
            )
        )
    return Scenario(start=start, end=end, tick=tick, channels=tuple(channels), asks=tuple(asks))


def render_rss(source: Source, language: str | None, items: Sequence[ReplayItem]) -> bytes:
    """A real RSS 2.0 document holding ``items`` (newest first)."""

    def text(value: str) -> str:
        return escape(_XML_BAD.sub("", value))

    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>',
        f"<title>{text(source.name)}</title><link>{text(source.url)}</link>",
        "<description>replayed feed</description>",
    ]
    if language:
        parts.append(f"<language>{text(language)}</language>")
    for item in items:
        parts.append(
            f"<item><title>{text(item.title)}</title><link>{text(item.link)}</link>"
            f'<guid isPermaLink="false">{text(item.guid)}</guid>'
        )
        if item.summary:
            parts.append(f"<description>{text(item.summary)}</description>")
        if item.published is not None:
            parts.append(f"<pubDate>{format_datetime(item.published, usegmt=True)}</pubDate>")
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode("utf-8")


class ReplayFeeds:
    """A ``Fetcher`` that serves each source's feed as it stood at the clock's time.

    It answers conditional GETs like a well-behaved server: the ETag names the feed's version,
    and an unchanged feed gets 304.
    """

    def __init__(self, items: Sequence[ReplayItem], clock: ManualClock) -> None:
        self._clock = clock
        self.sources: dict[str, Source] = {}
        self._by_url: dict[str, str] = {}
        self._items: dict[str, list[ReplayItem]] = {}
        self._times: dict[str, list[datetime]] = {}
        self._language: dict[str, str | None] = {}
        self._cache: dict[str, tuple[int, bytes]] = {}
        for item in items:  # sorted by at
            if item.source not in self.sources:
                url = item.source_url
                if url in self._by_url:
                    url = f"https://{item.source}.replay.invalid/feed"
                self.sources[item.source] = Source(id=item.source, name=item.source_name, url=url)
                self._by_url[url] = item.source
                self._language[item.source] = item.language
                self._items[item.source] = []
                self._times[item.source] = []
            self._items[item.source].append(item)
            self._times[item.source].append(item.at)

    async def fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        source_id = self._by_url.get(url)
        if source_id is None:
            raise FeedError(f"HTTP 404 Not Found from {url}: no such replayed feed")
        count = bisect.bisect_right(self._times[source_id], self._clock.now())
        version = f'"v{count}"'
        if etag == version:
            return FetchResult(status=304, body=None, etag=version, final_url=url)
        cached = self._cache.get(source_id)
        if cached is None or cached[0] != count:
            shown = self._visible(source_id, count)
            body = render_rss(self.sources[source_id], self._language[source_id], shown)
            self._cache[source_id] = (count, body)
        else:
            body = cached[1]
        return FetchResult(status=200, body=body, etag=version, final_url=url)

    def _visible(self, source_id: str, count: int) -> list[ReplayItem]:
        """The newest ``FEED_SIZE`` entries published so far; an edited entry shows once, as
        its latest version, where it stood first."""
        latest: dict[str, tuple[datetime, ReplayItem]] = {}
        for item in self._items[source_id][:count]:
            first_at = latest[item.guid][0] if item.guid in latest else item.at
            latest[item.guid] = (first_at, item)
        ordered = sorted(latest.values(), key=lambda pair: pair[0], reverse=True)
        return [item for _, item in ordered[:FEED_SIZE]]


class JsonLinesOutlet:
    """The replay platform: every message is one line of POSTS.jsonl."""

    platform = PLATFORM

    def __init__(self, out: IO[str], clock: ManualClock, stats: ReplayStats) -> None:
        self._out = out
        self._clock = clock
        self._stats = stats
        self._count = 0

    def _write(self, post: Post) -> None:
        line = {
            "at": self._clock.now().isoformat(),
            "channel": post.channel.channel,
            "kind": post.kind.value,
            "development": post.development_id,
            "developments": list(post.developments),
            "topics": list(post.topics),
            "text": post.text,
            "sources": list(post.sources),
        }
        self._out.write(json.dumps(line, ensure_ascii=False) + "\n")
        self._stats.posts += 1
        self._stats.by_kind[post.kind.value] = self._stats.by_kind.get(post.kind.value, 0) + 1

    ready = True

    async def send(self, post: Post, *, thread_id: str | None = None) -> str:
        self._write(post)
        self._count += 1
        return str(self._count)

    async def edit(self, post: Post, message_id: str) -> None:
        """A quiet edit changes a message already sent: it is not a new line."""


def replay_ref(channel_id: str) -> ChannelRef:
    return ChannelRef(platform=PLATFORM, workspace=WORKSPACE, channel=channel_id)


OnInstant = Callable[[datetime, int], Awaitable[None]]


async def run_timeline(
    *,
    items: Sequence[ReplayItem],
    scenario: Scenario,
    story: Story,
    store: Store,
    summarizer: Summarizer,
    settings: PipelineSettings,
    outlet_factory: Callable[[ManualClock], Outlet],
    channel_refs: Callable[[str], ChannelRef] = replay_ref,
    on_instant: OnInstant | None = None,
    embedder: Embedder | None = None,
    writer: AnswerWriter | None = None,
    judge: NoveltyJudge | None = None,
) -> ReplayStats:
    """Drive the bot through ``items`` on a simulated clock. ``on_instant(t, delivered)`` runs
    after each instant's deliveries (the demo uses it to pace the output)."""
    if not items:
        raise ReplayError("the items file holds no items")
    tick = scenario.tick
    start = scenario.start or (items[0].at - tick)
    end = scenario.end or (items[-1].at + tick)
    clock = ManualClock(start)
    feeds = ReplayFeeds(items, clock)
    stats = ReplayStats(items=len(items))
    outlet = outlet_factory(clock)
    await store.sync_sources(list(feeds.sources.values()))
    for channel in scenario.channels:
        ref = channel_refs(channel.id)
        await store.subscribe(ref, channel.topics)
        known = await store.get_channel(ref) or Channel(ref=ref)
        setting = parse_briefing_setting(channel.briefing) if channel.briefing else None
        await store.save_channel(
            replace(
                known,
                mode=channel.mode,
                subscribed_at=start,
                briefing_time=setting.hhmm if setting else None,
                briefing_set_at=start,
                timezone=(setting.timezone if setting and setting.timezone else known.timezone),
            )
        )
    core = build_core(
        store=store,
        fetcher=feeds,
        clock=clock,
        story=story,
        summarizer=summarizer,
        settings=settings,
        embedder=embedder,
        outlets=(outlet,),
        writer=writer,
        judge=judge,
    )
    await core.start()
    sources = sorted(feeds.sources.values(), key=lambda s: s.id)
    # Simulated time moves from event to event: polls every tick, each channel's briefings at
    # their local time, the asks at theirs. At one instant: polls, then briefings, then asks.
    ticks: set[datetime] = set()
    instant = start
    while instant <= end:
        ticks.add(instant)
        instant += tick
    events = set(ticks)
    for channel in scenario.channels:
        setting = parse_briefing_setting(channel.briefing) if channel.briefing else None
        at = (
            setting.at
            if setting
            else (DEFAULT_BRIEFING_TIME if channel.mode is ChannelMode.BRIEFING else None)
        )
        if at is not None:
            tz = setting.timezone if setting and setting.timezone else "UTC"
            events.update(briefings_between(start - timedelta(microseconds=1), end, at, tz))
    asks_at: dict[datetime, list[ReplayAsk]] = {}
    for ask in scenario.asks:
        if start <= ask.at <= end:
            events.add(ask.at)
            asks_at.setdefault(ask.at, []).append(ask)
    for now in sorted(events):
        clock.set(now)
        if now in ticks:
            for source in sources:
                await core.pipeline.poll(source)
                stats.polls += 1
            await core.pipeline.sweep()
        await core.briefer.due(now)
        for number, ask in enumerate(asks_at.get(now, ())):
            await core.chat.mention(
                Mention(
                    channel=channel_refs(ask.channel),
                    text=ask.text,
                    message_id=f"ask-{now.isoformat()}-{number}",
                )
            )
        delivered = await core.deliverer.deliver_due()
        if on_instant is not None:
            await on_instant(now, delivered)
    return stats
