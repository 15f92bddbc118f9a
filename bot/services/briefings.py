"""Morning briefings: one per channel and local day, at the channel's local time.

``Briefer.due(now)`` sends every briefing owed at ``now`` (the replay calls it at each briefing
instant, the live scheduler at each channel's next instant and once at start-up to catch up);
``Briefer.brief`` builds one from the store (``briefing.build_briefing``) and queues it under the
key channel + local date, so a briefing is never sent twice for one day, whatever restarts.
Alerts a channel's quiet hours held are folded into its briefing: they are not sent after it.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from bot.domain import STAR, Channel, ChannelMode, Development, Item, Post, PostKind, briefing_key
from bot.messages import BriefingSection, BriefingView, Entry
from bot.novelty.analysis import is_news
from bot.ports import Clock, Store
from bot.services.briefing import OTHER, Briefing, build_briefing, render_briefing_text
from bot.services.routing import language_listed
from bot.services.schedule import (
    BriefingDue,
    briefing_due,
    briefing_time_of,
    briefing_window,
    local_date,
)

log = logging.getLogger(__name__)

CANDIDATES = 500  # developments read per topic for one briefing


def briefing_view(b: Briefing, *, local: str) -> BriefingView:
    """The neutral message of a briefing, for every platform's renderer."""
    sections = tuple(
        BriefingSection(
            topic="" if s.topic_id == OTHER else s.topic_id,
            title=s.title,
            entries=tuple(
                Entry(
                    headline=e.headline,
                    summary=e.summary,
                    outlets=e.outlets,
                    links=e.links[: b.max_links],
                    topics=e.topics,
                    development_id=e.development_id,
                )
                for e in s.entries
            ),
        )
        for s in b.sections
    )
    reading = tuple(
        Entry(headline=r.title, outlets=(r.outlet,), links=(r.link,)) for r in b.further_reading
    )
    return BriefingView(
        title="Morning briefing",
        top_line=b.top_line,
        sections=sections,
        further_reading=reading,
        quiet=b.quiet,
        late=b.late,
        local_date=local,
    )


class Briefer:
    def __init__(
        self,
        *,
        store: Store,
        clock: Clock,
        topic_names: dict[str, str],
        languages: tuple[str, ...] = ("en",),
    ) -> None:
        self._store = store
        self._clock = clock
        self._names = topic_names
        self._languages = languages

    async def due(self, now: datetime) -> int:
        """Queue every briefing owed at ``now``; returns how many were queued."""
        queued = 0
        for channel in await self._store.briefing_channels():
            at = briefing_time_of(channel)
            if at is None or channel.paused:
                continue
            last = (
                datetime.strptime(channel.last_briefing_date, "%Y-%m-%d").date()
                if channel.last_briefing_date
                else None
            )
            owed = briefing_due(
                now, at, channel.timezone, last, configured_at=channel.briefing_set_at
            )
            if owed is not None and await self.brief(channel, now, owed):
                queued += 1
        return queued

    async def brief(self, channel: Channel, now: datetime, owed: BriefingDue) -> bool:
        ref = channel.ref
        local = owed.local_date.isoformat()
        key = briefing_key(ref, local)
        if await self._store.get_post(key) is not None:
            return False  # sent (or queued) for this local day already
        topics = await self._store.subscriptions(ref) or [STAR]
        since = briefing_window(channel.last_briefing_at, channel.subscribed_at or now, now)
        developments: dict[str, Development] = {}
        for topic in topics:
            for development in await self._store.recent_developments(
                topic=topic, since=since, limit=CANDIDATES
            ):
                developments.setdefault(development.id, development)
        items: dict[str, list[Item]] = {}
        alerted: list[Development] = []
        reading: list[Item] = []  # explainers, live blogs, opinion: never alerted
        for development in developments.values():
            found = await self._store.get_items(development.item_ids)
            if not found or found[0].baseline:
                continue  # the backlog of a source when it was added: never news
            if not any(language_listed(i.language, self._languages) for i in found):
                continue  # reported only in languages this deployment does not post in
            if not any(is_news(i.title, i.link) and not i.analysis for i in found):
                reading.extend(found)  # a piece about the news, not news: further reading
                continue
            items[development.id] = found
            alerted.append(development)
        b = build_briefing(
            alerted,
            items,
            topics,
            now,
            since,
            channel.timezone,
            further_reading=reading,
            topic_names=self._names,
            late=owed.late,
        )
        post = Post(
            key=key,
            channel=ref,
            kind=PostKind.BRIEFING,
            text=render_briefing_text(b),
            message=briefing_view(b, local=local),
            created_at=now,
            developments=b.development_ids,
            topics=b.topics,
            sources=b.links,
        )
        if not await self._store.enqueue(post):
            return False
        await self._store.save_channel(
            replace(channel, last_briefing_at=now, last_briefing_date=local)
        )
        await self._fold_held(channel, set(b.development_ids))
        log.info("briefing for %s (%s) queued%s", ref.key, local, " late" if owed.late else "")
        return True

    async def _fold_held(self, channel: Channel, covered: set[str]) -> None:
        """Alerts held by quiet hours whose development the briefing covers are not sent after
        it: the briefing told them."""
        for post in await self._store.pending_for_channel(channel.ref):
            if post.kind not in (PostKind.ALERT, PostKind.UPDATE):
                continue
            if post.edit_of is None and post.development_id in covered:
                await self._store.mark_attempt_failed(
                    post.key, error="folded into the briefing", next_attempt_at=None
                )


def is_briefing_only(channel: Channel) -> bool:
    return channel.mode is ChannelMode.BRIEFING


__all__ = ["Briefer", "briefing_view", "is_briefing_only", "local_date"]
