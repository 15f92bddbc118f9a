"""The Discord adapter against a local fake of Discord's REST API, through discord.py's real HTTP
client and its real CommandTree (interactions parsed from INTERACTION_CREATE payloads)."""

from __future__ import annotations

import asyncio
import itertools
import re
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import discord
import pytest
from fakes.discord_api import APP_ID, BOT_ID, Failure, FakeDiscord

from bot.adapters.discord import (
    PERMISSIONS,
    DiscordPlatform,
    Pacer,
    create_discord,
    footer_for,
    invite_url,
    make_client,
    nonce_for,
)
from bot.clock import ManualClock
from bot.config import load_settings
from bot.domain import Channel, ChannelRef, Development, Post, PostKind, Source, Story, Topic
from bot.messages import AlertView, Reply
from bot.ports import DeliveryError, NewItem
from bot.services.chat import chat_service
from bot.services.commands import COMMANDS
from bot.services.outbox import Deliverer
from bot.store.memory import MemoryStore

NOW = datetime(2026, 2, 10, 12, 0, tzinfo=UTC)
GUILD = "100000000000000001"
CHANNEL = "200000000000000001"
OTHER = "200000000000000002"
STORY = Story(
    id="talks",
    name="Peace talks",
    description="The talks",
    terms=("ukraine",),
    topics=(
        Topic(id="negotiations", name="Negotiations", description="Envoys and drafts"),
        Topic(id="territory", name="Territory", description="Land and lines"),
        Topic(id="nato", name="NATO", description="The alliance"),
    ),
)
SHIPPED_CONFIG = Path(__file__).resolve().parent.parent / "config"
REF = ChannelRef(platform="discord", workspace=GUILD, channel=CHANNEL)
MANAGE_CHANNELS = 1 << 4
SEND = 1 << 11


class Rig:
    def __init__(
        self, fake: FakeDiscord, platform: DiscordPlatform, store: MemoryStore, clock: ManualClock
    ) -> None:
        self.fake = fake
        self.platform = platform
        self.store = store
        self.clock = clock
        self._ids = itertools.count(1)

    def interact(self, payload: dict[str, Any]) -> None:
        self.platform.client._connection.parse_interaction_create(payload)  # type: ignore[arg-type]

    def command(
        self,
        verb: str,
        options: list[dict[str, Any]] | None = None,
        *,
        permissions: int = MANAGE_CHANNELS | SEND,
        kind: int = 2,
        guild: bool = True,
    ) -> str:
        token = f"tok{next(self._ids)}"
        sub: dict[str, Any] = {"name": verb, "type": 1, "options": options or []}
        payload: dict[str, Any] = {
            "id": str(800000000000000000 + next(self._ids)),
            "application_id": APP_ID,
            "type": kind,
            "token": token,
            "version": 1,
            "channel_id": CHANNEL,
            "channel": {"id": CHANNEL, "type": 0 if guild else 1, "name": "news"},
            "locale": "en-US",
            "attachment_size_limit": 8388608,
            "app_permissions": str(PERMISSIONS.value),
            "entitlements": [],
            "authorizing_integration_owners": {},
            "data": {"id": "700000000000000001", "name": "brief", "type": 1, "options": [sub]},
        }
        user = {
            "id": "300000000000000001",
            "username": "ana",
            "discriminator": "0",
            "avatar": None,
            "global_name": "Ana",
        }
        if guild:
            payload["guild_id"] = GUILD
            payload["channel"]["guild_id"] = GUILD
            payload["channel"]["position"] = 0
            payload["channel"]["permission_overwrites"] = []
            payload["member"] = {
                "user": user,
                "roles": [],
                "joined_at": "2025-01-01T00:00:00+00:00",
                "deaf": False,
                "mute": False,
                "flags": 0,
                "permissions": str(permissions),
            }
        else:
            payload["user"] = user
            payload["channel"]["recipients"] = [user]
        self.interact(payload)
        return token

    async def response(self, token: str) -> list[dict[str, Any]]:
        """The callback (and follow-up) bodies sent for an interaction, once it is answered."""

        def answered() -> bool:
            calls = [c for c in self.fake.callbacks() if token in c.path]
            return any(c.body.get("type") in (4, 8) or "/webhooks/" in c.path for c in calls)

        await self.fake.wait_for(answered)
        return [c.body for c in self.fake.callbacks() if token in c.path]


