"""Discord embeds and plain text from the neutral messages: inert feed text, Discord's limits."""

from __future__ import annotations

import re
import time
from typing import Any

import discord

from bot.adapters import discord_render as dr
from bot.messages import AlertView, BriefingSection, BriefingView, Entry, Field, Reply

HOSTILE = "Bank run @everyone @here <@&123> <@456> <#789> [bank](https://evil.example/x) **now**"
LINK = re.compile(r"(?<!\\)\[([^\]]*)\]\(([^)\s]*)\)")  # a live markdown link
OPEN = re.compile(r"(?<!\\)\]\(")  # where a live link's URL starts
MENTION = re.compile(r"@(everyone|here)|<@&?\d+>|<#\d+>")


def _all_text(embeds: list[dict[str, Any]]) -> str:
    parts: list[str] = []
    for e in embeds:
        parts += [e.get("title", ""), e.get("description", ""), e.get("footer", {}).get("text", "")]
        parts += [f["name"] + "\n" + f["value"] for f in e.get("fields", [])]
    return "\n".join(parts)


def _whole(text: str) -> bool:
    """Every live link in ``text`` is whole: nothing was cut inside one."""
    return len(OPEN.findall(text)) == len(LINK.findall(text))


def _links(text: str) -> list[str]:
    return [url for _, url in LINK.findall(text)]


def _assert_inert(text: str, allowed: set[str]) -> None:
    assert not MENTION.search(text), text
    assert "evil.example" not in text
    assert set(_links(text)) <= allowed
    assert _whole(text)


def _hostile_alert(**kw: Any) -> AlertView:
    return AlertView(
        headline=HOSTILE,
        summary=kw.pop("summary", HOSTILE + " again"),
        outlets=kw.pop("outlets", ("Wire @everyone",)),
        links=kw.pop("links", ("https://news.example/a", "javascript:alert(1)")),
        topics=kw.pop("topics", ("negotiations",)),
        **kw,
    )


def test_a_hostile_feed_title_arrives_as_inert_text_in_the_embed() -> None:
    embed = dr.alert_embed(_hostile_alert(), footer="briefbot · ref abc")
    text = _all_text([embed])
    _assert_inert(text, {"https://news.example/a"})
    assert embed["title"].startswith("Bank run @\u200beveryone")
    assert "<\u200b@&123>" in embed["title"] and "<\u200b@456>" in embed["title"]
    assert "\\*\\*now\\*\\*" in embed["title"]  # shown as typed, not bold
    assert "\\[bank\\]" in embed["title"]
    assert "[news.example](https://news.example/a)" in embed["description"]
    assert "javascript" not in text
    discord.Embed.from_dict(embed)  # discord.py accepts it


def test_the_plain_text_fallback_is_inert_too() -> None:
    text = dr.text_message(_hostile_alert(), footer="briefbot · ref abc").content
    assert text is not None and len(text) <= dr.CONTENT_MAX
    _assert_inert(text, {"https://news.example/a"})
    assert text.endswith("-# briefbot · ref abc")


def test_urls_are_validated_and_escaped() -> None:
    assert dr.safe_url("javascript:alert(1)") is None
    assert dr.safe_url("ftp://example.com/x") is None
    assert dr.safe_url("https://") is None
    assert dr.safe_url("https://ex.com/a b)c") == "https://ex.com/a%20b%29c"
    assert dr.safe_url("http://ex.com/p?q=1&r=2#f") == "http://ex.com/p?q=1&r=2#f"
    embed = dr.alert_embed(_hostile_alert(links=("https://ex.com/a b)c",)))
    assert _links(embed["description"]) == ["https://ex.com/a%20b%29c"]


def test_an_alert_has_topics_outlets_and_a_colour_per_topic() -> None:
    view = AlertView(
        headline="Envoys meet in Geneva",
        summary="Talks resumed.",
        outlets=("Reuters", "AP", "BBC"),
        links=("https://a.example/1", "https://b.example/2"),
        topics=("negotiations", "nato"),
    )
    embed = dr.alert_embed(view)
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Topics"] == "negotiations, nato"
    assert fields["Outlets"].startswith("3 outlets")
    assert embed["color"] == dr.topic_colour("negotiations") in dr.PALETTE
    assert dr.topic_colour("negotiations") == dr.topic_colour("negotiations")
    assert len({dr.topic_colour(t) for t in ("a", "b", "c", "d", "e", "f", "g")}) > 1


def test_an_update_keeps_the_summary_and_says_what_grew() -> None:
    view = _hostile_alert(is_update=True, new_outlets=("AP",), new_languages=("de",))
    embed = dr.alert_embed(view)
    assert "again" in embed["description"]
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert "AP" in fields["Updated"] and "de" in fields["Updated"]


