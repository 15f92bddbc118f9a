"""Wall time and peak memory of a full replay of the 5-day corpus stream.

    make bench            (or: .venv/bin/python bench/replay_bench.py)

Runs `briefbot replay` in a child process on ../shared/corpus/news-2026-01/items.jsonl with one
whole-story channel and one channel per topic, 10-minute ticks. Skips cleanly without the corpus.
Targets: under 60 s, peak resident memory under 300 MB.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _corpus import ROOT, corpus_dir, replay_command, write_scenario


def main() -> int:
    items = corpus_dir() / "news-2026-01" / "items.jsonl"
    if not items.exists():
        print(f"replay bench: skipped, no corpus at {items}")
        return 0
    with tempfile.TemporaryDirectory(prefix="briefbot-bench-") as tmp:
        scenario = write_scenario(Path(tmp) / "scenario.toml")
        out = Path(tmp) / "posts.jsonl"
        cmd = replay_command(items, scenario, out, ROOT / "config")
        started = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        wall = time.perf_counter() - started
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)
            return proc.returncode
        posts = [json.loads(line) for line in out.read_text().splitlines()]
    n_items = sum(1 for _ in items.open())
    kinds: dict[str, int] = {}
    for post in posts:
        kinds[post["kind"]] = kinds.get(post["kind"], 0) + 1
    print("full replay of news-2026-01 (5 days, 50 sources, 10-minute ticks, 9 channels)")
    print(f"  items            {n_items}")
    print(f"  posts            {len(posts)} {kinds}")
    print(f"  wall time        {wall:.1f} s   (target < 60 s)")
    print(f"  peak memory      {peak_mb:.0f} MB  (target < 300 MB)")
    print(f"  items per second {n_items / wall:.0f}")
    ok = wall < 60 and peak_mb < 300
    print("  result           " + ("PASS" if ok else "SHORT"))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
