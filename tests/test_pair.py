"""The pair model: its features, its fit, its file."""

import json
import math
from pathlib import Path

import pytest

from bot.novelty.pair import (
    DEFAULT_PATH,
    PairFeatures,
    PairModelError,
    fit_logistic,
    load_pair_model,
    names,
    numbers,
    parse_pair_model,
)


def test_names_are_capitalized_words_not_opening_a_sentence() -> None:
    found = names("Envoy Harlan meets Kovalenko in Geneva. Talks resume Monday.")
    assert {"harla", "koval", "genev", "monda"} <= found
    assert "envoy" not in found and "talks" not in found


def test_names_meet_across_spellings_of_one_letter() -> None:
    assert names("He met Zełenski") & names("He met Zelenski")


def test_numbers_of_two_digits_or_more() -> None:
    assert numbers("A 300-strong force, 1,200 drones and 5 tanks") == {"300", "1200"}


def test_the_shipped_model_reads_and_prefers_closer_pairs() -> None:
    model = load_pair_model()
    assert 0.0 < model.threshold < 1.0
    near = PairFeatures(words=0.5, meaning=0.93, names=2, numbers=True, gap_hours=1, age_hours=1)
    far = PairFeatures(words=0.05, meaning=0.80, names=0, numbers=False, gap_hours=30, age_hours=40)
    assert model.probability(near) > model.threshold_for(near)
    assert model.probability(far) < model.threshold_for(far)
    # Without embeddings the words-only weights decide.
    words_only = PairFeatures(
        words=0.5, meaning=None, names=2, numbers=True, gap_hours=1, age_hours=1
    )
    assert model.probability(words_only) > model.threshold_for(words_only)


def test_a_story_that_moved_on_stops_absorbing() -> None:
    model = load_pair_model()
    young = PairFeatures(words=0.3, meaning=0.88, names=1, numbers=False, gap_hours=2, age_hours=2)
    old = PairFeatures(words=0.3, meaning=0.88, names=1, numbers=False, gap_hours=2, age_hours=40)
    assert model.probability(old) < model.probability(young)


def test_the_fit_recovers_a_known_logistic_rule() -> None:
    rows = [{"words": x / 50} for x in range(51)] * 4
    labels = [1 / (1 + math.exp(-(10 * r["words"] - 5))) > (k % 7) / 7 for k, r in enumerate(rows)]
    fitted = fit_logistic(rows, labels, ["words"], l2=0.01)
    assert fitted.weights["words"] > 3
    assert fitted.probability({"words": 0.9}) > 0.5 > fitted.probability({"words": 0.1})


def test_a_model_round_trips_and_bad_files_are_refused(tmp_path: Path) -> None:
    model = load_pair_model(DEFAULT_PATH)
    again = parse_pair_model(model.to_json())
    assert again.threshold == pytest.approx(model.threshold, abs=1e-4)
    with pytest.raises(PairModelError):
        parse_pair_model("[]")
    with pytest.raises(PairModelError):
        parse_pair_model(
            json.dumps(
                {
                    "with_meaning": {"bias": 0, "weights": {"colour": 1}},
                    "words_only": {"bias": 0, "weights": {}},
                }
            )
        )
