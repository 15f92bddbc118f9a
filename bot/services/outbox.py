"""Delivering queued posts: per channel, in order, marked delivered only after the platform said
yes, retried with backoff, never sent twice for one idempotency key.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from bot.domain import Post
from bot.ports import Clock, DeliveryError, Outlet, Store

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
RETRY_BASE = 5.0  # seconds
RETRY_CAP = 15 * 60.0
_EVERYTHING = datetime.max.replace(tzinfo=UTC)


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

    async def deliver_due(self) -> int:
        """Deliver every post that is due now; returns how many were delivered.

        One call at a time (a lock), so a post is never in flight twice within a process. A
        channel whose post fails is skipped for the rest of the round, keeping its order.
        """
        delivered = 0
        async with self._lock:
            while True:
                # Every pending post, due or not: a post waiting for its retry holds back the
                # posts queued after it in the same channel.
                posts = await self._store.due_posts(_EVERYTHING, limit=200)
                if not posts:
                    return delivered
                now = self._clock.now()
                blocked: set[str] = set()
                progress = False
                for post in posts:
                    if post.channel.key in blocked:
                        continue
                    if post.next_attempt_at is not None and post.next_attempt_at > now:
                        blocked.add(post.channel.key)
                        continue
                    if await self._deliver_one(post):
                        delivered += 1
                        progress = True
                    else:
                        blocked.add(post.channel.key)
                if not progress or len(posts) < 200:
                    return delivered

    async def _deliver_one(self, post: Post) -> bool:
        outlet = self._outlets.get(post.channel.platform)
        if outlet is None:
            await self._store.mark_attempt_failed(
                post.key,
                error=f"no outlet for platform {post.channel.platform!r} in this process",
                next_attempt_at=None,
            )
            return False
        try:
            if post.edit_of is not None:
                original = await self._store.get_post(post.edit_of)
                if original is None or original.platform_message_id is None:
                    # Never shown, so there is nothing to correct: an edit is never a new post.
                    await self._store.mark_attempt_failed(
                        post.key,
                        error=f"the post it edits ({post.edit_of}) was never delivered",
                        next_attempt_at=None,
                    )
                    return True
                await outlet.edit(post, original.platform_message_id)
                message_id = original.platform_message_id
            else:
                message_id = await outlet.send(post)
        except DeliveryError as e:
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
                post.channel.key,
                attempts,
                e,
                "; giving up" if give_up else "",
            )
            return False
        await self._store.mark_delivered(post.key, message_id=message_id, at=self._clock.now())
        return True
