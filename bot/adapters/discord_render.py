"""Discord rendering (pure): the neutral messages (``bot.messages``) as embeds, or as plain text
for a channel where the bot may not embed links.

Every string in a message is plain text and untrusted (a feed's headline, a user's words). Here
it loses its URLs (links come only from the view's own ``links``), its markdown
(``discord.utils.escape_markdown`` and the link brackets), and its mentions (``@everyone``,
``@here``, ``<@123>``, ``<@&123>``, ``<#123>`` are broken with a zero-width space). The only
markup is what this module adds: bold headlines and ``[host](url)`` links built from validated
http(s) URLs. Everything stays inside Discord's limits; text is shortened at a word and a link
is either whole or left out, never cut.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import discord

from bot.messages import AlertView, BriefingView, Entry, Message, Reply, join_names, plural
from bot.services.render import CONTROL, URL_IN_TEXT, shorten, web_url

# Discord's limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits)
CONTENT_MAX = 2000
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
EMBEDS_TOTAL_MAX = 6000
EMBEDS_MAX = 10
URL_MAX = 512

ZWSP = "\u200b"
_SPACE = re.compile(r"\s+")
_AT_WORD = re.compile(r"@(?=(everyone|here)\b)", re.IGNORECASE)
_ANGLE = re.compile(r"<(?=[@#!&/])")
_OPEN, _CLOSE = "\ue000", "\ue001"  # private-use stand-ins for [ and ] while escaping
_LINE_START = re.compile(r"^([#>\-+*]|\d+\.)")

# A small palette; a topic keeps its colour across restarts (a stable digest, not hash()).
PALETTE = (0x3B82F6, 0xF59E0B, 0x10B981, 0xEF4444, 0x8B5CF6, 0x06B6D4, 0xEC4899, 0x84CC16)
STORY_COLOUR = 0x64748B
ERROR_COLOUR = 0xDC2626
REPLY_COLOUR = 0x2563EB


def topic_colour(topic: str | None) -> int:
    if not topic:
        return STORY_COLOUR
    digest = hashlib.sha256(topic.encode("utf-8")).digest()
    return PALETTE[digest[0] % len(PALETTE)]


def inert(text: str) -> str:
    """Untrusted text made inert for Discord: no controls, no URLs, no markdown, no mentions, one
    line."""
    text = CONTROL.sub("", text)
    text = URL_IN_TEXT.sub("", text)
    text = _SPACE.sub(" ", text).strip().replace(_OPEN, "").replace(_CLOSE, "")
    # Brackets are set aside first: escape_markdown's link pattern backtracks quadratically on
    # many of them (a hostile headline would stall the event loop); they come back escaped.
    text = text.replace("[", _OPEN).replace("]", _CLOSE)
    text = discord.utils.escape_markdown(text)
    text = text.replace(_OPEN, "\\[").replace(_CLOSE, "\\]")
    text = _LINE_START.sub(r"\\\1", text)
    text = _AT_WORD.sub("@" + ZWSP, text)
    text = discord.utils.escape_mentions(text)
    return _ANGLE.sub("<" + ZWSP, text)


def fit(text: str, limit: int) -> str:
    """``inert(text)`` shortened at a word so the escaped result is at most ``limit`` long."""
    budget = limit
    while True:
        out = inert(shorten(text, budget))
        if len(out) <= limit or budget <= 1:
            return out[:limit] if len(out) > limit else out
        budget = min(budget - 1, budget * limit // len(out))  # escaping grew it: scale down


def safe_url(url: str) -> str | None:
    """``url`` if it is an absolute http(s) URL, with the characters that would end or break a
    markdown link escaped; else None."""
    checked = web_url(url, URL_MAX)
    if checked is None:
        return None
    return quote(checked, safe="/:?#[]@!$&'*+,;=%~-._")  # quotes space ( ) < > " ` \ and the rest


def host(url: str) -> str:
    name = (urlsplit(url).hostname or "link").lower()
    return name[4:] if name.startswith("www.") else name


def link(url: str, label: str | None = None) -> str | None:
    """A markdown link to a validated URL, labelled with its host (or ``label``), or None."""
    safe = safe_url(url)
    if safe is None:
        return None
    return f"[{fit(label or host(safe), 80)}]({safe})"


def _join_fitting(parts: Sequence[str], sep: str, limit: int) -> tuple[str, int]:
    """Whole parts joined while they fit; returns the text and how many were left out."""
    out = ""
    for n, part in enumerate(parts):
        candidate = part if not out else out + sep + part
        if len(candidate) > limit:
            return out, len(parts) - n
        out = candidate
    return out, 0


def _links_line(urls: Sequence[str], limit: int, *, hidden: int = 0) -> str:
    links = [lk for lk in (link(u) for u in urls) if lk]
    if not links:
        return ""
    line, left = _join_fitting(links, " · ", limit - 20)
    more = left + hidden
    if more and line:
        line += f" and {more} more"
    return line


# --- embeds as dicts, with their size --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rendered:
    """What one Discord message shows: embeds (as API dicts) and/or plain content."""

    embeds: tuple[dict[str, Any], ...] = ()
    content: str | None = None

    def discord_embeds(self) -> list[discord.Embed]:
        return [discord.Embed.from_dict(e) for e in self.embeds]


def embed_size(embed: dict[str, Any]) -> int:
    """The characters Discord counts toward the 6,000 across a message's embeds."""
    total = len(embed.get("title", "")) + len(embed.get("description", ""))
    total += len(embed.get("footer", {}).get("text", ""))
    total += len(embed.get("author", {}).get("name", ""))
    for f in embed.get("fields", ()):
        total += len(f["name"]) + len(f["value"])
    return total


