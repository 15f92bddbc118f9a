"""The replay end to end, through the command line a user types, with assertions on POSTS.jsonl."""

import json
import os
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
CONFIG = ROOT / "config"


def replay_args(items: Path, scenario: Path, out: Path) -> list[str]:
    return [
        "replay",
        str(items),
        "--scenario",
        str(scenario),
        "--out",
        str(out),
        "--config",
        str(CONFIG),
    ]


def replay(items: Path, scenario: Path, out: Path, *extra: str) -> list[dict[str, Any]]:
    code = main([*replay_args(items, scenario, out), *extra])
    assert code == 0
    return [json.loads(line) for line in out.read_text().splitlines()]


def alerts_by_channel(posts: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for post in posts:
        if post["kind"] == "alert":
            out.setdefault(str(post["channel"]), []).append(post)
    return out


def test_one_alert_per_development_per_channel(tmp_path: Path) -> None:
    posts = replay(GOLDEN / "items.jsonl", GOLDEN / "scenario.toml", tmp_path / "posts.jsonl")
    alerts = alerts_by_channel(posts)
    assert {p["kind"] for p in posts} == {"alert", "briefing"}
    # The briefing-only channel gets its 08:00 briefing (the default time) and no alert.
    assert [p["channel"] for p in posts if p["kind"] == "briefing"] == ["mornings"]
    # The whole-story channel: the envoy trip, the NATO jets, the Donbas demand; once each.
    whole = alerts["all"]
    assert len(whole) == 3
    assert len({a["development"] for a in whole}) == 3
    heads = [str(a["text"]).splitlines()[0] for a in whole]
    assert heads[0].startswith("US envoy Witkoff to travel to Moscow")
    assert heads[1].startswith("NATO doubles air policing jets")
    assert heads[2].startswith("Kremlin repeats demand")
    # Topic channels get only their topic; the briefing-only channel gets no alerts.
    assert [a["development"] for a in alerts["nato-desk"]] == [whole[1]["development"]]
    assert [a["development"] for a in alerts["map-room"]] == [whole[2]["development"]]
    assert "mornings" not in alerts
    assert "nato" in alerts["nato-desk"][0]["topics"]
    assert (
        alerts["map-room"][0]["topics"] == ["territory"]
        or "territory" in alerts["map-room"][0]["topics"]
    )


def test_off_story_items_are_never_posted(tmp_path: Path) -> None:
    posts = replay(GOLDEN / "items.jsonl", GOLDEN / "scenario.toml", tmp_path / "posts.jsonl")
    text = "\n".join(str(p["text"]) + " ".join(map(str, p["sources"])) for p in posts)
    for off in ("Perth", "Georgia edges Armenia", "Chipmakers", "weatherdesk", "sportsdaily"):
        assert off not in text


def test_copies_and_edits_join_without_new_alerts(tmp_path: Path) -> None:
    posts = replay(GOLDEN / "items.jsonl", GOLDEN / "scenario.toml", tmp_path / "posts.jsonl")
    whole = alerts_by_channel(posts)["all"]
    # The aggregator's copy (08:20) came after the alert: the alert cites the first reporter.
    envoy = whole[0]
    assert envoy["sources"] == ["https://kyivwire.example/news/envoy-moscow-trip"]
    assert envoy["at"].startswith("2026-02-10T08:00")
    # Links are cited as the source gave them (never one the bot made); the edit at 10:05 made
    # no post.
    nato = whole[1]
    assert nato["sources"] == [
        "https://balticpost.example/nato-baltic-air-policing?utm_source=rss&utm_medium=feed"
    ]
    assert not any(p["at"].startswith("2026-02-10T10:10") for p in posts)


def test_polish_only_coverage_is_not_posted_in_an_english_deployment(tmp_path: Path) -> None:
    posts = replay(GOLDEN / "items.jsonl", GOLDEN / "scenario.toml", tmp_path / "posts.jsonl")
    assert not any("gazetawschod" in " ".join(map(str, p["sources"])) for p in posts)


ONE_ITEM = '{"at": "2026-01-01T00:00:00Z", "source": "s", "link": "https://x/1", "title": "t"}\n'


def _normalized(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Development ids are opaque: compare them by order of first appearance."""
    names: dict[object, str] = {}
    out = []
    for line in lines:
        line = dict(line)
        if line.get("development") is not None:
            line["development"] = names.setdefault(line["development"], f"D{len(names) + 1}")
        line["developments"] = [
            names.setdefault(d, f"D{len(names) + 1}") for d in line.get("developments", [])
        ]
        out.append(line)
    return out


def test_golden_replay_has_not_drifted(tmp_path: Path) -> None:
    """The contract, byte for byte (but development ids). After an intended change, rerun with
    BRIEFBOT_UPDATE_GOLDEN=1 and review the diff of tests/golden/posts.jsonl."""
    posts = replay(GOLDEN / "items.jsonl", GOLDEN / "scenario.toml", tmp_path / "posts.jsonl")
    expected_path = GOLDEN / "posts.jsonl"
    if os.environ.get("BRIEFBOT_UPDATE_GOLDEN"):
        expected_path.write_text((tmp_path / "posts.jsonl").read_text())
    expected = [json.loads(line) for line in expected_path.read_text().splitlines()]
    assert _normalized(posts) == _normalized(expected)


def test_replay_keeps_a_given_database(tmp_path: Path) -> None:
    db = tmp_path / "kept.db"
    replay(GOLDEN / "items.jsonl", GOLDEN / "scenario.toml", tmp_path / "p.jsonl", "--db", str(db))
    assert db.exists() and db.stat().st_size > 0


def test_baseline_items_are_never_alerted(tmp_path: Path) -> None:
    scenario = tmp_path / "s.toml"
    # Start after everything was published: every item is in its source's first-poll baseline.
    scenario.write_text(
        'start = "2026-02-10T12:00:00Z"\nend = "2026-02-10T13:00:00Z"\n'
        '[[channels]]\nid = "all"\ntopics = ["*"]\n'
    )
    posts = replay(GOLDEN / "items.jsonl", scenario, tmp_path / "posts.jsonl")
    assert posts == []


@pytest.mark.parametrize(
    ("items", "scenario", "message"),
    [
        (
            ONE_ITEM + "not json\n",
            '[[channels]]\nid = "a"\ntopics = ["*"]\n',
            "items.jsonl:2: not valid JSON",
        ),
        (
            '{"at": "2026-01-01T00:00:00Z", "source": "s", "link": "https://x/1"}\n',
            '[[channels]]\nid = "a"\ntopics = ["*"]\n',
            "items.jsonl:1: field 'title' is required",
        ),
        (
            '{"at": "yesterday", "source": "s", "link": "https://x/1", "title": "t"}\n',
            '[[channels]]\nid = "a"\ntopics = ["*"]\n',
            "items.jsonl:1: field 'at' must be an ISO-8601",
        ),
        (
            '{"at": "2026-01-01T00:00:00Z", "source": "s", "link": "https://x/1", "title": "t"}\n',
            '[[channels]]\nid = "a"\ntopics = ["natto"]\n',
            "unknown topic 'natto'; known topics: negotiations",
        ),
        (
            '{"at": "2026-01-01T00:00:00Z", "source": "s", "link": "https://x/1", "title": "t"}\n',
            'tick = "ten minutes"\n',
            "tick must look like 30s, 10m or 1h",
        ),
        (
            '{"at": "2026-01-01T00:00:00Z", "source": "s", "link": "https://x/1", "title": "t"}\n',
            "[[channels]\n",
            "not valid TOML",
        ),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], items: str, scenario: str, message: str
) -> None:
    (tmp_path / "items.jsonl").write_text(items)
    (tmp_path / "s.toml").write_text(scenario)
    code = main(replay_args(tmp_path / "items.jsonl", tmp_path / "s.toml", tmp_path / "p.jsonl"))
    assert code == 2
    assert message in capsys.readouterr().err


def test_a_file_that_is_not_utf8_is_refused_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "items.jsonl").write_bytes(
        ONE_ITEM.encode() + b'{"at": "2026-01-01T00:00:00Z", "source": "s", "link": "https://x/2",'
        b' "title": "t\xff"}\n'
    )
    (tmp_path / "s.toml").write_text('[[channels]]\nid = "a"\ntopics = ["*"]\n')
    args = replay_args(tmp_path / "items.jsonl", tmp_path / "s.toml", tmp_path / "p.jsonl")
    assert main(args) == 2
    assert "items.jsonl:2: not UTF-8 text" in capsys.readouterr().err
    (tmp_path / "items.jsonl").write_text(ONE_ITEM)
    (tmp_path / "s.toml").write_bytes(b'[[channels]]\nid = "\xff"\ntopics = ["*"]\n')
    assert main(args) == 2
    assert "s.toml: not UTF-8 text" in capsys.readouterr().err
