"""What the LLM summarizer keeps: its cached outputs and the tokens spent per UTC day.

:class:`LlmLedger` is the port; :class:`MemoryLlmLedger` is the in-memory implementation (tests,
``memory://`` stores), ``bot.store.llm_ledger.SqliteLlmLedger`` the SQLite one. One contract
suite (``tests/test_llm_ledger.py``) runs both.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol

__all__ = ["LlmLedger", "MemoryLlmLedger"]


class LlmLedger(Protocol):
    async def get_summary(self, key: str) -> str | None:
        """The output cached under ``key`` ('' records a refused output), or None."""
        ...

    async def put_summary(self, key: str, text: str, *, at: datetime) -> None:
        """Cache ``text`` under ``key``; the first one written stays (a posted summary is
        never rewritten)."""
        ...

    async def add_tokens(self, day: date, tokens: int) -> None:
        """Count one call of ``tokens`` tokens on the UTC ``day``."""
        ...

    async def tokens_on(self, day: date) -> int:
        """Tokens spent on the UTC ``day`` (0 when none)."""
        ...


class MemoryLlmLedger:
    def __init__(self) -> None:
        self._cache: dict[str, str] = {}
        self._tokens: dict[date, int] = {}
        self.calls: dict[date, int] = {}

    async def close(self) -> None:
        return None

    async def get_summary(self, key: str) -> str | None:
        return self._cache.get(key)

    async def put_summary(self, key: str, text: str, *, at: datetime) -> None:
        self._cache.setdefault(key, text)

    async def add_tokens(self, day: date, tokens: int) -> None:
        self._tokens[day] = self._tokens.get(day, 0) + max(tokens, 0)
        self.calls[day] = self.calls.get(day, 0) + 1

    async def tokens_on(self, day: date) -> int:
        return self._tokens.get(day, 0)
