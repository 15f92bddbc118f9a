"""Pure text and link normalization for feed entries. Standard library only.

Everything here runs on every entry of every poll, so each function has a cheap path for the
common case (plain text, an already clean link) and never raises on junk input.
"""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from urllib.parse import urlsplit, urlunsplit

__all__ = [
    "TRACKING_PARAMS",
    "TRACKING_PREFIXES",
    "canonical_link",
    "clean_text",
    "content_hash",
    "html_to_text",
    "plain_text",
    "truncate",
]

# --- links ------------------------------------------------------------------------------------

#: Query parameters that only say where a click came from. They are dropped so the same article
#: reached through different feeds or campaigns has one canonical link. Matched case-insensitively.
#: Kept deliberately small: a parameter that could select content (``id``, ``p``, ``source``,
#: ``ref``) is never on this list.
TRACKING_PARAMS: frozenset[str] = frozenset(
    {
        "fbclid",  # Facebook
        "gclid",  # Google Ads
        "gclsrc",
        "dclid",  # Google Display
        "msclkid",  # Microsoft Ads
        "yclid",  # Yandex
        "twclid",  # X/Twitter
        "igshid",  # Instagram
        "mc_cid",  # Mailchimp
        "mc_eid",
        "ocid",  # Microsoft/MSN
        "cmpid",  # many publishers' campaign id
        "cmp",  # CBC's "cmp=rss"
        "traffic_source",  # Al Jazeera's "traffic_source=rss"
        "at_medium",  # BBC's "at_medium=RSS&at_campaign=…"
        "at_campaign",
        "maca",  # Deutsche Welle's feed tag
        "_ga",  # Google Analytics cross-domain
        "_gl",
    }
)
#: Any parameter whose name starts with one of these is tracking too.
TRACKING_PREFIXES: tuple[str, ...] = ("utm_",)

_DEFAULT_PORTS = {"http": 80, "https": 443}
_URL_NOISE = re.compile(r"[\t\r\n]")


def _is_tracking(name: str) -> bool:
    key = name.strip().lower()
    return key in TRACKING_PARAMS or key.startswith(TRACKING_PREFIXES)


def canonical_link(url: str) -> str:
    """The canonical form of an absolute link, for comparing and storing.

    Lowercases the scheme and host, drops a default port, the fragment and tracking query
    parameters (``TRACKING_PARAMS``, ``utm_*``), keeps the other parameters in their order and
    spelling, and gives an empty path as ``/``. Anything that is not an absolute URL with a host
    (a relative link, junk) comes back stripped of surrounding whitespace, never an exception.
    """
    raw = url.strip()
    if not raw:
        return raw
    cleaned = _URL_NOISE.sub("", raw)
    try:
        parts = urlsplit(cleaned)
        port = parts.port  # raises ValueError on a bad port
    except ValueError:
        return raw
    scheme = parts.scheme.lower()
    host = parts.hostname  # already lowercased, brackets of IPv6 removed
    if not scheme or not host:
        return raw
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if port is not None and _DEFAULT_PORTS.get(scheme) != port:
        host = f"{host}:{port}"
    netloc = parts.netloc
    userinfo = netloc.rpartition("@")[0] if "@" in netloc else ""
    if userinfo:
        host = f"{userinfo}@{host}"
    query = parts.query
    if query:
        kept = [p for p in query.split("&") if p and not _is_tracking(p.partition("=")[0])]
        query = "&".join(kept)
    path = parts.path or "/"
    return urlunsplit((scheme, host, path, query, ""))


# --- text -------------------------------------------------------------------------------------

# Comments, and elements whose content is never text a reader should see. An unterminated one
# runs to the end of the input (as a browser would treat it).
_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
_DROP_ELEMENTS = re.compile(
    r"<(script|style|iframe|noscript|template|svg|math|object)\b.*?(?:</\1\s*>|\Z)", re.S | re.I
)
_CDATA = re.compile(r"<!\[CDATA\[(.*?)(?:\]\]>|\Z)", re.S)
# The rest of one tag, with quoted attribute values that may hold ">". An unquoted "<" ends the
# attempt, so a page full of stray "<a" cannot make the scan quadratic.
_TAG_BODY = r"""[^<>"']*(?:(?:"[^"]*"|'[^']*')[^<>"']*)*>"""
# Tags that break a line: p div br hr li ul ol dl dt dd h1-h6 blockquote pre table thead tbody
# tfoot tr section article aside header footer nav figure figcaption main address details
# summary; factored by first letter, which makes this pass a third faster.
_BLOCK_TAG = re.compile(
    r"</?(?:a(?:rticle|side|ddress)|b(?:r|lockquote)|d(?:iv|[ldt]|etails)|"
    r"f(?:ig(?:ure|caption)|ooter)|h(?:[1-6r]|eader)|li|main|nav|ol|p(?:re)?|"
    r"s(?:ection|ummary)|t(?:able|head|body|foot|r)|ul)(?![\w-])" + _TAG_BODY,
    re.I,
)
_CELL_TAG = re.compile(r"</?(?:td|th)(?![\w-])" + _TAG_BODY, re.I)
_ANY_TAG = re.compile(r"<(?:[a-zA-Z/!?])" + _TAG_BODY)
# C0 and C1 controls that are not whitespace (those are collapsed into spaces instead), plus
# invisible characters that only get in the way of matching: soft hyphen, zero-width space, word
# joiner, BOM.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\u00ad\u200b\u2060\ufeff]")


