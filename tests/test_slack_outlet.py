"""Delivering to Slack through the real slack_sdk client, over real HTTP, into a fake of the Web
API: pacing, rate limits, retries, nothing posted twice, pauses, updates and edits."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from fakes.slack_api import TEAM_ID, FakeSlack, fake_slack
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack import POST_EVENT, Pacer, SlackOutlet, slack_ref
from bot.clock import ManualClock
from bot.domain import ChannelRef, Post, PostKind, PostState
from bot.messages import AlertView, Reply
from bot.services.outbox import Deliverer
from bot.store.memory import MemoryStore

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
GENERAL = slack_ref(TEAM_ID, "C0GENERAL")
NEWS = slack_ref(TEAM_ID, "C0NEWS")


class FakeTime:
    """Monotonic seconds that move only when slept through (or advanced)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Rig:
    def __init__(self, fake: FakeSlack, *, timeout: float = 5.0) -> None:
        self.fake = fake
        self.time = FakeTime()
        fake.stamp = self.time.monotonic
        self.clock = ManualClock(T0)
        self.store = MemoryStore()
        self.client = AsyncWebClient(
            token="xoxb-test-token",
            base_url=fake.base_url,
            timeout=timeout,  # type: ignore[arg-type]  # aiohttp takes fractions of a second
            retry_handlers=[],
        )
        self.outlet = self.new_outlet()
        self.deliverer = Deliverer(
            store=self.store, outlets={"slack": self.outlet}, clock=self.clock
        )

    def new_outlet(self) -> SlackOutlet:
        outlet = SlackOutlet(
            self.client,
            workspace=TEAM_ID,
            pacer=Pacer(monotonic=self.time.monotonic, sleep=self.time.sleep),
            monotonic=self.time.monotonic,
        )
        outlet.set_ready(True)
        return outlet

    def restart(self) -> None:
        """A new process: the outlet remembers nothing."""
        self.outlet = self.new_outlet()
        self.deliverer = Deliverer(
            store=self.store, outlets={"slack": self.outlet}, clock=self.clock
        )

    def later(self, seconds: float) -> None:
        self.clock.advance(timedelta(seconds=seconds))
        self.time.now += seconds

    async def alert(self, ref: ChannelRef, n: int, **kw: object) -> Post:
        await self.store.subscribe(ref, ["nato"])
        view = AlertView(
            headline=f"NATO development {n}",
            summary="Allies met.",
            outlets=("The Wire",),
            links=(f"https://wire.example/{n}",),
            topics=("nato",),
        )
        post = Post(
            key=f"alert:{ref.key}:d{n}",
            channel=ref,
            kind=PostKind.ALERT,
            text=f"NATO development {n}",
            created_at=self.clock.now(),
            development_id=f"d{n}",
            message=view,
            **kw,  # type: ignore[arg-type]
        )
        assert await self.store.enqueue(post)
        return post

    async def state(self, key: str) -> Post:
        post = await self.store.get_post(key)
        assert post is not None
        return post


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    async with fake_slack() as fake:
        yield Rig(fake)


async def test_every_message_carries_its_key_and_no_unfurls(rig: Rig) -> None:
    post = await rig.alert(GENERAL, 1)
    assert await rig.deliverer.deliver_due() == 1
    [call] = rig.fake.called("chat.postMessage")
    assert call.token == "xoxb-test-token"
    assert call.args["metadata"] == {"event_type": POST_EVENT, "event_payload": {"key": post.key}}
    assert call.args["unfurl_links"] is False and call.args["unfurl_media"] is False
    assert call.args["blocks"] and "NATO development 1" in call.args["text"]
    delivered = await rig.state(post.key)
    assert delivered.state is PostState.DELIVERED
    assert delivered.platform_message_id == rig.fake.channel_messages("C0GENERAL")[0]["ts"]


async def test_at_most_one_message_per_second_per_channel(rig: Rig) -> None:
    for n in range(3):
        await rig.alert(GENERAL, n)
    await rig.alert(NEWS, 9)
    assert await rig.deliverer.deliver_due() == 4
    times = {
        ch: [c.at for c in rig.fake.called("chat.postMessage") if c.args["channel"] == ch]
        for ch in ("C0GENERAL", "C0NEWS")
    }
    general = [t for t in times["C0GENERAL"] if t is not None]
    assert len(general) == 3
    assert all(b - a >= 1.0 for a, b in itertools.pairwise(general))
    assert sum(rig.time.sleeps) == pytest.approx(2.0)  # the other channel never waited


