"""The composition root: the one place that knows every concrete class and owns their lifecycle."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import IO, Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.adapters.console import (
    ConsoleChat,
    ConsoleOutlet,
    Lines,
    PromptLines,
    StdinLines,
    Terminal,
    console_ref,
)
from bot.clock import SystemClock
from bot.config import Settings
from bot.domain import BriefbotError, ConfigError, FeedError, Source
from bot.ingest.fetch import HttpFetcher
from bot.ingest.parse import parse_feed_async
from bot.messages import plural
from bot.novelty.embed import Embedder, load_embedder, unavailable
from bot.novelty.pair import load_pair_model
from bot.ports import Clock, Fetcher, NoveltyJudge, Platform, Store, Summarizer
from bot.scheduler import BriefingScheduler
from bot.services.answers import AnswerWriter
from bot.services.chat import ChatService
from bot.services.commands import CommandService
from bot.services.core import Core, RoundReport, build_core
from bot.services.pipeline import Pipeline, PipelineSettings
from bot.services.render import plain
from bot.store import open_store
from bot.store.llm_ledger import open_llm_ledger
from bot.summarize.extractive import ExtractiveSummarizer
from bot.summarize.ledger import LlmLedger, MemoryLlmLedger
from bot.summarize.llm import LlmAnswerer, LlmAnswerWriter, LlmClient, LlmSummarizer
from bot.summarize.llm import NoveltyJudge as LlmNoveltyJudge
from bot.topics.meaning import load_topic_model

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
        topic_model=load_topic_model(settings.topic_model) if settings.topic_model else None,
    )


def make_summarizer(
    settings: Settings, *, ledger: LlmLedger | None = None, clock: Clock | None = None
) -> Summarizer:
    """The extractive summarizer, or (``settings.llm.enabled``) the LLM one wrapping it.

    ``ledger`` keeps the LLM's cache and token counts (``SqliteLlmLedger.open(db)`` for the
    bot's database; in memory when not given). Close the LLM client with
    ``summarizer.client.aclose()`` at shutdown."""
    extractive = ExtractiveSummarizer()
    llm = settings.llm
    if not llm.enabled or llm.model is None:
        return extractive
    client = LlmClient(
        model=llm.model,
        ledger=ledger if ledger is not None else MemoryLlmLedger(),
        clock=clock if clock is not None else SystemClock(),
        api_key=settings.secrets.openai_api_key,
        base_url=llm.base_url,
        timeout=llm.timeout,
        max_retries=llm.max_retries,
        daily_token_budget=llm.daily_token_budget,
        breaker_failures=llm.breaker_failures,
        breaker_cooldown=timedelta(seconds=llm.breaker_cooldown),
    )
    return LlmSummarizer(client, extractive)


@dataclass(frozen=True, slots=True)
class LlmParts:
    """What the LLM brings when it is on: the summarizer (always, extractive when off), the
    answer writer and the novelty judge (``[llm] second_opinion``)."""

    summarizer: Summarizer
    writer: AnswerWriter | None = None
    judge: NoveltyJudge | None = None


async def open_llm(
    settings: Settings, stack: AsyncExitStack, *, clock: Clock, db: str | None = None
) -> LlmParts:
    """The summarizer ``run`` and ``replay`` use, with its ledger on the bot's database, and the
    LLM's answer writer and judge when the LLM is on; closed with ``stack``."""
    if not settings.llm.enabled:
        return LlmParts(summarizer=make_summarizer(settings))
    ledger = await open_llm_ledger(db or settings.db)
    stack.push_async_callback(ledger.close)
    summarizer = make_summarizer(settings, ledger=ledger, clock=clock)
    if not isinstance(summarizer, LlmSummarizer):
        return LlmParts(summarizer=summarizer)
    stack.push_async_callback(summarizer.client.aclose)
    return LlmParts(
        summarizer=summarizer,
        writer=LlmAnswerWriter(LlmAnswerer(summarizer.client)),
        judge=LlmNoveltyJudge(summarizer.client) if settings.llm.second_opinion else None,
    )


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


# Where each chat platform's adapter lives: ``create(settings, chat=, store=, clock=)`` builds
# its ``Platform``. A new platform is a line here and a module; the services stay as they are.
PLATFORM_FACTORIES = {
    "slack": "bot.adapters.slack:create_slack",
    "discord": "bot.adapters.discord:create_discord",
}
DRAIN_SECONDS = 8.0  # shutdown delivers for at most this long (docker stop waits 10)
HEARTBEAT_NAME = "process"


class PlatformFactory(Protocol):
    def __call__(
        self, settings: Settings, *, chat: ChatService, store: Store, clock: Clock
    ) -> Platform: ...


