"""`briefbot run` with the console adapter: a real loopback feed server, a real SQLite file,
commands typed on standard input, alerts printed on standard output."""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from bot.app import run_bot
from bot.config import load_settings

ROOT = Path(__file__).resolve().parent.parent

OLD_ITEM = """<item>
<title>Zelensky meets European leaders in Kyiv to discuss security guarantees</title>
<link>https://wire.example/old</link><guid>old</guid>
<description>Talks on guarantees for Ukraine continued.</description></item>"""
NEW_ITEM = """<item>
<title>NATO allies pledge new air defence for Ukraine after Russian strikes</title>
<link>https://wire.example/new?utm_source=rss</link><guid>new</guid>
<description>Several NATO members will send air defence systems to Ukraine.</description></item>"""
OFF_ITEM = """<item><title>Storm closes ski resorts across the Alps</title>
<link>https://wire.example/storm</link><guid>storm</guid><description>Snow.</description></item>"""


def feed(*items: str) -> bytes:
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>'
        "<link>https://wire.example/</link><language>en</language>"
        + "".join(items)
        + "</channel></rss>"
    ).encode()


class FeedServer:
    def __init__(self) -> None:
        self.body = feed(OLD_ITEM)
        self.requests = 0
        self.served = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        self.requests += 1
        self.served.set()
        return web.Response(body=self.body, content_type="application/rss+xml")


@pytest.fixture
async def server() -> AsyncIterator[tuple[FeedServer, str]]:
    state = FeedServer()
    app = web.Application()
    app.router.add_get("/feed.xml", state.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield state, f"http://127.0.0.1:{port}/feed.xml"
    await runner.cleanup()


def make_config(tmp_path: Path, url: str) -> Path:
    config = tmp_path / "config"
    config.mkdir()
    shutil.copy(ROOT / "config" / "topics.toml", config / "topics.toml")
    (config / "bot.toml").write_text(
        f'[storage]\ndatabase = "{tmp_path / "bot.db"}"\n[polling]\ninterval = 60\n'
    )
    (config / "sources.toml").write_text(
        f'[[sources]]\nid = "wire"\nname = "The Wire"\nurl = "{url}"\n'
    )
    return config


class Screen(io.StringIO):
    """Standard output that lets a test await a text appearing."""

    def __init__(self) -> None:
        super().__init__()
        self.changed = asyncio.Event()

    def write(self, s: str) -> int:
        n = super().write(s)
        self.changed.set()
        return n

    async def wait_for(self, text: str) -> None:
        async with asyncio.timeout(10):
            while text not in self.getvalue():
                self.changed.clear()
                await self.changed.wait()


async def test_commands_and_alerts_in_the_terminal(
    tmp_path: Path, server: tuple[FeedServer, str]
) -> None:
    state, url = server
    settings = load_settings(make_config(tmp_path, url), poll_interval=1)
    read_fd, write_fd = os.pipe()
    stdin = os.fdopen(read_fd, "r")
    typed = os.fdopen(write_fd, "w", buffering=1)
    screen = Screen()
    bot = asyncio.create_task(run_bot(settings, stdin=stdin, stdout=screen, console=True))

    await screen.wait_for("This terminal is a channel")
    typed.write("help\ntopics\nsubscribe nato\n")
    await screen.wait_for("Subscribed to nato.")
    assert "subscribe <topic…|*>" in screen.getvalue()
    assert "security-guarantees" in screen.getvalue()
    # First poll: the backlog, never alerted.
    await screen.wait_for("kept as the starting backlog")
    # A new story item and an off-story one appear: one alert, for the new item only.
    state.body = feed(NEW_ITEM, OFF_ITEM, OLD_ITEM)
    await screen.wait_for("── NEW")
    shown = screen.getvalue()
    assert "NATO allies pledge new air defence for Ukraine" in shown
    assert "• https://wire.example/new?utm_source=rss" in shown  # as the source gave it
    assert "Storm closes ski resorts" not in shown
    assert "Zelensky meets European leaders" not in shown
    typed.write("whatsnew nato\n")
    await screen.wait_for("What's new on nato")
    typed.close()  # end of input: the bot stops by itself
    async with asyncio.timeout(10):
        assert await bot == 0
    assert screen.getvalue().rstrip().endswith("briefbot stopped.")
    assert screen.getvalue().count("── NEW") == 1


async def test_sigterm_stops_the_bot_cleanly(
    tmp_path: Path, server: tuple[FeedServer, str]
) -> None:
    _, url = server
    settings = load_settings(make_config(tmp_path, url), poll_interval=30)
    read_fd, write_fd = os.pipe()
    screen = Screen()
    with os.fdopen(read_fd, "r") as stdin, os.fdopen(write_fd, "w"):
        bot = asyncio.create_task(run_bot(settings, stdin=stdin, stdout=screen, console=True))
        await screen.wait_for("This terminal is a channel")
        os.kill(os.getpid(), signal.SIGTERM)
        async with asyncio.timeout(10):
            assert await bot == 0
    assert "briefbot stopped." in screen.getvalue()
    assert (tmp_path / "bot.db").exists()


async def test_a_failing_source_is_reported_not_fatal(tmp_path: Path) -> None:
    settings = load_settings(make_config(tmp_path, "http://127.0.0.1:9/feed.xml"), poll_interval=60)
    screen = Screen()
    read_fd, write_fd = os.pipe()
    with os.fdopen(read_fd, "r") as stdin, os.fdopen(write_fd, "w", buffering=1) as typed:
        bot = asyncio.create_task(run_bot(settings, stdin=stdin, stdout=screen, console=True))
        await screen.wait_for("1 failing")
        typed.write("sources\n")
        await screen.wait_for("failing (1 failure)")
    async with asyncio.timeout(10):
        assert await bot == 0
