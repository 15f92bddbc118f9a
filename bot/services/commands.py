"""The platform-neutral command language: the console types it, Slack's ``/brief`` and Discord's
``/brief`` group will speak it too. Parsing is pure; ``CommandService`` carries commands out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.domain import STAR, ChannelRef, Development, Source, Story
from bot.ports import Clock, Store
from bot.services.render import join_names, neutralize, scrub, shorten
from bot.topics.match import resolve_topic

VERBS = ("subscribe", "unsubscribe", "topics", "subscriptions", "whatsnew", "sources", "help")
_SYNONYMS = {
    "sub": "subscribe",
    "follow": "subscribe",
    "unsub": "unsubscribe",
    "unfollow": "unsubscribe",
    "subs": "subscriptions",
    "list": "subscriptions",
    "new": "whatsnew",
    "news": "whatsnew",
    "latest": "whatsnew",
    "feeds": "sources",
    "?": "help",
}
# Leading words a user or platform may put before the command.
_PREFIX = re.compile(r"^\s*(?:/brief\b|@briefbot\b|<@[!&]?[A-Za-z0-9]+>|briefbot\b)[\s,:]*", re.I)
_WHATS_NEW = re.compile(r"^what(?:'|’)?s\s+new\b\s*(?:on|about|in|for)?\s*", re.I)
MAX_ARGS = 20
MAX_INPUT = 2000


@dataclass(frozen=True, slots=True, kw_only=True)
class Command:
    verb: str  # one of VERBS
    args: tuple[str, ...] = ()
    unknown: str | None = None  # what the user typed when it was not a command


def parse_command(text: str) -> Command:
    """Read one line of user input as a command. Never raises: garbage becomes ``help``."""
    text = text[:MAX_INPUT].strip()
    text = _PREFIX.sub("", text, count=1).strip()
    text = _WHATS_NEW.sub("whatsnew ", text, count=1)
    words = [w.strip(",;?!.") for w in text.split()]
    words = [w for w in words if w]
    if not words:
        return Command(verb="help")
    head = words[0].casefold()
    head = _SYNONYMS.get(head, head)
    if head not in VERBS:
        return Command(verb="help", unknown=shorten(" ".join(words), 80))
    return Command(verb=head, args=tuple(words[1 : MAX_ARGS + 1]))


HELP = """\
Commands:
  subscribe <topic…|*>    follow topics (or * for the whole story) in this channel
  unsubscribe <topic…|*>  stop following them
  topics                  the topics you can follow
  subscriptions           what this channel follows
  whatsnew [topic]        recent developments, newest first, with links
  sources                 the feeds the bot reads and their health
  help                    this list"""


def _phrase(words: Sequence[str]) -> str:
    return " ".join(w.casefold().strip(".,;:!?") for w in words)


def _ago(then: datetime, now: datetime) -> str:
    seconds = max(int((now - then).total_seconds()), 0)
    if seconds < 90:
        return "just now"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min ago"
    if seconds < 36 * 3600:
        return f"{round(seconds / 3600)} h ago"
    return f"{round(seconds / 86400)} days ago"


class CommandService:
    def __init__(
        self, *, store: Store, story: Story, clock: Clock, whatsnew_limit: int = 8
    ) -> None:
        self._store = store
        self._story = story
        self._clock = clock
        self._limit = whatsnew_limit
        # Every way of naming a topic in several words, folded: "politics in kyiv" -> id.
        self._names: dict[str, str] = {}
        for topic in story.topics:
            for name in (topic.id, topic.name, *topic.aliases):
                key = _phrase(name.rstrip("*").replace("-", " ").split())
                if " " in key:
                    self._names.setdefault(key, topic.id)

    async def handle(self, channel: ChannelRef, text: str) -> str:
        command = parse_command(text)
        if command.verb == "help":
            if command.unknown:
                return f"I don't know the command “{neutralize(command.unknown)}”.\n{HELP}"
            return HELP
        if command.verb == "topics":
            return self._topics()
        if command.verb == "subscriptions":
            return await self._subscriptions(channel)
        if command.verb in ("subscribe", "unsubscribe"):
            return await self._subscribe(channel, command)
        if command.verb == "whatsnew":
            return await self._whatsnew(command.args)
        return await self._sources()

    def _topics(self) -> str:
        lines = [f"Topics of “{self._story.name}” (subscribe with: subscribe <id>, or * for all):"]
        for topic in self._story.topics:
            lines.append(f"  {topic.id:<20} {topic.description}")
        return "\n".join(lines)

    async def _subscriptions(self, channel: ChannelRef) -> str:
        topics = await self._store.subscriptions(channel)
        if not topics:
            return "This channel follows nothing yet. Try: subscribe nato (or subscribe * for all)."
        return "This channel follows: " + ", ".join(
            "* (the whole story)" if t == STAR else t for t in topics
        )

    def _resolve(self, words: Sequence[str]) -> tuple[list[str], list[str]]:
        """Topic ids for ``words`` and error lines for the words that are not topics. A topic
        may be named in several words ("security guarantees", "politics in Kyiv"): the longest
        run of words that is a topic's id, name or alias wins; a single word may also be an
        inflected or misspelt form (``resolve_topic``)."""
        ids: list[str] = []
        errors: list[str] = []
        start = 0
        while start < len(words):
            if words[start].casefold() in (STAR, "all", "everything"):
                ids.append(STAR)
                start += 1
                continue
            for end in range(len(words), start + 1, -1):
                topic_id = self._names.get(_phrase(words[start:end]))
                if topic_id is not None:
                    ids.append(topic_id)
                    start = end
                    break
            else:
                word = words[start]
                resolution = resolve_topic(self._story, word)
                if resolution.topic_id is not None:
                    ids.append(resolution.topic_id)
                else:
                    hint = (
                        f" Did you mean {resolution.suggestion}?" if resolution.suggestion else ""
                    )
                    errors.append(f"Unknown topic “{neutralize(shorten(word, 40))}”.{hint}")
                start += 1
        return list(dict.fromkeys(ids)), errors

    def _known_topics(self) -> str:
        return "Known topics: " + ", ".join(self._story.topic_ids()) + ", or * for all."

    async def _subscribe(self, channel: ChannelRef, command: Command) -> str:
        if not command.args:
            return f"Which topics? Usage: {command.verb} <topic…|*>\n{self._known_topics()}"
        ids, errors = self._resolve(command.args)
        lines: list[str] = []
        if ids and command.verb == "subscribe":
            added = await self._store.subscribe(channel, ids)
            if added:
                lines.append("Subscribed to " + ", ".join(added) + ".")
            unchanged = [t for t in ids if t not in added]
            if unchanged:
                lines.append("Already following " + ", ".join(unchanged) + ".")
        elif ids:
            removed = await self._store.unsubscribe(channel, ids)
            if removed:
                lines.append("Unsubscribed from " + ", ".join(removed) + ".")
            missing = [t for t in ids if t not in removed]
            if missing:
                lines.append("Was not following " + ", ".join(missing) + ".")
        lines.extend(errors)
        if errors:
            lines.append(self._known_topics())
        return "\n".join(lines)

    async def _whatsnew(self, words: Sequence[str]) -> str:
        words = list(words)
        while words and words[0].casefold() in ("on", "about", "in", "the", "for"):
            words.pop(0)
        topic = STAR
        if words:
            ids, errors = self._resolve(words)
            if errors:
                return "\n".join([*errors, self._known_topics()])
            topic = ids[0]
        developments = await self._store.recent_developments(
            topic=topic, since=None, limit=self._limit
        )
        label = "the whole story" if topic == STAR else topic
        if not developments:
            return f"Nothing on {label} yet. The bot reports what it reads from now on."
        now = self._clock.now()
        lines = [f"What's new on {label}, newest first:"]
        for development in developments:
            lines.extend(await self._development_lines(development, now))
        return "\n".join(lines)

    async def _development_lines(self, development: Development, now: datetime) -> list[str]:
        items = await self._store.get_items(development.item_ids)
        outlets = list(dict.fromkeys(i.source_name for i in items))
        head = f"• {scrub(development.title)} ({_ago(development.first_seen, now)}"
        head += f"; {neutralize(join_names(outlets))})" if outlets else ")"
        lines = [head]
        link = next((i.cite for i in items if i.cite), None)
        if link:
            lines.append(f"  {neutralize(link)}")
        return lines

    async def _sources(self) -> str:
        sources: list[Source] = await self._store.list_sources()
        if not sources:
            return "No sources are configured (config/sources.toml)."
        now = self._clock.now()
        lines = [f"{len(sources)} sources:"]
        for source in sources:
            state = await self._store.get_poll_state(source.id)
            if state.last_error:
                health = f"failing ({state.failures}×): {state.last_error}"
            elif state.last_ok_at is not None:
                health = f"ok, read {_ago(state.last_ok_at, now)}"
            else:
                health = "not polled yet"
            lines.append(f"  {source.id:<24} {source.name} — {health}")
        return "\n".join(lines)
