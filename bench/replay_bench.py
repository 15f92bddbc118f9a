"""Wall time and peak memory of a full replay of the 5-day corpus stream.

    make bench            (or: .venv/bin/python bench/replay_bench.py)

Runs `briefbot replay` in a child process on ../shared/corpus/news-2026-01/items.jsonl with one
whole-story channel and one channel per topic, 10-minute ticks. Skips cleanly without the corpus.
Once by words alone (embeddings = "off"), once as configured (meaning too, where the
model is installed). Targets: under 60 s, at most 2x the words-only replay, peak resident
memory under 300 MB.
"""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _corpus import ROOT, corpus_dir, replay_command, write_scenario


def replay_once(items: Path, folder: Path, embeddings: str) -> tuple[float, float, list[Any]]:
    """One replay with ``[novelty] embeddings`` set: wall seconds, peak MB so far, posts."""
    config = folder / f"config-{embeddings}"
    shutil.copytree(ROOT / "config", config, dirs_exist_ok=True)
    bot_toml = config / "bot.toml"
    bot_toml.write_text(
        bot_toml.read_text().replace('embeddings = "auto"', f'embeddings = "{embeddings}"', 1)
    )
    scenario = write_scenario(folder / "scenario.toml")
    out = folder / f"posts-{embeddings}.jsonl"
    cmd = replay_command(items, scenario, out, config)
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr)
        raise SystemExit(proc.returncode)
    return wall, peak_mb, [json.loads(line) for line in out.read_text().splitlines()]


def main() -> int:
    items = corpus_dir() / "news-2026-01" / "items.jsonl"
    if not items.exists():
        print(f"replay bench: skipped, no corpus at {items}")
        return 0
    with tempfile.TemporaryDirectory(prefix="briefbot-bench-") as tmp:
        # Words alone first: the children's peak memory only grows, so the second figure is
        # the larger of the two (the embedding model's).
        words_wall, words_mb, _ = replay_once(items, Path(tmp), "off")
        wall, peak_mb, posts = replay_once(items, Path(tmp), "auto")
    n_items = sum(1 for _ in items.open())
    kinds: dict[str, int] = {}
    for post in posts:
        kinds[post["kind"]] = kinds.get(post["kind"], 0) + 1
    ratio = wall / words_wall
    print("full replay of news-2026-01 (5 days, 50 sources, 10-minute ticks, 9 channels)")
    print(f"  items            {n_items}")
    print(f"  posts            {len(posts)} {kinds}")
    print(f"  wall, words only {words_wall:.1f} s   (peak {words_mb:.0f} MB)")
    print(f"  wall time        {wall:.1f} s   (target < 60 s; with embeddings when installed)")
    print(f"  against words    {ratio:.2f}x  (target <= 2x)")
    print(f"  peak memory      {peak_mb:.0f} MB  (target < 300 MB)")
    print(f"  items per second {n_items / wall:.0f}")
    ok = wall < 60 and peak_mb < 300 and ratio <= 2.0
    print("  result           " + ("PASS" if ok else "SHORT"))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