def _embed(
    *,
    title: str,
    description: str,
    colour: int,
    fields: Sequence[tuple[str, str, bool]] = (),
    footer: str | None = None,
    url: str | None = None,
) -> dict[str, Any]:
    embed: dict[str, Any] = {"type": "rich", "color": colour}
    if title:
        embed["title"] = title[:TITLE_MAX]
    if description:
        embed["description"] = description[:DESCRIPTION_MAX]
    if url:
        embed["url"] = url
    if fields:
        embed["fields"] = [
            {"name": n[:FIELD_NAME_MAX], "value": v[:FIELD_VALUE_MAX], "inline": inline}
            for n, v, inline in list(fields)[:FIELDS_MAX]
            if n and v
        ]
    if footer:
        embed["footer"] = {"text": footer[:FOOTER_MAX]}
    return embed


def _paragraphs(parts: Sequence[str], limit: int) -> str:
    """Whole paragraphs while they fit, separated by blank lines."""
    return _join_fitting([p for p in parts if p], "\n\n", limit)[0]


# --- alerts ---------------------------------------------------------------------------------


def alert_embed(view: AlertView, *, footer: str | None = None) -> dict[str, Any]:
    """An alert (or the current state of an updated alert): the headline as title, the summary
    and the sources as links, topics and outlets as fields, a colour for the first topic."""
    title = fit(view.headline, TITLE_MAX) or "New development"
    summary = view.summary if view.summary and view.summary != view.headline else ""
    summary_text = fit(summary, DESCRIPTION_MAX - 600) if summary else ""
    links = [u for u in view.links if u]
    sources = _links_line(links[: view.max_links], 560, hidden=max(len(links) - view.max_links, 0))
    description = _paragraphs(
        [summary_text, f"Sources: {sources}" if sources else ""], DESCRIPTION_MAX
    )
    fields: list[tuple[str, str, bool]] = []
    if view.topics:
        fields.append(("Topics", fit(", ".join(view.topics), FIELD_VALUE_MAX), True))
    if view.outlets:
        outlets = f"{plural(len(view.outlets), 'outlet')}: {join_names(view.outlets)}"
        fields.append(("Outlets", fit(outlets, FIELD_VALUE_MAX), True))
    if view.is_update and (view.new_outlets or view.new_languages):
        grew: list[str] = []
        if view.new_outlets:
            grew.append("now also " + join_names(view.new_outlets))
        if view.new_languages:
            grew.append("in " + join_names(view.new_languages))
        fields.append(("Updated", fit("; ".join(grew), FIELD_VALUE_MAX), False))
    first = safe_url(links[0]) if links else None
    return _embed(
        title=title,
        description=description,
        colour=topic_colour(view.topics[0] if view.topics else None),
        fields=fields,
        footer=footer,
        url=first,
    )


# --- replies and briefings --------------------------------------------------------------------


def _entry_text(entry: Entry, *, limit: int = 700) -> str:
    head = f"• **{fit(entry.headline, 240)}**"
    details = [d for d in (entry.when, join_names(entry.outlets)) if d]
    if details:
        head += f" ({fit('; '.join(details), 160)})"
    parts = [head]
    if entry.summary and entry.summary != entry.headline:
        parts.append(fit(entry.summary, 300))
    links = _links_line([u for u in entry.links if u], 200)
    if links:
        parts.append(links)
    text, _ = _join_fitting(parts, "\n", limit)
    return text


