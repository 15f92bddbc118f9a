"""Feed documents → normalized entries. Every fixture here is a small hand-written document."""

from __future__ import annotations

import gzip
import threading
from datetime import UTC, datetime

import pytest

from bot.domain import FeedEntry, FeedError, ParsedFeed
from bot.ingest import parse as parse_module
from bot.ingest.parse import SUMMARY_MAX_CHARS, TITLE_MAX_CHARS, parse_feed, parse_feed_async

FEED_URL = "https://news.example.org/feeds/world.xml"

RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
  <channel>
    <title>Example World &amp; Europe</title>
    <link>https://news.example.org/world</link>
    <language>en-gb</language>
    <item>
      <title>Envoys meet in Geneva &#8212; &quot;constructive&quot; talks</title>
      <link>https://news.example.org/world/geneva-talks?utm_source=rss&amp;utm_medium=feed</link>
      <guid isPermaLink="false">urn:example:1001</guid>
      <description><![CDATA[<p>Delegations met for <b>six hours</b>.</p>
        <script>trackView()</script><p>Another round is planned &amp; expected.</p>]]>
      </description>
      <pubDate>Sat, 03 Jan 2026 14:30:00 +0200</pubDate>
    </item>
    <item>
      <title>Ceasefire map, explained</title>
      <link>/world/ceasefire-map#top</link>
      <description>Where the lines are &lt;em&gt;now&lt;/em&gt;.</description>
      <pubDate>Sat, 03 Jan 2026 09:00:00 GMT</pubDate>
    </item>
    <item>
      <title>An entry with only a title</title>
    </item>
    <item>
      <title>Envoys meet in Geneva (repeated by the feed)</title>
      <link>https://news.example.org/world/geneva-talks-again</link>
      <guid isPermaLink="false">urn:example:1001</guid>
    </item>
    <item>
      <description>Neither a link nor a title: nothing to show.</description>
    </item>
    <item>
      <title>Full text only</title>
      <link>https://news.example.org/world/full-text</link>
      <content:encoded><![CDATA[<div><p>The whole article, in <i>HTML</i>.</p></div>]]>
      </content:encoded>
    </item>
    <item>
      <title>Script link</title>
      <link>javascript:alert(1)</link>
      <guid isPermaLink="false">urn:example:js</guid>
    </item>
  </channel>
