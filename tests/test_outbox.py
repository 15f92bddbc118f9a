from datetime import UTC, datetime, timedelta
from typing import Any

from bot.clock import ManualClock
from bot.domain import ChannelRef, Post, PostKind, PostState
from bot.ports import DeliveryError
from bot.services.outbox import MAX_AGE, MAX_ATTEMPTS, Deliverer, retry_delay
from bot.store.memory import MemoryStore

T0 = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)
A = ChannelRef(platform="fake", workspace="w", channel="a")
B = ChannelRef(platform="fake", workspace="w", channel="b")


class FlakyOutlet:
    """Fails the first ``failures`` sends to a channel, then works; records what it showed."""

    platform = "fake"

    def __init__(
        self,
        failures: dict[str, int] | None = None,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
    ) -> None:
        self.failures = dict(failures or {})
        self.permanent = permanent
        self.retry_after = retry_after
        self.sent: list[tuple[str, str]] = []
        self.edits: list[tuple[str, str]] = []

    ready = True

    async def send(self, post: Post, *, thread_id: str | None = None) -> str:
        left = self.failures.get(post.channel.channel, 0)
        if left:
            self.failures[post.channel.channel] = left - 1
            raise DeliveryError("boom", permanent=self.permanent, retry_after=self.retry_after)
        self.sent.append((post.channel.channel, post.text))
        return f"m{len(self.sent)}"

    async def edit(self, post: Post, message_id: str) -> None:
        self.edits.append((message_id, post.text))


def _post(channel: ChannelRef, n: int, **kw: Any) -> Post:
    fields: dict[str, Any] = {"kind": PostKind.ALERT, "created_at": T0, **kw}
    return Post(
        key=f"k-{channel.channel}-{n}", channel=channel, text=f"{channel.channel} {n}", **fields
    )


async def test_delivers_in_order_and_never_twice() -> None:
    store, clock, outlet = MemoryStore(), ManualClock(T0), FlakyOutlet()
    for n in range(3):
        assert await store.enqueue(_post(A, n))
    assert not await store.enqueue(_post(A, 0))  # same key: not queued again
    deliverer = Deliverer(store=store, outlets={"fake": outlet}, clock=clock)
    assert await deliverer.deliver_due() == 3
    assert await deliverer.deliver_due() == 0
    assert outlet.sent == [("a", "a 0"), ("a", "a 1"), ("a", "a 2")]
    assert (await store.get_post("k-a-0")).platform_message_id == "m1"  # type: ignore[union-attr]
    assert await store.outbox_depth() == 0


async def test_a_failing_channel_waits_and_keeps_its_order_others_go_on() -> None:
    store, clock = MemoryStore(), ManualClock(T0)
    outlet = FlakyOutlet({"a": 1})
    for n in range(2):
        await store.enqueue(_post(A, n))
        await store.enqueue(_post(B, n))
    deliverer = Deliverer(store=store, outlets={"fake": outlet}, clock=clock)
    assert await deliverer.deliver_due() == 2
    assert outlet.sent == [("b", "b 0"), ("b", "b 1")]
    assert await deliverer.deliver_due() == 0  # retry not due yet
    clock.advance(timedelta(seconds=retry_delay(1, None)))
    assert await deliverer.deliver_due() == 2
    assert outlet.sent[2:] == [("a", "a 0"), ("a", "a 1")]


async def test_retry_after_from_the_platform_is_honoured() -> None:
    store, clock = MemoryStore(), ManualClock(T0)
    outlet = FlakyOutlet({"a": 1}, retry_after=30)
    await store.enqueue(_post(A, 0))
    deliverer = Deliverer(store=store, outlets={"fake": outlet}, clock=clock)
    await deliverer.deliver_due()
    clock.advance(timedelta(seconds=29))
    assert await deliverer.deliver_due() == 0
    clock.advance(timedelta(seconds=1))
    assert await deliverer.deliver_due() == 1


async def test_permanent_failure_gives_up_at_once() -> None:
    store, clock = MemoryStore(), ManualClock(T0)
    outlet = FlakyOutlet({"a": 1}, permanent=True)
    await store.enqueue(_post(A, 0))
    deliverer = Deliverer(store=store, outlets={"fake": outlet}, clock=clock)
    await deliverer.deliver_due()
    post = await store.get_post("k-a-0")
    assert post is not None and post.state is PostState.FAILED and post.last_error == "boom"
    assert await store.outbox_depth() == 0


async def test_gives_up_after_the_last_attempt() -> None:
    store, clock = MemoryStore(), ManualClock(T0)
    outlet = FlakyOutlet({"a": MAX_ATTEMPTS + 5})
    await store.enqueue(_post(A, 0))
    deliverer = Deliverer(store=store, outlets={"fake": outlet}, clock=clock)
    for _ in range(MAX_ATTEMPTS + 2):
        await deliverer.deliver_due()
        clock.advance(timedelta(hours=1))
    post = await store.get_post("k-a-0")
    assert post is not None and post.state is PostState.FAILED and post.attempts == MAX_ATTEMPTS
    assert outlet.sent == []


