"""Quality of the bot's alerts against the labelled corpus stream, held out by day.

    make eval    (or: .venv/bin/python bench/eval.py [--quick] [--diagnose] [--keep DIR])

Replays ../shared/corpus/news-2026-01/items.jsonl (1-5 January 2026) with one whole-story
channel and one channel per topic, and scores the posts with ../shared/eval/score.py:

- **held out** (leave one day out): for each of the five days, the pair model
  (bench/fit_pair.py) and the topic model by meaning (bench/fit_topics.py, with embeddings) are
  fitted on the events first reported on the other four, the whole stream is replayed with
  that fit ([novelty] pair_model and topic_model in a copy of config/), and only the
  events first reported on the held-out day are scored, with the alerts about them (an alert
  counts for the fold of its main event; an off-story alert for the day of its first link).
  The five folds are pooled by renaming each fold's links and events apart and scoring them in
  one scorer run, so the pooled figure is the scorer's own; the spread is min-max over folds;
- **in sample**: the package's fit (all five days), the whole stream scored;
- both with sentence embeddings (the default deployment) and words alone
  (``embeddings = "off"``).

It runs bench/rules_check.py first (no week-of names in the vocabulary, no outlet rules).
Exits 1 when a pooled held-out figure of the default deployment misses a target of issue 9,
or the rules check fails; skips cleanly (exit 0) without the corpus. ``--quick`` skips the
words-only held-out folds. ``--diagnose`` lists the errors behind the in-sample figures.
"""

from __future__ import annotations

import argparse
import collections
import json
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from _corpus import ROOT, corpus_dir, replay_command, scorer_path, write_scenario
from fit_pair import day_of, fit, prepare
from fit_topics import fit as fit_topics
from fit_topics import pieces as topic_pieces

# Issue 9's targets, judged on the pooled held-out figures of the default deployment.
TARGETS: dict[str, tuple[str, float]] = {
    "alert_recall": (">=", 0.85),
    "duplicate_alert_rate": ("<=", 0.10),
    "over_merged_alert_rate": ("<=", 0.05),
    "off_story_alert_rate": ("<=", 0.02),
    "off_topic_alert_rate": ("<=", 0.10),
    "analysis_alert_rate": ("<=", 0.10),
    "topic_micro_f1": (">=", 0.75),
    "bcubed_f1": (">=", 0.80),
    "latency_p95_min": ("<=", 30),
    "foreign_links": ("<=", 0),
    "mention_injections": ("<=", 0),
}
SHOWN = (
    *TARGETS,
    "updates_per_alert",
    "latency_p50_min",
    "gate_precision",
    "gate_recall",
    "bcubed_precision",
    "bcubed_recall",
    "alerts",
    "expected_channel_events",
)
PARALLEL = 2  # replays at a time (the machine is shared)


def run_replay(items: Path, scenario: Path, out: Path, config: Path) -> float:
    cmd = replay_command(items, scenario, out, config)
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(proc.returncode)
    return time.perf_counter() - started


def score(items: Path, gold: Path, scenario: Path, posts: Path) -> dict[str, Any]:
    cmd = [sys.executable, str(scorer_path()), str(items), str(gold), str(scenario), str(posts)]
    proc = subprocess.run([*cmd, "--languages", "en", "--json"], capture_output=True, text=True)
    lines = proc.stdout.strip().splitlines()
    if len(lines) < 2:
        sys.stderr.write(proc.stderr)
        raise SystemExit("eval: the scorer gave no figures")
    metrics: dict[str, Any] = json.loads("\n".join(lines[:-1]))
    whole = [json.loads(line) for line in posts.open() if line.strip()]
    alerts = sum(1 for p in whole if p["channel"] == "all" and p["kind"] == "alert")
    updates = sum(1 for p in whole if p["channel"] == "all" and p["kind"] == "update")
    metrics["updates_per_alert"] = round(updates / max(alerts, 1), 3)
    return metrics


def config_copy(
    folder: Path, embeddings: str, pair_model: Path | None, topic_model: Path | None = None
) -> Path:
    """config/ with ``[novelty] embeddings`` (and ``pair_model``, ``topic_model``) set."""
    shutil.copytree(ROOT / "config", folder, dirs_exist_ok=True)
    bot_toml = folder / "bot.toml"
    text = bot_toml.read_text()
    line = f'embeddings = "{embeddings}"'
    if pair_model is not None:
        line += f'\npair_model = "{pair_model}"'
    if topic_model is not None:
        line += f'\ntopic_model = "{topic_model}"'
    bot_toml.write_text(text.replace('embeddings = "auto"', line, 1))
    return folder


