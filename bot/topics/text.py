"""Text folding and tokenizing shared by the story gate, the topic tagger and topic lookup.

``fold`` makes two spellings of one word compare equal: it case-folds, strips diacritics from
Latin letters (``ł``→``l``, ``ż``→``z``, ``ü``→``u``, ``é``→``e``, ``ß``→``ss``), and unifies
apostrophes and dashes. Cyrillic and other scripts keep their letters (``й`` and ``ї`` carry
meaning there), except ``ё``, which is written ``е`` as often as not.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["fold", "tokens"]

_APOSTROPHES = "'‘’‚‛ʹʻʼʽ`´′＇"
_DASHES = "‐‑‒–—―−⁃﹘﹣－"

# Latin letters that carry no combining mark under NFKD, so stripping marks does not reach them.
_SPECIAL: dict[str, str] = {
    "ł": "l",
    "đ": "d",
    "ð": "d",
    "ø": "o",
    "æ": "ae",
    "œ": "oe",
    "þ": "th",
    "ħ": "h",
    "ı": "i",
    "ŀ": "l",
    "ŧ": "t",
    "ƒ": "f",
    "ё": "е",
}


def _is_latin_or_common(ch: str) -> bool:
    # Letters below U+0250 are Latin (basic, supplement, extended A and B); the rest of what NFKD
    # yields from them is digits and punctuation.
    return ord(ch) < 0x0250 or "\u1e00" <= ch <= "\u1eff"


class _FoldTable(dict[int, str]):
    """A ``str.translate`` table that works out each code point once, the first time it is met."""

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        out = self._fold_char(ch)
        self[code] = out
        return out

    @staticmethod
    def _fold_char(ch: str) -> str:
        if ch in _APOSTROPHES:
            return "'"
        if ch in _DASHES:
            return "-"
        if ch in _SPECIAL:
            return _SPECIAL[ch]
        if unicodedata.category(ch) == "Mn":
            # A loose combining mark (text that was not composed): drop it.
            return ""
        decomposed = unicodedata.normalize("NFKD", ch)
        if decomposed == ch:
            return ch
        base = "".join(c for c in decomposed if not unicodedata.combining(c))
        if base and all(_is_latin_or_common(c) for c in base):
            return "".join(_SPECIAL.get(c, c) for c in base)
        # A letter of another script with a mark that matters (й, ї): keep it whole.
        return ch


_TABLE = _FoldTable()


def fold(s: str) -> str:
    """Return ``s`` case-folded, without Latin diacritics, with one kind of apostrophe and dash."""
    if s.isascii():
        return s.casefold().replace("`", "'")
    s = unicodedata.normalize("NFC", s).casefold()
    return s.translate(_TABLE)


_WORD = re.compile(r"[^\W_]+")


def tokens(s: str) -> list[str]:
    """Split ``s`` into folded words: runs of letters and digits (apostrophes and dashes split)."""
    return _WORD.findall(fold(s))
