"""The pipeline's own guarantees, with hand-written fakes around it."""

from __future__ import annotations

import asyncio
import json
import math
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fakes.feeds import Feeds

from bot.clock import ManualClock
from bot.config import load_story
from bot.domain import ChannelRef, FetchResult, Source
from bot.novelty.embed import Embedder
from bot.novelty.pair import PairModel, parse_pair_model
from bot.services.pipeline import Pipeline, PipelineSettings
from bot.store.memory import MemoryStore
from bot.summarize.extractive import ExtractiveSummarizer
from bot.topics.match import StoryMatcher

ROOT = Path(__file__).resolve().parent.parent
STORY = load_story(ROOT / "config" / "topics.toml")
SOURCE = Source(id="wire", name="Wire", url="https://wire.example/feed")
FEED = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>'
    b"<item><title>Zelensky meets NATO chief in Kyiv to discuss air defence</title>"
    b"<link>https://wire.example/1</link></item>"
    b"<item><title>Kremlin rejects the ceasefire plan for Ukraine's power grid</title>"
    b"<link>https://wire.example/2</link></item></channel></rss>"
)


class OneFeed:
    """A fetcher that serves one document."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    async def fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        return FetchResult(status=200, body=self.body, final_url=url)


class PausingStore(MemoryStore):
    """Holds the first classification until the test lets it go."""

    def __init__(self) -> None:
        super().__init__()
        self.paused = asyncio.Event()
        self.go_on = asyncio.Event()

    async def classify_item(
        self,
        item_id: int,
        *,
        on_story: bool,
        topics: Sequence[str],
        development_id: str | None,
        analysis: bool = False,
    ) -> None:
        self.paused.set()
        await self.go_on.wait()
        await super().classify_item(
            item_id,
            on_story=on_story,
            topics=topics,
            development_id=development_id,
            analysis=analysis,
        )


def _pipeline(
    store: MemoryStore,
    *,
    feed: bytes = FEED,
    embedder: Embedder | None = None,
    pair_model: PairModel | None = None,
) -> Pipeline:
    return Pipeline(
        store=store,
        fetcher=OneFeed(feed),
        clock=ManualClock(datetime(2026, 3, 1, tzinfo=UTC)),
        matcher=StoryMatcher(STORY),
        summarizer=ExtractiveSummarizer(),
        settings=PipelineSettings(pair_model=pair_model),
        embedder=embedder,
    )


# A same-event model that joins two reports only when their embeddings agree.
BY_MEANING = parse_pair_model(
    json.dumps(
        {
            "threshold": 0.5,
            "threshold_words_only": 0.5,
            "with_meaning": {"bias": -9.0, "weights": {"meaning": 10.0}},
            "words_only": {"bias": -9.0, "weights": {"words": 1.0}},
        }
    )
)


async def test_a_poll_cancelled_mid_ingest_still_finishes_its_items() -> None:
    store = PausingStore()
    await store.sync_sources([SOURCE])
    pipeline = _pipeline(store)
    poll = asyncio.create_task(pipeline.poll(SOURCE))
    await store.paused.wait()
    poll.cancel()  # what shutdown does
    with pytest.raises(asyncio.CancelledError):
        await poll
    store.go_on.set()
    await pipeline.drain()
    items = await store.story_items_since(datetime(2026, 1, 1, tzinfo=UTC))
    assert [i.title for i in items] == [
        "Kremlin rejects the ceasefire plan for Ukraine's power grid",
        "Zelensky meets NATO chief in Kyiv to discuss air defence",
    ]
    assert all(i.development_id for i in items)
    state = await store.get_poll_state(SOURCE.id)
    assert state.baselined and state.body_hash  # the poll's state was saved too


async def test_a_restart_relearns_the_word_statistics_and_the_window() -> None:
    store = MemoryStore()
    await store.sync_sources([SOURCE])
    first = _pipeline(store)
    await first.poll(SOURCE)
    assert first.clusterer.documents == 2
    again = _pipeline(store)  # the same store, a new process
    assert again.clusterer.documents == 0
    await again.start()
    assert again.clusterer.documents == 2
    # The window came back too: the same article from another feed joins its development.
    copy = Source(id="copy", name="Copy", url="https://copy.example/feed")
    await store.sync_sources([SOURCE, copy])
    await again.poll(copy)
    developments = await store.recent_developments(topic=None, since=None, limit=10)
    assert len(developments) == 2
    assert all(len(d.item_ids) == 2 for d in developments)


# --- sentence embeddings -----------------------------------------------------------------------

APPOINTMENT = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>'
    b"<item><title>Zelensky names spy chief Kovalenko to run his presidential office</title>"
    b"<link>https://wire.example/10</link></item>"
    b"<item><title>Ukraine's president taps military intelligence head as new chief of staff"
    b"</title><description>Volodymyr Zelensky picked the general to lead his office."
    b"</description>"
    b"<link>https://wire.example/11</link></item></channel></rss>"
)


class FakeEmbedder:
    """Gives every text the same vector, or each its own (``alike=False``); records its calls
    and whether they ran off the event loop's thread."""

    name = "fake"

    def __init__(self, *, alike: bool = True, fail: bool = False) -> None:
        self.alike = alike
        self.fail = fail
        self.texts: list[str] = []
        self.off_loop: list[bool] = []
        self._loop_thread = threading.get_ident()

    def embed(self, texts: Sequence[str]) -> list[tuple[float, ...]]:
        self.off_loop.append(threading.get_ident() != self._loop_thread)
        if self.fail:
            raise RuntimeError("the model crashed")
        out: list[tuple[float, ...]] = []
        for text in texts:
            self.texts.append(text)
            n = len(self.texts)
            out.append((1.0, 0.0) if self.alike else (math.cos(n), math.sin(n)))
        return out


