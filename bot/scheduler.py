"""Live-mode briefing schedule on APScheduler 3 (``AsyncIOScheduler``).

The schedule lives in the bot's tables (each channel's briefing time and zone); nothing is
pickled. At start and after every polling round the jobs are rebuilt from the store: one
``DateTrigger`` job per briefing channel, at the instant the bot computed itself from its injected
clock (``schedule.next_run_date``), since APScheduler reads the wall clock on its own. When a job
fires it runs ``Briefer.due`` (which decides, idempotently, what is owed) and delivers. Replays
and tests never use this module: they call ``Briefer.due`` on simulated time.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger

from bot.ports import Clock, Store
from bot.services.briefings import Briefer
from bot.services.schedule import briefing_time_of, next_run_date

log = logging.getLogger(__name__)

PREFIX = "briefing:"


class BriefingScheduler:
    def __init__(
        self,
        *,
        scheduler: AsyncIOScheduler,
        store: Store,
        clock: Clock,
        briefer: Briefer,
        deliver: Callable[[], Awaitable[object]],
    ) -> None:
        self._scheduler = scheduler
        self._store = store
        self._clock = clock
        self._briefer = briefer
        self._deliver = deliver
        self._planned: dict[str, str] = {}  # job id -> the instant it runs at (ISO)

    async def sync(self) -> None:
        """Make the jobs match the channels' settings: add, move or drop them."""
        now = self._clock.now()
        wanted: dict[str, str] = {}
        for channel in await self._store.briefing_channels():
            at = briefing_time_of(channel)
            if at is None or channel.paused:
                continue
            job_id = PREFIX + channel.ref.key
            run_at = next_run_date(now, at, channel.timezone)
            wanted[job_id] = run_at.isoformat()
            if self._planned.get(job_id) != wanted[job_id]:
                self._scheduler.add_job(
                    self._fire,
                    DateTrigger(run_date=run_at),
                    id=job_id,
                    replace_existing=True,
                    misfire_grace_time=None,  # late is still owed: Briefer.due decides
                    coalesce=True,
                )
        for job_id in set(self._planned) - set(wanted):
            if self._scheduler.get_job(job_id) is not None:
                self._scheduler.remove_job(job_id)
        self._planned = wanted

    @property
    def planned(self) -> dict[str, str]:
        return dict(self._planned)

    async def _fire(self) -> None:
        try:
            await self._briefer.due(self._clock.now())
            await self._deliver()
        except Exception:  # a failed briefing must not stop the schedule
            log.exception("briefing run failed")
        self._planned.clear()  # every fired job is gone: plan again
        await self.sync()
