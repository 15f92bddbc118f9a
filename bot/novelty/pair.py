"""Same event or not: a small logistic model of a pair of reports (pure; no I/O but loading).

The clusterer asks, for a new report and each recent report of a development, how likely the
two report the same event. The answer is a calibrated probability from a logistic model of a
few features that carry to new wording and new weeks:

- ``words``: TF-IDF cosine of headline and lede (rare words weigh most),
- ``headline``: the same of the two headlines alone (what an editor chose to say first),
- ``meaning``: cosine of the two sentence embeddings (when both have one),
- ``names``: capitalized names the two share (people, places, institutions), capped at 3,
- ``numbers``: whether they share a number of two digits or more,
- ``gap``: hours between the two, log-scaled,
- ``age``: hours since the development's first report, log-scaled (a story that moved on
  stops absorbing reports).

The weights are fitted on the labelled corpus (``bench/fit_pair.py``, with days held out for
``make eval``) and kept in ``pair_model.json`` beside this module. There are two sets: one for
pairs where both reports have an embedding, one for words alone. ``threshold`` is the
probability from which a report joins; reports just under it are the unsure band a second
opinion can decide (the probability is in the clusterer's ``Assignment``).
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PATH = Path(__file__).with_name("pair_model.json")
FEATURES_WITH_MEANING = ("words", "headline", "meaning", "names", "numbers", "gap", "age")
FEATURES_WORDS_ONLY = ("words", "headline", "names", "numbers", "gap", "age")
NAME_CAP = 3

_NAME = re.compile(r"(?<![\w'’])([A-ZÀ-ÖØ-ÞĄĆĘŁŃÓŚŹŻ][\w'’\-]{2,})")
_NUMBER = re.compile(r"\b\d[\d,.]*\d\b")


def names(text: str, stem: int = 5) -> frozenset[str]:
    """Capitalized words of ``text`` that are not the first of a sentence, cut to ``stem``
    letters so that inflected or transliterated forms of one name meet."""
    out: set[str] = set()
    for sentence in re.split(r"(?<=[.!?:;])\s+|\n", text):
        for index, match in enumerate(_NAME.finditer(sentence)):
            if index == 0 and match.start() == 0:
                continue
            word = match.group(1)
            if word.isupper() and len(word) > 5:
                continue  # shouted words, not names
            out.add(_fold(word)[:stem])
    return frozenset(out)


def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("ł", "l")


def numbers(text: str) -> frozenset[str]:
    return frozenset(re.sub(r"[,.]", "", m.group(0)) for m in _NUMBER.finditer(text))


@dataclass(frozen=True, slots=True)
class PairFeatures:
    words: float
    meaning: float | None
    names: int
    numbers: bool
    gap_hours: float
    age_hours: float
    headline: float = 0.0  # TF-IDF cosine of the two headlines alone

    def vector(self) -> dict[str, float]:
        values = {
            "words": self.words,
            "headline": self.headline,
            "names": min(self.names, NAME_CAP) / NAME_CAP,
            "numbers": 1.0 if self.numbers else 0.0,
            "gap": math.log1p(max(self.gap_hours, 0.0)),
            "age": math.log1p(max(self.age_hours, 0.0)),
        }
        if self.meaning is not None:
            values["meaning"] = self.meaning
        return values


@dataclass(frozen=True, slots=True)
class Weights:
    bias: float
    weights: Mapping[str, float]

    def probability(self, values: Mapping[str, float]) -> float:
        z = self.bias + sum(w * values.get(name, 0.0) for name, w in self.weights.items())
        if z < -30:
            return 0.0
        return 1.0 / (1.0 + math.exp(-z))


@dataclass(frozen=True, slots=True)
class PairModel:
    with_meaning: Weights
    words_only: Weights
    threshold: float
    threshold_words_only: float
    note: str = ""

    def probability(self, features: PairFeatures) -> float:
        weights = self.words_only if features.meaning is None else self.with_meaning
        return weights.probability(features.vector())

    def threshold_for(self, features: PairFeatures) -> float:
        return self.threshold_words_only if features.meaning is None else self.threshold

    def to_json(self) -> str:
        def part(w: Weights) -> dict[str, object]:
            weights = {k: round(v, 5) for k, v in w.weights.items()}
            return {"bias": round(w.bias, 5), "weights": weights}

        return (
            json.dumps(
                {
                    "note": self.note,
                    "threshold": round(self.threshold, 4),
                    "threshold_words_only": round(self.threshold_words_only, 4),
                    "with_meaning": part(self.with_meaning),
                    "words_only": part(self.words_only),
                },
                indent=2,
            )
            + "\n"
        )


class PairModelError(ValueError):
    pass


def _weights(data: object, features: Sequence[str]) -> Weights:
    if not isinstance(data, dict):
        raise PairModelError("a weight set must be a table")
    weights = data.get("weights")
    bias = data.get("bias")
    if not isinstance(weights, dict) or not isinstance(bias, int | float):
        raise PairModelError("a weight set needs a bias and weights")
    unknown = set(weights) - set(features)
    if unknown:
        raise PairModelError(f"unknown features: {sorted(unknown)}")
    return Weights(bias=float(bias), weights={k: float(v) for k, v in weights.items()})


def parse_pair_model(text: str) -> PairModel:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise PairModelError(f"not JSON: {e}") from e
    if not isinstance(data, dict):
        raise PairModelError("the model must be a JSON object")
    threshold = data.get("threshold", 0.5)
    words_threshold = data.get("threshold_words_only", threshold)
    if not isinstance(threshold, int | float) or not isinstance(words_threshold, int | float):
        raise PairModelError("thresholds must be numbers")
    return PairModel(
        with_meaning=_weights(data.get("with_meaning"), FEATURES_WITH_MEANING),
        words_only=_weights(data.get("words_only"), FEATURES_WORDS_ONLY),
        threshold=float(threshold),
        threshold_words_only=float(words_threshold),
        note=str(data.get("note", "")),
    )


def load_pair_model(path: Path | None = None) -> PairModel:
    """The fitted model at ``path``, else the one shipped with the package."""
    return parse_pair_model((path or DEFAULT_PATH).read_text(encoding="utf-8"))


# --- fitting (used by bench/fit_pair.py; here so that tests can check it) -----------------------


def fit_logistic(
    rows: Sequence[Mapping[str, float]],
    labels: Sequence[bool],
    features: Sequence[str],
    *,
    l2: float = 1.0,
    iterations: int = 50,
) -> Weights:
    """Maximum-likelihood logistic weights with a light L2 penalty (Newton's method)."""
    names_ = list(features)
    k = len(names_) + 1
    beta = [0.0] * k
    xs = [[1.0, *(row.get(n, 0.0) for n in names_)] for row in rows]
    for _ in range(iterations):
        grad = [0.0] * k
        hess = [[0.0] * k for _ in range(k)]
        for x, y in zip(xs, labels, strict=True):
            z = sum(b * v for b, v in zip(beta, x, strict=True))
            p = 1.0 / (1.0 + math.exp(-max(min(z, 30.0), -30.0)))
            err = (1.0 if y else 0.0) - p
            w = p * (1 - p)
            for i in range(k):
                grad[i] += err * x[i]
                xi = w * x[i]
                for j in range(i, k):
                    hess[i][j] += xi * x[j]
        for i in range(1, k):
            grad[i] -= l2 * beta[i]
            hess[i][i] += l2
        for i in range(k):
            for j in range(i):
                hess[i][j] = hess[j][i]
        step = _solve(hess, grad)
        beta = [b + s for b, s in zip(beta, step, strict=True)]
        if max(abs(s) for s in step) < 1e-7:
            break
    return Weights(bias=beta[0], weights=dict(zip(names_, beta[1:], strict=True)))


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting (the systems here are 7 x 7)."""
    n = len(b)
    m = [[*row, b[i]] for i, row in enumerate(a)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        m[col], m[pivot] = m[pivot], m[col]
        if abs(m[col][col]) < 1e-12:
            continue
        for r in range(col + 1, n):
            f = m[r][col] / m[col][col]
            for c in range(col, n + 1):
                m[r][c] -= f * m[col][c]
    x = [0.0] * n
    for r in range(n - 1, -1, -1):
        if abs(m[r][r]) < 1e-12:
            continue
        x[r] = (m[r][n] - sum(m[r][c] * x[c] for c in range(r + 1, n))) / m[r][r]
    return x
