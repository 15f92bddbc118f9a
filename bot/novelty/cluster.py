"""Grouping story items into developments (pure; no I/O).

An item joins the development, within a time window, that carries the same article or reports
the same event; otherwise it starts a new one. Two kinds of evidence, strongest first:

1. **The same article**: the same canonical link, the same text under a second URL, or the same
   headline once an aggregator's " - Outlet" suffix is removed.
2. **The same event in other words**: TF-IDF cosine similarity of headline and lede against each
   item of a development, minus a small penalty per day between them. Document frequencies are
   learnt from *every* item the bot reads (``observe``), so words the whole news stream uses are
   cheap and the rare ones that name an event (people, places, numbers) weigh most. Words are cut
   to a short stem after folding case and accents, so "Zelensky"/"Zelenskyy"/"Zełenski" and
   "Budanov"/"Budanow" meet. Headline words count double. Between items in two languages only
   names, places and numbers can be shared, so their similarity is doubled.

Recurring round-ups ("key events, day 1,407", live threads, daily briefings) cover many events at
once: they never join a development and nothing joins them.

The clusterer keeps its window in memory and is rebuilt from the store at start-up (``load``).
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain import Item

_WORD = re.compile(r"\w+", re.UNICODE)
_OUTLET_SUFFIX = re.compile(r"\s+[-–—|]\s+[^-–—|]{2,60}$")
_TAGS = re.compile(r"<[^>]*>")
# Words that say nothing about which event an item reports.
_STOP = frozenset(
    [
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
        "being",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "after",
        "over",
        "into",
        "about",
        "says",
        "said",
        "say",
        "saying",
        "will",
        "would",
        "could",
        "should",
        "may",
        "might",
        "can",
        "new",
        "news",
        "live",
        "update",
        "updates",
        "has",
        "have",
        "had",
        "not",
        "no",
        "he",
        "she",
        "they",
        "his",
        "her",
        "their",
        "them",
        "we",
        "our",
        "you",
        "your",
        "i",
        "us",
        "than",
        "more",
        "most",
        "also",
        "who",
        "what",
        "when",
        "where",
        "which",
        "how",
        "why",
        "while",
        "amid",
        "just",
        "now",
        "still",
        "report",
        "reports",
        "reported",
        "according",
        "year",
        "years",
        "day",
        "days",
        "week",
        "first",
        "last",
        "one",
        "two",
        "submitted",
        "link",
        "comments",
    ]
)
# Round-ups: series that cover many events at once.
_ROUNDUP = re.compile(
    r"\b(live\s+(thread|updates?|blog)|key\s+events|war\s+briefing|morning\s+briefing|"
    r"evening\s+briefing|as\s+it\s+happened|what\s+we\s+know\s+on\s+day|day\s+\d[\d,.]*\b|"
    r"dzie[nń]\s+\d+|tag\s+\d+|newsletter)",
    re.IGNORECASE,
)

STEM = 5  # letters kept of each word after folding
TITLE_WEIGHT = 2.0
SIMILARITY = 0.4  # cosine (after the time penalty) from which an item joins a development
PENALTY_PER_DAY = 0.1
# Across languages only names, places and numbers can be shared, so a shared one counts more.
CROSS_LANGUAGE_BOOST = 2.0
SUMMARY_CHARS = 300
# Pseudo-documents in which no word appears: until the bot has read a few thousand items its own
# counts say little, and every shared word should count about the same.
IDF_PRIOR = 2000


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusterItem:
    item_id: int
    source_id: str
    link: str
    title: str
    summary: str
    seen_at: datetime
    language: str | None = None
    development_id: str | None = None  # set when loading known items

    @classmethod
    def of(cls, item: Item) -> ClusterItem:
        """A stored item as the clusterer sees it (first seen: when it joined the stream)."""
        return cls(
            item_id=item.id,
            source_id=item.source_id,
            link=item.link,
            title=item.title,
            summary=item.summary,
            seen_at=item.first_seen,
            language=item.language,
            development_id=item.development_id,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Assignment:
    development_id: str
    created: bool
    reason: str  # "new", "roundup", "link", "text", "headline", "similar": for diagnostics
    score: float = 0.0


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("ł", "l")


def bare_headline(title: str) -> str:
    """The headline without an aggregator's trailing " - Outlet"."""
    return _OUTLET_SUFFIX.sub("", title.strip())


