"""The story gate and the topic tagger: is an item about the story, and which topics does it touch.

Everything is compiled once from a ``Story`` by ``StoryMatcher``; ``classify`` then runs on every
item the bot stores, so it only tokenizes, looks words up in dicts and counts.

How a configured term matches a word of the text (both folded by ``text.fold``):

- a word of fewer than five letters matches itself and its plural in ``-s`` (``NATO``, ``Kyiv``,
  ``Sumy``; never inside another word, so ``nato`` does not fire on "senator");
- a longer word matches as a stem followed by a common English, Polish or German ending
  (``Zelenski`` → "Zelenskiego", ``Ukraine`` → "Ukrainy", "Ukrainian", ``Putin`` → "Putina");
  when the stem was cut from a final vowel (``Crimea`` → ``crime``), the ending must start with a
  vowel, so "crime" and "crimes" do not match;
- a word written with a trailing ``*`` matches every word that starts with it (``sanction*``);
- every term also stands for its transliterations and exonyms (``Zelensky``, ``Zelenskyy``,
  ``Selenskyj``, ``Zełenski``; ``Kyiv``, ``Kiev``, ``Kijów``, ``Kiew``; ``Budanov``, ``Budanow``),
  from a few spelling rules and a small table of equivalent names;
- a term of several words matches those words in a row;
- in the gate, a word of six letters or more that matches no term is tried again with two
  neighbouring letters swapped, so a headline's typo ("Khakriv") still names the place.

The gate reads the story's words in four kinds (``Story``): core ``terms`` name the story
(Ukraine, Kyiv, Zelensky, Donbas); ``supporting`` words back a core term up but are in too much
other news to carry the story alone (Russia, Putin, Moscow, Kremlin, Witkoff); ``other_stories``
name neighbouring stories that mention this one in passing (Venezuela, Maduro); ``exclude``
words veto outright (a football match). It decides in this order:

1. **Weight.** Distinct core terms count (spellings of one name count once): ``TITLE_WEIGHT``
   each in the title, ``SUMMARY_WEIGHT`` each only in the summary. Supporting words count once
   in all: ``TITLE_SUPPORT`` when one is in the title, else ``SUMMARY_SUPPORT`` when one is in
   the summary. The item needs a core term somewhere and a sum of ``ON_STORY``: one core term in
   the title is enough; a summary needs two different ones, or one with a supporting word in
   the title ("What are Russians hoping for in 2026" over a summary about the war in Ukraine).
   A summary whose one core term is its last sentence's aside stays off.
2. **Other stories.** When an ``other_stories`` word occurs anywhere, the headline itself must
   carry a core term: "Russia weighs up fall of Maduro" is off whatever its summary says about
   Ukraine, while "Zelensky reacts to Maduro's capture" is on.
3. **Exclude.** An ``exclude`` word vetoes the item, unless it is only in the summary and the
   title carries two distinct core terms (a war roundup that mentions a football match).
4. **The headline's form** (``headline.headline_shape``), read only for items still on:
   - a *subject list*: a core term that is one item of a list whose other items carry no story
     word ("a year of conflict, amid wars in Gaza, Ukraine and Sudan"; "Midterms, Ukraine war,
     Venezuela: ...") is a passing mention and weighs as if it were in the summary;
   - a *digest* (a listicle count or a watch-list phrase: "7 global relations reads",
     "storylines to watch") is off unless the story is the subject of the bundle, that is
     unless the headline names it outside any passing list and the list (if any) has two or more
     story items;
   - a *programme listing* ("8/29: CBS Morning News") is off unless its title names the story:
     its summary is a rundown of unrelated segments.

Topics are tagged only on items that pass the gate, from the topic's aliases and its name, with
"mentions" counted as runs of words the topic's aliases cover (so "peace talks", which "peace",
"talks" and "peace talks" all match, is one mention):

- every topic mentioned in the headline is a candidate (``TITLE_WEIGHT`` a mention);
- the summary adds a topic only from its lead (``headline.lead``: the first sentences, where a
  report says what happened) and only when the lead mentions it ``LEAD_MENTIONS`` times
  (``SUMMARY_WEIGHT`` a mention): one "as peace talks go on" in a strike report is context;
- background clauses ("amid peace talks", "despite the ceasefire", "mimo rozmów", "trotz der
  Waffenruhe"; ``headline.foreground``) count nowhere;
- at most ``MAX_TOPICS`` topics are kept, the best-evidenced first.

An on-story item may have no topic.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.domain import Story
from bot.topics.headline import HeadlineShape, foreground, headline_shape, lead, sentences
from bot.topics.text import fold, tokens

__all__ = [
    "Classification",
    "StoryMatcher",
    "TopicResolution",
    "resolve_topic",
    "term_variants",
]

TITLE_WEIGHT = 2.0
SUMMARY_WEIGHT = 1.0
TITLE_SUPPORT = 1.0
SUMMARY_SUPPORT = 0.5
ON_STORY = 2.0
LEAD_MENTIONS = 2  # mentions of a topic the summary's lead needs to add that topic
MAX_TOPICS = 3
SUMMARY_SCAN_CHARS = 2000  # a summary longer than this is only read this far

_STEM_MIN = 5  # words at least this long match with endings; shorter ones match as they are
_PREFIX_MIN = 3  # a shorter "x*" prefix matches only the word itself
_TYPO_MIN = 6  # words at least this long that match nothing are tried with two letters swapped
_VOWELS = frozenset("aeiouy")

# Endings a stem may carry: English plurals and derivations, Polish and German inflections,
# all folded (ą→a, ę→e, ó→o). Kept to inflection, not composition: "-ski" is here, "-based" is
# not (a hyphen splits "Kyiv-based" into two words anyway).
_ENDINGS = frozenset(
    {
        "",
        "s",
        "es",
        "ed",
        "ing",
        "n",
        "an",
        "ans",
        "ian",
        "ians",
        "ean",
        "eans",
        "a",
        "e",
        "i",
        "o",
        "u",
        "y",
        "ie",
        "em",
        "om",
        "ow",
        "owi",
        "ami",
        "ach",
        "ego",
        "emu",
        "ej",
        "ym",
        "im",
        "ich",
        "ych",
        "ymi",
        "imi",
        "iego",
        "iemu",
        "iej",
        "anie",
        "anin",
        "ski",
        "ska",
        "skie",
        "skiego",
        "skiej",
        "skich",
        "skim",
        "en",
        "er",
        "ern",
        "ens",
        "ns",
        "ische",
        "ischen",
        "ischer",
        "isches",
    }
)
_MAX_ENDING = max(len(e) for e in _ENDINGS)

# Names that are spelled differently in the languages the bot reads, beyond what the rules in
# ``_spelling_variants`` derive. A term equal to one member stands for all of them. Folded forms.
_EQUIVALENT_NAMES: tuple[tuple[str, ...], ...] = (
    ("kyiv", "kiev", "kijow", "kiew", "kijew", "kyjiw"),
    ("ukraine", "ukraina", "ucrania"),
    ("russia", "rosja", "russland", "russie", "rusia"),
    ("moscow", "moskwa", "moskau", "moscou", "moscu"),
    ("kremlin", "kreml"),
    ("nato", "otan"),
    ("belarus", "bialorus", "weissrussland", "bielorussie"),
    ("kharkiv", "kharkov", "charkow", "charkiw"),
    ("odesa", "odessa"),
    ("lviv", "lwow", "lemberg"),
    ("donbas", "donbass"),
    ("donetsk", "donieck", "donezk"),
    ("luhansk", "lugansk"),
    ("zaporizhzhia", "zaporizhia", "zaporozhye", "zaporoze", "saporischschja"),
    ("crimea", "krym", "krim", "crimee"),
    ("kherson", "cherson"),
    ("dnipro", "dnipropetrovsk", "dniepr", "dnjepr"),
    ("zelensky", "zelenskyy", "zelenskiy", "zelenskij", "zelenski", "selenskyj", "selenskij"),
    ("yermak", "jermak"),
    ("budanov", "budanow"),
    ("zaluzhny", "zaluzhnyi", "zaluzny", "zaluzhnyy", "saluschnyj"),
    ("syrskyi", "syrsky", "syrski", "syrskij"),
    ("shmyhal", "szmyhal", "schmyhal"),
    ("witkoff", "witkof"),
)

# Spelling rules between English, Polish and German renderings of East Slavic names.
_SLAVIC_ENDING = re.compile(r"(sk|ck|zk)(yy|yi|iy|ij|yj|ii|y|i)$")
_SLAVIC_ENDINGS = ("y", "yy", "yi", "iy", "ij", "yj", "i")


def _spelling_variants(word: str) -> set[str]:
    """Other spellings of one folded word: Zelensky/Zelenskyj, Budanov/Budanow, Yermak/Jermak."""
    out = {word}
    for group in _EQUIVALENT_NAMES:
        if word in group:
            out.update(group)
    for w in list(out):
        m = _SLAVIC_ENDING.search(w)
        if m:
            stem = w[: m.start(2)]
            out.update(stem + e for e in _SLAVIC_ENDINGS)
    for w in list(out):
        if "v" in w and len(w) >= _STEM_MIN:
            out.add(w.replace("v", "w"))  # Budanov → Budanow, Lavrov → Lawrow
        if w.startswith("y") and len(w) >= 4:
            out.add("j" + w[1:])  # Yermak → Jermak
        if w.startswith("kh"):
            out.add("ch" + w[2:])  # Kherson → Cherson
        if "sh" in w and len(w) >= _STEM_MIN:
            out.add(w.replace("sh", "sz"))  # Polish
            out.add(w.replace("sh", "sch"))  # German
    return out


def term_variants(term: str) -> list[str]:
    """The spellings a single-word term stands for (folded), for diagnostics and tests."""
    return sorted(_spelling_variants(fold(term).strip()))


# --- compiled word patterns -------------------------------------------------------------------


@dataclass(slots=True)
class _WordIndex:
    """Maps a folded token to the ids of the word slots (units) it fills."""

    exact: dict[str, set[int]] = field(default_factory=dict)
    stems: dict[str, list[tuple[int, bool]]] = field(default_factory=dict)
    prefixes: dict[str, set[int]] = field(default_factory=dict)
    stem_lengths: list[int] = field(default_factory=list)
    prefix_lengths: list[int] = field(default_factory=list)
    typos: bool = False  # read a long word that fills nothing again with two letters swapped
    heads: frozenset[str] = frozenset()  # the first two letters of every indexed word

    def add(self, unit: int, word: str) -> None:
        if word.endswith("*"):
            base = word.rstrip("*")
            if len(base) >= _PREFIX_MIN:
                self.prefixes.setdefault(base, set()).add(unit)
                return
            # "cł*" folds to "cl*", which would match "claim" and "club": too short to be a
            # prefix, so it matches only the word itself.
            word = base
            if not word:
                return
        if len(word) < _STEM_MIN:
            self.exact.setdefault(word, set()).add(unit)
            if len(word) >= 3 and not word.endswith("s"):
                self.exact.setdefault(word + "s", set()).add(unit)
            return
        stem, needs_vowel = _stem(word)
        self.stems.setdefault(stem, []).append((unit, needs_vowel))

    def freeze(self) -> None:
        self.stem_lengths = sorted({len(s) for s in self.stems})
        self.prefix_lengths = sorted({len(p) for p in self.prefixes})
        self.heads = frozenset(w[:2] for w in (*self.exact, *self.stems, *self.prefixes))

    def units(self, token: str) -> frozenset[int]:
        """The units ``token`` fills. With ``typos``, a long word that fills none is read once
        more with each pair of neighbouring letters swapped, the commonest typo in a headline
        ("Khakriv")."""
        found = self._lookup(token)
        if found or not self.typos or len(token) < _TYPO_MIN:
            return found
        swapped: set[int] = set()
        for i in range(len(token) - 1):
            if token[i] == token[i + 1]:
                continue
            candidate = token[:i] + token[i + 1] + token[i] + token[i + 2 :]
            if candidate[:2] in self.heads:  # most words start like no term at all
                swapped |= self._lookup(candidate)
        return frozenset(swapped)

    def _lookup(self, token: str) -> frozenset[int]:
        found: set[int] = set()
        hit = self.exact.get(token)
        if hit:
            found |= hit
        n = len(token)
        for k in self.stem_lengths:
            if k > n:
                break
            if n - k > _MAX_ENDING:
                continue
            cands = self.stems.get(token[:k])
            if not cands:
                continue
            ending = token[k:]
            if ending not in _ENDINGS:
                continue
            for unit, needs_vowel in cands:
                if needs_vowel and not _vowel_ending(ending):
                    continue
                found.add(unit)
        for k in self.prefix_lengths:
            if k > n:
                break
            hit = self.prefixes.get(token[:k])
            if hit:
                found |= hit
        return frozenset(found)


def _stem(word: str) -> tuple[str, bool]:
    """The stem of a word of five letters or more, and whether its ending must start with a vowel.

    A plural ``-s`` is dropped first (``talks`` → ``talk``); then one final vowel, when that
    leaves four letters (``Ukraine`` → ``ukrain``, ``Rosja`` → ``rosj``).
    """
    if (
        word.endswith("s")
        and not word.endswith(("ss", "us", "is", "as", "os"))
        and len(word) - 1 >= 4
    ):
        word = word[:-1]
    if word[-1] in _VOWELS and len(word) - 1 >= 4:
        return word[:-1], True
    return word, False


def _vowel_ending(ending: str) -> bool:
    # After a stem cut from a vowel the ending must restore a vowel ("crime" is not "Crimea"),
    # or be an adjective ending ("ukraiński" → ukrain + ski).
    return bool(ending) and (ending[0] in _VOWELS or ending.startswith("sk"))


def _term_words(term: str) -> list[str]:
    return re.findall(r"[^\W_]+\*?", fold(term))


# --- scanning ---------------------------------------------------------------------------------

_NONE: frozenset[int] = frozenset()
_CACHE_LIMIT = 100_000  # distinct words remembered per scanner before it starts over


class _Scanner:
    """Finds which of a list of terms occur in a tokenized text.

    Each word of each term is a *unit*; a token's units are worked out once and remembered, so
    a text costs two set operations plus a loop over the few tokens that fill any unit.
    """

    def __init__(
        self, terms: Sequence[str], *, cache_limit: int = _CACHE_LIMIT, typos: bool = False
    ) -> None:
        self._cache_limit = cache_limit
        self._index = _WordIndex(typos=typos)
        self._single: dict[int, list[int]] = {}  # unit -> terms it completes alone
        self._multi: dict[int, list[tuple[tuple[int, ...], int]]] = {}  # first unit -> rest
        self._memo: dict[str, frozenset[int]] = {}  # token -> units, for tokens that fill any
        self._seen: set[str] = set()  # every token looked up so far
        self._live: set[str] = set()  # the tokens of ``_seen`` that fill some unit
        units = 0
        for term_id, term in enumerate(terms):
            words = _term_words(term)
            ids = list(range(units, units + len(words)))
            units += len(words)
            for unit, w in zip(ids, words, strict=True):
                if w.endswith("*"):
                    self._index.add(unit, w)
                else:
                    for v in _spelling_variants(w):
                        self._index.add(unit, v)
            if len(ids) == 1:
                self._single.setdefault(ids[0], []).append(term_id)
            elif ids:
                self._multi.setdefault(ids[0], []).append((tuple(ids[1:]), term_id))
        self._index.freeze()

    def scan(self, toks: Sequence[str]) -> set[int]:
        """The indexes (into the term list) of the terms that occur in ``toks``."""
        if not toks:
            return set()
        present = set(toks)
        live = self._live_in(present)
        if not live:
            return set()
        memo = self._memo
        found: set[int] = set()
        n = len(toks)
        for i, tok in enumerate(toks):
            if tok not in live:
                continue
            for u in memo[tok]:
                single = self._single.get(u)
                if single:
                    found.update(single)
                multi = self._multi.get(u)
                if not multi:
                    continue
                for rest, term_id in multi:
                    if i + len(rest) < n and all(
                        r in memo.get(toks[i + 1 + k], _NONE) for k, r in enumerate(rest)
                    ):
                        found.add(term_id)
        return found

    def matches(self, toks: Sequence[str]) -> list[tuple[int, int, int]]:
        """Every occurrence of a term in ``toks``: (term index, first token, token after)."""
        if not toks:
            return []
        present = set(toks)
        live = self._live_in(present)
        if not live:
            return []
        memo = self._memo
        found: list[tuple[int, int, int]] = []
        n = len(toks)
        for i, tok in enumerate(toks):
            if tok not in live:
                continue
            for u in memo[tok]:
                found += [(term_id, i, i + 1) for term_id in self._single.get(u, ())]
                for rest, term_id in self._multi.get(u, ()):
                    end = i + 1 + len(rest)
                    if end <= n and all(
                        r in memo.get(toks[i + 1 + k], _NONE) for k, r in enumerate(rest)
                    ):
                        found.append((term_id, i, end))
        return found

    def _live_in(self, present: set[str]) -> set[str]:
        """The tokens of ``present`` that fill some unit, learning the ones not met before.

        When the new tokens would overflow the cache it starts over, and then relearns every
        token of ``present``: the familiar ones ("Kyiv") are forgotten by the reset as well.
        """
        unknown = present - self._seen
        if unknown:
            if len(self._seen) + len(unknown) > self._cache_limit:
                self._seen.clear()
                self._live.clear()
                self._memo.clear()
                unknown = present
            self._learn(unknown)
        return present & self._live

    def _learn(self, unknown: set[str]) -> None:
        for tok in unknown:
            units = self._index.units(tok)
            if units:
                self._memo[tok] = units
                self._live.add(tok)
        self._seen |= unknown


# --- classification ---------------------------------------------------------------------------

_CORE, _SUPPORT, _OTHER, _EXCLUDE = range(4)


@dataclass(frozen=True, slots=True, kw_only=True)
class Classification:
    """What the gate and the tagger made of one item."""

    on_story: bool
    topics: tuple[str, ...] = ()  # in the story's topic order; empty when off the story
    score: float = 0.0  # the weight of the evidence found (see the module docstring)
    # What fired, for diagnostics: core terms as configured, supporting terms as "~term",
    # other stories as "!term", exclude terms as "-term", what the headline's form said as
    # "#list", "#digest" or "#listing", then topic aliases as "topic-id:alias".
    matched: tuple[str, ...] = ()


def _canonical(term: str) -> str:
    """One key for terms that are spellings of each other ("Kyiv", "kiev", "kijow*")."""
    keys = []
    for w in _term_words(term):
        base = w.rstrip("*")
        keys.append(min(_spelling_variants(base)) if base else w)
    return " ".join(keys)


@dataclass(slots=True)
class _Evidence:
    """The gate terms found in one piece of text, by kind; core and supporting terms by key."""

    core: set[str] = field(default_factory=set)
    support: set[str] = field(default_factory=set)
    other: bool = False
    exclude: bool = False


class StoryMatcher:
    """The story gate and topic tagger for one ``Story``, compiled once.

    ``classify`` only reads the compiled tables, apart from a memo of the words it has met,
    which it fills as it goes; use one matcher per thread (the bot runs it on the event loop).
    """

    def __init__(self, story: Story, *, cache_limit: int = _CACHE_LIMIT) -> None:
        self.story = story
        groups = (
            (_CORE, story.terms, ""),
            (_SUPPORT, story.supporting, "~"),
            (_OTHER, story.other_stories, "!"),
            (_EXCLUDE, story.exclude, "-"),
        )
        gate_terms: list[str] = []
        self._kind: list[int] = []
        self._labels: list[str] = []
        for kind, terms, mark in groups:
            gate_terms += terms
            self._kind += [kind] * len(terms)
            self._labels += [mark + t for t in terms]
        self._keys = [_canonical(t) for t in gate_terms]
        self._gate = _Scanner(gate_terms, cache_limit=cache_limit, typos=True)
        topic_terms: list[str] = []
        self._topic_of: list[int] = []
        self._topic_labels: list[str] = []
        for k, topic in enumerate(story.topics):
            for phrase in (*topic.aliases, topic.name):
                topic_terms.append(phrase)
                self._topic_of.append(k)
                self._topic_labels.append(f"{topic.id}:{phrase}")
        self._topics = _Scanner(topic_terms, cache_limit=cache_limit)

    def _evidence(self, hits: set[int]) -> _Evidence:
        ev = _Evidence()
        for i in hits:
            kind = self._kind[i]
            if kind == _CORE:
                ev.core.add(self._keys[i])
            elif kind == _SUPPORT:
                ev.support.add(self._keys[i])
            elif kind == _OTHER:
                ev.other = True
            else:
                ev.exclude = True
        return ev

    def classify(self, title: str, summary: str = "") -> Classification:
        """Decide whether an item is on the story and which of the story's topics it touches."""
        title_toks = tokens(title)
        summary_toks = tokens(summary[:SUMMARY_SCAN_CHARS])
        in_title = self._gate.scan(title_toks)
        in_summary = self._gate.scan(summary_toks)
        if not in_title and not in_summary:
            return Classification(on_story=False)
        matched = [self._labels[i] for i in sorted(in_title | in_summary)]
        head = self._evidence(in_title)
        body = self._evidence(in_summary)
        if not head.core and not body.core:
            # Supporting words alone put an item on the story only by the war's own vocabulary:
            # Russia or the Kremlin in the headline, and two pieces of topic evidence.
            return self._russia_side(title, summary, head, body, matched)

        on, score, notes = self._weigh(title, head, body)
        matched += notes
        topics: tuple[str, ...] = ()
        if on:
            topics, labels = self._tag(title, summary)
            matched += labels
        return Classification(on_story=on, topics=topics, score=score, matched=tuple(matched))

    def _russia_side(
        self,
        title: str,
        summary: str,
        head: _Evidence,
        body: _Evidence,
        matched: list[str],
    ) -> Classification:
        """A report of the war's Russian or international side that names no Ukraine word:
        a supporting word (Russia, Putin, the Kremlin) in the headline and another one
        anywhere (one envoy's name is not enough), no other story named,
        nothing excluded, and a topic the headline and the lead both give evidence of."""
        if len(head.support | body.support) < 2 or not head.support:
            return Classification(on_story=False, matched=tuple(matched))  # one envoy's name
        if head.other or body.other or head.exclude or body.exclude:
            return Classification(on_story=False, matched=tuple(matched))
        if headline_shape(title).listing:
            return Classification(on_story=False, matched=tuple(matched))
        topics, labels = self._tag(title, summary, both=True)
        if not topics:
            return Classification(on_story=False, matched=tuple(matched))
        return Classification(
            on_story=True,
            topics=topics,
            score=TITLE_SUPPORT,
            matched=(*matched, "#russia-side", *labels),
        )

    def _tag(
        self, title: str, summary: str, *, both: bool = False
    ) -> tuple[tuple[str, ...], list[str]]:
        """The topics of an on-story item, in the story's order, and the aliases that chose them.

        See "Topics" in the module docstring: the headline decides, the summary's lead adds a
        topic only when it mentions it twice, background clauses do not count, and at most
        ``MAX_TOPICS`` are kept.
        """
        in_title = self._topic_matches(title)
        in_lead = self._topic_matches(lead(summary))
        title_n = self._mentions(in_title)
        lead_n = self._mentions(in_lead)
        # Several pieces of evidence, not one word: two or more words of the headline that the
        # topic's aliases cover ("drone strike", "peace talks"), or the headline and the lead
        # both, or the lead twice.
        words: dict[int, set[int]] = {}
        for term, start, end in in_title:
            words.setdefault(self._topic_of[term], set()).update(range(start, end))
        # A topic named by one word of the headline only is kept when no topic has more:
        # "troops" beside "security guarantees" is the scene, not the subject.
        scores: dict[int, float] = {}
        single: dict[int, float] = {}
        for k in title_n.keys() | lead_n.keys():
            t, s = title_n.get(k, 0), lead_n.get(k, 0)
            several = len(words.get(k, ())) >= 2 or bool(t and s)
            if several or (s >= LEAD_MENTIONS and not both):
                scores[k] = TITLE_WEIGHT * t + SUMMARY_WEIGHT * s
            elif t:
                single[k] = TITLE_WEIGHT * t
        if not scores and not both:
            scores = single
        kept = sorted(scores, key=lambda k: (-scores[k], k))[:MAX_TOPICS]
        topics = tuple(t.id for k, t in enumerate(self.story.topics) if k in kept)
        fired = {i for i, _, _ in (*in_title, *in_lead) if self._topic_of[i] in kept}
        return topics, [self._topic_labels[i] for i in sorted(fired)]

    def _mentions(self, found: list[tuple[int, int, int]]) -> dict[int, int]:
        """How many times each topic is mentioned: runs of adjacent words its aliases cover,
        so "peace talks" (which "peace", "talks" and "peace talks" all match) and "drone
        strike" are one mention each."""
        covered: dict[int, set[int]] = {}
        for term, start, end in found:
            covered.setdefault(self._topic_of[term], set()).update(range(start, end))
        return {k: sum(1 for p in pos if p - 1 not in pos) for k, pos in covered.items()}

    def _topic_matches(self, text: str) -> list[tuple[int, int, int]]:
        """Topic alias matches in the foreground of ``text``, sentence by sentence, with token
        positions that leave a gap between sentences (so runs never cross one)."""
        found: list[tuple[int, int, int]] = []
        offset = 0
        for sentence in sentences(foreground(text)):
            toks = tokens(sentence)
            found += [(t, a + offset, b + offset) for t, a, b in self._topics.matches(toks)]
            offset += len(toks) + 1
        return found

    def _weigh(self, title: str, head: _Evidence, body: _Evidence) -> tuple[bool, float, list[str]]:
        """The gate's decision, the score behind it, and notes on the headline's form.

        The plain score comes first; the headline's form is only read when that score puts
        the item on the story, since every rule about form can only take an item off.
        """
        notes: list[str] = []
        score = self._score(head.core, set(), head, body)
        if score < ON_STORY or not self._allowed(head.core, head, body):
            return False, score, notes
        shape = headline_shape(title)
        if shape.listing and not head.core:
            notes.append("#listing")
            return False, score, notes
        strong = set(head.core)  # core terms the headline itself is about
        story_items = -1
        if shape.items and head.core:
            strong, passing, story_items = self._split_list(shape)
            if passing:
                notes.append("#list")
                score = self._score(strong, passing, head, body)
        if shape.digest and (0 <= story_items <= 1 or not strong):
            notes.append("#digest")
            return False, score, notes
        return score >= ON_STORY and self._allowed(strong, head, body), score, notes

    @staticmethod
    def _score(strong: set[str], passing: set[str], head: _Evidence, body: _Evidence) -> float:
        weak = (passing | body.core) - strong
        support = 0.0
        if head.support:
            support = TITLE_SUPPORT
        elif body.support:
            support = SUMMARY_SUPPORT
        return TITLE_WEIGHT * len(strong) + SUMMARY_WEIGHT * len(weak) + support

    @staticmethod
    def _allowed(strong: set[str], head: _Evidence, body: _Evidence) -> bool:
        """The vetoes: another story named while the headline is not about ours; an exclude
        term, unless it is only in the summary and the headline has two core terms."""
        if (head.other or body.other) and not strong:
            return False
        return not ((head.exclude or body.exclude) and (head.exclude or len(strong) < 2))

    def _split_list(self, shape: HeadlineShape) -> tuple[set[str], set[str], int]:
        """Sort the headline's core terms into those it is about and those it lists in passing.

        Returns the core terms outside a passing list, those inside it, and how many of the
        list's items carry core or supporting terms. A list item is about the story when it
        holds a core or supporting term; it is related to it when it holds any topic alias
        too. The core terms of the one story item in a list whose other items are unrelated
        ("wars in Gaza, Ukraine and Sudan") are in passing.
        """
        outside = self._evidence(self._gate.scan(tokens(shape.outside))).core
        story_items: list[set[str]] = []
        related = 0
        for item in shape.items:
            item_toks = tokens(item)
            ev = self._evidence(self._gate.scan(item_toks))
            if ev.core or ev.support:
                story_items.append(ev.core)
                related += 1
            elif self._topics.scan(item_toks):
                related += 1
        passing: set[str] = set()
        if len(story_items) == 1 and related == 1:
            passing = story_items[0] - outside
        inside = set().union(*story_items) if story_items else set()
        strong = outside | (inside - passing)
        return strong, passing, len(story_items)

    def topics_in(self, text: str) -> tuple[str, ...]:
        """The topics whose aliases or names occur in ``text``, with no story gate."""
        chosen = {self._topic_of[i] for i in self._topics.scan(tokens(text))}
        return tuple(t.id for k, t in enumerate(self.story.topics) if k in chosen)


