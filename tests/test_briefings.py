"""Briefings and answers end to end: the replay's simulated days, the Briefer on a fake clock
across the autumn clock change, restarts, quiet hours, one briefing per channel and day."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.cli import main
from bot.clock import ManualClock
from bot.domain import Channel, ChannelRef, Development, Post, PostKind, Source
from bot.ports import NewItem
from bot.services.briefings import Briefer
from bot.services.outbox import Deliverer
from bot.store.memory import MemoryStore

CONFIG = Path(__file__).resolve().parent.parent / "config"
KYIV_TZ = "Europe/Kyiv"


def _items(tmp_path: Path) -> Path:
    """Three days of reports, written for this test: a NATO step each morning, a territory
    report each afternoon, and one off-story item."""
    lines = []
    nato = (
        "NATO ministers agree to send Patriot batteries to Ukraine",
        "NATO sets July summit in Ankara to discuss Ukraine aid",
        "Sweden to lead NATO air policing as Kyiv asks for more jets",
    )
    land = (
        "Kremlin restates demand for all of Donbas in talks",
        "Ukraine rejects ceding Donetsk territory under any draft plan",
        "Envoys sketch a demilitarised zone along the front line in Ukraine",
    )
    for day in range(3):
        base = datetime(2026, 2, 10 + day, tzinfo=UTC)
        lines.append(
            {
                "at": (base + timedelta(hours=9)).isoformat(),
                "source": "wire",
                "source_name": "The Wire",
                "link": f"https://wire.example/nato-{day}",
                "title": nato[day],
                "summary": "",
                "language": "en",
            }
        )
        lines.append(
            {
                "at": (base + timedelta(hours=15)).isoformat(),
                "source": "post",
                "source_name": "Daily Post",
                "link": f"https://post.example/donbas-{day}",
                "title": land[day],
                "summary": "",
                "language": "en",
            }
        )
    lines.append(
        {
            "at": "2026-02-11T12:00:00+00:00",
            "source": "post",
            "source_name": "Daily Post",
            "link": "https://post.example/storm",
            "title": "Storm closes ski resorts across the Alps",
            "language": "en",
        }
    )
    path = tmp_path / "items.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def _replay(tmp_path: Path, scenario: str) -> list[dict[str, Any]]:
    s = tmp_path / "s.toml"
    s.write_text(scenario)
    out = tmp_path / "posts.jsonl"
    args = ["replay", str(_items(tmp_path)), "--scenario", str(s), "--out", str(out)]
    code = main([*args, "--config", str(CONFIG)])
    assert code == 0
    return [json.loads(line) for line in out.read_text().splitlines()]


def test_replay_briefs_once_a_simulated_day_at_the_local_time(tmp_path: Path) -> None:
    posts = _replay(
        tmp_path,
        'start = "2026-02-10T00:00:00Z"\nend = "2026-02-13T00:00:00Z"\ntick = "30m"\n'
        '[[channels]]\nid = "desk"\ntopics = ["*"]\n'
        'briefing = "07:30 Europe/Kyiv"\n',
    )
    briefings = [p for p in posts if p["kind"] == "briefing"]
    # 07:30 in Kyiv is 05:30 UTC in February, once a day, at that exact instant.
    assert [b["at"] for b in briefings] == [
        "2026-02-10T05:30:00+00:00",
        "2026-02-11T05:30:00+00:00",
        "2026-02-12T05:30:00+00:00",
    ]
    alerts = {p["development"]: p for p in posts if p["kind"] == "alert"}
    # Each briefing covers what the channel's topics saw since the previous one.
    second = briefings[1]
    day_one = [d for d, p in alerts.items() if p["at"].startswith("2026-02-10")]
    assert set(second["developments"]) == set(day_one) and len(day_one) == 2
    assert briefings[0]["developments"] == []  # a quiet first morning: one short line
    assert len(briefings[0]["text"].splitlines()) <= 2
    assert "https://wire.example/nato-0" in second["sources"]
    assert "Storm" not in "".join(b["text"] for b in briefings)


def test_replay_answers_cite_only_the_asked_topic_within_the_asked_window(
    tmp_path: Path,
) -> None:
    posts = _replay(
        tmp_path,
        'start = "2026-02-10T00:00:00Z"\nend = "2026-02-13T00:00:00Z"\ntick = "30m"\n'
        '[[channels]]\nid = "desk"\ntopics = ["*"]\n'
        '[[ask]]\nat = "2026-02-12T18:00:00Z"\nchannel = "desk"\n'
        'text = "what\'s new on NATO since yesterday?"\n'
        '[[ask]]\nat = "2026-02-12T18:00:00Z"\nchannel = "desk"\ntext = "what\'s new on natto?"\n',
    )
    answers = [p for p in posts if p["kind"] == "answer"]
    assert len(answers) == 2
    nato = answers[0]
    assert nato["at"] == "2026-02-12T18:00:00+00:00" and nato["topics"] == ["nato"]
    assert nato["sources"] == ["https://wire.example/nato-2", "https://wire.example/nato-1"]
    assert "donbas" not in " ".join(nato["sources"])
    assert "Reading “natto” as nato" in answers[1]["text"]


DESK = ChannelRef(platform="test", workspace="w", channel="desk")


class Outlet:
    platform = "test"
    ready = True

    def __init__(self) -> None:
        self.sent: list[Post] = []

    async def send(self, post: Post, *, thread_id: str | None = None) -> str:
        self.sent.append(post)
        return str(len(self.sent))

    async def edit(self, post: Post, message_id: str) -> None:
        raise AssertionError("no edits here")


async def _setup(start: datetime, **settings: Any) -> tuple[MemoryStore, ManualClock]:
    store, clock = MemoryStore(), ManualClock(start)
    await store.subscribe(DESK, ["*"])
    await store.save_channel(
        Channel(
            ref=DESK,
            timezone=KYIV_TZ,
            briefing_time="07:30",
            subscribed_at=start,
            briefing_set_at=start,
            **settings,
        )
    )
    return store, clock


async def test_a_week_of_briefings_across_the_autumn_clock_change() -> None:
    # Sunday 25 October 2026: Kyiv goes from UTC+3 to UTC+2.
    store, clock = await _setup(datetime(2026, 10, 21, 12, 0, tzinfo=UTC))
    briefer = Briefer(store=store, clock=clock, topic_names={})
    sent: list[datetime] = []
    while clock.now() < datetime(2026, 10, 29, 0, 0, tzinfo=UTC):
        clock.advance(timedelta(minutes=15))
        if await briefer.due(clock.now()):
            sent.append(clock.now())
    assert sent == [
        datetime(2026, 10, 22, 4, 30, tzinfo=UTC),
        datetime(2026, 10, 23, 4, 30, tzinfo=UTC),
        datetime(2026, 10, 24, 4, 30, tzinfo=UTC),
        datetime(2026, 10, 25, 5, 30, tzinfo=UTC),  # after the change: 07:30 is UTC+2
        datetime(2026, 10, 26, 5, 30, tzinfo=UTC),
        datetime(2026, 10, 27, 5, 30, tzinfo=UTC),
        datetime(2026, 10, 28, 5, 30, tzinfo=UTC),
    ]


async def test_restarts_before_during_and_after_briefing_time_send_one_a_day() -> None:
    start = datetime(2026, 2, 10, 3, 0, tzinfo=UTC)  # 05:00 in Kyiv
    store, clock = await _setup(start)

    def briefer() -> Briefer:  # a fresh process each time: only the store remembers
        return Briefer(store=store, clock=clock, topic_names={})

    assert await briefer().due(clock.now()) == 0  # before: nothing owed
    clock.set(datetime(2026, 2, 10, 5, 30, tzinfo=UTC))
    assert await briefer().due(clock.now()) == 1  # at 07:30 local
    assert await briefer().due(clock.now()) == 0  # a restart during: not again
    clock.set(datetime(2026, 2, 10, 12, 0, tzinfo=UTC))
    assert await briefer().due(clock.now()) == 0  # after, same day: not again
    # The bot was down at the next briefing time and comes back the same local day: late.
    clock.set(datetime(2026, 2, 11, 9, 0, tzinfo=UTC))
    assert await briefer().due(clock.now()) == 1
    post = await store.get_post("briefing:test:w:desk:2026-02-11")
    assert post is not None and "late" in post.text.casefold()
    # Down through the whole next local day: that day's briefing is never sent the day after.
    clock.set(datetime(2026, 2, 13, 5, 0, tzinfo=UTC))
    assert await briefer().due(clock.now()) == 0
    assert await store.get_post("briefing:test:w:desk:2026-02-12") is None


async def test_quiet_hours_hold_alerts_and_the_briefing_folds_them_in() -> None:
    # Quiet 22:00-08:00 Kyiv; briefing 07:30.
    store, clock = await _setup(datetime(2026, 2, 9, 18, 0, tzinfo=UTC), quiet="22:00-08:00")
    await store.sync_sources([Source(id="wire", name="The Wire", url="https://wire.example/")])
    outlet = Outlet()
    deliverer = Deliverer(store=store, outlets={"test": outlet}, clock=clock)
    briefer = Briefer(store=store, clock=clock, topic_names={})
    clock.set(datetime(2026, 2, 10, 1, 0, tzinfo=UTC))  # 03:00 in Kyiv: quiet
    item = await store.add_item(
        NewItem(
            source_id="wire",
            guid="g",
            link="https://wire.example/1",
            title="Night strike on Kharkiv",
            summary="",
            published=None,
            first_seen=clock.now(),
            content_hash="h",
            language="en",
        )
    )
    await store.save_development(
        Development(
            id="dev-1",
            first_seen=clock.now(),
            updated_at=clock.now(),
            title="Night strike on Kharkiv",
            summary="A strike hit Kharkiv overnight.",
            topics=("fighting",),
            item_ids=(item.id,),
        )
    )
    alert = Post(
        key="alert:test:w:desk:dev-1",
        channel=DESK,
        kind=PostKind.ALERT,
        text="Night strike on Kharkiv",
        created_at=clock.now(),
        development_id="dev-1",
    )
    await store.enqueue(alert)
    assert await deliverer.deliver_due() == 0  # held
    clock.set(datetime(2026, 2, 10, 5, 30, tzinfo=UTC))  # 07:30: the briefing
    assert await briefer.due(clock.now()) == 1
    assert await deliverer.deliver_due() == 1
    clock.set(datetime(2026, 2, 10, 6, 30, tzinfo=UTC))  # quiet hours over
    assert await deliverer.deliver_due() == 0
    assert [p.kind for p in outlet.sent] == [PostKind.BRIEFING]
    assert "Night strike on Kharkiv" in outlet.sent[0].text
    held = await store.get_post(alert.key)
    assert held is not None and held.last_error == "folded into the briefing"


async def test_without_a_briefing_held_alerts_arrive_when_quiet_hours_end() -> None:
    store, clock = await _setup(datetime(2026, 2, 9, 18, 0, tzinfo=UTC), quiet="22:00-08:00")
    channel = await store.get_channel(DESK)
    assert channel is not None
    await store.save_channel(replace(channel, briefing_time=None))
    outlet = Outlet()
    deliverer = Deliverer(store=store, outlets={"test": outlet}, clock=clock)
    clock.set(datetime(2026, 2, 9, 22, 0, tzinfo=UTC))  # midnight in Kyiv
    await store.enqueue(
        Post(key="a1", channel=DESK, kind=PostKind.ALERT, text="x", created_at=clock.now())
    )
    assert await deliverer.deliver_due() == 0
    clock.set(datetime(2026, 2, 10, 6, 0, tzinfo=UTC))  # 08:00 in Kyiv, 8 hours later
    assert await deliverer.deliver_due() == 1
