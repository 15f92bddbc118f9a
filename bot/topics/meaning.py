"""Topics by meaning: a fitted linear model of an item's sentence embedding (pure; no I/O but
loading).

Aliases tag a topic when a report uses its words ("peace talks", "drone strike"). A report can
be about a topic in words no alias lists ("the two sides traded drafts", "a spy chief was
ousted"), and the embedding of its headline and lede places it near other reports of that kind.
For each topic the model holds a logistic regression over the embedding's dimensions: weights
that turn the embedding into the probability that the item is about the topic. It is fitted on
the labelled corpus with days held out (``bench/fit_topics.py``; ``make eval`` fits one per
held-out day) and kept in ``topic_model.json`` beside this module: numbers, no words, so it
names no event.

A model is fitted for one story (its id is in the file): a deployment that follows another
story tags by its aliases alone until it fits its own. The tagger combines the two kinds of
evidence: the alias topics stay, and a topic of the story the model gives at least its
threshold is added, at most ``MAX_TOPICS`` in all (the alias topics first, then the likeliest).
Without an embedding (no model installed, ``embeddings = "off"``) the alias topics are the
item's topics.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PATH = Path(__file__).with_name("topic_model.json")
MAX_TOPICS = 3


class TopicModelError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class TopicWeights:
    bias: float
    weights: tuple[float, ...]

    def probability(self, embedding: Sequence[float]) -> float:
        z = self.bias + math.fsum(w * x for w, x in zip(self.weights, embedding, strict=True))
        if z < -30:
            return 0.0
        return 1.0 / (1.0 + math.exp(-z))


@dataclass(frozen=True, slots=True)
class TopicModel:
    """One weight set per topic id, for embeddings of ``dimensions`` numbers, and one for
    "a piece about the news rather than news" (``analysis``)."""

    topics: Mapping[str, TopicWeights]
    dimensions: int
    threshold: float = 0.5
    note: str = ""
    analysis: TopicWeights | None = None
    analysis_threshold: float = 0.5
    story: str = ""  # the id of the story it was fitted for; "" for any

    def fits(self, story_id: str) -> bool:
        """Whether the model was fitted for this story (a deployment following another story
        tags by its aliases alone until it fits a model of its own)."""
        return not self.story or self.story == story_id

    def _analysis_probability(self, embedding: Sequence[float] | None) -> float:
        if embedding is None or self.analysis is None or len(embedding) != self.dimensions:
            return 0.0
        return self.analysis.probability(embedding)

    def is_analysis(self, embedding: Sequence[float] | None) -> bool:
        """Whether the model takes the item for analysis, opinion or a feature rather than a
        report of news (from ``analysis_threshold``)."""
        return self._analysis_probability(embedding) >= self.analysis_threshold

    def probabilities(self, embedding: Sequence[float]) -> dict[str, float]:
        """Each modelled topic's probability; none when the embedding is of another model."""
        if len(embedding) != self.dimensions:
            return {}
        return {topic: w.probability(embedding) for topic, w in self.topics.items()}

    def combine(
        self,
        word_topics: Sequence[str],
        embedding: Sequence[float] | None,
        order: Sequence[str],
    ) -> tuple[str, ...]:
        """The alias topics plus those the model gives at least its threshold, at most
        ``MAX_TOPICS`` (alias topics first), in the story's ``order``. An item the model finds
        more likely a piece about the news than news gets no topic by meaning: a topic channel
        hears of news, and its aliases still tag such an item."""
        kept = list(dict.fromkeys(word_topics))[:MAX_TOPICS]
        leans_analysis = self._analysis_probability(embedding) >= 0.5
        if embedding is not None and len(kept) < MAX_TOPICS and not leans_analysis:
            probabilities = self.probabilities(embedding)
            extra = sorted(
                (p, t)
                for t, p in probabilities.items()
                if p >= self.threshold and t not in kept and t in order
            )
            for _p, topic in reversed(extra):
                if len(kept) == MAX_TOPICS:
                    break
                kept.append(topic)
        rank = {t: n for n, t in enumerate(order)}
        return tuple(sorted(kept, key=lambda t: rank.get(t, len(rank))))

    def to_json(self) -> str:
        data: dict[str, object] = {
            "note": self.note,
            "story": self.story,
            "threshold": round(self.threshold, 4),
            "dimensions": self.dimensions,
            "topics": {
                topic: {"bias": round(w.bias, 5), "weights": [round(x, 5) for x in w.weights]}
                for topic, w in sorted(self.topics.items())
            },
        }
        if self.analysis is not None:
            data["analysis_threshold"] = round(self.analysis_threshold, 4)
            data["analysis"] = {
                "bias": round(self.analysis.bias, 5),
                "weights": [round(x, 5) for x in self.analysis.weights],
            }
        return json.dumps(data, separators=(",", ":")) + "\n"


def parse_topic_model(text: str) -> TopicModel:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise TopicModelError(f"not JSON: {e}") from e
    if not isinstance(data, dict):
        raise TopicModelError("the model must be a JSON object")
    dimensions = data.get("dimensions")
    threshold = data.get("threshold", 0.5)
    topics = data.get("topics")
    if not isinstance(dimensions, int) or dimensions <= 0:
        raise TopicModelError("dimensions must be a positive whole number")
    if not isinstance(threshold, int | float) or not 0 < threshold < 1:
        raise TopicModelError("threshold must be a number between 0 and 1")
    if not isinstance(topics, dict):
        raise TopicModelError("topics must be a table of topic ids")
    parsed = {str(t): _weights(f"topic {t!r}", e, dimensions) for t, e in topics.items()}
    analysis = data.get("analysis")
    analysis_threshold = data.get("analysis_threshold", 0.5)
    if not isinstance(analysis_threshold, int | float) or not 0 < analysis_threshold < 1:
        raise TopicModelError("analysis_threshold must be a number between 0 and 1")
    return TopicModel(
        topics=parsed,
        dimensions=dimensions,
        threshold=float(threshold),
        note=str(data.get("note", "")),
        analysis=None if analysis is None else _weights("analysis", analysis, dimensions),
        analysis_threshold=float(analysis_threshold),
        story=str(data.get("story", "")),
    )


def _weights(what: str, entry: object, dimensions: int) -> TopicWeights:
    if not isinstance(entry, dict):
        raise TopicModelError(f"{what}: a weight set must be a table")
    bias, weights = entry.get("bias"), entry.get("weights")
    if not isinstance(bias, int | float) or not isinstance(weights, list):
        raise TopicModelError(f"{what}: needs a bias and a list of weights")
    if len(weights) != dimensions or not all(isinstance(w, int | float) for w in weights):
        raise TopicModelError(f"{what}: needs {dimensions} numeric weights")
    return TopicWeights(float(bias), tuple(float(w) for w in weights))


def load_topic_model(path: Path | None = None) -> TopicModel:
    """The fitted model at ``path``, else the one shipped with the package."""
    return parse_topic_model((path or DEFAULT_PATH).read_text(encoding="utf-8"))
