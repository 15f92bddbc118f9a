"""One process, both platforms: `briefbot run` with Slack and Discord tokens set serves both,
keeps the console off, keys every channel by its platform, and `briefbot status` shows both."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import sys
from pathlib import Path

from fakes.discord_api import FakeDiscord
from fakes.slack_api import fake_slack
from test_run_console import NEW_ITEM, OLD_ITEM, FeedServer, feed, make_config, server
from test_slack_e2e import SECRET, alerts, free_port, serving, until

ROOT = Path(__file__).resolve().parent.parent
__all__ = ["server"]
DISCORD_CHANNEL = "200000000000000777"
DISCORD_GUILD = "100000000000000777"


async def test_slack_and_discord_in_one_process(
    tmp_path: Path, server: tuple[FeedServer, str]
) -> None:
    state, feed_url = server
    config = make_config(tmp_path, feed_url)
    discord = FakeDiscord()
    discord_url = await discord.start()
    with (config / "bot.toml").open("a") as f:
        f.write(f'[discord]\napi_url = "{discord_url}"\napplication_id = "900000000000000001"\n')
    port = free_port()
    db = tmp_path / "bot.db"
    try:
        async with fake_slack() as slack:
            env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))}
            env.pop("OPENAI_API_KEY", None)
            env.update(
                PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
                SLACK_BOT_TOKEN="xoxb-two-platforms",
                SLACK_MODE="http",
                SLACK_SIGNING_SECRET=SECRET,
                SLACK_HTTP_PORT=str(port),
                SLACK_API_URL=slack.base_url,
                DISCORD_TOKEN="discord-two-platforms-token",
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
                await serving(f"http://127.0.0.1:{port}/slack/events", bot)
                await until(lambda: state.requests >= 1)
                with sqlite3.connect(db) as conn:  # one channel on each platform follows all
                    for key, platform, workspace, channel in (
                        ("slack:T0FAKE:C0GENERAL", "slack", "T0FAKE", "C0GENERAL"),
                        (
                            f"discord:{DISCORD_GUILD}:{DISCORD_CHANNEL}",
                            "discord",
                            DISCORD_GUILD,
                            DISCORD_CHANNEL,
                        ),
                    ):
                        conn.execute(
                            "INSERT INTO channels (key, platform, workspace, channel)"
                            " VALUES (?, ?, ?, ?)",
                            (key, platform, workspace, channel),
                        )
                        conn.execute(
                            "INSERT INTO subscriptions (channel_key, topic) VALUES (?, '*')",
                            (key,),
                        )
                state.body = feed(NEW_ITEM, OLD_ITEM)
                await until(lambda: bool(alerts(slack)) and bool(discord.made(DISCORD_CHANNEL)))
                requests = state.requests
                await until(lambda: state.requests >= requests + 2)
                assert len(alerts(slack)) == 1 and len(discord.made(DISCORD_CHANNEL)) == 1
                [made] = discord.made(DISCORD_CHANNEL)
                assert "NATO allies pledge" in json.dumps(made.body["embeds"])
                status = await asyncio.create_subprocess_exec(
                    *(sys.executable, "-m", "bot", "status", "--config", str(config)),
                    stdout=asyncio.subprocess.PIPE,
                    env=env,
                    cwd=ROOT,
                )
                async with asyncio.timeout(30):
                    shown, _ = await status.communicate()
                text = shown.decode()
                assert "Slack: connected" in text and "Discord:" in text
            finally:
                if bot.returncode is None:
                    bot.send_signal(signal.SIGTERM)
                async with asyncio.timeout(15):
                    out, err = await bot.communicate()
    finally:
        await discord.close()
    assert bot.returncode == 0, err.decode()
    assert "This terminal is a channel" not in out.decode()  # the console is off
    with sqlite3.connect(db) as conn:
        keys = [r[0] for r in conn.execute("SELECT DISTINCT channel_key FROM outbox")]
    assert sorted(keys) == [f"discord:{DISCORD_GUILD}:{DISCORD_CHANNEL}", "slack:T0FAKE:C0GENERAL"]
