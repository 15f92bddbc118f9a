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
from bot.novelty.analysis import is_analysis, is_roundup
from bot.novelty.embed import Embedding, similarity
from bot.novelty.pair import PairFeatures, PairModel, load_pair_model, names, numbers

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
STEM = 5  # letters kept of each word after folding
TITLE_WEIGHT = 2.0
PENALTY_PER_DAY = 0.1  # kept for the words-only fallback when no model file is readable
# Across languages only names, places and numbers can be shared, so a shared one counts more.
CROSS_LANGUAGE_BOOST = 2.0
SUMMARY_CHARS = 300
# Reports of one event in two languages sit a little further apart than in one.
SEMANTIC_CROSS_LANGUAGE = 0.05
# A shared name counts when at most this share of the stream's reports carries it.
RARE_NAME = 0.004
# Pairs whose words are this little alike and whose meaning is this far apart are not scored.
CHEAP_WORDS = 0.05
CHEAP_MEANING = 0.8
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
    # Judged a piece about the news by meaning (bot/topics/meaning.py), whatever its headline.
    analysis: bool = False

    @classmethod
    def of(
        cls, item: Item, embedding: Embedding | None = None, *, analysis: bool | None = None
    ) -> ClusterItem:
        """A stored item as the clusterer sees it (first seen: when it joined the stream);
        ``analysis`` (a judgment by meaning) defaults to what was stored with the item."""
        return cls(
            analysis=item.analysis if analysis is None else analysis,
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
    # "new", "roundup", "analysis", "link", "text", "headline", "model": for diagnostics
    reason: str
    score: float = 0.0
    # The pair model's probability that the item reports the same event as the development it
    # joined (or, for a new development, as the closest one it did not join): a second opinion
    # can decide the band just under and over the model's threshold.
    probability: float = 0.0
    analysis: bool = False  # a piece about the news (see bot.novelty.analysis), not news


@dataclass(frozen=True, slots=True, kw_only=True)
class Candidate:
    """The development the pair model finds closest to an item (``Clusterer.candidate``)."""

    development_id: str
    probability: float
    threshold: float


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("ł", "l")


def bare_headline(title: str) -> str:
    """The headline without an aggregator's trailing " - Outlet"."""
    return _OUTLET_SUFFIX.sub("", title.strip())


__all__ = ["Assignment", "ClusterItem", "Clusterer", "is_analysis", "is_roundup"]


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
    names: frozenset[str] = frozenset()
    numbers: frozenset[str] = frozenset()
    headline: Vector | None = None
    joinable: bool = True  # analysis pieces can join a development but nothing joins them


def _primary(language: str | None) -> str | None:
    return language.split("-")[0].lower() if language else None


class Clusterer:
    """Assigns story items to developments; one instance per process, fed in time order."""

    def __init__(
        self,
        *,
        window: timedelta = timedelta(hours=48),
        model: PairModel | None = None,
    ) -> None:
        self._window = window
        self._model = model or load_pair_model()
        self._first_seen: dict[str, datetime] = {}
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

    def _rare(self, stem: str) -> bool:
        """A name the stream seldom uses: the standing actors (Ukraine, Russia, Trump) are in
        too many reports to say two of them report one event."""
        return self._df.get(fold(stem), 0) <= max(2.0, RARE_NAME * self._docs)

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
                self._remember(
                    item,
                    item.development_id,
                    self.vector(item.title, item.summary),
                    roundup=is_roundup(item.title),
                    joinable=not (item.analysis or is_analysis(item.title, item.link)),
                )

    def candidate(self, item: ClusterItem) -> Candidate | None:
        """Where the pair model would put ``item``, without putting it there: the closest
        development by the model, its probability and threshold. None when the item is a
        round-up or a copy of an article already held (those are certain)."""
        self._expire(item.seen_at)
        if is_roundup(item.title) or self._same_article(item, roundup=False) is not None:
            return None
        best, probability, _joins = self._same_event(item, self.vector(item.title, item.summary))
        if best is None:
            return None
        return Candidate(
            development_id=best.development_id,
            probability=probability,
            threshold=(
                self._model.threshold
                if item.embedding is not None
                else self._model.threshold_words_only
            ),
        )

    def assign(
        self, item: ClusterItem, *, new_id: str, override: tuple[str, bool] | None = None
    ) -> Assignment:
        """Put ``item`` into a development: a known one carrying the same article or event,
        else a new one with id ``new_id``. An analysis piece joins the development it
        discusses, if any, else one of its own that nothing joins. ``override`` (a development
        id and whether the item is the same event) is a second opinion on the model's closest
        development: it decides that pair instead of the model's threshold."""
        self._expire(item.seen_at)
        vector = self.vector(item.title, item.summary)
        if is_roundup(item.title):
            # A round-up joins nothing but a copy of itself (an aggregator's, say).
            copy = self._same_article(item, roundup=True)
            if copy is not None:
                member, reason, score = copy
                self._remember(item, member.development_id, vector, roundup=True)
                return Assignment(
                    development_id=member.development_id,
                    created=False,
                    reason=reason,
                    score=score,
                    probability=1.0,
                    analysis=True,
                )
            self._remember(item, new_id, vector, roundup=True)
            return Assignment(development_id=new_id, created=True, reason="roundup", analysis=True)
        analysis = item.analysis or is_analysis(item.title, item.link)
        same = self._same_article(item, roundup=False)
        if same is not None:
            member, reason, score = same
            self._remember(item, member.development_id, vector, joinable=member.joinable)
            return Assignment(
                development_id=member.development_id,
                created=False,
                reason=reason,
                score=score,
                probability=1.0,
                analysis=analysis,
            )
        best, probability, joins = self._same_event(item, vector)
        if best is not None and override is not None and override[0] == best.development_id:
            joins = override[1]
        if best is not None and joins:
            self._remember(item, best.development_id, vector, joinable=not analysis)
            return Assignment(
                development_id=best.development_id,
                created=False,
                reason="model",
                score=probability,
                probability=probability,
                analysis=analysis,
            )
        self._remember(item, new_id, vector, joinable=not analysis)
        return Assignment(
            development_id=new_id,
            created=True,
            reason="analysis" if analysis else "new",
            probability=probability,
            analysis=analysis,
        )

    def features(
        self,
        item: ClusterItem,
        vector: Vector,
        other: ClusterItem,
        other_vector: Vector,
        *,
        development_first_seen: datetime | None = None,
    ) -> PairFeatures:
        """The pair model's view of ``item`` against an earlier ``other`` (bench/fit_pair.py
        fits the model on exactly these)."""
        member = self._member_of(other, "", other_vector)
        first = development_first_seen or other.seen_at
        return self._features(item, vector, _item_names(item), _item_numbers(item), member, first)

    def _features(
        self,
        item: ClusterItem,
        vector: Vector,
        item_names: frozenset[str],
        item_numbers: frozenset[str],
        member: _Member,
        first_seen: datetime,
        item_headline: Vector | None = None,
    ) -> PairFeatures:
        language = _primary(item.language)
        other_language = bool(language and member.language and language != member.language)
        words = cosine(vector, member.vector)
        if other_language:
            words = min(words * CROSS_LANGUAGE_BOOST, 1.0)
        meaning: float | None = None
        if item.embedding is not None and member.embedding is not None:
            meaning = similarity(item.embedding, member.embedding)
            if other_language:
                meaning += SEMANTIC_CROSS_LANGUAGE
        if item_headline is None:
            item_headline = self.vector(item.title, "")
        headline = cosine(item_headline, member.headline or {})
        if other_language:
            headline = min(headline * CROSS_LANGUAGE_BOOST, 1.0)
        return PairFeatures(
            headline=headline,
            words=words,
            meaning=meaning,
            names=sum(1 for n in item_names & member.names if self._rare(n)),
            numbers=bool(item_numbers & member.numbers),
            gap_hours=abs((item.seen_at - member.seen_at).total_seconds()) / 3600,
            age_hours=max((item.seen_at - first_seen).total_seconds(), 0.0) / 3600,
        )

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

    def _same_event(self, item: ClusterItem, vector: Vector) -> tuple[_Member | None, float, bool]:
        """The member most likely to report the same event, that probability, and whether it
        reaches the model's threshold."""
        best: _Member | None = None
        best_p = 0.0
        best_joins = False
        item_names, item_numbers = _item_names(item), _item_numbers(item)
        item_headline = self.vector(item.title, "")
        for member in self._members:
            if member.roundup or not member.joinable:
                continue
            if cosine(vector, member.vector) < CHEAP_WORDS and not (
                item.embedding is not None
                and member.embedding is not None
                and similarity(item.embedding, member.embedding) >= CHEAP_MEANING
            ):
                continue  # nothing in common: not worth the model
            first = self._first_seen.get(member.development_id, member.seen_at)
            features = self._features(
                item, vector, item_names, item_numbers, member, first, item_headline
            )
            p = self._model.probability(features)
            if p > best_p:
                best, best_p = member, p
                best_joins = p >= self._model.threshold_for(features)
        return best, best_p, best_joins

    def _member_of(
        self,
        item: ClusterItem,
        development_id: str,
        vector: Vector,
        *,
        roundup: bool = False,
        joinable: bool = True,
    ) -> _Member:
        return _Member(
            development_id=development_id,
            seen_at=item.seen_at,
            vector=vector,
            roundup=roundup,
            language=_primary(item.language),
            embedding=item.embedding,
            names=_item_names(item),
            numbers=_item_numbers(item),
            headline=self.vector(item.title, ""),
            joinable=joinable,
        )

    def _remember(
        self,
        item: ClusterItem,
        development_id: str,
        vector: Vector,
        *,
        roundup: bool = False,
        joinable: bool = True,
    ) -> None:
        member = self._member_of(item, development_id, vector, roundup=roundup, joinable=joinable)
        self._first_seen.setdefault(development_id, item.seen_at)
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
            live = {m.development_id for m in self._members}
            self._first_seen = {d: t for d, t in self._first_seen.items() if d in live}


def _item_text(item: ClusterItem) -> str:
    return f"{bare_headline(item.title)}. {_lede(item.summary)}"


def _item_names(item: ClusterItem) -> frozenset[str]:
    return names(_item_text(item), STEM)


def _item_numbers(item: ClusterItem) -> frozenset[str]:
    return numbers(_numbers(_item_text(item)))
