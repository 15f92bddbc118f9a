"""The platform-neutral command language, as one table and as values.

``COMMANDS`` is the one list of commands: help, the console, Slack's ``/brief`` and Discord's
``/brief`` group are all built from it, and ``CommandService.execute`` checks its permissions at
run time. Parsing text gives a typed ``Command``; executing one gives a ``Reply`` value that each
adapter renders its own way. Nothing here returns text an adapter would have to parse.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain import STAR, Caller, ChannelRef, Development, ManagePolicy, Source, Story
from bot.messages import Entry, Field, Reply, error_reply, plural
from bot.ports import Clock, Store
from bot.services.render import render_reply_text, shorten
from bot.topics.match import resolve_topic


class Permission(enum.StrEnum):
    ANYONE = "anyone"  # anyone in the channel may run it
    MANAGE = "manage"  # changes the channel: needs the rights the deployment configures


class ArgKind(enum.StrEnum):
    TOPICS = "topics"  # one or more topic ids, names or aliases, or *
    TOPIC = "topic"  # an optional topic (autocompleted where the platform can)
    TEXT = "text"  # free words (a question, a time)


@dataclass(frozen=True, slots=True, kw_only=True)
class ArgSpec:
    name: str
    kind: ArgKind
    required: bool = False
    help: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandSpec:
    verb: str
    summary: str
    args: tuple[ArgSpec, ...] = ()
    permission: Permission = Permission.ANYONE
    private: bool = False  # the reply is for the asker only (ephemeral where the platform can)
    synonyms: tuple[str, ...] = ()

    @property
    def usage(self) -> str:
        parts = [self.verb]
        for arg in self.args:
            shown = "<topic…|*>" if arg.kind is ArgKind.TOPICS else f"[{arg.name}]"
            parts.append(shown if arg.required or arg.kind is ArgKind.TOPICS else f"[{arg.name}]")
        return " ".join(parts)


_TOPICS = ArgSpec(
    name="topics", kind=ArgKind.TOPICS, required=True, help="topic ids, or * for the whole story"
)

COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec(
        verb="subscribe",
        summary="follow topics (or * for the whole story) in this channel",
        args=(_TOPICS,),
        permission=Permission.MANAGE,
        private=True,
        synonyms=("sub", "follow"),
    ),
    CommandSpec(
        verb="unsubscribe",
        summary="stop following them",
        args=(_TOPICS,),
        permission=Permission.MANAGE,
        private=True,
        synonyms=("unsub", "unfollow"),
    ),
    CommandSpec(verb="topics", summary="the topics you can follow", private=True),
    CommandSpec(
        verb="subscriptions",
        summary="what this channel follows",
        private=True,
        synonyms=("subs", "list"),
    ),
    CommandSpec(
        verb="whatsnew",
        summary="recent developments, newest first, with links",
        args=(ArgSpec(name="topic", kind=ArgKind.TOPIC, help="a topic; all of them if left out"),),
        synonyms=("new", "news", "latest"),
    ),
    CommandSpec(
        verb="sources",
        summary="the feeds the bot reads and their health",
        private=True,
        synonyms=("feeds",),
    ),
    CommandSpec(verb="help", summary="this list", private=True, synonyms=("?",)),
)
SPECS = {spec.verb: spec for spec in COMMANDS}
VERBS = tuple(SPECS)
_SYNONYMS = {synonym: spec.verb for spec in COMMANDS for synonym in spec.synonyms}
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
    if head not in SPECS:
        return Command(verb="help", unknown=shorten(" ".join(words), 80))
    return Command(verb=head, args=tuple(words[1 : MAX_ARGS + 1]))


def help_reply(*, console: bool = False) -> Reply:
    """The command list, from the table; the console adds ``quit``."""
    fields = [Field(name=spec.usage, value=spec.summary) for spec in COMMANDS]
    if console:
        fields.append(Field(name="quit", value="stop the bot (Ctrl-D does too)"))
    return Reply(title="Commands:", fields=tuple(fields), private=True)


# --- who may run what -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Invocation:
    """A command being run: where, by whom, under which policy."""

    channel: ChannelRef
    caller: Caller = field(default_factory=Caller)
    policy: ManagePolicy = field(default_factory=ManagePolicy)


def _phrase(words: Sequence[str]) -> str:
    return " ".join(w.casefold().strip(".,;:!?") for w in words)


def ago(then: datetime, now: datetime) -> str:
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

    @property
    def story(self) -> Story:
        return self._story

    async def handle(self, channel: ChannelRef, text: str) -> str:
        """Parse, run and render as plain text (the console and tests)."""
        reply = await self.execute(Invocation(channel=channel), parse_command(text))
        return render_reply_text(reply)

    async def execute(self, invocation: Invocation, command: Command) -> Reply:
        """Carry out ``command``; the reply is a value each adapter renders."""
        spec = SPECS.get(command.verb, SPECS["help"])
        if spec.permission is Permission.MANAGE and not invocation.policy.allows(invocation.caller):
            return error_reply(
                f"Only {invocation.policy.describe()} may change what this channel follows.",
                "Ask one of them, or type `subscriptions` to see what it follows now.",
            )
        channel = invocation.channel
        if command.verb == "help":
            if command.unknown:
                base = help_reply(console=channel.platform == "console")
                return Reply(
                    title=f"I don't know the command “{command.unknown}”.",
                    lines=("Commands:",),
                    fields=base.fields,
                    error=True,
                    private=True,
                )
            return help_reply(console=channel.platform == "console")
        if command.verb == "topics":
            return self._topics()
        if command.verb == "subscriptions":
            return await self._subscriptions(channel)
        if command.verb in ("subscribe", "unsubscribe"):
            return await self._subscribe(channel, command)
        if command.verb == "whatsnew":
            return await self._whatsnew(command.args)
        return await self._sources()

    def _topics(self) -> Reply:
        return Reply(
            title=f"Topics of “{self._story.name}” (subscribe with: subscribe <id>, or * for all):",
            fields=tuple(Field(name=t.id, value=t.description) for t in self._story.topics),
            private=True,
        )

    async def _subscriptions(self, channel: ChannelRef) -> Reply:
        topics = await self._store.subscriptions(channel)
        if not topics:
            return Reply(
                lines=("This channel follows nothing yet.",),
                suggestion="Try: subscribe nato (or subscribe * for all).",
                private=True,
            )
        return Reply(
            lines=(
                "This channel follows: "
                + ", ".join("* (the whole story)" if t == STAR else t for t in topics),
            ),
            private=True,
        )

    def resolve(self, words: Sequence[str]) -> tuple[list[str], list[str]]:
        """Topic ids for ``words`` and error lines for the words that are not topics. A topic
        may be named in several words ("security guarantees", "politics in Kyiv"): the longest
        run of words that is a topic's id, name or alias wins; a single word may also be an
        inflected or misspelt form (``resolve_topic``). Connectives ("and", "or") are skipped."""
        ids: list[str] = []
        errors: list[str] = []
        start = 0
        while start < len(words):
            if words[start].casefold() in (STAR, "all", "everything"):
                ids.append(STAR)
                start += 1
                continue
            if words[start].casefold() in ("and", "or", "&", "+") and start > 0:
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
                    errors.append(f"Unknown topic “{shorten(word, 40)}”.{hint}")
                start += 1
        return list(dict.fromkeys(ids)), errors

    def _known_topics(self) -> str:
        return "Known topics: " + ", ".join(self._story.topic_ids()) + ", or * for all."

    async def _subscribe(self, channel: ChannelRef, command: Command) -> Reply:
        spec = SPECS[command.verb]
        if not command.args:
            return error_reply(f"Which topics? Usage: {spec.usage}", self._known_topics())
        ids, errors = self.resolve(command.args)
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
        return Reply(
            lines=tuple(lines),
            error=bool(errors) and not ids,
            suggestion=self._known_topics() if errors else None,
            private=True,
        )

    async def _whatsnew(self, words: Sequence[str]) -> Reply:
        words = list(words)
        while words and words[0].casefold() in ("on", "about", "in", "the", "for"):
            words.pop(0)
        topics = [STAR]
        if words:
            ids, errors = self.resolve(words)
            if errors:
                return error_reply(" ".join(errors), self._known_topics(), private=False)
            topics = ids if STAR not in ids else [STAR]
        found: dict[str, Development] = {}
        for topic in topics:
            for development in await self._store.recent_developments(
                topic=topic, since=None, limit=self._limit
            ):
                found.setdefault(development.id, development)
        developments = sorted(found.values(), key=lambda d: d.first_seen, reverse=True)
        developments = developments[: self._limit]
        label = "the whole story" if topics == [STAR] else " and ".join(topics)
        if not developments:
            return Reply(
                lines=(f"Nothing on {label} yet. The bot reports what it reads from now on.",)
            )
        now = self._clock.now()
        entries = [await self._entry(d, now) for d in developments]
        return Reply(title=f"What's new on {label}, newest first:", entries=tuple(entries))

    async def _entry(self, development: Development, now: datetime) -> Entry:
        items = await self._store.get_items(development.item_ids)
        outlets = tuple(dict.fromkeys(i.source_name for i in items))
        link = next((i.cite for i in items if i.cite), None)
        return Entry(
            headline=development.title,
            outlets=outlets,
            links=(link,) if link else (),
            when=ago(development.first_seen, now),
            topics=development.topics,
            development_id=development.id,
        )

    async def _sources(self) -> Reply:
        sources: list[Source] = await self._store.list_sources()
        if not sources:
            return Reply(lines=("No sources are configured (config/sources.toml).",), private=True)
        now = self._clock.now()
        fields: list[Field] = []
        for source in sources:
            state = await self._store.get_poll_state(source.id)
            if state.last_error:
                health = f"failing ({plural(state.failures, 'failure')}): {state.last_error}"
            elif state.last_ok_at is not None:
                health = f"ok, read {ago(state.last_ok_at, now)}"
            else:
                health = "not polled yet"
            fields.append(Field(name=source.id, value=f"{source.name} — {health}"))
        return Reply(title=f"{plural(len(sources), 'source')}:", fields=tuple(fields), private=True)
