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
3. **The same event in other words, by meaning** (when items carry a sentence embedding, see
   ``bot.novelty.embed``): an item whose words are only somewhat alike (``SEMANTIC_WORDS``) joins
   when the two embeddings are very close (``SEMANTIC_SIMILARITY``, less a small penalty per day,
   a little lower between two languages). "Zelensky taps military intelligence chief to run
   presidential office" meets "Zelensky names spy chief Budanov as new head of Ukraine's
   presidential office" this way. When several developments qualify, one that is close by
   meaning wins, then the closest by words and meaning together.

Recurring round-ups ("key events, day 1,407", live threads, daily briefings) cover many events at
once: they join no development and nothing joins them, except a copy of the same round-up.

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
from bot.ingest.normalize import without_boilerplate
from bot.novelty.embed import Embedding, similarity

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
# The semantic rule (items with embeddings): words at least this alike, and embeddings this close.
SEMANTIC_WORDS = 0.25
SEMANTIC_SIMILARITY = 0.89
SEMANTIC_PENALTY_PER_DAY = 0.02
# Reports of one event in two languages sit a little further apart than in one.
SEMANTIC_CROSS_LANGUAGE = 0.05
SEMANTIC_CHARS = 450
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
    embedding: Embedding | None = None  # of ``semantic_text``, when an embedder is configured

    @classmethod
    def of(cls, item: Item, embedding: Embedding | None = None) -> ClusterItem:
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
            embedding=embedding,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Assignment:
    development_id: str
    created: bool
    # "new", "roundup", "link", "text", "headline", "similar", "meaning": for diagnostics
    reason: str
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
    """The start of a summary, without markup; aggregator link lists are not a lede, nor a
    link aggregator's "submitted by /u/name [link] [comments]" (a user name is no event)."""
    if "<" in summary:
        if "<ol" in summary or "<table" in summary or "<li" in summary:
            return ""
        summary = _TAGS.sub(" ", summary)
    summary = without_boilerplate(summary).strip()
    return summary[:SUMMARY_CHARS]


def semantic_text(title: str, summary: str) -> str:
    """What an item's embedding is made of: its headline and the start of its summary, at most
    ``SEMANTIC_CHARS`` (the model's cost grows faster than the text)."""
    lede = " ".join(_lede(summary).split())
    headline = " ".join(bare_headline(title).split())
    return (f"{headline}. {lede}" if lede else headline)[:SEMANTIC_CHARS]


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
    embedding: Embedding | None


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
        semantic_words: float = SEMANTIC_WORDS,
        semantic_similarity: float = SEMANTIC_SIMILARITY,
    ) -> None:
        self._window = window
        self._similarity = similarity
        self._penalty = penalty_per_day
        self._semantic_words = semantic_words
        self._semantic_similarity = semantic_similarity
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
            # A round-up joins nothing but a copy of itself (an aggregator's, say).
            copy = self._same_article(item, roundup=True)
            if copy is not None:
                member, reason, score = copy
                self._remember(item, member.development_id, vector, roundup=True)
                return Assignment(
                    development_id=member.development_id, created=False, reason=reason, score=score
                )
            self._remember(item, new_id, vector, roundup=True)
            return Assignment(development_id=new_id, created=True, reason="roundup")
        match = self._same_article(item, roundup=False) or self._same_event(item, vector)
        if match is not None:
            member, reason, score = match
            self._remember(item, member.development_id, vector)
            return Assignment(
                development_id=member.development_id, created=False, reason=reason, score=score
            )
        self._remember(item, new_id, vector)
        return Assignment(development_id=new_id, created=True, reason="new")

    def _same_article(
        self, item: ClusterItem, *, roundup: bool
    ) -> tuple[_Member, str, float] | None:
        """A member carrying the same article as ``item``: round-ups only match round-ups."""
        cutoff = item.seen_at - self._window
        candidates = (
            (self._by_link.get(item.link) if item.link else None, "link"),
            (self._by_text.get(text_fingerprint(item.title, item.summary)), "text"),
        )
        for member, reason in candidates:
            if member is not None and member.seen_at >= cutoff and member.roundup == roundup:
                return member, reason, 1.0
        headline = headline_fingerprint(item.title)
        if headline is not None:
            member = self._by_headline.get(headline)
            if member is not None and member.seen_at >= cutoff and member.roundup == roundup:
                return member, "headline", 1.0
        return None

    def _same_event(self, item: ClusterItem, vector: Vector) -> tuple[_Member, str, float] | None:
        best: _Member | None = None
        best_key = (False, 0.0)
        best_reason = "similar"
        language = _primary(item.language)
        for member in self._members:
            if member.roundup:
                continue
            days = abs((item.seen_at - member.seen_at).total_seconds()) / 86400
            other_language = bool(language and member.language and language != member.language)
            words = cosine(vector, member.vector)
            if other_language:
                words *= CROSS_LANGUAGE_BOOST
            words -= self._penalty * days
            if words < min(self._similarity, self._semantic_words):
                continue
            meaning = 0.0
            close = False
            if item.embedding is not None and member.embedding is not None:
                meaning = similarity(item.embedding, member.embedding)
                meaning -= SEMANTIC_PENALTY_PER_DAY * days
                if other_language:
                    meaning += SEMANTIC_CROSS_LANGUAGE
                close = words >= self._semantic_words and meaning >= self._semantic_similarity
            if not close and words < self._similarity:
                continue
            key = (close, words + meaning)
            if best is None or key > best_key:
                best, best_key = member, key
                best_reason = "similar" if words >= self._similarity else "meaning"
        return (best, best_reason, best_key[1]) if best is not None else None

    def _remember(
        self, item: ClusterItem, development_id: str, vector: Vector, *, roundup: bool = False
    ) -> None:
        member = _Member(
            development_id=development_id,
            seen_at=item.seen_at,
            vector=vector,
            roundup=roundup,
            language=_primary(item.language),
            embedding=item.embedding,
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