async def _developments(embedder: FakeEmbedder | None) -> int:
    store = MemoryStore()
    await store.sync_sources([SOURCE])
    pipeline = _pipeline(store, feed=APPOINTMENT, embedder=embedder, pair_model=BY_MEANING)
    await pipeline.poll(SOURCE)
    return len(await store.recent_developments(topic=None, since=None, limit=10))


async def test_story_items_are_embedded_off_the_event_loop_and_meaning_joins_them() -> None:
    assert await _developments(None) == 2  # by words alone: two developments
    embedder = FakeEmbedder(alike=True)
    assert await _developments(embedder) == 1
    # Oldest first (the feed lists the newest first); the headline and the lede.
    assert embedder.texts == [
        "Ukraine's president taps military intelligence head as new chief of staff. "
        "Volodymyr Zelensky picked the general to lead his office.",
        "Zelensky names spy chief Kovalenko to run his presidential office",
    ]
    assert embedder.off_loop and all(embedder.off_loop)
    assert await _developments(FakeEmbedder(alike=False)) == 2


async def test_a_failing_embedder_loses_no_item() -> None:
    store = MemoryStore()
    await store.sync_sources([SOURCE])
    await _pipeline(store, feed=APPOINTMENT, embedder=FakeEmbedder(fail=True)).poll(SOURCE)
    items = await store.story_items_since(datetime(2026, 1, 1, tzinfo=UTC))
    assert len(items) == 2 and all(i.development_id for i in items)


async def test_a_restart_embeds_the_window_again() -> None:
    store = MemoryStore()
    await store.sync_sources([SOURCE])
    await _pipeline(store, feed=APPOINTMENT, embedder=FakeEmbedder()).poll(SOURCE)
    embedder = FakeEmbedder()
    await _pipeline(store, feed=APPOINTMENT, embedder=embedder).start()
    assert len(embedder.texts) == 2


# --- analysis pieces are kept, never alerted -----------------------------------------------------


def _rss(*items: tuple[str, str]) -> bytes:
    body = "".join(f"<item><title>{t}</title><link>{link}</link></item>" for t, link in items)
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>'
        f"{body}</channel></rss>"
    ).encode()


async def test_a_live_blog_is_stored_on_the_story_but_never_alerted() -> None:
    store = MemoryStore()
    await store.sync_sources([SOURCE])
    await store.subscribe(ChannelRef(platform="console", workspace="w", channel="c"), ["*"])
    clock = ManualClock(datetime(2026, 3, 1, tzinfo=UTC))
    baseline = _rss(("Weather: a mild week ahead", "https://wire.example/w"))
    live = _rss(
        ("Russia-Ukraine war live: drones hit Kyiv overnight", "https://wire.example/live/1"),
    )
    news = _rss(
        ("Russia-Ukraine war live: drones hit Kyiv overnight", "https://wire.example/live/1"),
        ("Zelensky names a new defence minister for Ukraine", "https://wire.example/2"),
    )
    pipeline = Pipeline(
        store=store,
        fetcher=Feeds(baseline, live, news),
        clock=clock,
        matcher=StoryMatcher(STORY),
        summarizer=ExtractiveSummarizer(),
        settings=PipelineSettings(),
    )
    await pipeline.poll(SOURCE)  # the backlog
    report = await pipeline.poll(SOURCE)
    assert report.story_items == 1 and report.alerts == 0
    (blog,) = await store.items_by_link("https://wire.example/live/1")
    assert blog.on_story and blog.development_id is not None
    report = await pipeline.poll(SOURCE)
    assert report.alerts == 1  # the news, not the blog


