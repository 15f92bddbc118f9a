"""One contract for every ``Store``: each test runs against SQLite (a temporary file) and the
in-memory fake. SQLite-only behaviour (persistence, migrations, WAL) is at the end."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import aiosqlite
import pytest

from bot.domain import (
    Channel,
    ChannelMode,
    ChannelRef,
    ConfigError,
    Development,
    PollState,
    Post,
    PostKind,
    PostState,
    Source,
    StoreError,
)
from bot.ports import NewItem, Store
from bot.store import MemoryStore, SqliteStore, open_store
from bot.store.sqlite import load_migrations

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)

KYIV = Source(id="kyiv", name="Kyiv Independent", url="https://example.org/kyiv.rss", language="en")
TASS = Source(id="tass", name="TASS", url="https://example.org/tass.rss", language="ru")
WIRE = Source(id="wire", name="Wire", url="https://example.org/wire.atom")

GENERAL = ChannelRef(platform="slack", workspace="T1", channel="C-general")
DESK = ChannelRef(platform="discord", workspace="G9", channel="desk")
THREAD = ChannelRef(platform="slack", workspace="T1", channel="C-general", thread="1700.01")


AnyStore = SqliteStore | MemoryStore


@pytest.fixture(params=["sqlite", "memory"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AnyStore]:
    s: AnyStore
    if request.param == "sqlite":
        s = await SqliteStore.open(str(tmp_path / "data" / "bot.db"))
    else:
        s = MemoryStore()
    _port: Store = s  # mypy checks that both implement the port
    await s.sync_sources([KYIV, TASS, WIRE])
    yield s
    await s.close()


def new_item(
    guid: str,
    *,
    source: str = "kyiv",
    title: str = "Talks resume in Riyadh",
    summary: str = "Delegations met for a second day.",
    link: str | None = None,
    minutes: int = 0,
    baseline: bool = False,
) -> NewItem:
    return NewItem(
        source_id=source,
        guid=guid,
        link=link or f"https://example.org/{source}/{guid}",
        title=title,
        summary=summary,
        published=T0 + timedelta(minutes=minutes - 5),
        first_seen=T0 + timedelta(minutes=minutes),
        content_hash=f"hash-{guid}",
        language="en",
        baseline=baseline,
    )


def development(
    dev_id: str, *, minutes: int, topics: tuple[str, ...] = ("ceasefire",), items: tuple[int, ...]
) -> Development:
    return Development(
        id=dev_id,
        first_seen=T0 + timedelta(minutes=minutes),
        updated_at=T0 + timedelta(minutes=minutes + 1),
        title=f"Development {dev_id}",
        summary=f"What happened in {dev_id}.",
        topics=topics,
        item_ids=items,
        language="en",
    )


def post(key: str, *, channel: ChannelRef = GENERAL, dev: str | None = "d1", **kw: object) -> Post:
    fields: dict[str, object] = {
        "key": key,
        "channel": channel,
        "kind": PostKind.ALERT,
        "text": f"text of {key}",
        "created_at": T0,
        "development_id": dev,
    }
    fields.update(kw)
    return Post(**fields)  # type: ignore[arg-type]


# --- sources and poll state ------------------------------------------------------------------


async def test_sources_are_listed_in_configured_order_and_updated(store: AnyStore) -> None:
    assert await store.list_sources() == [KYIV, TASS, WIRE]

    renamed = Source(id="tass", name="TASS (EN)", url="https://example.org/tass-en.rss")
    await store.sync_sources([WIRE, renamed])

    assert await store.list_sources() == [WIRE, renamed]


async def test_dropped_source_keeps_its_items(store: AnyStore) -> None:
    item = await store.add_item(new_item("a1", title="Kremlin comments on envoy visit"))
    await store.sync_sources([TASS])

    assert await store.list_sources() == [TASS]
    kept = await store.get_item(item.id)
    assert kept is not None and kept.source_name == "Kyiv Independent"
    assert [i.id for i in await store.search_items("envoy")] == [item.id]

    await store.sync_sources([TASS, KYIV])
    assert await store.list_sources() == [TASS, KYIV]


async def test_poll_state_defaults_for_a_source_never_polled(store: AnyStore) -> None:
    assert await store.get_poll_state("kyiv") == PollState(source_id="kyiv")


async def test_poll_state_round_trip_keeps_every_field_as_aware_utc(store: AnyStore) -> None:
    kyiv_time = timezone(timedelta(hours=2))
    state = PollState(
        source_id="kyiv",
        etag='W/"abc"',
        last_modified="Sat, 01 Mar 2025 08:59:00 GMT",
        body_hash="sha256:00ff",
        last_poll_at=datetime(2025, 3, 1, 11, 0, 0, 123456, tzinfo=kyiv_time),
        last_ok_at=T0 - timedelta(minutes=5),
        next_poll_at=T0 + timedelta(minutes=10),
        failures=3,
        last_error="HTTP 503 from example.org",
        baselined=True,
        feed_language="uk",
    )
    await store.save_poll_state(state)

    got = await store.get_poll_state("kyiv")
    assert got == state
    assert got.last_poll_at is not None
    assert got.last_poll_at.utcoffset() == timedelta(0)
    assert got.last_poll_at == datetime(2025, 3, 1, 9, 0, 0, 123456, tzinfo=UTC)

    cleared = PollState(source_id="kyiv", failures=0, baselined=True)
    await store.save_poll_state(cleared)
    assert await store.get_poll_state("kyiv") == cleared
    assert await store.get_poll_state("tass") == PollState(source_id="tass")


def polled_state(source_id: str) -> PollState:
    """The state of a source polled a few times, the last time with an error."""
    return PollState(
        source_id=source_id,
        etag='"v7"',
        last_modified="Sat, 01 Mar 2025 08:59:00 GMT",
        body_hash="sha256:beef",
        last_poll_at=T0,
        last_ok_at=T0 - timedelta(minutes=30),
        next_poll_at=T0 + timedelta(minutes=15),
        failures=2,
        last_error="HTTP 502 from example.org",
        baselined=True,
        feed_language="ru",
    )


async def test_a_new_url_for_a_known_source_resets_its_poll_state(store: AnyStore) -> None:
    await store.save_poll_state(polled_state("tass"))
    await store.save_poll_state(polled_state("kyiv"))

    moved = Source(id="tass", name="TASS", url="https://example.org/tass-new.rss", language="ru")
    await store.sync_sources([KYIV, moved, WIRE])

    # Due now, no validators, and not baselined: its first poll is a fresh baseline.
    assert await store.get_poll_state("tass") == PollState(source_id="tass")
    assert await store.get_poll_state("kyiv") == polled_state("kyiv")
    assert await store.list_sources() == [KYIV, moved, WIRE]

    # The reset state is an ordinary one: saving and reading it back works as before.
    await store.save_poll_state(PollState(source_id="tass", etag='"n1"', baselined=True))
    await store.sync_sources([KYIV, moved, WIRE])
    assert await store.get_poll_state("tass") == PollState(
        source_id="tass", etag='"n1"', baselined=True
    )


async def test_renaming_a_source_keeps_its_poll_state(store: AnyStore) -> None:
    await store.save_poll_state(polled_state("tass"))
    renamed = Source(id="tass", name="TASS English", url=TASS.url, language="en")

    await store.sync_sources([renamed])
    assert await store.get_poll_state("tass") == polled_state("tass")

    # Dropped from the configuration and back at the same url: still the same feed.
    await store.sync_sources([KYIV])
    await store.sync_sources([KYIV, renamed])
    assert await store.get_poll_state("tass") == polled_state("tass")


async def test_poll_state_of_an_unknown_source_is_refused(store: AnyStore) -> None:
    with pytest.raises(StoreError):
        await store.save_poll_state(PollState(source_id="nowhere"))


# --- items -----------------------------------------------------------------------------------


async def test_add_item_assigns_ids_and_reads_back(store: AnyStore) -> None:
    first = await store.add_item(new_item("a1", baseline=True))
    second = await store.add_item(new_item("a2", source="tass", minutes=3))

    assert first.id != second.id
    assert first.source_name == "Kyiv Independent"
    assert first.baseline and not second.baseline
    assert first.first_seen == T0 and first.first_seen.tzinfo is not None
    assert await store.get_item(first.id) == first
    assert await store.get_item(second.id) == second
    assert await store.get_item(999_999) is None
    assert await store.get_items([second.id, 999_999, first.id]) == [second, first]
    assert await store.get_items([]) == []


async def test_known_entries_reports_only_stored_guids_of_that_source(store: AnyStore) -> None:
    a1 = await store.add_item(new_item("a1"))
    await store.add_item(new_item("a2"))
    await store.add_item(new_item("a1", source="tass"))

    known = await store.known_entries("kyiv", iter(["a1", "zz", "a2", "a1"]))

    assert set(known) == {"a1", "a2"}
    assert known["a1"].item_id == a1.id
    assert known["a1"].content_hash == "hash-a1"
    assert await store.known_entries("kyiv", []) == {}
    assert await store.known_entries("wire", ["a1"]) == {}


async def test_duplicate_source_and_guid_is_refused(store: AnyStore) -> None:
    await store.add_item(new_item("a1"))

    with pytest.raises(StoreError):
        await store.add_item(new_item("a1", title="Another title"))

    stored = await store.known_entries("kyiv", ["a1"])
    item = await store.get_item(stored["a1"].item_id)
    assert item is not None and item.title == "Talks resume in Riyadh"


async def test_item_of_an_unknown_source_is_refused(store: AnyStore) -> None:
    with pytest.raises(StoreError):
        await store.add_item(new_item("a1", source="nowhere"))


async def test_edit_item_changes_text_and_search_follows(store: AnyStore) -> None:
    item = await store.add_item(new_item("a1", title="Envoy lands in Istanbul"))
    edited_at = T0 + timedelta(hours=1)

    edited = await store.edit_item(
        item.id,
        title="Envoy lands in Ankara",
        summary="Corrected: the meeting is in Ankara.",
        content_hash="hash-2",
        edited_at=edited_at,
    )

    assert edited.title == "Envoy lands in Ankara"
    assert edited.content_hash == "hash-2"
    assert edited.edited_at == edited_at
    assert edited.first_seen == item.first_seen
    assert await store.get_item(item.id) == edited
    assert (await store.known_entries("kyiv", ["a1"]))["a1"].content_hash == "hash-2"
    assert [i.id for i in await store.search_items("Ankara")] == [item.id]
    assert await store.search_items("Istanbul") == []


async def test_edit_or_classify_of_an_unknown_item_is_refused(store: AnyStore) -> None:
    with pytest.raises(StoreError):
        await store.edit_item(42, title="t", summary="s", content_hash="h", edited_at=T0)
    with pytest.raises(StoreError):
        await store.classify_item(42, on_story=True, topics=(), development_id=None)


async def test_items_by_link_oldest_first(store: AnyStore) -> None:
    link = "https://example.org/story/1"
    later = await store.add_item(new_item("b", source="tass", link=link, minutes=10))
    earlier = await store.add_item(new_item("a", link=link, minutes=2))
    await store.add_item(new_item("c", link="https://example.org/story/2"))

    assert await store.items_by_link(link) == [earlier, later]
    assert await store.items_by_link("https://example.org/none") == []


async def test_classify_and_story_items_since(store: AnyStore) -> None:
    old = await store.add_item(new_item("old", minutes=-60))
    at_edge = await store.add_item(new_item("edge", minutes=0))
    newest = await store.add_item(new_item("new", minutes=30))
    off_story = await store.add_item(new_item("off", minutes=20))
    for item in (old, at_edge, newest):
        await store.classify_item(
            item.id, on_story=True, topics=("nato", "ceasefire"), development_id="d1"
        )
    await store.classify_item(off_story.id, on_story=False, topics=(), development_id=None)

    since = await store.story_items_since(T0)

    assert [i.id for i in since] == [at_edge.id, newest.id]
    assert since[0].on_story and since[0].topics == ("nato", "ceasefire")
    assert since[0].development_id == "d1"
    got = await store.get_item(off_story.id)
    assert got is not None and not got.on_story and got.development_id is None
    assert not since[0].analysis  # news unless the bot says otherwise


async def test_an_item_judged_a_piece_about_the_news_stays_so(store: AnyStore) -> None:
    item = await store.add_item(new_item("feature", minutes=5))
    await store.classify_item(
        item.id, on_story=True, topics=("fighting",), development_id="d9", analysis=True
    )
    (again,) = await store.story_items_since(T0)
    assert again.analysis and again.development_id == "d9"


async def test_recent_items_are_the_last_seen_oldest_first(store: AnyStore) -> None:
    early = await store.add_item(new_item("early", minutes=0))
    tie_a = await store.add_item(new_item("tie-a", source="tass", minutes=20))
    late = await store.add_item(new_item("late", minutes=30, baseline=True))
    tie_b = await store.add_item(new_item("tie-b", minutes=20))
    middle = await store.add_item(new_item("middle", source="wire", minutes=10))
    await store.classify_item(tie_a.id, on_story=True, topics=("nato",), development_id="d1")
    await store.classify_item(middle.id, on_story=False, topics=(), development_id=None)

    last_three = await store.recent_items(limit=3)

    assert [i.guid for i in last_three] == ["tie-a", "tie-b", "late"]
    assert last_three[0] == await store.get_item(tie_a.id)
    assert last_three[0].on_story and last_three[0].topics == ("nato",)
    assert [i.id for i in await store.recent_items(limit=10)] == [
        early.id,
        middle.id,
        tie_a.id,
        tie_b.id,
        late.id,
    ]
    # Of two items seen at the same time, the one stored later counts as seen later.
    assert [i.guid for i in await store.recent_items(limit=2)] == ["tie-b", "late"]
    assert [i.guid for i in await store.recent_items(limit=1)] == ["late"]
    assert await store.recent_items(limit=0) == []
    assert await store.recent_items(limit=-3) == []


async def test_recent_items_of_an_empty_store(store: AnyStore) -> None:
    assert await store.recent_items(limit=5) == []


async def test_recent_items_carry_the_current_source_name(store: AnyStore) -> None:
    await store.add_item(new_item("a", source="tass"))
    await store.sync_sources([Source(id="tass", name="TASS (EN)", url=TASS.url)])

    assert [i.source_name for i in await store.recent_items(limit=5)] == ["TASS (EN)"]


# --- search ----------------------------------------------------------------------------------


async def test_search_matches_all_words_and_prefixes(store: AnyStore) -> None:
    both = await store.add_item(
        new_item("a", title="NATO membership ruled out", summary="Envoy says Kyiv agreed.")
    )
    await store.add_item(new_item("b", title="NATO summit dates set", summary="In July."))
    await store.add_item(new_item("c", title="Grain exports rise", summary="Odesa ports busy."))

    assert [i.id for i in await store.search_items("nato kyiv")] == [both.id]
    assert [i.id for i in await store.search_items("member")] == [both.id]
    assert len(await store.search_items("NATO")) == 2
    assert await store.search_items("nato grain") == []


async def test_search_ranks_the_best_match_first_and_respects_limit(store: AnyStore) -> None:
    await store.add_item(
        new_item(
            "weak",
            title="Markets open higher",
            summary="Traders watched oil, grain and, briefly, ceasefire rumours from the region.",
        )
    )
    strong = await store.add_item(
        new_item("strong", title="Ceasefire agreed", summary="The ceasefire starts at midnight.")
    )

    found = await store.search_items("ceasefire")

    assert found[0].id == strong.id
    assert len(found) == 2
    assert len(await store.search_items("ceasefire", limit=1)) == 1


@pytest.mark.parametrize(
    "query",
    [
        'NATO"',
        "OR (",
        "AND",
        "NOT nato",
        "*",
        '"',
        "nato*",
        "title:nato",
        "a OR",
        "-",
        "^x",
        "NEAR(a b)",
    ],
)
async def test_search_accepts_hostile_input(store: AnyStore, query: str) -> None:
    await store.add_item(new_item("a", title="NATO and Kyiv", summary="Talks go on."))

    found = await store.search_items(query)

    assert all(item.title == "NATO and Kyiv" for item in found)


async def test_search_treats_operators_as_words(store: AnyStore) -> None:
    await store.add_item(new_item("a", title="Ukraine OR Russia", summary="A headline."))
    await store.add_item(new_item("b", title="Ukraine talks", summary="Nothing else."))

    assert len(await store.search_items('NATO" OR (')) == 0
    assert [i.guid for i in await store.search_items("Ukraine OR")] == ["a"]
    assert await store.search_items("   ") == []
    assert await store.search_items("!!! ???") == []


async def test_search_handles_cyrillic_text(store: AnyStore) -> None:
    item = await store.add_item(
        new_item(
            "a", source="tass", title="Переговоры в Стамбуле", summary="Делегации встретились."
        )
    )

    assert [i.id for i in await store.search_items("переговоры")] == [item.id]


# --- developments ----------------------------------------------------------------------------


async def test_development_round_trip_and_replace(store: AnyStore) -> None:
    a = await store.add_item(new_item("a"))
    b = await store.add_item(new_item("b", source="tass"))
    first = development("d1", minutes=0, topics=("nato", "ceasefire"), items=(b.id, a.id))
    await store.save_development(first)

    assert await store.get_development("d1") == first
    assert await store.get_development("nope") is None

    grown = Development(
        id="d1",
        first_seen=first.first_seen,
        updated_at=T0 + timedelta(hours=2),
        title="Ceasefire talks widen",
        summary="Now with more outlets.",
        topics=("ceasefire",),
        item_ids=(b.id, a.id, 77),
        language=None,
    )
    await store.save_development(grown)

    assert await store.get_development("d1") == grown
    assert await store.recent_developments(topic="nato", since=None, limit=10) == []
    assert await store.recent_developments(topic="ceasefire", since=None, limit=10) == [grown]


async def test_recent_developments_by_topic_since_and_limit(store: AnyStore) -> None:
    d1 = development("d1", minutes=0, topics=("nato",), items=())
    d2 = development("d2", minutes=10, topics=("territory", "nato"), items=())
    d3 = development("d3", minutes=20, topics=("territory",), items=())
    d4 = development("d4", minutes=30, topics=("sanctions",), items=())
    for d in (d3, d1, d4, d2):
        await store.save_development(d)

    assert await store.recent_developments(topic=None, since=None, limit=10) == [d4, d3, d2, d1]
    assert await store.recent_developments(topic="*", since=None, limit=2) == [d4, d3]
    assert await store.recent_developments(topic="nato", since=None, limit=10) == [d2, d1]
    assert await store.recent_developments(topic="territory", since=None, limit=1) == [d3]
    since = T0 + timedelta(minutes=10)
    assert await store.recent_developments(topic="nato", since=since, limit=10) == [d2]
    assert await store.recent_developments(topic=None, since=since, limit=10) == [d4, d3, d2]
    assert await store.recent_developments(topic="energy", since=None, limit=10) == []
    assert await store.recent_developments(topic=None, since=None, limit=0) == []


# --- channels and subscriptions --------------------------------------------------------------


async def test_channel_settings_round_trip(store: AnyStore) -> None:
    assert await store.get_channel(GENERAL) is None
    settings = Channel(
        ref=GENERAL,
        mode=ChannelMode.BRIEFING,
        timezone="Europe/Kyiv",
        briefing_time="07:30",
        paused=True,
    )
    await store.save_channel(settings)
    assert await store.get_channel(GENERAL) == settings

    resumed = Channel(ref=GENERAL, mode=ChannelMode.ALERTS, timezone="Europe/Kyiv")
    await store.save_channel(resumed)
    assert await store.get_channel(GENERAL) == resumed
    assert await store.get_channel(THREAD) is None


async def test_subscribe_is_idempotent_and_returns_only_new_topics(store: AnyStore) -> None:
    assert await store.subscribe(GENERAL, ["nato", "territory"]) == ["nato", "territory"]
    assert await store.subscribe(GENERAL, ["territory", "*", "energy", "*"]) == ["*", "energy"]
    assert await store.subscribe(GENERAL, ["nato"]) == []

    assert await store.subscriptions(GENERAL) == ["*", "energy", "nato", "territory"]
    assert await store.subscriptions(DESK) == []
    assert await store.get_channel(GENERAL) == Channel(ref=GENERAL)


async def test_subscribe_keeps_existing_channel_settings(store: AnyStore) -> None:
    settings = Channel(ref=DESK, mode=ChannelMode.BRIEFING, briefing_time="08:00")
    await store.save_channel(settings)

    await store.subscribe(DESK, ["nato"])

    assert await store.get_channel(DESK) == settings


async def test_unsubscribe_returns_only_what_existed(store: AnyStore) -> None:
    await store.subscribe(GENERAL, ["nato", "territory", "*"])

    assert await store.unsubscribe(GENERAL, ["nato", "energy", "nato"]) == ["nato"]
    assert await store.unsubscribe(DESK, ["nato"]) == []

    assert await store.subscriptions(GENERAL) == ["*", "territory"]


async def test_subscribers_of_topics(store: AnyStore) -> None:
    everything = ChannelRef(platform="console", workspace="local", channel="all")
    await store.subscribe(everything, ["*"])
    await store.subscribe(GENERAL, ["nato", "territory"])
    await store.subscribe(DESK, ["energy"])
    await store.subscribe(THREAD, ["*", "nato"])
    await store.save_channel(Channel(ref=GENERAL, paused=True))

    found = await store.subscribers(["territory", "sanctions", "nato"])

    assert [s.channel.ref.key for s in found] == sorted([everything.key, GENERAL.key, THREAD.key])
    by_key = {s.channel.ref.key: s for s in found}
    assert by_key[everything.key].topics == ("*",)
    assert by_key[GENERAL.key].topics == ("territory", "nato")
    assert by_key[GENERAL.key].channel.paused
    # Following ``*`` means the whole story, even next to a topic the development has.
    assert by_key[THREAD.key].topics == ("*",)

    only_star = await store.subscribers(["grain"])
    assert [s.channel.ref.key for s in only_star] == sorted([everything.key, THREAD.key])
    assert all(s.topics == ("*",) for s in only_star)


# --- outbox ----------------------------------------------------------------------------------


async def test_enqueue_is_idempotent_and_round_trips(store: AnyStore) -> None:
    full = post(
        "alert:1",
        channel=THREAD,
        kind=PostKind.UPDATE,
        developments=("d1", "d2"),
        topics=("nato",),
        sources=("https://example.org/a", "https://example.org/b"),
        edit_of="alert:0",
    )
    assert await store.enqueue(full) is True
    assert await store.enqueue(post("alert:1", text="a different text")) is False

    got = await store.get_post("alert:1")
    assert got is not None and got.id is not None
    assert got.text == "text of alert:1"
    assert got.channel == THREAD
    assert got.kind == PostKind.UPDATE
    assert (got.developments, got.topics, got.sources) == (
        full.developments,
        full.topics,
        full.sources,
    )
    assert got.edit_of == "alert:0"
    assert got.state == PostState.PENDING and got.attempts == 0
    assert got.created_at == T0
    assert await store.get_post("nope") is None
    assert await store.outbox_depth() == 1


async def test_due_posts_in_order_and_respecting_next_attempt(store: AnyStore) -> None:
    await store.enqueue(post("p1"))
    await store.enqueue(post("p2", next_attempt_at=T0 + timedelta(minutes=5)))
    await store.enqueue(post("p3", channel=DESK))

    assert [p.key for p in await store.due_posts(T0)] == ["p1", "p3"]
    assert [p.key for p in await store.due_posts(T0 + timedelta(minutes=5))] == ["p1", "p2", "p3"]
    assert [p.key for p in await store.due_posts(T0 + timedelta(hours=1), limit=2)] == [
        "p1",
        "p2",
    ]


async def test_mark_delivered(store: AnyStore) -> None:
    await store.enqueue(post("p1"))
    at = T0 + timedelta(seconds=3)

    await store.mark_delivered("p1", message_id="1700.55", at=at)

    got = await store.get_post("p1")
    assert got is not None
    assert got.state == PostState.DELIVERED
    assert got.platform_message_id == "1700.55"
    assert got.delivered_at == at
    assert await store.due_posts(T0 + timedelta(days=1)) == []
    assert await store.outbox_depth() == 0


async def test_failed_attempt_is_retried_later(store: AnyStore) -> None:
    await store.enqueue(post("p1"))
    retry_at = T0 + timedelta(minutes=2)

    await store.mark_attempt_failed("p1", error="rate limited", next_attempt_at=retry_at)

    got = await store.get_post("p1")
    assert got is not None
    assert got.state == PostState.PENDING
    assert got.attempts == 1
    assert got.last_error == "rate limited"
    assert got.next_attempt_at == retry_at
    assert await store.due_posts(T0 + timedelta(minutes=1)) == []
    assert [p.key for p in await store.due_posts(retry_at)] == ["p1"]
    assert await store.outbox_depth() == 1


async def test_failed_attempt_without_retry_gives_up(store: AnyStore) -> None:
    await store.enqueue(post("p1"))
    await store.mark_attempt_failed("p1", error="first", next_attempt_at=T0)

    await store.mark_attempt_failed("p1", error="channel_not_found", next_attempt_at=None)

    got = await store.get_post("p1")
    assert got is not None
    assert got.state == PostState.FAILED
    assert got.attempts == 2
    assert got.last_error == "channel_not_found"
    assert await store.due_posts(T0 + timedelta(days=1)) == []
    assert await store.outbox_depth() == 0


async def test_marking_an_unknown_post_is_refused(store: AnyStore) -> None:
    with pytest.raises(StoreError):
        await store.mark_delivered("ghost", message_id="1", at=T0)
    with pytest.raises(StoreError):
        await store.mark_attempt_failed("ghost", error="x", next_attempt_at=None)


async def test_posts_for_development(store: AnyStore) -> None:
    await store.enqueue(post("alert", dev="d1"))
    await store.enqueue(post("other-dev", dev="d2"))
    await store.enqueue(post("other-channel", channel=DESK, dev="d1"))
    await store.enqueue(post("update", dev="d1", kind=PostKind.UPDATE))
    await store.mark_delivered("alert", message_id="m1", at=T0)

    found = await store.posts_for_development(GENERAL, "d1")

    assert [p.key for p in found] == ["alert", "update"]
    assert found[0].platform_message_id == "m1"
    assert await store.posts_for_development(THREAD, "d1") == []


async def test_stats_counts(store: AnyStore) -> None:
    item = await store.add_item(new_item("a"))
    await store.save_development(development("d1", minutes=0, items=(item.id,)))
    await store.enqueue(post("p1"))
    await store.enqueue(post("p2"))
    await store.mark_delivered("p2", message_id="m", at=T0)

    stats = await store.stats()

    assert stats == {"sources": 3, "items": 1, "developments": 1, "pending_posts": 1}


async def test_concurrent_writes_all_land(store: AnyStore) -> None:
    async def write(n: int) -> None:
        item = await store.add_item(new_item(f"g{n}", minutes=n))
        await store.save_development(development(f"d{n}", minutes=n, items=(item.id,)))
        await store.subscribe(GENERAL, [f"topic{n % 5}"])

    await asyncio.gather(*(write(n) for n in range(40)))

    assert len(await store.known_entries("kyiv", [f"g{n}" for n in range(40)])) == 40
    assert len(await store.recent_developments(topic=None, since=None, limit=100)) == 40
    assert len(await store.subscriptions(GENERAL)) == 5


# --- SQLite only -----------------------------------------------------------------------------


async def test_sqlite_keeps_everything_across_reopen(tmp_path: Path) -> None:
    path = str(tmp_path / "bot.db")
    first = await SqliteStore.open(path)
    await first.sync_sources([KYIV, TASS])
    item = await first.add_item(new_item("a", title="Envoy meets negotiators"))
    await first.save_development(development("d1", minutes=0, items=(item.id,)))
    await first.subscribe(GENERAL, ["*"])
    await first.enqueue(post("p1"))
    await first.save_poll_state(PollState(source_id="kyiv", etag="e1", baselined=True))
    await first.close()

    again = await SqliteStore.open(path)
    try:
        assert await again.list_sources() == [KYIV, TASS]
        assert await again.get_item(item.id) == item
        assert [i.id for i in await again.search_items("negotiators")] == [item.id]
        dev = await again.get_development("d1")
        assert dev is not None and dev.item_ids == (item.id,)
        assert await again.subscriptions(GENERAL) == ["*"]
        assert [p.key for p in await again.due_posts(T0)] == ["p1"]
        assert (await again.get_poll_state("kyiv")).etag == "e1"
    finally:
        await again.close()


async def pragma(path: Path, name: str) -> object:
    async with aiosqlite.connect(path) as db:
        rows = list(await db.execute_fetchall(f"PRAGMA {name}"))
        return rows[0][0]


async def test_sqlite_migrations_set_user_version_and_wal(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    store = await SqliteStore.open(str(path))
    await store.close()

    latest = load_migrations()[-1][0]
    assert latest >= 1
    assert await pragma(path, "user_version") == latest
    assert await pragma(path, "journal_mode") == "wal"


async def test_sqlite_refuses_a_database_from_the_future(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    store = await SqliteStore.open(str(path))
    await store.close()
    future = load_migrations()[-1][0] + 5
    async with aiosqlite.connect(path) as db:
        await db.execute(f"PRAGMA user_version = {future}")
        await db.commit()

    with pytest.raises(StoreError, match=rf"schema version {future}.*newer briefbot"):
        await SqliteStore.open(str(path))


async def test_sqlite_in_memory_database_works() -> None:
    store = await SqliteStore.open(":memory:")
    try:
        await store.sync_sources([KYIV])
        item = await store.add_item(new_item("a"))
        assert await store.get_item(item.id) == item
    finally:
        await store.close()


async def test_sqlite_store_errors_after_close(tmp_path: Path) -> None:
    store = await SqliteStore.open(str(tmp_path / "bot.db"))
    await store.close()

    with pytest.raises(StoreError):
        await store.list_sources()
    with pytest.raises(StoreError):
        await store.enqueue(post("p1"))


# --- open_store ------------------------------------------------------------------------------


async def test_open_store_picks_the_implementation(tmp_path: Path) -> None:
    memory = await open_store("memory://")
    assert isinstance(memory, MemoryStore)
    await memory.close()

    path = tmp_path / "nested" / "dir" / "bot.db"
    sqlite = await open_store(str(path))
    assert isinstance(sqlite, SqliteStore)
    await sqlite.close()
    assert path.exists()


async def test_open_store_refuses_postgresql_for_now() -> None:
    with pytest.raises(ConfigError, match="PostgreSQL support is not built yet") as caught:
        await open_store("postgresql://bot:s3cret@db.example.org/briefbot")
    assert "s3cret" not in str(caught.value)
    assert "SQLite" in str(caught.value)


async def test_open_store_refuses_unknown_urls() -> None:
    with pytest.raises(ConfigError):
        await open_store("mysql://db.example.org/briefbot")


async def test_sqlite_failed_migration_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "bot.db"
    store = await SqliteStore.open(str(path))
    await store.close()
    current = load_migrations()
    broken = (
        current[-1][0] + 1,
        "9999_broken.sql",
        "CREATE TABLE half_done (a TEXT);\nINSERT INTO no_such_table VALUES (1);\n",
    )
    monkeypatch.setattr("bot.store.sqlite.load_migrations", lambda: [*current, broken])

    with pytest.raises(StoreError, match=r"9999_broken\.sql"):
        await SqliteStore.open(str(path))

    assert await pragma(path, "user_version") == current[-1][0]
    async with aiosqlite.connect(path) as db:
        tables = {r[0] for r in await db.execute_fetchall("SELECT name FROM sqlite_master")}
    assert "half_done" not in tables


async def test_pending_heads_take_the_first_posts_of_every_channel(store: AnyStore) -> None:
    for n in range(4):
        await store.enqueue(
            Post(key=f"g{n}", channel=GENERAL, kind=PostKind.ALERT, text=f"g{n}", created_at=T0)
        )
    await store.enqueue(Post(key="d0", channel=DESK, kind=PostKind.ALERT, text="d0", created_at=T0))
    heads = await store.pending_heads(per_channel=2, limit=10)
    assert [p.key for p in heads] == ["g0", "g1", "d0"]
    assert [p.key for p in await store.pending_heads(per_channel=2, limit=2)] == ["g0", "g1"]


async def test_channels_pause_and_resume_by_workspace_or_one_by_one(store: AnyStore) -> None:
    other = ChannelRef(platform="slack", workspace="T1", channel="C-other")
    elsewhere = ChannelRef(platform="slack", workspace="T2", channel="C-general")
    for ref in (GENERAL, other, elsewhere):
        await store.subscribe(ref, ["nato"])
    changed = await store.set_paused(
        platform="slack", workspace="T1", channel="C-general", reason="archived"
    )
    assert changed == [GENERAL]
    paused = await store.paused_channels()
    assert [(c.ref.key, c.pause_reason) for c in paused] == [(GENERAL.key, "archived")]
    changed = await store.set_paused(
        platform="slack", workspace="T1", channel=None, reason="app uninstalled"
    )
    assert changed == [other]  # the one already paused keeps its reason
    resumed = await store.set_paused(platform="slack", workspace="T1", channel=None, reason=None)
    assert resumed == [GENERAL, other]
    assert await store.paused_channels() == []
    assert await store.subscriptions(GENERAL) == ["nato"]  # subscriptions stay throughout


async def test_runtime_state_round_trips(store: AnyStore) -> None:
    assert await store.runtime() == {}
    await store.save_runtime("process", {"pid": 7, "running": True}, at=T0)
    await store.save_runtime("process", {"pid": 8, "running": False}, at=T0 + timedelta(1))
    state = (await store.runtime())["process"]
    assert dict(state.value) == {"pid": 8, "running": False}
    assert state.at == T0 + timedelta(1)


async def test_a_channels_pending_posts_include_its_threads_only(store: AnyStore) -> None:
    for n, ref in enumerate((GENERAL, THREAD, DESK, GENERAL)):
        await store.enqueue(
            Post(key=f"p{n}", channel=ref, kind=PostKind.ALERT, text="t", created_at=T0)
        )
    await store.mark_delivered("p3", message_id="m", at=T0)
    assert [p.key for p in await store.pending_for_channel(GENERAL)] == ["p0", "p1"]
    assert [p.key for p in await store.pending_for_channel(DESK)] == ["p2"]
