"""The live briefing schedule: APScheduler jobs rebuilt from the channels' settings, at instants
the bot computes from its own clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import ManualClock
from bot.domain import Channel, ChannelMode, ChannelRef
from bot.scheduler import BriefingScheduler
from bot.services.briefings import Briefer
from bot.store.memory import MemoryStore

DESK = ChannelRef(platform="test", workspace="w", channel="desk")
ROOM = ChannelRef(platform="test", workspace="w", channel="room")


async def _nothing() -> None:
    return None


async def test_jobs_follow_the_channels_settings() -> None:
    store, clock = MemoryStore(), ManualClock(datetime(2026, 10, 24, 12, 0, tzinfo=UTC))
    await store.save_channel(Channel(ref=DESK, timezone="Europe/Kyiv", briefing_time="07:30"))
    await store.save_channel(Channel(ref=ROOM, mode=ChannelMode.BRIEFING))  # 08:00 UTC default
    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.start(paused=True)
    try:
        plan = BriefingScheduler(
            scheduler=scheduler,
            store=store,
            clock=clock,
            briefer=Briefer(store=store, clock=clock, topic_names={}),
            deliver=_nothing,
        )
        await plan.sync()
        desk = scheduler.get_job("briefing:" + DESK.key)
        room = scheduler.get_job("briefing:" + ROOM.key)
        assert desk is not None and room is not None
        # Sunday 25 October: Kyiv is back on UTC+2, so 07:30 is 05:30 UTC.
        assert desk.trigger.run_date == datetime(2026, 10, 25, 5, 30, tzinfo=UTC)
        assert room.trigger.run_date == datetime(2026, 10, 25, 8, 0, tzinfo=UTC)
        channel = await store.get_channel(DESK)
        assert channel is not None
        await store.save_channel(replace(channel, briefing_time=None))
        await store.save_channel(
            Channel(ref=ROOM, mode=ChannelMode.BRIEFING, briefing_time="06:15")
        )
        await plan.sync()
        assert scheduler.get_job("briefing:" + DESK.key) is None
        room = scheduler.get_job("briefing:" + ROOM.key)
        assert room is not None and room.trigger.run_date == datetime(
            2026, 10, 25, 6, 15, tzinfo=UTC
        )
    finally:
        scheduler.shutdown(wait=False)
