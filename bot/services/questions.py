"""Understanding what people type to the bot (pure): "what's new on NATO?", "anything on Donbas
since Monday", "what happened overnight?", "news about the Zaporizhzhia plant".

``parse_question`` reads one message into a ``Question``: the topics it names, free-text search
terms for what it names that is no topic, and the time window it asks about, read in the
channel's time zone. Nothing here reads the clock: ``now`` is a parameter (aware UTC).

How a question is read, in this order:

1. **Clean-up.** A leading mention or command (``@briefbot``, ``<@U123>``, ``/brief``,
   ``whatsnew``), curly quotes, case, and punctuation around words are dropped.
2. **Time words** (``parse_time_words``), in the channel's zone. The first expression found sets
   the window; every one found is taken out of the words. Rules:

   - ``since Monday`` (any weekday, also ``since mon``): from 00:00 local on the most recent such
     day, today if today is that day; ``since last Monday``: a week earlier when today is Monday.
     ``on Monday`` (or a bare ``Monday``): that whole local day.
     ``since Monday evening`` / ``since yesterday morning``: from 18:00 / 06:00 local that day
     (afternoon: 12:00).
   - ``today`` / ``so far today`` / ``since midnight``: from 00:00 local today.
   - ``yesterday``: the whole previous local day; ``since yesterday``: from its 00:00 until now.
   - ``this morning``: 00:00 to 12:00 local today (or until now, before noon).
   - ``overnight`` / ``last night``: from 18:00 local on the previous day, until now when asked
     before noon, else until 09:00 local today.
   - ``this week``: from 00:00 local on Monday; ``last week``: the previous Monday-to-Monday
     week; ``this month``: from the 1st at 00:00 local.
   - ``in the last 3 hours``, ``past 2 days``, ``last 48h``, ``past few days``, ``in the past
     week``: that long before now (``last 24 hours`` and ``past day`` are 24 hours).
   - ``since 2026-01-03``, ``since Jan 3``, ``since 3rd January``: from 00:00 local on that date
     (without a year, the most recent one not after today).
   - ``since 08:00`` / ``since 8am``: from today's 08:00 local, or yesterday's when today's is
     still ahead; ``since 07:30 yesterday`` says which day.
   - ``since the last briefing``: from ``last_briefing`` (24 hours when there was none).

   No time words: since ``last_briefing`` when given, else the last 24 hours. A window never
   starts more than ``MAX_LOOKBACK`` (30 days) before its end (the label then says "in the last
   30 days"), never ends after ``now``, and never starts after it ends.
3. **Speakers.** "what did Witkoff say …" / "what has Rubio said …": the person is a free-text
   ``query`` (their words, not the topic their name is an alias of); the rest is read on.
4. **Topics.** The longest run of words that is a topic's id, name or alias wins ("security
   guarantees", "politics in Kyiv", "coalition of the willing"); a single word may be an id,
   an alias or an inflected form (``resolve_topic``). ``*``, "all" and "everything" mean the
   whole story (``STAR``). Filler words ("news", "latest", "about", "the", "what", …) are
   skipped.
5. **Leftovers.** A leftover word close to a topic's spelling is an ``unknown_topic`` with a
   ``suggestion``; when it is very close ("natto", "sanctons") the suggestion is also taken as
   the topic (``corrected``), so the answer can say "reading natto as nato". Other leftover words
   are the free-text ``query`` ("Zaporizhzhia plant"), in the user's own spelling.

``empty`` marks a message with no question at all: blank, a bare mention, a greeting.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain import STAR, Story, Topic, utc
from bot.services.schedule import local_instant, parse_hhmm, zone
from bot.topics.match import TopicResolution, resolve_topic
from bot.topics.text import fold

__all__ = [
    "DEFAULT_WINDOW",
    "MAX_LOOKBACK",
    "Question",
    "TimeWindow",
    "default_window",
    "parse_question",
    "parse_since",
    "parse_time_words",
]

MAX_LOOKBACK = timedelta(days=30)
DEFAULT_WINDOW = timedelta(hours=24)
MAX_INPUT = 2000
MAX_WORDS = 60
EVENING = time(18, 0)  # "overnight" starts at this local time on the previous day
MORNING_ENDS = time(12, 0)  # "this morning" ends here; "overnight" asked later ends at 09:00
NIGHT_ENDS = time(9, 0)
AUTOCORRECT = 0.85  # a leftover word this close to a topic's id or name is read as that topic


@dataclass(frozen=True, slots=True, kw_only=True)
class TimeWindow:
    """A span of time a question asks about: ``since`` ≤ t < ``until``, aware UTC."""

    since: datetime
    until: datetime
    label: str  # "since Monday", "in the last 24 hours", "overnight", "this week"


@dataclass(frozen=True, slots=True, kw_only=True)
class Question:
    """What a message asks. ``topics`` empty: it names none (scope it to the channel's topics).
    ``query``: free-text search terms for what it names that is no topic; with ``topics`` too,
    search within those topics ("what did Zelensky say about elections")."""

    topics: tuple[str, ...]
    query: str | None
    since: datetime
    until: datetime
    window_label: str
    explicit_window: bool
    unknown_topic: str | None = None  # the user's word that looked like a topic but is none
    suggestion: str | None = None  # the topic id it is closest to
    empty: bool = False  # no question at all (blank, a bare mention, a greeting)

    @property
    def corrected(self) -> bool:
        """The unknown word was close enough that ``suggestion`` was taken as a topic."""
        return self.suggestion is not None and self.suggestion in self.topics

    @property
    def window(self) -> TimeWindow:
        return TimeWindow(since=self.since, until=self.until, label=self.window_label)


# --- clean-up -----------------------------------------------------------------------------------

_QUOTES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "“": '"', "”": '"', "„": '"'})
_PREFIX = re.compile(
    r"^\s*(?:/brief\b|@briefbot\b|<@[!&]?[A-Za-z0-9]+>|briefbot\b)[\s,:]*", re.IGNORECASE
)
_SPLIT = re.compile(r"[\s,;&+|]+|(?<=[A-Za-z])/(?=[A-Za-z])")
_EDGE = "\"'?!.,;:()[]{}<>«»¿¡…"


def _words(text: str) -> list[str]:
    text = text[:MAX_INPUT].translate(_QUOTES)
    while True:
        stripped = _PREFIX.sub("", text, count=1)
        if stripped == text:
            break
        text = stripped
    out: list[str] = []
    for raw in _SPLIT.split(text):
        word = raw.strip(_EDGE)
        if word.endswith(":") or (word.endswith(".") and not word[:-1].isdigit()):
            word = word.rstrip(":.")
        if word:
            out.append(word)
    return out[:MAX_WORDS]


def _key(word: str) -> str:
    return fold(word).strip(_EDGE)


# --- time words ---------------------------------------------------------------------------------

_WEEKDAYS = {
    "monday": 0, "mon": 0, "tuesday": 1, "tue": 1, "tues": 1, "wednesday": 2, "wed": 2,
    "thursday": 3, "thu": 3, "thur": 3, "thurs": 3, "friday": 4, "fri": 4, "saturday": 5,
    "sat": 5, "sunday": 6, "sun": 6,
}  # fmt: skip
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4,
    "apr": 4, "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sep": 9, "sept": 9, "october": 10, "oct": 10, "november": 11, "nov": 11,
    "december": 12, "dec": 12,
}  # fmt: skip
_MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "few": 3,
    "a few": 3, "couple": 2, "a couple": 2, "couple of": 2, "a couple of": 2,
}  # fmt: skip
_UNITS = {
    "minutes": "minute", "minute": "minute", "mins": "minute", "min": "minute", "m": "minute",
    "hours": "hour", "hour": "hour", "hrs": "hour", "hr": "hour", "h": "hour",
    "days": "day", "day": "day", "d": "day", "weeks": "week", "week": "week", "wks": "week",
    "wk": "week", "w": "week",
}  # fmt: skip
_UNIT_SPAN = {
    "minute": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
    "week": timedelta(weeks=1),
}

_WD_ALL = "|".join(sorted(_WEEKDAYS, key=len, reverse=True))
_WD_FULL = "|".join(n.casefold() for n in _DAY_NAMES)
_MON = "|".join(sorted(_MONTHS, key=len, reverse=True))
_NUM = r"\d+|a couple of|a couple|couple of|couple|a few|few|" + "|".join(
    k for k in _NUMBERS if " " not in k and k not in ("few", "couple")
)
_UNIT = "|".join(sorted(_UNITS, key=len, reverse=True))
_CLOCK = r"\d{1,2}(?:[:.h]\d{2})?\s?(?:am|pm|a\.m\.|p\.m\.)|\d{1,2}[:.h]\d{2}"
_ORD = r"(?:st|nd|rd|th)?"
_IN = r"(?:(?:in|over|during|within|for|from) )?(?:the )?"


@dataclass(frozen=True, slots=True)
class _Ctx:
    now: datetime
    tz: ZoneInfo
    last_briefing: datetime | None

    @property
    def today(self) -> date:
        return self.now.astimezone(self.tz).date()

    def at(self, day: date, t: time = time(0)) -> datetime:
        return local_instant(day, t, self.tz)


_Rule = Callable[[re.Match[str], _Ctx], TimeWindow | None]


def _since(c: _Ctx, start: datetime, label: str) -> TimeWindow:
    return TimeWindow(since=start, until=c.now, label=label)


def _weekday_back(c: _Ctx, wd: int, *, strictly: bool = False) -> date:
    delta = (c.today.weekday() - wd) % 7
    if strictly and delta == 0:
        delta = 7
    return c.today - timedelta(days=delta)


def _r_briefing(m: re.Match[str], c: _Ctx) -> TimeWindow:
    if c.last_briefing is None:
        return _since(c, c.now - DEFAULT_WINDOW, "in the last 24 hours")
    return _since(c, c.last_briefing, "since the last briefing")


# "since Monday evening": where each part of a day starts, local.
_PARTS = {"morning": time(6, 0), "afternoon": time(12, 0), "evening": time(18, 0)}
_PART = r"(?: (?P<part>morning|afternoon|evening|night))?"


def _part(m: re.Match[str]) -> tuple[time, str]:
    part = m["part"]
    if not part:
        return time(0), ""
    part = "evening" if part == "night" else part
    return _PARTS[part], f" {part}"


def _r_since_weekday(m: re.Match[str], c: _Ctx) -> TimeWindow:
    wd = _WEEKDAYS[m["wd"]]
    day = _weekday_back(c, wd, strictly=bool(m["last"]))
    at, said = _part(m)
    return _since(c, c.at(day, at), f"since {_DAY_NAMES[wd]}{said}")


def _r_on_weekday(m: re.Match[str], c: _Ctx) -> TimeWindow:
    wd = _WEEKDAYS[m["wd"]]
    day = _weekday_back(c, wd, strictly=bool(m["last"]))
    return TimeWindow(
        since=c.at(day), until=c.at(day + timedelta(days=1)), label=f"on {_DAY_NAMES[wd]}"
    )


def _r_today(m: re.Match[str], c: _Ctx) -> TimeWindow:
    said = m[0].removeprefix("so far ").removesuffix(" so far")
    return _since(c, c.at(c.today), said if said.startswith("since") else "today")


def _r_since_yesterday(m: re.Match[str], c: _Ctx) -> TimeWindow:
    at, said = _part(m)
    return _since(c, c.at(c.today - timedelta(days=1), at), f"since yesterday{said}")


def _r_yesterday(m: re.Match[str], c: _Ctx) -> TimeWindow:
    return TimeWindow(
        since=c.at(c.today - timedelta(days=1)), until=c.at(c.today), label="yesterday"
    )


def _r_morning(m: re.Match[str], c: _Ctx) -> TimeWindow:
    return TimeWindow(
        since=c.at(c.today), until=min(c.now, c.at(c.today, MORNING_ENDS)), label="this morning"
    )


def _r_overnight(m: re.Match[str], c: _Ctx) -> TimeWindow:
    since = c.at(c.today - timedelta(days=1), EVENING)
    local = c.now.astimezone(c.tz).time()
    until = c.now if local < MORNING_ENDS else c.at(c.today, NIGHT_ENDS)
    return TimeWindow(since=since, until=until, label="overnight")


def _r_this_week(m: re.Match[str], c: _Ctx) -> TimeWindow:
    return _since(c, c.at(_weekday_back(c, 0)), "this week")


def _r_last_week(m: re.Match[str], c: _Ctx) -> TimeWindow:
    monday = _weekday_back(c, 0)
    return TimeWindow(since=c.at(monday - timedelta(days=7)), until=c.at(monday), label="last week")


def _r_this_month(m: re.Match[str], c: _Ctx) -> TimeWindow:
    return _since(c, c.at(c.today.replace(day=1)), "this month")


def _r_duration(m: re.Match[str], c: _Ctx) -> TimeWindow | None:
    raw_n = m["n"]
    n = 1 if raw_n is None else (int(raw_n) if raw_n.isdigit() else _NUMBERS[raw_n])
    unit = _UNITS[m["unit"]]
    if n <= 0:
        return None
    if unit == "day" and n == 1:
        label = "in the last 24 hours"
    elif n == 1:
        label = f"in the last {unit}"
    else:
        label = f"in the last {n} {unit}s"
    span = _UNIT_SPAN[unit] * min(n, 10_000)
    return _since(c, c.now - min(span, MAX_LOOKBACK * 2), label)


def _date_label(day: date, c: _Ctx) -> str:
    text = f"{day.day} {_MONTH_NAMES[day.month - 1]}"
    return text if day.year == c.today.year else f"{text} {day.year}"


def _recent(c: _Ctx, month: int, day: int) -> date | None:
    for year in (c.today.year, c.today.year - 1):
        try:
            d = date(year, month, day)
        except ValueError:
            return None
        if d <= c.today:
            return d
    return None  # pragma: no cover - last year's date is always in the past


def _r_since_iso(m: re.Match[str], c: _Ctx) -> TimeWindow | None:
    try:
        day = date.fromisoformat(m["iso"])
    except ValueError:
        return None
    return _since(c, c.at(day), f"since {_date_label(day, c)}")


def _r_since_month_day(m: re.Match[str], c: _Ctx) -> TimeWindow | None:
    day = _recent(c, _MONTHS[m["mon"]], int(m["d"]))
    if day is None:
        return None
    return _since(c, c.at(day), f"since {_date_label(day, c)}")


def _r_since_clock(m: re.Match[str], c: _Ctx) -> TimeWindow | None:
    try:
        t = parse_hhmm(m["clock"])
    except ValueError:
        return None
    hhmm = t.strftime("%H:%M")
    if m["yday"]:
        return _since(c, c.at(c.today - timedelta(days=1), t), f"since {hhmm} yesterday")
    start = c.at(c.today, t)
    if start > c.now:
        return _since(c, c.at(c.today - timedelta(days=1), t), f"since {hhmm} yesterday")
    return _since(c, start, f"since {hhmm}")


_YDAY = r"(?:(?P<yday>yesterday)|today)"
_RULES: tuple[tuple[re.Pattern[str], _Rule], ...] = tuple(
    (re.compile(pattern + r"(?= |$)"), rule)
    for pattern, rule in (
        (
            r"since (?:the |my |our |your |this )?(?:last |previous )?(?:morning )?briefing",
            _r_briefing,
        ),
        (rf"(?:since|from) (?P<last>last )?(?P<wd>{_WD_ALL}){_PART}", _r_since_weekday),
        (rf"(?:(?:on|for) )?(?P<last>last )?(?P<wd>{_WD_FULL})", _r_on_weekday),
        (rf"since yesterday{_PART}", _r_since_yesterday),
        (r"(?:(?:from|for|of|on) )?yesterday", _r_yesterday),
        (r"(?:(?:so far )?today(?: so far)?|since midnight|since this morning)", _r_today),
        (r"(?:in |during |from )?this morning", _r_morning),
        (
            r"(?:since |from |during )?"
            r"(?:overnight|over night|over the night|last night|the night|during the night)",
            _r_overnight,
        ),
        (r"(?:(?:from|for|during|of|in) )?this week", _r_this_week),
        (r"(?:(?:from|for|during|of|in) )?last week", _r_last_week),
        (r"(?:(?:from|for|during|of|in) )?this month", _r_this_month),
        (rf"{_IN}(?:last|past|previous) (?:(?P<n>{_NUM}) ?)?(?P<unit>{_UNIT})", _r_duration),
        (rf"(?:in|within|over|during) (?:the )?(?P<n>\d+) ?(?P<unit>{_UNIT})", _r_duration),
        (r"(?:since|from) (?P<iso>\d{4}-\d{2}-\d{2})", _r_since_iso),
        (rf"(?:since|from) (?P<mon>{_MON})\.? (?P<d>\d{{1,2}}){_ORD}", _r_since_month_day),
        (
            rf"(?:since|from) (?:the )?(?P<d>\d{{1,2}}){_ORD} (?:of )?(?P<mon>{_MON})",
            _r_since_month_day,
        ),
        (rf"(?:since|from) (?P<clock>{_CLOCK})(?: {_YDAY})?", _r_since_clock),
        (rf"(?:since|from) {_YDAY} (?:at )?(?P<clock>{_CLOCK})", _r_since_clock),
    )
)


def default_window(now: datetime, last_briefing: datetime | None = None) -> TimeWindow:
    """The window of a question that names none: since the last briefing, else 24 hours."""
    now = now.astimezone(UTC)
    if last_briefing is not None:
        last_briefing = utc(last_briefing)
        return _clamp(TimeWindow(since=last_briefing, until=now, label="since the last briefing"))
    return TimeWindow(since=now - DEFAULT_WINDOW, until=now, label="in the last 24 hours")


def _clamp(w: TimeWindow, now: datetime | None = None) -> TimeWindow:
    until = w.until.astimezone(UTC)
    if now is not None:
        until = min(until, now)
    since = w.since.astimezone(UTC)
    label = w.label
    if since < until - MAX_LOOKBACK:
        since = until - MAX_LOOKBACK
        label = f"in the last {MAX_LOOKBACK.days} days"
    return TimeWindow(since=min(since, until), until=until, label=label)


def parse_time_words(
    words: Sequence[str],
    now: datetime,
    tz: ZoneInfo | str,
    *,
    last_briefing: datetime | None = None,
) -> tuple[tuple[str, ...], TimeWindow | None]:
    """Split command arguments into the words that are not time words and the window the time
    words name (None when there are none): ``["territory", "since", "Monday"]`` →
    ``(("territory",), TimeWindow(since=<Monday 00:00 local>, until=now, label="since Monday"))``.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    now = now.astimezone(UTC)
    words = [part for w in words for part in w.split()]
    keys = [_key(w) for w in words]
    text = " ".join(keys)
    starts: list[int] = []
    offset = 0
    for k in keys:
        starts.append(offset)
        offset += len(k) + 1
    last = utc(last_briefing) if last_briefing is not None else None
    ctx = _Ctx(now=now, tz=zone(tz), last_briefing=last)
    window: TimeWindow | None = None
    taken: set[int] = set()
    i = 0
    while i < len(words):
        found = _match_at(text, starts[i], ctx)
        if found is None:
            i += 1
            continue
        end, w = found
        j = i
        while j < len(words) and starts[j] < end:
            taken.add(j)
            j += 1
        if window is None:
            window = _clamp(w, now)
        i = j
    rest = tuple(w for n, w in enumerate(words) if n not in taken)
    return rest, window


SINCE_EXAMPLES = "since Monday, yesterday, overnight, 3h, 08:00 or 2026-01-03"


def parse_since(
    text: str,
    now: datetime,
    tz: ZoneInfo | str,
    *,
    last_briefing: datetime | None = None,
) -> TimeWindow:
    """A window from a platform's own ``since`` option (Discord's ``/brief whatsnew since:``),
    where the user may leave out "since": "Monday", "yesterday", "3h", "08:00", "2026-01-03",
    "this week". Raises ``ValueError`` with examples when the text is no time."""
    words = _words(text)
    for prefix in (("since",), (), ("last",)):
        rest, window = parse_time_words([*prefix, *words], now, tz, last_briefing=last_briefing)
        if window is not None and not rest:
            return window
    raise ValueError(f"I can't read '{text.strip()}' as a time; try {SINCE_EXAMPLES}")


def _match_at(text: str, pos: int, ctx: _Ctx) -> tuple[int, TimeWindow] | None:
    for pattern, rule in _RULES:
        m = pattern.match(text, pos)
        if m is None:
            continue
        w = rule(m, ctx)
        if w is not None:
            return m.end(), w
    return None


# --- topics -------------------------------------------------------------------------------------

_STOP = frozenset(
    """
    a about above across after again against also am an and any anybody anyone anything are
    around as at be been before being brief briefbot briefing bring but by can catch could
    current currently day developments development did do does doing done else ever
    everything's fill for from get give go goes going got had happen happened happening
    happens has have having headlines hello help hey hi how i if in info information into is
    it it's its just know last latest lately let let's like me more most my new news now of
    ok okay on or our please pls plus re recent recently regarding related report reports right
    s say see show since situation so some something status stories story summarize summary
    tell thank thanks that that's the there there's these thing things this those to today's
    up update updated updates us was we were what what's whats whatsnew when where which who
    with would yo you your
    morning afternoon evening tonight decide decided decides agree agreed agrees approve
    approved approves sign signed signs
    """.split()  # noqa: SIM905
)
_GREETINGS = frozenset(
    "hi hello hey yo there thanks thank you ok okay cheers please pls ping test".split()  # noqa: SIM905
)
_STAR_WORDS = frozenset({"*", "all", "everything"})
# Words that name the whole story rather than something in it: a question left with only these
# ("what's new in Ukraine", "anything on the war") is about the channel's topics, not a search.
_STORY_WORDS = frozenset(
    "war the conflict story ukraine ukrainian russia russian russia-ukraine ukraine-russia".split()  # noqa: SIM905
)
_SPEAKER_AUX = frozenset({"did", "has", "have", "is", "was", "does", "do", "had"})
_SPEAKER_VERBS = frozenset(
    """
    say said saying says announce announced announcing tell told telling claim claimed claiming
    propose proposed proposing write wrote writing post posted posting tweet tweeted do done
    doing offer offered offering demand demanded demanding suggest suggested suggesting
    """.split()  # noqa: SIM905
)


@dataclass(frozen=True, slots=True)
class _Phrase:
    words: tuple[str, ...]
    prefix_last: bool
    topic_id: str


@functools.lru_cache(maxsize=16)
def _phrases(story: Story) -> tuple[_Phrase, ...]:
    """Every way of naming a topic in two words or more, longest first."""
    seen: dict[tuple[str, ...], _Phrase] = {}
    for topic in story.topics:
        for name in (topic.id, topic.name, *topic.aliases):
            prefix = name.endswith("*")
            parts = (_key(x) for x in name.rstrip("*").replace("-", " ").split())
            words = tuple(w for w in parts if w)
            if len(words) < 2:
                continue
            phrase = _Phrase(words=words, prefix_last=prefix, topic_id=topic.id)
            if words not in seen or (
                # an alias several topics share goes to the one whose description names it
                " ".join(words) in fold(topic.description)
                and " ".join(words) not in fold(_topic(story, seen[words].topic_id).description)
            ):
                seen[words] = phrase
    return tuple(sorted(seen.values(), key=lambda p: -len(p.words)))


def _topic(story: Story, topic_id: str) -> Topic:
    return next(t for t in story.topics if t.id == topic_id)


def _phrase_at(keys: Sequence[str], i: int, phrases: Sequence[_Phrase]) -> _Phrase | None:
    for p in phrases:
        n = len(p.words)
        if i + n > len(keys):
            continue
        head, last = keys[i : i + n - 1], keys[i + n - 1]
        if tuple(head) != p.words[:-1]:
            continue
        want = p.words[-1]
        if last == want or last == want + "s" or (p.prefix_last and last.startswith(want)):
            return p
    return None


@functools.lru_cache(maxsize=4096)
def _resolve(story: Story, word: str) -> TopicResolution:
    return resolve_topic(story, word)


def _strip_possessive(word: str) -> str:
    return word[:-2] if word.casefold().endswith("'s") and len(word) > 3 else word


def _closeness(word: str, topic_id: str, story: Story) -> float:
    key = _key(word)
    best = 0.0
    for t in story.topics:
        if t.id != topic_id:
            continue
        for name in (t.id, t.name):
            best = max(best, difflib.SequenceMatcher(None, key, _key(name)).ratio())
    return best


@dataclass(slots=True)
class _Reading:
    topics: list[str]
    leftover: list[str]
    unknown: str | None = None
    suggestion: str | None = None


def _read_topics(words: Sequence[str], story: Story) -> _Reading:
    reading = _Reading(topics=[], leftover=[])
    keys = [_key(w) for w in words]
    phrases = _phrases(story)
    i = 0
    while i < len(words):
        phrase = _phrase_at(keys, i, phrases)
        if phrase is not None:
            reading.topics.append(phrase.topic_id)
            i += len(phrase.words)
            continue
        word, key = words[i], keys[i]
        i += 1
        if key in _STAR_WORDS:
            reading.topics.append(STAR)
            continue
        if key in _STOP or not any(ch.isalnum() for ch in key):
            continue
        bare = _strip_possessive(word)
        resolution = _resolve(story, bare)
        if resolution.topic_id is not None:
            reading.topics.append(resolution.topic_id)
            continue
        if resolution.suggestion is not None and reading.unknown is None:
            reading.unknown, reading.suggestion = bare, resolution.suggestion
            if _closeness(bare, resolution.suggestion, story) >= AUTOCORRECT:
                reading.topics.append(resolution.suggestion)
            continue
        reading.leftover.append(bare)
    reading.topics = list(dict.fromkeys(reading.topics))
    if all(_key(w) in _STORY_WORDS for w in reading.leftover):
        reading.leftover = []  # "what's new in Ukraine": the story itself, not a search
    if STAR in reading.topics:
        reading.topics = [STAR]
    return reading


def _speaker(words: Sequence[str]) -> tuple[list[str], list[str]] | None:
    """ "what did Witkoff say about territory" → (["Witkoff"], ["about", "territory"])."""
    keys = [_key(w) for w in words]
    for i in range(len(keys) - 2):
        if keys[i] not in ("what", "whatd") or keys[i + 1] not in _SPEAKER_AUX:
            continue
        for j in range(i + 2, min(len(keys), i + 8)):
            if keys[j] in _SPEAKER_VERBS and j > i + 2:
                who = [w for w in words[i + 2 : j] if _key(w) not in ("the", "a", "an")]
                if who:
                    return [_strip_possessive(w) for w in who], [*words[:i], *words[j + 1 :]]
                return None
    return None


def parse_question(
    text: str,
    *,
    story: Story,
    now: datetime,
    tz: ZoneInfo | str,
    last_briefing: datetime | None = None,
) -> Question:
    """Read one message to the bot. Never raises on what a user types (a bad ``tz`` raises
    ``ValueError``; a naive ``now`` too)."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    now = now.astimezone(UTC)
    z = zone(tz)
    if last_briefing is not None:
        last_briefing = utc(last_briefing)
    words = _words(text)
    rest, window = parse_time_words(words, now, z, last_briefing=last_briefing)
    explicit = window is not None
    if window is None:
        window = default_window(now, last_briefing)
    keys = [_key(w) for w in rest]
    empty = not explicit and all(k in _GREETINGS or not any(c.isalnum() for c in k) for k in keys)
    query_words: list[str] = []
    speaker = _speaker(rest)
    if speaker is not None:
        query_words, rest = list(speaker[0]), tuple(speaker[1])
    reading = _read_topics(rest, story)
    query_words.extend(reading.leftover)
    query = " ".join(query_words) or None
    return Question(
        topics=tuple(reading.topics),
        query=query,
        since=window.since,
        until=window.until,
        window_label=window.label,
        explicit_window=explicit,
        unknown_topic=reading.unknown,
        suggestion=reading.suggestion,
        empty=empty,
    )
