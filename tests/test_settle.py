"""Topics settle from a development's first reports."""

from datetime import timedelta

from bot.topics.settle import SETTLE, settled_topics


def test_a_young_development_takes_the_topics_of_its_new_reports() -> None:
    topics = settled_topics(("negotiations",), ("territory",), timedelta(minutes=5))
    assert topics == {"negotiations", "territory"}


def test_a_topic_gained_late_does_not_reach_its_channels() -> None:
    # A report hours later mentions territory: the territory channel hears nothing then.
    assert settled_topics(("negotiations",), ("territory",), timedelta(hours=6)) == {"negotiations"}


def test_the_bound_is_within_the_latency_target() -> None:
    assert timedelta(minutes=30) >= SETTLE
    assert settled_topics((), ("fighting",), SETTLE) == {"fighting"}
    assert settled_topics((), ("fighting",), SETTLE + timedelta(seconds=1)) == set()