</rss>
"""


def _by_title(entries: tuple[FeedEntry, ...]) -> dict[str, FeedEntry]:
    return {e.title: e for e in entries}


def test_rss_feed_title_and_language() -> None:
    feed = parse_feed(RSS, url=FEED_URL)
    assert feed.title == "Example World & Europe"
    assert feed.language == "en-GB"


def test_rss_entry_text_is_plain_with_entities_decoded_and_scripts_dropped() -> None:
    first = parse_feed(RSS, url=FEED_URL).entries[0]
    assert first.title == 'Envoys meet in Geneva — "constructive" talks'
    assert first.summary == "Delegations met for six hours.\nAnother round is planned & expected."
    assert "trackView" not in first.summary


def test_rss_entry_link_is_canonical_and_guid_is_the_entry_id() -> None:
    first = parse_feed(RSS, url=FEED_URL).entries[0]
    assert first.link == "https://news.example.org/world/geneva-talks"
    assert first.guid == "urn:example:1001"


def test_rss_dates_become_aware_utc() -> None:
    entries = parse_feed(RSS, url=FEED_URL).entries
    assert entries[0].published == datetime(2026, 1, 3, 12, 30, tzinfo=UTC)
    assert entries[1].published == datetime(2026, 1, 3, 9, 0, tzinfo=UTC)
    assert entries[0].published is not None and entries[0].published.utcoffset() is not None


def test_relative_link_is_resolved_against_the_feed_url_and_becomes_the_guid() -> None:
    second = parse_feed(RSS, url=FEED_URL).entries[1]
    assert second.link == "https://news.example.org/world/ceasefire-map"
    assert second.guid == second.link
    assert second.summary == "Where the lines are now."


def test_entry_without_link_or_id_gets_a_stable_title_guid() -> None:
    entries = _by_title(parse_feed(RSS, url=FEED_URL).entries)
    only_title = entries["An entry with only a title"]
    assert only_title.link == ""
    again = _by_title(parse_feed(RSS, url=FEED_URL).entries)["An entry with only a title"]
    assert only_title.guid == again.guid
    assert only_title.guid not in ("", "An entry with only a title")


def test_duplicate_guids_keep_the_first_and_empty_entries_are_skipped() -> None:
    entries = parse_feed(RSS, url=FEED_URL).entries
    guids = [e.guid for e in entries]
    assert len(guids) == len(set(guids))
    assert "Envoys meet in Geneva (repeated by the feed)" not in [e.title for e in entries]
    assert all(e.title or e.link for e in entries)
    assert not any("Neither a link" in e.summary for e in entries)


def test_summary_falls_back_to_the_full_content() -> None:
    full = _by_title(parse_feed(RSS, url=FEED_URL).entries)["Full text only"]
    assert full.summary == "The whole article, in HTML."


def test_a_link_that_is_not_http_is_dropped() -> None:
    script = _by_title(parse_feed(RSS, url=FEED_URL).entries)["Script link"]
    assert script.link == ""
    assert script.guid == "urn:example:js"


ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="uk" xml:base="https://atom.example.net/blog/">
  <title type="text">Щоденник переговорів</title>
  <id>urn:uuid:feed-1</id>
  <updated>2026-01-04T10:00:00Z</updated>
  <entry>
    <id>tag:atom.example.net,2026:post-7</id>
    <title type="html">&lt;em&gt;Гарантії&lt;/em&gt; безпеки</title>
    <link rel="alternate" href="posts/7?fbclid=zzz"/>
    <published>2026-01-04T09:15:00+02:00</published>
    <updated>2026-01-04T11:00:00+02:00</updated>
    <summary type="text">Plain &lt;text&gt; summary, not markup</summary>
  </entry>
  <entry>
    <id>tag:atom.example.net,2026:post-8</id>
    <title>Only updated</title>
    <link href="https://atom.example.net/blog/posts/8"/>
    <updated>2026-01-04T12:00:00Z</updated>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>One</p><p>Two</p></div>
    </content>
  </entry>
</feed>
""".encode()


def test_atom_feed_language_from_xml_lang_and_html_title_to_text() -> None:
    feed = parse_feed(ATOM, url="https://atom.example.net/feed.atom")
    assert feed.title == "Щоденник переговорів"
    assert feed.language == "uk"
    first = feed.entries[0]
    assert first.title == "Гарантії безпеки"
    assert first.summary == "Plain <text> summary, not markup"


def test_atom_relative_link_honours_xml_base() -> None:
    first = parse_feed(ATOM, url="https://atom.example.net/feed.atom").entries[0]
    assert first.link == "https://atom.example.net/blog/posts/7"
    assert first.guid == "tag:atom.example.net,2026:post-7"


def test_atom_published_wins_and_updated_is_the_fallback() -> None:
    first, second = parse_feed(ATOM, url="https://atom.example.net/feed.atom").entries
    assert first.published == datetime(2026, 1, 4, 7, 15, tzinfo=UTC)
    assert second.published == datetime(2026, 1, 4, 12, 0, tzinfo=UTC)
    assert second.summary == "One\nTwo"


RDF = b"""<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://rdf.example.com/">
    <title>RDF Wire</title>
    <link>https://rdf.example.com/</link>
    <description>Wire copy</description>
    <dc:language>fr</dc:language>
  </channel>
  <item rdf:about="https://rdf.example.com/a/1">
    <title>Sommet de Paris</title>
    <link>https://rdf.example.com/a/1?cmpid=rss</link>
    <description>Les dirigeants &lt;b&gt;europ\xc3\xa9ens&lt;/b&gt;
      se r\xc3\xa9unissent.</description>
    <dc:date>2026-01-06T18:00:00+01:00</dc:date>
  </item>
</rdf:RDF>
"""


def test_rdf_feed() -> None:
    feed = parse_feed(RDF, url="https://rdf.example.com/index.rdf")
    assert feed.title == "RDF Wire"
    assert feed.language == "fr"
    (entry,) = feed.entries
    assert entry.title == "Sommet de Paris"
    assert entry.link == "https://rdf.example.com/a/1"
    assert entry.summary == "Les dirigeants européens se réunissent."
    assert entry.published == datetime(2026, 1, 6, 17, 0, tzinfo=UTC)


