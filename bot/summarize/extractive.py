"""The offline summarizer: picks sentences from the development's own items. No network, no model.

It never writes a word the sources did not write, and drops URLs and mentions from what it takes.
"""

from __future__ import annotations

import re

from bot.ingest.normalize import without_boilerplate
from bot.ports import SummaryInput
from bot.services.render import scrub, shorten

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[\"'“‘(\[]?[A-ZÀ-ÝĄĆĘŁŃÓŚŹŻА-ЯІЇЄ0-9])")


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def _same_words(a: str, b: str) -> bool:
    fold = re.compile(r"\W+")
    return fold.sub(" ", a.casefold()).strip() == fold.sub(" ", b.casefold()).strip()


class ExtractiveSummarizer:
    """Lead sentences of the development's most informative item, within ``max_chars``."""

    async def summarize(self, development: SummaryInput) -> str:
        return summarize_extractive(development)


def summarize_extractive(development: SummaryInput) -> str:
    limit = development.max_chars
    best = ""
    for item in development.items:
        summary = scrub(without_boilerplate(item.summary))
        if summary and not _same_words(summary, item.title) and len(summary) > len(best):
            best = summary
            if len(best) >= limit:
                break
    if not best:
        return shorten(scrub(development.title), limit)
    picked: list[str] = []
    length = 0
    for sentence in sentences(best):
        extra = len(sentence) + (1 if picked else 0)
        if picked and length + extra > limit:
            break
        picked.append(sentence)
        length += extra
        if length >= limit * 0.6:
            break
    return shorten(" ".join(picked), limit)
