"""Briefing instants, quiet hours and settings, on a fake clock (the functions take ``now``)."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain import Channel, ChannelMode, ChannelRef
from bot.services.schedule import (
    DEFAULT_BRIEFING_TIME,
    BriefingSetting,
    Hold,
    QuietHours,
    briefing_due,
    briefing_time_of,
    briefing_window,
    briefings_between,
    hold_alert,
    in_quiet_hours,
    local_date,
    local_instant,
    next_briefing,
    next_run_date,
    parse_briefing_setting,
    parse_hhmm,
    parse_quiet,
    parse_timezone,
    quiet_ends,
)

KYIV = ZoneInfo("Europe/Kyiv")
AT = time(7, 30)


def u(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[arg-type,misc]


def test_kyiv_zone_is_available() -> None:
    assert datetime(2026, 7, 1, tzinfo=KYIV).utcoffset() == timedelta(hours=3)


# --- a week of briefings across the autumn change (last Sunday of October) ----------------------


def test_a_week_of_briefings_across_the_october_change() -> None:
    now = u(2026, 10, 21, 12, 0)
    fired = []
    for _ in range(7):
        now = next_briefing(now, AT, KYIV)
        fired.append(now)
    assert fired == [
        u(2026, 10, 22, 4, 30),  # EEST, UTC+3
        u(2026, 10, 23, 4, 30),
        u(2026, 10, 24, 4, 30),
        u(2026, 10, 25, 5, 30),  # the clocks went back at 04:00 local: EET, UTC+2
        u(2026, 10, 26, 5, 30),
        u(2026, 10, 27, 5, 30),
        u(2026, 10, 28, 5, 30),
    ]
    assert [local_date(f, KYIV) for f in fired] == [date(2026, 10, d) for d in range(22, 29)]
    assert all(f.astimezone(KYIV).time() == AT for f in fired)


def test_a_week_of_briefings_across_the_march_change() -> None:
    now = u(2026, 3, 26, 12, 0)
    fired = []
    for _ in range(5):
        now = next_briefing(now, AT, "Europe/Kyiv")
        fired.append(now)
    assert fired == [
        u(2026, 3, 27, 5, 30),
        u(2026, 3, 28, 5, 30),
        u(2026, 3, 29, 4, 30),  # summer time from 03:00 local that morning
        u(2026, 3, 30, 4, 30),
        u(2026, 3, 31, 4, 30),
    ]


def test_a_time_in_the_skipped_hour_fires_when_the_clocks_jump() -> None:
    # 2026-03-29 03:00 EET became 04:00 EEST (01:00 UTC): 03:30 does not exist that day.
    fired = next_briefing(u(2026, 3, 28, 12, 0), time(3, 30), KYIV)
    assert fired == u(2026, 3, 29, 1, 0)
    assert fired.astimezone(KYIV).time() == time(4, 0)
    # and the next day 03:30 exists again
    assert next_briefing(fired, time(3, 30), KYIV) == u(2026, 3, 30, 0, 30)
    assert local_instant(date(2026, 3, 29), time(3, 0), KYIV) == u(2026, 3, 29, 1, 0)
    assert local_instant(date(2026, 3, 29), time(3, 59), KYIV) == u(2026, 3, 29, 1, 0)


def test_a_time_in_the_repeated_hour_fires_once_at_its_first_occurrence() -> None:
    # 2026-10-25 04:00 EEST became 03:00 EET (01:00 UTC): 03:30 happens at 00:30 and 01:30 UTC.
    start = u(2026, 10, 24, 12, 0)
    first = next_briefing(start, time(3, 30), KYIV)
    assert first == u(2026, 10, 25, 0, 30)
    second = next_briefing(first, time(3, 30), KYIV)
    assert second == u(2026, 10, 26, 1, 30)  # the next day, not the repeat an hour later
    assert local_date(first, KYIV) == date(2026, 10, 25)
    assert local_date(second, KYIV) == date(2026, 10, 26)


def test_next_briefing_is_strictly_after() -> None:
    instant = u(2026, 1, 5, 5, 30)  # 07:30 Kyiv, winter
    assert next_briefing(instant, AT, KYIV) == u(2026, 1, 6, 5, 30)
    assert next_briefing(instant - timedelta(seconds=1), AT, KYIV) == instant


def test_next_briefing_in_utc_and_far_west() -> None:
    assert next_briefing(u(2026, 1, 5, 23, 0), AT, "UTC") == u(2026, 1, 6, 7, 30)
    # 07:30 in Los Angeles on 5 January is 15:30 UTC
    assert next_briefing(u(2026, 1, 5, 9, 0), AT, "America/Los_Angeles") == u(2026, 1, 5, 15, 30)


def test_next_run_date_is_a_date_trigger_run_date() -> None:
    from apscheduler.triggers.date import DateTrigger

    now = u(2026, 10, 24, 6, 0)
    run = next_run_date(now, AT, KYIV)
    assert run == u(2026, 10, 25, 5, 30)
    trigger = DateTrigger(run_date=run)
    assert trigger.get_next_fire_time(None, now) == run


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        next_briefing(datetime(2026, 1, 1, 12, 0), AT, KYIV)


# --- restart catch-up ---------------------------------------------------------------------------

DAY = date(2026, 1, 5)  # 07:30 Kyiv = 05:30 UTC


def test_restart_before_briefing_time_owes_nothing_yet() -> None:
    assert briefing_due(u(2026, 1, 5, 5, 0), AT, KYIV, date(2026, 1, 4)) is None


def test_restart_at_briefing_time_sends_it_on_time() -> None:
    due = briefing_due(u(2026, 1, 5, 5, 31), AT, KYIV, date(2026, 1, 4))
    assert due is not None
    assert (due.local_date, due.scheduled, due.late) == (DAY, u(2026, 1, 5, 5, 30), False)


def test_restart_after_briefing_time_sends_it_once_marked_late() -> None:
    due = briefing_due(u(2026, 1, 5, 11, 0), AT, KYIV, date(2026, 1, 4))
    assert due is not None and due.late and due.local_date == DAY
    # once sent for today, a second restart owes nothing
    assert briefing_due(u(2026, 1, 5, 12, 0), AT, KYIV, DAY) is None


def test_a_missed_day_is_not_sent_the_next_day() -> None:
    # down from before 07:30 on the 5th until 01:00 local on the 6th: the 5th is gone
    assert briefing_due(u(2026, 1, 5, 23, 0), AT, KYIV, date(2026, 1, 4)) is None
    # but it is still owed at 23:59 local on the 5th (21:59 UTC)
    due = briefing_due(u(2026, 1, 5, 21, 59), AT, KYIV, date(2026, 1, 4))
    assert due is not None and due.local_date == DAY and due.late


def test_first_briefing_ever_and_a_briefing_set_after_its_time() -> None:
    assert briefing_due(u(2026, 1, 5, 6, 0), AT, KYIV, None) is not None
    # set at 10:00 local to 07:30: today's instant was before the setting, not owed
    assert (
        briefing_due(u(2026, 1, 5, 8, 0), AT, KYIV, None, configured_at=u(2026, 1, 5, 8, 0)) is None
    )


def test_catch_up_on_the_day_of_the_skipped_hour() -> None:
    due = briefing_due(u(2026, 3, 29, 1, 2), time(3, 30), KYIV, date(2026, 3, 28))
    assert due is not None
    assert due.scheduled == u(2026, 3, 29, 1, 0) and not due.late


# --- the briefing window --------------------------------------------------------------------


def test_briefing_window() -> None:
    now = u(2026, 1, 6, 5, 30)
    assert briefing_window(u(2026, 1, 5, 5, 30), u(2025, 12, 1), now) == u(2026, 1, 5, 5, 30)
    # first briefing: since the subscription, at most 24 hours
    assert briefing_window(None, u(2026, 1, 6, 1, 0), now) == u(2026, 1, 6, 1, 0)
    assert briefing_window(None, u(2025, 12, 1), now) == u(2026, 1, 5, 5, 30)
    # the autumn night is 25 hours long: the window keeps all of it
    autumn = briefing_window(u(2026, 10, 24, 4, 30), u(2026, 1, 1), u(2026, 10, 25, 5, 30))
    assert autumn == u(2026, 10, 24, 4, 30)
    # after a long outage: a week at most; never after now
    assert briefing_window(u(2025, 11, 1), u(2025, 1, 1), now) == now - timedelta(days=7)
    assert briefing_window(None, now + timedelta(hours=1), now) == now


# --- quiet hours --------------------------------------------------------------------------


QUIET = QuietHours(start=time(22, 0), end=time(7, 0))


@pytest.mark.parametrize(
    ("utc_hm", "quiet"),
    [
        ((19, 59), False),  # 21:59 Kyiv
        ((20, 0), True),  # 22:00
        ((23, 30), True),  # 01:30 the next day
        ((4, 59), True),  # 06:59
        ((5, 0), False),  # 07:00: the end is not quiet
        ((12, 0), False),
    ],
)
def test_quiet_hours_across_midnight(utc_hm: tuple[int, int], quiet: bool) -> None:
    now = u(2026, 1, 5, *utc_hm)
    assert in_quiet_hours(now, QUIET, KYIV) is quiet
    assert in_quiet_hours(now, (time(22, 0), time(7, 0)), "Europe/Kyiv") is quiet


def test_quiet_hours_within_a_day_and_none() -> None:
    lunch = QuietHours(start=time(12, 0), end=time(13, 0))
    assert in_quiet_hours(u(2026, 1, 5, 10, 30), lunch, KYIV)  # 12:30 Kyiv
    assert not in_quiet_hours(u(2026, 1, 5, 11, 0), lunch, KYIV)  # 13:00
    assert not in_quiet_hours(u(2026, 1, 5, 10, 30), None, KYIV)


def test_quiet_ends() -> None:
    # 23:30 Kyiv on the 5th: quiet until 07:00 on the 6th (05:00 UTC)
    assert quiet_ends(u(2026, 1, 5, 21, 30), QUIET, KYIV) == u(2026, 1, 6, 5, 0)
    # 03:00 Kyiv on the 6th: the same morning
    assert quiet_ends(u(2026, 1, 6, 1, 0), QUIET, KYIV) == u(2026, 1, 6, 5, 0)
    # not quiet: now
    assert quiet_ends(u(2026, 1, 6, 12, 0), QUIET, KYIV) == u(2026, 1, 6, 12, 0)
    # the night the clocks go back is an hour longer: 07:00 EET is 05:00 UTC
    assert quiet_ends(u(2026, 10, 24, 21, 0), QUIET, KYIV) == u(2026, 10, 25, 5, 0)


# --- parsing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("07:30", time(7, 30)),
        ("7:30", time(7, 30)),
        (" 7.30 ", time(7, 30)),
        ("0730", time(7, 30)),
        ("19h30", time(19, 30)),
        ("7am", time(7, 0)),
        ("7:30 pm", time(19, 30)),
        ("12am", time(0, 0)),
        ("12pm", time(12, 0)),
        ("00:00", time(0, 0)),
        ("23:59", time(23, 59)),
    ],
)
def test_parse_hhmm(text: str, expected: time) -> None:
    assert parse_hhmm(text) == expected


@pytest.mark.parametrize("text", ["25:00", "7:60", "seven", "", "7", "13pm", "07:30:00", "-1:00"])
def test_parse_hhmm_errors_give_an_example(text: str) -> None:
    with pytest.raises(ValueError) as error:
        parse_hhmm(text)
    assert str(error.value) == f"invalid time '{text.strip()}': expected a time like 07:30"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Europe/Kyiv", "Europe/Kyiv"),
        ("europe/kyiv", "Europe/Kyiv"),
        ("EUROPE/KYIV", "Europe/Kyiv"),
        ("Kyiv", "Europe/Kyiv"),
        ("utc", "UTC"),
        ("America/New York", "America/New_York"),
        ("Europe/Warsaw", "Europe/Warsaw"),
    ],
)
def test_parse_timezone(text: str, key: str) -> None:
    assert parse_timezone(text).key == key


def test_parse_timezone_did_you_mean() -> None:
    with pytest.raises(ValueError) as error:
        parse_timezone("Europe/Kiyv")
    assert str(error.value) == (
        "unknown time zone 'Europe/Kiyv'; try a name like Europe/Kyiv (did you mean Europe/Kyiv?)"
    )


def test_parse_timezone_nothing_close() -> None:
    with pytest.raises(ValueError) as error:
        parse_timezone("Mars/Olympus_Mons")
    assert str(error.value) == "unknown time zone 'Mars/Olympus_Mons'; try a name like Europe/Kyiv"


def test_parse_briefing_setting() -> None:
    assert parse_briefing_setting("07:30 Europe/Kyiv") == BriefingSetting(
        at=time(7, 30), timezone="Europe/Kyiv"
    )
    assert parse_briefing_setting("07:30") == BriefingSetting(at=time(7, 30))
    assert parse_briefing_setting("7:30 pm europe/warsaw") == BriefingSetting(
        at=time(19, 30), timezone="Europe/Warsaw"
    )
    assert parse_briefing_setting("off") is None
    assert parse_briefing_setting(" OFF ") is None
    assert parse_briefing_setting("08:00").hhmm == "08:00"  # type: ignore[union-attr]


def test_parse_briefing_setting_errors() -> None:
    with pytest.raises(ValueError, match=r"^invalid time 'soon': expected a time like 07:30$"):
        parse_briefing_setting("soon")
    with pytest.raises(ValueError, match=r"unknown time zone 'Europe/Kiyv'"):
        parse_briefing_setting("07:30 Europe/Kiyv")
    with pytest.raises(
        ValueError, match=r"^expected a briefing time like 07:30 Europe/Kyiv, or off$"
    ):
        parse_briefing_setting("  ")


def test_parse_quiet() -> None:
    assert parse_quiet("22:00-07:00") == QuietHours(start=time(22), end=time(7))
    assert parse_quiet("22:00 – 07:00") == QuietHours(start=time(22), end=time(7))
    assert parse_quiet("12:00 to 13:30") == QuietHours(start=time(12), end=time(13, 30))
    assert parse_quiet("off") is None
    assert QuietHours(start=time(22), end=time(7)).text == "22:00-07:00"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("22:00", "invalid quiet hours '22:00': expected a range like 22:00-07:00, or off"),
        ("night", "invalid quiet hours 'night': expected a range like 22:00-07:00, or off"),
        ("22:00-25:00", "invalid time '25:00': expected a time like 07:30"),
        (
            "07:00-07:00",
            "invalid quiet hours '07:00-07:00': the start and the end are the same time",
        ),
    ],
)
def test_parse_quiet_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError) as error:
        parse_quiet(text)
    assert str(error.value) == message


# --- replay events, defaults and held alerts ------------------------------------------------


def test_briefings_between_gives_one_instant_per_local_day() -> None:
    instants = briefings_between(u(2026, 10, 22, 0, 0), u(2026, 10, 27, 0, 0), AT, KYIV)
    assert instants == (
        u(2026, 10, 22, 4, 30),
        u(2026, 10, 23, 4, 30),
        u(2026, 10, 24, 4, 30),
        u(2026, 10, 25, 5, 30),
        u(2026, 10, 26, 5, 30),
    )
    # the end is included, the start is not
    assert briefings_between(u(2026, 1, 5, 5, 30), u(2026, 1, 6, 5, 30), AT, KYIV) == (
        u(2026, 1, 6, 5, 30),
    )
    assert briefings_between(u(2026, 1, 5, 6, 0), u(2026, 1, 6, 5, 0), AT, KYIV) == ()


def test_briefing_time_of_a_channel() -> None:
    ref = ChannelRef(platform="console", workspace="local", channel="desk")
    assert briefing_time_of(Channel(ref=ref)) is None
    assert briefing_time_of(Channel(ref=ref, briefing_time="07:30")) == time(7, 30)
    only = Channel(ref=ref, mode=ChannelMode.BRIEFING)
    assert briefing_time_of(only) == DEFAULT_BRIEFING_TIME == time(8, 0)


def test_held_alerts_fold_into_the_briefing_or_wait_for_the_end_of_quiet_hours() -> None:
    night = u(2026, 1, 5, 22, 0)  # 00:00 Kyiv, quiet
    assert hold_alert(night, QUIET, KYIV, AT) == Hold(
        until=u(2026, 1, 6, 5, 30), into_briefing=True
    )
    assert hold_alert(night, QUIET, KYIV) == Hold(until=u(2026, 1, 6, 5, 0), into_briefing=False)
    assert hold_alert(u(2026, 1, 6, 10, 0), QUIET, KYIV, AT) is None  # noon: send now
    assert hold_alert(night, None, KYIV, AT) is None


def test_a_skipped_midnight_starts_the_day_when_the_clocks_jump() -> None:
    # Chile skips 00:00-01:00 on 2026-09-06: that day starts at 01:00 -03 (04:00 UTC)
    santiago = ZoneInfo("America/Santiago")
    assert local_instant(date(2026, 9, 6), time(0), santiago) == u(2026, 9, 6, 4, 0)
    assert local_instant(date(2026, 9, 7), time(0), santiago) == u(2026, 9, 7, 3, 0)