def _final(bodies: list[dict[str, Any]]) -> tuple[dict[str, Any], bool]:
    """The message an interaction answered with, and whether it was ephemeral."""
    last = bodies[-1]
    data = last.get("data", last)
    flags = int(data.get("flags") or 0)
    if last.get("type") is None and len(bodies) > 1:  # a follow-up after a deferral
        flags |= int(bodies[0].get("data", {}).get("flags") or 0)
    return data, bool(flags & 64)


def _text(data: dict[str, Any]) -> str:
    parts = [data.get("content") or ""]
    for e in data.get("embeds") or []:
        parts += [e.get("title", ""), e.get("description", ""), e.get("footer", {}).get("text", "")]
        parts += [f["name"] + " " + f["value"] for f in e.get("fields", [])]
    return re.sub(r"\\(.)", r"\1", "\n".join(parts))  # as the reader sees it: no escapes


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    fake = FakeDiscord()
    base = await fake.start()
    store = MemoryStore()
    clock = ManualClock(NOW)
    chat = chat_service(store=store, story=STORY, clock=clock)
    platform = DiscordPlatform(
        token="secret-token",
        chat=chat,
        store=store,
        clock=clock,
        application_id=APP_ID,
        api_url=base,
        gateway=False,
        timeout=3.0,
        answer_within=1.0,
    )
    await platform.start()
    yield Rig(fake, platform, store, clock)
    await platform.stop()
    await fake.close()


def _alert(headline: str = "Envoys meet in Geneva", **kw: Any) -> AlertView:
    return AlertView(
        headline=headline,
        summary=kw.pop("summary", "Talks resumed on Monday."),
        outlets=kw.pop("outlets", ("Reuters",)),
        links=kw.pop("links", ("https://example.com/a",)),
        topics=kw.pop("topics", ("negotiations",)),
        **kw,
    )


def _post(
    key: str = "alert:1",
    *,
    channel: ChannelRef = REF,
    kind: PostKind = PostKind.ALERT,
    message: Any = None,
    **kw: Any,
) -> Post:
    return Post(
        key=key,
        channel=channel,
        kind=kind,
        text="plain",
        created_at=NOW,
        message=message if message is not None else _alert(),
        **kw,
    )


# --- connection and install ---------------------------------------------------------------


def test_invite_url_has_exactly_the_scopes_and_permissions() -> None:
    url = invite_url(APP_ID)
    query = parse_qs(urlsplit(url).query)
    assert query["client_id"] == [APP_ID]
    assert query["scope"] == ["bot applications.commands"]
    perms = discord.Permissions(int(query["permissions"][0]))
    expected = discord.Permissions(
        view_channel=True,
        send_messages=True,
        send_messages_in_threads=True,
        embed_links=True,
        read_message_history=True,
    )
    assert perms.value == expected.value == 274877991936
    assert not perms.mention_everyone and not perms.administrator
    with pytest.raises(ValueError):
        invite_url("not-an-id")


async def test_start_logs_in_syncs_the_brief_group_and_reports_status(rig: Rig) -> None:
    client = rig.platform.client
    assert client.intents.message_content is False and client.intents.members is False
    assert client.intents.guilds and client.intents.guild_messages and client.intents.dm_messages
    am = client.allowed_mentions
    assert am is not None and not am.everyone and not am.users and not am.roles
    sync = [c for c in rig.fake.calls if c.method == "PUT" and c.path.endswith("/commands")]
    assert sync and sync[0].path == f"/applications/{APP_ID}/commands"
    (group,) = sync[0].body
    assert group["name"] == "brief"
    assert {o["name"] for o in group["options"]} == {spec.verb for spec in COMMANDS}
    whatsnew = next(o for o in group["options"] if o["name"] == "whatsnew")
    assert {o["name"] for o in whatsnew["options"]} == {"topic", "since"}
    assert all(o.get("autocomplete") for o in whatsnew["options"] if o["name"] == "topic")
    status = rig.platform.status()
    assert status["application_id"] == APP_ID and status["logged_in"] is True
    assert status["guilds"] == 0 and "last_error" in status
    assert "secret-token" not in repr(status)


def test_sharding_is_a_setting() -> None:
    sharded = make_client(sharding=True, api_url=None, application_id=APP_ID)
    single = make_client(sharding=False, api_url=None, application_id=APP_ID)
    assert isinstance(sharded, discord.AutoShardedClient)
    assert not isinstance(single, discord.AutoShardedClient)


