"""`briefbot run` as a service: started as a real subprocess against a loopback feed, with no
terminal and no token, it keeps polling until SIGTERM, then stops within the drain bound and
keeps what it could not deliver."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from test_run_console import NEW_ITEM, OLD_ITEM, FeedServer, feed, make_config, server

ROOT = Path(__file__).resolve().parent.parent
__all__ = ["server"]  # the fixture, shared with the console tests


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))}
    env.pop("OPENAI_API_KEY", None)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


async def _start(
    config: Path, *args: str, stdin: int | None = subprocess.DEVNULL
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--config",
        str(config),
        "--poll-interval",
        "1",
        *args,
        stdin=stdin,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=_env(),
        cwd=ROOT,
    )


async def _wait(predicate: object, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        await asyncio.sleep(0.1)
    raise AssertionError("timed out")


def _pending(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(
            conn.execute("SELECT count(*) FROM outbox WHERE state = 'pending'").fetchone()[0]
        )


async def test_headless_run_keeps_polling_until_sigterm_and_keeps_what_it_owes(
    tmp_path: Path, server: tuple[FeedServer, str]
) -> None:
    state, url = server
    config = make_config(tmp_path, url)
    db = tmp_path / "bot.db"
    bot = await _start(config)
    try:
        await _wait(lambda: state.requests >= 1)
        # Subscribe a channel of a platform that is not running, then publish news.
        with sqlite3.connect(db) as conn:
            conn.execute(
                "INSERT INTO channels (key, platform, workspace, channel) VALUES"
                " ('slack:T1:C1', 'slack', 'T1', 'C1')"
            )
            conn.execute(
                "INSERT INTO subscriptions (channel_key, topic) VALUES ('slack:T1:C1', '*')"
            )
        state.body = feed(NEW_ITEM, OLD_ITEM)
        seen = state.requests
        await _wait(lambda: state.requests >= seen + 2)  # it polls on schedule, unattended
        await _wait(lambda: _pending(db) == 1)  # the alert waits for its platform
        assert bot.returncode is None  # still running with standard input closed
        started = time.monotonic()
        bot.send_signal(signal.SIGTERM)
        async with asyncio.timeout(15):
            _, err = await bot.communicate()
        took = time.monotonic() - started
    finally:
        if bot.returncode is None:
            bot.kill()
            await bot.wait()
    assert bot.returncode == 0
    assert took < 9.0  # within the drain bound
    log = err.decode()
    assert "Running headless" in log
    assert "polled 1 source" in log
    assert "briefbot stopped; 1 post pending" in log
    assert _pending(db) == 1  # nothing lost: it is delivered when Slack runs
    with sqlite3.connect(db) as conn:
        value = conn.execute("SELECT value FROM runtime WHERE name = 'process'").fetchone()[0]
    assert json.loads(value)["running"] is False


async def test_json_logs_are_one_object_a_line(
    tmp_path: Path, server: tuple[FeedServer, str]
) -> None:
    state, url = server
    bot = await _start(make_config(tmp_path, url), "--log-format", "json")
    try:
        await _wait(lambda: state.requests >= 1)
        await asyncio.sleep(0.5)
        bot.send_signal(signal.SIGTERM)
        async with asyncio.timeout(15):
            _, err = await bot.communicate()
    finally:
        if bot.returncode is None:
            bot.kill()
            await bot.wait()
    lines = [json.loads(line) for line in err.decode().splitlines() if line.strip()]
    assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    assert any("polled 1 source" in line["message"] for line in lines)


async def test_console_flag_with_piped_input_ends_at_end_of_input(
    tmp_path: Path, server: tuple[FeedServer, str]
) -> None:
    _, url = server
    bot = await _start(make_config(tmp_path, url), "--console", stdin=subprocess.PIPE)
    async with asyncio.timeout(30):
        out, _ = await bot.communicate(b"subscribe nato\nsubscriptions\n")
    assert bot.returncode == 0
    text = out.decode()
    assert "This terminal is a channel" in text
    assert "Subscribed to nato." in text and "This channel follows: nato" in text
    assert text.rstrip().endswith("briefbot stopped.")