def is_roundup(title: str) -> bool:
    return _ROUNDUP.search(title) is not None


_GROUPED = re.compile(r"\b(\d{1,3})((?:[,\u00a0 ]\d{3})+)\b")
_SCALED = re.compile(r"\b(\d+(?:\.\d+)?)\s*(k|thousand|m|mln|million|bn|billion)\b", re.IGNORECASE)
_SCALE = {
    "k": 1e3,
    "thousand": 1e3,
    "m": 1e6,
    "mln": 1e6,
    "million": 1e6,
    "bn": 1e9,
    "billion": 1e9,
}


def _numbers(text: str) -> str:
    """One spelling per number: "500,000", "500 000" and "$500K" all become 500000."""
    text = _GROUPED.sub(lambda m: m.group(1) + re.sub(r"\D", "", m.group(2)), text)
    return _SCALED.sub(lambda m: str(round(float(m.group(1)) * _SCALE[m.group(2).lower()])), text)


def terms(text: str) -> list[str]:
    """Folded, stemmed content words and numbers of ``text``."""
    out: list[str] = []
    for word in _WORD.findall(fold(_numbers(text))):
        if word.isdigit():
            out.append(word)
        elif len(word) > 2 and word not in _STOP:
            out.append(word[:STEM])
    return out


def _lede(summary: str) -> str:
    """The start of a summary, without markup; aggregator link lists are not a lede."""
    if "<" in summary:
        if "<ol" in summary or "<table" in summary or "<li" in summary:
            return ""
        summary = _TAGS.sub(" ", summary)
    return summary[:SUMMARY_CHARS]


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def text_fingerprint(title: str, summary: str) -> str:
    return _digest(" ".join(_WORD.findall(fold(f"{title} {summary[:300]}"))))


def headline_fingerprint(title: str) -> str | None:
    words = sorted({w for w in _WORD.findall(fold(bare_headline(title))) if w not in _STOP})
    return _digest(" ".join(words)) if len(words) >= 4 else None


Vector = dict[str, float]


def cosine(a: Vector, b: Vector) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(x * b.get(w, 0.0) for w, x in a.items())


@dataclass(slots=True)
class _Member:
    development_id: str
    seen_at: datetime
    vector: Vector
    roundup: bool
    language: str | None


def _primary(language: str | None) -> str | None:
    return language.split("-")[0].lower() if language else None