async def test_a_test_guild_gets_the_commands_instead_of_everyone() -> None:
    fake = FakeDiscord()
    base = await fake.start()
    store = MemoryStore()
    clock = ManualClock(NOW)
    chat = chat_service(store=store, story=STORY, clock=clock)
    platform = DiscordPlatform(
        token="t",
        chat=chat,
        store=store,
        clock=clock,
        application_id=APP_ID,
        api_url=base,
        gateway=False,
        test_guild=GUILD,
    )
    try:
        await platform.start()
        sync = [c.path for c in fake.calls if c.method == "PUT"]
        assert sync == [f"/applications/{APP_ID}/guilds/{GUILD}/commands"]
    finally:
        await platform.stop()
        await fake.close()


# --- commands through the real CommandTree ----------------------------------------------------


async def test_subscribe_then_subscriptions_then_unsubscribe(rig: Rig) -> None:
    token = rig.command("subscribe", [{"name": "topics", "type": 3, "value": "nato territory"}])
    data, private = _final(await rig.response(token))
    assert "Subscribed to nato, territory." in _text(data) and private
    assert await rig.store.subscriptions(REF) == ["nato", "territory"]
    data, _ = _final(await rig.response(rig.command("subscriptions")))
    assert "nato" in _text(data) and "territory" in _text(data)
    token = rig.command("unsubscribe", [{"name": "topics", "type": 3, "value": "nato"}])
    data, _ = _final(await rig.response(token))
    assert "Unsubscribed from nato." in _text(data)
    assert await rig.store.subscriptions(REF) == ["territory"]


async def test_subscribe_needs_manage_channels_checked_at_run_time(rig: Rig) -> None:
    token = rig.command(
        "subscribe", [{"name": "topics", "type": 3, "value": "nato"}], permissions=SEND
    )
    data, private = _final(await rig.response(token))
    assert "may change what this channel follows" in _text(data) and private
    assert await rig.store.subscriptions(REF) == []
    # anyone may ask
    data, _ = _final(await rig.response(rig.command("topics", permissions=SEND)))
    assert "negotiations" in _text(data) and "territory" in _text(data)


async def test_a_direct_message_has_its_own_channel_and_may_subscribe(rig: Rig) -> None:
    token = rig.command("subscribe", [{"name": "topics", "type": 3, "value": "*"}], guild=False)
    data, _ = _final(await rig.response(token))
    assert "Subscribed to *" in _text(data)
    dm = ChannelRef(platform="discord", workspace="dm", channel=CHANNEL)
    assert await rig.store.subscriptions(dm) == ["*"]
    assert await rig.store.subscriptions(REF) == []


async def test_bad_input_gets_a_helpful_error(rig: Rig) -> None:
    token = rig.command("subscribe", [{"name": "topics", "type": 3, "value": "bananas"}])
    data, private = _final(await rig.response(token))
    text = _text(data)
    assert "Unknown topic “bananas”" in text and "Known topics" in text and private
    token = rig.command("unsubscribe", [{"name": "topics", "type": 3, "value": "x" * 90}])
    data, private = _final(await rig.response(token))
    assert "Unknown topic" in _text(data) and private


async def test_missing_topics_and_a_stale_subcommand_get_helpful_errors(rig: Rig) -> None:
    # Discord never sends a required option empty: discord.py sees an out-of-date command
    for verb in ("subscribe", "retired"):  # "retired": no longer in the table
        data, private = _final(await rig.response(rig.command(verb)))
        assert "out of date" in _text(data) and "/brief help" in _text(data) and private
    token = rig.command("subscribe", [{"name": "topics", "type": 3, "value": " , "}])
    data, private = _final(await rig.response(token))
    assert "Which topics?" in _text(data) and "Known topics" in _text(data) and private


async def test_help_topics_sources_are_answered_privately_from_the_table(rig: Rig) -> None:
    data, private = _final(await rig.response(rig.command("help")))
    assert private
    for spec in COMMANDS:
        assert spec.usage in _text(data)
    data, private = _final(await rig.response(rig.command("sources")))
    assert private and "No sources are configured" in _text(data)


async def test_whatsnew_lists_developments_publicly_and_takes_since(rig: Rig) -> None:
    await rig.store.sync_sources([Source(id="wire", name="Wire", url="https://example.com/f")])
    item = await rig.store.add_item(
        NewItem(
            source_id="wire",
            guid="g1",
            link="https://example.com/geneva",
            title="Envoys meet",
            summary="",
            published=NOW,
            first_seen=NOW - timedelta(hours=2),
            content_hash="h",
            url="https://example.com/geneva",
        )
    )
    await rig.store.save_development(
        Development(
            id="d1",
            first_seen=NOW - timedelta(hours=2),
            updated_at=NOW,
            title="Envoys meet in Geneva @everyone",
            summary="",
            topics=("negotiations",),
            item_ids=(item.id,),
        )
    )
    token = rig.command(
        "whatsnew",
        [
            {"name": "topic", "type": 3, "value": "negotiations"},
            {"name": "since", "type": 3, "value": "yesterday"},
        ],
    )
    data, private = _final(await rig.response(token))
    text = _text(data)
    assert "Envoys meet in Geneva" in text and not private
    assert "@everyone" not in text
    assert "](https://example.com/geneva)" in text