# --- resolving a topic named in a command ------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class TopicResolution:
    """The topic a user named, or ``None`` with the closest topic id as a "did you mean"."""

    topic_id: str | None
    suggestion: str | None = None


@functools.lru_cache(maxsize=4)
def _topic_matcher(story: Story) -> StoryMatcher:
    return StoryMatcher(story)


def _squash(s: str) -> str:
    return "".join(tokens(s))


def resolve_topic(story: Story, text: str) -> TopicResolution:
    """Find the topic ``text`` names: its id, its id without dashes, its name, or an alias.

    Failing those, a short text whose words match the aliases of exactly one topic (an inflected
    or transliterated form: "sanctioned", "Budanow") resolves to it. Nothing matches:
    ``suggestion`` holds the topic whose id or name is closest in spelling, if one is close.
    """
    raw = text.strip().lstrip("#").strip()
    key = _squash(raw)
    if not key:
        return TopicResolution(topic_id=None)
    for t in story.topics:
        if raw == t.id:
            return TopicResolution(topic_id=t.id)
    for t in story.topics:
        if key in (_squash(t.id), _squash(t.name)):
            return TopicResolution(topic_id=t.id)
    for t in story.topics:
        for alias in t.aliases:
            stem = _squash(alias.rstrip("*"))
            prefix = alias.endswith("*") and len(stem) >= _PREFIX_MIN
            if key == stem or (prefix and key.startswith(stem)):
                return TopicResolution(topic_id=t.id)
    if len(tokens(raw)) <= 3:
        hit = _topic_matcher(story).topics_in(raw)
        if len(hit) == 1:
            return TopicResolution(topic_id=hit[0])
    choices: dict[str, str] = {}
    for t in story.topics:
        choices.setdefault(_squash(t.id), t.id)
        choices.setdefault(_squash(t.name), t.id)
    close = difflib.get_close_matches(key, list(choices), n=1, cutoff=0.6)
    return TopicResolution(topic_id=None, suggestion=choices[close[0]] if close else None)
