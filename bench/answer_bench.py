"""Answer time on a store of 100,000 items: the 95th percentile must stay under 200 ms.

    make bench            (or: .venv/bin/python bench/answer_bench.py [--items N])

Builds a SQLite database of N items (default 100,000) over 30 days, a tenth of them on the
story and grouped into developments of one to five items with topics, then asks a mix of
questions (topics, time words, free-text search, none at all) through the same `Answerer` the
bot uses, and prints the median and 95th percentile. Needs no corpus: the items are generated.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.clock import ManualClock  # noqa: E402
from bot.config import load_story  # noqa: E402
from bot.domain import ChannelRef  # noqa: E402
from bot.services.answers import Answerer  # noqa: E402
from bot.store.sqlite import SqliteStore  # noqa: E402

NOW = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
_SENTENCE = (
    "envoy talks ceasefire strike drone missile sanctions oil tanker summit alliance border "
    "region city plant reactor minister president parliament vote aid package air defence "
    "front line offensive negotiators draft plan guarantees troops deployment coalition"
)
WORDS = _SENTENCE.split()
PLACES = ("Kharkiv", "Odesa", "Zaporizhzhia", "Donetsk", "Kherson", "Sumy", "Dnipro", "Lviv")
QUESTIONS = (
    "what's new on NATO?",
    "anything on territory since Monday",
    "latest on security guarantees",
    "what happened overnight?",
    "news about the Zaporizhzhia plant",
    "what did the envoy say this week",
    "sanctions in the last 3 days",
    "what's new",
    "anything on fighting yesterday",
    "europe and nato since 2026-03-25",
)


def build(path: Path, n_items: int) -> None:
    rng = random.Random(7)
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO sources (id, name, url, position, active) VALUES"
            " ('wire', 'The Wire', 'https://wire.example/rss', 0, 1)"
        )
        topics = ["negotiations", "territory", "nato", "security-guarantees", "sanctions"]
        topics += ["fighting", "kyiv-politics", "europe"]
        items = []
        developments = []
        pending: list[int] = []
        for n in range(n_items):
            item_id = n + 1
            at = NOW - timedelta(seconds=rng.uniform(0, 30 * 86400))
            title = " ".join(rng.choice(WORDS) for _ in range(8)) + " " + rng.choice(PLACES)
            on_story = n % 10 == 0
            dev = None
            if on_story:
                pending.append(item_id)
                if len(pending) >= rng.randint(1, 5):
                    dev = f"dev-{pending[0]}"
                    chosen = rng.sample(topics, rng.randint(1, 2))
                    developments.append(
                        (
                            dev,
                            at.isoformat(),
                            at.isoformat(),
                            title,
                            "",
                            json.dumps(chosen),
                            json.dumps(pending),
                        )
                    )
                    pending = []
            items.append(
                (
                    item_id,
                    "wire",
                    f"g{item_id}",
                    f"https://wire.example/{item_id}",
                    title,
                    "A report.",
                    at.isoformat(),
                    at.isoformat(),
                    f"h{item_id}",
                    "en",
                    int(on_story),
                    dev,
                    f"https://wire.example/{item_id}",
                )
            )
        db.executemany(
            "INSERT INTO items (id, source_id, guid, link, title, summary, published, first_seen,"
            " content_hash, language, on_story, development_id, url)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            items,
        )
        db.executemany(
            "INSERT INTO developments (id, first_seen, updated_at, title, summary, topics,"
            " item_ids) VALUES (?, ?, ?, ?, ?, ?, ?)",
            developments,
        )
        for dev_id, *_rest, item_ids in developments:
            db.executemany(
                "UPDATE items SET development_id = ? WHERE id = ?",
                [(dev_id, i) for i in json.loads(item_ids)],
            )


async def create_schema(path: Path) -> None:
    store = await SqliteStore.open(str(path))
    await store.close()


async def measure(path: Path, rounds: int) -> list[float]:
    store = await SqliteStore.open(str(path))
    story = load_story(ROOT / "config" / "topics.toml")
    answerer = Answerer(store=store, story=story, clock=ManualClock(NOW))
    channel = ChannelRef(platform="bench", workspace="w", channel="c")
    await store.subscribe(channel, ["nato", "territory"])
    timings: list[float] = []
    try:
        for question in QUESTIONS:  # warm the page cache once
            await answerer.answer(channel, question)
        for _ in range(rounds):
            for question in QUESTIONS:
                started = time.perf_counter()
                answer = await answerer.answer(channel, question)
                timings.append((time.perf_counter() - started) * 1000)
                assert answer.reply is not None
    finally:
        await store.close()
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="briefbot-answers-") as tmp:
        path = Path(tmp) / "bench.db"
        asyncio.run(create_schema(path))
        started = time.perf_counter()
        build(path, args.items)
        built = time.perf_counter() - started
        timings = sorted(asyncio.run(measure(path, args.rounds)))
    p50 = statistics.median(timings)
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(
        f"answers: {len(timings)} questions on {args.items:,} items (store built in {built:.1f} s):"
        f" median {p50:.1f} ms, p95 {p95:.1f} ms, max {timings[-1]:.1f} ms (target p95 < 200 ms)"
    )
    return 0 if p95 < 200 else 1


if __name__ == "__main__":
    raise SystemExit(main())
