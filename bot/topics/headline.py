"""The shape of a headline: does it report one story, or list several, or name a programme?

A desk editor reads a headline's form before its words. "Midterms, Ukraine war, Venezuela:
storylines to watch in 2026" names the story, but as one subject among unrelated others; "7
global relations reads" is a reading list; "8/29: CBS Morning News" is a broadcast whose
summary is a rundown of the day. The story gate (``bot.topics.match``) asks this module three
things about a title, all by form alone (no story words are known here):

- **subject list** (``HeadlineShape.items``): the title enumerates three or more subjects, as
  ``A, B and C`` (the last two joined by a conjunction in English, Polish or German) or as a
  heading ``A, B, C: ...``; or it runs a range ``From A to B`` / ``Od A do B`` / ``Von A bis B``
  at the start of a clause. The gate then checks which items carry story words: a story term
  that is one item among unrelated ones is a passing mention.
- **digest marker** (``HeadlineShape.digest``): a listicle count ("7 reads", "five things",
  "sześć pytań", "fünf Fragen") or a watch-list / review phrase ("storylines to watch",
  "year in review"). Such a headline bundles pieces; the gate drops it unless the story is the
  subject of the bundle.
- **programme listing** (``HeadlineShape.listing``): a date stamp and a short name and nothing
  else ("8/29: CBS Morning News", "Jan. 4: Face the Nation"); its summary lists the segments.

Everything here is a few regular expressions over one title, run only for titles that already
mention the story.

The topic tagger uses the cutters at the end: ``foreground`` drops background clauses ("amid
peace talks"), ``lead`` keeps a summary's first sentences, ``sentences`` splits a text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.topics.text import fold

__all__ = ["HeadlineShape", "foreground", "headline_shape", "lead", "sentences"]

# Clauses end at a colon, a pipe, a spaced dash, a semicolon, or a sentence end (a lowercase
# letter or digit, then . ? or !, then a capital: "Reawakened. Zelensky", not "U.S. Finds").
_LOWER = "a-ząćęłńóśźżäöüßéèàâêîôûç0-9’'\")”"
_UPPER = "A-ZĄĆĘŁŃÓŚŹŻÄÖÜÉ„“\"‘'0-9"
_CLAUSE_END = re.compile(rf"(?P<sep>\s*[:|;]\s+|\s+[-–—]\s+|(?<=[{_LOWER}])[.?!]\s+(?=[{_UPPER}]))")
_COMMA = re.compile(r",\s+")
# The conjunction that joins the last two items of a list ("A, B and C", "A, B i C").
# Polish "i" only in lower case: a capital "I" is the English pronoun.
_CONJUNCTION = re.compile(r"\s+(?:(?i:and|or|und|oder|sowie|oraz|lub|albo)|&|i)\s+")
_RANGE = re.compile(
    r"^(?:from|od|von)\s+(?P<a>.+?)\s+(?:to|do|bis|zu|nach)\s+(?P<b>.+)$", re.IGNORECASE
)
_MAX_ITEM_WORDS = 5  # an inner list item longer than this is a clause, not a subject
_MIN_ITEMS = 3
_FIRST_ITEM_WORDS = 2  # "Macron, Merz and Zelensky"; "Gaza, Ukraine and Sudan"
_LAST_ITEM_WORDS = 2  # "Gaza, Ukraine and South Sudan"; "A, B and C meet ...": C is one word

_NUMBER = (
    r"(?:\d{1,2}|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"dwa|dwie|trzy|cztery|piec|szesc|siedem|osiem|dziewiec|dziesiec|"
    r"zwei|drei|vier|funf|sechs|sieben|acht|neun|zehn)"
)
# Plural nouns that listicles count (folded: "pytań" is "pytan", "Gründe" is "grunde").
_LISTICLE_NOUN = (
    r"(?:things|reads|stories|takeaways|questions|lessons|storylines|trends|predictions|"
    r"charts|moments|ways|reasons|highlights|headlines|books|films|photos|pictures|"
    r"pytan|rzeczy|tematow|wydarzen|powodow|lekcji|prognoz|"
    r"dinge|fragen|themen|grunde|lehren|prognosen)"
)
_DIGEST = re.compile(
    rf"\b{_NUMBER}\s+(?:[^\W\d_][\w'-]*\s+){{0,3}}{_LISTICLE_NOUN}\b"
    r"|\b(?:storylines|stories|things|what) to watch\b"
    r"|\bto watch (?:in|for) (?:19|20)\d\d\b"
    r"|\b(?:year|week|month) in (?:review|pictures|photos|charts)\b"
    r"|\bthe year ahead\b"
)
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_LISTING = re.compile(
    rf"^\s*(?:\d{{1,2}}/\d{{1,2}}(?:/\d{{2,4}})?|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?"
    rf"|\d{{1,2}}\s+{_MONTH})\s*[:|–—-]\s*(?P<rest>.*)$",
    re.IGNORECASE,
)
_LISTING_MAX_WORDS = 5


@dataclass(frozen=True, slots=True)
class HeadlineShape:
    """What the form of a title says (see the module docstring)."""

    items: tuple[str, ...] = ()  # the subjects of a list, as written; empty when none
    outside: str = ""  # the title without the list's items (the whole title when no list)
    digest: bool = False
    listing: bool = False


def _words(s: str) -> int:
    return len(s.split())


def _clauses(title: str) -> list[tuple[str, str]]:
    """The clauses of a title, each with the separator that follows it ("" at the end)."""
    out: list[tuple[str, str]] = []
    start = 0
    for m in _CLAUSE_END.finditer(title):
        out.append((title[start : m.start()], m.group("sep").strip()))
        start = m.end()
    out.append((title[start:], ""))
    return out


def _list_items(clause: str, heading: bool) -> tuple[list[str], list[str]]:
    """The subjects a clause enumerates and the rest of the clause; ([], []) when it does not
    read as a list."""
    clause = clause.strip()
    ranged = _RANGE.match(clause)
    if ranged and max(_words(ranged.group("a")), _words(ranged.group("b"))) <= _MAX_ITEM_WORDS:
        return [ranged.group("a"), ranged.group("b")], []
    pieces = _COMMA.split(clause)
    if len(pieces) < 2:
        return [], []
    rest: list[str] = []
    last = _CONJUNCTION.split(pieces[-1])
    closed = len(last) >= 2
    if closed:
        # "A, B and C meet in Paris": the last item is C, what follows it is the sentence.
        words = last[-1].split()
        rest.append(" ".join(words[_LAST_ITEM_WORDS:]))
        pieces = [*pieces[:-1], " ".join(last[:-1]), " ".join(words[:_LAST_ITEM_WORDS])]
    # Before "B and C", a first piece longer than a name is the sentence the list hangs from
    # ("a year of conflict, amid wars in Gaza, Ukraine and Sudan"), or a subject whose
    # predicates follow ("Ukraine reacts to the raid, calls for calm and dialogue"): not an
    # item. Before a colon, the pieces are the items ("Midterms, Ukraine war, Venezuela: ...").
    first_max = _FIRST_ITEM_WORDS if closed else _MAX_ITEM_WORDS
    if _words(pieces[0]) > first_max:
        rest.append(pieces[0])
        pieces = pieces[1:]
    # A list is closed by a conjunction ("A, B and C") or heads a clause ("A, B, C: ...").
    if len(pieces) < _MIN_ITEMS or not (closed or heading):
        return [], []
    if any(_words(p) > _MAX_ITEM_WORDS for p in pieces[:-1]):
        return [], []
    return [p for p in pieces if p.strip()], rest


def headline_shape(title: str) -> HeadlineShape:
    """Look at the form of ``title``: subject lists, digest markers, programme listings."""
    title = " ".join(title.split())
    folded = fold(title)
    digest = bool(_DIGEST.search(folded))
    listing = False
    m = _LISTING.match(title)
    if m and _words(m.group("rest")) <= _LISTING_MAX_WORDS:
        listing = True
    items: list[str] = []
    outside: list[str] = []
    for clause, sep in _clauses(title):
        found: list[str] = []
        if not items:
            found, rest = _list_items(clause, heading=sep in (":", "-", "–", "—", "|"))
        if found:
            items = found
            outside += rest
        else:
            outside.append(clause)
    return HeadlineShape(
        items=tuple(items), outside=" ".join(outside), digest=digest, listing=listing
    )


# --- the parts of a text that say what it is about --------------------------------------------

# A background clause: "amid peace talks", "despite the ceasefire", "mimo rozmów", "trotz der
# Waffenruhe" runs to the next comma or sentence end and sets a scene the item is not about.
_BACKGROUND = re.compile(
    r"\b(?:amid|amidst|despite|in spite of|against the backdrop of|in the shadow of|"
    r"mimo|pomimo|w cieniu|w obliczu|na tle|trotz|inmitten|angesichts|vor dem hintergrund)\b"
    r"[^,.;:!?|]*",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(rf"(?<=[{_LOWER}])[.?!](?=\s+[{_UPPER}])")
LEAD_SENTENCES = 3
LEAD_CHARS = 600


def foreground(text: str) -> str:
    """``text`` without its background clauses ("... as tensions grow amid peace talks")."""
    return _BACKGROUND.sub(" ", text)


def lead(summary: str) -> str:
    """The first sentences of a summary (at most ``LEAD_SENTENCES`` and about ``LEAD_CHARS``
    characters): where a report says what happened; the rest is context."""
    head = summary[: LEAD_CHARS + 200]
    ends = [m.end() for m in _SENTENCE_END.finditer(head)]
    cut = len(head)
    if len(ends) >= LEAD_SENTENCES:
        cut = ends[LEAD_SENTENCES - 1]
    return head[: min(cut, max(LEAD_CHARS, ends[0] if ends else 0))]


def sentences(text: str) -> list[str]:
    """``text`` cut after each sentence end (see ``_SENTENCE_END``)."""
    out: list[str] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        out.append(text[start : m.end()])
        start = m.end()
    out.append(text[start:])
    return out