def _rss_in(encoding: str, title: str, summary: str) -> bytes:
    doc = (
        f'<?xml version="1.0" encoding="{encoding}"?>'
        '<rss version="2.0"><channel><title>Enc</title>'
        f"<item><title>{title}</title><link>https://enc.example/1</link>"
        f"<description>{summary}</description></item></channel></rss>"
    )
    return doc.encode(encoding)


@pytest.mark.parametrize(
    ("encoding", "title", "summary"),
    [
        ("windows-1251", "Переговори в Женеві", "Делегації зустрілися"),
        ("iso-8859-2", "Rozmowy w Genewie", "Spotkanie delegacji w środę"),
        ("utf-16", "Переговори", "Gdańsk — Kyiv"),
    ],
)
def test_non_utf8_documents_are_decoded(encoding: str, title: str, summary: str) -> None:
    (entry,) = parse_feed(_rss_in(encoding, title, summary), url="https://enc.example/f").entries
    assert entry.title == title
    assert entry.summary == summary


def test_rss_with_a_version_the_parser_does_not_number_still_parses() -> None:
    body = (
        b'<rss version="0.94"><channel><title>Old</title><item><title>Still news</title>'
        b"<link>https://old.example/1</link></item></channel></rss>"
    )
    (entry,) = parse_feed(body, url="https://old.example/rss").entries
    assert entry.title == "Still news"


def test_long_titles_and_summaries_are_capped() -> None:
    title = "Negotiations " * 100
    summary = "<p>" + "Detailed reporting from the talks. " * 1_000 + "</p>"
    body = (
        f'<rss version="2.0"><channel><title>Long</title><item><title>{title}</title>'
        f"<link>https://long.example/1</link><description><![CDATA[{summary}]]></description>"
        "</item></channel></rss>"
    ).encode()
    (entry,) = parse_feed(body, url="https://long.example/rss").entries
    assert len(entry.title) <= TITLE_MAX_CHARS
    assert len(entry.summary) <= SUMMARY_MAX_CHARS
    assert entry.title.startswith("Negotiations Negotiations")
    assert entry.summary.endswith("…")


def test_an_empty_feed_parses_to_no_entries() -> None:
    body = b'<rss version="2.0"><channel><title>Quiet</title></channel></rss>'
    feed = parse_feed(body, url="https://quiet.example/rss")
    assert feed.title == "Quiet"
    assert feed.entries == ()


# --- not a feed -------------------------------------------------------------------------------

HTML_PAGE = b"""<!DOCTYPE html>
<html lang="en"><head><title>Example News</title>
<link rel="alternate" type="application/rss+xml" title="World" href="/feeds/world.rss">
</head><body><h1>Latest</h1></body></html>"""


def test_an_html_page_is_refused_with_the_feed_it_advertises() -> None:
    with pytest.raises(FeedError) as err:
        parse_feed(HTML_PAGE, url="https://www.example.com/news")
    message = str(err.value)
    assert "HTML page, not a feed" in message
    assert "RSS or Atom link" in message
    assert "https://www.example.com/feeds/world.rss" in message


@pytest.mark.parametrize(
    ("body", "phrase"),
    [
        (b"", "empty response"),
        (b"  \r\n ", "empty response"),
        (b'{"status": "ok", "items": []}', "JSON that is not a JSON Feed"),
        (b'<?xml version="1.0"?><sitemap><url/></sitemap>', "root element is <sitemap>"),
        (gzip.compress(b"<rss/>"), "gzip-compressed"),
        (b"\x00\x01\x02\x03binary", "binary data"),
        (b"Service temporarily unavailable", "not a feed"),
    ],
)
def test_non_feeds_are_refused_with_what_they_looked_like(body: bytes, phrase: str) -> None:
    with pytest.raises(FeedError, match=r"check the feed URL|use the site's") as err:
        parse_feed(body, url="https://x.example/feed")
    assert phrase in str(err.value)
    assert "https://x.example/feed" in str(err.value)


