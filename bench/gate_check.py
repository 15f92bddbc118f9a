"""Measure the story gate and the topic tagger against the labelled news stream.

    .venv/bin/python bench/gate_check.py [--topics config/topics.toml] [--corpus DIR] [--show N]

Reads ``items.jsonl`` and ``gold.json`` from the corpus folder (default
``/work/shared/corpus/news-2026-01``, or ``$BRIEFBOT_CORPUS``); an item is on the story when its
link is under gold ``items``. Prints gate precision and recall, topic micro-F1 over the items both
sides call on-story, and the time ``classify`` took. Skips cleanly when the corpus is absent.

A development aid, not a test: it reads data the project does not ship.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import sys
import time
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.domain import Story, Topic
from bot.topics.match import StoryMatcher

DEFAULT_CORPUS = Path("/work/shared/corpus/news-2026-01")
ROOT = Path(__file__).resolve().parent.parent

# A stand-in story, used only when config/topics.toml does not exist. "Russia", "Putin" and
# "Moscow" are left out on purpose: alone they put Venezuela and Greenland news on the story.
BUILTIN = Story(
    id="ukraine-peace",
    name="Russia–Ukraine war and peace talks",
    description="The war in Ukraine and the US-brokered talks to end it.",
    terms=(
        "Ukraine",
        "Kyiv",
        "Zelensky",
        "Kremlin",
        "Donbas",
        "Donetsk",
        "Luhansk",
        "Zaporizhzhia",
        "Kherson",
        "Kharkiv",
        "Odesa",
        "Crimea",
        "Dnipro",
        "Pokrovsk",
        "Huliaipole",
        "Budanov",
        "Yermak",
        "Umerov",
        "Sybiha",
        "Syrskyi",
        "Malyuk",
        "Shmyhal",
        "Svyrydenko",
        "Witkoff",
        "Kushner",
        "Dmitriev",
        "Lavrov",
        "Peskov",
        "coalition of the willing",
        "security guarantees",
        "shadow fleet",
    ),
    exclude=("Venezuela", "Maduro", "Greenland", "Caracas", "Olympics"),
    topics=(
        Topic(
            id="negotiations",
            name="Negotiations",
            description="Talks, envoys, drafts.",
            aliases=(
                "peace talk*",
                "peace plan",
                "peace deal",
                "envoy*",
                "negotiat*",
                "Witkoff",
                "Kushner",
                "ceasefire",
                "truce",
                "summit",
                "Dmitriev",
                "rozmow*",
                "pokoj*",
                "Frieden*",
                "Verhandl*",
            ),
        ),
        Topic(
            id="territory",
            name="Territory",
            description="Land, borders, occupation.",
            aliases=(
                "territor*",
                "Donbas",
                "occupied",
                "annex*",
                "front line",
                "withdraw*",
                "terytor*",
                "Gebiet*",
            ),
        ),
        Topic(id="nato", name="NATO", description="The alliance.", aliases=("Article 5", "Rutte")),
        Topic(
            id="security-guarantees",
            name="Security guarantees",
            description="Guarantees, peacekeepers.",
            aliases=(
                "guarantee*",
                "coalition of the willing",
                "peacekeep*",
                "reassurance force",
                "gwarancj*",
                "Sicherheitsgarantie*",
                "troops to Ukraine",
            ),
        ),
        Topic(
            id="sanctions",
            name="Sanctions",
            description="Sanctions, oil, frozen assets.",
            aliases=(
                "sanction*",
                "shadow fleet",
                "frozen assets",
                "oil",
                "Gazprom",
                "sankcj*",
                "Sanktion*",
                "Rosneft",
                "Lukoil",
                "refiner*",
            ),
        ),
        Topic(
            id="fighting",
            name="Fighting",
            description="Strikes and the front.",
            aliases=(
                "strike*",
                "drone*",
                "missile*",
                "attack*",
                "killed",
                "shelling",
                "troops",
                "offensive",
                "front",
                "dron*",
                "atak*",
                "Angriff*",
                "Drohne*",
                "killing",
                "wounded",
                "casualt*",
                "soldier*",
                "POW*",
                "prisoner*",
                "ostrzal*",
            ),
        ),
        Topic(
            id="kyiv-politics",
            name="Kyiv politics",
            description="Ukraine's government.",
            aliases=(
                "Budanov",
                "Yermak",
                "Umerov",
                "Syrskyi",
                "Malyuk",
                "Shmyhal",
                "Fedorov",
                "Svyrydenko",
                "reshuffle",
                "chief of staff",
                "SBU",
                "presidential office",
                "Zaluzhny",
                "resign*",
                "appoint*",
                "dymisj*",
                "minister*",
            ),
        ),
        Topic(
            id="europe",
            name="Europe",
            description="European decisions on Ukraine.",
            aliases=(
                "EU",
                "European",
                "Macron",
                "Merz",
                "Starmer",
                "Tusk",
                "Kallas",
                "Brussels",
                "Europ*",
            ),
        ),
    ),
)


def load_story(path: Path) -> Story:
    data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    s = data["story"]
    return Story(
        id=s["id"],
        name=s["name"],
        description=s.get("description", ""),
        terms=tuple(s.get("terms", ())),
        exclude=tuple(s.get("exclude", ())),
        topics=tuple(
            Topic(
                id=t["id"],
                name=t["name"],
                description=t.get("description", ""),
                aliases=tuple(t.get("aliases", ())),
            )
            for t in data.get("topics", ())
        ),
    )


_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


def plain(text: str) -> str:
    """Roughly what the bot's normalizer makes of a feed summary: text without markup."""
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", text or ""))).strip()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--topics", type=Path, default=ROOT / "config" / "topics.toml")
    ap.add_argument(
        "--corpus", type=Path, default=Path(os.environ.get("BRIEFBOT_CORPUS", DEFAULT_CORPUS))
    )
    ap.add_argument("--show", type=int, default=0, help="list this many misses of each kind")
    args = ap.parse_args(argv)

    items_path, gold_path = args.corpus / "items.jsonl", args.corpus / "gold.json"
    if not items_path.exists() or not gold_path.exists():
        print(f"skipped: no labelled corpus at {args.corpus}")
        return 0
    if args.topics.exists():
        story, origin = load_story(args.topics), str(args.topics)
    else:
        story, origin = BUILTIN, "built-in story (no topics file)"

    with items_path.open(encoding="utf-8") as fh:
        items = [json.loads(line) for line in fh if line.strip()]
    gold: dict[str, dict[str, Any]] = json.loads(gold_path.read_text(encoding="utf-8"))["items"]
    texts = [(plain(it["title"] or ""), plain(it.get("summary") or "")) for it in items]

    t0 = time.perf_counter()
    matcher = StoryMatcher(story)
    t1 = time.perf_counter()
    results = [matcher.classify(title, summary) for title, summary in texts]
    t2 = time.perf_counter()

    tp = fp = fn = 0
    topic_tp = topic_fp = topic_fn = 0
    per_topic: Counter[tuple[str, str]] = Counter()
    misses: list[tuple[str, dict[str, Any], Any]] = []
    for it, res in zip(items, results, strict=True):
        label = gold.get(it["link"])
        if res.on_story and label:
            tp += 1
            want, got = set(label["topics"]), set(res.topics)
            topic_tp += len(want & got)
            topic_fp += len(got - want)
            topic_fn += len(want - got)
            for t in want & got:
                per_topic[(t, "tp")] += 1
            for t in got - want:
                per_topic[(t, "fp")] += 1
            for t in want - got:
                per_topic[(t, "fn")] += 1
        elif res.on_story:
            fp += 1
            misses.append(("FP", it, res))
        elif label:
            fn += 1
            misses.append(("FN", it, res))

    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    tprec = topic_tp / (topic_tp + topic_fp) if topic_tp + topic_fp else 0.0
    trec = topic_tp / (topic_tp + topic_fn) if topic_tp + topic_fn else 0.0
    tf1 = 2 * tprec * trec / (tprec + trec) if tprec + trec else 0.0
    print(f"story: {origin}")
    print(f"items: {len(items)}, on-story in gold: {len(gold)}")
    print(f"gate: precision {precision:.3f}, recall {recall:.3f} (tp {tp}, fp {fp}, fn {fn})")
    print(f"topics (on items both call on-story): micro-F1 {tf1:.3f} (P {tprec:.3f}, R {trec:.3f})")
    for topic in story.topic_ids():
        a, b, c = (per_topic[(topic, k)] for k in ("tp", "fp", "fn"))
        print(f"  {topic:22} tp {a:4} fp {b:4} fn {c:4}")
    print(f"compile {1000 * (t1 - t0):.1f} ms, classify {1000 * (t2 - t1):.1f} ms for all items")
    if args.show:
        for kind in ("FP", "FN"):
            shown = [m for m in misses if m[0] == kind][: args.show]
            for _, it, res in shown:
                print(f"{kind} [{res.score:.0f}] {it['title'][:100]!r} {list(res.matched)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