def _collapse(s: str, *, keep_newlines: bool) -> str:
    # str.split() is several times faster than a regex here, and this runs on every entry.
    if keep_newlines and "\n" in s:
        return "\n".join(filter(None, map(" ".join, map(str.split, s.split("\n")))))
    return " ".join(s.split())


def _strip_markup(s: str) -> str:
    """``s`` without tags and with entities decoded; whitespace is left for ``_collapse``."""
    if "<" not in s:
        return html.unescape(s) if "&" in s else s
    # Markup follows HTML's whitespace rules: a line break in the source is a space; only block
    # tags and <br> break lines. (Text without tags keeps its line breaks as paragraphs.)
    s = s.replace("\r", " ").replace("\n", " ")
    if "<!--" in s:
        s = _COMMENT.sub("", s)
    if "<![" in s:
        s = _CDATA.sub(r"\1", s)
    s = _DROP_ELEMENTS.sub("", s)
    s = _BLOCK_TAG.sub("\n", s)
    s = _CELL_TAG.sub(" ", s)
    s = _ANY_TAG.sub("", s)
    return html.unescape(s) if "&" in s else s


def _clean_chars(s: str) -> str:
    s = _CONTROL.sub("", s)
    return s if s.isascii() else unicodedata.normalize("NFC", s)


def html_to_text(s: str) -> str:
    """Plain text of an HTML fragment as feeds carry it.

    Drops comments and the content of script, style, iframe (and similar) elements, turns block
    tags and ``<br>`` into line breaks and table cells into spaces, removes other tags, decodes
    entities (named and numeric), and collapses whitespace: single spaces within a line, single
    line breaks between blocks; a line break in the markup itself is a space, as in a browser.
    A ``<`` not followed by a tag name stays as text. Text without tags keeps its line breaks,
    and without ``<`` or ``&`` it only has its whitespace collapsed.
    """
    return _collapse(_strip_markup(s), keep_newlines=True)


def clean_text(s: str, *, keep_newlines: bool = False) -> str:
    """Unicode NFC, control and invisible characters removed, whitespace collapsed.

    By default every run of whitespace becomes one space (right for titles); with
    ``keep_newlines`` line breaks between paragraphs survive, one at a time.
    """
    if not s:
        return ""
    return _collapse(_clean_chars(s), keep_newlines=keep_newlines)


def plain_text(s: str, *, is_html: bool = True, keep_newlines: bool = False, limit: int) -> str:
    """``clean_text(html_to_text(s))`` cut to ``limit`` characters (see ``truncate``), in one
    pass and reading only as much of a long ``s`` as the limit needs: markup is converted a
    window at a time (4× the limit, then 16×, …), each window ending before a tag, until
    enough text came out. What a feed parser should call on every title and summary.
    """
    if not s:
        return ""
    window = max(limit * 4, 1024)
    while True:
        part = s if window >= len(s) else s[:window]
        if is_html and len(part) < len(s):
            cut = part.rfind("<")
            if cut > window // 2:
                part = part[:cut]  # never convert half a tag
        text = _collapse(
            _clean_chars(_strip_markup(part) if is_html else part), keep_newlines=keep_newlines
        )
        if len(part) == len(s) or len(text) > limit:
            return truncate(text, limit)
        window *= 4


def truncate(s: str, limit: int) -> str:
    """``s`` cut to at most ``limit`` characters, at a word boundary when one is near, with an
    ellipsis when anything was cut."""
    if len(s) <= limit:
        return s
    if limit <= 1:
        return s[:limit]
    cut = s[: limit - 1]
    space = max(cut.rfind(" "), cut.rfind("\n"))
    if space >= limit * 4 // 5:
        cut = cut[:space]
    return cut.rstrip() + "…"


def content_hash(title: str, summary: str) -> str:
    """A stable hex digest of an entry's normalized title and summary, to detect edits.

    Whitespace, control characters and Unicode composition do not count as changes; any change
    of the words does. Stable across processes and Python versions.
    """
    text = f"{clean_text(title)}\x1f{clean_text(summary)}"
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


# What a link aggregator writes in place of a summary (Reddit: "submitted by /u/name [link]
# [comments]"): no fact of the story, and a user name is no event.
_AGGREGATOR_BOILERPLATE = re.compile(
    r"submitted\s+by\s+/?u/\S+|\[link\]|\[comments\]", re.IGNORECASE
)


def without_boilerplate(summary: str) -> str:
    """``summary`` without a link aggregator's boilerplate, each piece replaced by a space (what
    is left may be blank)."""
    return _AGGREGATOR_BOILERPLATE.sub(" ", summary)
