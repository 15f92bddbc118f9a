# ruff: noqa: E501  (the phrasings read best one to a line)
"""What people type to the bot, read into topics, search terms and a time window.

The phrasings are the team's own. ``NOW`` is Wednesday 2026-01-07 09:00 UTC, 11:00 in Kyiv
(EET, UTC+2): Kyiv's midnight is 22:00 UTC the day before.
"""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import load_story
from bot.domain import STAR, Story, Topic
from bot.services.questions import (
    MAX_LOOKBACK,
    Question,
    parse_question,
    parse_since,
    parse_time_words,
)

NOW = datetime(2026, 1, 7, 9, 0, tzinfo=UTC)
KYIV = "Europe/Kyiv"

STORY = Story(
    id="talks",
    name="Russia–Ukraine war and peace talks",
    description="The talks",
    terms=("ukrain*", "kyiv", "zaporizh*"),
    topics=(
        Topic(
            id="negotiations",
            name="Negotiations",
            description="Envoys and drafts.",
            aliases=(
                "peace talks",
                "peace",
                "talks",
                "witkoff",
                "envoy*",
                "coalition of the willing",
            ),
        ),
        Topic(
            id="territory",
            name="Territory",
            description="Land and lines.",
            aliases=("territor*", "donbas", "land swap", "buffer zone"),
        ),
        Topic(id="nato", name="NATO", description="The alliance.", aliases=("nato", "article 5")),
        Topic(
            id="security-guarantees",
            name="Security guarantees",
            description="Guarantees and the coalition of the willing.",
            aliases=("security guarantee*", "guarantee*", "coalition of the willing", "peacekeep*"),
        ),
        Topic(
            id="sanctions",
            name="Sanctions",
            description="Pressure on Russia's economy.",
            aliases=("sanction*", "shadow fleet", "price cap", "oil cap"),
        ),
        Topic(
            id="fighting",
            name="Fighting",
            description="Strikes and the front.",
            aliases=("strike*", "drone*", "front line", "missile*"),
        ),
        Topic(
            id="kyiv-politics",
            name="Politics in Kyiv",
            description="Ukraine's own politics.",
            aliases=("yermak", "cabinet", "verkhovna rada", "corruption"),
        ),
        Topic(
            id="europe",
            name="Europe",
            description="European governments.",
            aliases=("eu", "european union", "macron", "coalition of the willing"),
        ),
    ),
)


