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
from dataclasses import dataclass, field, replace
from datetime import datetime

from bot.domain import (
    STAR,
    Caller,
    Channel,
    ChannelMode,
    ChannelRef,
    Development,
    ManagePolicy,
    Source,
    Story,
)
from bot.messages import Entry, Field, Reply, error_reply, plural
from bot.ports import Clock, Store
from bot.services.render import ago, render_reply_text, shorten
from bot.services.schedule import (
    briefing_time_of,
    next_briefing,
    parse_briefing_setting,
    parse_quiet,
    parse_timezone,
    zone,
)
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
        summary="recent developments with links (whatsnew nato since Monday)",
        args=(ArgSpec(name="topic", kind=ArgKind.TOPIC, help="a topic; all of them if left out"),),
        synonyms=("new", "news", "latest"),
    ),
    CommandSpec(
        verb="sources",
        summary="the feeds the bot reads and their health",
        private=True,
        synonyms=("feeds",),
    ),
    CommandSpec(
        verb="timezone",
        summary="the channel's time zone, for briefings and time words (e.g. Europe/Kyiv)",
        args=(ArgSpec(name="zone", kind=ArgKind.TEXT, help="an IANA zone such as Europe/Kyiv"),),
        permission=Permission.MANAGE,
        private=True,
        synonyms=("tz",),
    ),
    CommandSpec(
        verb="briefing",
        summary="a daily briefing at this local time (briefing 07:30 Europe/Kyiv, or off)",
        args=(ArgSpec(name="time", kind=ArgKind.TEXT, help="HH:MM [zone], or off"),),
        permission=Permission.MANAGE,
        private=True,
    ),
    CommandSpec(
        verb="quiet",
        summary="hold alerts during these hours (quiet 22:00-07:00, or off)",
        args=(ArgSpec(name="hours", kind=ArgKind.TEXT, help="HH:MM-HH:MM, or off"),),
        permission=Permission.MANAGE,
        private=True,
    ),
    CommandSpec(
        verb="mode",
        summary="alerts (alerts and briefings) or briefing (the briefing only)",
        args=(ArgSpec(name="mode", kind=ArgKind.TEXT, help="alerts or briefing"),),
        permission=Permission.MANAGE,
        private=True,
    ),
    CommandSpec(verb="settings", summary="this channel's settings", private=True),
    CommandSpec(verb="help", summary="this list", private=True, synonyms=("?",)),
)
SETTINGS_VERBS = ("timezone", "briefing", "quiet", "mode")
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
        if command.verb in SETTINGS_VERBS:
            return await self._set(channel, command)
        if command.verb == "settings":
            return await self._settings(channel)
        return await self._sources()

    async def _channel(self, ref: ChannelRef) -> Channel:
        return await self._store.get_channel(ref) or Channel(ref=ref)

    async def _set(self, ref: ChannelRef, command: Command) -> Reply:
        channel = await self._channel(ref)
        text = " ".join(command.args).strip()
        spec = SPECS[command.verb]
        examples = {
            "timezone": "timezone Europe/Kyiv",
            "briefing": "briefing 07:30 Europe/Kyiv (or: briefing off)",
            "quiet": "quiet 22:00-07:00 (or: quiet off)",
            "mode": "mode alerts (or: mode briefing)",
        }
        if not text:
            return error_reply(f"Usage: {examples[command.verb]}", f"{spec.verb}: {spec.summary}")
        now = self._clock.now()
        notes: list[str] = []
        try:
            if command.verb == "timezone":
                zone_name = str(parse_timezone(text))
                channel = replace(channel, timezone=zone_name)
                notes.append(f"This channel's time zone is now {zone_name}.")
            elif command.verb == "briefing":
                setting = parse_briefing_setting(text)
                if setting is None:
                    channel = replace(channel, briefing_time=None, briefing_set_at=now)
                    notes.append("No daily briefing for this channel.")
                    if channel.mode is ChannelMode.BRIEFING:
                        notes.append(
                            "It is briefing-only, so it still gets one at 08:00; "
                            "`mode alerts` to get alerts instead."
                        )
                else:
                    if setting.timezone and channel.timezone in ("", "UTC"):
                        channel = replace(channel, timezone=setting.timezone)
                    channel = replace(channel, briefing_time=setting.hhmm, briefing_set_at=now)
                    local = next_briefing(now, setting.at, channel.timezone).astimezone(
                        zone(channel.timezone)
                    )
                    notes.append(
                        f"Daily briefing at {setting.hhmm} {channel.timezone}; the next one "
                        f"{local.strftime('%a %d %b %H:%M')}."
                    )
                    if setting.timezone and setting.timezone != channel.timezone:
                        notes.append(
                            f"The channel's time zone stays {channel.timezone}, and the briefing "
                            f"time is read in it; `timezone {setting.timezone}` changes it."
                        )
            elif command.verb == "quiet":
                quiet = parse_quiet(text)
                channel = replace(channel, quiet=None if quiet is None else quiet.text)
                notes.append(
                    "No quiet hours: alerts arrive as they come."
                    if quiet is None
                    else f"Quiet hours {quiet.text} ({channel.timezone}): alerts are held then"
                    + (
                        " and folded into the next briefing."
                        if briefing_time_of(channel) is not None
                        else " and delivered when they end."
                    )
                )
            else:
                value = text.casefold()
                if value not in ("alerts", "briefing"):
                    raise ValueError(f"unknown mode {text!r}: expected alerts or briefing")
                channel = replace(channel, mode=ChannelMode(value))
                if value == "briefing":
                    at = channel.briefing_time or "08:00"
                    default = (
                        ""
                        if channel.briefing_time
                        else " (the default; set another with `briefing HH:MM`)"
                    )
                    notes.append(
                        f"Briefing only: no alerts, one briefing a day at {at} "
                        f"{channel.timezone}{default}."
                    )
                else:
                    notes.append(
                        "Alerts as they happen"
                        + (
                            f", and a briefing at {channel.briefing_time}."
                            if channel.briefing_time
                            else "."
                        )
                    )
        except ValueError as e:
            return error_reply(
                f"{str(e)[:1].upper()}{str(e)[1:]}.", f"For example: {examples[command.verb]}"
            )
        await self._store.save_channel(channel)
        return Reply(lines=tuple(notes), private=True)

    async def _settings(self, ref: ChannelRef) -> Reply:
        channel = await self._channel(ref)
        topics = await self._store.subscriptions(ref)
        at = briefing_time_of(channel)
        if at is None:
            briefing = "off"
        else:
            briefing = f"{at.strftime('%H:%M')} {channel.timezone}"
            if not channel.briefing_time:
                briefing += " (default of a briefing-only channel)"
        fields = [
            Field(name="follows", value=", ".join(topics) if topics else "nothing yet"),
            Field(name="mode", value=str(channel.mode)),
            Field(name="timezone", value=channel.timezone),
            Field(name="briefing", value=briefing),
            Field(name="quiet", value=channel.quiet or "off"),
        ]
        if channel.paused:
            fields.append(Field(name="paused", value=channel.pause_reason or "yes"))
        return Reply(title="This channel's settings:", fields=tuple(fields), private=True)

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
            known = await self._store.get_channel(channel)
            if known is not None and known.subscribed_at is None:
                await self._store.save_channel(replace(known, subscribed_at=self._clock.now()))
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
