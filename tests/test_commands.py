from datetime import UTC, datetime

import pytest

from bot.clock import ManualClock
from bot.domain import ChannelRef, Development, Source, Story, Topic
from bot.ports import NewItem
from bot.services.commands import COMMANDS, CommandService, parse_command
from bot.store.memory import MemoryStore

NOW = datetime(2026, 2, 10, 12, 0, tzinfo=UTC)
STORY = Story(
    id="talks",
    name="Peace talks",
    description="The talks",
    terms=("ukraine",),
    topics=(
        Topic(
            id="negotiations",
            name="Negotiations",
            description="Envoys and drafts",
            aliases=("peace talks",),
        ),
        Topic(id="territory", name="Territory", description="Land and lines", aliases=("donbas",)),
        Topic(id="nato", name="NATO", description="The alliance", aliases=("alliance",)),
    ),
)
DESK = ChannelRef(platform="console", workspace="local", channel="desk")


@pytest.mark.parametrize(
    ("text", "verb", "args"),
    [
        ("subscribe nato territory", "subscribe", ("nato", "territory")),
        ("  SUBSCRIBE   *  ", "subscribe", ("*",)),
        ("/brief unsubscribe nato", "unsubscribe", ("nato",)),
        ("@briefbot whatsnew nato", "whatsnew", ("nato",)),
        ("<@U0BOT> topics", "topics", ()),
        ("what's new on NATO?", "whatsnew", ("NATO",)),
        ("whats new", "whatsnew", ()),
        ("sub nato", "subscribe", ("nato",)),
        ("sources", "sources", ()),
    ],
)
def test_parse_commands(text: str, verb: str, args: tuple[str, ...]) -> None:
    command = parse_command(text)
    assert (command.verb, command.args) == (verb, args)


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "   ",
        "asdfgh",
        "\x00\x01\x02",
        "🙂🙂",
        "<script>alert(1)</script>",
        "x" * 100_000,
        "subscribe" + " nato" * 1000,
        "\u202e evil",
    ],
)
def test_garbage_never_raises_and_unknown_becomes_help(garbage: str) -> None:
    command = parse_command(garbage)
    assert command.verb in ("help", "subscribe")
    assert len(command.args) <= 20


async def _service() -> tuple[CommandService, MemoryStore]:
    store = MemoryStore()
    return CommandService(store=store, story=STORY, clock=ManualClock(NOW)), store


async def test_help_and_unknown_input() -> None:
    service, _ = await _service()
    help_text = await service.handle(DESK, "help")
    for spec in COMMANDS:
        assert spec.usage in help_text and spec.summary in help_text
    assert "quit" in help_text  # the console can be left
    reply = await service.handle(DESK, "make me a sandwich")
    assert "I don't know the command" in reply and "subscribe <topic" in reply


async def test_unknown_command_text_cannot_ping() -> None:
    service, _ = await _service()
    reply = await service.handle(DESK, "@everyone <!channel>")
    assert "@everyone" not in reply and "<!channel>" not in reply


async def test_topics_lists_every_topic_with_its_description() -> None:
    service, _ = await _service()
    reply = await service.handle(DESK, "topics")
    for topic in STORY.topics:
        assert topic.id in reply and topic.description in reply


async def test_subscribe_unsubscribe_round_trip() -> None:
    service, store = await _service()
    assert (await service.handle(DESK, "subscriptions")).startswith("This channel follows nothing")
    assert "Subscribed to nato, territory." in await service.handle(
        DESK, "subscribe nato territory"
    )
    assert "Already following nato." in await service.handle(DESK, "subscribe nato")
    assert await store.subscriptions(DESK) == ["nato", "territory"]
    assert "Unsubscribed from nato." in await service.handle(DESK, "unsubscribe nato")
    assert "Was not following nato." in await service.handle(DESK, "unsubscribe nato")
    assert "follows: territory" in await service.handle(DESK, "subscriptions")


async def test_subscribe_star_and_alias() -> None:
    service, store = await _service()
    await service.handle(DESK, "subscribe * donbas")
    assert await store.subscriptions(DESK) == ["*", "territory"]


async def test_unknown_topic_gets_the_list_and_the_closest_match() -> None:
    service, store = await _service()
    reply = await service.handle(DESK, "subscribe terittory")
    assert "Unknown topic “terittory”" in reply
    assert "Did you mean territory?" in reply
    assert "negotiations, territory, nato" in reply
    assert await store.subscriptions(DESK) == []


async def test_subscribe_without_topics_explains_usage() -> None:
    service, _ = await _service()
    reply = await service.handle(DESK, "subscribe")
    assert "Usage: subscribe <topic…|*>" in reply


async def test_whatsnew_lists_developments_newest_first_with_links() -> None:
    service, store = await _service()
    await store.sync_sources([Source(id="kw", name="Kyiv Wire", url="https://kw.example/rss")])
    for n, (title, topic, hour) in enumerate(
        [
            ("Envoy flies to Moscow", "negotiations", 8),
            ("Allies debate Donbas line", "territory", 9),
            ("Second round of talks set", "negotiations", 10),
        ]
    ):
        at = NOW.replace(hour=hour)
        item = await store.add_item(
            NewItem(
                source_id="kw",
                guid=f"g{n}",
                link=f"https://kw.example/{n}",
                title=title,
                summary="",
                published=at,
                first_seen=at,
                content_hash=f"h{n}",
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
    reply = await service.handle(DESK, "whatsnew negotiations")
    assert reply.index("Second round of talks set") < reply.index("Envoy flies to Moscow")
    assert "Allies debate Donbas line" not in reply
    assert "https://kw.example/2" in reply and "Kyiv Wire" in reply
    everything = await service.handle(DESK, "what's new")
    assert "Allies debate Donbas line" in everything


async def test_whatsnew_on_a_quiet_topic() -> None:
    service, _ = await _service()
    assert "Nothing on nato yet" in await service.handle(DESK, "whatsnew nato")


async def test_sources_shows_health() -> None:
    service, store = await _service()
    await store.sync_sources([Source(id="kw", name="Kyiv Wire", url="https://kw.example/rss")])
    reply = await service.handle(DESK, "sources")
    assert "kw" in reply and "Kyiv Wire" in reply and "not polled yet" in reply


async def test_a_topic_can_be_named_in_several_words() -> None:
    story = Story(
        id="talks",
        name="Talks",
        description="",
        terms=("ukraine",),
        topics=(
            Topic(id="security-guarantees", name="Security guarantees", description="d"),
            Topic(id="kyiv-politics", name="Politics in Kyiv", description="d"),
            Topic(id="nato", name="NATO", description="d"),
        ),
    )
    store = MemoryStore()
    service = CommandService(store=store, story=story, clock=ManualClock(NOW))
    reply = await service.handle(DESK, "subscribe security guarantees Politics in Kyiv NATO")
    assert reply == "Subscribed to security-guarantees, kyiv-politics, nato."
    assert "Nothing on kyiv-politics yet" in await service.handle(
        DESK, "what's new on politics in Kyiv?"
    )
    await service.handle(DESK, "subscribe ALL")
    assert "*" in await store.subscriptions(DESK)