def _entries_block(entries: Sequence[Entry], limit: int, *, more: int = 0) -> str:
    text, left = _join_fitting([_entry_text(e) for e in entries], "\n", limit - 20)
    if left + more:
        text += f"\nand {left + more} more"
    return text


def reply_embed(reply: Reply, *, footer: str | None = None) -> dict[str, Any]:
    parts = [fit(line, 1000) for line in reply.lines]
    if reply.entries:
        parts.append(_entries_block(reply.entries, 3000))
    fields = [
        (fit(f.name, FIELD_NAME_MAX), fit(f.value, FIELD_VALUE_MAX), False) for f in reply.fields
    ]
    if len(fields) > FIELDS_MAX:
        parts.append(f"and {len(fields) - (FIELDS_MAX - 1)} more")
        fields = fields[: FIELDS_MAX - 1]
    if reply.suggestion:
        parts.append(fit(reply.suggestion, 500))
    texts = [fit(reply.footer, 500)] if reply.footer else []
    if footer:
        texts.append(footer)
    title = fit(reply.title, TITLE_MAX)
    description = _join_fitting([p for p in parts if p], "\n", DESCRIPTION_MAX)[0]
    if not (title or description or fields):
        description = "Nothing to show."  # Discord refuses an empty embed
    return _embed(
        title=title,
        description=description,
        colour=ERROR_COLOUR if reply.error else REPLY_COLOUR,
        fields=fields,
        footer=" · ".join(texts) or None,
    )


def briefing_embeds(view: BriefingView, *, footer: str | None = None) -> list[dict[str, Any]]:
    """A briefing as up to 10 embeds (a head, one per section, further reading) within the
    6,000 characters Discord allows across them; what does not fit is counted, not cut."""
    title = fit(view.title + (" (late)" if view.late else ""), TITLE_MAX)
    embeds = [_embed(title=title, description=fit(view.top_line, 1000), colour=STORY_COLOUR)]
    for section in view.sections:
        embeds.append(
            _embed(
                title=fit(section.title, TITLE_MAX),
                description=_entries_block(section.entries, 1800, more=section.more),
                colour=topic_colour(section.topic),
            )
        )
    if view.further_reading:
        embeds.append(
            _embed(
                title="Further reading",
                description=_entries_block(view.further_reading, 1200),
                colour=STORY_COLOUR,
            )
        )
    budget = EMBEDS_TOTAL_MAX - len(footer or "") - 40
    kept: list[dict[str, Any]] = []
    used = 0
    for embed in embeds:
        size = embed_size(embed)
        if len(kept) >= EMBEDS_MAX - 1 or used + size > budget:
            break
        kept.append(embed)
        used += size
    left = len(embeds) - len(kept)
    if left:
        kept[-1]["description"] = (
            kept[-1].get("description", "") + f"\n\nand {plural(left, 'more section')}"
        )
    if footer:
        kept[-1]["footer"] = {"text": footer[:FOOTER_MAX]}
    return kept


def render(message: Message, *, footer: str | None = None) -> Rendered:
    """A message as embeds; ``footer`` (the delivery reference) goes on the last one."""
    if isinstance(message, AlertView):
        return Rendered(embeds=(alert_embed(message, footer=footer),))
    if isinstance(message, Reply):
        return Rendered(embeds=(reply_embed(message, footer=footer),))
    return Rendered(embeds=tuple(briefing_embeds(message, footer=footer)))


# --- plain text ----------------------------------------------------------------------------


def _embed_lines(embed: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    if embed.get("title"):
        lines.append(f"**{embed['title']}**")
    if embed.get("description"):
        lines.extend(embed["description"].split("\n"))
    for f in embed.get("fields", ()):
        lines.append(f"**{f['name']}**: {f['value']}")
    return lines


def plain_text(rendered: Rendered, *, footer: str | None = None) -> str:
    """The embeds as one message's content (at most 2,000 characters), for a channel where the
    bot may not embed links: whole lines only, so a link is never cut; the reference last."""
    lines = [line for e in rendered.embeds for line in (*_embed_lines(e), "")]
    tail = f"-# {footer}" if footer else ""
    budget = CONTENT_MAX - len(tail) - 1
    out, left = _join_fitting([shorten(ln, 1900) for ln in lines], "\n", budget - 12)
    if left and any(ln.strip() for ln in lines[len(lines) - left :]):
        out = out.rstrip() + "\n…"
    out = out.rstrip()
    return f"{out}\n{tail}" if tail else out


def text_message(message: Message, *, footer: str | None = None) -> Rendered:
    """``message`` as plain content (no embeds)."""
    return Rendered(content=plain_text(render(message), footer=footer))