async def test_a_topic_gained_late_does_not_send_a_late_alert() -> None:
    store = MemoryStore()
    await store.sync_sources([SOURCE])
    desk = ChannelRef(platform="console", workspace="w", channel="map-room")
    await store.subscribe(desk, ["territory"])
    clock = ManualClock(datetime(2026, 3, 1, 8, tzinfo=UTC))
    first = ("Envoys meet in Geneva for Ukraine peace talks", "https://wire.example/a")
    later = (
        "Envoys in Geneva peace talks on Ukraine discuss Donbas territory and occupied land",
        "https://wire.example/b",
    )
    pipeline = Pipeline(
        store=store,
        fetcher=Feeds(_rss(), _rss(first), _rss(first, later)),
        clock=clock,
        matcher=StoryMatcher(STORY),
        summarizer=ExtractiveSummarizer(),
        settings=PipelineSettings(pair_model=JOINS_ALL),
    )
    await pipeline.poll(SOURCE)
    await pipeline.poll(SOURCE)
    clock.set(datetime(2026, 3, 1, 11, tzinfo=UTC))  # three hours on
    report = await pipeline.poll(SOURCE)
    assert report.story_items == 1
    (item,) = await store.items_by_link("https://wire.example/b")
    assert "territory" in item.topics
    development = await store.get_development(str(item.development_id))
    assert development is not None and "territory" not in development.topics
    assert await store.posts_for_development(desk, development.id) == []


# A same-event model that joins any two reports (the test is about topics, not joining).
JOINS_ALL = parse_pair_model(
    json.dumps(
        {
            "threshold": 0.5,
            "with_meaning": {"bias": 9.0, "weights": {}},
            "words_only": {"bias": 9.0, "weights": {}},
        }
    )
)


class Judge:
    """A second opinion that always says the same, and counts its calls."""

    def __init__(self, verdict: bool | None) -> None:
        self.verdict = verdict
        self.asked: list[tuple[str, list[str]]] = []

    async def same_event(
        self, new: tuple[str, str], known: Sequence[tuple[str, str]]
    ) -> bool | None:
        self.asked.append((new[0], [k[0] for k in known]))
        return self.verdict


# Two reports of a storyline: alike in words, and the model is unsure of them (p = 0.5 on its
# 0.5 threshold whatever they say).
STORYLINE = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>'
    b"<item><title>Kremlin denies Ukraine's account of the drone attack on the port</title>"
    b"<link>https://wire.example/b</link></item>"
    b"<item><title>Ukraine says a drone attack hit the port overnight</title>"
    b"<link>https://wire.example/a</link></item></channel></rss>"
)
UNSURE = parse_pair_model(
    json.dumps(
        {
            "threshold": 0.5,
            "threshold_words_only": 0.5,
            "with_meaning": {"bias": 0.0, "weights": {}},
            "words_only": {"bias": 0.0, "weights": {}},
        }
    )
)


@pytest.mark.parametrize(("verdict", "developments"), [(False, 2), (True, 1), (None, 1)])
async def test_an_unsure_pair_is_decided_by_the_second_opinion(
    verdict: bool | None, developments: int
) -> None:
    store = MemoryStore()
    await store.sync_sources([SOURCE])
    await store.save_poll_state(  # not the first poll: the items are news, not a backlog
        (await store.get_poll_state(SOURCE.id)).__class__(source_id=SOURCE.id, baselined=True)
    )
    judge = Judge(verdict)
    pipeline = Pipeline(
        store=store,
        fetcher=OneFeed(STORYLINE),
        clock=ManualClock(datetime(2026, 3, 1, tzinfo=UTC)),
        matcher=StoryMatcher(STORY),
        summarizer=ExtractiveSummarizer(),
        settings=PipelineSettings(pair_model=UNSURE),
        judge=judge,
    )
    await pipeline.start()
    await pipeline.poll(SOURCE)
    found = await store.recent_developments(topic=None, since=None, limit=10)
    assert len(found) == developments
    # Asked once, about the second report against the first; None keeps the model's join.
    assert judge.asked == [
        (
            "Kremlin denies Ukraine's account of the drone attack on the port",
            ["Ukraine says a drone attack hit the port overnight"],
        )
    ]
