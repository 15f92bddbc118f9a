"""Where the shared corpus lives, for benchmark and evaluation scripts (never for tests)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from bot.config import load_story

ROOT = Path(__file__).resolve().parent.parent


def replay_command(items: Path, scenario: Path, out: Path, config: Path) -> list[str]:
    """``briefbot replay`` as a child process of this Python."""
    return [
        sys.executable,
        "-m",
        "bot",
        "replay",
        str(items),
        "--scenario",
        str(scenario),
        "--out",
        str(out),
        "--config",
        str(config),
    ]


def corpus_dir() -> Path:
    """``$BRIEFBOT_CORPUS``, else ``../shared/corpus`` beside the project."""
    return Path(os.environ.get("BRIEFBOT_CORPUS", ROOT.parent / "shared" / "corpus"))


def scorer_path() -> Path:
    return Path(os.environ.get("BRIEFBOT_SCORER", ROOT.parent / "shared" / "eval" / "score.py"))


def write_scenario(path: Path, tick: str = "10m") -> Path:
    """One whole-story channel and one channel per topic of the project's config/topics.toml."""
    story = load_story(ROOT / "config" / "topics.toml")
    lines = [f'tick = "{tick}"', "", "[[channels]]", 'id = "all"', 'topics = ["*"]']
    for topic in story.topic_ids():
        lines += ["", "[[channels]]", f'id = "topic-{topic}"', f'topics = ["{topic}"]']
    path.write_text("\n".join(lines) + "\n")
    return path


def labelled_stream() -> tuple[list[dict[str, Any]], dict[str, Any]] | None:
    """The rows of ``news-2026-01/items.jsonl`` and the gold labels of its items (``gold.json``'s
    ``items``), or None, having said so, when the corpus is absent."""
    folder = corpus_dir() / "news-2026-01"
    if not (folder / "items.jsonl").exists():
        print(f"skipped: no corpus at {folder}")
        return None
    rows = [json.loads(line) for line in (folder / "items.jsonl").open() if line.strip()]
    gold: dict[str, Any] = json.loads((folder / "gold.json").read_text())["items"]
    return rows, gold