async def test_429_waits_retry_after_in_its_own_scope(rig: Rig) -> None:
    first = await rig.alert(GENERAL, 1)
    second = await rig.alert(GENERAL, 2)
    other = await rig.alert(NEWS, 3)
    rig.fake.fail("chat.postMessage", "ratelimited", retry_after=7)
    await rig.deliverer.deliver_due()
    waiting = await rig.state(first.key)
    assert waiting.state is PostState.PENDING
    assert waiting.next_attempt_at == T0 + timedelta(seconds=7)
    assert (await rig.state(other.key)).state is PostState.DELIVERED  # another channel
    assert (await rig.state(second.key)).state is PostState.PENDING  # queued behind the first
    rig.later(7)
    assert await rig.deliverer.deliver_due() == 2
    texts = [m["text"] for m in rig.fake.channel_messages("C0GENERAL")]
    assert [t.split(" —")[0] for t in texts] == ["NATO development 1", "NATO development 2"]


async def test_a_429_keeps_the_outlet_from_calling_again_until_retry_after(rig: Rig) -> None:
    await rig.alert(GENERAL, 1)
    rig.fake.fail("chat.postMessage", "ratelimited", retry_after=30)
    await rig.deliverer.deliver_due()
    rig.later(10)  # the outbox might try early (another process, a restart): the outlet waits
    post = await rig.state(f"alert:{GENERAL.key}:d1")
    with pytest.raises(Exception, match="rate-limits"):
        await rig.outlet.send(post)
    assert len(rig.fake.called("chat.postMessage")) == 1


async def test_500_is_retried_and_posted_once(rig: Rig) -> None:
    post = await rig.alert(GENERAL, 1)
    rig.fake.fail("chat.postMessage", "500")
    assert await rig.deliverer.deliver_due() == 0
    failed = await rig.state(post.key)
    assert failed.state is PostState.PENDING and failed.attempts == 1
    assert "HTTP 500" in (failed.last_error or "")
    rig.later(10)
    assert await rig.deliverer.deliver_due() == 1
    assert len(rig.fake.channel_messages("C0GENERAL")) == 1


async def test_timeout_after_sending_is_reconciled_from_history_not_resent() -> None:
    async with fake_slack() as fake:
        rig = Rig(fake, timeout=0.3)
        fake.timeout_seconds = 1.0
        post = await rig.alert(GENERAL, 1)
        fake.fail("chat.postMessage", "timeout")
        assert await rig.deliverer.deliver_due() == 0
        assert len(fake.channel_messages("C0GENERAL")) == 1  # it did reach Slack
        assert (await rig.state(post.key)).state is PostState.PENDING
        rig.restart()  # even a new process finds it
        rig.later(60)
        assert await rig.deliverer.deliver_due() == 1
        [message] = fake.channel_messages("C0GENERAL")
        assert len(fake.called("chat.postMessage")) == 1
        [history] = fake.called("conversations.history")
        assert history.args["include_all_metadata"] in (True, "1", "true")
        assert (await rig.state(post.key)).platform_message_id == message["ts"]


async def test_not_in_channel_pauses_that_channel_only(rig: Rig) -> None:
    post = await rig.alert(GENERAL, 1)
    other = await rig.alert(NEWS, 2)
    rig.fake.outside.add("C0GENERAL")
    await rig.deliverer.deliver_due()
    channel = await rig.store.get_channel(GENERAL)
    assert channel is not None and channel.paused
    assert "invite" in (channel.pause_reason or "")
    assert (await rig.state(post.key)).state is PostState.PENDING
    assert (await rig.state(other.key)).state is PostState.DELIVERED
    rig.later(3600)
    await rig.deliverer.deliver_due()  # paused: not retried, not given up
    assert len([c for c in rig.fake.called("chat.postMessage")]) == 2
    assert (await rig.state(post.key)).attempts == 0


async def test_revoked_token_pauses_the_workspace(rig: Rig) -> None:
    await rig.alert(GENERAL, 1)
    await rig.store.subscribe(NEWS, ["nato"])
    rig.fake.fail("chat.postMessage", "token_revoked")
    await rig.deliverer.deliver_due()
    paused = {c.ref.key for c in await rig.store.paused_channels()}
    assert paused == {GENERAL.key, NEWS.key}


async def test_message_too_long_is_given_up(rig: Rig) -> None:
    post = await rig.alert(GENERAL, 1)
    rig.fake.fail("chat.postMessage", "msg_too_long")
    await rig.deliverer.deliver_due()
    assert (await rig.state(post.key)).state is PostState.FAILED


async def test_a_deleted_message_is_not_recreated_by_an_edit(rig: Rig) -> None:
    alert = await rig.alert(GENERAL, 1)
    await rig.deliverer.deliver_due()
    ts = (await rig.state(alert.key)).platform_message_id
    assert ts is not None
    rig.fake.delete("C0GENERAL", ts)
    edit = Post(
        key=f"edit:{GENERAL.key}:d1:2",
        channel=GENERAL,
        kind=PostKind.ALERT,
        text="corrected",
        created_at=rig.clock.now(),
        message=AlertView(
            headline="NATO development 1 (corrected)",
            summary="",
            outlets=("The Wire",),
            links=(),
            topics=("nato",),
        ),
        edit_of=alert.key,
    )
    await rig.store.enqueue(edit)
    rig.later(2)
    await rig.deliverer.deliver_due()
    assert len(rig.fake.called("chat.update")) == 1
    assert len(rig.fake.called("chat.postMessage")) == 1  # only the alert, never again
    assert rig.fake.channel_messages("C0GENERAL") == []
    assert (await rig.state(edit.key)).state is PostState.FAILED


