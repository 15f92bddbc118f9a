"""End to end, black box: `briefbot run` as a subprocess in Slack's HTTP mode, its Web API a local
fake (SLACK_API_URL), its source a loopback feed. A signed `/brief subscribe nato` is confirmed;
a NATO item added to the feed arrives as one Block Kit alert in that channel within a poll
interval, an unrelated item does not; a signed mention asking what's new on NATO is answered in
a thread citing that item's link."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from fakes.slack_api import BOT_USER, TEAM_ID, FakeSlack, fake_slack
from slack_sdk.signature import SignatureVerifier
from test_run_console import NEW_ITEM, OFF_ITEM, OLD_ITEM, FeedServer, feed, make_config, server

ROOT = Path(__file__).resolve().parent.parent
SECRET = "e2e-signing-secret-0123456789abcdef"
__all__ = ["server"]  # the loopback feed fixture


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def signed_headers(body: str, content_type: str) -> dict[str, str]:
    timestamp = str(int(time.time()))
    signature = SignatureVerifier(SECRET).generate_signature(timestamp=timestamp, body=body)
    assert signature is not None
    return {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature,
        "Content-Type": content_type,
    }


async def send(url: str, body: str, content_type: str) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=signed_headers(body, content_type)) as resp,
    ):
        return resp.status


async def until(predicate: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.1)


async def serving(url: str, bot: asyncio.subprocess.Process) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "up", "token": "x"})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if bot.returncode is not None:
            raise AssertionError("briefbot exited")
        try:
            if await send(url, body, "application/json") == 200:
                return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.2)
    raise AssertionError("briefbot never served Slack")


def alerts(fake: FakeSlack) -> list[dict[str, object]]:
    return [m for m in fake.channel_messages("C0GENERAL") if not m.get("thread_ts")]


async def test_briefbot_run_serves_slack_end_to_end(
    tmp_path: Path, server: tuple[FeedServer, str]
) -> None:
    state, feed_url = server
    config = make_config(tmp_path, feed_url)
    port = free_port()
    events = f"http://127.0.0.1:{port}/slack/events"
    async with fake_slack() as fake:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))}
        env.pop("OPENAI_API_KEY", None)
        env.update(
            PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
            SLACK_BOT_TOKEN="xoxb-e2e-token",
            SLACK_MODE="http",
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_HTTP_PORT=str(port),
            SLACK_API_URL=fake.base_url,
        )
        bot = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "bot", "run", "--config", str(config), "--poll-interval", "1"),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            cwd=ROOT,
        )
        try:
            await serving(events, bot)
            await until(lambda: state.requests >= 1)  # the baseline poll: never alerted

            body = urlencode(
                {
                    "team_id": TEAM_ID,
                    "channel_id": "C0GENERAL",
                    "user_id": "U0ALICE",
                    "command": "/brief",
                    "text": "subscribe nato",
                    "response_url": fake.response_url("subscribe"),
                    "trigger_id": "1.2.3",
                }
            )
            assert await send(events, body, "application/x-www-form-urlencoded") == 200
            await until(lambda: bool(fake.responses))
            [confirmed] = fake.responses
            assert "Subscribed to nato" in json.dumps(confirmed)
            assert confirmed["response_type"] == "ephemeral"

            state.body = feed(NEW_ITEM, OFF_ITEM, OLD_ITEM)
            seen = time.monotonic()
            await until(lambda: bool(alerts(fake)), seconds=15)
            took = time.monotonic() - seen
            assert took < 1 + 15 + 3  # a poll interval, the scheduler's tick, some slack
            requests = state.requests
            await until(lambda: state.requests >= requests + 2)  # two more rounds: still one
            [alert] = alerts(fake)
            blocks = json.dumps(alert["blocks"])
            assert "NATO allies pledge new air defence" in blocks
            assert "<https://wire.example/new?utm_source=rss|wire.example>" in blocks
            assert "Storm" not in json.dumps(fake.channel_messages("C0GENERAL"))
            assert alert["unfurl_links"] is False
            metadata = alert["metadata"]
            assert isinstance(metadata, dict) and metadata["event_type"] == "briefbot_post"

            mention = {
                "token": "x",
                "team_id": TEAM_ID,
                "api_app_id": "A0APP",
                "type": "event_callback",
                "event_id": "Ev0MENTION",
                "event_time": int(time.time()),
                "event": {
                    "type": "app_mention",
                    "user": "U0ALICE",
                    "text": f"<@{BOT_USER}> what's new on NATO?",
                    "ts": "1800000000.000100",
                    "channel": "C0GENERAL",
                },
            }
            assert await send(events, json.dumps(mention), "application/json") == 200

            def answers() -> list[dict[str, object]]:
                return [
                    m
                    for m in fake.channel_messages("C0GENERAL")
                    if m.get("thread_ts") == "1800000000.000100"
                ]

            await until(lambda: bool(answers()), seconds=20)
            [answer] = answers()
            assert "https://wire.example/new?utm_source=rss" in json.dumps(answer["blocks"])
            assert len(alerts(fake)) == 1

            status = await asyncio.create_subprocess_exec(
                *(sys.executable, "-m", "bot", "status", "--config", str(config)),
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=env,
                cwd=ROOT,
            )
            async with asyncio.timeout(30):
                shown, _ = await status.communicate()
            assert "Slack: connected, mode http, workspace Fake Workspace" in shown.decode()
        finally:
            if bot.returncode is None:
                bot.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(15):
                    _, err = await bot.communicate()
            finally:
                if bot.returncode is None:
                    bot.kill()
                    await bot.wait()
        log = err.decode()
        assert bot.returncode == 0, log
        assert "xoxb-e2e-token" not in log and SECRET not in log  # secrets never logged
        assert "Slack connected" in log
