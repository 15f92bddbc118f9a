"""Rendering posts as plain text (pure). Feed text is untrusted: it is scrubbed of mass mentions,
user mentions and URLs before it reaches any message; links come only from the items' own links.

The console and the replay show this text as is; the Slack and Discord adapters will render the
same ``AlertView`` into Block Kit and embeds.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_URL = re.compile(r"(?:https?|ftp|file)://\S+|www\.\S+\.\S+", re.IGNORECASE)
_ZWSP = "\u200b"
# @everyone, @here, @channel; Slack's <!channel>, <!here>, <!everyone>, <@U123>, <#C123>; Discord's
# <@123>, <@&123>, <#123>.
_AT_WORD = re.compile(r"@(?=(everyone|here|channel)\b)", re.IGNORECASE)
_ANGLE = re.compile(r"<(?=[!@#])")
# C0 and C1 controls (a terminal escape starts with one) and the bidirectional overrides that
# could make a headline read backwards.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_SPACE = re.compile(r"[ \t\r\f\v]+")


def neutralize(text: str) -> str:
    """Make mass and user mentions inert (a zero-width space breaks the token)."""
    text = _AT_WORD.sub("@" + _ZWSP, text)
    return _ANGLE.sub("<" + _ZWSP, text)


def plain(text: str) -> str:
    """Untrusted text that may keep its URLs (an error message naming a feed): no controls, no
    live mentions."""
    return neutralize(_SPACE.sub(" ", _CONTROL.sub("", text)).strip())


def scrub(text: str) -> str:
    """Untrusted feed text made safe to show: no URLs, no mentions, no control characters."""
    text = _CONTROL.sub("", text)
    text = _URL.sub("", text)
    text = neutralize(text)
    return _SPACE.sub(" ", text).strip()


def shorten(text: str, limit: int) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters, with an ellipsis if cut."""
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 0)]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    return cut.rstrip(" ,;:-–—") + "…"


def join_names(names: Sequence[str], *, most: int = 3) -> str:
    """ "A", "A and B", "A, B and C", "A, B, C and 2 more"."""
    names = list(dict.fromkeys(names))
    if len(names) <= 1:
        return "".join(names)
    if len(names) <= most:
        return ", ".join(names[:-1]) + " and " + names[-1]
    return ", ".join(names[:most]) + f" and {len(names) - most} more"


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertView:
    """A platform-neutral alert or update: the adapters render it their own way."""

    headline: str
    summary: str
    outlets: tuple[str, ...]  # distinct outlet names, first reporter first
    links: tuple[str, ...]  # every item link, first reporter first
    topics: tuple[str, ...]
    is_update: bool = False
    max_links: int = 3

    @property
    def shown_links(self) -> tuple[str, ...]:
        return tuple(link for link in self.links if link)[: self.max_links]

    @property
    def coverage(self) -> str:
        n = len(self.outlets)
        verb = "Now reported by" if self.is_update else "Reported by"
        if n == 1:
            return f"{verb} {self.outlets[0]} (1 outlet so far)"
        return f"{verb} {join_names(self.outlets)} ({n} outlets)"


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
