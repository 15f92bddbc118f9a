"""The Slack platform through real slack-bolt: signed requests over real HTTP into HTTP mode,
Socket Mode envelopes through the same dispatch, commands, mentions and channel events."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from fakes.slack_api import BOT_ID, BOT_USER, TEAM_ID, FakeSlack, fake_slack
from slack_sdk.signature import SignatureVerifier

from bot.adapters.slack import SlackPlatform, create_slack, slack_ref
from bot.clock import SystemClock
from bot.config import Settings, load_settings
from bot.domain import BriefbotError, ConfigError, ManagePolicy, Post, PostKind
from bot.messages import Reply
from bot.services.chat import chat_service
from bot.services.outbox import Deliverer
from bot.store.memory import MemoryStore

ROOT = Path(__file__).resolve().parent.parent
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
GENERAL = slack_ref(TEAM_ID, "C0GENERAL")


def settings_for(fake: FakeSlack, *, mode: str = "http", **env: str) -> Settings:
    environ = {"SLACK_BOT_TOKEN": "xoxb-test-token", "SLACK_MODE": mode, **env}
    if mode == "http":
        environ.setdefault("SLACK_SIGNING_SECRET", SECRET)
    else:
        environ.setdefault("SLACK_APP_TOKEN", "xapp-1-test")
    environ["SLACK_API_URL"] = fake.base_url
    settings = load_settings(ROOT / "config", environ=environ)
    slack = replace(settings.slack, http_port=0, http_host="127.0.0.1")
    return replace(settings, slack=slack)


@dataclass
class Bot:
    fake: FakeSlack
    store: MemoryStore
    platform: SlackPlatform
    deliverer: Deliverer

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.platform.port}/slack/events"


async def build(fake: FakeSlack, settings: Settings) -> Bot:
    store, clock = MemoryStore(), SystemClock()
    chat = chat_service(store=store, story=settings.story, clock=clock)
    deliverer = Deliverer(store=store, outlets={}, clock=clock)
    platform = create_slack(
        settings, chat=chat, store=store, clock=clock, deliver=deliverer.deliver_due
    )
    deliverer.add_outlet(platform.outlet)
    return Bot(fake=fake, store=store, platform=platform, deliverer=deliverer)


@pytest.fixture
async def bot() -> AsyncIterator[Bot]:
    async with fake_slack() as fake:
        b = await build(fake, settings_for(fake))
        await b.platform.start()
        try:
            yield b
        finally:
            await b.platform.stop()


def signed(body: str, *, secret: str = SECRET, age: float = 0.0) -> dict[str, str]:
    timestamp = str(int(time.time() - age))
    signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
    assert signature is not None
    return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature}


def slash(fake: FakeSlack, text: str, *, channel: str = "C0GENERAL", user: str = "U0ALICE") -> str:
    return urlencode(
        {
            "token": "legacy",
            "team_id": TEAM_ID,
            "team_domain": "fake",
            "channel_id": channel,
            "channel_name": "general",
            "user_id": user,
            "user_name": "alice",
            "command": "/brief",
            "text": text,
            "api_app_id": "A0APP",
            "response_url": fake.response_url(f"{channel}-{user}-{len(fake.responses)}"),
            "trigger_id": "1.2.3",
        }
    )


async def post(url: str, body: str, headers: dict[str, str], content_type: str) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers={**headers, "Content-Type": content_type}) as resp,
    ):
        return resp.status, await resp.text()


async def command(bot: Bot, text: str, **kw: str) -> dict[str, Any]:
    before = len(bot.fake.responses)
    body = slash(bot.fake, text, **kw)
    started = time.monotonic()
    status, _ = await post(bot.url, body, signed(body), "application/x-www-form-urlencoded")
    assert status == 200
    assert time.monotonic() - started < 3.0  # acknowledged within Slack's 3 seconds
    await bot.fake.wait_for(lambda: len(bot.fake.responses) > before)
    return bot.fake.responses[-1]


def reply_text(response: dict[str, Any]) -> str:
    return json.dumps(response.get("blocks", [])) + str(response.get("text", ""))


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 10.0) -> None:
    end = time.monotonic() + within
    while not await check():
        if time.monotonic() > end:
            raise AssertionError("the condition never came true")
        await asyncio.sleep(0.05)


def event(kind: str, **fields: Any) -> dict[str, Any]:
    return {
        "token": "legacy",
        "team_id": TEAM_ID,
        "api_app_id": "A0APP",
        "type": "event_callback",
        "event_id": f"Ev{time.monotonic_ns()}",
        "event_time": int(time.time()),
        "event": {"type": kind, **fields},
    }


# --- HTTP mode: verification ----------------------------------------------------------------


async def test_a_signed_subscribe_is_confirmed_privately(bot: Bot) -> None:
    response = await command(bot, "subscribe nato")
    assert response["response_type"] == "ephemeral"
    assert "Subscribed to nato" in reply_text(response)
    assert await bot.store.subscriptions(GENERAL) == ["nato"]


async def test_slow_work_is_done_after_the_ack(bot: Bot) -> None:
    bot.fake.timeout_seconds = 3.5  # conversations.info answers after 3.5 s
    bot.fake.fail("conversations.info", "timeout")
    body = slash(bot.fake, "subscribe nato")
    started = time.monotonic()
    status, _ = await post(bot.url, body, signed(body), "application/x-www-form-urlencoded")
    assert status == 200 and time.monotonic() - started < 3.0
    assert bot.fake.responses == []
    await bot.fake.wait_for(lambda: bool(bot.fake.responses))
    assert "Subscribed to nato" in reply_text(bot.fake.responses[0])


async def test_forged_and_stale_signatures_are_rejected(bot: Bot) -> None:
    body = slash(bot.fake, "subscribe nato")
    forged = signed(body, secret="not-the-secret")
    assert (await post(bot.url, body, forged, "application/x-www-form-urlencoded"))[0] == 401
    stale = signed(body, age=600)
    assert (await post(bot.url, body, stale, "application/x-www-form-urlencoded"))[0] == 401
    tampered = signed(body)
    other = body.replace("subscribe", "unsubscribe")
    assert (await post(bot.url, other, tampered, "application/x-www-form-urlencoded"))[0] == 401
    assert (await post(bot.url, body, {}, "application/x-www-form-urlencoded"))[0] == 401
    await asyncio.sleep(0.2)
    assert await bot.store.subscriptions(GENERAL) == []
    assert bot.fake.responses == []


async def test_url_verification_answers_the_challenge(bot: Bot) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "c-123", "token": "x"})
    status, text = await post(bot.url, body, signed(body), "application/json")
    assert status == 200 and "c-123" in text


async def test_whatsnew_replies_in_channel_and_topics_privately(bot: Bot) -> None:
    assert (await command(bot, "whatsnew nato"))["response_type"] == "in_channel"
    topics = await command(bot, "topics")
    assert topics["response_type"] == "ephemeral"
    assert "nato" in reply_text(topics)


async def test_subscribe_where_the_bot_is_not_says_how_to_invite_it(bot: Bot) -> None:
    bot.fake.outside.add("C0SECRET")
    response = await command(bot, "subscribe nato", channel="C0SECRET")
    assert "/invite @briefbot" in reply_text(response)
    assert await bot.store.subscriptions(slack_ref(TEAM_ID, "C0SECRET")) == []


async def test_admin_policy_asks_slack_once_per_user() -> None:
    async with fake_slack() as fake:
        settings = settings_for(fake)
        settings = replace(
            settings, slack=replace(settings.slack, manage=ManagePolicy(who="admins"))
        )
        b = await build(fake, settings)
        await b.platform.start()
        try:
            fake.admins.add("U0BOSS")
            refused = await command(b, "subscribe nato", user="U0ALICE")
            assert "Only workspace admins" in reply_text(refused)
            assert await b.store.subscriptions(GENERAL) == []
            assert "Subscribed" in reply_text(await command(b, "subscribe nato", user="U0BOSS"))
            await command(b, "unsubscribe nato", user="U0BOSS")
            await command(b, "topics", user="U0CAROL")  # anyone may: Slack is not asked
            assert [c.args["user"] for c in fake.called("users.info")] == ["U0ALICE", "U0BOSS"]
        finally:
            await b.platform.stop()


# --- events: the same dispatch for Socket Mode and HTTP ---------------------------------------


async def test_a_mention_is_answered_in_its_thread(bot: Bot) -> None:
    payload = event(
        "app_mention",
        user="U0ALICE",
        text=f"<@{BOT_USER}> what's new on NATO?",
        ts="1700000100.000001",
        channel="C0GENERAL",
    )
    response = await bot.platform.dispatch(payload)
    assert response.status == 200
    await bot.fake.wait_for(lambda: bool(bot.fake.called("chat.postMessage")))
    [call] = bot.fake.called("chat.postMessage")
    assert call.args["thread_ts"] == "1700000100.000001"
    assert "nato" in call.args["text"].lower() or "nato" in json.dumps(call.args["blocks"])
    # the same event delivered twice (Slack retries) is answered once
    await bot.platform.dispatch(payload)
    await asyncio.sleep(0.3)
    assert len(bot.fake.called("chat.postMessage")) == 1


async def test_a_command_in_a_mention_acts_on_the_channel_under_the_policy() -> None:
    async with fake_slack() as fake:
        settings = settings_for(fake)
        settings = replace(
            settings, slack=replace(settings.slack, manage=ManagePolicy(who="admins"))
        )
        b = await build(fake, settings)
        await b.platform.start()
        try:
            fake.admins.add("U0BOSS")
            for n, user in enumerate(("U0ALICE", "U0BOSS")):
                await b.platform.dispatch(
                    event(
                        "app_mention",
                        user=user,
                        text=f"<@{BOT_USER}> subscribe nato",
                        ts=f"1700000600.00000{n}",
                        thread_ts="1700000500.000001",
                        channel="C0GENERAL",
                    )
                )
                await fake.wait_for(lambda n=n: len(fake.called("chat.postMessage")) > n)
            refused, done = (c.args for c in fake.called("chat.postMessage"))
            assert "Only workspace admins" in json.dumps(refused["blocks"])
            assert "Subscribed to nato" in json.dumps(done["blocks"])
            assert done["thread_ts"] == "1700000500.000001"  # the answer, in the thread
            assert await b.store.subscriptions(GENERAL) == ["nato"]  # the channel follows
        finally:
            await b.platform.stop()


async def test_a_mention_over_http_goes_the_same_way(bot: Bot) -> None:
    payload = event(
        "app_mention",
        user="U0ALICE",
        text=f"<@{BOT_USER}> topics",
        ts="1700000200.000001",
        thread_ts="1700000150.000001",
        channel="C0GENERAL",
    )
    body = json.dumps(payload)
    status, _ = await post(bot.url, body, signed(body), "application/json")
    assert status == 200
    await bot.fake.wait_for(lambda: bool(bot.fake.called("chat.postMessage")))
    assert bot.fake.called("chat.postMessage")[0].args["thread_ts"] == "1700000150.000001"


async def test_a_direct_message_is_answered_there(bot: Bot) -> None:
    await bot.platform.dispatch(
        event(
            "message",
            channel_type="im",
            channel="D0ALICE",
            user="U0ALICE",
            text="help",
            ts="1700000300.000001",
        )
    )
    await bot.fake.wait_for(lambda: bool(bot.fake.called("chat.postMessage")))
    [call] = bot.fake.called("chat.postMessage")
    assert call.args["channel"] == "D0ALICE" and not call.args.get("thread_ts")


async def test_bots_and_the_bot_itself_are_ignored(bot: Bot) -> None:
    for fields in (
        {"user": BOT_USER, "bot_id": BOT_ID},
        {"user": "U0OTHERBOT", "bot_id": "B0OTHER"},
        {"subtype": "bot_message", "bot_id": "B0OTHER"},
    ):
        await bot.platform.dispatch(
            event(
                "message",
                channel_type="im",
                channel="D0ALICE",
                text="what's new on nato",
                ts=f"1700000400.{len(fields):06d}",
                **fields,
            )
        )
        await bot.platform.dispatch(
            event(
                "app_mention",
                channel="C0GENERAL",
                text=f"<@{BOT_USER}> what's new",
                ts=f"1700000500.{len(fields):06d}",
                **fields,
            )
        )
    await asyncio.sleep(0.5)
    assert await bot.store.outbox_depth() == 0
    assert bot.fake.called("chat.postMessage") == []


async def test_removed_then_invited_back_pauses_and_resumes(bot: Bot) -> None:
    await command(bot, "subscribe nato")
    bot.fake.outside.add("C0GENERAL")
    await bot.platform.dispatch(
        event("app_mention", user="U0ALICE", text="topics", ts="1.1", channel="C0GENERAL")
    )

    async def paused() -> bool:
        channel = await bot.store.get_channel(GENERAL)
        return channel is not None and channel.paused

    await eventually(paused)
    assert await bot.store.outbox_depth() == 1
    # someone else joining changes nothing; the bot joining resumes and delivers
    await bot.platform.dispatch(event("member_joined_channel", user="U0CAROL", channel="C0GENERAL"))
    await asyncio.sleep(0.2)
    assert await paused()
    bot.fake.outside.discard("C0GENERAL")
    await bot.platform.dispatch(event("member_joined_channel", user=BOT_USER, channel="C0GENERAL"))

    async def delivered() -> bool:
        return await bot.store.outbox_depth() == 0 and not await paused()

    await eventually(delivered)
    assert bot.fake.channel_messages("C0GENERAL")[0]["thread_ts"] == "1.1"


async def test_archive_uninstall_and_revocation_pause(bot: Bot) -> None:
    await command(bot, "subscribe nato")
    news = slack_ref(TEAM_ID, "C0NEWS")
    await bot.store.subscribe(news, ["*"])

    async def paused_keys() -> set[str]:
        return {c.ref.key for c in await bot.store.paused_channels()}

    await bot.platform.dispatch(event("channel_archive", channel="C0NEWS", user="U0ALICE"))
    await eventually(lambda: _eq(paused_keys(), {news.key}))
    await bot.platform.dispatch(event("channel_unarchive", channel="C0NEWS", user="U0ALICE"))
    await eventually(lambda: _eq(paused_keys(), set()))
    await bot.platform.dispatch(event("app_uninstalled"))
    await eventually(lambda: _eq(paused_keys(), {news.key, GENERAL.key}))
    channel = await bot.store.get_channel(GENERAL)
    assert channel is not None and "uninstalled" in (channel.pause_reason or "")
    await bot.store.set_paused(platform="slack", workspace=TEAM_ID, channel=None, reason=None)
    await bot.platform.dispatch(event("tokens_revoked", tokens={"oauth": ["U0ALICE"]}))
    await asyncio.sleep(0.2)
    assert await paused_keys() == set()  # a person's token, not the bot's
    await bot.platform.dispatch(event("tokens_revoked", tokens={"bot": [BOT_USER]}))
    await eventually(lambda: _eq(paused_keys(), {news.key, GENERAL.key}))
    await bot.store.set_paused(platform="slack", workspace=TEAM_ID, channel=None, reason=None)
    await bot.platform.dispatch(event("channel_left", channel="C0NEWS", actor_id="U0ALICE"))
    await eventually(lambda: _eq(paused_keys(), {news.key}))


async def _eq(value: Awaitable[set[str]], expected: set[str]) -> bool:
    return await value == expected


# --- starting -------------------------------------------------------------------------------


async def test_status_names_the_mode_and_workspace(bot: Bot) -> None:
    status = bot.platform.status()
    assert status["connected"] is True and status["mode"] == "http"
    assert status["workspace"] == "Fake Workspace" and status["team_id"] == TEAM_ID
    assert status["last_error"] is None
    json.dumps(dict(status))
    await bot.platform.stop()
    assert bot.platform.status()["connected"] is False


async def test_missing_app_token_or_signing_secret_is_a_config_error() -> None:
    async with fake_slack() as fake:
        socket = settings_for(fake, mode="socket")
        no_app = replace(socket, secrets=replace(socket.secrets, slack_app_token=None))
        with pytest.raises(ConfigError, match="SLACK_APP_TOKEN"):
            await build(fake, no_app)
        http = settings_for(fake)
        no_secret = replace(http, secrets=replace(http.secrets, slack_signing_secret=None))
        with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
            await build(fake, no_secret)


async def test_socket_mode_with_a_refused_app_token_says_so() -> None:
    async with fake_slack() as fake:
        b = await build(fake, settings_for(fake, mode="socket", SLACK_APP_TOKEN="xapp-1-bad"))
        with pytest.raises(BriefbotError, match="SLACK_APP_TOKEN"):
            await b.platform.start()
        assert [c.method for c in fake.calls] == ["auth.test", "apps.connections.open"]
        assert fake.calls[-1].token == "xapp-1-bad"
        assert "SLACK_APP_TOKEN" in (b.platform.status()["last_error"] or "")
        assert not b.platform.outlet.ready
        await b.platform.stop()


async def test_socket_mode_carries_events_to_the_same_handlers() -> None:
    async with fake_slack() as fake:
        b = await build(fake, settings_for(fake, mode="socket", SLACK_APP_TOKEN="xapp-1-good"))
        await b.platform.start()
        try:
            assert b.platform.status()["connected"] is True
            assert b.platform.status()["mode"] == "socket"
            await fake.wait_for(lambda: bool(fake.sockets))
            envelope = await fake.push(
                event(
                    "app_mention",
                    user="U0ALICE",
                    text=f"<@{BOT_USER}> topics",
                    ts="1700000700.000001",
                    channel="C0GENERAL",
                )
            )
            await fake.wait_for(lambda: any(a.get("envelope_id") == envelope for a in fake.acks))
            await fake.wait_for(lambda: bool(fake.called("chat.postMessage")))
            assert fake.called("chat.postMessage")[0].args["thread_ts"] == "1700000700.000001"
        finally:
            await b.platform.stop()
        assert b.platform.status()["connected"] is False


async def test_a_port_in_use_names_the_setting() -> None:
    async with fake_slack() as fake:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            settings = settings_for(fake)
            port = taken.getsockname()[1]
            settings = replace(settings, slack=replace(settings.slack, http_port=port))
            b = await build(fake, settings)
            with pytest.raises(BriefbotError, match="SLACK_HTTP_PORT"):
                await b.platform.start()
            await b.platform.stop()


async def test_a_refused_bot_token_says_which_variable() -> None:
    async with fake_slack() as fake:
        b = await build(fake, settings_for(fake))
        fake.fail("auth.test", "invalid_auth")
        with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN"):
            await b.platform.start()
        await b.platform.stop()


async def test_posts_wait_until_slack_is_connected() -> None:
    async with fake_slack() as fake:
        b = await build(fake, settings_for(fake))
        ref = slack_ref(TEAM_ID, "C0GENERAL", thread="1.1")
        await b.store.enqueue(
            Post(
                key=f"answer:{ref.key}:1.1",
                channel=ref,
                kind=PostKind.ANSWER,
                text="hello",
                created_at=SystemClock().now(),
                message=Reply(lines=("hello",)),
            )
        )
        assert await b.deliverer.deliver_due() == 0  # not connected: the post waits
        assert await b.store.outbox_depth() == 1
        await b.platform.start()
        try:
            assert await b.deliverer.deliver_due() == 1
            assert len(fake.called("chat.postMessage")) == 1
        finally:
            await b.platform.stop()
