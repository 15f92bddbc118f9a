"""Checks on what a language model wrote, before anyone reads it (pure).

A model's text is as untrusted as the feeds it read, and it may invent. :func:`ground_summary`
and :func:`ground_answer` clean it up and refuse it (``None``: the caller then uses the offline
text) when it states a number or a name that no source has:

- links the sources do not carry are removed; masked links (``[text](url)``, Slack's
  ``<url|text>``) keep their text only; HTML tags, code fences and Markdown emphasis go;
- mass and user mentions (``@everyone``, ``@here``, ``<!channel>``, ``<@U1>``) are removed, any
  other ``@``/``<!`` made inert (:func:`bot.services.render.neutralize`), controls dropped;
- every number must appear in a source, compared by value: digits, thousands separators (``,``
  ``.`` spaces), decimal commas, scale words (``3.5 million`` = ``3,500,000``) and number words in
  the sources (``five`` = ``5``); units such as ``km`` or ``%`` do not change the value;
- a text that talks about itself ("I cannot…", "as an AI", "ignore previous…") is refused;
- every capitalized word that is not a common sentence opener must match a source word once
  both are folded (case, Latin diacritics, Cyrillic transliterated): exactly when short, by a
  shared stem when longer, so ``Zelensky`` matches ``Zełenski``, ``Zelenskyy`` and ``Зеленський``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from bot.services.render import neutralize, shorten
from bot.topics.text import fold

__all__ = [
    "GroundedAnswer",
    "clean_markup",
    "ground_answer",
    "ground_summary",
    "name_words",
    "numbers_in",
    "unknown_names",
    "unknown_numbers",
]


def _words(text: str) -> list[str]:
    return text.split()


# --- markup and links ---------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_MASKED_LINK = re.compile(r"!?\[([^\]\n]*)\]\(\s*[^)\s]*\s*\)")
_SLACK_LINK = re.compile(r"<((?:https?|mailto|ftp)[^|>\s]*)\|([^>\n]*)>", re.IGNORECASE)
_ANGLE_URL = re.compile(r"<((?:https?|ftp)://[^>\s]*)>", re.IGNORECASE)
_CHAT_TOKEN = re.compile(r"<[@#!][^<>\s]{0,80}>")
_MASS_MENTION = re.compile(r"(?<!\w)@(?:everyone|here|channel)\b", re.IGNORECASE)
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_CODE_FENCE = re.compile(r"```[A-Za-z0-9_-]*")
_EMPHASIS = re.compile(r"(\*\*|__|~~|`)")
_HEADING = re.compile(r"(?m)^\s{0,3}#{1,6}\s+")
_URL = re.compile(r"(?:https?|ftp|file)://[^\s<>\"'\])]+|www\.[^\s<>\"'\])]+\.[^\s<>\"'\])]+", re.I)
_TRAILING = ".,;:!?…"
_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def _link_key(url: str) -> str:
    return url.strip().rstrip("/").casefold()


def clean_markup(text: str, allowed_links: Iterable[str] = ()) -> str:
    """``text`` without controls, markup, live mentions and links the sources do not have."""
    allowed = {_link_key(u) for u in allowed_links if u}
    text = _CONTROL.sub("", text)
    text = _MASKED_LINK.sub(r"\1", text)
    text = _SLACK_LINK.sub(r"\2", text)
    text = _ANGLE_URL.sub(r"\1", text)
    text = _CHAT_TOKEN.sub("", text)  # <!channel>, <@U1>, <#C1>, <@&1>: no place in a summary
    text = _MASS_MENTION.sub("", text)
    text = _HTML_TAG.sub("", text)
    text = _CODE_FENCE.sub("", text)
    text = _EMPHASIS.sub("", text)
    text = _HEADING.sub("", text)

    def keep_known(match: re.Match[str]) -> str:
        url = match.group(0)
        tail = ""
        while url and url[-1] in _TRAILING:
            url, tail = url[:-1], url[-1] + tail
        return (url if _link_key(url) in allowed else "") + tail

    text = _URL.sub(keep_known, text)
    text = neutralize(text)
    text = _BLANK_LINES.sub("\n", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    text = " ".join(line for line in lines if line)
    # A removed link leaves "see ." or "( )" behind.
    text = re.sub(r"\(\s*\)|\[\s*\]", "", text)
    text = re.sub(r"\s+([.,;:!?])", r"\1", text)
    text = _SPACES.sub(" ", text).strip()
    if text.endswith((":", "-", "–", "—")):
        # "… Read more:" once its link is gone: drop the dangling clause.
        end = max(text.rfind(". "), text.rfind("! "), text.rfind("? "))
        text = text[: end + 1] if end > 0 else text.rstrip(":-–— ")
    return text


# --- numbers ------------------------------------------------------------------------------------

_GROUP_SEP = ",.\u00a0\u202f\u2009' "
_NUMBER = re.compile(
    r"(?<![\w.,])"
    r"(\d{1,3}(?:[,.\u00a0\u202f\u2009' ]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?)"
    r"(?:[\s\u00a0\u202f-]*(?P<scale>thousand|million|billion|trillion|bn|mln|mn|mld|mlrd|m|k|"
    r"tys|тис|млн|млрд|mil|milliards?|millions?|milliarden?|millionen?|miliony|milionów|"
    r"miliard(?:y|ów)?|tysi[aą]c(?:e|y)?)\b)?",
    re.IGNORECASE,
)
_SCALES: dict[str, Decimal] = {
    "thousand": Decimal(1000),
    "k": Decimal(1000),
    "tys": Decimal(1000),
    "тис": Decimal(1000),
    "tysiac": Decimal(1000),
    "million": Decimal(10) ** 6,
    "m": Decimal(10) ** 6,
    "mn": Decimal(10) ** 6,
    "mln": Decimal(10) ** 6,
    "млн": Decimal(10) ** 6,
    "mil": Decimal(10) ** 6,
    "billion": Decimal(10) ** 9,
    "bn": Decimal(10) ** 9,
    "mld": Decimal(10) ** 9,
    "mlrd": Decimal(10) ** 9,
    "млрд": Decimal(10) ** 9,
    "milliard": Decimal(10) ** 9,
    "miliard": Decimal(10) ** 9,
    "trillion": Decimal(10) ** 12,
}
_WORD_NUMBERS: dict[str, int] = {
    word: n
    for n, word in enumerate(
        _words(
            "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
            "fifteen sixteen seventeen eighteen nineteen twenty"
        )
    )
}
_WORD_NUMBERS.update(
    {"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80}
)
_WORD_NUMBERS.update({"ninety": 90, "hundred": 100, "dozen": 12, "dozens": 12})
_WORD_NUMBER = re.compile(
    r"\b(" + "|".join(sorted(_WORD_NUMBERS, key=len, reverse=True)) + r")\b"
    r"(?:[\s-]+(thousand|million|billion|trillion))?",
    re.IGNORECASE,
)
_CITATION = re.compile(r"\[(\d{1,3})\]")


def _scale(word: str | None) -> Decimal | None:
    if not word:
        return None
    w = fold(word)
    if w in _SCALES:
        return _SCALES[w]
    for stem, value in (
        ("milliard", Decimal(10) ** 9),
        ("miliard", Decimal(10) ** 9),
        ("million", Decimal(10) ** 6),
        ("milion", Decimal(10) ** 6),
        ("tysiac", Decimal(1000)),
        ("tysiąc", Decimal(1000)),
    ):
        if w.startswith(stem):
            return value
    return None


def _readings(raw: str) -> set[Decimal]:
    """The values a written number may mean: ``1,200`` is 1200 or (a decimal comma) 1.2."""
    seps = {c for c in raw if c in _GROUP_SEP}
    out: set[Decimal] = set()

    def add(text: str) -> None:
        with contextlib.suppress(InvalidOperation):
            out.add(Decimal(text).normalize())

    if not seps:
        add(raw)
        return out
    groups = re.split(r"[,.\u00a0\u202f\u2009' ]", raw)
    if len(seps) == 1:
        sep = next(iter(seps))
        if all(len(g) == 3 for g in groups[1:]):
            add("".join(groups))  # thousands separators
        if len(groups) == 2 and sep in ",.":
            add(f"{groups[0]}.{groups[1]}")  # a decimal point or comma
        return out
    # Two kinds: the last one is the decimal mark ("1,200.5", "1.200,5", "1 200,5").
    last = max(raw.rfind(c) for c in seps)
    whole = re.sub(r"[^\d]", "", raw[:last])
    add(f"{whole}.{raw[last + 1 :]}")
    return out


def numbers_in(text: str, *, with_unscaled: bool = True) -> set[Decimal]:
    """Every value the numbers of ``text`` may mean. ``with_unscaled`` adds ``3.5`` for
    ``3.5 million`` besides 3,500,000 (sources: a model may quote either; the model's own text
    is checked by the scaled value alone). Number words count (``five``, ``two million``)."""
    values: set[Decimal] = set()
    for match in _NUMBER.finditer(text):
        readings = _readings(match.group(1))
        scale = _scale(match.group("scale"))
        if scale is not None:
            values.update((r * scale).normalize() for r in readings)
            if with_unscaled:
                values.update(readings)
        else:
            values.update(readings)
    return values


def _word_numbers(text: str) -> set[Decimal]:
    values: set[Decimal] = set()
    for match in _WORD_NUMBER.finditer(text):
        base = Decimal(_WORD_NUMBERS[match.group(1).lower()])
        values.add(base)
        scale = _scale(match.group(2))
        if scale is not None:
            values.add((base * scale).normalize())
    return values


def unknown_numbers(text: str, sources: Sequence[str]) -> list[str]:
    """The numbers written in ``text`` (digits) that no source has, as written."""
    known: set[Decimal] = set()
    for source in sources:
        known |= numbers_in(source)
        known |= _word_numbers(source)
    missing: list[str] = []
    for match in _NUMBER.finditer(text):
        readings = _readings(match.group(1))
        scale = _scale(match.group("scale"))
        values = {(r * scale).normalize() for r in readings} if scale is not None else readings
        if values and not values & known:
            missing.append(match.group(0).strip())
    return missing


# --- names --------------------------------------------------------------------------------------

_CYRILLIC = dict(
    zip(
        "абвгґдеєжзиіїйклмнопрстуфхцчшщьъыэюяё",
        _words(
            "a b v h g d e ye zh z y i yi y k l m n o p r s t u f kh ts ch sh shch - - y e yu ya e"
        ),
        strict=True,
    )
)
_CAPITALIZED = re.compile(r"(?<![\w'’])([^\W\d_][\w'’\-]*)", re.UNICODE)
_SENTENCE_START = re.compile(r"(?:^|[.!?…:;]\s+|[\"“«(]\s*)$")
# Words a sentence may open with that name nobody; any word a source uses is fine as well.
_OPENERS = frozenset(
    _words("""a an the this that these those there here it its he she they we i you his her
    their our in on at by for from of to with without after before during since until while
    when where as
    but and or so yet also still however meanwhile moreover furthermore earlier later today
    yesterday tomorrow tonight overnight now then both neither either no not one some many most
    several all each every another other such according officials sources reports report talks
    despite amid under over between among if although though because what who which how why
    new latest separately elsewhere more see read details update breaking analysis first second
    last next key main""")
)


def _translit(word: str) -> str:
    if word.isascii():
        return word
    return "".join(_CYRILLIC.get(c, c).replace("-", "") for c in word)


def _fold_name(word: str) -> str:
    word = re.sub(r"['’]s$|['’]$", "", word)
    return _translit(fold(word)).replace("'", "").replace("-", "")


def _source_words(sources: Sequence[str]) -> set[str]:
    words: set[str] = set()
    for source in sources:
        for raw in re.findall(r"[^\W\d_][\w'’\-]*", source):
            folded = _fold_name(raw)
            words.add(folded)
            words.update(_fold_name(part) for part in re.split(r"[-'’]", raw) if part)
    words.discard("")
    return words


def _stem(word: str) -> str:
    return word if len(word) <= 4 else word[: max(4, len(word) - 3)]


def _known_name(word: str, vocabulary: set[str]) -> bool:
    if word in vocabulary:
        return True
    if len(word) <= 4:
        return False
    stem = _stem(word)
    return any(len(v) > 4 and (v.startswith(stem) or word.startswith(_stem(v))) for v in vocabulary)


def name_words(text: str) -> list[str]:
    """The capitalized words of ``text`` that may be names (common sentence openers left out)."""
    names: list[str] = []
    for match in _CAPITALIZED.finditer(text):
        word = match.group(1)
        if not word[0].isupper():
            continue
        opener = _SENTENCE_START.search(text[: match.start()]) is not None
        if opener and fold(word).strip("'’") in _OPENERS:
            continue
        names.append(word)
    return names


_DOTTED = re.compile(r"\b(?:[A-Z]\.){2,}")


def _undot(text: str) -> str:
    """``U.S.`` as ``US``, ``E.U.`` as ``EU``: one spelling for dotted initials."""
    return _DOTTED.sub(lambda m: m.group(0).replace(".", "") + " ", text)


def unknown_names(text: str, sources: Sequence[str]) -> list[str]:
    """The capitalized words of ``text`` that match no word of any source."""
    vocabulary = _source_words([_undot(s) for s in sources])
    missing: list[str] = []
    for word in name_words(_undot(text)):
        parts = [p for p in re.split(r"[-]", word) if p]
        if not all(_known_name(_fold_name(p), vocabulary) for p in parts):
            missing.append(word)
    return missing


# --- the two checks -----------------------------------------------------------------------------


# A model talking about itself or its task (a refusal, an injected instruction obeyed) is no
# news summary, even when every word of it is in the sources.
_META = re.compile(
    r"\b(?:as an ai|(?:large )?language model|i (?:cannot|can't|can not|am unable|won't|will not)|"
    r"i'm (?:sorry|unable)|sorry|ignore (?:all )?(?:previous|prior|the above)|system prompt|"
    r"(?:the|these|those) (?:provided|given) (?:reports|sources|data)|(?:reports|sources) "
    r"(?:do not|don't) (?:say|mention|contain))\b",
    re.IGNORECASE,
)


def _grounded(text: str, sources: Sequence[str]) -> bool:
    if _META.search(text.replace("’", "'")):
        return False
    return not unknown_numbers(text, sources) and not unknown_names(text, sources)


def _strip_wrapping(text: str) -> str:
    text = text.strip()
    text = re.sub(r"^(?:summary|answer)\s*:\s*", "", text, flags=re.IGNORECASE)
    if len(text) >= 2 and text[0] in "\"“'" and text[-1] in "\"”'":
        text = text[1:-1].strip()
    return text


def ground_summary(
    text: str, *, sources: Sequence[str], links: Sequence[str], max_chars: int
) -> str | None:
    """The model's summary made safe, or ``None`` when it is empty or states a number or a name
    that none of ``sources`` (the items' titles and summaries) has."""
    cleaned = clean_markup(_strip_wrapping(text), links)
    if len(cleaned) < 12 or not any(c.isalpha() for c in cleaned):
        return None
    if _CITATION.search(cleaned):
        cleaned = _SPACES.sub(" ", _CITATION.sub("", cleaned)).strip()
    if not _grounded(cleaned, sources):
        return None
    return shorten(cleaned, max_chars)


@dataclass(frozen=True, slots=True)
class GroundedAnswer:
    """An answer's text with ``[n]`` citations, and the developments it cites (1-based, in
    the order first cited)."""

    text: str
    cited: tuple[int, ...]


def ground_answer(
    text: str,
    *,
    sources: Sequence[str],
    links: Sequence[str],
    count: int,
    max_chars: int = 900,
) -> GroundedAnswer | None:
    """The model's answer made safe: citations outside 1..``count`` are dropped, and it is
    refused (``None``) when it cites nothing or states an unknown number or name."""
    cleaned = clean_markup(_strip_wrapping(text), links)
    cited: list[int] = []

    def keep(match: re.Match[str]) -> str:
        n = int(match.group(1))
        if 1 <= n <= count:
            if n not in cited:
                cited.append(n)
            return f"[{n}]"
        return ""

    cleaned = _SPACES.sub(" ", _CITATION.sub(keep, cleaned)).strip()
    cleaned = re.sub(r"\s+([.,;:!?])", r"\1", cleaned)
    if not cited or not any(c.isalpha() for c in cleaned):
        return None
    if not _grounded(_CITATION.sub(" ", cleaned), sources):
        return None
    return GroundedAnswer(text=shorten(cleaned, max_chars), cited=tuple(cited))