class Folds:
    """Turns each fold's posts into files the scorer can pool: a fold's links and events are
    renamed apart (``#fold<day>``), and only its held-out events and their alerts are kept."""

    def __init__(self, rows: list[dict[str, Any]], gold: dict[str, Any]) -> None:
        self.rows = rows
        self.gold = gold
        self.at = {r["link"]: r["at"] for r in rows}
        self.first_day: dict[str, str] = {}
        for r in sorted(rows, key=lambda r: r["at"]):
            event = gold["items"].get(r["link"], {}).get("event")
            if event:
                self.first_day.setdefault(event, day_of(r["at"]))
        self.days = sorted(set(self.first_day.values()))

    def _event(self, link: str) -> str | None:
        event: str | None = self.gold["items"].get(link, {}).get("event")
        return event

    def kept(self, post: dict[str, Any], day: str) -> bool:
        events = [e for e in map(self._event, post.get("sources", [])) if e]
        if not events:
            first = post.get("sources", [""])[0] if post.get("sources") else ""
            return day_of(self.at.get(first, "")) == day
        news = [e for e in events if not e.startswith("analysis:")]
        main = collections.Counter(news or events).most_common(1)[0][0]
        return self.first_day.get(main) == day

    def write(self, folds: list[tuple[str, Path]], out: Path) -> tuple[Path, Path, Path]:
        """Items, gold and posts of ``folds`` ((day, posts file) pairs) pooled in ``out``."""
        out.mkdir(parents=True, exist_ok=True)
        items, gold_path, posts = out / "items.jsonl", out / "gold.json", out / "posts.jsonl"
        gold: dict[str, Any] = {"events": {}, "items": {}}
        with items.open("w") as fi, posts.open("w") as fp:
            for day, path in folds:
                tag = f"#fold{day}"
                for r in self.rows:
                    fi.write(json.dumps({**r, "link": r["link"] + tag}) + "\n")
                for event, info in self.gold["events"].items():
                    if self.first_day.get(event) == day:
                        gold["events"][event + tag] = info
                for link, info in self.gold["items"].items():
                    event = info.get("event")
                    if event and self.first_day.get(event) == day:
                        gold["items"][link + tag] = {**info, "event": event + tag}
                for line in path.open():
                    post = json.loads(line)
                    if post.get("kind") not in ("alert", "update") or not self.kept(post, day):
                        continue
                    post["sources"] = [s + tag for s in post.get("sources", [])]
                    post["development"] = f"{post.get('development')}{tag}"
                    fp.write(json.dumps(post) + "\n")
        gold_path.write_text(json.dumps(gold))
        return items, gold_path, posts


def judged(metrics: dict[str, Any]) -> list[str]:
    missed = []
    for key, (op, bound) in TARGETS.items():
        value = metrics.get(key)
        if value is None or (value < bound if op == ">=" else value > bound):
            missed.append(f"{key}={value} (want {op} {bound:g})")
    return missed