async def test_slow_work_is_deferred_then_followed_up(rig: Rig) -> None:
    commands = rig.platform.commands
    commands._answer_within = 0.05
    original = rig.platform._chat.command

    async def slow(*args: Any) -> Reply:
        await asyncio.sleep(0.3)
        return await original(*args)

    rig.platform._chat.command = slow  # type: ignore[method-assign,assignment]
    token = rig.command("topics")
    bodies = await rig.response(token)
    assert bodies[0]["type"] == 5 and bodies[0]["data"]["flags"] == 64  # deferred, ephemeral
    data, private = _final(bodies)
    assert "negotiations" in _text(data) and private


async def test_topic_autocomplete(rig: Rig) -> None:
    token = f"auto{id(rig)}"
    rig.interact(
        {
            "id": "810000000000000001",
            "application_id": APP_ID,
            "type": 4,
            "token": token,
            "version": 1,
            "guild_id": GUILD,
            "channel_id": CHANNEL,
            "channel": {
                "id": CHANNEL,
                "type": 0,
                "guild_id": GUILD,
                "name": "news",
                "position": 0,
                "permission_overwrites": [],
            },
            "member": {
                "user": {"id": "3", "username": "ana", "discriminator": "0", "avatar": None},
                "roles": [],
                "joined_at": "2025-01-01T00:00:00+00:00",
                "deaf": False,
                "mute": False,
                "flags": 0,
                "permissions": str(SEND),
            },
            "locale": "en-US",
            "attachment_size_limit": 8388608,
            "entitlements": [],
            "data": {
                "id": "700000000000000001",
                "name": "brief",
                "type": 1,
                "options": [
                    {
                        "name": "subscribe",
                        "type": 1,
                        "options": [
                            {"name": "topics", "type": 3, "value": "nato ter", "focused": True}
                        ],
                    }
                ],
            },
        }
    )
    (body,) = await rig.response(token)
    assert body["type"] == 8
    choices = body["data"]["choices"]
    assert [c["value"] for c in choices] == ["nato territory"]


def test_autocomplete_offers_every_topic_when_nothing_is_typed(rig: Rig) -> None:
    values = [c.value for c in rig.platform.commands.choices("")]
    assert values == ["*", "negotiations", "territory", "nato"]


# --- mentions and guild events --------------------------------------------------------------


