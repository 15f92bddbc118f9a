"""Fit the clusterer's pair model (bot/novelty/pair.py) on the labelled corpus.

    .venv/bin/python bench/fit_pair.py [--hold-out 2026-01-03] [--out FILE]

Every pair of labelled news reports at most 48 hours apart is one example: the features the
clusterer computes (bot.novelty.cluster.Clusterer.features), labelled "same event" when the two
carry one gold event. The development's age is that of the earlier report's event. Analysis
pieces are left out (they never start a development others join). Two logistic models are
fitted, with and without the sentence-embedding feature, and each one's threshold is the
probability that gives the best F1 over the training pairs. ``--hold-out DAY`` leaves out every
event whose first report falls on DAY (UTC), as ``bench/eval.py`` does for each fold. Without
``--out`` it writes the package's bot/novelty/pair_model.json.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from _corpus import ROOT, labelled_stream

from bot.novelty.cluster import Clusterer, ClusterItem, Vector, semantic_text
from bot.novelty.embed import Embedding, load_embedder
from bot.novelty.pair import (
    DEFAULT_PATH,
    FEATURES_WITH_MEANING,
    FEATURES_WORDS_ONLY,
    PairFeatures,
    PairModel,
    fit_logistic,
)

WINDOW_HOURS = 48
WRONG_JOIN_COST = 1.5


@dataclass
class Prepared:
    clusterer: Clusterer
    story: list[ClusterItem]
    events: list[str]
    vectors: list[Vector]
    first_day: dict[str, str]  # event: the UTC day of its first report
    first_at: dict[str, datetime]


def day_of(at: str) -> str:
    """The UTC day of a replay timestamp (the corpus writes them in UTC)."""
    return at[:10]


def prepare(rows: list[dict[str, Any]], gold: dict[str, Any], embeddings: bool) -> Prepared:
    clusterer = Clusterer()
    for row in rows:
        clusterer.observe(row["title"], row.get("summary", ""))
    story_rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    first_day: dict[str, str] = {}
    first_at: dict[str, datetime] = {}
    for row in sorted(rows, key=lambda r: r["at"]):
        event = gold.get(row["link"], {}).get("event")
        if not event:
            continue
        first_day.setdefault(event, day_of(row["at"]))
        first_at.setdefault(event, datetime.fromisoformat(row["at"]))
        if not event.startswith("analysis:") and row["link"] not in seen:
            seen.add(row["link"])
            story_rows.append(row)
    vectors: list[Embedding | None] = [None] * len(story_rows)
    embedder = load_embedder("auto") if embeddings else None
    if embedder is not None:
        texts = [semantic_text(r["title"], r.get("summary", "")) for r in story_rows]
        vectors = list(embedder.embed(texts))
    story = [
        ClusterItem(
            item_id=n,
            source_id=r["source"],
            link=r["link"],
            title=r["title"],
            summary=r.get("summary", ""),
            seen_at=datetime.fromisoformat(r["at"]),
            language=r.get("language"),
            embedding=e,
        )
        for n, (r, e) in enumerate(zip(story_rows, vectors, strict=True))
    ]
    return Prepared(
        clusterer=clusterer,
        story=story,
        events=[gold[r["link"]]["event"] for r in story_rows],
        vectors=[clusterer.vector(i.title, i.summary) for i in story],
        first_day=first_day,
        first_at=first_at,
    )


def pairs(
    prepared: Prepared, hold_out: str | None
) -> tuple[list[PairFeatures], list[bool], list[int]]:
    """The training pairs: features, same-event labels, and the later report of each pair."""
    rows: list[PairFeatures] = []
    labels: list[bool] = []
    later: list[int] = []
    p = prepared
    keep = [i for i, e in enumerate(p.events) if p.first_day[e] != hold_out]
    for a_pos, i in enumerate(keep):
        a = p.story[i]
        for j in keep[:a_pos]:
            b = p.story[j]
            if (a.seen_at - b.seen_at).total_seconds() > WINDOW_HOURS * 3600:
                continue
            features = p.clusterer.features(
                a, p.vectors[i], b, p.vectors[j], development_first_seen=p.first_at[p.events[j]]
            )
            if features.words < 0.05 and (features.meaning or 0.0) < 0.8:
                continue  # the clusterer does not score such pairs either
            rows.append(features)
            labels.append(p.events[i] == p.events[j])
            later.append(i)
    return rows, labels, later


def best_threshold(probabilities: list[float], labels: list[bool], later: list[int]) -> float:
    """The cut that decides best as the clusterer decides: each report joins the earlier one it
    is most likely to share an event with, when that probability reaches the cut. A join to a
    report of the same event is right, to another event wrong (an over-merge), and no join
    where one was possible is a miss (a duplicate). A wrong join costs 1.5 misses: it
    can lose an event's alert altogether, and later reports chain in behind it; the cut of the
    least cost wins."""
    best_of: dict[int, tuple[float, bool]] = {}
    can_join: set[int] = set()
    for q, y, i in zip(probabilities, labels, later, strict=True):
        if y:
            can_join.add(i)
        if i not in best_of or q > best_of[i][0]:
            best_of[i] = (q, y)
    best, at = float("inf"), 0.5
    for cut in [x / 100 for x in range(10, 96, 2)]:
        right = sum(1 for q, y in best_of.values() if q >= cut and y)
        wrong = sum(1 for q, y in best_of.values() if q >= cut and not y)
        missed = len(can_join) - right
        cost = WRONG_JOIN_COST * wrong + missed
        if cost < best:
            best, at = cost, cut
    return at


def fit(prepared: Prepared, hold_out: str | None) -> PairModel:
    features, labels, later = pairs(prepared, hold_out)
    words_rows = [f.vector() for f in features]
    for row in words_rows:
        row.pop("meaning", None)
    words_only = fit_logistic(words_rows, labels, FEATURES_WORDS_ONLY)
    words_cut = best_threshold([words_only.probability(r) for r in words_rows], labels, later)
    meaning_idx = [n for n, f in enumerate(features) if f.meaning is not None]
    if meaning_idx:
        m_rows = [features[n].vector() for n in meaning_idx]
        m_labels = [labels[n] for n in meaning_idx]
        m_later = [later[n] for n in meaning_idx]
        with_meaning = fit_logistic(m_rows, m_labels, FEATURES_WITH_MEANING)
        cut = best_threshold([with_meaning.probability(r) for r in m_rows], m_labels, m_later)
    else:
        with_meaning, cut = words_only, words_cut
    held = f"days other than {hold_out}" if hold_out else "all five days"
    return PairModel(
        with_meaning=with_meaning,
        words_only=words_only,
        threshold=cut,
        threshold_words_only=words_cut,
        note=(
            f"fitted by bench/fit_pair.py on news-2026-01, {held}: {len(labels)} pairs, "
            f"{sum(labels)} same-event"
        ),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hold-out", help="leave out the events first reported on this day")
    parser.add_argument("--out", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--embeddings", choices=("auto", "off"), default="auto")
    args = parser.parse_args()
    stream = labelled_stream()
    if stream is None:
        return 0
    rows, gold = stream
    model = fit(prepare(rows, gold, args.embeddings == "auto"), args.hold_out)
    args.out.write_text(model.to_json())
    shown = args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out
    print(f"{model.note}\nwrote {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
