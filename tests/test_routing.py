"""Alerts, the one update, quiet edits and languages, driven through the replay machinery (real
RSS documents, the real parse path, a real SQLite file) with a recording outlet."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.clock import ManualClock
from bot.config import load_story
from bot.domain import ChannelMode, Post, PostKind
from bot.replay import ReplayChannel, ReplayItem, Scenario, replay_ref, run_timeline
from bot.services.pipeline import PipelineSettings
from bot.services.routing import grew_materially
from bot.store.sqlite import SqliteStore
from bot.summarize.extractive import ExtractiveSummarizer

ROOT = Path(__file__).resolve().parent.parent
STORY = load_story(ROOT / "config" / "topics.toml")
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


class RecordingOutlet:
    """The replay platform, remembering sends and edits with the clock's time."""

    platform = "replay"

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.sent: list[tuple[datetime, Post]] = []
        self.edits: list[tuple[datetime, str, Post]] = []

    ready = True

    async def send(self, post: Post, *, thread_id: str | None = None) -> str:
        self.sent.append((self.clock.now(), post))
        return f"m{len(self.sent)}"

    async def edit(self, post: Post, message_id: str) -> None:
        self.edits.append((self.clock.now(), message_id, post))


def item(
    minutes: int,
    source: str,
    title: str,
    summary: str = "",
    *,
    guid: str | None = None,
    language: str = "en",
) -> ReplayItem:
    link = f"https://{source}.example/{guid or abs(hash(title)) % 10_000}"
    return ReplayItem(
        at=T0 + timedelta(minutes=minutes),
        source=source,
        source_name=source.title(),
        source_url=f"https://{source}.example/feed",
        link=link,
        guid=guid or link,
        title=title,
        summary=summary,
        published=None,
        language=language,
    )


async def replay(
    tmp_path: Path,
    items: list[ReplayItem],
    *,
    languages: tuple[str, ...] = ("en",),
    channels: tuple[ReplayChannel, ...] | None = None,
) -> RecordingOutlet:
    scenario = Scenario(
        start=T0 - timedelta(minutes=10),
        end=T0 + timedelta(hours=12),
        tick=timedelta(minutes=10),
        channels=channels or (ReplayChannel(id="all", topics=("*",)),),
    )
    outlets: list[RecordingOutlet] = []

    def make(clock: ManualClock) -> RecordingOutlet:
        outlets.append(RecordingOutlet(clock))
        return outlets[0]

    store = await SqliteStore.open(str(tmp_path / "routing.db"))
    try:
        await run_timeline(
            items=sorted(items, key=lambda i: i.at),
            scenario=scenario,
            story=STORY,
            store=store,
            summarizer=ExtractiveSummarizer(),
            settings=PipelineSettings(languages=languages),
            outlet_factory=make,
        )
    finally:
        await store.close()
    return outlets[0]


TOLL = "Russian missile strike on Kharkiv apartment block kills {n}, Ukrainian officials say"
TOLL_LEDE = (
    "Missiles hit a nine-storey residential building in central Kharkiv overnight, "
    "regional governor Oleh Syniehubov said; {n} people were killed."
)


async def test_more_coverage_makes_one_update_never_a_stream(tmp_path: Path) -> None:
    stream = [
        item(
            0,
            "wire",
            "Kremlin envoy Dmitriev flies to Miami for talks with Witkoff on Ukraine",
            "Kirill Dmitriev will meet US envoy Steve Witkoff in Miami to discuss the Ukraine "
            "peace plan, the Kremlin said.",
        ),
        item(
            30,
            "daily",
            "Dmitriev heads to Miami to meet Witkoff over Ukraine peace plan",
            "Russia's Kirill Dmitriev is travelling to Miami for talks with Steve Witkoff on "
            "the plan to end the war in Ukraine.",
        ),
        item(
            50,
            "post",
            "Putin envoy Dmitriev to hold Miami talks with Witkoff on Ukraine plan",
            "Kirill Dmitriev and Steve Witkoff will discuss the Ukraine peace plan in Miami.",
        ),
        item(
            400,
            "herald",
            "Dmitriev arrives in Miami for Witkoff talks on Ukraine peace plan",
            "Kirill Dmitriev landed in Miami for talks with Steve Witkoff on the Ukraine plan.",
        ),
    ]
    outlet = await replay(tmp_path, stream)
    kinds = [post.kind for _, post in outlet.sent]
    assert kinds == [PostKind.ALERT, PostKind.UPDATE]
    (alert_at, alert), (update_at, update) = outlet.sent
    assert alert_at == T0
    assert "(1 outlet so far)" in alert.text
    assert update.development_id == alert.development_id
    assert update.text.startswith("Update: ")
    assert "Now reported by Wire, Daily and Post (3 outlets)" in update.text
    assert "Kremlin said" not in update.text  # the summary was in the alert already
    assert len(update.sources) == 3
    assert update.sources[0].startswith("https://post.example/")  # the newest report first
    assert update.text.index("post.example") < update.text.index("wire.example")
    # It waited for the coverage to settle, and a fourth outlet hours later made no second one.
    assert update_at >= T0 + timedelta(minutes=50)
    assert update_at < T0 + timedelta(minutes=400)


