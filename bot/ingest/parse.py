"""Feed bytes → ``ParsedFeed``: pure and CPU-bound. Call ``parse_feed_async`` from async code.

Parsing is done by ``feedparser_rs`` (a Rust parser with feedparser's API). Its HTML sanitizer is
off because ``html_to_text`` reduces every text field to plain text anyway; its relative-URI
resolution is on because it costs nothing measurable with the sanitizer off, touches only links,
and is the one place that knows each entry's ``xml:base``. Links still relative after that are
resolved against the feed's URL here.

The body is always handed over as ``bytes``: feedparser-style parsers treat a ``str`` as a URL or
a file name and would fetch or read it.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser_rs

from bot.domain import FeedEntry, FeedError, ParsedFeed
from bot.ingest.normalize import canonical_link, clean_text, html_to_text, plain_text

__all__ = [
    "MAX_ENTRIES",
    "MAX_FEED_BYTES",
    "SUMMARY_MAX_CHARS",
    "TITLE_MAX_CHARS",
    "parse_feed",
    "parse_feed_async",
]

TITLE_MAX_CHARS = 500
SUMMARY_MAX_CHARS = 5_000
#: A little over the fetcher's 15 MiB cap on a decoded body, so the fetcher is what refuses first.
MAX_FEED_BYTES = 16 * 1024 * 1024
#: Entries read from one document; the rest are ignored. News feeds carry 10–200.
MAX_ENTRIES = 2_000
#: Ids longer than this are stored as a hash of themselves.
_MAX_GUID_CHARS = 1_000

_LIMITS = feedparser_rs.ParserLimits(
    max_feed_size_bytes=MAX_FEED_BYTES,
    max_entries=MAX_ENTRIES,
    max_links_per_feed=50,
    max_links_per_entry=20,
    max_authors=10,
    max_contributors=10,
    max_tags=50,
    max_content_blocks=5,
    max_enclosures=10,
)

_HAS_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
# What a URL never holds unescaped: a link with any of these is refused, never shown.
_NOT_IN_A_LINK = re.compile(r"[\s\x00-\x1f\x7f-\x9f<>\"`\u200b-\u200f\u2028-\u202e\u2066-\u2069]")
_LANGUAGE = re.compile(r"^[a-zA-Z]{2,3}(?:-[a-zA-Z0-9]{1,8})*$")


def parse_feed(body: bytes, *, url: str) -> ParsedFeed:
    """Parse an RSS 2.0/0.9x, RSS 1.0 (RDF), Atom or JSON Feed document fetched from ``url``.

    Entries come out normalized: plain-text title (≤ 500 characters) and summary (≤ 5,000),
    canonical absolute http(s) link, aware UTC ``published`` (else the updated time), and a guid
    (the entry's id, else its canonical link, else a hash of its title). Entries with neither
    link nor title are skipped; of entries sharing a guid the first is kept.

    Raises ``FeedError`` when the body is not a feed (an HTML page, JSON, empty, unrecognized),
    with a message that says what it looked like and what to do. A feed with recoverable
    errors (say, truncated) is parsed as far as it goes, as feed readers do.
    """
    if isinstance(body, bytearray | memoryview):
        body = bytes(body)
    if not isinstance(body, bytes):
        raise TypeError(f"parse_feed needs the body as bytes, not {type(body).__name__}")
    if len(body) > MAX_FEED_BYTES:
        raise FeedError(
            f"{url} sent a {len(body):,}-byte document, over the {MAX_FEED_BYTES:,}-byte limit "
            "for a feed; use a feed that carries fewer or shorter entries"
        )
    body = _to_utf8_if_wide(body)
    result = _parse(body, url)
    if not result.version:
        # RSS 0.93, 0.94, 2.01 … are plain RSS that the parser does not know by number.
        if (_root_name(body) or "").lower() == "rss":
            result = _parse(_RSS_VERSION.sub(rb"\1", body, count=1), url)
        if not result.version:
            raise FeedError(describe_non_feed(body, url=url))

    feed = result.feed
    title = _text(feed.get("title"), feed.get("title_detail"), TITLE_MAX_CHARS, newlines=False)
    language = _language(feed.get("language"))

    entries: list[FeedEntry] = []
    seen: set[str] = set()
    for raw in result.entries:
        entry = _entry(raw, base=url)
        if entry is None or entry.guid in seen:
            continue
        seen.add(entry.guid)
        entries.append(entry)
    return ParsedFeed(title=title, language=language, entries=tuple(entries))


def _parse(body: bytes, url: str) -> Any:
    try:
        return feedparser_rs.parse_with_limits(
            body, limits=_LIMITS, sanitize_html=False, resolve_relative_uris=True
        )
    except Exception as e:  # the parser's own errors on hostile input; not our bugs
        raise FeedError(f"{url} could not be parsed as a feed: {e}") from e


async def parse_feed_async(body: bytes, *, url: str) -> ParsedFeed:
    """``parse_feed`` in a worker thread, so a big feed never blocks the event loop."""
    return await asyncio.to_thread(parse_feed, body, url=url)


# --- encodings the parser does not read ----------------------------------------------------

# (prefix, codec, length of the byte-order mark); BOMs first, UTF-32 before UTF-16.
_WIDE_ENCODINGS = (
    (b"\x00\x00\xfe\xff", "utf-32-be", 4),
    (b"\xff\xfe\x00\x00", "utf-32-le", 4),
    (b"\xfe\xff", "utf-16-be", 2),
    (b"\xff\xfe", "utf-16-le", 2),
    (b"\x00\x00\x00<", "utf-32-be", 0),
    (b"<\x00\x00\x00", "utf-32-le", 0),
    (b"\x00<", "utf-16-be", 0),
    (b"<\x00", "utf-16-le", 0),
)
_DECLARED_ENCODING = re.compile(rb"""^(<\?xml[^>]*?\bencoding\s*=\s*["'])[^"']*(["'])""")
_RSS_VERSION = re.compile(rb"""(<rss\b[^>]*?)\s+version\s*=\s*(?:"[^"]*"|'[^']*')""", re.I)