def enabled_platforms(settings: Settings) -> list[str]:
    """The chat platforms whose tokens are set."""
    names = []
    if settings.secrets.slack_enabled:
        names.append("slack")
    if settings.secrets.discord_enabled:
        names.append("discord")
    return names


def platform_factory(name: str) -> PlatformFactory:
    module_name, _, attribute = PLATFORM_FACTORIES[name].partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise ConfigError(
            f"{name} is configured (its token is set) but its adapter cannot be loaded: {e}"
        ) from e
    factory: PlatformFactory = getattr(module, attribute)
    return factory


@dataclass(slots=True)
class Bot:
    """The running parts of ``briefbot run``."""

    settings: Settings
    store: Store
    clock: Clock
    core: Core
    sources: Sequence[Source]
    platforms: list[Platform] = field(default_factory=list)
    last_error: str | None = None

    @property
    def pipeline(self) -> Pipeline:
        return self.core.pipeline

    @property
    def commands(self) -> CommandService:
        return self.core.commands

    async def due_sources(self) -> list[Source]:
        now = self.clock.now()
        due: list[Source] = []
        for source in self.sources:
            state = await self.store.get_poll_state(source.id)
            if state.next_poll_at is None or state.next_poll_at <= now:
                due.append(source)
        return due

    async def poll_due(self) -> RoundReport:
        """One round: poll every source whose next poll is due, a few at a time; process,
        deliver; record the bot's state for ``briefbot status``."""
        report = await self.core.round(await self.due_sources(), concurrency=MAX_CONCURRENT_POLLS)
        await self.heartbeat()
        return report

    async def heartbeat(self, *, running: bool = True) -> None:
        """What ``briefbot status`` (another process) shows about this one."""
        now = self.clock.now()
        try:
            await self.store.save_runtime(
                HEARTBEAT_NAME,
                {
                    "pid": os.getpid(),
                    "running": running,
                    "platforms": [p.name for p in self.platforms],
                    "outbox_depth": await self.store.outbox_depth(),
                    "last_error": self.last_error,
                },
                at=now,
            )
            for platform in self.platforms:
                await self.store.save_runtime(
                    f"platform:{platform.name}", dict(platform.status()), at=now
                )
        except BriefbotError as e:
            log.warning("could not record the bot's state: %s", e)


async def build_bot(
    settings: Settings,
    stack: AsyncExitStack,
    *,
    fetcher: Fetcher | None = None,
    clock: Clock | None = None,
) -> Bot:
    clock = clock or SystemClock()
    store = await stack.enter_async_context(opened_store(settings.db))
    await store.sync_sources(settings.sources)
    if fetcher is None:
        fetcher = await stack.enter_async_context(make_fetcher(settings))
    llm = await open_llm(settings, stack, clock=clock)
    core = build_core(
        store=store,
        fetcher=fetcher,
        clock=clock,
        story=settings.story,
        summarizer=llm.summarizer,
        settings=pipeline_settings(settings),
        embedder=await asyncio.to_thread(make_embedder, settings),
        writer=llm.writer,
        judge=llm.judge,
    )
    await core.start()
    return Bot(settings=settings, store=store, clock=clock, core=core, sources=settings.sources)


def human_interval(seconds: float) -> str:
    """600 -> "10 minutes", 90 -> "90 seconds", 3600 -> "1 hour"."""
    whole = round(seconds)
    for unit, size in (("hour", 3600), ("minute", 60)):
        if whole >= size and whole % size == 0:
            n = whole // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{whole} second{'s' if whole != 1 else ''}"


def round_line(report: RoundReport) -> str:
    reports = report.polls
    ok = sum(r.status != "failed" for r in reports)
    failed = len(reports) - ok
    new = sum(r.new_items for r in reports)
    alerts = sum(r.alerts for r in reports)
    baseline = sum(r.new_items for r in reports if r.baseline)
    line = (
        f"[polled {plural(len(reports), 'source')}: {ok} ok, {failed} failing; "
        f"{plural(new, 'new item')}"
    )
    if baseline:
        line += f" ({baseline} kept as the starting backlog, never alerted)"
    line += f"; {plural(alerts, 'alert')} queued"
    if report.delivered:
        line += f"; {report.delivered} delivered"
    if failed:
        line += ". Type `sources` to see why"
    return line + "]"


def wants_console(settings: Settings, stdin: IO[str], *, console: bool | None) -> bool:
    """The terminal is a channel when asked (``--console``), or when standard input is a
    terminal and no chat token is set."""
    if console is not None:
        return console
    return stdin.isatty() and not enabled_platforms(settings)


