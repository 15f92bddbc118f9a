"""A briefing's content: grouping, ordering, counts, safety of feed text, and platform limits."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain import STAR, Development, Item
from bot.services.briefing import (
    MAX_FURTHER_READING,
    Briefing,
    build_briefing,
    fit_for_limit,
    render_briefing_text,
    since_words,
    split_for_limit,
)

KYIV = "Europe/Kyiv"
NOW = datetime(2026, 1, 7, 5, 30, tzinfo=UTC)  # 07:30 in Kyiv
SINCE = NOW - timedelta(days=1)  # the previous briefing, 07:30 yesterday
NAMES = {"nato": "NATO", "fighting": "Fighting", "negotiations": "Negotiations"}
_ids = iter(range(1, 10_000))


def item(dev: str | None, outlet: str, link: str, hours_ago: float = 3, **kw: object) -> Item:
    return Item(
        id=next(_ids),
        source_id=outlet.casefold().replace(" ", "-"),
        source_name=outlet,
        guid=link,
        link=link,
        title=str(kw.pop("title", f"{outlet} report")),
        summary="",
        published=None,
        first_seen=NOW - timedelta(hours=hours_ago),
        content_hash="h",
        development_id=dev,
        url=str(kw.pop("url", "")),
    )


def dev(
    id: str, topics: tuple[str, ...], title: str, summary: str = "", hours_ago: float = 3
) -> Development:
    return Development(
        id=id,
        first_seen=NOW - timedelta(hours=hours_ago + 1),
        updated_at=NOW - timedelta(hours=hours_ago),
        title=title,
        summary=summary,
        topics=topics,
    )


JETS = dev("jets", ("nato", "fighting"), "NATO jets scrambled over the Baltic", "Allied jets flew.")
GENEVA = dev("geneva", ("negotiations",), "Envoys meet in Geneva", "Envoys meet in Geneva.", 2)
KHARKIV = dev("kharkiv", ("fighting",), "Drone strike on Kharkiv", "A drone hit a block.", 1)
ODESA = dev("odesa", ("fighting",), "Port of Odesa shelled", "Cranes were hit.", 5)
ITEMS = {
    "jets": [
        item("jets", "Reuters", "https://reuters.example/jets", 4),
        item("jets", "BBC", "https://bbc.example/jets", 3.5),
        item("jets", "AP", "https://ap.example/jets", 3),
        item("jets", "Reuters", "https://reuters.example/jets-2", 2),  # same outlet twice
    ],
    "geneva": [item("geneva", "Reuters", "https://reuters.example/geneva", 2)],
    "kharkiv": [
        item("kharkiv", "Kyiv Independent", "https://kyivindependent.example/k", 1),
        item("kharkiv", "Ukrainska Pravda", "https://pravda.example/k", 0.5),
    ],
    "odesa": [item("odesa", "Suspilne", "https://suspilne.example/o", 5)],
}
ALL = [GENEVA, KHARKIV, JETS, ODESA]


def brief(topics: list[str], developments: list[Development] = ALL, **kw: object) -> Briefing:
    kw.setdefault("topic_names", NAMES)
    return build_briefing(developments, ITEMS, topics, NOW, SINCE, KYIV, **kw)  # type: ignore[arg-type]


def test_sections_follow_the_channels_topics_and_each_development_appears_once() -> None:
    b = brief(["fighting", "nato", "negotiations"])
    assert [s.topic_id for s in b.sections] == ["fighting", "negotiations"]
    # jets touches nato and fighting: it goes under fighting, the channel's first topic
    fighting = b.sections[0]
    assert [e.development_id for e in fighting.entries] == ["jets", "kharkiv", "odesa"]
    assert b.development_ids == ("jets", "kharkiv", "odesa", "geneva")
    assert b.topics == ("fighting", "negotiations")
    assert fighting.title == "Fighting"


def test_best_covered_first_then_newest() -> None:
    b = brief(["fighting"])
    entries = b.sections[0].entries
    assert [len(e.outlets) for e in entries] == [3, 2, 1]
    assert entries[0].outlets == ("Reuters", "BBC", "AP")
    same = [
        dev("old", ("fighting",), "Older one", hours_ago=5),
        dev("new", ("fighting",), "Newer one", hours_ago=1),
    ]
    b2 = build_briefing(same, {}, ["fighting"], NOW, SINCE, KYIV)
    assert b2.development_ids == ("new", "old")


def test_a_star_channel_groups_by_first_topic_and_other_goes_last() -> None:
    loose = dev("loose", (), "Something on the story", hours_ago=1)
    b = brief([STAR], [*ALL, loose])
    assert [s.topic_id for s in b.sections] == ["nato", "fighting", "negotiations", ""]
    assert b.sections[-1].title == "Other"
    assert b.topics == ("nato", "fighting", "negotiations")
    assert b.sections[0].entries[0].development_id == "jets"


def test_top_line_counts_developments_and_distinct_outlets() -> None:
    b = brief(["nato", "negotiations"])
    assert b.top_line == "Briefing: 2 developments from 3 outlets since 07:30 yesterday."
    assert b.outlet_count == 3  # Reuters (twice), BBC, AP
    one = brief(["negotiations"])
    assert one.top_line == "Briefing: 1 development from 1 outlet since 07:30 yesterday."
    late = brief(["negotiations"], late=True)
    assert late.late and "Sent late" in late.top_line


def test_a_quiet_night_is_one_short_line() -> None:
    b = brief(["nato"], [])
    assert b.quiet and b.sections == ()
    assert render_briefing_text(b) == "Briefing: nothing new on NATO since 07:30 yesterday."
    star = build_briefing([], {}, [STAR], NOW, SINCE, KYIV)
    assert star.top_line == "Briefing: nothing new on the story since 07:30 yesterday."
    # a development on no topic of the channel does not break the silence
    assert brief(["nato"], [GENEVA]).quiet


def test_only_the_window_counts() -> None:
    stale = dev("stale", ("nato",), "Old news", hours_ago=30)
    future = Development(
        id="future",
        first_seen=NOW + timedelta(minutes=1),
        updated_at=NOW + timedelta(minutes=1),
        title="Not yet",
        summary="",
        topics=("nato",),
    )
    b = brief(["nato"], [stale, future, JETS])
    assert b.development_ids == ("jets",)
    # an item first seen after now is not cited
    items = {
        "jets": [
            item("jets", "Reuters", "https://r.example/1"),
            item("jets", "AP", "https://ap.example/x", -1),
        ]
    }
    b2 = build_briefing([JETS], items, ["nato"], NOW, SINCE, KYIV)
    assert b2.entries[0].links == ("https://r.example/1",)
    assert b2.entries[0].outlets == ("Reuters",)


def test_entries_carry_the_items_own_links_first_reporter_first() -> None:
    items = {
        "jets": [
            item(
                "jets", "BBC", "https://bbc.example/canonical", 1, url="https://bbc.example/as-fed"
            ),
            item("jets", "Reuters", "https://reuters.example/a", 2),
            item("jets", "Reuters", "https://reuters.example/a", 1.5),  # a copy: cited once
        ]
    }
    b = build_briefing([JETS], items, ["nato"], NOW, SINCE, KYIV)
    assert b.entries[0].links == ("https://reuters.example/a", "https://bbc.example/as-fed")


def test_summary_is_one_line_and_dropped_when_it_repeats_the_headline() -> None:
    b = brief(["negotiations", "fighting"])
    geneva = next(e for e in b.entries if e.development_id == "geneva")
    assert geneva.summary == ""  # "Envoys meet in Geneva." is the headline again
    multi = dev("m", ("nato",), "Headline", "Line one.\nLine two\tand   more.")
    entry = build_briefing([multi], {}, ["nato"], NOW, SINCE, KYIV).entries[0]
    assert entry.summary == "Line one. Line two and more."
    text = render_briefing_text(brief(["negotiations"]))
    assert text.count("Envoys meet in Geneva") == 1


def test_feed_text_is_scrubbed_and_links_neutralized() -> None:
    hostile = dev(
        "h",
        ("nato",),
        "@everyone NATO <!channel> news\x1b[31m",
        "Read more at https://evil.example/phish <@U123>",
    )
    items = {"h": [item("h", "Evil <@here> Times", "https://ok.example/<@U999>")]}
    text = render_briefing_text(build_briefing([hostile], items, ["nato"], NOW, SINCE, KYIV))
    assert "@everyone" not in text and "<!channel>" not in text and "<@" not in text
    assert "\x1b" not in text
    assert "evil.example" not in text  # a URL in feed text never becomes a link
    assert "https://ok.example/" in text  # the item's own link is kept, its mention broken


def test_further_reading_lists_uncited_analysis() -> None:
    reading = [
        item(None, "FT", "https://ft.example/analysis", title="What a deal would mean"),
        item(None, "FT", "https://ft.example/analysis", title="Same piece again"),
        item("jets", "BBC", "https://bbc.example/explainer", title="Explainer on the jets"),
        item(None, "Reuters", "https://reuters.example/jets", title="Already cited"),
        *[
            item(None, "Blog", f"https://blog.example/{n}", title=f"Live blog {n}")
            for n in range(9)
        ],
    ]
    b = brief(["nato"], further_reading=reading)
    links = [r.link for r in b.further_reading]
    assert links[0] == "https://ft.example/analysis"
    assert "https://bbc.example/explainer" not in links  # its development is in the briefing
    assert "https://reuters.example/jets" not in links
    assert len(links) == len(set(links)) == MAX_FURTHER_READING
    text = render_briefing_text(b)
    assert "Further reading\n• What a deal would mean (FT): https://ft.example/analysis" in text
    assert b.links[-MAX_FURTHER_READING:] == tuple(links)


def test_plain_text_layout() -> None:
    text = render_briefing_text(brief(["nato", "negotiations"]))
    assert text == (
        "Briefing: 2 developments from 3 outlets since 07:30 yesterday.\n"
        "\n"
        "NATO\n"
        "• NATO jets scrambled over the Baltic (Reuters, BBC and AP)\n"
        "  Allied jets flew.\n"
        "  https://reuters.example/jets\n"
        "  https://bbc.example/jets (+2 more)\n"
        "\n"
        "Negotiations\n"
        "• Envoys meet in Geneva (Reuters)\n"
        "  https://reuters.example/geneva"
    )


@pytest.mark.parametrize(
    ("since", "words"),
    [
        (datetime(2026, 1, 7, 3, 0, tzinfo=UTC), "since 05:00"),
        (datetime(2026, 1, 6, 5, 30, tzinfo=UTC), "since 07:30 yesterday"),
        (datetime(2026, 1, 5, 5, 30, tzinfo=UTC), "since Monday 07:30"),
        (datetime(2025, 12, 20, 5, 30, tzinfo=UTC), "since 20 December 2025 07:30"),
        (datetime(2026, 1, 6, 22, 0, tzinfo=UTC), "since 00:00"),
    ],
)
def test_since_words(since: datetime, words: str) -> None:
    assert since_words(since, NOW, KYIV) == words


def test_since_words_across_the_autumn_change() -> None:
    # the briefing before the change was at 04:30 UTC (07:30 EEST); the next at 05:30 UTC
    assert (
        since_words(
            datetime(2026, 10, 24, 4, 30, tzinfo=UTC),
            datetime(2026, 10, 25, 5, 30, tzinfo=UTC),
            KYIV,
        )
        == "since 07:30 yesterday"
    )


# --- platform limits ---------------------------------------------------------------------------

URL = re.compile(r"https?://\S+")


def _many(n: int) -> tuple[list[Development], dict[str, list[Item]]]:
    devs, items = [], {}
    for i in range(n):
        d = dev(
            f"d{i}",
            ("fighting" if i % 2 else "nato",),
            f"Development number {i} " + "x" * 40,
            "A summary sentence that is long enough to matter. " * 2,
            hours_ago=1 + i / 10,
        )
        devs.append(d)
        items[d.id] = [
            item(d.id, f"Outlet {j}", f"https://outlet{j}.example/{i}/{'p' * 30}", 2)
            for j in range(1 + i % 4)
        ]
    return devs, items


@pytest.mark.parametrize("limit", [200, 500, 2000])
def test_split_fits_every_message_and_never_cuts_a_link(limit: int) -> None:
    devs, items = _many(30)
    b = build_briefing(devs, items, ["nato", "fighting"], NOW, SINCE, KYIV, topic_names=NAMES)
    messages = split_for_limit(b, limit)
    assert all(len(m) <= limit for m in messages)
    joined = "\n".join(messages)
    every = {link for links in items.values() for i in links for link in [i.cite]}
    assert set(URL.findall(joined)) <= every  # whole links only
    for d in devs:  # every development is somewhere
        assert f"Development number {d.id[1:]} " in joined
    assert messages[0].startswith(b.top_line)
    assert any("(continued)" in m for m in messages)


def test_split_keeps_a_short_briefing_whole() -> None:
    b = brief(["nato", "negotiations"])
    assert split_for_limit(b, 4000) == (render_briefing_text(b),)
    with pytest.raises(ValueError):
        split_for_limit(b, 10)


def test_fit_keeps_the_best_covered_and_says_how_many_more() -> None:
    devs, items = _many(30)
    b = build_briefing(devs, items, ["nato", "fighting"], NOW, SINCE, KYIV, topic_names=NAMES)
    fitted = fit_for_limit(b, 1500)
    assert len(fitted.text) <= 1500
    assert 0 < fitted.omitted < 30
    assert fitted.text.endswith(f"…and {fitted.omitted} more developments.")
    assert len(fitted.development_ids) + fitted.omitted == 30
    # the kept ones are the best covered: none left out has more outlets than one kept
    outlets = {d: len(items[d]) for d in items}
    kept = [outlets[d] for d in fitted.development_ids]
    dropped = [outlets[d] for d in items if d not in fitted.development_ids]
    assert min(kept) >= max(dropped)
    assert set(URL.findall(fitted.text)) == set(fitted.links)
    for link in fitted.links:
        assert link in {i.cite for lst in items.values() for i in lst}


def test_fit_returns_the_full_text_when_it_fits() -> None:
    b = brief(["nato"])
    fitted = fit_for_limit(b, 4000)
    assert fitted.text == render_briefing_text(b)
    assert (fitted.omitted, fitted.development_ids, fitted.links) == (0, b.development_ids, b.links)


def test_further_reading_keeps_to_the_window() -> None:
    reading = [
        item(None, "FT", "https://ft.example/old", 30, title="Old analysis"),
        item(None, "FT", "https://ft.example/new", 2, title="New analysis"),
        item(None, "FT", "https://ft.example/future", -1, title="Not yet"),
    ]
    b = brief(["nato"], further_reading=reading)
    assert [r.link for r in b.further_reading] == ["https://ft.example/new"]


def test_a_headline_that_was_all_url_falls_back_to_a_report_title() -> None:
    bare = dev("bare", ("nato",), "https://spam.example/only-a-link")
    items = {"bare": [item("bare", "AP", "https://ap.example/b", title="NATO meets in Brussels")]}
    b = build_briefing([bare], items, ["nato"], NOW, SINCE, KYIV)
    assert b.entries[0].headline == "NATO meets in Brussels"
    alone = build_briefing([bare], {}, ["nato"], NOW, SINCE, KYIV)
    assert alone.entries[0].headline == "(untitled)"


def test_a_link_longer_than_the_limit_is_left_out_not_cut() -> None:
    long_link = "https://example.org/" + "a" * 300
    d = dev("long", ("nato",), "A headline " * 30, "A summary " * 30)
    items = {"long": [item("long", "AP", long_link)]}
    b = build_briefing([d], items, ["nato"], NOW, SINCE, KYIV)
    for limit in (80, 200):
        messages = split_for_limit(b, limit)
        assert all(len(m) <= limit for m in messages)
        assert not any("https://example.org/" in m for m in messages)
        assert any("A headline" in m for m in messages)
    fitted = fit_for_limit(b, 200)
    assert len(fitted.text) <= 200 and "example.org" not in fitted.text
    assert fitted.omitted == 1 and fitted.links == ()