def _user(user_id: str, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {"id": user_id, "username": name, "discriminator": "0", "avatar": None, "bot": bot}


def _message_create(
    message_id: str,
    content: str,
    *,
    author: dict[str, Any],
    mentions: list[dict[str, Any]],
    guild: bool = True,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": message_id,
        "channel_id": CHANNEL,
        "author": author,
        "content": content,
        "mentions": mentions,
        "mention_roles": [],
        "mention_everyone": False,
        "attachments": [],
        "embeds": [],
        "pinned": False,
        "tts": False,
        "type": 0,
        "timestamp": "2026-02-10T12:00:00+00:00",
        "edited_timestamp": None,
    }
    if guild:
        payload["guild_id"] = GUILD
    return payload


async def _until(predicate: Any) -> None:
    """Wait for the event handlers discord.py runs as tasks (polled: they signal nothing)."""
    for _ in range(500):
        if await predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the event was not handled in time")


async def test_a_mention_queues_an_answer_as_a_reply_and_bots_are_ignored(rig: Rig) -> None:
    state = rig.platform.client._connection
    me = _user(BOT_ID, "briefbot", bot=True)
    ana = _user("300000000000000001", "ana")
    other_bot = _user("300000000000000009", "newsbot", bot=True)
    state.parse_message_create(
        _message_create("555", f"<@{BOT_ID}> topics", author=ana, mentions=[me])  # type: ignore[arg-type]
    )
    state.parse_message_create(
        _message_create("556", "just chatting @everyone", author=ana, mentions=[])  # type: ignore[arg-type]
    )
    state.parse_message_create(
        _message_create("557", f"<@{BOT_ID}> topics", author=other_bot, mentions=[me])  # type: ignore[arg-type]
    )
    state.parse_message_create(
        _message_create("558", "topics", author=me, mentions=[], guild=False)  # type: ignore[arg-type]
    )
    state.parse_message_create(
        _message_create("559", "what's new on territory?", author=ana, mentions=[], guild=False)  # type: ignore[arg-type]
    )

    async def two_queued() -> bool:
        return len(await rig.store.pending_heads(per_channel=10, limit=10)) >= 2

    await _until(two_queued)
    await asyncio.sleep(0.05)  # the ignored ones had their chance too
    posts = await rig.store.pending_heads(per_channel=10, limit=10)
    assert sorted(p.channel.key for p in posts) == [
        f"discord:{GUILD}:{CHANNEL}:555",
        f"discord:dm:{CHANNEL}:559",
    ]
    # the answer is delivered as a reply to the message that asked
    guild_post = next(p for p in posts if p.channel.workspace == GUILD)
    await rig.platform.outlet.send(guild_post)
    (made,) = rig.fake.made(CHANNEL)
    assert str(made.body["message_reference"]["message_id"]) == "555"
    assert made.body["message_reference"]["fail_if_not_exists"] is False
    assert made.body["allowed_mentions"]["parse"] == []
    assert "negotiations" in _text(made.body)


async def test_removed_from_a_guild_pauses_it_and_joining_again_resumes(rig: Rig) -> None:
    await rig.store.subscribe(REF, ["nato"])
    state = rig.platform.client._connection
    guild = {
        "id": GUILD,
        "name": "News",
        "channels": [],
        "roles": [],
        "members": [],
        "member_count": 2,
        "features": [],
        "emojis": [],
        "stickers": [],
    }
    state.parse_guild_create(guild)
    await asyncio.sleep(0.05)

    async def paused() -> bool:
        channel = await rig.store.get_channel(REF)
        return channel is not None and channel.paused

    async def resumed() -> bool:
        return not await paused()

    # an outage is not a removal
    state.parse_guild_delete({"id": GUILD, "unavailable": True})
    await asyncio.sleep(0.05)
    assert await resumed()
    state.parse_guild_create(guild)
    state.parse_guild_delete({"id": GUILD})
    await _until(paused)
    channel = await rig.store.get_channel(REF)
    assert channel is not None and channel.pause_reason == "the bot was removed from the server"
    state.parse_guild_create(guild)
    await _until(resumed)
    assert await rig.store.subscriptions(REF) == ["nato"]


# --- delivery through the real HTTP client ---------------------------------------------------


async def test_a_create_carries_the_key_digest_as_nonce_and_in_the_footer(rig: Rig) -> None:
    message_id = await rig.platform.outlet.send(_post("alert:discord:x:d1"))
    (made,) = rig.fake.made(CHANNEL)
    digest = nonce_for("alert:discord:x:d1")
    assert len(digest) == 25
    assert made.body["nonce"] == digest and made.body["enforce_nonce"] is True
    (embed,) = made.body["embeds"]
    assert embed["title"] == "Envoys meet in Geneva"
    assert digest in embed["footer"]["text"]
    assert message_id == rig.fake.messages[CHANNEL][0]["id"]


async def test_one_embed_per_development_and_an_update_edits_it_in_place(rig: Rig) -> None:
    store, clock = rig.store, rig.clock
    await store.save_channel(Channel(ref=REF))
    deliverer = Deliverer(store=store, outlets={"discord": rig.platform.outlet}, clock=clock)
    alert = Post(
        key="alert:d1",
        channel=REF,
        kind=PostKind.ALERT,
        text="t",
        created_at=NOW,
        development_id="d1",
        message=_alert(),
    )
    await store.enqueue(alert)
    assert await deliverer.deliver_due() == 1
    update = Post(
        key="update:d1:1",
        channel=REF,
        kind=PostKind.UPDATE,
        text="t",
        created_at=NOW,
        development_id="d1",
        thread_of="alert:d1",
        message=_alert(
            is_update=True,
            outlets=("Reuters", "AP"),
            links=("https://example.com/b", "https://example.com/a"),
            new_outlets=("AP",),
        ),
    )
    await store.enqueue(update)
    assert await deliverer.deliver_due() == 1
    assert len(rig.fake.made(CHANNEL)) == 1  # one message for the development
    (edit,) = rig.fake.edits()
    alert_id = rig.fake.messages[CHANNEL][0]["id"]
    assert edit.path == f"/channels/{CHANNEL}/messages/{alert_id}"
    (embed,) = edit.body["embeds"]
    assert "AP" in _text({"embeds": [embed]}) and "Talks resumed" in embed["description"]
    assert nonce_for("alert:d1") in embed["footer"]["text"]  # still the alert's reference
    delivered = await store.get_post("update:d1:1")
    assert delivered is not None and delivered.platform_message_id == alert_id


async def test_an_edit_of_a_deleted_message_gives_up_and_is_not_recreated(rig: Rig) -> None:
    outlet = rig.platform.outlet
    message_id = await outlet.send(_post())
    await outlet.edit(
        _post("edit:0", message=_alert("Envoys meet in Geneva, corrected")), message_id
    )
    (edit,) = rig.fake.edits()
    assert edit.body["embeds"][0]["title"] == "Envoys meet in Geneva, corrected"
    rig.fake.delete(CHANNEL, message_id)
    with pytest.raises(DeliveryError) as e:
        await outlet.edit(_post("edit:1", message=_alert("Envoys meet, corrected")), message_id)
    assert e.value.gone
    with pytest.raises(DeliveryError) as e:
        await outlet.send(
            _post("update:1", kind=PostKind.UPDATE, message=_alert(is_update=True)),
            thread_id=message_id,
        )
    assert e.value.gone
    assert len(rig.fake.made(CHANNEL)) == 1


async def test_nothing_posted_twice_after_an_uncertain_failure(rig: Rig) -> None:
    outlet = rig.platform.outlet
    outlet._timeout = 0.3
    deliverer = Deliverer(store=rig.store, outlets={"discord": outlet}, clock=rig.clock)
    await rig.store.enqueue(_post("alert:u"))
    rig.fake.fail("create", Failure(status=500, hang=1.0))  # made, but no answer in time
    assert await deliverer.deliver_due() == 0
    assert len(rig.fake.messages[CHANNEL]) == 1
    pending = await rig.store.get_post("alert:u")
    assert pending is not None and pending.state.value == "pending" and pending.attempts == 1
    # Later than Discord's nonce window: the fake no longer deduplicates, the outlet must look
    rig.fake.dedup = False
    rig.clock.advance(timedelta(minutes=10))
    assert await deliverer.deliver_due() == 1
    assert len(rig.fake.messages[CHANNEL]) == 1
    assert len(rig.fake.made(CHANNEL)) == 1  # no second create at all
    delivered = await rig.store.get_post("alert:u")
    assert delivered is not None
    assert delivered.platform_message_id == rig.fake.messages[CHANNEL][0]["id"]
    assert any(c.method == "GET" and c.path.endswith("/messages") for c in rig.fake.calls)


async def test_a_retry_that_finds_nothing_sends_once(rig: Rig) -> None:
    rig.fake.dedup = False
    rig.clock.advance(timedelta(minutes=10))
    await rig.platform.outlet.send(_post("alert:v", attempts=2))
    assert len(rig.fake.messages[CHANNEL]) == 1


async def test_a_global_429_cut_short_does_not_hold_the_global_lock_forever(rig: Rig) -> None:
    outlet = rig.platform.outlet
    outlet._timeout = 0.2
    outlet.release_global_after = 0.2
    rig.fake.fail("create", Failure(status=429, retry_after=20.0, is_global=True))
    with pytest.raises(DeliveryError) as e:
        await outlet.send(_post("alert:g1"))
    assert e.value.uncertain
    outlet._timeout = 3.0
    other = ChannelRef(platform="discord", workspace=GUILD, channel=OTHER)
    await asyncio.wait_for(outlet.send(_post("alert:g2", channel=other)), 3.0)
    assert len(rig.fake.made(OTHER)) == 1


async def test_a_retry_inside_the_window_is_deduplicated_by_the_nonce(rig: Rig) -> None:
    outlet = rig.platform.outlet
    first = await outlet.send(_post("alert:n"))
    again = await outlet.send(_post("alert:n", attempts=1))
    assert first == again and len(rig.fake.messages[CHANNEL]) == 1
    assert [c.body["nonce"] for c in rig.fake.made(CHANNEL)] == [nonce_for("alert:n")] * 2


async def test_a_short_429_is_waited_out_and_a_long_one_comes_back_as_retry_after(rig: Rig) -> None:
    outlet = rig.platform.outlet
    rig.fake.fail("create", Failure(status=429, retry_after=0.05))
    await outlet.send(_post("alert:a"))
    assert len(rig.fake.messages[CHANNEL]) == 1
    rig.fake.fail("create", Failure(status=429, retry_after=120.0))
    with pytest.raises(DeliveryError) as e:
        await outlet.send(_post("alert:b"))
    assert e.value.retry_after == 120.0


async def test_a_long_global_429_does_not_stall_other_channels(rig: Rig) -> None:
    outlet = rig.platform.outlet
    rig.fake.fail("create", Failure(status=429, retry_after=300.0, is_global=True))
    with pytest.raises(DeliveryError) as e:
        await outlet.send(_post("alert:g"))
    assert e.value.retry_after == 300.0
    other = ChannelRef(platform="discord", workspace=GUILD, channel=OTHER)
    await asyncio.wait_for(outlet.send(_post("alert:o", channel=other)), 3.0)
    assert len(rig.fake.made(OTHER)) == 1


async def test_server_errors_are_retried(rig: Rig) -> None:
    outlet = rig.platform.outlet
    rig.fake.fail("create", Failure(status=500))  # discord.py retries once by itself
    await outlet.send(_post("alert:s"))
    assert len(rig.fake.messages[CHANNEL]) == 1
    rig.fake.fail("create", Failure(status=503))
    with pytest.raises(DeliveryError) as e:
        await outlet.send(_post("alert:t"))
    assert not e.value.permanent and e.value.pause is None


@pytest.mark.parametrize(("status", "code"), [(404, 10003), (403, 50001)])
async def test_unknown_channel_or_missing_access_pauses_the_channel(
    rig: Rig, status: int, code: int
) -> None:
    await rig.store.subscribe(REF, ["nato"])
    deliverer = Deliverer(
        store=rig.store, outlets={"discord": rig.platform.outlet}, clock=rig.clock
    )
    await rig.store.enqueue(_post("alert:p"))
    rig.fake.fail("create", Failure(status=status, code=code))
    assert await deliverer.deliver_due() == 0
    channel = await rig.store.get_channel(REF)
    assert channel is not None and channel.paused and channel.pause_reason
    post = await rig.store.get_post("alert:p")
    assert post is not None and post.state.value == "pending"
    assert rig.platform.status()["last_error"]


async def test_missing_embed_links_falls_back_to_plain_text_once(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    outlet = rig.platform.outlet
    rig.fake.fail("create", Failure(status=403, code=50013))
    with caplog.at_level("WARNING"):
        await outlet.send(_post("alert:e", message=_alert("Envoys @everyone meet")))
        await outlet.send(_post("alert:f"))
    first, second, third = rig.fake.made(CHANNEL)
    assert first.body["embeds"] and not second.body["embeds"] and not third.body["embeds"]
    assert "Envoys" in second.body["content"] and "@everyone" not in second.body["content"]
    assert nonce_for("alert:e") in second.body["content"]
    assert "](https://example.com/a)" in second.body["content"]
    assert len([r for r in caplog.records if "Embed Links" in r.getMessage()]) == 1


def test_footer_names_the_digest() -> None:
    assert nonce_for("k") in footer_for("k")
    assert nonce_for("a") != nonce_for("b")


async def test_pacing_keeps_five_messages_per_five_seconds_per_channel() -> None:
    now = [0.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    pacer = Pacer(monotonic=lambda: now[0], sleep=sleep)
    times: list[float] = []
    for _ in range(11):
        await pacer.wait(1)
        times.append(now[0])
        now[0] += 0.1
    for i in range(len(times) - 5):
        assert times[i + 5] - times[i] >= 5.0 - 1e-6
    before = now[0]
    await pacer.wait(2)  # another channel is not held back
    assert now[0] == before
    assert len(slept) == 2


async def test_the_outlet_paces_a_burst_per_channel(rig: Rig) -> None:
    now = [0.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    rig.platform.outlet._pacer = Pacer(monotonic=lambda: now[0], sleep=sleep)
    other = ChannelRef(platform="discord", workspace=GUILD, channel=OTHER)
    for n in range(7):
        await rig.platform.outlet.send(_post(f"alert:{n}"))
    await rig.platform.outlet.send(_post("alert:other", channel=other))
    assert len(rig.fake.made(CHANNEL)) == 7 and len(rig.fake.made(OTHER)) == 1
    assert slept == [5.0]  # the 6th waited for the window; the 7th fit in the new one


def _config_folder(tmp_path: Path, api_url: str) -> Path:
    """The shipped sources and topics, and a bot.toml pointing Discord at ``api_url``."""
    folder = tmp_path / "config"
    folder.mkdir()
    for name in ("sources.toml", "topics.toml"):
        shutil.copy(SHIPPED_CONFIG / name, folder / name)
    (folder / "bot.toml").write_text(f'[discord]\napi_url = "{api_url}"\n', encoding="utf-8")
    return folder


async def test_create_discord_from_settings_serves_the_configured_fake(tmp_path: Path) -> None:
    fake = FakeDiscord()
    base = await fake.start()
    folder = _config_folder(tmp_path, base)
    settings = load_settings(
        folder,
        environ={
            "DISCORD_TOKEN": "abc.def.ghi",
            "DISCORD_APPLICATION_ID": APP_ID,
            "DISCORD_TEST_GUILD": GUILD,
        },
    )
    store = MemoryStore()
    clock = ManualClock(NOW)
    chat = chat_service(store=store, story=settings.story, clock=clock)
    platform = create_discord(settings, chat=chat, store=store, clock=clock, gateway=False)
    assert platform.name == "discord" and platform.outlet.platform == "discord"
    assert not platform.outlet.ready
    try:
        await platform.start()
        assert platform.outlet.ready
        login = next(c for c in fake.calls if c.path == "/users/@me")
        assert login.method == "GET"
        assert [c.path for c in fake.calls if c.method == "PUT"] == [
            f"/applications/{APP_ID}/guilds/{GUILD}/commands"
        ]
        assert "abc.def.ghi" not in repr(platform.status())
    finally:
        await platform.stop()
        await fake.close()
    assert not platform.outlet.ready


async def test_a_deleted_channel_is_paused_and_the_others_go_on(rig: Rig) -> None:
    other = ChannelRef(platform="discord", workspace=GUILD, channel=OTHER)
    await rig.store.subscribe(REF, ["nato"])
    await rig.store.subscribe(other, ["nato"])
    state = rig.platform.client._connection
    channels = [
        {"id": cid, "type": 0, "name": "news", "position": n, "permission_overwrites": []}
        for n, cid in enumerate((CHANNEL, OTHER))
    ]
    guild = {
        "id": GUILD,
        "name": "News",
        "channels": channels,
        "roles": [],
        "members": [],
        "member_count": 2,
        "features": [],
        "emojis": [],
        "stickers": [],
    }
    state.parse_guild_create(guild)
    state.parse_channel_delete({"id": CHANNEL, "guild_id": GUILD, "type": 0})

    async def paused() -> bool:
        channel = await rig.store.get_channel(REF)
        return channel is not None and channel.paused

    await _until(paused)
    still = await rig.store.get_channel(other)
    assert still is not None and not still.paused


async def test_mentioning_the_bots_role_counts_as_mentioning_the_bot(rig: Rig) -> None:
    role = "400000000000000001"
    state = rig.platform.client._connection
    roles = [
        {
            "id": GUILD,
            "name": "@everyone",
            "permissions": "0",
            "position": 0,
            "color": 0,
            "hoist": False,
            "managed": False,
            "mentionable": False,
        },
        {
            "id": role,
            "name": "briefbot",
            "permissions": "0",
            "position": 1,
            "color": 0,
            "hoist": False,
            "managed": True,
            "mentionable": False,
            "tags": {"bot_id": BOT_ID},
        },
    ]
    guild = {
        "id": GUILD,
        "name": "News",
        "channels": [],
        "roles": roles,
        "members": [],
        "member_count": 2,
        "features": [],
        "emojis": [],
        "stickers": [],
    }
    state.parse_guild_create(guild)
    ana = _user("300000000000000001", "ana")
    payload = _message_create("777", f"<@&{role}> subscriptions", author=ana, mentions=[])
    payload["mention_roles"] = [role]
    state.parse_message_create(payload)  # type: ignore[arg-type]

    async def queued() -> bool:
        return bool(await rig.store.pending_heads(per_channel=10, limit=10))

    await _until(queued)
    (post,) = await rig.store.pending_heads(per_channel=10, limit=10)
    assert post.channel.thread == "777"
    assert "follows nothing yet" in post.text


async def test_a_command_in_a_mention_obeys_manage_channels(rig: Rig) -> None:
    """ "@briefbot subscribe nato" from someone without Manage Channels changes nothing; the
    answer says who may."""
    state = rig.platform.client._connection
    me = _user(BOT_ID, "briefbot", bot=True)
    ana = _user("300000000000000001", "ana")
    payload = _message_create("600", f"<@{BOT_ID}> subscribe nato", author=ana, mentions=[me])
    payload["member"] = {"roles": [], "joined_at": "2026-01-01T00:00:00+00:00", "deaf": False}
    state.parse_message_create(payload)  # type: ignore[arg-type]
    ref = ChannelRef(platform="discord", workspace=GUILD, channel=CHANNEL)

    async def answered() -> bool:
        return bool(await rig.store.pending_heads(per_channel=10, limit=10))

    await _until(answered)
    (post,) = await rig.store.pending_heads(per_channel=10, limit=10)
    assert "may change what this channel follows" in post.text
    assert await rig.store.subscriptions(ref) == []