def u(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def ask(text: str, now: datetime = NOW, **kw: object) -> Question:
    return parse_question(text, story=STORY, now=now, tz=kw.pop("tz", KYIV), **kw)  # type: ignore[arg-type]


DAY = u(1, 6, 9)  # NOW minus 24 hours
MIDNIGHT = u(1, 6, 22)  # 00:00 Kyiv on Wednesday 7 January
MONDAY = u(1, 4, 22)  # 00:00 Kyiv on Monday 5 January

# text, topics, query, since, until, label, explicit
PHRASINGS: list[tuple[str, tuple[str, ...], str | None, datetime, datetime, str, bool]] = [
    ("what's new on NATO?", ("nato",), None, DAY, NOW, "in the last 24 hours", False),
    ("What’s new on nato", ("nato",), None, DAY, NOW, "in the last 24 hours", False),
    ("@briefbot what's new on NATO", ("nato",), None, DAY, NOW, "in the last 24 hours", False),
    ("<@U0BOT> latest on nato!!", ("nato",), None, DAY, NOW, "in the last 24 hours", False),
    ("anything on Donbas since Monday", ("territory",), None, MONDAY, NOW, "since Monday", True),
    ("/brief whatsnew territory since Monday", ("territory",), None, MONDAY, NOW, "since Monday", True),
    ("latest on security guarantees", ("security-guarantees",), None, DAY, NOW, "in the last 24 hours", False),
    ("Security Guarantee news", ("security-guarantees",), None, DAY, NOW, "in the last 24 hours", False),
    ("what happened overnight?", (), None, u(1, 6, 16), NOW, "overnight", True),
    ("anything last night on the front line", ("fighting",), None, u(1, 6, 16), NOW, "overnight", True),
    ("news about the Zaporizhzhia plant", (), "Zaporizhzhia plant", DAY, NOW, "in the last 24 hours", False),
    ("what did Witkoff say this week", (), "Witkoff", MONDAY, NOW, "this week", True),
    ("What has Rubio said about territory since Tuesday?", ("territory",), "Rubio", u(1, 5, 22), NOW, "since Tuesday", True),
    ("nato and territory", ("nato", "territory"), None, DAY, NOW, "in the last 24 hours", False),
    ("NATO, Europe & sanctions", ("nato", "europe", "sanctions"), None, DAY, NOW, "in the last 24 hours", False),
    ("nato/territory", ("nato", "territory"), None, DAY, NOW, "in the last 24 hours", False),
    ("any news about politics in Kyiv?", ("kyiv-politics",), None, DAY, NOW, "in the last 24 hours", False),
    ("kyiv politics today", ("kyiv-politics",), None, MIDNIGHT, NOW, "today", True),
    ("tell me about the coalition of the willing", ("security-guarantees",), None, DAY, NOW, "in the last 24 hours", False),
    ("what happened yesterday in Europe", ("europe",), None, u(1, 5, 22), MIDNIGHT, "yesterday", True),
    ("since yesterday, sanctions", ("sanctions",), None, u(1, 5, 22), NOW, "since yesterday", True),
    ("fighting last 48h", ("fighting",), None, u(1, 5, 9), NOW, "in the last 48 hours", True),
    ("strikes in the last 3 hours", ("fighting",), None, u(1, 7, 6), NOW, "in the last 3 hours", True),
    ("/brief whatsnew sanctions past 2 days", ("sanctions",), None, u(1, 5, 9), NOW, "in the last 2 days", True),
    ("nato past hour", ("nato",), None, u(1, 7, 8), NOW, "in the last hour", True),
    ("drones in the last 30 minutes", ("fighting",), None, u(1, 7, 8, 30), NOW, "in the last 30 minutes", True),
    ("territory over the past few days", ("territory",), None, u(1, 4, 9), NOW, "in the last 3 days", True),
    ("peace talks in the past week", ("negotiations",), None, u(12, 31, 9, year=2025), NOW, "in the last week", True),
    ("anything since 2026-01-03?", (), None, u(1, 2, 22), NOW, "since 3 January", True),
    ("news since Jan 3", (), None, u(1, 2, 22), NOW, "since 3 January", True),
    ("sanctions since the 3rd of January", ("sanctions",), None, u(1, 2, 22), NOW, "since 3 January", True),
    ("since Dec 25", (), None, u(12, 24, 22, year=2025), NOW, "since 25 December 2025", True),
    ("nato since 08:00", ("nato",), None, u(1, 7, 6), NOW, "since 08:00", True),
    ("since 8am", (), None, u(1, 7, 6), NOW, "since 08:00", True),
    ("since 12:00", (), None, u(1, 6, 10), NOW, "since 12:00 yesterday", True),
    ("nato since 07:30 yesterday", ("nato",), None, u(1, 6, 5, 30), NOW, "since 07:30 yesterday", True),
    ("what happened this morning", (), None, MIDNIGHT, NOW, "this morning", True),
    ("what happened last week on negotiations", ("negotiations",), None, u(12, 28, 22, year=2025), MONDAY, "last week", True),
    ("anything on the shadow fleet since Friday", ("sanctions",), None, u(1, 1, 22), NOW, "since Friday", True),
    ("since last Monday", (), None, MONDAY, NOW, "since Monday", True),
    ("europe on Monday", ("europe",), None, MONDAY, u(1, 5, 22), "on Monday", True),
    ("anything since Wednesday", (), None, MIDNIGHT, NOW, "since Wednesday", True),
    ("what's new?", (), None, DAY, NOW, "in the last 24 hours", False),
    ("what's new on everything", (STAR,), None, DAY, NOW, "in the last 24 hours", False),
    ("what's new in Ukraine", (), None, DAY, NOW, "in the last 24 hours", False),
    ("anything on the war since midnight", (), None, MIDNIGHT, NOW, "since midnight", True),
    ("news on peacekeepers", ("security-guarantees",), None, DAY, NOW, "in the last 24 hours", False),
    ("what's going on with the buffer zone", ("territory",), None, DAY, NOW, "in the last 24 hours", False),
    ("catch me up on Macron please", ("europe",), None, DAY, NOW, "in the last 24 hours", False),
    ("any updates on Yermak's replacement", ("kyiv-politics",), "replacement", DAY, NOW, "in the last 24 hours", False),
    ("this month", (), None, u(12, 31, 22, year=2025), NOW, "this month", True),
    ("since 2025-06-01", (), None, NOW - MAX_LOOKBACK, NOW, "in the last 30 days", True),
    ("since Monday morning", (), None, u(1, 5, 4), NOW, "since Monday morning", True),
    ("nato since yesterday evening", ("nato",), None, u(1, 6, 16), NOW, "since yesterday evening", True),
    ("what did the EU decide on the price cap", ("europe", "sanctions"), None, DAY, NOW, "in the last 24 hours", False),
    ("What did Zelensky say about Yermak?", ("kyiv-politics",), "Zelensky", DAY, NOW, "in the last 24 hours", False),
    ("anything on Pokrovsk since the last briefing", (), "Pokrovsk", DAY, NOW, "in the last 24 hours", True),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "topics", "query", "since", "until", "label", "explicit"),
    PHRASINGS,
    ids=[p[0] for p in PHRASINGS],
)
def test_phrasings(
    text: str,
    topics: tuple[str, ...],
    query: str | None,
    since: datetime,
    until: datetime,
    label: str,
    explicit: bool,
) -> None:
    q = ask(text)
    assert q.topics == topics
    assert q.query == query
    assert (q.since, q.until) == (since, until)
    assert q.window_label == label
    assert q.explicit_window is explicit
    assert not q.empty
    assert q.since.tzinfo is not None and q.since.utcoffset() == timedelta(0)