async def test_an_edit_replaces_the_original_message() -> None:
    store, clock, outlet = MemoryStore(), ManualClock(T0), FlakyOutlet()
    await store.enqueue(_post(A, 0))
    deliverer = Deliverer(store=store, outlets={"fake": outlet}, clock=clock)
    await deliverer.deliver_due()
    await store.enqueue(_post(A, 1, edit_of="k-a-0"))
    await deliverer.deliver_due()
    assert outlet.sent == [("a", "a 0")]
    assert outlet.edits == [("m1", "a 1")]


async def test_an_edit_of_a_post_never_delivered_is_not_sent_as_new() -> None:
    store, clock = MemoryStore(), ManualClock(T0)
    outlet = FlakyOutlet({"a": 1}, permanent=True)
    await store.enqueue(_post(A, 0))
    await store.enqueue(_post(A, 1, edit_of="k-a-0"))
    await store.enqueue(_post(A, 2))
    deliverer = Deliverer(store=store, outlets={"fake": outlet}, clock=clock)
    await deliverer.deliver_due()  # the alert fails for good; the channel is blocked this round
    await deliverer.deliver_due()
    assert outlet.sent == [("a", "a 2")] and outlet.edits == []
    edit = await store.get_post("k-a-1")
    assert edit is not None and edit.state is PostState.FAILED
    assert "never delivered" in (edit.last_error or "")


class PausingOutlet(FlakyOutlet):
    """The platform says the bot was removed from channel a."""

    async def send(self, post: Post, *, thread_id: str | None = None) -> str:
        if post.channel.channel == "a":
            raise DeliveryError("not_in_channel", pause="the bot was removed from the channel")
        return await super().send(post, thread_id=thread_id)


async def test_a_platform_that_is_not_running_keeps_its_posts_pending() -> None:
    store, clock, outlet = MemoryStore(), ManualClock(T0), FlakyOutlet()
    other = ChannelRef(platform="discord", workspace="g", channel="c")
    await store.enqueue(_post(other, 0))
    await store.enqueue(_post(A, 0))
    deliverer = Deliverer(store=store, outlets={"fake": outlet}, clock=clock)
    assert await deliverer.deliver_due() == 1
    post = await store.get_post("k-c-0")
    assert post is not None and post.state is PostState.PENDING and post.attempts == 0
    outlet.ready = False  # connected no longer: its posts wait too
    await store.enqueue(_post(A, 1))
    assert await deliverer.deliver_due() == 0
    assert await store.outbox_depth() == 2


async def test_one_channel_with_a_long_blocked_queue_never_holds_the_others() -> None:
    store, clock = MemoryStore(), ManualClock(T0)
    outlet = FlakyOutlet({"a": 1})
    for n in range(300):  # more than one page of the old delivery
        await store.enqueue(_post(A, n))
    await store.enqueue(_post(B, 0))
    deliverer = Deliverer(store=store, outlets={"fake": outlet}, clock=clock)
    assert await deliverer.deliver_due() == 1
    assert outlet.sent == [("b", "b 0")]


async def test_an_alert_too_old_to_be_news_is_dropped_not_posted_late() -> None:
    store, clock, outlet = MemoryStore(), ManualClock(T0), FlakyOutlet()
    await store.enqueue(_post(A, 0))
    clock.advance(MAX_AGE[PostKind.ALERT] + timedelta(minutes=1))
    await store.enqueue(_post(A, 1, created_at=clock.now()))
    deliverer = Deliverer(store=store, outlets={"fake": outlet}, clock=clock)
    assert await deliverer.deliver_due() == 1
    assert outlet.sent == [("a", "a 1")]
    old = await store.get_post("k-a-0")
    assert old is not None and old.state is PostState.FAILED and "dropped" in (old.last_error or "")


async def test_a_channel_the_bot_was_removed_from_is_paused_and_its_posts_wait() -> None:
    store, clock, outlet = MemoryStore(), ManualClock(T0), PausingOutlet()
    await store.subscribe(A, ["*"])
    await store.enqueue(_post(A, 0))
    await store.enqueue(_post(B, 0))
    deliverer = Deliverer(store=store, outlets={"fake": outlet}, clock=clock)
    assert await deliverer.deliver_due() == 1
    channel = await store.get_channel(A)
    assert channel is not None and channel.paused
    assert channel.pause_reason == "the bot was removed from the channel"
    assert await store.subscriptions(A) == ["*"]  # kept for when it comes back
    post = await store.get_post("k-a-0")
    assert post is not None and post.state is PostState.PENDING
    assert await deliverer.deliver_due() == 0  # paused: not retried forever


async def test_an_update_is_sent_under_its_alert() -> None:
    store, clock = MemoryStore(), ManualClock(T0)

    class Threads(FlakyOutlet):
        def __init__(self) -> None:
            super().__init__()
            self.threads: list[str | None] = []

        async def send(self, post: Post, *, thread_id: str | None = None) -> str:
            self.threads.append(thread_id)
            return await super().send(post, thread_id=thread_id)

    outlet = Threads()
    await store.enqueue(_post(A, 0))
    await store.enqueue(_post(A, 1, thread_of="k-a-0", kind=PostKind.UPDATE))
    deliverer = Deliverer(store=store, outlets={"fake": outlet}, clock=clock)
    assert await deliverer.deliver_due() == 2
    assert outlet.threads == [None, "m1"]
