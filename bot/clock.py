"""Clocks. Everything that needs the time is handed one, so replays and tests can drive it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain import utc


class SystemClock:
    """The wall clock, aware UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told to: replays and tests."""

    def __init__(self, start: datetime) -> None:
        self._now = utc(start)

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        when = utc(when)
        if when < self._now:
            raise ValueError(f"a manual clock never goes back: {when} < {self._now}")
        self._now = when

    def advance(self, delta: timedelta) -> None:
        self.set(self._now + delta)
