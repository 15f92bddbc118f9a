"""What the bot says, as values (pure, standard library only).

Two families:

- **Messages** the outbox stores and delivers: an ``AlertView`` (an alert or its update), a
  ``Reply`` posted as an ``answer`` or a ``notice``, a ``BriefingView``. They are serialized to
  JSON beside the post's plain text, so that an adapter can rebuild Block Kit or an embed, and
  edit it, after a restart, without parsing text.
- **Replies** to commands: a ``Reply`` answered inline by the adapter, never stored.

Every string here is plain text: the bot's own words, or text from a feed or a user, which is
untrusted. No field holds markup. Each platform's renderer escapes every field its own way
(mrkdwn for Slack, markdown and mentions for Discord, controls for the terminal) and adds the
only markup there is, so nothing in a value can ping, link or format anything.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


def join_names(names: Sequence[str], *, most: int = 3) -> str:
    """ "A", "A and B", "A, B and C", "A, B, C and 2 more"."""
    names = list(dict.fromkeys(names))
    if len(names) <= 1:
        return "".join(names)
    if len(names) <= most:
        return ", ".join(names[:-1]) + " and " + names[-1]
    return ", ".join(names[:most]) + f" and {len(names) - most} more"


def plural(n: int, word: str, many: str | None = None) -> str:
    """ "1 source", "2 sources", "1 entry", "3 entries"."""
    if n == 1:
        return f"{n} {word}"
    if many is None:
        many = (
            word[:-1] + "ies" if word.endswith("y") and word[-2:-1] not in "aeiou" else word + "s"
        )
    return f"{n} {many}"


# --- alerts and updates -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertView:
    """A platform-neutral alert or update: the adapters render it their own way."""

    headline: str
    summary: str
    outlets: tuple[str, ...]  # distinct outlet names, first reporter first
    links: tuple[str, ...]  # every item link, first reporter first (updates: newest first)
    topics: tuple[str, ...]
    is_update: bool = False
    max_links: int = 3
    development_id: str | None = None
    # Updates only: what grew since the alert (outlets and languages the alert did not have).
    new_outlets: tuple[str, ...] = ()
    new_languages: tuple[str, ...] = ()

    @property
    def shown_links(self) -> tuple[str, ...]:
        return tuple(link for link in self.links if link)[: self.max_links]

    @property
    def hidden_links(self) -> int:
        return len([link for link in self.links if link]) - len(self.shown_links)

    @property
    def coverage(self) -> str:
        n = len(self.outlets)
        verb = "Now reported by" if self.is_update else "Reported by"
        if n == 1:
            return f"{verb} {self.outlets[0]} (1 outlet so far)"
        return f"{verb} {join_names(self.outlets)} ({n} outlets)"


# --- replies, answers and notices ------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Field:
    """A labelled row: a topic and its description, a source and its health, a setting."""

    name: str
    value: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One development in a reply, an answer or a briefing."""

    headline: str
    summary: str = ""
    outlets: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    when: str = ""  # "2 h ago", as of the reply
    topics: tuple[str, ...] = ()
    development_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    """A reply to a command or a question. ``error`` replies carry a ``suggestion`` (what to type
    instead); ``private`` ones are shown to the asker only where the platform can (ephemeral)."""

    title: str = ""
    lines: tuple[str, ...] = ()  # sentences, in order, after the title
    fields: tuple[Field, ...] = ()
    entries: tuple[Entry, ...] = ()
    error: bool = False
    suggestion: str | None = None
    private: bool = False
    footer: str | None = None

    def cited(self) -> tuple[str, ...]:
        """Every link the reply cites, in order."""
        return tuple(dict.fromkeys(link for e in self.entries for link in e.links))


def error_reply(message: str, suggestion: str | None = None, *, private: bool = True) -> Reply:
    return Reply(lines=(message,), error=True, suggestion=suggestion, private=private)


# --- briefings -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class BriefingSection:
    topic: str  # a topic id, or "" for the developments of no topic
    title: str
    entries: tuple[Entry, ...] = ()
    more: int = 0  # entries left out to fit the platform


