"""When a development's topics are settled (pure).

A development's topics come from its first reports. Reports that arrive within ``SETTLE`` of
the first one may still add a topic (a second outlet's headline says what the first one only
implied); after that the topics are fixed, so a topic channel hears about a development soon
after it breaks or not at all. Without this, a report hours later that mentions, say,
territory in passing sent a stale alert to the territory channel: late, and most often off its
topic.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

# Well inside the 30-minute latency target (an alert waits for the next polling round too).
SETTLE = timedelta(minutes=20)


def settled_topics(
    known: Iterable[str],
    reported: Iterable[str],
    age: timedelta,
    *,
    settle: timedelta = SETTLE,
) -> set[str]:
    """The development's topics once a report tagged ``reported`` joins it ``age`` after its
    first report: the union while the development is young, else the ``known`` ones."""
    topics = set(known)
    if age <= settle:
        topics |= set(reported)
    return topics
