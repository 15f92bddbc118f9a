"""Answers from the store: scoped to the channel (also when asked in a thread), in its time zone,
since its last briefing by default; analysis pieces go under a briefing's further reading."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.clock import ManualClock
from bot.config import load_story
from bot.domain import Channel, ChannelRef, Development, Source
from bot.ports import NewItem
from bot.services.answers import Answerer
from bot.services.briefings import Briefer
from bot.services.schedule import BriefingDue
from bot.store.memory import MemoryStore

STORY = load_story(Path(__file__).resolve().parent.parent / "config" / "topics.toml")
NOW = datetime(2026, 2, 12, 18, 0, tzinfo=UTC)
DESK = ChannelRef(platform="slack", workspace="T1", channel="C1")


async def _store() -> MemoryStore:
    store = MemoryStore()
    await store.sync_sources([Source(id="w", name="The Wire", url="https://w.example/")])
    for n, (title, link, topic, hours_ago) in enumerate(
        [
            (
                "NATO ministers agree more air defence for Ukraine",
                "https://w.example/n",
                "nato",
                30,
            ),
            (
                "Sanctions package targets tankers of Russian oil",
                "https://w.example/s",
                "sanctions",
                3,
            ),
            (
                "Explainer: what a ceasefire line would mean",
                "https://w.example/explainer/x",
                "territory",
                2,
            ),
        ]
    ):
        at = NOW - timedelta(hours=hours_ago)
        item = await store.add_item(
            NewItem(
                source_id="w",
                guid=str(n),
                link=link,
                title=title,
                summary="",
                published=at,
                first_seen=at,
                content_hash=str(n),
                language="en",
                url=link,
            )
        )
        await store.save_development(
            Development(
                id=f"d{n}",
                first_seen=at,
                updated_at=at,
                title=title,
                summary="",
                topics=(topic,),
                item_ids=(item.id,),
            )
        )
    return store


async def test_a_question_in_a_thread_is_about_its_channel() -> None:
    store = await _store()
    await store.subscribe(DESK, ["sanctions"])
    answerer = Answerer(store=store, story=STORY, clock=ManualClock(NOW))
    thread = ChannelRef(platform="slack", workspace="T1", channel="C1", thread="1700.1")
    answer = await answerer.answer(thread, "what happened today?")
    assert answer.topics == ("sanctions",)
    assert [e.headline for e in answer.reply.entries] == [
        "Sanctions package targets tankers of Russian oil"
    ]


async def test_without_time_words_the_window_starts_at_the_last_briefing() -> None:
    store = await _store()
    await store.subscribe(DESK, ["*"])
    await store.save_channel(
        Channel(ref=DESK, timezone="Europe/Kyiv", last_briefing_at=NOW - timedelta(hours=48))
    )
    answerer = Answerer(store=store, story=STORY, clock=ManualClock(NOW))
    answer = await answerer.answer(DESK, "what's new on NATO?")
    # 30 hours old: outside a 24-hour window, inside the time since the last briefing.
    assert [e.development_id for e in answer.reply.entries] == ["d0"]


async def test_analysis_pieces_are_further_reading_not_developments() -> None:
    store = await _store()
    await store.subscribe(DESK, ["*"])
    channel = Channel(ref=DESK, subscribed_at=NOW - timedelta(hours=20))
    await store.save_channel(channel)
    briefer = Briefer(store=store, clock=ManualClock(NOW), topic_names={})
    owed = BriefingDue(local_date=NOW.date(), scheduled=NOW, late=False)
    assert await briefer.brief(channel, NOW, owed)
    post = await store.get_post(f"briefing:{DESK.key}:{NOW.date().isoformat()}")
    assert post is not None
    assert post.developments == ("d1",)
    assert "Further reading" in post.text and "https://w.example/explainer/x" in post.text
