"""The bot's services wired once, and the one round every mode runs.

``build_core`` is called by ``briefbot run`` (``app.py``), ``briefbot replay`` and ``briefbot
demo`` (``replay.py``) with the ports each of them picked (store, fetcher, clock, summarizer,
embedder): the router, the clusterer, the deliverer, the command and answer services are built
here and nowhere else. ``Core.round`` is the poll → process → deliver round they all repeat.
Platforms add their outlet with ``Core.deliverer.add_outlet`` without touching the services.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain import Source, Story
from bot.novelty.cluster import Clusterer
from bot.novelty.embed import Embedder
from bot.ports import Clock, Fetcher, NoveltyJudge, Outlet, Store, Summarizer
from bot.services.answers import Answerer, AnswerWriter
from bot.services.briefings import Briefer
from bot.services.chat import ChatService, chat_service
from bot.services.commands import CommandService
from bot.services.outbox import Deliverer
from bot.services.pipeline import Pipeline, PipelineSettings, PollReport
from bot.services.routing import Router
from bot.topics.match import StoryMatcher

log = logging.getLogger(__name__)

# Something every round does between processing and delivery (the briefing scheduler).
RoundStep = Callable[[datetime], Awaitable[None]]


@dataclass(frozen=True, slots=True, kw_only=True)
class RoundReport:
    """What one round did."""

    polls: tuple[PollReport, ...] = ()
    updates: int = 0
    delivered: int = 0

    @property
    def eventful(self) -> bool:
        """Whether anything happened worth a status line: new items, an alert, a failure, a
        delivery (a round of unchanged feeds is not)."""
        return bool(
            self.delivered
            or self.updates
            or any(r.new_items or r.alerts or r.status == "failed" for r in self.polls)
        )


@dataclass(slots=True, kw_only=True)
class Core:
    store: Store
    clock: Clock
    story: Story
    pipeline: Pipeline
    router: Router
    clusterer: Clusterer
    deliverer: Deliverer
    commands: CommandService
    answerer: Answerer
    chat: ChatService
    briefer: Briefer
    extra_steps: list[RoundStep] = field(default_factory=list)

    async def start(self) -> None:
        """Rebuild what lives in memory from the store (after a restart)."""
        await self.pipeline.start()

    async def round(
        self, sources: Sequence[Source], *, concurrency: int, deadline: datetime | None = None
    ) -> RoundReport:
        """Poll ``sources`` (``concurrency`` at a time; 1 polls them in order), queue the updates
        that are due, run the extra steps (briefings), deliver what is due."""
        if concurrency <= 1:
            polls = [await self.pipeline.poll(s) for s in sources]
        else:
            polls = await self.pipeline.poll_many(sources, concurrency=concurrency)
        updates = await self.pipeline.sweep()
        await self.briefer.due(self.clock.now())  # a briefing owed and not sent yet goes now
        for step in self.extra_steps:
            await step(self.clock.now())
        delivered = await self.deliverer.deliver_due(deadline=deadline)
        return RoundReport(polls=tuple(polls), updates=updates, delivered=delivered)


def build_core(
    *,
    store: Store,
    fetcher: Fetcher,
    clock: Clock,
    story: Story,
    summarizer: Summarizer,
    settings: PipelineSettings,
    embedder: Embedder | None = None,
    outlets: Sequence[Outlet] = (),
    writer: AnswerWriter | None = None,
    judge: NoveltyJudge | None = None,
) -> Core:
    router = Router(store=store, summarizer=summarizer, settings=settings.routing())
    clusterer = Clusterer(window=settings.window, model=settings.pair_model)
    pipeline = Pipeline(
        store=store,
        fetcher=fetcher,
        clock=clock,
        matcher=StoryMatcher(story),
        summarizer=summarizer,
        settings=settings,
        embedder=embedder,
        router=router,
        clusterer=clusterer,
        judge=judge,
    )
    deliverer = Deliverer(store=store, outlets={o.platform: o for o in outlets}, clock=clock)
    chat = chat_service(store=store, story=story, clock=clock, writer=writer)
    briefer = Briefer(
        store=store,
        clock=clock,
        topic_names={t.id: t.name for t in story.topics},
        languages=settings.languages,
    )
    return Core(
        briefer=briefer,
        store=store,
        clock=clock,
        story=story,
        pipeline=pipeline,
        router=router,
        clusterer=clusterer,
        deliverer=deliverer,
        commands=chat.commands,
        answerer=chat.answerer,
        chat=chat,
    )
