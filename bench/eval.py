"""Quality of the bot's alerts against the labelled corpus stream.

    make eval             (or: .venv/bin/python bench/eval.py [--diagnose] [--keep DIR])

Replays ../shared/corpus/news-2026-01/items.jsonl with one whole-story channel and one channel
per topic, and scores POSTS.jsonl with ../shared/eval/score.py against gold.json: first a
deployment with the default languages (en: the targets apply), then one that lists every
language the corpus carries (en, pl, de), scored on all of them and reported beside.
--diagnose lists the errors behind the figures: missed events, duplicate and over-merged
alerts, off-story alerts, split events, uncited story items. Skips cleanly (exit 0) without the
corpus; exits 1 when a target is missed.
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
from pathlib import Path
from typing import Any

from _corpus import ROOT, corpus_dir, replay_command, scorer_path, write_scenario

# The targets (the scorer's own thresholds are stricter on some metrics we do not
# produce yet, such as answers and briefings; they are not judged here).
TARGETS = (
    "off_story_alert_rate",
    "duplicate_alert_rate",
    "over_merged_alert_rate",
    "alert_recall",
    "topic_micro_f1",
    "bcubed_f1",
    "latency_p95_min",
    "foreign_links",
    "mention_injections",
)


def run_replay(items: Path, scenario: Path, out: Path, config: Path) -> float:
    cmd = replay_command(items, scenario, out, config)
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(proc.returncode)
    return time.perf_counter() - started


def score(
    items: Path, gold: Path, scenario: Path, posts: Path, languages: str, judged: bool
) -> tuple[int, dict[str, Any], str]:
    cmd = [
        sys.executable,
        str(scorer_path()),
        str(items),
        str(gold),
        str(scenario),
        str(posts),
        "--languages",
        languages,
        "--json",
    ]
    if judged:
        cmd += ["--only", ",".join(TARGETS)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    lines = proc.stdout.strip().splitlines()
    verdict = lines[-1] if lines else proc.stderr
    metrics = json.loads("\n".join(lines[:-1])) if len(lines) > 1 else {}
    return proc.returncode, metrics, verdict


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--diagnose", action="store_true", help="list the errors behind the figures"
    )
    parser.add_argument("--keep", type=Path, help="keep the scenario and posts in this folder")
    args = parser.parse_args()
    base = corpus_dir() / "news-2026-01"
    items, gold = base / "items.jsonl", base / "gold.json"
    if not items.exists() or not gold.exists() or not scorer_path().exists():
        print(f"eval: skipped, no corpus at {base} or no scorer at {scorer_path()}")
        return 0
    with tempfile.TemporaryDirectory(prefix="briefbot-eval-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        scenario = write_scenario(folder / "scenario.toml")
        posts = folder / "posts.jsonl"
        wall = run_replay(items, scenario, posts, ROOT / "config")
        code, en, verdict = score(items, gold, scenario, posts, "en", judged=True)
        multi = folder / "config-en-pl-de"
        shutil.copytree(ROOT / "config", multi, dirs_exist_ok=True)
        bot_toml = multi / "bot.toml"
        bot_toml.write_text(
            bot_toml.read_text().replace('languages = ["en"]', 'languages = ["en", "pl", "de"]')
        )
        posts_multi = folder / "posts-en-pl-de.jsonl"
        run_replay(items, scenario, posts_multi, multi)
        _, every, _ = score(items, gold, scenario, posts_multi, "en,pl,de", judged=False)
        print(
            f"replay of news-2026-01: {wall:.1f} s, {en.get('alerts')} alerts, "
            f"{en.get('updates')} updates"
        )
        print(f"{'metric':<26}{'target':>10}{'en':>10}{'en,pl,de':>10}   (languages posted in)")
        bounds = {
            "off_story_alert_rate": "<= 0.01",
            "duplicate_alert_rate": "<= 0.05",
            "over_merged_alert_rate": "<= 0.05",
            "alert_recall": ">= 0.90",
            "topic_micro_f1": ">= 0.80",
            "bcubed_f1": ">= 0.85",
            "latency_p95_min": "<= 20",
            "foreign_links": "<= 0",
            "mention_injections": "<= 0",
        }
        for key in (
            *TARGETS,
            "off_topic_alert_rate",
            "latency_p50_min",
            "gate_precision",
            "gate_recall",
            "bcubed_precision",
            "bcubed_recall",
            "expected_channel_events",
            "max_alert_chars",
        ):
            print(
                f"{key:<26}{bounds.get(key, ''):>10}{en.get(key, '-')!s:>10}"
                f"{every.get(key, '-')!s:>10}"
            )
        print(verdict)
        if args.diagnose:
            diagnose(items, gold, posts, {"en"})
    return 0 if code == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