def test_an_alert_stays_inside_discords_limits() -> None:
    links = tuple(f"https://site{n}.example/{'x' * 300}" for n in range(60))
    view = AlertView(
        headline="H " * 5000,
        summary="word " * 5000,
        outlets=tuple(f"Outlet {n}" for n in range(400)),
        links=links,
        topics=tuple(f"topic{n}" for n in range(400)),
        max_links=60,
    )
    embed = dr.alert_embed(view, footer="ref")
    assert len(embed["title"]) <= dr.TITLE_MAX
    assert len(embed["description"]) <= dr.DESCRIPTION_MAX
    assert all(len(f["value"]) <= dr.FIELD_VALUE_MAX for f in embed["fields"])
    assert dr.embed_size(embed) <= dr.EMBEDS_TOTAL_MAX
    assert set(_links(embed["description"])) <= set(links)
    assert _whole(embed["description"])
    assert "more" in embed["description"]
    text = dr.text_message(view, footer="ref").content
    assert text is not None and len(text) <= dr.CONTENT_MAX
    assert _whole(text)


def test_a_reply_embed_keeps_to_25_fields_and_counts_the_rest() -> None:
    reply = Reply(
        title="Sources:",
        fields=tuple(Field(name=f"s{n}", value="ok " * 500) for n in range(40)),
        suggestion="Try: sources",
    )
    embed = dr.reply_embed(reply)
    assert len(embed["fields"]) <= dr.FIELDS_MAX
    assert all(len(f["value"]) <= dr.FIELD_VALUE_MAX for f in embed["fields"])
    assert "and 16 more" in embed["description"]
    error = dr.reply_embed(Reply(lines=("Unknown topic “x”.",), error=True))
    assert error["color"] == dr.ERROR_COLOUR


def test_reply_entries_are_escaped_and_linked_from_their_own_links() -> None:
    reply = Reply(
        title="What's new on nato, newest first:",
        entries=(
            Entry(
                headline=HOSTILE,
                outlets=("Wire",),
                links=("https://news.example/a",),
                when="2 h ago",
            ),
        ),
    )
    embed = dr.reply_embed(reply)
    _assert_inert(_all_text([embed]), {"https://news.example/a"})
    assert "**Bank run" in embed["description"]  # the bot's own bold, around escaped text


def _entries(n: int, label: str) -> tuple[Entry, ...]:
    return tuple(
        Entry(
            headline=f"{label} {k} " + "long headline words " * 20,
            summary="summary words " * 40,
            outlets=("Reuters", "AP"),
            links=(f"https://news.example/{label}/{k}?{'q' * 100}",),
            when="3 h ago",
        )
        for k in range(n)
    )


def test_a_long_briefing_is_split_into_embeds_within_the_limits() -> None:
    view = BriefingView(
        title="Morning briefing @everyone",
        top_line="12 developments overnight.",
        sections=tuple(
            BriefingSection(topic=f"t{n}", title=f"Topic {n}", entries=_entries(12, f"s{n}"))
            for n in range(14)
        ),
        further_reading=_entries(5, "fr"),
    )
    embeds = dr.briefing_embeds(view, footer="briefbot · ref abc")
    assert 1 < len(embeds) <= dr.EMBEDS_MAX
    assert sum(dr.embed_size(e) for e in embeds) <= dr.EMBEDS_TOTAL_MAX
    for e in embeds:
        assert len(e.get("description", "")) <= dr.DESCRIPTION_MAX
        assert _whole(e.get("description", ""))
    text = _all_text(embeds)
    assert not MENTION.search(text)
    assert "more section" in text
    assert embeds[-1]["footer"]["text"] == "briefbot · ref abc"
    plain = dr.plain_text(dr.Rendered(embeds=tuple(embeds)), footer="ref")
    assert len(plain) <= dr.CONTENT_MAX and _whole(plain)


def test_a_short_briefing_is_whole() -> None:
    view = BriefingView(
        title="Evening briefing",
        top_line="2 developments.",
        sections=(BriefingSection(topic="nato", title="NATO", entries=_entries(2, "n"), more=3),),
    )
    embeds = dr.render(view).embeds
    assert [e["title"] for e in embeds] == ["Evening briefing", "NATO"]
    assert "and 3 more" in embeds[1]["description"]


def test_an_empty_reply_is_still_a_valid_embed() -> None:
    embed = dr.reply_embed(Reply())
    assert embed["description"] == "Nothing to show."


def test_a_hostile_headline_of_brackets_renders_quickly() -> None:
    # escape_markdown alone backtracks quadratically on "[x](" runs (about 1 s for 4,000
    # characters): the event loop would stall on one headline.
    view = AlertView(
        headline="[x](" * 5000, summary="[y](" * 5000, outlets=("A",), links=(), topics=()
    )
    started = time.perf_counter()
    embed = dr.alert_embed(view)
    assert time.perf_counter() - started < 0.5
    assert len(embed["title"]) <= dr.TITLE_MAX and "\\[x\\](" in embed["title"]
    assert not LINK.findall(embed["description"])