def _to_utf8_if_wide(body: bytes) -> bytes:
    """A UTF-16 or UTF-32 document re-encoded as UTF-8 (the parser reads neither); any other
    body unchanged."""
    for prefix, codec, bom in _WIDE_ENCODINGS:
        if body.startswith(prefix):
            text = body[bom:].decode(codec, "replace").encode("utf-8")
            return _DECLARED_ENCODING.sub(rb"\1utf-8\2", text, count=1)
    return body


# --- entries ----------------------------------------------------------------------------------


def _entry(raw: Any, *, base: str) -> FeedEntry | None:
    title = _text(raw.get("title"), raw.get("title_detail"), TITLE_MAX_CHARS, newlines=False)
    url = _link(raw.get("link"), base)
    link = canonical_link(url) if url else ""
    if not title and not link:
        return None

    summary_raw = raw.get("summary")
    summary_detail = raw.get("summary_detail")
    if not summary_raw:
        content = raw.get("content") or ()
        first = content[0] if content else None
        summary_raw = getattr(first, "value", None)
        summary_detail = first
    summary = _text(summary_raw, summary_detail, SUMMARY_MAX_CHARS, newlines=True)

    guid = _guid(raw.get("id"), link, title)
    published = _datetime(raw.get("published_parsed")) or _datetime(raw.get("updated_parsed"))
    return FeedEntry(
        guid=guid, link=link, title=title, summary=summary, published=published, url=url
    )


def _text(value: Any, detail: Any, limit: int, *, newlines: bool) -> str:
    """Plain text of a feed text construct; HTML unless the feed says it is plain text."""
    if not value or not isinstance(value, str):
        return ""
    is_html = (getattr(detail, "type", None) or "text/html") != "text/plain"
    return plain_text(value, is_html=is_html, keep_newlines=newlines, limit=limit)


def _link(value: Any, base: str) -> str:
    """The entry's link as an absolute http(s) URL, or "" if it has none usable."""
    if not value or not isinstance(value, str):
        return ""
    link = value.strip()
    if not link:
        return ""
    if not _HAS_SCHEME.match(link):
        link = _resolve(link, base)
    if not link.lower().startswith(("http://", "https://")):
        return ""  # javascript:, mailto:, data:, still relative, …: nothing to link to
    if _NOT_IN_A_LINK.search(link):
        return ""  # spaces, controls, quotes or angle brackets: text posing as a link
    return link


def _resolve(link: str, base: str) -> str:
    try:
        base_parts = urlsplit(base)
    except ValueError:
        return link
    host = (base_parts.hostname or "").removeprefix("www.")
    # "example.com/post" in a feed served from example.com: a link written without its scheme.
    first = link.split("/", 1)[0].lower().removeprefix("www.")
    if host and first == host and base_parts.scheme:
        return f"{base_parts.scheme}://{link}"
    try:
        return urljoin(base, link)
    except ValueError:
        return link


