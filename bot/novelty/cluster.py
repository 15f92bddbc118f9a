"""Grouping items into developments (pure; no I/O).

First version: an item joins an existing development, within a time window, when it carries the
same article as one of the development's items:

- the same canonical link (another feed of the same outlet, an aggregator linking straight through);
- the same text under a second URL (identical folded title and lede);
- a syndicated copy: the same headline once an outlet's name tacked on by an aggregator
  ("… - Reuters", "… | BBC") is removed, or headlines whose word sets overlap almost entirely.

Everything else starts a new development. The clusterer keeps its window in memory and can be
rebuilt from the store at start-up (``load``); the store is the record.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

_WORD = re.compile(r"\w+", re.UNICODE)
_OUTLET_SUFFIX = re.compile(r"\s+[-–—|:]\s+[^-–—|:]{2,60}$")
# Headline words that say nothing about which event it is.
_STOP = frozenset(
    {
        "a",
        "an",
        "the",
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "from",
        "by",
        "with",
        "and",
        "or",
        "but",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "it",
        "its",
        "this",
        "that",
        "after",
        "over",
        "into",
        "about",
        "says",
        "said",
        "say",
        "will",
        "would",
        "could",
        "new",
        "news",
        "live",
        "update",
        "updates",
    }
)
TITLE_OVERLAP = 0.8  # Jaccard of headline word sets above which two headlines are one article


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusterItem:
    item_id: int
    source_id: str
    link: str
    title: str
    summary: str
    seen_at: datetime
    development_id: str | None = None  # set when loading known items


@dataclass(frozen=True, slots=True, kw_only=True)
class Assignment:
    development_id: str
    created: bool
    reason: str  # "new", "link", "text", "headline", "overlap": for logs and diagnostics


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def headline_words(title: str) -> frozenset[str]:
    base = _OUTLET_SUFFIX.sub("", title.strip())
    return frozenset(w for w in _WORD.findall(_fold(base)) if w not in _STOP and len(w) > 1)


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def text_fingerprint(title: str, summary: str) -> str:
    words = _WORD.findall(_fold(f"{title} {summary[:300]}"))
    return _digest(" ".join(words))


def headline_fingerprint(title: str) -> str | None:
    words = sorted(headline_words(title))
    return _digest(" ".join(words)) if len(words) >= 4 else None


@dataclass(slots=True)
class _Entry:
    development_id: str
    seen_at: datetime
    words: frozenset[str]


class Clusterer:
    """Assigns items to developments; one instance per process, fed items in time order."""

    def __init__(self, *, window: timedelta = timedelta(hours=48)) -> None:
        self._window = window
        self._by_link: dict[str, _Entry] = {}
        self._by_text: dict[str, _Entry] = {}
        self._by_headline: dict[str, _Entry] = {}
        self._recent: list[_Entry] = []

    def load(self, items: Iterable[ClusterItem]) -> None:
        """Rebuild the window from stored items that already belong to developments."""
        for item in sorted(items, key=lambda i: i.seen_at):
            if item.development_id is not None:
                self._remember(item, item.development_id)

    def assign(self, item: ClusterItem, *, new_id: str) -> Assignment:
        """Put ``item`` into a development: a known one carrying the same article, else a new
        one with id ``new_id``."""
        self._expire(item.seen_at)
        match = self._match(item)
        if match is not None:
            development_id, reason = match
            self._remember(item, development_id)
            return Assignment(development_id=development_id, created=False, reason=reason)
        self._remember(item, new_id)
        return Assignment(development_id=new_id, created=True, reason="new")

    def _match(self, item: ClusterItem) -> tuple[str, str] | None:
        cutoff = item.seen_at - self._window
        entry = self._by_link.get(item.link)
        if entry is not None and entry.seen_at >= cutoff:
            return entry.development_id, "link"
        entry = self._by_text.get(text_fingerprint(item.title, item.summary))
        if entry is not None and entry.seen_at >= cutoff:
            return entry.development_id, "text"
        headline = headline_fingerprint(item.title)
        if headline is not None:
            entry = self._by_headline.get(headline)
            if entry is not None and entry.seen_at >= cutoff:
                return entry.development_id, "headline"
        words = headline_words(item.title)
        if len(words) >= 5:
            best: _Entry | None = None
            best_score = TITLE_OVERLAP
            for candidate in self._recent:
                if candidate.seen_at < cutoff or len(candidate.words) < 5:
                    continue
                score = len(words & candidate.words) / len(words | candidate.words)
                if score >= best_score:
                    best, best_score = candidate, score
            if best is not None:
                return best.development_id, "overlap"
        return None

    def _remember(self, item: ClusterItem, development_id: str) -> None:
        entry = _Entry(
            development_id=development_id,
            seen_at=item.seen_at,
            words=headline_words(item.title),
        )
        self._by_link[item.link] = entry
        self._by_text[text_fingerprint(item.title, item.summary)] = entry
        headline = headline_fingerprint(item.title)
        if headline is not None:
            self._by_headline[headline] = entry
        self._recent.append(entry)

    def _expire(self, now: datetime) -> None:
        cutoff = now - self._window
        if self._recent and self._recent[0].seen_at < cutoff:
            self._recent = [e for e in self._recent if e.seen_at >= cutoff]
            for index in (self._by_link, self._by_text, self._by_headline):
                stale = [k for k, e in index.items() if e.seen_at < cutoff]
                for key in stale:
                    del index[key]
