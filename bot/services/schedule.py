"""Briefing instants, quiet hours and the settings that name them (pure).

Nothing here reads the clock: the current time is always a parameter, an aware UTC datetime,
and every instant returned is aware UTC. Local times are read in the channel's IANA zone.

Daylight-saving rules (issue "Morning briefings"):

- a local time that falls in a skipped hour (the spring change) happens at the first valid
  instant after it: 03:30 on 2026-03-29 in Europe/Kyiv is 04:00 local, 01:00 UTC;
- a local time that occurs twice (the autumn change) happens once, at its first occurrence
  (``fold=0``): 03:30 on 2026-10-25 in Europe/Kyiv is 03:30 EEST, 00:30 UTC.

APScheduler 3 only drives live mode: ``next_run_date`` gives the instant to hand to a
``DateTrigger(run_date=...)``; replay and tests use the same computation on simulated time.
"""

from __future__ import annotations

import difflib
import functools
import re
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from bot.domain import Channel, ChannelMode

__all__ = [
    "DEFAULT_BRIEFING_TIME",
    "LATE_AFTER",
    "MAX_BRIEFING_SPAN",
    "MAX_FIRST_BRIEFING_SPAN",
    "BriefingDue",
    "BriefingSetting",
    "Hold",
    "QuietHours",
    "briefing_due",
    "briefing_time_of",
    "briefing_window",
    "briefings_between",
    "hold_alert",
    "in_quiet_hours",
    "local_date",
    "local_instant",
    "next_briefing",
    "next_run_date",
    "parse_briefing_setting",
    "parse_hhmm",
    "parse_quiet",
    "parse_timezone",
    "quiet_ends",
    "zone",
]

LATE_AFTER = timedelta(minutes=5)  # a catch-up briefing later than this after its time is "late"
MAX_FIRST_BRIEFING_SPAN = timedelta(hours=24)  # the first briefing looks back at most this far
MAX_BRIEFING_SPAN = timedelta(days=7)  # after a long outage, a briefing looks back at most this

DEFAULT_BRIEFING_TIME = time(8, 0)  # a briefing-only channel with no time set gets this one
TIME_EXAMPLE = "07:30"
ZONE_EXAMPLE = "Europe/Kyiv"

_HHMM = re.compile(r"^(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?$", re.IGNORECASE)
_OFF = frozenset({"off", "none", "no", "disable", "disabled", "stop"})


def zone(tz: ZoneInfo | str) -> ZoneInfo:
    """``tz`` as a ``ZoneInfo``; a string goes through ``parse_timezone``."""
    return tz if isinstance(tz, ZoneInfo) else parse_timezone(tz)


def _aware(instant: datetime, name: str = "now") -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got {instant!r}")
    return instant.astimezone(UTC)


# --- parsing settings ---------------------------------------------------------------------------


def parse_hhmm(text: str) -> time:
    """A local time of day: "07:30", "7:30", "7.30", "0730", "7am", "7:30 pm", "19h30".

    Raises ``ValueError("invalid time '25:00': expected a time like 07:30")``.
    """
    raw = text.strip()
    error = ValueError(f"invalid time '{raw}': expected a time like {TIME_EXAMPLE}")
    compact = raw.replace(" ", "")
    if re.fullmatch(r"\d{4}", compact):
        compact = compact[:2] + ":" + compact[2:]
    m = _HHMM.match(compact)
    if not m:
        raise error
    hour = int(m.group(1))
    minute = int(m.group(2) or 0)
    meridiem = (m.group(3) or "").replace(".", "").casefold()
    if meridiem:
        if not 1 <= hour <= 12:
            raise error
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    elif m.group(2) is None:
        raise error  # a bare "7" is too ambiguous to guess
    if hour > 23 or minute > 59:
        raise error
    return time(hour, minute)