def _guid(entry_id: Any, link: str, title: str) -> str:
    guid = entry_id.strip() if isinstance(entry_id, str) else ""
    if len(guid) > _MAX_GUID_CHARS:
        return "id-hash:" + _digest(guid)
    if guid:
        return guid
    if link:
        return link
    return "title-hash:" + _digest(title)


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def _datetime(value: Any) -> datetime | None:
    """A ``time.struct_time`` in UTC (as the parser gives it) as an aware UTC datetime."""
    if not isinstance(value, time.struct_time):
        return None
    try:
        return datetime(*value[:5], min(value[5], 59), tzinfo=UTC)
    except (ValueError, OverflowError):
        return None


def _language(value: Any) -> str | None:
    """A BCP 47-looking tag (``en``, ``en-GB``, ``pt-br`` → ``pt-BR``), else None."""
    if not isinstance(value, str):
        return None
    tag = value.strip().replace("_", "-")
    if not _LANGUAGE.match(tag):
        return None
    parts = tag.split("-")
    out = [parts[0].lower()]
    for part in parts[1:]:
        out.append(part.upper() if len(part) == 2 else part.lower())
    return "-".join(out)


# --- telling the user what came back instead of a feed --------------------------------------

_ALTERNATE = re.compile(
    rb"""<link\b[^>]*\btype\s*=\s*["']?application/(?:rss|atom|feed)\+(?:xml|json)[^>]*>""", re.I
)
_HREF = re.compile(rb"""\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)
_PROLOG = re.compile(rb"""^(?:\s+|<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>\[]*(?:\[.*?\])?\s*>)*""", re.S)
_ROOT = re.compile(rb"<([A-Za-z_][\w:.-]*)")
_BINARY_MAGIC = {
    b"\x1f\x8b": "gzip-compressed data",
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"PK\x03\x04": "a ZIP archive",
}


def describe_non_feed(body: bytes, *, url: str) -> str:
    """A message for a user saying what ``body`` looks like instead of a feed, and what to do."""
    size = f"{len(body):,} bytes"
    head = body[:65_536]
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text:
        return f"{url} sent an empty response ({size}); check the feed URL"
    for magic, what in _BINARY_MAGIC.items():
        if text.startswith(magic):
            return f"{url} serves {what} ({size}), not a feed; check the feed URL"
    if b"\x00" in text[:1024]:
        return f"{url} serves binary data ({size}), not a feed; check the feed URL"
    lower = text[:4096].lower()
    if lower.startswith((b"<!doctype html", b"<html")) or b"<body" in lower or b"<head" in lower:
        message = f"{url} serves an HTML page, not a feed; use the site's RSS or Atom link instead"
        found = _alternate_feed(head, url)
        if found:
            message += f" (this page names one: {found})"
        return message
    if text[:1] in (b"{", b"["):
        return (
            f"{url} serves JSON that is not a JSON Feed ({size}); "
            "use the site's RSS, Atom or JSON Feed URL"
        )
    if text[:1] == b"<":
        name = _root_name(text)
        if name:
            return (
                f"{url} serves an XML document whose root element is <{name}>, not RSS, Atom "
                "or RDF; check the feed URL"
            )
    preview = clean_text(text[:60].decode("utf-8", "replace"))
    return f"{url} serves something that is not a feed (it starts {preview!r}); check the feed URL"


def _root_name(body: bytes) -> str | None:
    """The name of the document's root element, after any BOM, XML declaration, comments and
    doctype; None if the body does not start like XML."""
    text = body[:65_536].lstrip(b"\xef\xbb\xbf \t\r\n")
    prolog = _PROLOG.match(text)
    root = _ROOT.match(text, prolog.end() if prolog else 0)
    return root.group(1).decode("ascii", "replace") if root else None


def _alternate_feed(page: bytes, url: str) -> str | None:
    """The first feed a page advertises with ``<link rel="alternate" type="…+xml">``."""
    for tag in _ALTERNATE.finditer(page):
        href = _HREF.search(tag.group(0))
        if not href:
            continue
        raw = next(g for g in href.groups() if g is not None)
        value = html_to_text(raw.decode("utf-8", "replace"))
        link = _link(value, url)
        if link:
            return link
    return None
