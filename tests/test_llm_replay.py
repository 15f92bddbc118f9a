"""``briefbot replay`` with the LLM on, against the local fake: the alerts carry the model's
grounded summaries, hostile output never reaches a channel, and no alert is lost."""

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from fakes.openai_server import FakeOpenAI, Reply, ServerThread, data_lines

from bot.cli import main

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"


def _replay(config: Path, out: Path) -> list[dict[str, Any]]:
    args = ["replay", str(GOLDEN / "items.jsonl"), "--scenario", str(GOLDEN / "scenario.toml")]
    assert main([*args, "--out", str(out), "--config", str(config)]) == 0
    return [json.loads(line) for line in out.read_text().splitlines()]


def _config(tmp_path: Path, llm: str) -> Path:
    folder = tmp_path / "config"
    shutil.copytree(ROOT / "config", folder)
    with (folder / "bot.toml").open("a", encoding="utf-8") as f:
        f.write(llm)
    return folder


def _summaries(posts: list[dict[str, Any]]) -> dict[tuple[str, str], str]:
    return {
        (str(p["channel"]), str(p["development"])): str(p["text"]).splitlines()[1]
        for p in posts
        if p["kind"] == "alert"
    }


@pytest.fixture
def offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[tuple[str, str], str]:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "BRIEFBOT_LLM_MODEL"):
        monkeypatch.delenv(name, raising=False)
    posts = _replay(_config(tmp_path / "off", "\n[llm]\nenabled = false\n"), tmp_path / "off.jsonl")
    return _summaries(posts)


def _hostile(body: dict[str, Any]) -> Reply:
    first = data_lines(body)[0]
    return Reply(text=f"@everyone {first['title']}. More: https://evil.example/x <!channel>")


def _invented(body: dict[str, Any]) -> Reply:
    return Reply(text=f"{data_lines(body)[0]['title']}, with 98,765 troops.")


def test_replay_alerts_carry_the_models_grounded_summaries(
    tmp_path: Path, offline: dict[tuple[str, str], str]
) -> None:
    with ServerThread(FakeOpenAI(default=_hostile)) as server:
        llm = f'\n[llm]\nenabled = true\nbase_url = "{server.base_url}"\nmodel = "m"\n'
        posts = _replay(_config(tmp_path, llm), tmp_path / "posts.jsonl")
    summaries = _summaries(posts)
    assert summaries.keys() == offline.keys()  # the same alerts, none lost
    # One call per development and per edit of its items: never the same input twice.
    inputs = [json.dumps(data_lines(r.body), sort_keys=True) for r in server.requests]
    assert len(inputs) == len(set(inputs)) >= len({dev for _, dev in offline})
    for text in summaries.values():
        assert "@everyone" not in text and "<!channel>" not in text and "evil.example" not in text
    assert summaries != offline  # the model wrote them
    assert all(not text.endswith(":") for text in summaries.values())
    everything = "\n".join(str(p["text"]) for p in posts)
    assert "evil.example" not in everything and "@everyone" not in everything


def test_replay_falls_back_to_the_extractive_summaries_on_invented_numbers(
    tmp_path: Path, offline: dict[tuple[str, str], str]
) -> None:
    with ServerThread(FakeOpenAI(default=_invented)) as server:
        llm = f'\n[llm]\nenabled = true\nbase_url = "{server.base_url}"\nmodel = "m"\n'
        posts = _replay(_config(tmp_path, llm), tmp_path / "posts.jsonl")
    assert server.requests
    assert _summaries(posts) == offline