class Clusterer:
    """Assigns story items to developments; one instance per process, fed in time order."""

    def __init__(
        self,
        *,
        window: timedelta = timedelta(hours=48),
        similarity: float = SIMILARITY,
        penalty_per_day: float = PENALTY_PER_DAY,
    ) -> None:
        self._window = window
        self._similarity = similarity
        self._penalty = penalty_per_day
        self._df: Counter[str] = Counter()
        self._docs = 0
        self._by_link: dict[str, _Member] = {}
        self._by_text: dict[str, _Member] = {}
        self._by_headline: dict[str, _Member] = {}
        self._members: list[_Member] = []

    # --- what the stream says about words -----------------------------------------------------

    def observe(self, title: str, summary: str) -> None:
        """Count an item's words (every item read, on the story or not)."""
        self._df.update(set(terms(f"{bare_headline(title)} {_lede(summary)}")))
        self._docs += 1

    @property
    def documents(self) -> int:
        """How many items the word statistics were learnt from."""
        return self._docs

    def vector(self, title: str, summary: str) -> Vector:
        headline = bare_headline(title)
        counts = Counter(terms(f"{headline} {_lede(summary)}"))
        in_title = set(terms(headline))
        docs = self._docs
        weights: Vector = {}
        for word, n in counts.items():
            idf = math.log((docs + IDF_PRIOR + 1) / (1 + self._df.get(word, 0)))
            weight = (1 + math.log(n)) * max(idf, 0.0)
            if word in in_title:
                weight *= TITLE_WEIGHT
            if weight > 0:
                weights[word] = weight
        norm = math.sqrt(sum(x * x for x in weights.values())) or 1.0
        return {w: x / norm for w, x in weights.items()}

    # --- assignment ---------------------------------------------------------------------------

    def load(self, items: Iterable[ClusterItem]) -> None:
        """Rebuild the window from stored items that already belong to developments."""
        for item in sorted(items, key=lambda i: i.seen_at):
            if item.development_id is not None:
                self._remember(item, item.development_id, self.vector(item.title, item.summary))

    def assign(self, item: ClusterItem, *, new_id: str) -> Assignment:
        """Put ``item`` into a development: a known one carrying the same article or event,
        else a new one with id ``new_id``."""
        self._expire(item.seen_at)
        vector = self.vector(item.title, item.summary)
        if is_roundup(item.title):
            self._remember(item, new_id, vector, roundup=True)
            return Assignment(development_id=new_id, created=True, reason="roundup")
        match = self._same_article(item) or self._same_event(item, vector)
        if match is not None:
            member, reason, score = match
            self._remember(item, member.development_id, vector)
            return Assignment(
                development_id=member.development_id, created=False, reason=reason, score=score
            )
        self._remember(item, new_id, vector)
        return Assignment(development_id=new_id, created=True, reason="new")

    def _same_article(self, item: ClusterItem) -> tuple[_Member, str, float] | None:
        cutoff = item.seen_at - self._window
        candidates = (
            (self._by_link.get(item.link) if item.link else None, "link"),
            (self._by_text.get(text_fingerprint(item.title, item.summary)), "text"),
        )
        for member, reason in candidates:
            if member is not None and member.seen_at >= cutoff and not member.roundup:
                return member, reason, 1.0
        headline = headline_fingerprint(item.title)
        if headline is not None:
            member = self._by_headline.get(headline)
            if member is not None and member.seen_at >= cutoff and not member.roundup:
                return member, "headline", 1.0
        return None

    def _same_event(self, item: ClusterItem, vector: Vector) -> tuple[_Member, str, float] | None:
        best: _Member | None = None
        best_score = self._similarity
        language = _primary(item.language)
        for member in self._members:
            if member.roundup:
                continue
            days = abs((item.seen_at - member.seen_at).total_seconds()) / 86400
            similarity = cosine(vector, member.vector)
            if language and member.language and language != member.language:
                similarity *= CROSS_LANGUAGE_BOOST
            score = similarity - self._penalty * days
            if score >= best_score:
                best, best_score = member, score
        return (best, "similar", best_score) if best is not None else None

    def _remember(
        self, item: ClusterItem, development_id: str, vector: Vector, *, roundup: bool = False
    ) -> None:
        member = _Member(
            development_id=development_id,
            seen_at=item.seen_at,
            vector=vector,
            roundup=roundup,
            language=_primary(item.language),
        )
        if item.link:  # an entry without a link shares nothing with another one
            self._by_link[item.link] = member
        self._by_text[text_fingerprint(item.title, item.summary)] = member
        headline = headline_fingerprint(item.title)
        if headline is not None:
            self._by_headline[headline] = member
        self._members.append(member)

    def _expire(self, now: datetime) -> None:
        cutoff = now - self._window
        if self._members and self._members[0].seen_at < cutoff:
            self._members = [m for m in self._members if m.seen_at >= cutoff]
            for index in (self._by_link, self._by_text, self._by_headline):
                stale = [k for k, m in index.items() if m.seen_at < cutoff]
                for key in stale:
                    del index[key]
