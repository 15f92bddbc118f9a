"""Delivering queued posts: per channel, in order, marked delivered only after the platform said
yes, retried with backoff, never sent twice for one idempotency key.

Each round reads the head of every channel's queue (``Store.pending_heads``), so one channel
waiting on retries never holds the others back. A post for a platform that is not running (or not
connected yet) stays pending; a paused channel's posts wait for it to be resumed. An alert that
could not be delivered within ``MAX_AGE`` of being queued is dropped with a log line rather than
posted late as new: the developments it names stay in the store, so answers and the channel's
next briefing still cover them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from bot.domain import Channel, Post, PostKind
from bot.ports import Clock, DeliveryError, Outlet, Store
from bot.services.schedule import in_quiet_hours, parse_quiet

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
RETRY_BASE = 5.0  # seconds
RETRY_CAP = 15 * 60.0
HEADS_PER_CHANNEL = 5  # posts read per channel and round
HEADS_LIMIT = 2000  # posts read per round in all
# How long a post may wait before it is no longer worth sending as it is.
MAX_AGE = {
    PostKind.ALERT: timedelta(hours=6),
    PostKind.UPDATE: timedelta(hours=12),
    PostKind.ANSWER: timedelta(hours=1),
    PostKind.NOTICE: timedelta(hours=1),
    PostKind.BRIEFING: timedelta(hours=18),
}


def retry_delay(attempts: int, retry_after: float | None) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt; the platform's word wins."""
    if retry_after is not None:
        return max(retry_after, 0.0)
    return float(min(RETRY_BASE * 2 ** max(attempts - 1, 0), RETRY_CAP))