async def test_an_edit_updates_the_message_in_place(rig: Rig) -> None:
    alert = await rig.alert(GENERAL, 1)
    await rig.deliverer.deliver_due()
    edit = Post(
        key=f"edit:{GENERAL.key}:d1:2",
        channel=GENERAL,
        kind=PostKind.ALERT,
        text="x",
        created_at=rig.clock.now(),
        message=AlertView(
            headline="Corrected headline", summary="", outlets=("W",), links=(), topics=()
        ),
        edit_of=alert.key,
    )
    await rig.store.enqueue(edit)
    await rig.deliverer.deliver_due()
    [message] = rig.fake.channel_messages("C0GENERAL")
    assert message.get("edited") and "Corrected headline" in message["text"]


def update_post(ref: ChannelRef, alert: Post, **kw: object) -> Post:
    view = AlertView(
        headline="NATO development 1",
        summary="Allies met; Kyiv welcomed it.",
        outlets=("The Wire", "Kyiv Post"),
        links=("https://kyiv.example/u", "https://wire.example/1"),
        topics=("nato",),
        is_update=True,
        **kw,  # type: ignore[arg-type]
    )
    return Post(
        key=f"update:{ref.key}:d1:1",
        channel=ref,
        kind=PostKind.UPDATE,
        text="update",
        created_at=T0,
        message=view,
        thread_of=alert.key,
    )


async def test_an_update_that_adds_outlets_edits_the_alert_and_replies_once(rig: Rig) -> None:
    alert = await rig.alert(GENERAL, 1)
    await rig.deliverer.deliver_due()
    alert_ts = (await rig.state(alert.key)).platform_message_id
    update = update_post(GENERAL, alert, new_outlets=("Kyiv Post",))
    await rig.store.enqueue(update)
    await rig.deliverer.deliver_due()
    [edit] = rig.fake.called("chat.update")
    assert edit.args["ts"] == alert_ts
    assert "2 outlets" in str(edit.args["blocks"]) and "Update" not in edit.args["text"]
    replies = [m for m in rig.fake.channel_messages("C0GENERAL") if m.get("thread_ts")]
    assert len(replies) == 1 and replies[0]["thread_ts"] == alert_ts
    assert "More coverage: now reported by Kyiv Post" in replies[0]["text"]
    assert "<https://kyiv.example/u|kyiv.example>" in str(replies[0]["blocks"])
    assert (await rig.state(update.key)).platform_message_id == replies[0]["ts"]


async def test_a_quiet_update_only_edits(rig: Rig) -> None:
    alert = await rig.alert(GENERAL, 1)
    await rig.deliverer.deliver_due()
    alert_ts = (await rig.state(alert.key)).platform_message_id
    update = update_post(GENERAL, alert)
    await rig.store.enqueue(update)
    await rig.deliverer.deliver_due()
    assert len(rig.fake.called("chat.update")) == 1
    assert len(rig.fake.called("chat.postMessage")) == 1
    assert (await rig.state(update.key)).platform_message_id == alert_ts


async def test_an_answer_goes_in_the_thread_it_was_asked_in(rig: Rig) -> None:
    ref = slack_ref(TEAM_ID, "C0GENERAL", thread="1699999999.000001")
    post = Post(
        key=f"answer:{ref.key}:1699999999.000001",
        channel=ref,
        kind=PostKind.ANSWER,
        text="Nothing yet",
        created_at=T0,
        message=Reply(lines=("Nothing on nato yet.",)),
    )
    await rig.store.enqueue(post)
    await rig.deliverer.deliver_due()
    [call] = rig.fake.called("chat.postMessage")
    assert call.args["thread_ts"] == "1699999999.000001"


async def test_an_update_of_a_deleted_alert_is_given_up(rig: Rig) -> None:
    alert = await rig.alert(GENERAL, 1)
    await rig.deliverer.deliver_due()
    ts = (await rig.state(alert.key)).platform_message_id
    assert ts is not None
    rig.fake.delete("C0GENERAL", ts)
    update = update_post(GENERAL, alert, new_outlets=("Kyiv Post",))
    await rig.store.enqueue(update)
    rig.later(2)
    await rig.deliverer.deliver_due()
    assert rig.fake.channel_messages("C0GENERAL") == []  # no orphan reply, no new alert
    assert (await rig.state(update.key)).state is PostState.FAILED