@dataclass(frozen=True, slots=True, kw_only=True)
class BriefingView:
    title: str
    top_line: str
    sections: tuple[BriefingSection, ...] = ()
    further_reading: tuple[Entry, ...] = ()
    quiet: bool = False
    late: bool = False
    local_date: str = ""

    def cited(self) -> tuple[str, ...]:
        entries = [e for s in self.sections for e in s.entries] + list(self.further_reading)
        return tuple(dict.fromkeys(link for e in entries for link in e.links))


Message = AlertView | Reply | BriefingView


# --- storage ------------------------------------------------------------------------------------

_TYPES: dict[str, type[AlertView] | type[Reply] | type[BriefingView]] = {
    "alert": AlertView,
    "reply": Reply,
    "briefing": BriefingView,
}


def _plain(value: Any) -> Any:
    if isinstance(value, Field | Entry | BriefingSection):
        return {name: _plain(getattr(value, name)) for name in value.__dataclass_fields__}
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def message_to_json(message: Message) -> str:
    tag = next(tag for tag, cls in _TYPES.items() if isinstance(message, cls))
    body = {name: _plain(getattr(message, name)) for name in message.__dataclass_fields__}
    return json.dumps({"type": tag, "v": 1, **body}, ensure_ascii=False, sort_keys=True)


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value or ())


def _entry(raw: dict[str, Any]) -> Entry:
    return Entry(
        headline=str(raw.get("headline", "")),
        summary=str(raw.get("summary", "")),
        outlets=_strings(raw.get("outlets")),
        links=_strings(raw.get("links")),
        when=str(raw.get("when", "")),
        topics=_strings(raw.get("topics")),
        development_id=raw.get("development_id"),
    )


def message_from_json(text: str) -> Message:
    """The stored message back as a value. Raises ``ValueError`` on anything else."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"not a stored message: {e.msg}") from e
    if not isinstance(raw, dict) or raw.get("type") not in _TYPES:
        raise ValueError("not a stored message: no known type")
    kind = raw["type"]
    if kind == "alert":
        return AlertView(
            headline=str(raw.get("headline", "")),
            summary=str(raw.get("summary", "")),
            outlets=_strings(raw.get("outlets")),
            links=_strings(raw.get("links")),
            topics=_strings(raw.get("topics")),
            is_update=bool(raw.get("is_update", False)),
            max_links=int(raw.get("max_links", 3)),
            development_id=raw.get("development_id"),
            new_outlets=_strings(raw.get("new_outlets")),
            new_languages=_strings(raw.get("new_languages")),
        )
    if kind == "reply":
        return Reply(
            title=str(raw.get("title", "")),
            lines=_strings(raw.get("lines")),
            fields=tuple(
                Field(name=str(f.get("name", "")), value=str(f.get("value", "")))
                for f in raw.get("fields") or ()
            ),
            entries=tuple(_entry(e) for e in raw.get("entries") or ()),
            error=bool(raw.get("error", False)),
            suggestion=raw.get("suggestion"),
            private=bool(raw.get("private", False)),
            footer=raw.get("footer"),
        )
    return BriefingView(
        title=str(raw.get("title", "")),
        top_line=str(raw.get("top_line", "")),
        sections=tuple(
            BriefingSection(
                topic=str(s.get("topic", "")),
                title=str(s.get("title", "")),
                entries=tuple(_entry(e) for e in s.get("entries") or ()),
                more=int(s.get("more", 0)),
            )
            for s in raw.get("sections") or ()
        ),
        further_reading=tuple(_entry(e) for e in raw.get("further_reading") or ()),
        quiet=bool(raw.get("quiet", False)),
        late=bool(raw.get("late", False)),
        local_date=str(raw.get("local_date", "")),
    )


__all__ = [
    "AlertView",
    "BriefingSection",
    "BriefingView",
    "Entry",
    "Field",
    "Message",
    "Reply",
    "error_reply",
    "join_names",
    "message_from_json",
    "message_to_json",
    "plural",
]