def rules_ok() -> bool:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "rules_check.py")], cwd=ROOT, text=True
    )
    return proc.returncode == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="no words-only held-out folds")
    parser.add_argument("--diagnose", action="store_true", help="list the in-sample errors")
    parser.add_argument("--keep", type=Path, help="keep the replays and fits in this folder")
    args = parser.parse_args()
    base = corpus_dir() / "news-2026-01"
    items, gold_file = base / "items.jsonl", base / "gold.json"
    if not items.exists() or not gold_file.exists() or not scorer_path().exists():
        print(f"eval: skipped, no corpus at {base} or no scorer at {scorer_path()}")
        return 0
    rules = rules_ok()
    rows = [json.loads(line) for line in items.open() if line.strip()]
    gold = json.loads(gold_file.read_text())
    folds = Folds(rows, gold)
    with tempfile.TemporaryDirectory(prefix="briefbot-eval-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        scenario = write_scenario(folder / "scenario.toml")
        prepared = prepare(rows, gold["items"], embeddings=True)
        fits: dict[str, Path] = {}
        topic_fits: dict[str, Path] = {}
        event_topics = {e: list(v.get("topics", [])) for e, v in gold["events"].items()}
        analysis_pieces = topic_pieces(rows, gold["items"])
        for day in folds.days:
            fits[day] = folder / f"pair-model-without-{day}.json"
            fits[day].write_text(fit(prepared, day).to_json())
            if any(i.embedding is not None for i in prepared.story):
                topic_fits[day] = folder / f"topic-model-without-{day}.json"
                topic_fits[day].write_text(
                    fit_topics(prepared, event_topics, day, analysis_pieces).to_json()
                )
        modes = ("auto", "off")
        jobs: list[tuple[str, str, Path, Path]] = []  # (mode, day or "", config, posts)
        for mode in modes:
            config = config_copy(folder / f"config-{mode}", mode, None)
            jobs.append((mode, "", config, folder / f"posts-{mode}-in-sample.jsonl"))
            if mode == "off" and args.quick:
                continue
            for day in folds.days:
                config = config_copy(
                    folder / f"config-{mode}-{day}", mode, fits[day], topic_fits.get(day)
                )
                jobs.append((mode, day, config, folder / f"posts-{mode}-{day}.jsonl"))
        started = time.perf_counter()
        with ThreadPoolExecutor(PARALLEL) as pool:
            walls = list(pool.map(lambda job: run_replay(items, scenario, job[3], job[2]), jobs))
        print(
            f"{len(jobs)} replays of news-2026-01 in {time.perf_counter() - started:.0f} s "
            f"(one takes {min(walls):.0f}-{max(walls):.0f} s), {PARALLEL} at a time"
        )
        table: dict[str, dict[str, Any]] = {}
        spread: dict[str, dict[str, tuple[float, float]]] = {}
        for mode in modes:
            in_sample = next(j[3] for j in jobs if j[0] == mode and not j[1])
            table[f"in-sample {mode}"] = score(items, gold_file, scenario, in_sample)
            held = [(j[1], j[3]) for j in jobs if j[0] == mode and j[1]]
            if not held:
                continue
            pooled = folds.write(held, folder / f"pooled-{mode}")
            table[f"held-out {mode}"] = score(*pooled[:2], scenario, pooled[2])
            per_fold = []
            for day, path in held:
                one = folds.write([(day, path)], folder / f"fold-{mode}-{day}")
                per_fold.append(score(*one[:2], scenario, one[2]))
            spread[mode] = {
                key: (
                    min(float(m.get(key, 0)) for m in per_fold),
                    max(float(m.get(key, 0)) for m in per_fold),
                )
                for key in SHOWN
            }
        columns = [
            c
            for c in ("held-out auto", "in-sample auto", "held-out off", "in-sample off")
            if c in table
        ]
        print("embeddings: auto = words and meaning (default), off = words alone")
        header = f"{'metric':<24}{'target':>8}"
        for c in columns:
            header += f"{c:>16}"
            if c.startswith("held-out"):
                header += f"{'folds min-max':>16}"
        print(header)
        for key in SHOWN:
            op, bound = TARGETS.get(key, ("", 0))
            line = f"{key:<24}{(op + ' ' + format(bound, 'g')) if op else '':>8}"
            for c in columns:
                line += f"{table[c].get(key, '-')!s:>16}"
                if c.startswith("held-out"):
                    low, high = spread[c.split()[1]][key]
                    line += f"{f'{low:g}-{high:g}':>16}"
            print(line)
        missed = judged(table["held-out auto"])
        print(("SHORT: " + "; ".join(missed)) if missed else "PASS (pooled held-out, default)")
        if not rules:
            print("SHORT: bench/rules_check.py found rules keyed to one event or outlet")
        if args.diagnose:
            diagnose(items, gold_file, next(j[3] for j in jobs if j[0] == "auto"), {"en"})
    return 0 if rules and not missed else 1


def diagnose(items_path: Path, gold_path: Path, posts_path: Path, languages: set[str]) -> None:
    items = {i["link"]: i for i in map(json.loads, items_path.open())}
    gold = json.loads(gold_path.read_text())
    g_items, g_events = gold["items"], gold["events"]
    posts = [json.loads(line) for line in posts_path.open()]

    def event_of(link: str) -> str | None:
        return g_items.get(link, {}).get("event")

    def lang_ok(link: str) -> bool:
        return (items[link].get("language") or "en").split("-")[0].lower() in languages

    def title(link: str) -> str:
        item = items.get(link, {})
        return f"[{item.get('source', '?')}] {item.get('title', link)[:110]}"

    whole = [p for p in posts if p["channel"] == "all" and p["kind"] in ("alert", "update")]
    alerts = [p for p in whole if p["kind"] == "alert"]
    expected = {
        e
        for e in g_events
        if not e.startswith("analysis:")
        and any(v["event"] == e and lang_ok(k) for k, v in g_items.items())
    }
    alerted: collections.Counter[str] = collections.Counter()
    print("\n== off-story alerts (whole-story channel)")
    for a in alerts:
        evs = [e for e in map(event_of, a["sources"]) if e]
        if not evs:
            print("  ", title(a["sources"][0]))
            continue
        news = [e for e in evs if not e.startswith("analysis:")]
        main = collections.Counter(news or evs).most_common(1)[0][0]
        alerted[main] += 1
        if len(set(news)) >= 2:
            print("== over-merged:", sorted(set(news)))
            for link in a["sources"]:
                print("     ", event_of(link), title(link))
    print("\n== duplicate alerts (event: count)")
    for e, n in alerted.items():
        if n > 1 and not e.startswith("analysis:"):
            print(f"   {e}: {n}")
            for a in alerts:
                if e in map(event_of, a["sources"]):
                    print("      ", title(a["sources"][0]))
    print("\n== missed events")
    for e in sorted(expected - set(alerted)):
        links = [k for k, v in g_items.items() if v["event"] == e and lang_ok(k)]
        print(f"   {e} ({len(links)} items)")
        for link in links[:3]:
            print("      ", title(link))
    cited = {link for p in whole for link in p["sources"]}
    split = collections.defaultdict(set)
    for p in whole:
        for link in p["sources"]:
            e = event_of(link)
            if e:
                split[e].add(p["development"])
    print("\n== gold events split over several developments")
    for e, devs in sorted(split.items()):
        if len(devs) > 1:
            print(f"   {e}: {len(devs)} developments")
    uncited = [k for k, v in g_items.items() if lang_ok(k) and k not in cited]
    print(f"\n== story items never cited in the whole-story channel: {len(uncited)}")
    for link in uncited[:40]:
        print("      ", g_items[link]["event"], title(link))


if __name__ == "__main__":
    raise SystemExit(main())
