"""The command line as a user types it: help texts, errors, status, sources check."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from threading import Thread

import pytest
from aiohttp import web

from bot.app import build_bot
from bot.cli import main
from bot.config import load_settings

ROOT = Path(__file__).resolve().parent.parent

FEED = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>'
    b"<link>https://wire.example/</link><language>en-GB</language>"
    b"<item><title>Talks on Ukraine resume in Geneva</title><link>https://wire.example/1</link>"
    b"<guid>1</guid></item></channel></rss>"
)


@pytest.fixture
def server() -> Iterator[str]:
    """A loopback HTTP server on its own thread: a good feed, an HTML page, a 404."""
    loop = asyncio.new_event_loop()
    started: list[str] = []

    async def feed(_: web.Request) -> web.Response:
        return web.Response(body=FEED, content_type="application/rss+xml")

    async def page(_: web.Request) -> web.Response:
        return web.Response(text="<html><body>Hello</body></html>", content_type="text/html")

    async def start() -> web.AppRunner:
        app = web.Application()
        app.router.add_get("/feed.xml", feed)
        app.router.add_get("/page.html", page)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        started.append(f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}")  # type: ignore[union-attr]
        return runner

    runner = loop.run_until_complete(start())
    thread = Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield started[0]
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.run_until_complete(runner.cleanup())
    loop.close()


def config_dir(tmp_path: Path, sources: str) -> Path:
    config = tmp_path / "config"
    config.mkdir()
    shutil.copy(ROOT / "config" / "topics.toml", config)
    (config / "bot.toml").write_text(f'[storage]\ndatabase = "{tmp_path / "bot.db"}"\n')
    (config / "sources.toml").write_text(sources)
    return config


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["run", "--help"],
        ["demo", "--help"],
        ["replay", "--help"],
        ["status", "--help"],
        ["sources", "check", "--help"],
    ],
)
def test_every_command_has_help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "usage: briefbot" in out
    if argv != ["--help"]:
        assert "--config DIR" in out and "--db PATH_OR_URL" in out


def test_a_wrong_command_names_the_choices(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["serve"])
    assert exit_.value.code == 2
    assert "invalid choice: 'serve'" in capsys.readouterr().err


def test_a_missing_config_folder_says_how_to_fix_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status", "--config", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert "nowhere" in err and "--config" in err


def test_a_bad_config_value_names_file_and_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_dir(tmp_path, '[[sources]]\nid = "w"\nname = "W"\nurl = "ftp://x/feed"\n')
    assert main(["status", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "sources.toml" in err and "url" in err


def test_status_before_the_first_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = config_dir(
        tmp_path, '[[sources]]\nid = "w"\nname = "W"\nurl = "https://w.example/f"\n'
    )
    assert main(["status", "--config", str(config)]) == 0
    assert "has not run with this setup" in capsys.readouterr().out


def test_sources_check_reports_each_source(
    tmp_path: Path, server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_dir(
        tmp_path,
        f'[[sources]]\nid = "good"\nname = "Good"\nurl = "{server}/feed.xml"\n'
        f'[[sources]]\nid = "page"\nname = "Page"\nurl = "{server}/page.html"\n'
        f'[[sources]]\nid = "gone"\nname = "Gone"\nurl = "{server}/missing.xml"\n',
    )
    assert main(["sources", "check", "--config", str(config)]) == 1
    out = capsys.readouterr().out
    assert "ok   good" in out and "1 entries" in out and "language en-GB" in out
    assert "FAIL page" in out and "HTML" in out
    assert "FAIL gone" in out and "404" in out
    assert "1 of 3 sources OK" in out
    assert not (tmp_path / "bot.db").exists()  # nothing stored


def test_status_after_a_poll_round_shows_health_and_outbox(
    tmp_path: Path, server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_dir(
        tmp_path,
        f'[[sources]]\nid = "good"\nname = "Good"\nurl = "{server}/feed.xml"\n'
        f'[[sources]]\nid = "gone"\nname = "Gone"\nurl = "{server}/missing.xml"\n',
    )
    settings = load_settings(config)

    async def one_round() -> None:
        async with AsyncExitStack() as stack:
            bot = await build_bot(settings, stack)
            await bot.poll_due()

    asyncio.run(one_round())
    assert main(["status", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "2 configured, 1 healthy, 1 failing" in out
    assert "ok   good" in out
    assert "FAIL gone" in out and "404" in out and "next try" in out
    assert "Outbox: 0 posts waiting" in out
    assert "Stored: 1 items" in out
    assert "Matching reports of one event: by words" in out


def test_status_shows_the_llm_tokens_spent_today(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime

    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "BRIEFBOT_LLM_MODEL"):
        monkeypatch.delenv(name, raising=False)

    from bot.store import SqliteStore
    from bot.store.llm_ledger import SqliteLlmLedger

    config = config_dir(
        tmp_path, '[[sources]]\nid = "w"\nname = "W"\nurl = "https://w.example/f"\n'
    )
    db = str(tmp_path / "bot.db")

    async def spend() -> None:
        store = await SqliteStore.open(db)
        await store.close()
        ledger = await SqliteLlmLedger.open(db)
        await ledger.add_tokens(datetime.now(UTC).date(), 1234)
        await ledger.add_tokens(datetime(2020, 1, 1, tzinfo=UTC).date(), 99)
        await ledger.close()

    asyncio.run(spend())
    assert main(["status", "--config", str(config), "--db", db]) == 0
    assert "LLM tokens today: 1234 (summaries are extractive, offline)" in capsys.readouterr().out
    (config / ".env").write_text("OPENAI_API_KEY=sk-x\n", encoding="utf-8")
    assert main(["status", "--config", str(config), "--db", db]) == 0
    out = capsys.readouterr().out
    assert "LLM tokens today: 1234 of 200000 a day (model gpt-4o-mini)" in out
    assert "sk-x" not in out


def test_a_database_url_never_shows_its_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_dir(
        tmp_path, '[[sources]]\nid = "w"\nname = "W"\nurl = "https://w.example/f"\n'
    )
    url = "postgresql://bot:s3cret@db.example/briefbot"
    assert "s3cret" not in repr(load_settings(config, db=url))
    assert main(["status", "--config", str(config), "--db", url]) == 2
    captured = capsys.readouterr()
    assert "s3cret" not in captured.out + captured.err
    assert "PostgreSQL" in captured.err