async def run_bot(
    settings: Settings,
    *,
    stdin: IO[str] = sys.stdin,
    stdout: IO[str] = sys.stdout,
    fetcher: Fetcher | None = None,
    console: bool | None = None,
) -> int:
    """``briefbot run``: polls on schedule and delivers until SIGINT or SIGTERM; serves the
    chat platforms whose tokens are set; with the console, answers commands typed in the
    terminal and ends at end of input or ``quit`` as well."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    use_console = wants_console(settings, stdin, console=console)
    interactive = use_console and stdin.isatty() and stdout.isatty()
    terminal = Terminal(None if interactive else stdout)
    async with AsyncExitStack() as stack:
        bot = await build_bot(settings, stack, fetcher=fetcher)
        channel = console_ref(settings.console_channel)
        if use_console:
            bot.core.deliverer.add_outlet(ConsoleOutlet(terminal, bot.clock))
        for name in enabled_platforms(settings):
            platform = platform_factory(name)(
                settings, chat=bot.core.chat, store=bot.store, clock=bot.clock
            )
            await platform.start()
            stack.push_async_callback(platform.stop)
            bot.platforms.append(platform)
            bot.core.deliverer.add_outlet(platform.outlet)
            log.info("%s connected", name)
        await bot.heartbeat()
        banner = (
            f"briefbot is following “{settings.story.name}”: "
            f"{plural(len(bot.sources), 'source')}, each read every "
            f"{human_interval(settings.poll_interval)}."
        )
        if use_console:
            follows = await bot.store.subscriptions(channel)
            terminal.show(
                banner
                + "\nThis terminal is a channel. "
                + (
                    f"It follows: {', '.join(follows)}."
                    if follows
                    else "It follows nothing yet: try `subscribe nato` or `subscribe *`."
                )
                + " Type `help` for commands, `quit` or Ctrl-D to stop."
            )
        else:
            served = ", ".join(p.name for p in bot.platforms) or "no chat platform"
            log.info("%s Running headless (%s); stop with Ctrl-C or SIGTERM.", banner, served)

        busy = asyncio.Lock()
        rounds: set[asyncio.Task[None]] = set()
        nudges: set[asyncio.Task[int]] = set()

        def deliver_now() -> None:
            """An answer was queued: deliver it now, not at the next tick."""
            task = asyncio.create_task(bot.core.deliverer.deliver_due())
            nudges.add(task)
            task.add_done_callback(nudges.discard)

        bot.core.chat.on_queued(deliver_now)

        async def one_round() -> None:
            async with busy:
                try:
                    report = await bot.poll_due()
                except BriefbotError as e:  # the store failed: this round is lost, not the bot
                    bot.last_error = str(e)
                    log.error("poll round failed: %s", e)
                    return
                if report.eventful:
                    if use_console:
                        terminal.show(round_line(report))
                    log.info("%s", round_line(report).strip("[]"))

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
        briefings = BriefingScheduler(
            scheduler=scheduler,
            store=bot.store,
            clock=bot.clock,
            briefer=bot.core.briefer,
            deliver=bot.core.deliverer.deliver_due,
        )
        bot.core.extra_steps.append(lambda _now: briefings.sync())
        scheduler.start()
        stack.callback(scheduler.shutdown, wait=False)
        await briefings.sync()
        first = asyncio.create_task(tick())

        waiters: set[asyncio.Task[object]] = {asyncio.create_task(stop.wait())}
        serve: asyncio.Task[object] | None = None
        if use_console:
            lines: Lines = PromptLines() if interactive else StdinLines(stdin)
            chat = ConsoleChat(lines=lines, terminal=terminal, chat=bot.core.chat, channel=channel)
            serve = asyncio.create_task(chat.serve())
            waiters.add(serve)
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        scheduler.pause()
        # Stop fetching at once; let the ingests under way finish, then deliver what is queued,
        # for a bounded time: what is left stays pending for the next start.
        for task in (*rounds, first):
            task.cancel()
        await asyncio.gather(*rounds, first, *nudges, return_exceptions=True)
        await bot.pipeline.drain()
        deadline = bot.clock.now() + timedelta(seconds=DRAIN_SECONDS)
        try:
            await asyncio.wait_for(
                bot.core.deliverer.deliver_due(deadline=deadline), DRAIN_SECONDS + 0.5
            )
        except TimeoutError:
            log.warning("shutdown: delivery took too long; the rest stays pending")
        await bot.heartbeat(running=False)
        failure = None
        if serve is not None:
            failure = serve.exception() if serve.done() and not serve.cancelled() else None
            serve.cancel()
        for waiter in waiters:
            waiter.cancel()
        if failure is not None:
            raise failure  # a bug in the chat loop: say so, do not pretend all went well
        if use_console:
            terminal.show("briefbot stopped.")
        else:
            log.info("briefbot stopped; %s pending", plural(await bot.store.outbox_depth(), "post"))
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