def test_there_are_at_least_forty_phrasings() -> None:
    assert len({p[0] for p in PHRASINGS}) >= 40


# --- daylight saving ------------------------------------------------------------------------

SPRING = datetime(2026, 3, 30, 9, 0, tzinfo=UTC)  # Monday 12:00 EEST; clocks went forward on Sunday


@pytest.mark.parametrize(
    ("text", "since", "until", "label"),
    [
        ("since yesterday", u(3, 28, 22), SPRING, "since yesterday"),  # 00:00 EET
        ("yesterday", u(3, 28, 22), u(3, 29, 21), "yesterday"),  # a 23-hour day
        ("this week", u(3, 29, 21), SPRING, "this week"),  # 00:00 EEST
        ("since Monday", u(3, 29, 21), SPRING, "since Monday"),  # today is Monday
        ("since last Monday", u(3, 22, 22), SPRING, "since Monday"),
        ("overnight", u(3, 29, 15), u(3, 30, 6), "overnight"),  # asked at noon: until 09:00
        ("since 03:30 yesterday", u(3, 29, 1), SPRING, "since 03:30 yesterday"),  # skipped hour
        ("in the last 24 hours", u(3, 29, 9), SPRING, "in the last 24 hours"),
    ],
)
def test_windows_across_the_spring_change(
    text: str, since: datetime, until: datetime, label: str
) -> None:
    q = ask(text, SPRING)
    assert (q.since, q.until, q.window_label) == (since, until, label)


def test_the_autumn_yesterday_is_25_hours_long() -> None:
    q = ask("what happened yesterday", datetime(2026, 10, 26, 6, 0, tzinfo=UTC))
    assert (q.since, q.until) == (u(10, 24, 21), u(10, 25, 22))
    assert q.until - q.since == timedelta(hours=25)


def test_the_same_words_in_another_zone() -> None:
    q = ask("since Monday", tz="America/New_York")  # 00:00 EST is 05:00 UTC
    assert q.since == u(1, 5, 5)
    utc = ask("today", tz="UTC")
    assert utc.since == u(1, 7, 0)


# --- default windows ------------------------------------------------------------------------


def test_default_window_is_since_the_last_briefing() -> None:
    q = ask("what's new on nato", last_briefing=u(1, 7, 5, 30))
    assert (q.since, q.until, q.window_label) == (u(1, 7, 5, 30), NOW, "since the last briefing")
    assert not q.explicit_window
    # a named window wins over the briefing
    assert ask("nato since Monday", last_briefing=u(1, 7, 5, 30)).since == MONDAY
    asked = ask("anything since my last briefing", last_briefing=u(1, 7, 5, 30))
    assert asked.since == u(1, 7, 5, 30) and asked.explicit_window


def test_windows_are_clamped() -> None:
    old = ask("nato", last_briefing=u(9, 1, 0, year=2025))
    assert old.since == NOW - MAX_LOOKBACK and old.window_label == "in the last 30 days"
    long = ask("nato in the last 400 days")
    assert long.since == NOW - MAX_LOOKBACK
    future = ask("since 2026-03-01")  # not yet: an empty window, never reversed
    assert future.since == future.until == NOW


# --- unknown topics and empty questions --------------------------------------------------------


def test_a_misspelt_topic_is_read_and_flagged() -> None:
    q = ask("what's new on natto")
    assert q.topics == ("nato",)
    assert (q.unknown_topic, q.suggestion, q.corrected) == ("natto", "nato", True)
    assert q.query is None
    q = ask("sanctons in the last 3 hours")
    assert q.topics == ("sanctions",) and q.corrected and q.since == u(1, 7, 6)


def test_a_word_near_a_topic_is_a_suggestion_only() -> None:
    q = ask("what's new on security")
    assert q.topics == ()
    assert (q.unknown_topic, q.suggestion, q.corrected) == (
        "security",
        "security-guarantees",
        False,
    )


def test_an_unknown_word_is_a_search() -> None:
    q = ask("anything about blorf")
    assert (q.topics, q.query, q.unknown_topic, q.suggestion) == ((), "blorf", None, None)


