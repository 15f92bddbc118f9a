"""From a source's feed to queued posts: fetch, parse, store, gate, tag, cluster, summarize, route.

One ``Pipeline`` per process. It talks to the world only through ports (``Store``, ``Fetcher``,
``Summarizer``, ``Clock``); the pure parts (parse, topics, novelty, render) do the thinking.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from bot.domain import (
    BriefbotError,
    Development,
    FeedEntry,
    FeedError,
    FetchResult,
    Item,
    ParsedFeed,
    PollState,
    Source,
)
from bot.ingest.backoff import backoff_delay
from bot.ingest.parse import parse_feed_async
from bot.novelty.analysis import is_roundup
from bot.novelty.cluster import Clusterer, ClusterItem, semantic_text
from bot.novelty.embed import Embedder, Embedding
from bot.novelty.pair import PairModel
from bot.ports import Clock, Fetcher, KnownEntry, NewItem, NoveltyJudge, Store, Summarizer
from bot.services.render import plain
from bot.services.routing import Router, RoutingSettings
from bot.topics.language import detect_language
from bot.topics.match import StoryMatcher
from bot.topics.meaning import TopicModel, load_topic_model
from bot.topics.settle import settled_topics

log = logging.getLogger(__name__)


# The pair model's unsure band: a probability this close to its threshold goes to the judge.
UNSURE_BAND = 0.15
JUDGE_KNOWN = 3  # the development's latest reports the judge compares against
RELEARN_ITEMS = 20_000  # items read again at start-up to relearn the clusterer's word statistics
EMBED_BATCH = 32  # story items embedded at a time when the window is rebuilt


@dataclass(frozen=True, slots=True, kw_only=True)
class PipelineSettings:
    poll_interval: float = 600.0
    backoff_base: float = 300.0
    backoff_max: float = 6 * 3600.0
    languages: tuple[str, ...] = ("en",)
    summary_max_chars: int = 400
    max_links: int = 3
    window: timedelta = timedelta(hours=48)
    # judgment (issue 9): the fitted same-event model; None: the one shipped in the package.
    pair_model: PairModel | None = None
    # judgment (issue 9): the fitted topic model by meaning; None: the package's.
    topic_model: TopicModel | None = None

    def routing(self) -> RoutingSettings:
        return RoutingSettings(
            languages=self.languages,
            summary_max_chars=self.summary_max_chars,
            max_links=self.max_links,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PollReport:
    source_id: str
    status: str  # "new", "unchanged", "failed"
    new_items: int = 0
    edited_items: int = 0
    story_items: int = 0
    alerts: int = 0
    baseline: bool = False
    error: str | None = None
    next_poll_at: datetime | None = None


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def entry_hash(entry: FeedEntry) -> str:
    return hashlib.blake2b(f"{entry.title}\x1f{entry.summary}".encode(), digest_size=16).hexdigest()


class Pipeline:
    def __init__(
        self,
        *,
        store: Store,
        fetcher: Fetcher,
        clock: Clock,
        matcher: StoryMatcher,
        summarizer: Summarizer,
        settings: PipelineSettings,
        embedder: Embedder | None = None,
        router: Router | None = None,
        clusterer: Clusterer | None = None,
        judge: NoveltyJudge | None = None,
    ) -> None:
        self._store = store
        self._judge = judge
        self.judged = 0  # pairs the judge was asked about
        self._embedder = embedder
        self._fetcher = fetcher
        self._clock = clock
        self._matcher = matcher
        self._summarizer = summarizer
        self._settings = settings
        self._clusterer = clusterer or Clusterer(window=settings.window, model=settings.pair_model)
        self._router = router or Router(
            store=store, summarizer=summarizer, settings=settings.routing()
        )
        self._topic_ids = tuple(matcher.story.topic_ids())
        self._topic_order = {t: i for i, t in enumerate(self._topic_ids)}
        model = settings.topic_model or load_topic_model()
        # A model fitted for another story knows nothing of this one's topics: aliases alone.
        self._topic_model = model if model.fits(matcher.story.id) else None
        # Fetches run side by side; storing and clustering run one poll at a time, so two polls
        # never grow the same development from stale copies.
        self._ingest_lock = asyncio.Lock()
        # This process is the only writer of its sources' poll state: keep the last one written.
        self._poll_states: dict[str, PollState] = {}
        # Ingests under way: a cancelled poll lets its ingest finish (see ``drain``).
        self._inflight: set[asyncio.Future[PollReport]] = set()

    async def drain(self) -> None:
        """Wait for the ingests under way. A poll cancelled at shutdown stops fetching at once,
        but an item it began storing is always classified, clustered and routed."""
        while self._inflight:
            await asyncio.gather(*self._inflight, return_exceptions=True)

    async def _save_state(self, state: PollState) -> None:
        await self._store.save_poll_state(state)
        self._poll_states[state.source_id] = state

    async def poll_many(self, sources: Sequence[Source], *, concurrency: int) -> list[PollReport]:
        """Poll ``sources`` with at most ``concurrency`` fetches in flight; reports in order."""
        gate = asyncio.Semaphore(concurrency)

        async def one(source: Source) -> PollReport:
            async with gate:
                try:
                    return await self.poll(source)
                except BriefbotError as e:  # the store failed: this source waits, others go on
                    log.error("polling %s failed: %s", source.id, e)
                    return PollReport(source_id=source.id, status="failed", error=str(e))

        return list(await asyncio.gather(*(one(s) for s in sources)))

    @property
    def clusterer(self) -> Clusterer:
        return self._clusterer

    async def sweep(self) -> int:
        """Queue the updates that are due (call once per polling round)."""
        async with self._ingest_lock:
            return await self._router.sweep(self._clock.now())

    async def start(self) -> None:
        """Rebuild the clusterer's window and the router's watch list (after a restart)."""
        await self._router.start(self._clock.now())
        since = self._clock.now() - self._settings.window
        # Word statistics first: which words the stream uses everywhere, which name an event.
        for item in await self._store.recent_items(limit=RELEARN_ITEMS):
            self._clusterer.observe(item.title, item.summary)
        items = await self._store.story_items_since(since)
        embeddings: list[Embedding | None] = []
        for start in range(0, len(items), EMBED_BATCH):
            embeddings += await self._embed(items[start : start + EMBED_BATCH])
        self._clusterer.load(ClusterItem.of(i, e) for i, e in zip(items, embeddings, strict=True))

    async def _embed(self, items: Sequence[Item]) -> list[Embedding | None]:
        """The items' sentence embeddings, computed off the event loop; none without an
        embedder, or when it fails (the clusterer then goes by words alone)."""
        if self._embedder is None or not items:
            return [None] * len(items)
        texts = [semantic_text(i.title, i.summary) for i in items]
        try:
            vectors = await asyncio.to_thread(self._embedder.embed, texts)
        except Exception as e:  # a native model failing must not lose the items
            log.warning("sentence embeddings failed, matching by words alone: %s", e)
            return [None] * len(items)
        if len(vectors) != len(items):
            log.warning(
                "the embedder gave %d vectors for %d texts; ignored", len(vectors), len(items)
            )
            return [None] * len(items)
        return list(vectors)

    async def poll(self, source: Source) -> PollReport:
        """Poll one source once and queue whatever posts its new items cause."""
        now = self._clock.now()
        state = self._poll_states.get(source.id) or await self._store.get_poll_state(source.id)
        try:
            result = await self._fetcher.fetch(
                source.url, etag=state.etag, last_modified=state.last_modified
            )
            if result.status == 304 or result.body is None:
                return await self._unchanged(state, result, now)
            digest = body_hash(result.body)
            if digest == state.body_hash:
                return await self._unchanged(state, result, now)
            parsed = await parse_feed_async(result.body, url=result.final_url or source.url)
        except FeedError as e:
            # The message may quote the site (a reason phrase, a link it advertises).
            return await self._failed(state, now, plain(str(e)))

        ingest = asyncio.ensure_future(self._ingested(source, state, result, digest, parsed))
        self._inflight.add(ingest)
        ingest.add_done_callback(self._inflight.discard)
        return await asyncio.shield(ingest)

    async def _ingested(
        self,
        source: Source,
        state: PollState,
        result: FetchResult,
        digest: str,
        parsed: ParsedFeed,
    ) -> PollReport:
        async with self._ingest_lock:
            now = self._clock.now()
            baseline = not state.baselined
            feed_language = source.language or parsed.language
            report = await self._ingest(source, parsed.entries, feed_language, baseline, now)
            next_poll = await self._read_fine(
                state,
                now,
                etag=result.etag,
                last_modified=result.last_modified,
                body_hash=digest,
                baselined=True,
                feed_language=parsed.language,
            )
            return replace(report, next_poll_at=next_poll)

    async def _unchanged(self, state: PollState, result: FetchResult, now: datetime) -> PollReport:
        next_poll = await self._read_fine(
            state,
            now,
            etag=result.etag or state.etag,
            last_modified=result.last_modified or state.last_modified,
        )
        return PollReport(source_id=state.source_id, status="unchanged", next_poll_at=next_poll)

    async def _read_fine(self, state: PollState, now: datetime, **changes: Any) -> datetime:
        """Record a successful poll (and ``changes``); returns when the next one is due."""
        next_poll = now + timedelta(seconds=self._settings.poll_interval)
        await self._save_state(
            replace(
                state,
                last_poll_at=now,
                last_ok_at=now,
                next_poll_at=next_poll,
                failures=0,
                last_error=None,
                **changes,
            )
        )
        return next_poll

    async def _failed(self, state: PollState, now: datetime, error: str) -> PollReport:
        failures = state.failures + 1
        delay = backoff_delay(
            failures, base=self._settings.backoff_base, cap=self._settings.backoff_max
        )
        next_poll = now + timedelta(seconds=max(delay, self._settings.poll_interval))
        await self._save_state(
            replace(
                state,
                last_poll_at=now,
                next_poll_at=next_poll,
                failures=failures,
                last_error=error,
            )
        )
        log.info(
            "source %s failed (%d in a row): %s; next try %s",
            state.source_id,
            failures,
            error,
            next_poll.isoformat(timespec="seconds"),
        )
        return PollReport(
            source_id=state.source_id, status="failed", error=error, next_poll_at=next_poll
        )

    async def _ingest(
        self,
        source: Source,
        entries: Sequence[FeedEntry],
        feed_language: str | None,
        baseline: bool,
        now: datetime,
    ) -> PollReport:
        known = await self._store.known_entries(source.id, [e.guid for e in entries])
        touched: dict[str, Development] = {}
        new_count = edited = story = 0
        # Feeds list newest first; take the oldest first so developments grow in time order.
        for entry in reversed(entries):
            digest = entry_hash(entry)
            seen = known.get(entry.guid)
            if seen is not None:
                if seen.content_hash != digest:
                    item = await self._store.edit_item(
                        seen.item_id,
                        title=entry.title,
                        summary=entry.summary,
                        content_hash=digest,
                        edited_at=now,
                    )
                    edited += 1
                    if item.on_story:
                        await self._router.edited(item, now)
                continue
            language = feed_language or detect_language(f"{entry.title}. {entry.summary}")
            item = await self._store.add_item(
                NewItem(
                    source_id=source.id,
                    guid=entry.guid,
                    link=entry.link,
                    title=entry.title,
                    summary=entry.summary,
                    published=entry.published,
                    first_seen=now,
                    content_hash=digest,
                    language=language,
                    baseline=baseline,
                    url=entry.url,
                )
            )
            known[entry.guid] = _known(item)
            new_count += 1
            self._clusterer.observe(entry.title, entry.summary)
            verdict = self._matcher.classify(entry.title, entry.summary)
            if not verdict.on_story:
                await self._store.classify_item(
                    item.id, on_story=False, topics=(), development_id=None
                )
                continue
            story += 1
            # judgment (issue 9): a round-up joins only its own copies; it needs no embedding.
            (embedding,) = (None,) if is_roundup(item.title) else await self._embed([item])
            # judgment (issue 9): topics by meaning join the aliases' (bot/topics/meaning.py).
            topics, by_meaning = verdict.topics, False
            if self._topic_model is not None:
                topics = self._topic_model.combine(verdict.topics, embedding, self._topic_ids)
                # A piece about the news in a news headline's clothes: told by meaning.
                by_meaning = self._topic_model.is_analysis(embedding)
            cluster_item = ClusterItem.of(item, embedding, analysis=by_meaning)
            assignment = self._clusterer.assign(
                cluster_item,
                new_id=f"dev-{item.id}",
                override=await self._second_opinion(cluster_item, touched),
            )
            await self._store.classify_item(
                item.id,
                on_story=True,
                topics=topics,
                development_id=assignment.development_id,
                analysis=assignment.analysis,
            )
            item = replace(
                item,
                on_story=True,
                topics=topics,
                development_id=assignment.development_id,
                analysis=assignment.analysis,
            )
            await self._grow(touched, assignment.development_id, item, now)

        alerts = 0
        for development in touched.values():
            await self._store.save_development(development)
            alerts += await self._router.route(development, now)
        return PollReport(
            source_id=source.id,
            status="new",
            new_items=new_count,
            edited_items=edited,
            story_items=story,
            alerts=alerts,
            baseline=baseline,
        )

    async def _second_opinion(
        self, item: ClusterItem, touched: dict[str, Development]
    ) -> tuple[str, bool] | None:
        """Where the pair model is unsure (its probability within ``UNSURE_BAND`` of its
        threshold), the judge (the LLM, when configured) decides: same event, or the next step
        of a storyline. None keeps the model's decision (no judge, sure, or the judge unsure)."""
        if self._judge is None:
            return None
        candidate = self._clusterer.candidate(item)
        if candidate is None or abs(candidate.probability - candidate.threshold) > UNSURE_BAND:
            return None
        development = touched.get(candidate.development_id) or await self._store.get_development(
            candidate.development_id
        )
        if development is None:
            return None
        known = await self._store.get_items(development.item_ids[-JUDGE_KNOWN:])
        verdict = await self._judge.same_event(
            (item.title, item.summary), [(k.title, k.summary) for k in known]
        )
        self.judged += 1
        return None if verdict is None else (candidate.development_id, verdict)

    async def _grow(
        self, touched: dict[str, Development], development_id: str, item: Item, now: datetime
    ) -> None:
        """Add ``item`` to its development, as this poll has it so far."""
        development = touched.get(development_id) or await self._store.get_development(
            development_id
        )
        if development is None:
            development = Development(
                id=development_id,
                first_seen=now,
                updated_at=now,
                title=item.title,
                summary="",
                topics=(),
                item_ids=(),
                language=item.language,
            )
        # judgment (issue 9): topics settle from the first reports; a topic gained later does
        # not send a late alert to its channels (bot/topics/settle.py).
        topics = settled_topics(development.topics, item.topics, now - development.first_seen)
        touched[development_id] = replace(
            development,
            updated_at=now,
            item_ids=(*development.item_ids, item.id),
            topics=tuple(sorted(topics, key=lambda t: self._topic_order.get(t, 99))),
        )


def _known(item: Item) -> KnownEntry:
    return KnownEntry(item_id=item.id, content_hash=item.content_hash)