@functools.cache
def _zone_names() -> dict[str, str]:
    """Folded zone name -> canonical name; also each unique city ("kyiv" -> "Europe/Kyiv")."""
    names = sorted(zoneinfo.available_timezones())
    table = {n.casefold(): n for n in names}
    cities: dict[str, list[str]] = {}
    for n in names:
        if "/" in n and not n.startswith(("Etc/", "SystemV/")):
            cities.setdefault(n.rsplit("/", 1)[1].casefold(), []).append(n)
    for city, full in cities.items():
        if len(full) == 1:
            table.setdefault(city, full[0])
    for alias in ("utc", "z", "gmt"):
        table.setdefault(alias, "UTC")
    return table


def parse_timezone(text: str) -> ZoneInfo:
    """An IANA time zone, case-insensitive ("europe/kyiv"), or a unique city ("Kyiv"); spaces
    may stand for underscores ("America/New York").

    Raises ``ValueError("unknown time zone 'Europe/Kiyv'; try a name like Europe/Kyiv (did you
    mean Europe/Kyiv?)")``; the did-you-mean part only when a name is close.
    """
    raw = text.strip()
    key = raw.replace(" ", "_").casefold()
    table = _zone_names()
    name = table.get(key)
    if name is not None:
        try:
            return ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):  # pragma: no cover - tzdata broken
            pass
    message = f"unknown time zone '{raw}'; try a name like {ZONE_EXAMPLE}"
    close = difflib.get_close_matches(key, list(table), n=1, cutoff=0.75) if key else []
    if close:
        message += f" (did you mean {table[close[0]]}?)"
    raise ValueError(message)


@dataclass(frozen=True, slots=True, kw_only=True)
class BriefingSetting:
    """``briefing 07:30 Europe/Kyiv``: the local time, and the zone when one was given."""

    at: time
    timezone: str | None = None  # canonical IANA name, e.g. "Europe/Kyiv"

    @property
    def hhmm(self) -> str:
        return self.at.strftime("%H:%M")


def parse_briefing_setting(text: str) -> BriefingSetting | None:
    """``"07:30 Europe/Kyiv"``, ``"07:30"`` or ``"off"`` (None). Errors as ``parse_hhmm`` and
    ``parse_timezone`` raise them; an empty setting says what is expected."""
    raw = text.strip()
    if raw.casefold() in _OFF:
        return None
    if not raw:
        raise ValueError(f"expected a briefing time like {TIME_EXAMPLE} {ZONE_EXAMPLE}, or off")
    parts = raw.split(None, 1)
    # "7:30 pm Europe/Kyiv": the meridiem belongs to the time.
    if len(parts) == 2 and re.match(r"(?i)^(am|pm|a\.m\.|p\.m\.)(\s|$)", parts[1]):
        head, _, rest = parts[1].partition(" ")
        parts = [parts[0] + head, *([rest] if rest.strip() else [])]
    at = parse_hhmm(parts[0])
    if len(parts) == 1:
        return BriefingSetting(at=at)
    return BriefingSetting(at=at, timezone=parse_timezone(parts[1]).key)


@dataclass(frozen=True, slots=True, kw_only=True)
class QuietHours:
    """Local hours when alerts are held: ``start`` up to (not including) ``end``. ``start`` after
    ``end`` spans midnight (22:00-07:00)."""

    start: time
    end: time

    @property
    def text(self) -> str:
        return f"{self.start.strftime('%H:%M')}-{self.end.strftime('%H:%M')}"

    @property
    def length(self) -> timedelta:
        """How long the quiet lasts (an ordinary day's hours; 24 h when start equals end)."""
        start = self.start.hour * 60 + self.start.minute
        end = self.end.hour * 60 + self.end.minute
        return timedelta(minutes=(end - start) % (24 * 60) or 24 * 60)