@pytest.mark.parametrize(
    "text", ["", "   ", "@briefbot", "<@U0BOT>", "?!", "hi", "Hello there!", "/brief"]
)
def test_empty_questions(text: str) -> None:
    q = ask(text)
    assert q.empty
    assert (q.topics, q.query) == ((), None)
    assert (q.since, q.until) == (DAY, NOW)


def test_garbage_never_raises() -> None:
    for text in [
        "\x00\x01",
        "🙂" * 50,
        "since since since",
        "x" * 100_000,
        "last last 99999999999 h",
    ]:
        q = ask(text)
        assert q.since <= q.until == NOW


def test_an_impossible_date_is_not_a_window() -> None:
    q = ask("since 2026-02-30")
    assert not q.explicit_window


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_question("nato", story=STORY, now=datetime(2026, 1, 7, 9, 0), tz=KYIV)


# --- the command path -----------------------------------------------------------------------


def test_parse_time_words_splits_topic_words_from_the_window() -> None:
    rest, window = parse_time_words(["territory", "since", "Monday"], NOW, KYIV)
    assert rest == ("territory",)
    assert window is not None
    assert (window.since, window.until, window.label) == (MONDAY, NOW, "since Monday")


def test_parse_time_words_keeps_the_users_words() -> None:
    rest, window = parse_time_words(["Politics", "in", "Kyiv", "past", "2", "days"], NOW, KYIV)
    assert rest == ("Politics", "in", "Kyiv")
    assert window is not None and window.since == u(1, 5, 9)
    assert parse_time_words(["nato"], NOW, KYIV) == (("nato",), None)
    assert parse_time_words([], NOW, KYIV) == ((), None)


# --- the deployment's own topics ---------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("text", "topics", "query"),
    [
        ("what's new on NATO?", ("nato",), None),
        ("anything on Donbas since Monday", ("territory",), None),
        ("latest on security guarantees", ("security-guarantees",), None),
        ("what happened overnight?", (), None),
        ("news about the Zaporizhzhia plant", (), "Zaporizhzhia plant"),
        ("what did Witkoff say this week", (), "Witkoff"),
        ("any news about politics in Kyiv", ("kyiv-politics",), None),
        ("what's new on natto", ("nato",), None),
    ],
)
def test_the_issue_phrasings_on_the_configured_topics(
    text: str, topics: tuple[str, ...], query: str | None
) -> None:
    story = load_story(ROOT / "config" / "topics.toml")
    q = parse_question(text, story=story, now=NOW, tz=KYIV)
    assert (q.topics, q.query) == (topics, query)


@pytest.mark.parametrize(
    ("text", "since", "label"),
    [
        ("Monday", MONDAY, "since Monday"),
        ("since Monday", MONDAY, "since Monday"),
        ("yesterday", u(1, 5, 22), "since yesterday"),
        ("3h", u(1, 7, 6), "in the last 3 hours"),
        ("08:00", u(1, 7, 6), "since 08:00"),
        ("2026-01-03", u(1, 2, 22), "since 3 January"),
        ("this week", MONDAY, "this week"),
        ("overnight", u(1, 6, 16), "overnight"),
    ],
)
def test_parse_since_reads_a_platform_option(text: str, since: datetime, label: str) -> None:
    window = parse_since(text, NOW, KYIV)
    assert (window.since, window.label) == (since, label)


@pytest.mark.parametrize("text", ["soon", "", "nato", "Monday nato"])
def test_parse_since_rejects_what_is_no_time(text: str) -> None:
    with pytest.raises(ValueError) as error:
        parse_since(text, NOW, KYIV)
    assert str(error.value) == (
        f"I can't read '{text}' as a time; "
        "try since Monday, yesterday, overnight, 3h, 08:00 or 2026-01-03"
    )


def test_time_words_given_as_one_argument() -> None:
    rest, window = parse_time_words(["territory", "since Monday"], NOW, KYIV)
    assert rest == ("territory",) and window is not None and window.since == MONDAY


def test_a_naive_last_briefing_is_read_as_utc() -> None:
    q = ask("nato", last_briefing=datetime(2026, 1, 7, 5, 30))
    assert q.since == u(1, 7, 5, 30)


def test_this_morning_asked_in_the_afternoon_ends_at_noon() -> None:
    afternoon = u(1, 7, 13)  # 15:00 Kyiv
    q = ask("what happened this morning", afternoon)
    assert (q.since, q.until) == (MIDNIGHT, u(1, 7, 10))
    night = ask("overnight", afternoon)
    assert (night.since, night.until) == (u(1, 6, 16), u(1, 7, 7))  # 18:00 to 09:00 Kyiv
