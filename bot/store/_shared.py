"""Small rules both store implementations follow, kept in one place so they cannot drift."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bot.domain import STAR


def unique(values: Iterable[str]) -> list[str]:
    """``values`` without repeats, in first-seen order."""
    return list(dict.fromkeys(values))


def subscriber_topics(wanted: Sequence[str], followed: set[str]) -> tuple[str, ...]:
    """The development's topics a channel follows, in the development's order; ``("*",)`` when
    the channel follows ``*`` (the whole story, whatever topics it follows besides)."""
    if STAR in followed:
        return (STAR,)
    return tuple(t for t in wanted if t in followed)


def subscription_order(topic: str) -> tuple[bool, str]:
    """Sort key for a channel's subscriptions: ``*`` first, then by name."""
    return (topic != STAR, topic)