def parse_quiet(text: str) -> QuietHours | None:
    """``"22:00-07:00"`` (also with spaces, an en dash or "to"), or ``"off"`` (None)."""
    raw = text.strip()
    if raw.casefold() in _OFF:
        return None
    parts = re.split(r"\s*(?:-|–|—|\bto\b|\buntil\b)\s*", raw, maxsplit=1)
    if len(parts) != 2 or not parts[0] or not parts[1]:
        raise ValueError(f"invalid quiet hours '{raw}': expected a range like 22:00-07:00, or off")
    start, end = parse_hhmm(parts[0]), parse_hhmm(parts[1])
    if start == end:
        raise ValueError(f"invalid quiet hours '{raw}': the start and the end are the same time")
    return QuietHours(start=start, end=end)


# --- local instants ----------------------------------------------------------------------------


def _exists(local: datetime) -> bool:
    back = local.astimezone(UTC).astimezone(local.tzinfo)
    return back.replace(tzinfo=None) == local.replace(tzinfo=None, fold=0)


def local_instant(day: date, at: time, tz: ZoneInfo | str) -> datetime:
    """The UTC instant of the local wall time ``at`` on ``day`` in ``tz``.

    A wall time that does not exist (skipped by a daylight-saving change) is moved to the
    first valid instant after it, the moment the clocks jump; a wall time that occurs twice is
    its first occurrence.
    """
    z = zone(tz)
    local = datetime.combine(day, at.replace(tzinfo=None, fold=0), tzinfo=z)
    if _exists(local):
        return local.astimezone(UTC)
    # In a gap, fold=1 reads the wall time with the offset after the jump (an earlier UTC
    # instant) and fold=0 with the offset before it (a later one): the jump lies between.
    lo = local.replace(fold=1).astimezone(UTC)
    hi = local.replace(fold=0).astimezone(UTC)
    if lo > hi:  # pragma: no cover - a zone whose offset falls in a gap cannot happen
        lo, hi = hi, lo
    after = _offset(hi, z)
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        if _offset(mid, z) == after:
            hi = mid
        else:
            lo = mid
    return hi.replace(microsecond=0)


def _offset(instant: datetime, z: tzinfo) -> timedelta | None:
    return instant.astimezone(z).utcoffset()


def local_date(instant: datetime, tz: ZoneInfo | str) -> date:
    """The channel's calendar date at ``instant``: the date in a briefing's outbox key."""
    return _aware(instant, "instant").astimezone(zone(tz)).date()


def next_briefing(after: datetime, at: time, tz: ZoneInfo | str) -> datetime:
    """The first instant strictly after ``after`` at which the local clock reads ``at`` (with
    the daylight-saving rules of ``local_instant``), in UTC."""
    after = _aware(after, "after")
    z = zone(tz)
    day = after.astimezone(z).date() - timedelta(days=1)
    while True:
        candidate = local_instant(day, at, z)
        if candidate > after:
            return candidate
        day += timedelta(days=1)


def next_run_date(now: datetime, at: time, tz: ZoneInfo | str) -> datetime:
    """The ``run_date`` for an APScheduler 3 ``DateTrigger`` that fires the next briefing: the
    same instant as ``next_briefing(now, ...)``, aware UTC. Reschedule after each run."""
    return next_briefing(now, at, tz)


def briefings_between(
    start: datetime, end: datetime, at: time, tz: ZoneInfo | str
) -> tuple[datetime, ...]:
    """Every briefing instant in ``start`` < t ≤ ``end`` (UTC), one per local day: the events a
    replay schedules for a channel."""
    out: list[datetime] = []
    instant = next_briefing(start, at, tz)
    end = _aware(end, "end")
    while instant <= end:
        out.append(instant)
        instant = next_briefing(instant, at, tz)
    return tuple(out)


def briefing_time_of(channel: Channel) -> time | None:
    """When the channel's daily briefing goes out, local: its setting, else
    ``DEFAULT_BRIEFING_TIME`` for a briefing-only channel, else none."""
    if channel.briefing_time:
        return parse_hhmm(channel.briefing_time)
    if channel.mode is ChannelMode.BRIEFING:
        return DEFAULT_BRIEFING_TIME
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class BriefingDue:
    """A briefing owed now: the local date it is for (its outbox key), the instant it was due,
    and whether it is late (the bot was down or busy at briefing time)."""

    local_date: date
    scheduled: datetime
    late: bool


