"""Feed parsing throughput on the real-world corpus: ours against plain feedparser.

    make bench            (or: .venv/bin/python bench/parse_bench.py [--repeat N])

Parses every file of ../shared/corpus/realworld-feeds/ (200 real RSS/Atom documents) with
  - ``parse_feed``: what the bot runs, feedparser_rs plus our normalization (plain text, canonical
    links, guids, UTC dates, caps, de-duplication);
  - ``feedparser_rs`` alone with sanitizing off, to show what normalization costs;
  - ``feedparser.parse(io.BytesIO(body))``, plain feedparser with its defaults (the dev extra).
Prints files, entries, seconds, entries/s, the speed ratio to feedparser, and how many files each
failed on (ours: ``FeedError``; the others: an exception or a document they did not recognize).
Skips cleanly without the corpus. Bodies are read into memory first: this times parsing only.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from _corpus import corpus_dir

from bot.domain import FeedError
from bot.ingest.parse import parse_feed


@dataclass
class Row:
    name: str
    files: int
    entries: int
    seconds: float
    failed: int

    @property
    def rate(self) -> float:
        return self.entries / self.seconds if self.seconds else 0.0


def _ours(body: bytes, name: str) -> int | None:
    try:
        return len(parse_feed(body, url=f"https://feeds.example/{name}").entries)
    except FeedError:
        return None


def _feedparser_rs(body: bytes, name: str) -> int | None:
    import feedparser_rs

    result: Any = feedparser_rs.parse(body, sanitize_html=False, resolve_relative_uris=False)
    return len(result.entries) if result.version else None


def _feedparser(body: bytes, name: str) -> int | None:
    import feedparser

    try:
        result: Any = feedparser.parse(io.BytesIO(body))
    except Exception:
        return None
    if not result.get("version") and not result.entries:
        return None
    return len(result.entries)


def _run(
    name: str, fn: Callable[[bytes, str], int | None], docs: list[tuple[str, bytes]], repeat: int
) -> Row:
    best = float("inf")
    entries = failed = 0
    for _ in range(repeat):
        entries = failed = 0
        started = time.perf_counter()
        for doc_name, body in docs:
            n = fn(body, doc_name)
            if n is None:
                failed += 1
            else:
                entries += n
        best = min(best, time.perf_counter() - started)
    return Row(name=name, files=len(docs), entries=entries, seconds=best, failed=failed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of the fast parsers (best)")
    args = parser.parse_args()

    folder = corpus_dir() / "realworld-feeds"
    if not folder.is_dir():
        print(f"parse bench: skipped, no corpus at {folder}")
        return 0
    docs = [(p.name, p.read_bytes()) for p in sorted(folder.iterdir()) if p.is_file()]
    size_mb = sum(len(b) for _, b in docs) / 1e6
    print(f"parse bench: {len(docs)} files, {size_mb:.1f} MB from {folder}\n")

    rows = [
        _run("briefbot parse_feed", _ours, docs, args.repeat),
        _run("feedparser_rs alone", _feedparser_rs, docs, args.repeat),
    ]
    try:
        import feedparser  # noqa: F401
    except ImportError:
        print("feedparser is not installed (pip install -e '.[dev]'); its row is skipped\n")
        baseline = None
    else:
        baseline = _run("feedparser.parse", _feedparser, docs, 1)
        rows.append(baseline)

    header = f"{'parser':<22}{'files':>7}{'entries':>9}{'seconds':>10}{'entries/s':>12}"
    header += f"{'× feedparser':>14}{'failed':>8}"
    print(header)
    print("-" * len(header))
    for row in rows:
        ratio = f"{row.rate / baseline.rate:.1f}" if baseline and baseline.rate else "-"
        print(
            f"{row.name:<22}{row.files:>7}{row.entries:>9}{row.seconds:>10.3f}"
            f"{row.rate:>12,.0f}{ratio:>14}{row.failed:>8}"
        )
    print(
        "\nentries differ by design: parse_feed drops entries with neither link nor title and "
        "repeated guids."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
