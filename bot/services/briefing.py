"""A briefing's content as a neutral value, and its plain-text rendering (pure).

``build_briefing`` turns the developments a channel's topics saw since its previous briefing
into a ``Briefing``: a top line (how many developments and outlets, since when, in the channel's
words), one section per topic, each development once, best-covered first, with a one-line
summary, its items' own links and outlets, and "further reading" (analysis pieces the bot did not
alert). A night with nothing new is ``quiet``: one short line, not silence.

Sections follow the channel's topics in the channel's order; a development that touches several
goes under the first of them. A ``*`` channel groups by each development's first topic (no topic:
"Other", last); its sections are ordered best-covered first. Within a section: most outlets
first, then the most recently updated, then by id (so the order is stable).

The adapters render the value their own way (Block Kit, embeds); ``render_briefing_text`` is the
plain text the console and the replay show. Feed text goes through ``render.scrub`` (no URLs, no
mentions, no control characters) and links through ``render.neutralize``. ``split_for_limit``
cuts the text into messages of at most ``max_chars`` at entry boundaries; ``fit_for_limit`` keeps
one message, the best-covered entries, and says "and N more". Neither ever cuts inside a link.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.domain import STAR, Development, Item
from bot.messages import join_names
from bot.services.render import neutralize, scrub, shorten
from bot.services.schedule import zone
from bot.topics.text import fold

__all__ = [
    "MAX_FURTHER_READING",
    "OTHER",
    "Briefing",
    "BriefingEntry",
    "BriefingSection",
    "FittedBriefing",
    "ReadingEntry",
    "build_briefing",
    "fit_for_limit",
    "render_briefing_text",
    "since_words",
    "split_for_limit",
]

OTHER = ""  # the section of a * channel's developments that carry no topic
OTHER_TITLE = "Other"
MAX_FURTHER_READING = 5
SUMMARY_CHARS = 220
HEADLINE_CHARS = 200
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class BriefingEntry:
    """One development in a briefing. Text is scrubbed already; links are the items' own."""

    development_id: str
    headline: str
    summary: str  # one line; "" when it would only repeat the headline
    links: tuple[str, ...]  # every item's link, first reporter first
    outlets: tuple[str, ...]  # distinct outlet names, first reporter first
    topics: tuple[str, ...]
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class BriefingSection:
    topic_id: str  # OTHER for a * channel's developments without a topic
    title: str
    entries: tuple[BriefingEntry, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadingEntry:
    """An analysis piece, explainer or live blog the bot read but did not alert."""

    title: str
    link: str
    outlet: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Briefing:
    top_line: str
    since: datetime
    until: datetime
    since_label: str  # "since 07:30 yesterday"
    sections: tuple[BriefingSection, ...]
    further_reading: tuple[ReadingEntry, ...]
    quiet: bool  # nothing new: the top line is the whole briefing (plus any further reading)
    late: bool = False
    outlet_count: int = 0
    max_links: int = 2  # links shown per entry; the rest are counted ("+2 more")

    @property
    def entries(self) -> tuple[BriefingEntry, ...]:
        return tuple(e for s in self.sections for e in s.entries)

    @property
    def development_ids(self) -> tuple[str, ...]:
        return tuple(e.development_id for e in self.entries)

    @property
    def topics(self) -> tuple[str, ...]:
        """The topic ids the briefing covers (its sections')."""
        return tuple(s.topic_id for s in self.sections if s.topic_id != OTHER)

    @property
    def links(self) -> tuple[str, ...]:
        """Every link the full text cites, in order (a replay post's ``sources``)."""
        shown = [link for e in self.entries for link in _shown(e, self.max_links)]
        shown.extend(r.link for r in self.further_reading)
        return tuple(dict.fromkeys(shown))


# --- building -----------------------------------------------------------------------------------


def since_words(since: datetime, now: datetime, tz: ZoneInfo | str) -> str:
    """ "since 07:30", "since 07:30 yesterday", "since Monday 07:30", "since 3 January 07:30",
    in the channel's zone."""
    z = zone(tz)
    local, today = since.astimezone(z), now.astimezone(z).date()
    hhmm = local.strftime("%H:%M")
    days = (today - local.date()).days
    if days <= 0:
        return f"since {hhmm}"
    if days == 1:
        return f"since {hhmm} yesterday"
    if days < 7:
        return f"since {_DAY_NAMES[local.weekday()]} {hhmm}"
    text = f"since {local.day} {_MONTH_NAMES[local.month - 1]}"
    if local.year != today.year:
        text += f" {local.year}"
    return f"{text} {hhmm}"


def _one_line(text: str, limit: int) -> str:
    return shorten(scrub(" ".join(text.split())), limit)


def _entry(development: Development, items: Sequence[Item], now: datetime) -> BriefingEntry:
    items = sorted((i for i in items if i.first_seen <= now), key=lambda i: (i.first_seen, i.id))
    headline = _one_line(development.title, HEADLINE_CHARS)
    if not headline:  # a title that was all URL or markup: the first report's own, else a word
        titles = (_one_line(i.title, HEADLINE_CHARS) for i in items)
        headline = next((t for t in titles if t), "(untitled)")
    summary = _one_line(development.summary, SUMMARY_CHARS)
    if fold(summary).rstrip(".…") == fold(headline).rstrip(".…"):
        summary = ""
    links = tuple(dict.fromkeys(i.cite for i in items if i.cite))
    outlets = tuple(dict.fromkeys(scrub(i.source_name) for i in items if i.source_name.strip()))
    return BriefingEntry(
        development_id=development.id,
        headline=headline,
        summary=summary,
        links=links,
        outlets=outlets,
        topics=development.topics,
        updated_at=development.updated_at,
    )


def _rank(entry: BriefingEntry) -> tuple[int, float, str]:
    return (-len(entry.outlets), -entry.updated_at.timestamp(), entry.development_id)


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def build_briefing(
    developments: Sequence[Development],
    items_by_development: Mapping[str, Sequence[Item]],
    topics_of_channel: Sequence[str],
    now: datetime,
    since: datetime,
    tz: ZoneInfo | str,
    further_reading: Sequence[Item] = (),
    *,
    topic_names: Mapping[str, str] | None = None,
    late: bool = False,
    max_links: int = 2,
) -> Briefing:
    """The briefing of a channel following ``topics_of_channel`` (ids, or ``*``) for the window
    ``since``..``now``. Developments updated before ``since`` or first seen after ``now`` are
    left out, and so, in a channel of named topics, are developments on none of them.
    ``topic_names`` gives section titles (an id is its own title otherwise)."""
    now, since = now.astimezone(UTC), since.astimezone(UTC)
    names = dict(topic_names or {})
    star = STAR in topics_of_channel
    order = [t for t in dict.fromkeys(topics_of_channel) if t != STAR]
    grouped: dict[str, list[BriefingEntry]] = {}
    seen: set[str] = set()
    for development in developments:
        if development.id in seen:
            continue
        if development.updated_at < since or development.first_seen > now:
            continue
        section: str | None
        if star:
            section = development.topics[0] if development.topics else OTHER
        else:
            section = next((t for t in order if t in development.topics), None)
        if section is None:
            continue
        seen.add(development.id)
        items = items_by_development.get(development.id, ())
        grouped.setdefault(section, []).append(_entry(development, items, now))
    sections = [
        BriefingSection(
            topic_id=topic,
            title=names.get(topic, topic) if topic != OTHER else OTHER_TITLE,
            entries=tuple(sorted(entries, key=_rank)),
        )
        for topic, entries in grouped.items()
    ]
    if star:
        sections.sort(
            key=lambda s: (s.topic_id == OTHER, _rank(s.entries[0])[0], -len(s.entries), s.topic_id)
        )
    else:
        sections.sort(key=lambda s: order.index(s.topic_id))
    entries = [e for s in sections for e in s.entries]
    outlets = {o for e in entries for o in e.outlets}
    label = since_words(since, now, tz)
    if entries:
        top = (
            f"Briefing: {_count(len(entries), 'development')} from "
            f"{_count(len(outlets), 'outlet')} {label}."
        )
    else:
        scope = "the story" if star or not order else join_names([names.get(t, t) for t in order])
        top = f"Briefing: nothing new on {scope} {label}."
    if late:
        top += " (Sent late: the bot was not running at briefing time.)"
    return Briefing(
        top_line=top,
        since=since,
        until=now,
        since_label=label,
        sections=tuple(sections),
        further_reading=_further(further_reading, entries, since, now),
        quiet=not entries,
        late=late,
        outlet_count=len(outlets),
        max_links=max_links,
    )


def _further(
    items: Iterable[Item], entries: Sequence[BriefingEntry], since: datetime, now: datetime
) -> tuple[ReadingEntry, ...]:
    cited = {link for e in entries for link in e.links}
    shown_developments = {e.development_id for e in entries}
    out: dict[str, ReadingEntry] = {}
    for item in items:
        link = item.cite
        if not link or link in cited or link in out or not since <= item.first_seen <= now:
            continue
        if item.development_id is not None and item.development_id in shown_developments:
            continue
        title = _one_line(item.title, HEADLINE_CHARS)
        if not title:
            continue
        out[link] = ReadingEntry(title=title, link=link, outlet=scrub(item.source_name))
        if len(out) >= MAX_FURTHER_READING:
            break
    return tuple(out.values())


# --- plain text ---------------------------------------------------------------------------------


def _shown(entry: BriefingEntry, max_links: int) -> tuple[str, ...]:
    return entry.links[: max(max_links, 0)]


def _entry_lines(entry: BriefingEntry, max_links: int, *, summary: bool = True) -> list[str]:
    head = f"• {entry.headline}"
    if entry.outlets:
        head += f" ({join_names(entry.outlets)})"
    lines = [head]
    if summary and entry.summary:
        lines.append(f"  {entry.summary}")
    shown = _shown(entry, max_links)
    for n, link in enumerate(shown):
        more = len(entry.links) - len(shown)
        tail = f" (+{more} more)" if more > 0 and n == len(shown) - 1 else ""
        lines.append(f"  {neutralize(link)}{tail}")
    return lines


def _reading_lines(b: Briefing) -> list[str]:
    if not b.further_reading:
        return []
    lines = ["Further reading"]
    for r in b.further_reading:
        outlet = f" ({r.outlet})" if r.outlet else ""
        lines.append(f"• {r.title}{outlet}: {neutralize(r.link)}")
    return lines


def render_briefing_text(b: Briefing) -> str:
    """The whole briefing as plain text: the top line, a titled block per section, then further
    reading, blank lines between blocks."""
    blocks: list[list[str]] = [[b.top_line]]
    for section in b.sections:
        lines = [section.title]
        for entry in section.entries:
            lines.extend(_entry_lines(entry, b.max_links))
        blocks.append(lines)
    reading = _reading_lines(b)
    if reading:
        blocks.append(reading)
    return "\n\n".join("\n".join(block) for block in blocks)


def _fit_entry(entry: BriefingEntry, max_links: int, budget: int) -> list[str] | None:
    """The entry's lines within ``budget`` characters (joined by newlines): the full entry, else
    without its summary, else with fewer links, else with a shorter headline. A link is never
    cut: None when even the headline alone does not fit."""
    for links in range(max(max_links, 0), -1, -1):
        for summary in (True, False):
            lines = _entry_lines(entry, links, summary=summary)
            if len("\n".join(lines)) <= budget:
                return lines
    room = budget - len("• ") - 1
    if room < 10:
        return None
    short = BriefingEntry(
        development_id=entry.development_id,
        headline=shorten(entry.headline, room),
        summary="",
        links=(),
        outlets=(),
        topics=entry.topics,
        updated_at=entry.updated_at,
    )
    return _entry_lines(short, 0, summary=False)


def split_for_limit(b: Briefing, max_chars: int) -> tuple[str, ...]:
    """The briefing as messages of at most ``max_chars`` characters each, cut between entries
    (a section that goes on in the next message repeats its title with "(continued)"). An entry
    too long for one message loses its summary, then links, then headline words, never part of
    a link. Joined, the messages show every entry the full text shows."""
    if max_chars < 60:
        raise ValueError("max_chars must be at least 60")
    messages: list[str] = []
    current: list[str] = [shorten(b.top_line, max_chars)]

    def flush() -> None:
        if current:
            messages.append("\n".join(current))
            current.clear()

    def add(title: str, lines: list[str], first: bool) -> None:
        block = [title, *lines] if first else lines
        candidate = [*current, "", *block] if current and first else [*current, *block]
        if len("\n".join(candidate)) <= max_chars:
            current[:] = candidate
            return
        flush()
        current.extend([title if first else f"{title} (continued)", *lines])

    for section in b.sections:
        title = shorten(section.title, 60)
        room = max_chars - len(title) - len(" (continued)") - 1
        first = True
        for entry in section.entries:
            lines = _fit_entry(entry, b.max_links, room)
            if lines is None:  # pragma: no cover - max_chars >= 60 always leaves a headline
                continue
            add(title, lines, first)
            first = False
    reading = _reading_lines(b)
    first = True
    for line in reading[1:]:
        if len(line) <= max_chars - len(reading[0]) - len(" (continued)") - 1:
            add(reading[0], [line], first)
            first = False
    flush()
    return tuple(messages)


@dataclass(frozen=True, slots=True, kw_only=True)
class FittedBriefing:
    """One message that fits: its text, the developments and links it shows, how many
    developments it left out."""

    text: str
    development_ids: tuple[str, ...]
    links: tuple[str, ...]
    omitted: int


def fit_for_limit(b: Briefing, max_chars: int) -> FittedBriefing:
    """The briefing as one message of at most ``max_chars`` characters: the best-covered entries
    that fit (shown in their sections' order), then "…and N more developments"; further reading
    only when room is left. Entries are dropped whole, never cut inside a link."""
    full = render_briefing_text(b)
    if len(full) <= max_chars:
        return FittedBriefing(
            text=full, development_ids=b.development_ids, links=b.links, omitted=0
        )
    if max_chars < 40:
        raise ValueError("max_chars must be at least 40")
    top = shorten(b.top_line, max_chars)
    total = len(b.entries)
    more_line = f"…and {total} more developments."  # the longest the line can be
    budget = max_chars - len(top) - len("\n\n") - len(more_line)
    kept: dict[str, list[str]] = {}
    titles: set[str] = set()
    used = 0
    for entry in sorted(b.entries, key=_rank):
        section = next(s for s in b.sections if entry in s.entries)
        header = 0 if section.topic_id in titles else len(section.title) + 2
        # the whole entry if it fits, else without its summary, else it is left out
        for lines in (
            _entry_lines(entry, b.max_links),
            _entry_lines(entry, b.max_links, summary=False),
        ):
            cost = len("\n".join(lines)) + 1 + header
            if used + cost <= budget:
                used += cost
                kept[entry.development_id] = lines
                titles.add(section.topic_id)
                break
    blocks: list[str] = [top]
    shown_ids: list[str] = []
    links: list[str] = []
    for section in b.sections:
        entries = [e for e in section.entries if e.development_id in kept]
        if not entries:
            continue
        block = [section.title]
        for entry in entries:
            block.extend(kept[entry.development_id])
            shown_ids.append(entry.development_id)
            links.extend(_shown(entry, b.max_links))
        blocks.append("\n".join(block))
    omitted = total - len(shown_ids)
    if omitted:
        blocks.append(f"…and {_count(omitted, 'more development')}.")
    reading = "\n".join(_reading_lines(b))
    if reading and len("\n\n".join([*blocks, reading])) <= max_chars:
        blocks.append(reading)
        links.extend(r.link for r in b.further_reading)
    return FittedBriefing(
        text="\n\n".join(blocks),
        development_ids=tuple(shown_ids),
        links=tuple(dict.fromkeys(links)),
        omitted=omitted,
    )