def briefing_due(
    now: datetime,
    at: time,
    tz: ZoneInfo | str,
    last_sent_local_date: date | None,
    *,
    configured_at: datetime | None = None,
) -> BriefingDue | None:
    """Whether today's briefing should go out now (at start-up, after a restart, or at each tick).

    Due when today's local briefing instant has passed and no briefing was sent for today's
    local date; never for a past day (a briefing missed yesterday is not sent today), never two
    for one local day. ``late`` when ``now`` is more than ``LATE_AFTER`` after the instant.
    ``configured_at``: when the briefing time was set; an instant before it is not owed.
    """
    now = _aware(now)
    z = zone(tz)
    today = now.astimezone(z).date()
    if last_sent_local_date is not None and last_sent_local_date >= today:
        return None
    scheduled = local_instant(today, at, z)
    if now < scheduled:
        return None
    if configured_at is not None and scheduled < _aware(configured_at, "configured_at"):
        return None
    return BriefingDue(local_date=today, scheduled=scheduled, late=now - scheduled > LATE_AFTER)


def briefing_window(previous: datetime | None, subscribed_at: datetime, now: datetime) -> datetime:
    """Where a briefing's window starts: the previous briefing, else the channel's subscription,
    at most ``MAX_FIRST_BRIEFING_SPAN`` back for a first briefing and ``MAX_BRIEFING_SPAN`` after
    an outage; never after ``now``."""
    now = _aware(now)
    if previous is not None:
        since = max(_aware(previous, "previous"), now - MAX_BRIEFING_SPAN)
    else:
        since = max(_aware(subscribed_at, "subscribed_at"), now - MAX_FIRST_BRIEFING_SPAN)
    return min(since, now)


# --- quiet hours --------------------------------------------------------------------------------


def _as_quiet(quiet: QuietHours | tuple[time, time]) -> QuietHours:
    if isinstance(quiet, QuietHours):
        return quiet
    return QuietHours(start=quiet[0], end=quiet[1])


def in_quiet_hours(
    now: datetime, quiet: QuietHours | tuple[time, time] | None, tz: ZoneInfo | str
) -> bool:
    """Whether the channel's local clock at ``now`` is within its quiet hours (start included,
    end excluded). No quiet hours: never."""
    if quiet is None:
        return False
    q = _as_quiet(quiet)
    t = _aware(now).astimezone(zone(tz)).time().replace(tzinfo=None)
    if q.start < q.end:
        return q.start <= t < q.end
    return t >= q.start or t < q.end


def quiet_ends(
    now: datetime, quiet: QuietHours | tuple[time, time] | None, tz: ZoneInfo | str
) -> datetime:
    """When the quiet hours around ``now`` end (the next local ``end``), in UTC; ``now`` itself
    when it is not in quiet hours, so held alerts can go at once."""
    now = _aware(now)
    if quiet is None or not in_quiet_hours(now, quiet, tz):
        return now
    return next_briefing(now, _as_quiet(quiet).end, tz)


@dataclass(frozen=True, slots=True, kw_only=True)
class Hold:
    """An alert held by quiet hours: until when, and whether it goes into that briefing rather
    than out on its own."""

    until: datetime
    into_briefing: bool


def hold_alert(
    now: datetime,
    quiet: QuietHours | tuple[time, time] | None,
    tz: ZoneInfo | str,
    briefing_at: time | None = None,
) -> Hold | None:
    """Whether an alert due at ``now`` waits. Outside quiet hours: None, send it. Inside: a
    channel with a daily briefing folds it into the next briefing; one without gets it when
    the quiet hours end."""
    if not in_quiet_hours(now, quiet, tz):
        return None
    if briefing_at is not None:
        return Hold(until=next_briefing(now, briefing_at, tz), into_briefing=True)
    return Hold(until=quiet_ends(now, quiet, tz), into_briefing=False)
