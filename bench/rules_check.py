"""What people write cannot be held out, so it is held to rules (issue 9), checked here:

    .venv/bin/python bench/rules_check.py        (run by bench/eval.py, that is `make eval`)

1. No term, alias or exemplar of config/topics.toml names a person, place or event found in only
   one labelled event of the corpus. A term is taken to be a name when the corpus writes it
   capitalized (four times in five or more, outside a sentence's first word); the standing
   actors, places and institutions of the story recur across events and pass.
2. No rule is keyed to a source or outlet: no source id, outlet name or outlet web address of
   config/sources.toml occurs in topics.toml or in the judging code (bot/novelty, bot/topics).

Exit 1 with the offending entries listed; exit 0 (and say so) when the corpus is absent for
rule 1 (rule 2 needs no corpus).
"""

from __future__ import annotations

import re
import sys
import tomllib
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlsplit

from _corpus import ROOT, labelled_stream

from bot.config import load_story
from bot.domain import Story, Topic
from bot.topics.match import StoryMatcher

NAME_SHARE = 0.8
# Standing institutions, roles and regions: named across events of any week, even where this corpus
# has only one labelled event that names them.
STANDING = frozenset(
    [
        *("european union", "president's office", "office of the president", "parliament"),
        *("security council", "foreign minister", "crimea", "krym*", "krim"),
    ]
)
JUDGING_CODE = ("bot/novelty", "bot/topics")


def vocabulary(story: Story) -> list[tuple[str, str]]:
    """(where, term) for every word list of the story."""
    out = [("terms", t) for t in story.terms]
    out += [("supporting", t) for t in story.supporting]
    out += [("other_stories", t) for t in story.other_stories]
    out += [("exclude", t) for t in story.exclude]
    for topic in story.topics:
        out += [(f"topics.{topic.id}", a) for a in topic.aliases]
    return out


def _capitalized_share(term: str, texts: list[str]) -> float:
    """How often the corpus writes each word of ``term`` with a capital, not at a sentence's
    start (the least of its words: "Russian air defence" is no name, "Putin's residence" is)."""
    shares = []
    for word in term.rstrip("*").replace("'s", "").split():
        stem = word[: max(len(word) - 1, 3)]
        pattern = re.compile(r"(?<![\w])" + re.escape(stem), re.IGNORECASE)
        upper = total = 0
        for text in texts:
            for m in pattern.finditer(text):
                before = text[: m.start()].rstrip()
                if not before or before[-1] in ".!?:\"'‘“":
                    continue
                total += 1
                upper += m.group(0)[0].isupper()
        shares.append(upper / total if total else 0.0)
    return min(shares, default=0.0)


def _sentence_case(title: str) -> str:
    """A headline in Title Case Capitalizes Every Word: it says nothing about names."""
    words = title.split()
    upper = sum(1 for w in words if w[:1].isupper())
    return "" if upper * 2 > len(words) else title + "."


def one_event_names(story: Story) -> list[str]:
    stream = labelled_stream()
    if stream is None:
        return []
    rows, gold = stream
    words = vocabulary(story)
    # One topic per term, so that one scan of each labelled item says which terms it carries.
    probe = Story(
        id=story.id,
        name=story.name,
        description=story.description,
        terms=("zzzz",),
        topics=tuple(
            Topic(id=f"t{n}", name=f"zzzz{n}", description="", aliases=(term,))
            for n, (_, term) in enumerate(words)
        ),
    )
    matcher = StoryMatcher(probe)
    events: dict[int, set[str]] = defaultdict(set)
    texts: dict[int, list[str]] = defaultdict(list)
    for row in rows:
        label = gold.get(row["link"])
        if not label or not label.get("event"):
            continue
        text = f"{row['title']}. {row.get('summary', '')}"
        english = str(row.get("language") or "en").startswith("en")
        for topic in matcher.topics_in(text):
            n = int(topic[1:])
            events[n].add(label["event"])
            if english:  # German capitalizes every noun: only English says what is a name
                texts[n].append(_sentence_case(row["title"]) + " " + row.get("summary", ""))
    found = []
    for n, (where, term) in enumerate(words):
        if term in STANDING:
            continue
        if len(events[n]) == 1 and _capitalized_share(term, texts[n]) >= NAME_SHARE:
            (event,) = events[n]
            found.append(f"{where}: {term!r} names only the labelled event {event}")
    return found


def outlet_rules(topics_file: Path) -> list[str]:
    with (ROOT / "config" / "sources.toml").open("rb") as f:
        sources = tomllib.load(f).get("sources", [])
    keys: set[str] = set()
    for s in sources:
        keys.add(s["id"])
        keys.add(s["name"])
        host = urlsplit(s["url"]).hostname or ""
        keys.add(host.removeprefix("www."))
    keys = {k for k in keys if len(k) >= 4}
    files = [topics_file, *(p for d in JUDGING_CODE for p in sorted((ROOT / d).glob("*.py")))]
    found = []
    for path in files:
        text = path.read_text(encoding="utf-8").casefold()
        for key in sorted(keys):
            if re.search(r"(?<![\w.-])" + re.escape(key.casefold()) + r"(?![\w-])", text):
                found.append(f"{path.relative_to(ROOT)}: names the source or outlet {key!r}")
    return found


def main() -> int:
    topics_file = ROOT / "config" / "topics.toml"
    story = load_story(topics_file)
    problems = one_event_names(story) + outlet_rules(topics_file)
    for line in problems:
        print(f"rules: {line}")
    if problems:
        print(f"rules check: {len(problems)} problem(s)")
        return 1
    print("rules check: no one-event names, no outlet rules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
