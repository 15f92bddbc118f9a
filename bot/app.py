"""The composition root: the one place that knows every concrete class and owns their lifecycle."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import IO

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.adapters.console import ConsoleChat, ConsoleOutlet, Terminal, console_ref
from bot.clock import SystemClock
from bot.config import Settings
from bot.domain import FeedError, Source
from bot.ingest.fetch import HttpFetcher
from bot.ingest.parse import parse_feed_async
from bot.novelty.embed import Embedder, load_embedder, unavailable
from bot.novelty.pair import load_pair_model
from bot.ports import Clock, Fetcher, Store, Summarizer
from bot.services.commands import CommandService
from bot.services.outbox import Deliverer
from bot.services.pipeline import Pipeline, PipelineSettings, PollReport
from bot.services.render import plain
from bot.store import open_store
from bot.summarize.extractive import ExtractiveSummarizer
from bot.topics.match import StoryMatcher

log = logging.getLogger(__name__)

MAX_CONCURRENT_POLLS = 8
SCHEDULER_TICK = 15.0  # seconds between looks for due sources and due posts


def pipeline_settings(settings: Settings) -> PipelineSettings:
    return PipelineSettings(
        poll_interval=settings.poll_interval,
        backoff_base=settings.backoff_base,
        backoff_max=settings.backoff_max,
        languages=settings.languages,
        summary_max_chars=settings.summary_max_chars,
        max_links=settings.max_links,
        # judgment (issue 9): a fit file named in [novelty] pair_model (make eval's folds)
        pair_model=load_pair_model(settings.pair_model) if settings.pair_model else None,
    )


def make_summarizer(settings: Settings) -> Summarizer:
    """The offline extractive summarizer; the LLM one plugs in here when its issue lands."""
    return ExtractiveSummarizer()


def make_embedder(settings: Settings) -> Embedder | None:
    """The sentence-embedding model, when installed and not turned off (``[novelty]``)."""
    embedder = load_embedder(settings.embeddings)
    if embedder is None:
        log.info(
            "matching reports of one event by words alone: %s", unavailable(settings.embeddings)
        )
    else:
        log.info("matching reports of one event by words and meaning: %s", embedder.name)
    return embedder


def make_fetcher(settings: Settings) -> HttpFetcher:
    f = settings.fetch
    return HttpFetcher(
        connect_timeout=f.connect_timeout,
        read_timeout=f.read_timeout,
        max_body_bytes=f.max_body_bytes,
        max_redirects=f.max_redirects,
        user_agent=f.user_agent,
    )


@asynccontextmanager
async def opened_store(db: str) -> AsyncIterator[Store]:
    store = await open_store(db)
    try:
        yield store
    finally:
        await store.close()


@dataclass(slots=True)
class Bot:
    """The running parts of ``briefbot run``."""

    settings: Settings
    store: Store
    clock: Clock
    pipeline: Pipeline
    deliverer: Deliverer
    commands: CommandService
    sources: Sequence[Source]

    async def poll_due(self) -> list[PollReport]:
        """Poll every source whose next poll is due, a few at a time; then deliver."""
        now = self.clock.now()
        due: list[Source] = []
        for source in self.sources:
            state = await self.store.get_poll_state(source.id)
            if state.next_poll_at is None or state.next_poll_at <= now:
                due.append(source)
        reports = await self.pipeline.poll_many(due, concurrency=MAX_CONCURRENT_POLLS)
        await self.pipeline.sweep()
        await self.deliverer.deliver_due()
        return reports


async def build_bot(
    settings: Settings, stack: AsyncExitStack, *, fetcher: Fetcher | None = None
) -> Bot:
    clock = SystemClock()
    store = await stack.enter_async_context(opened_store(settings.db))
    await store.sync_sources(settings.sources)
    if fetcher is None:
        fetcher = await stack.enter_async_context(make_fetcher(settings))
    pipeline = Pipeline(
        store=store,
        fetcher=fetcher,
        clock=clock,
        matcher=StoryMatcher(settings.story),
        summarizer=make_summarizer(settings),
        settings=pipeline_settings(settings),
        embedder=await asyncio.to_thread(make_embedder, settings),
    )
    await pipeline.start()
    return Bot(
        settings=settings,
        store=store,
        clock=clock,
        pipeline=pipeline,
        deliverer=Deliverer(store=store, outlets={}, clock=clock),
        commands=CommandService(store=store, story=settings.story, clock=clock),
        sources=settings.sources,
    )


def not_built_yet(settings: Settings) -> list[str]:
    """What the configuration turns on that this version cannot do yet, said once at start."""
    notices = []
    if settings.secrets.slack_enabled:
        notices.append(
            "Slack tokens are set, but Slack support is not built yet: this run uses the terminal."
        )
    if settings.secrets.discord_enabled:
        notices.append(
            "DISCORD_TOKEN is set, but Discord support is not built yet: this run "
            "uses the terminal."
        )
    if settings.llm.enabled:
        notices.append(
            "An LLM is configured, but the LLM summarizer is not built yet: summaries "
            "are extractive."
        )
    return notices


def human_interval(seconds: float) -> str:
    """600 -> "10 minutes", 90 -> "90 seconds", 3600 -> "1 hour"."""
    whole = round(seconds)
    for unit, size in (("hour", 3600), ("minute", 60)):
        if whole >= size and whole % size == 0:
            n = whole // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{whole} second{'s' if whole != 1 else ''}"


def _round_line(reports: Sequence[PollReport]) -> str:
    ok = sum(r.status != "failed" for r in reports)
    failed = len(reports) - ok
    new = sum(r.new_items for r in reports)
    alerts = sum(r.alerts for r in reports)
    baseline = sum(r.new_items for r in reports if r.baseline)
    line = f"[polled {len(reports)} sources: {ok} ok, {failed} failing; {new} new items"
    if baseline:
        line += f" ({baseline} kept as the starting backlog, never alerted)"
    line += f"; {alerts} alerts queued"
    if failed:
        line += ". Type `sources` to see why"
    return line + "]"


async def run_bot(
    settings: Settings,
    *,
    stdin: IO[str] = sys.stdin,
    stdout: IO[str] = sys.stdout,
    fetcher: Fetcher | None = None,
) -> int:
    """``briefbot run`` with the console: polls on schedule, answers commands typed in the
    terminal, prints alerts. Ends at end of input, on ``quit``, on SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    async with AsyncExitStack() as stack:
        bot = await build_bot(settings, stack, fetcher=fetcher)
        channel = console_ref(settings.console_channel)
        terminal = Terminal(stdout, interactive=stdin.isatty() and stdout.isatty())
        outlet = ConsoleOutlet(terminal, bot.clock)
        bot.deliverer = Deliverer(
            store=bot.store, outlets={outlet.platform: outlet}, clock=bot.clock
        )
        follows = await bot.store.subscriptions(channel)
        terminal.show(
            f"briefbot is following “{settings.story.name}”: {len(bot.sources)} sources, each "
            f"read every {human_interval(settings.poll_interval)}.\n"
            "This terminal is a channel. "
            + (
                f"It follows: {', '.join(follows)}."
                if follows
                else "It follows nothing yet: try `subscribe nato` or `subscribe *`."
            )
            + " Type `help` for commands, `quit` or Ctrl-D to stop."
        )

        for notice in not_built_yet(settings):
            terminal.show(notice)

        busy = asyncio.Lock()
        rounds: set[asyncio.Task[None]] = set()

        async def one_round() -> None:
            async with busy:
                reports = await bot.poll_due()
                if reports:
                    terminal.show(_round_line(reports))

        async def tick() -> None:
            if busy.locked():
                return  # the last round is still running: this one is skipped
            task = asyncio.create_task(one_round())
            rounds.add(task)
            task.add_done_callback(rounds.discard)
            with contextlib.suppress(asyncio.CancelledError):
                await task

        scheduler = AsyncIOScheduler(timezone="UTC")
        scheduler.add_job(
            tick,
            "interval",
            seconds=min(SCHEDULER_TICK, settings.poll_interval),
            id="poll",
            max_instances=3,  # a slow round makes the next ticks return at once, not warn
            coalesce=True,
        )
        scheduler.start()
        stack.callback(scheduler.shutdown, wait=False)
        first = asyncio.create_task(tick())

        chat = ConsoleChat(
            stdin=stdin, terminal=terminal, handler=bot.commands.handle, channel=channel
        )
        serve = asyncio.create_task(chat.serve())
        stopped = asyncio.create_task(stop.wait())
        await asyncio.wait({serve, stopped}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        scheduler.pause()
        # Stop fetching at once; let the ingests under way finish, then deliver what is queued.
        for task in (*rounds, first):
            task.cancel()
        await asyncio.gather(*rounds, first, return_exceptions=True)
        await bot.pipeline.drain()
        await bot.deliverer.deliver_due()
        failure = serve.exception() if serve.done() and not serve.cancelled() else None
        serve.cancel()
        if failure is not None:
            raise failure  # a bug in the chat loop: say so, do not pretend all went well
        terminal.show("briefbot stopped.")
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(sig)
    return 0


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckResult:
    source: Source
    ok: bool
    status: int | None = None
    entries: int = 0
    language: str | None = None
    error: str | None = None


async def check_sources(
    sources: Sequence[Source], fetcher: Fetcher, *, concurrency: int = MAX_CONCURRENT_POLLS
) -> list[CheckResult]:
    """Fetch and parse every source once; nothing is stored."""
    gate = asyncio.Semaphore(concurrency)

    async def one(source: Source) -> CheckResult:
        async with gate:
            try:
                result = await fetcher.fetch(source.url)
                if result.body is None:
                    return CheckResult(source=source, ok=True, status=result.status)
                parsed = await parse_feed_async(result.body, url=result.final_url or source.url)
            except FeedError as e:
                return CheckResult(source=source, ok=False, error=plain(str(e)))
            return CheckResult(
                source=source,
                ok=True,
                status=result.status,
                entries=len(parsed.entries),
                language=parsed.language,
            )

    return list(await asyncio.gather(*(one(s) for s in sources)))
