"""Slack's Block Kit renderer: feed text is shown as text, never as markup; links come only from
the message's own links; every message fits Block Kit's limits."""

from __future__ import annotations

import json
import re
from typing import Any

from bot.adapters.slack_render import (
    MAX_BLOCKS,
    MAX_HEADER,
    MAX_SECTION,
    MAX_TEXT,
    escape,
    render_alert,
    render_briefing,
    render_more_coverage,
    render_reply,
    safe_url,
)
from bot.messages import AlertView, BriefingSection, BriefingView, Entry, Field, Reply

HOSTILE = "Breaking <!channel> <!here> <@U123> <https://evil.example|bank> @everyone @here alert"


def texts(blocks: Any) -> list[str]:
    """Every text string in a list of blocks."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if isinstance(value.get("text"), str):
                found.append(value["text"])
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(list(blocks))
    return found


LIVE = re.compile(r"<[!@#]|<https?:|@(everyone|here|channel)\b")


def live_markup(text: str) -> list[str]:
    """Links the renderer built are ``<http…|…>``; anything else angle-bracketed is live."""
    return LIVE.findall(text)


def view(**kw: Any) -> AlertView:
    base: dict[str, Any] = {
        "headline": "NATO allies pledge air defence",
        "summary": "Several members will send systems.",
        "outlets": ("The Wire", "Daily"),
        "links": ("https://wire.example/a", "https://daily.example/b"),
        "topics": ("nato",),
    }
    base.update(kw)
    return AlertView(**base)


def test_hostile_feed_title_is_text_in_blocks_and_fallback() -> None:
    message = render_alert(view(headline=HOSTILE, summary="See " + HOSTILE))
    for text in [*texts(message.blocks), message.text]:
        allowed = re.findall(r"<https://(?:wire|daily)\.example/[ab]\|[a-z.]+>", text)
        stripped = text
        for good in allowed:
            stripped = stripped.replace(good, "")
        assert not live_markup(stripped), text
        assert "<!" not in stripped and "<@" not in stripped
    headline = texts(message.blocks)[0]
    assert "&lt;!channel&gt;" in headline and "&lt;@U123&gt;" in headline
    assert "@\u200beveryone" in headline and "@\u200bhere" in headline
    assert "evil.example" not in json.dumps(list(message.blocks))  # a feed's URL is not linked


def test_sources_are_links_from_the_view_only() -> None:
    message = render_alert(view())
    body = json.dumps(list(message.blocks))
    assert "<https://wire.example/a|wire.example>" in body
    assert "<https://daily.example/b|daily.example>" in body
    context = next(b for b in message.blocks if b["type"] == "context")
    shown = " ".join(e["text"] for e in context["elements"])
    assert "2 outlets" in shown and "nato" in shown


def test_a_link_url_cannot_break_out_of_its_link() -> None:
    assert safe_url("javascript:alert(1)") is None
    assert safe_url("https://a.example/x y") is None
    assert safe_url("ftp://a.example/") is None
    assert safe_url("https://a.example/?q=<!channel>|x&y=1") == (
        "https://a.example/?q=%3C!channel%3E%7Cx&amp;y=1"
    )
    message = render_alert(view(links=("https://a.example/p|<!here>", "javascript:x()")))
    body = " ".join(texts(message.blocks))
    assert "<https://a.example/p%7C%3C!here%3E|a.example>" in body
    assert "javascript" not in body


def test_escape_shows_exactly_the_characters() -> None:
    assert escape("Q&A <b> 1 > 0") == "Q&amp;A &lt;b&gt; 1 &gt; 0"


def test_long_alert_stays_within_limits_and_keeps_links_whole() -> None:
    long = "word " * 3000
    links = tuple(f"https://wire.example/{i}?a=1&b=2" for i in range(30))
    message = render_alert(view(headline=long, summary=long, links=links, max_links=30))
    assert len(message.blocks) <= MAX_BLOCKS
    for text in texts(message.blocks):
        assert len(text) <= MAX_SECTION
        assert text.count("<") == text.count(">")  # no link cut in half
    assert len(json.dumps(list(message.blocks))) <= MAX_TEXT
    assert len(message.text) <= 3000


def test_update_reply_names_new_outlets_and_links() -> None:
    grown = view(
        is_update=True,
        new_outlets=("Kyiv Post",),
        new_languages=("uk",),
        links=("https://kyiv.example/n",),
    )
    message = render_more_coverage(grown)
    body = " ".join(texts(message.blocks))
    assert "More coverage: now reported by Kyiv Post; now in uk." in body
    assert "<https://kyiv.example/n|kyiv.example>" in body


def test_reply_with_hostile_user_text_and_many_entries_fits() -> None:
    entries = tuple(
        Entry(
            headline=f"{HOSTILE} {i}",
            outlets=("The Wire",),
            links=(f"https://wire.example/{i}",),
            when="2 h ago",
        )
        for i in range(80)
    )
    reply = Reply(
        title="What's new on nato, newest first:",
        lines=("Unknown topic “<@U999>”.",),
        fields=(Field(name="nato", value="<!channel> the alliance"),),
        entries=entries,
        suggestion="Try: subscribe nato",
    )
    message = render_reply(reply)
    assert len(message.blocks) <= MAX_BLOCKS
    assert len(json.dumps(list(message.blocks))) <= MAX_TEXT
    all_text = " ".join(texts(message.blocks)) + message.text
    cleaned = re.sub(r"<https://wire\.example/\d+\|wire\.example>", "", all_text)
    assert not live_markup(cleaned)
    assert "more not shown here" in all_text
    assert "Try: subscribe nato" in all_text  # the suggestion survives the cut


def test_long_briefing_is_split_into_messages_within_limits() -> None:
    entries = tuple(
        Entry(headline=f"Development {i} " + "x" * 200, links=(f"https://w.example/{i}",))
        for i in range(150)
    )
    briefing = BriefingView(
        title="Morning briefing " + "t" * 300,
        top_line="150 developments overnight.",
        sections=(BriefingSection(topic="nato", title="NATO", entries=entries),),
    )
    messages = render_briefing(briefing)
    assert len(messages) > 1
    assert messages[0].blocks[0]["type"] == "header"
    assert len(messages[0].blocks[0]["text"]["text"]) <= MAX_HEADER
    shown = 0
    for message in messages:
        assert len(message.blocks) <= MAX_BLOCKS
        assert len(json.dumps(list(message.blocks))) <= MAX_TEXT
        shown += sum("Development" in t for t in texts(message.blocks))
    assert shown == 150  # split, nothing dropped


def test_briefing_header_is_plain_text_and_sections_are_escaped() -> None:
    briefing = BriefingView(
        title="Briefing: Q&A <!channel>",
        top_line="2 developments <@U123>",
        sections=(
            BriefingSection(
                topic="nato",
                title="NATO & allies",
                entries=(Entry(headline=HOSTILE, links=("https://w.example/1",)),),
            ),
        ),
    )
    [message] = render_briefing(briefing)
    header = message.blocks[0]
    assert header["text"] == {"type": "plain_text", "text": "Briefing: Q&A <!channel>"}
    rest = [t for b in message.blocks[1:] for t in texts([b])]
    assert "2 developments &lt;@U123&gt;" in rest
    assert "*NATO &amp; allies*" in rest
    for text in rest:
        assert not live_markup(text.replace("<https://w.example/1|w.example>", ""))
