"""Rendering posts as plain text (pure). Feed text is untrusted: it is scrubbed of mass mentions,
user mentions and URLs before it reaches any message; links come only from the items' own links.

This is the plain-text platform: the replay shows this text as is and the console shows it
after its own terminal escaping. The Slack and Discord adapters render the same values
(``bot.messages``) into Block Kit and embeds, with their own escaping.
"""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlsplit

from bot.messages import AlertView, BriefingView, Entry, Message, Reply, join_names

# A URL written into feed text (the Slack and Discord renderers drop them too).
URL_IN_TEXT = re.compile(r"(?:https?|ftp|file)://\S+|www\.\S+\.\S+", re.IGNORECASE)
_ZWSP = "\u200b"
# @everyone, @here, @channel; Slack's <!channel>, <!here>, <!everyone>, <@U123>, <#C123>; Discord's
# <@123>, <@&123>, <#123>.
_AT_WORD = re.compile(r"@(?=(everyone|here|channel)\b)", re.IGNORECASE)
_ANGLE = re.compile(r"<(?=[!@#])")
# C0 and C1 controls (a terminal escape starts with one) and the bidirectional overrides that
# could make a headline read backwards.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_SPACE = re.compile(r"[ \t\r\f\v]+")


def neutralize(text: str) -> str:
    """Make mass and user mentions inert (a zero-width space breaks the token)."""
    text = _AT_WORD.sub("@" + _ZWSP, text)
    return _ANGLE.sub("<" + _ZWSP, text)


def plain(text: str) -> str:
    """Untrusted text that may keep its URLs (an error message naming a feed): no controls, no
    live mentions."""
    return neutralize(_SPACE.sub(" ", CONTROL.sub("", text)).strip())


def web_url(url: str, max_chars: int) -> str | None:
    """``url`` without surrounding space when it is an absolute http(s) URL with a host, at most
    ``max_chars`` long and free of control and direction characters; else None (a renderer then
    does not link it). Each platform escapes what it keeps in its own way."""
    url = url.strip()
    if not url or len(url) > max_chars or CONTROL.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


def scrub(text: str) -> str:
    """Untrusted feed text made safe to show: no URLs, no mentions, no control characters."""
    text = CONTROL.sub("", text)
    text = URL_IN_TEXT.sub("", text)
    text = neutralize(text)
    return _SPACE.sub(" ", text).strip()


def ago(then: datetime, now: datetime) -> str:
    """ "just now", "12 min ago", "3 h ago", "2 days ago"."""
    seconds = max(int((now - then).total_seconds()), 0)
    if seconds < 90:
        return "just now"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min ago"
    if seconds < 36 * 3600:
        return f"{round(seconds / 3600)} h ago"
    return f"{round(seconds / 86400)} days ago"


def shorten(text: str, limit: int) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters, with an ellipsis if cut."""
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 0)]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    return cut.rstrip(" ,;:-–—") + "…"


def render_alert_text(view: AlertView) -> str:
    """An alert: headline, summary, coverage and topics, links. An update says what grew: the
    headline, the coverage now, and the newest reports' links first; the summary was in the
    alert already."""
    lines = [("Update: " if view.is_update else "") + scrub(view.headline)]
    summary = scrub(view.summary)  # whichever summarizer wrote it
    if summary and summary != view.headline and not view.is_update:
        lines.append(summary)
    coverage = scrub(view.coverage)
    if view.topics:
        coverage += " · " + ", ".join(view.topics)
    lines.append(coverage)
    lines.extend(f"• {neutralize(link)}" for link in view.shown_links)
    hidden = len([link for link in view.links if link]) - len(view.shown_links)
    if hidden > 0:
        lines.append(f"  and {hidden} more")
    return "\n".join(lines)


def _entry_lines(entry: Entry, *, bullet: str = "•") -> list[str]:
    head = f"{bullet} {scrub(entry.headline)}"
    details = [d for d in (plain(entry.when), scrub(join_names(entry.outlets))) if d]
    if details:
        head += f" ({'; '.join(details)})"
    lines = [head]
    if entry.summary and entry.summary != entry.headline:
        lines.append(f"  {scrub(entry.summary)}")
    lines.extend(f"  {neutralize(link)}" for link in entry.links)
    return lines


def render_reply_text(reply: Reply) -> str:
    """A reply as plain text: title, sentences, aligned fields, developments with their links,
    the suggestion. User and feed text in it is made inert."""
    lines: list[str] = []
    if reply.title:
        lines.append(plain(reply.title))
    lines.extend(plain(line) for line in reply.lines)
    width = max((len(f.name) for f in reply.fields), default=0)
    width = min(max(width, 20), 28)
    for f in reply.fields:
        lines.append(f"  {plain(f.name):<{width}} {plain(f.value)}")
    for entry in reply.entries:
        lines.extend(_entry_lines(entry))
    if reply.suggestion:
        lines.append(plain(reply.suggestion))
    if reply.footer:
        lines.append(plain(reply.footer))
    return "\n".join(lines)


def render_briefing_text(view: BriefingView) -> str:
    lines = [plain(view.title) + (" (late)" if view.late else ""), plain(view.top_line)]
    for section in view.sections:
        lines.append("")
        lines.append(plain(section.title))
        for entry in section.entries:
            lines.extend(_entry_lines(entry))
        if section.more:
            lines.append(f"  and {section.more} more")
    if view.further_reading:
        lines.append("")
        lines.append("Further reading")
        for entry in view.further_reading:
            lines.extend(_entry_lines(entry))
    return "\n".join(lines)


def render_text(message: Message) -> str:
    """Any message as the plain-text platform shows it."""
    if isinstance(message, AlertView):
        return render_alert_text(message)
    if isinstance(message, Reply):
        return render_reply_text(message)
    return render_briefing_text(message)
