"""Answers to questions: "what's new on NATO?", "anything on Donbas since Monday", "news about
the Zaporizhzhia plant". Read by ``questions.parse_question`` in the channel's time zone, answered
from the store (developments by topic and time, full-text search for what is no topic), newest
and best-covered first, each line with its links. Useful without an LLM; an LLM may phrase the
answer (``AnswerWriter``) from the same developments, grounded and cited.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from bot.domain import STAR, ChannelRef, Development, Item, Story
from bot.messages import Entry, Reply, error_reply
from bot.ports import Clock, Store
from bot.services.questions import Question, parse_question
from bot.services.render import ago, shorten
from bot.services.schedule import zone

log = logging.getLogger(__name__)

MAX_ENTRIES = 8
LINKS_PER_ENTRY = 2
SEARCH_LIMIT = 40
CANDIDATES = 200  # developments read per topic before the window and the ranking
SUMMARY_CHARS = 200  # of a development's summary in an answer


class AnswerWriter(Protocol):
    """Phrases an answer from developments (the LLM); None means "use the list as it is"."""

    async def write(self, question: str, entries: Sequence[Entry]) -> str | None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    reply: Reply
    topics: tuple[str, ...]  # the topic ids the question resolved to ([] for free-text search)
    developments: tuple[str, ...]
    # Whether the text read as a question (a topic, a time, or words that found something):
    # typed where a command was expected, an ununderstood text gets the command list instead.
    understood: bool = True


class Answerer:
    def __init__(
        self,
        *,
        store: Store,
        story: Story,
        clock: Clock,
        writer: AnswerWriter | None = None,
        limit: int = MAX_ENTRIES,
    ) -> None:
        self._store = store
        self._story = story
        self._clock = clock
        self._writer = writer
        self._limit = limit

    async def answer(self, channel: ChannelRef, text: str) -> Answer:
        # An answer in a thread or a reply is about its channel: the channel's zone and topics.
        known = await self._store.get_channel(replace(channel, thread=None))
        tz = known.timezone if known is not None else "UTC"
        last_briefing = known.last_briefing_at if known is not None else None
        now = self._clock.now()
        question = parse_question(
            text, story=self._story, now=now, tz=zone(tz), last_briefing=last_briefing
        )
        if question.empty:
            return Answer(
                understood=False,
                reply=Reply(
                    lines=(
                        "Ask me what's new on a topic, for example “what's new on NATO?” or "
                        "“anything on territory since Monday?”.",
                    ),
                    suggestion="Topics: " + ", ".join(self._story.topic_ids()) + ".",
                ),
                topics=(),
                developments=(),
            )
        unsure = question.unknown_topic is not None and question.suggestion is not None
        corrected = unsure and question.topics == (question.suggestion,)
        if unsure and not corrected and not question.topics and not question.query:
            return Answer(
                reply=error_reply(
                    f"I don't know a topic “{question.unknown_topic}”. "
                    f"Did you mean {question.suggestion}?",
                    "Topics: " + ", ".join(self._story.topic_ids()) + ".",
                    private=False,
                ),
                topics=(),
                developments=(),
            )
        topics = question.topics
        scoped = topics
        if not topics:
            followed = await self._store.subscriptions(replace(channel, thread=None))
            scoped = tuple(followed) if followed and STAR not in followed else (STAR,)
        if question.query:
            developments, loose = await self._search(question, scoped if topics else (STAR,))
        else:
            developments, loose = await self._by_topic(question, scoped), []
        entries = [await self._entry(d, now) for d in developments[: self._limit]]
        entries += [self._item_entry(i, now) for i in loose[: max(self._limit - len(entries), 0)]]
        label = self._label(question, scoped)
        if not entries:
            return Answer(
                reply=Reply(lines=(await self._nothing(question, scoped, label),)),
                topics=() if question.query else tuple(t for t in scoped if t != STAR),
                developments=(),
                understood=bool(topics or question.explicit_window),
            )
        lines: tuple[str, ...] = ()
        if corrected:
            lines = (f"(Reading “{question.unknown_topic}” as {question.suggestion}.)",)
        if self._writer is not None:
            try:
                written = await self._writer.write(text, entries)
            except Exception as e:  # the writer falls back itself; this is a last guard
                log.warning("the answer writer failed, answering with the list: %s", e)
                written = None
            if written:
                lines = (*lines, written)
        reply = Reply(
            title=f"What's new on {label}, newest first:",
            lines=lines,
            entries=tuple(entries),
        )
        return Answer(
            reply=reply,
            topics=() if question.query else tuple(t for t in scoped if t != STAR),
            developments=tuple(e.development_id for e in entries if e.development_id),
        )

    def _label(self, question: Question, scoped: Sequence[str]) -> str:
        if question.query:
            what = f"“{question.query}”"
        elif list(scoped) == [STAR]:
            what = "the whole story"
        else:
            what = " and ".join(scoped)
        return f"{what} {question.window_label}".strip()

    async def _by_topic(self, question: Question, topics: Sequence[str]) -> list[Development]:
        found: dict[str, Development] = {}
        for topic in topics:
            for development in await self._store.recent_developments(
                topic=topic, since=question.since, limit=CANDIDATES
            ):
                if development.first_seen <= question.until:
                    found.setdefault(development.id, development)
        return await self._ranked(list(found.values()))

    async def _ranked(self, developments: list[Development]) -> list[Development]:
        """Newest first; among developments of the same hour, the best covered first."""
        outlets: dict[str, int] = {}
        for d in developments:
            items = await self._store.get_items(d.item_ids)
            outlets[d.id] = len({i.source_name for i in items})
        developments.sort(
            key=lambda d: (d.first_seen.replace(minute=0, second=0, microsecond=0), outlets[d.id]),
            reverse=True,
        )
        return developments

    async def _search(
        self, question: Question, topics: Sequence[str]
    ) -> tuple[list[Development], list[Item]]:
        assert question.query is not None
        items = await self._store.search_items(question.query, limit=SEARCH_LIMIT)
        items = [i for i in items if question.since <= i.first_seen <= question.until]
        found: dict[str, Development] = {}
        loose: list[Item] = []
        for item in items:
            if item.development_id is None:
                if item.on_story or not found:
                    loose.append(item)
                continue
            if item.development_id in found:
                continue
            development = await self._store.get_development(item.development_id)
            if development is None:
                continue
            if STAR not in topics and not set(topics) & set(development.topics):
                continue
            found[development.id] = development
        loose = [i for i in loose if i.on_story] or loose[:3]
        return await self._ranked(list(found.values())), loose

    async def _entry(self, development: Development, now: datetime) -> Entry:
        items = await self._store.get_items(development.item_ids)
        return Entry(
            headline=development.title,
            outlets=tuple(dict.fromkeys(i.source_name for i in items)),
            links=tuple(dict.fromkeys(i.cite for i in items if i.cite))[:LINKS_PER_ENTRY],
            when=ago(development.first_seen, now),
            topics=development.topics,
            development_id=development.id,
            summary=shorten(development.summary, SUMMARY_CHARS)
            if development.summary != development.title
            else "",
        )

    @staticmethod
    def _item_entry(item: Item, now: datetime) -> Entry:
        return Entry(
            headline=item.title,
            outlets=(item.source_name,),
            links=(item.cite,) if item.cite else (),
            when=ago(item.first_seen, now),
        )

    async def _nothing(self, question: Question, topics: Sequence[str], label: str) -> str:
        """Say plainly that nothing is new, and what the bot does know."""
        latest: Development | None = None
        if not question.query:
            for topic in topics:
                for development in await self._store.recent_developments(
                    topic=topic, since=None, limit=1
                ):
                    if latest is None or development.first_seen > latest.first_seen:
                        latest = development
        if latest is None:
            return f"Nothing on {label}. The bot reports what it reads from now on."
        when = latest.first_seen.strftime("%d %b %H:%M UTC")
        return f"Nothing new on {label}. The latest I know: “{latest.title}” ({when})."
