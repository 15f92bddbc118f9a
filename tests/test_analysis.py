"""Pieces about the news are told from news by general signals, never by outlet."""

import pytest

from bot.novelty.analysis import analysis_kind, is_analysis, is_news, is_roundup


@pytest.mark.parametrize(
    ("title", "link", "kind"),
    [
        ("Russia-Ukraine war live: drones over the capital overnight", "", "roundup"),
        ("War in Ukraine: list of key events, day 1,700", "", "roundup"),
        ("Ukraine war briefing: envoys head to Geneva", "", "roundup"),
        ("Wojna w Ukrainie. Dzień 1500", "", "roundup"),
        ("Explainer: what the ceasefire draft says about the front line", "", "genre"),
        ("Opinion: Europe must pay for its own security", "", "genre"),
        ("JANE DOE: The peace plan rewards aggression", "", "genre"),
        ("Why a power plant stands in the way of a peace deal", "", "question"),
        ("Can sanctions still bite in the fourth winter of the war?", "", "question"),
        ("What to know about the general picked to run the presidential office", "", "feature"),
        ("‘We sleep in shifts’: life in a city under drone attack", "", "feature"),
        ("For farmers near the front, every harvest is a gamble", "", "feature"),
        ("The Talks Have Stalled. Europe Must Decide What It Wants.", "", "feature"),
        (
            "The front line is moving faster than the talks",
            "https://paper.example/opinion/2026/03/front-line-faster",
            "section",
        ),
        (
            "Strikes overnight across the east",
            "https://site.example/world/live/2026/mar/04/strikes-overnight",
            "section",
        ),
    ],
)
def test_analysis_pieces_are_recognised(title: str, link: str, kind: str) -> None:
    assert analysis_kind(title, link) == kind
    assert is_analysis(title, link) and not is_news(title, link)


@pytest.mark.parametrize(
    ("title", "link"),
    [
        ("Russian missile strike on a port kills four, governor says", ""),
        ("Zelensky appoints a new defence minister", "https://wire.example/world/zelensky-x"),
        ("Who attacked the depot? Kyiv says Moscow staged it, officials say", ""),
        ("'Welcome back' — commander reported dead turns up alive", ""),
        ("Kremlin rejects the ceasefire draft - Wire", ""),
        # the word "live" inside news, "day" without a counter
        ("Envoys to meet on the day the truce expires", ""),
    ],
)
def test_news_stays_news(title: str, link: str) -> None:
    assert analysis_kind(title, link) is None
    assert is_news(title, link)


def test_roundups_are_the_many_events_kind() -> None:
    assert is_roundup("Russia-Ukraine war: key events, day 1,700")
    assert not is_roundup("Opinion: Europe must pay for its own security")