def test_a_json_feed_is_a_feed() -> None:
    body = (
        b'{"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": ['
        b'{"id": "j1", "url": "https://j.example/1", "title": "Talks", '
        b'"content_html": "<p>Hi</p>"}]}'
    )
    (entry,) = parse_feed(body, url="https://j.example/feed.json").entries
    assert (entry.guid, entry.link, entry.title, entry.summary) == (
        "j1",
        "https://j.example/1",
        "Talks",
        "Hi",
    )


def test_a_str_body_is_refused_because_parsers_treat_str_as_a_url() -> None:
    with pytest.raises(TypeError):
        parse_feed("https://example.com/feed.xml", url="https://example.com/")  # type: ignore[arg-type]


# --- hostile input ----------------------------------------------------------------------------


def test_billion_laughs_is_refused_or_stays_small() -> None:
    levels = ['<!ENTITY l0 "ha">'] + [
        f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10)
    ]
    body = (
        '<?xml version="1.0"?><!DOCTYPE rss [' + "".join(levels) + "]>"
        '<rss version="2.0"><channel><title>&l9;</title><item><title>&l9;</title>'
        "<link>https://lol.example/1</link><description>&l9;&l9;</description></item>"
        "</channel></rss>"
    ).encode()
    try:
        feed = parse_feed(body, url="https://lol.example/rss")
    except FeedError:
        return
    total = len(feed.title) + sum(len(e.title) + len(e.summary) for e in feed.entries)
    assert total < 100_000  # fully expanded, each &l9; would be 2 GB of "ha"


def test_a_big_entity_referenced_many_times_does_not_blow_up() -> None:
    big = "x" * 50_000
    refs = "&big;" * 20_000
    body = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY big "{big}">]>'
        f'<rss version="2.0"><channel><title>{refs}</title><item><title>{refs}</title>'
        f"<link>https://big.example/1</link><description>{refs}</description></item>"
        "</channel></rss>"
    ).encode()
    try:
        feed = parse_feed(body, url="https://big.example/rss")
    except FeedError:
        return
    total = len(feed.title) + sum(len(e.title) + len(e.summary) for e in feed.entries)
    assert total <= TITLE_MAX_CHARS * 2 + SUMMARY_MAX_CHARS


def test_deep_nesting_parses_or_is_refused() -> None:
    body = (
        b'<rss version="2.0"><channel><title>Deep</title><item><title>t</title>'
        b"<link>https://deep.example/1</link><description>"
        + b"<div>" * 100_000
        + b"</description></item></channel></rss>"
    )
    try:
        feed = parse_feed(body, url="https://deep.example/rss")
    except FeedError:
        return
    assert all(len(e.summary) <= SUMMARY_MAX_CHARS for e in feed.entries)


# --- async ------------------------------------------------------------------------------------


async def test_parse_feed_async_runs_off_the_event_loop_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loop_thread = threading.get_ident()
    threads: list[int] = []
    real = parse_module.parse_feed

    def spy(body: bytes, *, url: str) -> ParsedFeed:
        threads.append(threading.get_ident())
        return real(body, url=url)

    monkeypatch.setattr(parse_module, "parse_feed", spy)
    feed = await parse_feed_async(RSS, url=FEED_URL)
    assert feed.title == "Example World & Europe"
    assert threads and threads[0] != loop_thread


async def test_parse_feed_async_raises_the_same_errors() -> None:
    with pytest.raises(FeedError, match="HTML page"):
        await parse_feed_async(HTML_PAGE, url="https://www.example.com/")


def test_text_posing_as_a_link_is_refused() -> None:
    hostile = [
        "https://example.com/a?x=1 @everyone <!channel>",
        "https://example.com/a\x1b[2J",
        'https://example.com/"><script>',
        "https://example.com/\u202eevil",
    ]
    items = "".join(
        f"<item><title>Talks {n}</title><link><![CDATA[{link}]]></link></item>"
        for n, link in enumerate(hostile)
    )
    body = (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{items}</channel></rss>'
    )
    feed = parse_feed(body.encode(), url="https://example.com/feed")
    assert [e.title for e in feed.entries] == [f"Talks {n}" for n in range(len(hostile))]
    assert all(e.url == "" and e.link == "" for e in feed.entries)
