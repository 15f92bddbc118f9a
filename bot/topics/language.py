"""A small, fast language guess for feed items that declare no language.

It knows the languages of the story's press: English, Polish, German, French, Spanish,
Ukrainian and Russian. Latin-script text is judged by its common short words (articles,
prepositions, conjunctions) and a few letters only one of those languages uses (``ł``, ``ß``,
``ñ``); Cyrillic text by the letters that tell Ukrainian (``і ї є ґ``) from Russian
(``ы э ъ ё``), then by common words. Too little text, or no clear winner, gives ``None``:
the caller then keeps whatever the feed declared, or nothing.
"""

from __future__ import annotations

import re

__all__ = ["detect_language", "primary_subtag"]

_MAX_CHARS = 2000  # enough to decide; the rest of a long text only costs time
_MIN_WORDS = 3
_MIN_SCORE = 1.5
_MARGIN = 1.5  # the winner's score must be this many times the runner-up's


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_STOPWORDS: dict[str, frozenset[str]] = {
    "en": _words(
        "the of and to in is are was were for on with that this it as at by from be has have "
        "had not but or an a its their his her they he she we i you my me our your after over "
        "about will would says said who what which how why new than more into do no so can up "
        "out all just now"
    ),
    "pl": _words(
        "i w z na nie się do że to jest od po za o a jak dla co ale przez są już oraz tak jego "
        "ich może był była było także który która które których tym przed pod czy też "
        "roku gdy bez nad we ze"
    ),
    "de": _words(
        "der die das und ist nicht ein eine einen dem den des mit sich auf für von zu in im "
        "ins an am um auch als bei nach wie aus wird werden hat haben sind noch nur über dass "
        "oder vor zum zur gegen es er sie wir ich bis seit ohne unter mehr was so"
    ),
    "fr": _words(
        "le la les des du un une et est dans pour que qui sur au aux pas par avec ce cette "
        "son sont ont été plus mais ou leur selon après entre contre lors a en"
    ),
    "es": _words(
        "el la los las del un una y es en por que con para se no al lo su sus como más pero "
        "fue son ha sobre tras entre este esta según desde a"
    ),
    "uk": _words(
        "і й та що це як від для не на за до про але його її вони він вона був була також "
        "які який яка після під час між україни україна"
    ),
    "ru": _words(
        "и что это как от для не на за до про но его ее её они он она был была также "
        "которые который которая после под время между россии россия"
    ),
}

# Letters that belong to one language among the seven (after lower-casing).
_LATIN_MARKS: dict[str, str] = {
    **dict.fromkeys("ąćęłńśźż", "pl"),
    **dict.fromkeys("äöüß", "de"),
    **dict.fromkeys("àâçèêëîïôûùœ", "fr"),
    **dict.fromkeys("ñ¿¡áíú", "es"),
}
_UK_LETTERS = frozenset("іїєґ")
_RU_LETTERS = frozenset("ыэъё")
_MARK_LETTERS = frozenset(_LATIN_MARKS)

# word -> the Latin-script languages that use it (a few words are shared: "la", "die", "en")
_LATIN_WORDS: dict[str, tuple[str, ...]] = {}
for _lang in ("en", "pl", "de", "fr", "es"):
    for _w in _STOPWORDS[_lang]:
        _LATIN_WORDS[_w] = (*_LATIN_WORDS.get(_w, ()), _lang)

_WORD = re.compile(r"[^\W\d_]+")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


def detect_language(text: str) -> str | None:
    """Return ``en``, ``pl``, ``de``, ``fr``, ``es``, ``uk`` or ``ru``, or ``None`` when unsure."""
    sample = text[:_MAX_CHARS].lower()
    words = _WORD.findall(sample)
    if len(words) < _MIN_WORDS:
        return None
    letters = sum(len(w) for w in words)
    if 2 * len(_CYRILLIC.findall(sample)) > letters:
        return _cyrillic(sample, words)
    return _latin(sample, words)


def _cyrillic(sample: str, words: list[str]) -> str | None:
    chars = set(sample)
    uk = len(chars & _UK_LETTERS)
    ru = len(chars & _RU_LETTERS)
    if uk and not ru:
        return "uk"
    if ru and not uk:
        return "ru"
    scores = {
        "uk": 2.0 * uk + sum(1 for w in words if w in _STOPWORDS["uk"]),
        "ru": 2.0 * ru + sum(1 for w in words if w in _STOPWORDS["ru"]),
    }
    return _winner(scores)


def _latin(sample: str, words: list[str]) -> str | None:
    scores = dict.fromkeys(("en", "pl", "de", "fr", "es"), 0.0)
    get = _LATIN_WORDS.get
    for w in words:
        langs = get(w)
        if langs:
            share = 1.0 / len(langs)  # "in" is English and German: half a point to each
            for lang in langs:
                scores[lang] += share
    # A language's own letters back up its words, each letter once; alone they prove little,
    # since names keep their accents in any language ("Nicolás", "Wałęsa", "Müller").
    for ch in set(sample) & _MARK_LETTERS:
        lang = _LATIN_MARKS[ch]
        scores[lang] += 1.0 if scores[lang] else 0.5
    return _winner(scores)


def _winner(scores: dict[str, float]) -> str | None:
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    (best, top), (_, second) = ranked[0], ranked[1]
    if top < _MIN_SCORE or top < _MARGIN * second:
        return None
    return best


_SUBTAG = re.compile(r"[A-Za-z]{2,3}")


def primary_subtag(lang: str | None) -> str | None:
    """The primary language subtag of a language tag, lower-cased: ``en-GB`` → ``en``.

    Accepts ``_`` as a separator (``pl_PL``). Returns ``None`` for ``None``, an empty tag or
    something that is not a language tag.
    """
    if not lang:
        return None
    head = re.split(r"[-_]", lang.strip(), maxsplit=1)[0]
    if not _SUBTAG.fullmatch(head):
        return None
    return head.lower()
