"""Measure the story gate and the topic tagger against the labelled news stream.

    .venv/bin/python bench/gate_check.py [--topics config/topics.toml] [--corpus DIR]
                                         [--show N] [--lang en,pl] [--show-topics]

Reads ``items.jsonl`` and ``gold.json`` from the corpus folder (default
``news-2026-01`` under ``$BRIEFBOT_CORPUS`` or ``../shared/corpus``); an item is on the story
when its link is under gold ``items``. Prints, per language (English first, the target) and for
all items: gate precision and recall, and topic micro-F1 over the items both sides call
on-story; then per-topic counts and the time ``classify`` took. ``--show`` lists gate misses
(with what fired: core terms, ``~supporting``, ``!other story``, ``#list``/``#digest``/
``#listing``), ``--show-topics`` the items whose topics differ from gold, both limited to
``--lang``. Skips cleanly when the corpus is absent.

A development aid, not a test: it reads data the project does not ship.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _corpus import corpus_dir

from bot.config import load_story
from bot.domain import Story, Topic
from bot.topics.match import Classification, StoryMatcher

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


_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


def plain(text: str) -> str:
    """Roughly what the bot's normalizer makes of a feed summary: text without markup."""
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", text or ""))).strip()


def _lang(item: dict[str, Any]) -> str:
    """The item's primary language subtag; items without one count as English (as the scorer
    does)."""
    return str(item.get("language") or "en").split("-")[0].lower()


@dataclass
class Tally:
    """Gate and topic counts over one group of items."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    topic_tp: int = 0
    topic_fp: int = 0
    topic_fn: int = 0
    per_topic: Counter[tuple[str, str]] = field(default_factory=Counter)

    def add(self, label: dict[str, Any] | None, res: Classification) -> None:
        if res.on_story and label:
            self.tp += 1
            want, got = set(label["topics"]), set(res.topics)
            self.topic_tp += len(want & got)
            self.topic_fp += len(got - want)
            self.topic_fn += len(want - got)
            for kind, topics in (("tp", want & got), ("fp", got - want), ("fn", want - got)):
                for t in topics:
                    self.per_topic[(t, kind)] += 1
        elif res.on_story:
            self.fp += 1
        elif label:
            self.fn += 1

    def line(self, name: str) -> str:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        tp_, tfp, tfn = self.topic_tp, self.topic_fp, self.topic_fn
        tprec = tp_ / (tp_ + tfp) if tp_ + tfp else 0.0
        trec = tp_ / (tp_ + tfn) if tp_ + tfn else 0.0
        tf1 = 2 * tprec * trec / (tprec + trec) if tprec + trec else 0.0
        return (
            f"{name:5} gate P {p:.3f} R {r:.3f} (tp {self.tp:3}, fp {self.fp:2}, fn {self.fn:2})"
            f" | topics F1 {tf1:.3f} (P {tprec:.3f}, R {trec:.3f})"
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--topics", type=Path, default=ROOT / "config" / "topics.toml")
    ap.add_argument("--corpus", type=Path, default=corpus_dir() / "news-2026-01")
    ap.add_argument("--show", type=int, default=0, help="list this many misses of each kind")
    ap.add_argument(
        "--lang", default="", help="list misses only for these languages (comma-separated)"
    )
    ap.add_argument(
        "--show-topics", action="store_true", help="list the items whose topics differ from gold"
    )
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

    tallies: dict[str, Tally] = {"all": Tally()}
    for it, res in zip(items, results, strict=True):
        label = gold.get(it["link"])
        tallies.setdefault(_lang(it), Tally()).add(label, res)
        tallies["all"].add(label, res)

    print(f"story: {origin}")
    print(f"items: {len(items)}, on-story in gold: {len(gold)}")
    order = sorted((k for k in tallies if k != "all"), key=lambda k: (k != "en", k))
    for name in (*order, "all"):
        print(tallies[name].line(name))
    print("topics by topic (all languages):")
    per_topic = tallies["all"].per_topic
    for topic in story.topic_ids():
        a, b, c = (per_topic[(topic, k)] for k in ("tp", "fp", "fn"))
        print(f"  {topic:22} tp {a:4} fp {b:4} fn {c:4}")
    print(f"compile {1000 * (t1 - t0):.1f} ms, classify {1000 * (t2 - t1):.1f} ms for all items")

    langs = {x for x in args.lang.split(",") if x}
    chosen = [
        (it, res) for it, res in zip(items, results, strict=True) if not langs or _lang(it) in langs
    ]
    if args.show:
        for kind in ("FP", "FN"):
            misses = [
                (it, res)
                for it, res in chosen
                if (res.on_story and it["link"] not in gold and kind == "FP")
                or (not res.on_story and it["link"] in gold and kind == "FN")
            ]
            for it, res in misses[: args.show]:
                print(f"{kind} [{res.score:.1f}] {it['title'][:100]!r} {list(res.matched)}")
    if args.show_topics:
        for it, res in chosen:
            label = gold.get(it["link"])
            if not (label and res.on_story) or set(label["topics"]) == set(res.topics):
                continue
            want, got = set(label["topics"]), set(res.topics)
            print(f"T {it['title'][:100]!r} +{sorted(got - want)} -{sorted(want - got)}")
            print(f"    {[m for m in res.matched if ':' in m]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
