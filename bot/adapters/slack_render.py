"""Slack's renderer (pure): the neutral messages (``bot.messages``) as Block Kit plus a plain-text
fallback, inside Block Kit's limits.

Every string in a message is plain text and may come from a feed or a user, so every one is
escaped for mrkdwn here (``&`` → ``&amp;``, ``<`` → ``&lt;``, ``>`` → ``&gt;``): a feed title
holding ``<!channel>``, ``<@U123>`` or ``<https://evil|bank>`` is shown as those characters and
never becomes a mention or a link. ``@channel``, ``@here`` and ``@everyone`` words are broken with a
zero-width space too. Feed text also loses its bare URLs (Slack would link them); the only links
are the ones this module builds, ``<url|label>``, from a message's own ``links``, and only for
http(s) URLs, with ``|``, ``<``, ``>`` and spaces percent-encoded so a URL cannot close or relabel
its link.

Limits kept (Slack's): 50 blocks a message, 3000 characters a section's text, 150 a header's,
10 elements a context block, 40,000 characters of text; long texts are shortened at a word, and a
link is never cut: a line holding one is kept whole or left out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bot.messages import AlertView, BriefingView, Entry, Message, Reply, join_names
from bot.services.render import CONTROL, URL_IN_TEXT, shorten, web_url

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_HEADER = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_CONTEXT_TEXT = 2000
MAX_TEXT = 40_000  # a message's text, and its blocks' JSON, kept under this
FALLBACK_MAX = 3000  # the notification text: a summary of the message, not all of it
MAX_URL = 2000

Block = dict[str, Any]

_ZWSP = "\u200b"
_AT_WORD = re.compile(r"@(?=(?:everyone|here|channel)\b)", re.IGNORECASE)
_SPACE = re.compile(r"[ \t\r\f\v]+")


# --- escaping -------------------------------------------------------------------------------


def escape(text: str) -> str:
    """Untrusted or bot text for a mrkdwn field: controls dropped, ``& < >`` escaped, mass
    mentions broken. The result shows exactly the characters given."""
    text = CONTROL.sub("", text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _AT_WORD.sub("@" + _ZWSP, text)


def feed_text(text: str) -> str:
    """Feed text (a headline, a summary): also without bare URLs, on one line, then escaped."""
    text = URL_IN_TEXT.sub("", CONTROL.sub("", text))
    return escape(_SPACE.sub(" ", text).replace("\n", " ").strip())


def fit(text: str, limit: int, *, feed: bool = False) -> str:
    """``text`` escaped and shortened at a word so that the escaped form has at most ``limit``
    characters (an escape is never cut in half)."""
    make = feed_text if feed else escape
    out = make(text)
    n = len(text)
    while len(out) > limit and n > 1:
        n = max(1, n - max(len(out) - limit, 1))
        out = make(shorten(text, n))
    return out[:limit] if len(out) > limit else out


def safe_url(url: str) -> str | None:
    """``url`` fit to sit in ``<url|label>``: http(s) with a host, no spaces or controls, the
    characters that would end or relabel the link percent-encoded, ``&`` escaped. None when it
    is not such a URL (it is then not linked at all)."""
    checked = web_url(url, MAX_URL)
    if checked is None or re.search(r"\s", checked):
        return None
    url = checked.replace("|", "%7C").replace("<", "%3C").replace(">", "%3E")
    return url.replace("&", "&amp;")


def link_label(url: str) -> str:
    """What a link shows: its site (``www.`` dropped)."""
    try:
        host = urlsplit(url.strip()).hostname or "link"
    except ValueError:
        host = "link"
    return host.removeprefix("www.")


def link(url: str, label: str | None = None) -> str | None:
    """``<url|label>`` for an http(s) URL, label escaped; None for anything else."""
    safe = safe_url(url)
    if safe is None:
        return None
    shown = fit(label if label is not None else link_label(url), 120, feed=True) or "link"
    return f"<{safe}|{shown}>"


# --- blocks ---------------------------------------------------------------------------------


def section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:MAX_SECTION]}}


def context(*texts: str) -> Block:
    elements = [
        {"type": "mrkdwn", "text": t[:MAX_CONTEXT_TEXT]} for t in texts[:MAX_CONTEXT_ELEMENTS] if t
    ]
    return {"type": "context", "elements": elements}


def divider() -> Block:
    return {"type": "divider"}


def pack(lines: Sequence[str], limit: int = MAX_SECTION) -> list[str]:
    """Whole lines joined into texts of at most ``limit`` characters. A line is never split (it
    may hold a link); one that is too long alone is left out."""
    texts: list[str] = []
    current = ""
    for line in lines:
        if len(line) > limit:
            continue
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            texts.append(current)
            current = line
        else:
            current = candidate
    if current:
        texts.append(current)
    return texts


def blocks_size(blocks: Sequence[Block]) -> int:
    return len(json.dumps(list(blocks), ensure_ascii=False))


@dataclass(frozen=True, slots=True)
class SlackMessage:
    """One Slack message: Block Kit and the plain-text fallback (notifications, screen
    readers)."""

    blocks: tuple[Block, ...]
    text: str


# --- alerts ---------------------------------------------------------------------------------


def _links_line(urls: Sequence[str], hidden: int) -> str:
    shown = [s for s in (link(u) for u in urls) if s is not None]
    line = " · ".join(shown)
    if hidden > 0:
        line += f" and {hidden} more" if line else f"{hidden} more reports"
    return line


def render_alert(view: AlertView, *, as_update: bool | None = None) -> SlackMessage:
    """An alert: headline, summary, sources as links, then topics and outlet count in a
    context. ``as_update`` False renders an update's view as the alert it replaces (the edit of
    the original message); by default the view says which it is."""
    update = view.is_update if as_update is None else as_update
    headline = fit(view.headline, 280, feed=True) or "(no headline)"
    blocks: list[Block] = [section(("*Update:* " if update else "") + f"*{headline}*")]
    summary = fit(view.summary, 2400, feed=True)
    if summary and view.summary.strip() != view.headline.strip():
        blocks.append(section(summary))
    sources = _links_line(view.shown_links, view.hidden_links)
    if sources:
        blocks.append(section("*Sources:* " + sources))
    meta = [fit(view.coverage, 600, feed=True)]
    if view.topics:
        meta.append("Topics: " + fit(", ".join(view.topics), 400))
    blocks.append(context(*meta))
    text = ("Update: " if update else "") + headline
    if summary:
        text += " — " + fit(view.summary, 1000, feed=True)
    text += " (" + fit(view.coverage, 400, feed=True) + ")"
    return SlackMessage(blocks=tuple(blocks), text=text[:FALLBACK_MAX])


def render_more_coverage(view: AlertView) -> SlackMessage:
    """The thread reply of an update that grew: which outlets and languages are new, with the
    newest links (an update's links are newest first)."""
    parts: list[str] = []
    if view.new_outlets:
        parts.append("now reported by " + join_names(view.new_outlets, most=5))
    if view.new_languages:
        parts.append("now in " + join_names(view.new_languages, most=5))
    said = "More coverage: " + "; ".join(parts) + "."
    blocks: list[Block] = [section(fit(said, 1500, feed=True))]
    sources = _links_line(view.shown_links, view.hidden_links)
    if sources:
        blocks.append(section(sources))
    blocks.append(context(fit(view.coverage, 600, feed=True)))
    return SlackMessage(blocks=tuple(blocks), text=fit(said, FALLBACK_MAX, feed=True))


# --- replies --------------------------------------------------------------------------------


def _entry_text(entry: Entry) -> str:
    head = "• *" + (fit(entry.headline, 300, feed=True) or "(no headline)") + "*"
    details = [d for d in (escape(entry.when), fit(join_names(entry.outlets), 200)) if d]
    if details:
        head += " (" + "; ".join(details) + ")"
    lines = [head]
    if entry.summary and entry.summary.strip() != entry.headline.strip():
        lines.append(fit(entry.summary, 1200, feed=True))
    links = [s for s in (link(u) for u in entry.links[:5]) if s is not None]
    if links:
        lines.append(" · ".join(links))
    return "\n".join(line for line in lines if line)


def _entry_texts(entries: Sequence[Entry]) -> list[str]:
    return [t[:MAX_SECTION] for t in (_entry_text(e) for e in entries)]


def _limited(blocks: list[Block], tail: list[Block], *, more: int = 0) -> list[Block]:
    """``blocks`` cut to fit 50 blocks and the size cap with ``tail`` after them, saying how
    many entries were left out."""
    room = MAX_BLOCKS - len(tail)
    cut = more
    while blocks and (len(blocks) > room or blocks_size(blocks + tail) > MAX_TEXT - 200):
        blocks.pop()
        cut += 1
        room = MAX_BLOCKS - len(tail) - 1
    if cut:
        blocks.append(context(f"…and {cut} more not shown here."))
    return blocks + tail


def render_reply(reply: Reply) -> SlackMessage:
    """A reply to a command or a question: title, sentences, fields, developments, suggestion."""
    blocks: list[Block] = []
    if reply.title:
        mark = ":warning: " if reply.error else ""
        blocks.append(section(mark + "*" + fit(reply.title, 500) + "*"))
    lines = [fit(line, 1500) for line in reply.lines]
    if reply.error and not reply.title and lines:
        lines[0] = ":warning: " + lines[0]
    lines += [f"*{fit(f.name, 200)}* — {fit(f.value, 800)}" for f in reply.fields]
    blocks.extend(section(t) for t in pack([line for line in lines if line]))
    blocks.extend(section(t) for t in _entry_texts(reply.entries))
    tail: list[Block] = []
    notes = [fit(n, 1500) for n in (reply.suggestion, reply.footer) if n]
    if notes:
        tail.append(context(*notes))
    if not blocks and not tail:
        blocks.append(section("(nothing to say)"))
    blocks = _limited(blocks, tail)
    text = _fallback(reply)
    return SlackMessage(blocks=tuple(blocks), text=text)


def _fallback(reply: Reply) -> str:
    first = reply.title or next(iter(reply.lines), "") or reply.suggestion or ""
    text = fit(first, 1000)
    if reply.entries:
        text += (" " if text else "") + "; ".join(
            fit(e.headline, 200, feed=True) for e in reply.entries[:5]
        )
    return text[:FALLBACK_MAX] or "briefbot"


# --- briefings ------------------------------------------------------------------------------


def render_briefing(view: BriefingView) -> list[SlackMessage]:
    """A briefing as one message, or several when it is longer than one message may be (each
    within the limits; the title leads the first one)."""
    # A header is plain_text: Slack never formats it, so it takes the text as it is (escaping
    # would show "&amp;"), without controls and within its 150 characters.
    raw = _SPACE.sub(" ", CONTROL.sub("", view.title + (" (late)" if view.late else "")))
    title = shorten(raw.replace("\n", " ").strip(), MAX_HEADER) or "Briefing"
    header: Block = {"type": "header", "text": {"type": "plain_text", "text": title}}
    items: list[Block] = [section(fit(view.top_line, 2000))] if view.top_line else []
    for part in view.sections:
        items.append(section("*" + fit(part.title, 300) + "*"))
        items.extend(section(t) for t in _entry_texts(part.entries))
        if part.more:
            items.append(context(f"and {part.more} more"))
    if view.further_reading:
        items.append(section("*Further reading*"))
        items.extend(section(t) for t in _entry_texts(view.further_reading))
    messages: list[list[Block]] = [[header]]
    for block in items:
        current = messages[-1]
        if len(current) + 1 > MAX_BLOCKS or blocks_size([*current, block]) > MAX_TEXT - 200:
            messages.append([])
            current = messages[-1]
        current.append(block)
    fallback = fit(view.title, 500) + " — " + fit(view.top_line, 1500)
    total = len(messages)
    return [
        SlackMessage(
            blocks=tuple(blocks),
            text=(fallback if i == 0 else f"{fit(view.title, 500)} ({i + 1}/{total})")[
                :FALLBACK_MAX
            ],
        )
        for i, blocks in enumerate(messages)
    ]


def render_message(message: Message) -> list[SlackMessage]:
    """Any stored message as the Slack messages it is posted as (one, but for a long briefing)."""
    if isinstance(message, AlertView):
        return [render_alert(message)]
    if isinstance(message, Reply):
        return [render_reply(message)]
    return render_briefing(message)


def render_plain(text: str) -> SlackMessage:
    """A post stored before messages were: its text, escaped, in sections."""
    lines = [fit(line, MAX_SECTION) for line in text.splitlines()]
    texts = pack([line for line in lines if line]) or ["(empty)"]
    blocks = [section(t) for t in texts[:MAX_BLOCKS]]
    return SlackMessage(blocks=tuple(blocks), text=fit(text, FALLBACK_MAX))
