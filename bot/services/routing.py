"""Who hears about a development, and when: alerts, at most one update, quiet edits.

- **Alert**: the first post about a development in a channel that follows one of its topics (or
  ``*``), once it holds an item in a language the deployment posts in.
- **Update**: at most one per channel, when coverage grew materially since the alert (a first
  confirmation by a second outlet, twice as many outlets, or a first report in another language),
  sent once coverage has settled (no new report for four hours, or 18 hours after the alert at
  the latest), so that it carries the coverage rather than a stream of it.
- **Quiet edit**: when an entry shown in an alert is edited at its source (a toll rises, a
  headline is corrected), the alert's message is edited in place: no new message.

The summary is made once per development and reused for every channel.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.domain import (
    STAR,
    ChannelMode,
    Development,
    Item,
    Post,
    PostKind,
    alert_key,
    edit_key,
    update_key,
)
from bot.messages import AlertView
from bot.novelty.analysis import is_news
from bot.ports import Store, Subscriber, Summarizer, SummaryInput
from bot.services.render import render_alert_text
from bot.topics.language import primary_subtag


@dataclass(frozen=True, slots=True, kw_only=True)
class RoutingSettings:
    languages: tuple[str, ...] = ("en",)
    summary_max_chars: int = 400
    max_links: int = 3
    update_quiet: timedelta = timedelta(minutes=240)  # no new coverage for this long
    update_latest: timedelta = timedelta(hours=18)  # or this long after the alert at the latest
    update_window: timedelta = timedelta(hours=36)  # no update after this


def language_listed(language: str | None, languages: Sequence[str]) -> bool:
    """Whether an item's language is one the deployment posts in (primary subtag match).
    An item whose language is unknown counts as listed."""
    primary = primary_subtag(language)
    return primary is None or primary in languages


def outlet(item: Item) -> str:
    """Who published ``item``, as counted and as named in "Reported by …": the source's name,
    so that several feeds of one outlet (its world and its Europe feeds) count once."""
    return item.source_name


def grew_materially(then: Sequence[Item], now: Sequence[Item]) -> bool:
    """Coverage worth one update: a first confirmation of a single outlet's report, at least
    twice as many outlets (two more at least), or a first report in another language."""
    outlets_then = {outlet(i) for i in then}
    outlets_now = {outlet(i) for i in now}
    if len(outlets_now) <= len(outlets_then):
        return False
    if len(outlets_then) <= 1:
        return True  # a first confirmation by another outlet
    if len(outlets_now) >= 2 * len(outlets_then) and len(outlets_now) - len(outlets_then) >= 2:
        return True
    languages_then = {primary_subtag(i.language) for i in then}
    return bool({primary_subtag(i.language) for i in now} - languages_then)


@dataclass(slots=True, kw_only=True)
class _Watch:
    alerted_at: datetime
    grown_at: datetime  # when the development last gained an item
    checked_at: datetime | None = None  # when the update was last considered


class Router:
    def __init__(
        self,
        *,
        store: Store,
        summarizer: Summarizer,
        settings: RoutingSettings,
    ) -> None:
        self._store = store
        self._summarizer = summarizer
        self._settings = settings
        # Developments alerted recently that may still earn their update.
        self._watch: dict[str, _Watch] = {}

    async def start(self, now: datetime) -> None:
        """Watch the developments alerted recently (after a restart)."""
        since = now - self._settings.update_window
        for development in await self._store.recent_developments(
            topic=None, since=since, limit=10_000
        ):
            if development.summary:  # summarized means alerted somewhere
                self._watch.setdefault(
                    development.id,
                    _Watch(alerted_at=development.first_seen, grown_at=development.updated_at),
                )

    # --- alerts -----------------------------------------------------------------------------

    async def route(self, development: Development, now: datetime) -> int:
        """Queue an alert for every subscribed channel that has had none for this development.
        Returns how many were queued."""
        watch = self._watch.get(development.id)
        if watch is not None:
            watch.grown_at = now
        items = await self._store.get_items(development.item_ids)
        if not items or items[0].baseline:
            return 0  # known since the source was added: part of the backlog, never news
        # judgment (issue 9): live blogs, explainers, opinion are kept with the development they
        # discuss but never alerted; a development made only of them is never news.
        if not any(is_news(i.title, i.link) and not i.analysis for i in items):
            return 0
        listed = self._listed(items)
        if not listed:
            return 0  # coverage only in languages this deployment does not post in (yet)
        subscribers = await self._subscribers(development)
        queued = 0
        view: AlertView | None = None
        for subscriber in subscribers:
            ref = subscriber.channel.ref
            if await self._store.posts_for_development(ref, development.id):
                continue
            if view is None:
                development = await self._summarized(development, listed)
                view = self._view(development, listed, items)
            topics = self._topics(development, subscriber)
            channel_view = replace(view, topics=topics)
            post = Post(
                key=alert_key(ref, development.id),
                channel=ref,
                kind=PostKind.ALERT,
                text=render_alert_text(channel_view),
                message=channel_view,
                created_at=now,
                development_id=development.id,
                developments=(development.id,),
                topics=topics,
                sources=view.links,
            )
            if await self._store.enqueue(post):
                queued += 1
                self._watch.setdefault(development.id, _Watch(alerted_at=now, grown_at=now))
        return queued

    # --- updates ----------------------------------------------------------------------------

    async def sweep(self, now: datetime) -> int:
        """Queue the updates that are due; returns how many were queued."""
        queued = 0
        for development_id, watch in list(self._watch.items()):
            if now - watch.alerted_at > self._settings.update_window:
                del self._watch[development_id]
                continue
            if watch.checked_at is not None and watch.checked_at >= watch.grown_at:
                continue  # looked at already, and no coverage came since
            quiet = now - watch.grown_at >= self._settings.update_quiet
            if not quiet and now - watch.alerted_at < self._settings.update_latest:
                continue
            development = await self._store.get_development(development_id)
            if development is None:
                del self._watch[development_id]
                continue
            watch.checked_at = now
            queued += await self._update(development, now)
        return queued

    async def _update(self, development: Development, now: datetime) -> int:
        items = await self._store.get_items(development.item_ids)
        listed = self._listed(items)
        if not listed:
            return 0
        view: AlertView | None = None
        queued = 0
        pending = False
        for subscriber in await self._subscribers(development):
            ref = subscriber.channel.ref
            posts = await self._store.posts_for_development(ref, development.id)
            alert = next((p for p in posts if p.kind is PostKind.ALERT and p.edit_of is None), None)
            if alert is None or any(p.kind is PostKind.UPDATE for p in posts):
                continue
            shown = set(alert.sources)
            then = [i for i in items if i.cite in shown]
            if not grew_materially(then, items):
                pending = True
                continue
            if view is None:
                view = replace(self._view(development, listed, items), is_update=True)
            # The newest reports first: they are what the update is about.
            newest = [link for link in reversed(view.links) if link not in shown]
            outlets_then = {outlet(i) for i in then}
            languages_then = {primary_subtag(i.language) for i in then}
            channel_view = replace(
                view,
                links=tuple(dict.fromkeys([*newest, *view.links])),
                topics=self._topics(development, subscriber),
                new_outlets=tuple(o for o in view.outlets if o not in outlets_then),
                new_languages=tuple(
                    dict.fromkeys(
                        lang
                        for i in items
                        if (lang := primary_subtag(i.language)) and lang not in languages_then
                    )
                ),
            )
            post = Post(
                key=update_key(ref, development.id, 1),
                channel=ref,
                kind=PostKind.UPDATE,
                text=render_alert_text(channel_view),
                message=channel_view,
                thread_of=alert.key,
                created_at=now,
                development_id=development.id,
                developments=(development.id,),
                topics=channel_view.topics,
                sources=channel_view.links,
            )
            if await self._store.enqueue(post):
                queued += 1
        if not pending:
            self._watch.pop(development.id, None)
        return queued

    # --- quiet edits ------------------------------------------------------------------------

    async def edited(self, item: Item, now: datetime) -> int:
        """An entry changed at its source: where a message shows it, edit that message in place
        (no new message). A message has one current view (its alert, then its update, then its
        edits), and the edit is decided on that view, so an edit after an update keeps the
        update's coverage. Returns how many edits were queued."""
        if item.development_id is None:
            return 0
        development = await self._store.get_development(item.development_id)
        if development is None or not development.summary:
            return 0  # never alerted: nothing to correct
        items = await self._store.get_items(development.item_ids)
        summaries: dict[frozenset[str], Development] = {}
        queued = 0
        for subscriber in await self._subscribers(development):
            ref = subscriber.channel.ref
            posts = await self._store.posts_for_development(ref, development.id)
            alert = next((p for p in posts if p.kind is PostKind.ALERT and p.edit_of is None), None)
            if alert is None:
                continue
            views = [
                p
                for p in posts
                if p.key == alert.key
                or p.edit_of == alert.key
                or (p.kind is PostKind.UPDATE and p.thread_of == alert.key)
            ]
            latest = views[-1]
            if item.cite not in latest.sources:
                continue
            # The summary stands on the alert's own entries, as they read today.
            first = frozenset(alert.sources)
            if first not in summaries:
                then = self._listed([i for i in items if i.cite in first])
                if not then:
                    continue
                summaries[first] = await self._summarized(
                    replace(development, summary=""), then, save=False
                )
            fresh = summaries[first]
            shown = set(latest.sources)
            current = [i for i in items if i.cite in shown]
            listed = self._listed(current)
            if not listed:
                continue
            view = self._view(fresh, listed, current)
            base = latest.message if isinstance(latest.message, AlertView) else None
            if base is not None:
                view = replace(
                    view,
                    links=latest.sources,
                    topics=base.topics,
                    is_update=base.is_update,
                    new_outlets=base.new_outlets,
                    new_languages=base.new_languages,
                )
                if view == base:
                    continue
            else:
                view = replace(view, topics=alert.topics)
            text = render_alert_text(view)
            if base is None and text == latest.text:
                continue
            # Numbered, so that a text the entry had before (A, B, then A again) is edited again.
            number = sum(1 for p in posts if p.edit_of == alert.key) + 1
            digest = hashlib.blake2b(text.encode(), digest_size=6).hexdigest()
            revision = f"{number}-{digest}"
            post = Post(
                key=edit_key(ref, development.id, revision),
                channel=ref,
                kind=PostKind.ALERT,
                text=text,
                message=view,
                created_at=now,
                development_id=development.id,
                developments=(development.id,),
                topics=view.topics,
                sources=latest.sources,
                edit_of=alert.key,
            )
            if await self._store.enqueue(post):
                queued += 1
                await self._store.save_development(
                    replace(development, title=fresh.title, summary=fresh.summary)
                )
        return queued

    # --- shared -----------------------------------------------------------------------------

    def _listed(self, items: Sequence[Item]) -> list[Item]:
        return [i for i in items if language_listed(i.language, self._settings.languages)]

    async def _subscribers(self, development: Development) -> list[Subscriber]:
        return [
            s
            for s in await self._store.subscribers(development.topics)
            if s.channel.mode is not ChannelMode.BRIEFING and not s.channel.paused
        ]

    @staticmethod
    def _topics(development: Development, subscriber: Subscriber) -> tuple[str, ...]:
        if STAR in subscriber.topics:
            return development.topics
        return tuple(subscriber.topics)

    async def _summarized(
        self, development: Development, listed: Sequence[Item], *, save: bool = True
    ) -> Development:
        if development.summary:
            return development
        summary = await self._summarizer.summarize(
            SummaryInput(
                title=listed[0].title, items=listed, max_chars=self._settings.summary_max_chars
            )
        )
        development = replace(
            development, summary=summary, title=listed[0].title, language=listed[0].language
        )
        if save:
            await self._store.save_development(development)
        return development

    def _view(
        self, development: Development, listed: Sequence[Item], items: Sequence[Item]
    ) -> AlertView:
        listed_ids = {i.id for i in listed}
        ordered = [*listed, *(i for i in items if i.id not in listed_ids)]
        return AlertView(
            headline=development.title,
            summary=development.summary,
            outlets=tuple(dict.fromkeys(outlet(i) for i in ordered)),
            links=tuple(dict.fromkeys(i.cite for i in ordered if i.cite)),
            topics=development.topics,
            max_links=self._settings.max_links,
        )
