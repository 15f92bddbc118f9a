"""Pieces about the news that are not news themselves (pure; no I/O).

Live blogs, "key events" lists, daily war briefings, explainers, opinion and analysis pieces
discuss developments without being one. The bot stores them, keeps them on the story and
attaches them to the development they discuss (for answers and briefings), but never alerts
them, and they never start a development that later reports could join.

Only signals that hold on any outlet are used: the headline's form ("Why ...?", "What we
know", "Opinion:", a quoted phrase followed by a colon, an author's name in capitals before a
colon), words that name the genre ("live", "explainer", "briefing", "day 1,412 of the war")
and the URL path segments the web uses for these sections (``/live/``, ``/opinion/``,
``/video/``, ``/analysis/``). No outlet or source is named here.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# Series that cover many events at once: they join nothing and nothing joins them.
_ROUNDUP = re.compile(
    r"\b(live\s+(thread|updates?|blog|coverage)|live\s*[:|–—]|key\s+events|war\s+briefing|"
    r"(morning|evening|daily|weekly)\s+briefing|as\s+it\s+happened|what\s+we\s+know\s+on\s+day|"
    r"day\s+\d[\d,.]*\b|dzie[nń]\s+\d+|tag\s+\d+|newsletter|news\s+des\s+tages|"
    r"the\s+latest\s*:|in\s+pictures|in\s+maps|in\s+charts|year\s+in\s+review)",
    re.IGNORECASE,
)
# Headlines that announce a piece about the news rather than the news.
_GENRE = re.compile(
    r"(^|[\s:|(\[])(explainer|explained|analysis|opinion|comment|editorial|op-ed|column|"
    r"podcast|interview|fact\s?check|q\s?&\s?a|essay|review|profile|"
    r"poll|survey|analiza|komentarz|opinia|felieton|sonda[żz]|"
    r"umfrage|"
    r"kommentar|meinung|erkl[äa]r\w*|hintergrund)\s*[:|\-–—]",
    re.IGNORECASE,
)
_PHRASES = re.compile(
    r"\b(what\s+to\s+know|what\s+we\s+know|what\s+you\s+need\s+to\s+know|"
    r"things\s+to\s+know|look\s+ahead|explained|the\s+big\s+picture|"
    r"inside\s+the|a\s+reminder\s+of|lessons\s+(of|from)|"
    r"co\s+wiemy|was\s+wir\s+wissen|was\s+bekannt\s+ist)\b",
    re.IGNORECASE,
)
# A headline that asks the reader a question it then discusses.
_QUESTION_START = re.compile(
    r"^(why|how|what|who|where|will|can|could|should|is|are|does|do|has|have|"
    r"dlaczego|czy|jak|co|kto|warum|wie|was|wer|wird|kann)\b",
    re.IGNORECASE,
)
# ‘Truly humbling’: inside ... (a quoted phrase as the whole first clause of a feature).
_QUOTED_LEAD = re.compile(r"^[\"'‘“„«][^\"'’”«»]{3,80}[\"'’”»]\s*:")
# GORDON SMITH: Why ... (an author's byline in capitals before an opinion piece).
_CAPS_BYLINE = re.compile(r"^[A-Z][A-Z'’.\-]+(\s+[A-Z][A-Z'’.\-]+){1,3}\s*:")
# "For Ukrainians, a museum is a reminder ..." (whom a feature is about, then its point).
_FOR_WHOM = re.compile(r"^(for|to)\s+[^,]{3,40},\s", re.IGNORECASE)
# "Politics Has Reawakened. The President Must Tread Carefully." (a thesis in two sentences).
_TWO_SENTENCES = re.compile(r"[a-z]{3}\.\s+[A-Z][a-z]+\s+\w+.*\.$")
# The path segments sites use for these sections.
_PATH = re.compile(
    r"/(live|live-news|liveblog|live-blog|opinion|opinions|commentisfree|comment|analysis|"
    r"explainer|explainers|explained|editorial|editorials|podcasts?|interactive|"
    r"features?|long-?reads?|newsletters?|opinie|meinung|kommentar|debatte)(/|$|-)",
    re.IGNORECASE,
)
_OUTLET_SUFFIX = re.compile(r"\s+[-–—|]\s+[^-–—|]{2,60}$")


def _headline(title: str) -> str:
    return _OUTLET_SUFFIX.sub("", " ".join(title.split()))


def is_roundup(title: str) -> bool:
    """A recurring round-up of many events (live blog, key events list, daily briefing)."""
    return _ROUNDUP.search(title) is not None


def analysis_kind(title: str, link: str = "") -> str | None:
    """What kind of piece about the news ``title``/``link`` is, or None for a report of news:
    "roundup", "genre" (opinion, explainer, analysis...), "question", "feature" or "section"."""
    headline = _headline(title)
    if is_roundup(headline):
        return "roundup"
    if _GENRE.search(headline) or _CAPS_BYLINE.search(headline):
        return "genre"
    if _PHRASES.search(headline) or _QUOTED_LEAD.search(headline) or _FOR_WHOM.match(headline):
        return "feature"
    if _TWO_SENTENCES.search(headline):
        return "feature"
    asks = headline.endswith("?") or _QUESTION_START.match(headline) is not None
    if asks and not _reported_speech(headline):
        return "question"
    path = urlsplit(link).path if link else ""
    if path and _PATH.search(path):
        return "section"
    return None


_REPORTED = re.compile(
    r"\b(says|said|warns|tells|claims|vows|urges|confirms|announces|denies)\b", re.IGNORECASE
)


def _reported_speech(headline: str) -> bool:
    """ "What Putin said" style headlines are discussion; "Who ... says" ones report speech."""
    return _REPORTED.search(headline) is not None


def is_analysis(title: str, link: str = "") -> bool:
    return analysis_kind(title, link) is not None


def is_news(title: str, link: str = "") -> bool:
    """A report of news: what may start and carry an alert."""
    return analysis_kind(title, link) is None