class Deliverer:
    """Sends due posts through the outlet of their channel's platform."""

    def __init__(self, *, store: Store, outlets: Mapping[str, Outlet], clock: Clock) -> None:
        self._store = store
        self._outlets = dict(outlets)
        self._clock = clock
        self._lock = asyncio.Lock()

    def add_outlet(self, outlet: Outlet) -> None:
        self._outlets[outlet.platform] = outlet

    @property
    def platforms(self) -> tuple[str, ...]:
        return tuple(self._outlets)

    async def deliver_due(self, *, deadline: datetime | None = None) -> int:
        """Deliver every post that is due now; returns how many were delivered.

        One call at a time (a lock), so a post is never in flight twice within a process. A
        channel whose post fails or waits is skipped for the rest of the round, keeping its
        order. ``deadline`` (clock time) ends the round early, leaving the rest pending.
        """
        delivered = 0
        async with self._lock:
            done: set[str] = set()  # channels finished (blocked or empty) this round
            while True:
                heads = await self._store.pending_heads(
                    per_channel=HEADS_PER_CHANNEL, limit=HEADS_LIMIT
                )
                heads = [p for p in heads if p.channel.key not in done]
                if not heads:
                    return delivered
                progress = False
                channels: dict[str, Channel | None] = {}
                for post in heads:
                    key = post.channel.key
                    if key in done:
                        continue
                    if deadline is not None and self._clock.now() >= deadline:
                        return delivered
                    outcome = await self._attempt(post, channels)
                    if outcome == "sent":
                        delivered += 1
                        progress = True
                    elif outcome == "skipped":
                        progress = True
                    else:
                        done.add(key)
                if not progress:
                    return delivered

    async def _channel(self, post: Post, cache: dict[str, Channel | None]) -> Channel | None:
        # A thread or a reply belongs to its channel: the channel's settings hold for it too.
        ref = replace(post.channel, thread=None)
        if ref.key not in cache:
            cache[ref.key] = await self._store.get_channel(ref)
        return cache[ref.key]

    async def _attempt(self, post: Post, channels: dict[str, Channel | None]) -> str:
        """``sent``, ``skipped`` (given up or dropped: the queue moves on) or ``blocked``."""
        now = self._clock.now()
        outlet = self._outlets.get(post.channel.platform)
        if outlet is None or not outlet.ready:
            return "blocked"  # that platform is not running here (yet): the post waits
        if post.next_attempt_at is not None and post.next_attempt_at > now:
            return "blocked"
        channel = await self._channel(post, channels)
        if channel is not None and channel.paused:
            return "blocked"
        limit = MAX_AGE.get(post.kind)
        quiet = parse_quiet(channel.quiet) if channel is not None and channel.quiet else None
        if quiet is not None and post.kind in (PostKind.ALERT, PostKind.UPDATE):
            assert channel is not None
            if post.edit_of is None and in_quiet_hours(now, quiet, channel.timezone):
                return "blocked"  # held: delivered when quiet hours end, or folded into a briefing
            if limit is not None:
                limit += quiet.length
        if limit is not None and post.edit_of is None and now - post.created_at > limit:
            log.warning(
                "dropped %s %s for %s: not delivered within %s of being queued (the store "
                "keeps what it was about)",
                post.kind.value,
                post.key,
                post.channel.key,
                limit,
            )
            await self._store.mark_attempt_failed(
                post.key, error=f"not delivered within {limit}; dropped", next_attempt_at=None
            )
            return "skipped"
        return await self._deliver_one(outlet, post)

    async def _parent_id(self, post: Post) -> tuple[str, str | None]:
        """The message a post threads under: ``ready`` with its id (or None: none), or
        ``wait`` while the parent is still pending."""
        if post.thread_of is None:
            return "ready", None
        parent = await self._store.get_post(post.thread_of)
        if parent is None or parent.platform_message_id is None:
            if parent is not None and parent.state.value == "pending":
                return "wait", None
            return "ready", None  # never shown: the post stands on its own
        return "ready", parent.platform_message_id

    async def _deliver_one(self, outlet: Outlet, post: Post) -> str:
        try:
            if post.edit_of is not None:
                original = await self._store.get_post(post.edit_of)
                if original is None or original.platform_message_id is None:
                    if original is not None and original.state.value == "pending":
                        return "blocked"  # the original goes first
                    # Never shown, so there is nothing to correct: an edit is never a new post.
                    await self._store.mark_attempt_failed(
                        post.key,
                        error=f"the post it edits ({post.edit_of}) was never delivered",
                        next_attempt_at=None,
                    )
                    return "skipped"
                await outlet.edit(post, original.platform_message_id)
                message_id = original.platform_message_id
            else:
                state, parent = await self._parent_id(post)
                if state == "wait":
                    return "blocked"
                message_id = await outlet.send(post, thread_id=parent)
        except DeliveryError as e:
            return await self._failed(post, e)
        await self._store.mark_delivered(post.key, message_id=message_id, at=self._clock.now())
        return "sent"

    async def _failed(self, post: Post, e: DeliveryError) -> str:
        ref = post.channel
        if e.pause is not None:
            await self._store.set_paused(
                platform=ref.platform,
                workspace=ref.workspace,
                channel=None if e.scope == "workspace" else ref.channel,
                reason=e.pause,
            )
            log.warning("paused %s (%s): %s; posts wait", ref.key, e.scope, e.pause)
            return "blocked"
        if e.gone:
            log.info("post %s: its message was deleted; the edit is given up", post.key)
            await self._store.mark_attempt_failed(post.key, error=str(e), next_attempt_at=None)
            return "skipped"
        attempts = post.attempts + 1
        give_up = e.permanent or attempts >= MAX_ATTEMPTS
        next_at = (
            None
            if give_up
            else self._clock.now() + timedelta(seconds=retry_delay(attempts, e.retry_after))
        )
        await self._store.mark_attempt_failed(post.key, error=str(e), next_attempt_at=next_at)
        log.warning(
            "post %s to %s failed (attempt %d): %s%s",
            post.kind.value,
            ref.key,
            attempts,
            e,
            "; giving up" if give_up else "",
        )
        return "skipped" if give_up else "blocked"
