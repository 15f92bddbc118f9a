"""The bundled demo story: its shape follows the replay ITEMS format (docs: REPLAY.md)."""

from __future__ import annotations

import itertools
import json
import re
import tomllib
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

DEMO = Path(__file__).resolve().parents[1] / "bot" / "demo"
FIELDS = {
    "at",
    "source",
    "source_name",
    "source_url",
    "link",
    "guid",
    "title",
    "summary",
    "published",
    "language",
}
REQUIRED = {"at", "source", "link", "title"}
WINDOW = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 6, tzinfo=UTC))


def parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert parsed.tzinfo is not None, f"{value} has no time zone"
    return parsed.astimezone(UTC)


@pytest.fixture(scope="module")
def items() -> list[dict[str, Any]]:
    lines = (DEMO / "timeline.jsonl").read_text(encoding="utf-8").splitlines()
    parsed = []
    for number, line in enumerate(lines, start=1):
        assert line.strip(), f"line {number} is blank"
        value = json.loads(line)
        assert isinstance(value, dict), f"line {number} is not an object"
        parsed.append(value)
    return parsed


def test_the_story_is_big_enough_and_has_many_outlets(items: list[dict[str, Any]]) -> None:
    assert len(items) >= 45
    assert len({item["source"] for item in items}) >= 7


def test_every_item_has_valid_fields(items: list[dict[str, Any]]) -> None:
    for number, item in enumerate(items, start=1):
        assert REQUIRED <= item.keys() <= FIELDS, f"line {number}: {sorted(item)}"
        for key, value in item.items():
            assert isinstance(value, str) and value.strip(), f"line {number}: {key}"
        assert re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", item["source"]), item["source"]
        for key in ("link", "source_url"):
            if key in item:
                parts = urlsplit(item[key])
                assert parts.scheme == "https" and parts.hostname, f"line {number}: {key}"
        # made-up article addresses on the outlets' real domains, never real article paths
        assert "demo-" in urlsplit(item["link"]).path, f"line {number}: {item['link']}"
        if "language" in item:
            assert re.fullmatch(r"[a-z]{2}(?:-[A-Z]{2})?", item["language"]), item["language"]


def test_times_fall_in_the_first_five_days_of_2026_in_order(items: list[dict[str, Any]]) -> None:
    times = [parse_time(item["at"]) for item in items]
    assert times == sorted(times)
    assert all(WINDOW[0] <= t < WINDOW[1] for t in times)
    assert len({t.date() for t in times}) == 5
    for item, at in zip(items, times, strict=True):
        if "published" in item:
            assert parse_time(item["published"]) <= at, item["title"]


def test_each_outlet_keeps_one_name_and_feed_url(items: list[dict[str, Any]]) -> None:
    names: dict[str, set[str]] = defaultdict(set)
    feeds: dict[str, set[str]] = defaultdict(set)
    for item in items:
        names[item["source"]].add(item.get("source_name", item["source"]))
        feeds[item["source"]].add(item.get("source_url", ""))
    assert all(len(v) == 1 for v in names.values()), names
    assert all(len(v) == 1 for v in feeds.values()), feeds
    assert len({next(iter(v)) for v in feeds.values()}) == len(feeds)


def test_guids_are_unique_per_source_except_deliberate_edits(items: list[dict[str, Any]]) -> None:
    entries: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        entries[(item["source"], item.get("guid", item["link"]))].append(item)

    edits = {key: versions for key, versions in entries.items() if len(versions) > 1}
    assert len(edits) >= 2, "the demo should show corrected entries"
    for key, versions in edits.items():
        for before, after in itertools.pairwise(versions):
            assert after["link"] == before["link"], key
            assert parse_time(after["at"]) > parse_time(before["at"]), key
            assert (after["title"], after.get("summary")) != (
                before["title"],
                before.get("summary"),
            )
            # an edit corrects a figure
            assert re.findall(r"\d+", after["title"]) != re.findall(r"\d+", before["title"]), key

    links = Counter(item["link"] for item in items)
    repeated = {link for link, count in links.items() if count > 1}
    assert repeated == {versions[0]["link"] for versions in edits.values()}


def test_titles_are_not_repeated_across_outlets(items: list[dict[str, Any]]) -> None:
    firsts: dict[tuple[str, str], str] = {}
    for item in items:
        firsts.setdefault((item["source"], item.get("guid", item["link"])), item["title"])
    titles = Counter(t.casefold() for t in firsts.values())
    assert max(titles.values()) == 1


def test_scenario_is_one_console_channel_following_everything() -> None:
    scenario = tomllib.loads((DEMO / "scenario.toml").read_text(encoding="utf-8"))
    channels = scenario["channels"]
    assert len(channels) == 1
    assert channels[0]["id"] == "console"
    assert channels[0]["topics"] == ["*"]
    assert channels[0].get("mode", "alerts") == "alerts"
    assert not scenario.get("ask")