async def test_an_edited_entry_edits_the_alert_quietly(tmp_path: Path) -> None:
    stream = [
        item(0, "wire", TOLL.format(n=2), TOLL_LEDE.format(n=2), guid="kharkiv"),
        item(60, "wire", TOLL.format(n=6), TOLL_LEDE.format(n=6), guid="kharkiv"),
    ]
    outlet = await replay(tmp_path, stream)
    assert [post.kind for _, post in outlet.sent] == [PostKind.ALERT]
    assert "kills 2" in outlet.sent[0][1].text
    assert len(outlet.edits) == 1
    at, message_id, edit = outlet.edits[0]
    assert message_id == "m1"
    assert "kills 6" in edit.text and "6 people were killed" in edit.text
    assert at == T0 + timedelta(minutes=60)


async def test_a_re_served_entry_is_never_posted_again(tmp_path: Path) -> None:
    same = item(0, "wire", TOLL.format(n=2), TOLL_LEDE.format(n=2), guid="kharkiv")
    outlet = await replay(tmp_path, [same])  # served at every one of 73 polls
    assert len(outlet.sent) == 1 and outlet.edits == []


async def test_other_languages_join_as_coverage_and_post_where_listed(tmp_path: Path) -> None:
    stream = [
        item(
            0,
            "gazeta",
            "Zełenski mianował Budanowa szefem Biura Prezydenta Ukrainy",
            "Kyryło Budanow, 39 lat, dotąd szef wywiadu wojskowego, zastąpi Andrija Jermaka.",
            language="pl",
        ),
        item(
            20,
            "wire",
            "Zelensky names spy chief Budanov head of Ukraine's presidential office",
            "Kyrylo Budanov, 39, the head of military intelligence, replaces Andriy Yermak.",
            language="en",
        ),
    ]
    (tmp_path / "en").mkdir()
    english_only = await replay(tmp_path / "en", stream)
    # The Polish report alone is not posted in an English deployment; the English one is, with
    # the Polish one counted as coverage.
    first_at, first_post = english_only.sent[0]
    assert (first_at - T0, first_post.kind) == (timedelta(minutes=20), PostKind.ALERT)
    alert = english_only.sent[0][1]
    assert alert.text.splitlines()[0].startswith("Zelensky names spy chief Budanov")
    assert len(alert.sources) == 2
    (tmp_path / "all").mkdir()
    both = await replay(tmp_path / "all", stream, languages=("en", "pl"))
    first_at, first = both.sent[0]
    assert first_at == T0 and first.kind is PostKind.ALERT
    assert "Zełenski mianował Budanowa" in first.text


async def test_topic_channels_get_only_their_topics(tmp_path: Path) -> None:
    stream = [
        item(
            0,
            "wire",
            "NATO allies agree to send more air defence systems to Ukraine",
            "Alliance defence ministers pledged Patriot batteries for Kyiv.",
        ),
        item(
            30,
            "daily",
            "EU adopts a new package of sanctions against Russian oil exports",
            "The bloc's 20th package targets the shadow fleet tankers carrying Russian oil.",
        ),
    ]
    channels = (
        ReplayChannel(id="nato-desk", topics=("nato",)),
        ReplayChannel(id="money", topics=("sanctions",)),
        ReplayChannel(id="quiet", topics=("*",), mode=ChannelMode.BRIEFING),
    )
    outlet = await replay(tmp_path, stream, channels=channels)
    alerts = [p for _, p in outlet.sent if p.kind is not PostKind.BRIEFING]
    by_channel = {(p.channel.channel, p.text.splitlines()[0]) for p in alerts}
    assert by_channel == {
        ("nato-desk", "NATO allies agree to send more air defence systems to Ukraine"),
        ("money", "EU adopts a new package of sanctions against Russian oil exports"),
    }
    assert all(p.channel != replay_ref("quiet") for p in alerts)  # briefings only there


def test_material_growth() -> None:
    def items(*sources: str, language: str = "en") -> list[ReplayItem]:
        return [item(0, s, f"t{n}", language=language) for n, s in enumerate(sources)]

    from bot.domain import Item

    def as_items(replayed: list[ReplayItem]) -> list[Item]:
        return [
            Item(
                id=n,
                source_id=r.source,
                source_name=r.source,
                guid=r.guid,
                link=r.link,
                title=r.title,
                summary="",
                published=None,
                first_seen=T0,
                content_hash="h",
                language=r.language,
            )
            for n, r in enumerate(replayed)
        ]

    one = as_items(items("a"))
    assert grew_materially(one, as_items(items("a", "b")))  # a first confirmation
    assert not grew_materially(one, as_items(items("a", "a")))  # the same outlet again
    three = as_items(items("a", "b", "c"))
    assert not grew_materially(three, as_items(items("a", "b", "c", "d")))
    assert grew_materially(three, as_items(items("a", "b", "c", "d", "e", "f")))
    assert grew_materially(three, [*three, *as_items(items("g", language="de"))])
    # A second feed of the same outlet (its Europe feed after its world feed) confirms nothing.
    world = as_items(items("bbc-world"))
    europe = [replace(i, id=9, source_id="bbc-europe") for i in world]
    assert not grew_materially(world, [*world, *europe])


async def test_an_entry_that_flips_back_and_forth_is_edited_each_time(tmp_path: Path) -> None:
    stream = [
        item(m, "wire", TOLL.format(n=n), TOLL_LEDE.format(n=n), guid="kharkiv")
        for m, n in ((0, 2), (60, 6), (120, 2), (180, 6))
    ]
    outlet = await replay(tmp_path, stream)
    assert len(outlet.sent) == 1
    shown = ["kills 6" in e.text for _, _, e in outlet.edits]
    assert shown == [True, False, True]
