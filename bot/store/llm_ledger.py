"""The LLM ledger on SQLite: the ``llm_cache`` and ``llm_tokens`` tables of migration
``0004_llm.sql``, on the bot's database file through a connection of its own.

``SqliteLlmLedger.open(path)`` opens that connection (WAL, a busy timeout, so it shares the file
with the store's connection) and makes sure the tables exist: the statements are idempotent, so
the ledger works whether or not the store's migrations have reached 0004.
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import date, datetime
from pathlib import Path

import aiosqlite

from bot.domain import StoreError, utc
from bot.summarize.ledger import MemoryLlmLedger

__all__ = ["SCHEMA", "SqliteLlmLedger", "open_llm_ledger"]

BUSY_TIMEOUT_MS = 5000

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS llm_cache (key TEXT PRIMARY KEY, text TEXT NOT NULL, "
    "created_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS llm_tokens (day TEXT PRIMARY KEY, "
    "tokens INTEGER NOT NULL DEFAULT 0, calls INTEGER NOT NULL DEFAULT 0)",
)


class SqliteLlmLedger:
    """``LlmLedger`` on a SQLite database. Every method raises ``StoreError`` on failure."""

    def __init__(self, db: aiosqlite.Connection, *, owns_connection: bool = False) -> None:
        self._db = db
        self._owns = owns_connection
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str) -> SqliteLlmLedger:
        """Open ``path`` (the bot's database file, or ``:memory:``) with a connection of its own."""
        if path != ":memory:":
            path = await asyncio.to_thread(_prepare_folder, path)
        try:
            db = await aiosqlite.connect(path, isolation_level=None)
        except sqlite3.Error as e:
            raise StoreError(f"cannot open the database {path} for the LLM ledger: {e}") from e
        ledger = cls(db, owns_connection=True)
        try:
            await db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if path != ":memory:":
                await db.execute("PRAGMA journal_mode = WAL")
            await ledger.ensure_schema()
        except BaseException:
            await db.close()
            raise
        return ledger

    async def ensure_schema(self) -> None:
        try:
            for statement in SCHEMA:
                await self._db.execute(statement)
        except sqlite3.Error as e:
            raise StoreError(f"cannot create the LLM ledger's tables: {e}") from e

    async def close(self) -> None:
        if self._owns:
            await self._db.close()

    async def get_summary(self, key: str) -> str | None:
        try:
            rows = list(
                await self._db.execute_fetchall("SELECT text FROM llm_cache WHERE key = ?", (key,))
            )
        except sqlite3.Error as e:
            raise StoreError(f"cannot read the LLM cache: {e}") from e
        return str(rows[0][0]) if rows else None

    async def put_summary(self, key: str, text: str, *, at: datetime) -> None:
        async with self._lock:
            try:
                await self._db.execute(
                    "INSERT INTO llm_cache (key, text, created_at) VALUES (?, ?, ?) "
                    "ON CONFLICT(key) DO NOTHING",
                    (key, text, utc(at).isoformat()),
                )
            except sqlite3.Error as e:
                raise StoreError(f"cannot write the LLM cache: {e}") from e

    async def add_tokens(self, day: date, tokens: int) -> None:
        async with self._lock:
            try:
                await self._db.execute(
                    "INSERT INTO llm_tokens (day, tokens, calls) VALUES (?, ?, 1) "
                    "ON CONFLICT(day) DO UPDATE SET tokens = tokens + excluded.tokens, "
                    "calls = calls + 1",
                    (day.isoformat(), max(tokens, 0)),
                )
            except sqlite3.Error as e:
                raise StoreError(f"cannot count LLM tokens: {e}") from e

    async def tokens_on(self, day: date) -> int:
        try:
            rows = list(
                await self._db.execute_fetchall(
                    "SELECT tokens FROM llm_tokens WHERE day = ?", (day.isoformat(),)
                )
            )
        except sqlite3.Error as e:
            raise StoreError(f"cannot read the LLM token count: {e}") from e
        return int(rows[0][0]) if rows else 0


def _prepare_folder(path: str) -> str:
    target = Path(path).expanduser()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise StoreError(f"cannot create the folder for the database {path}: {e}") from e
    return str(target)


async def open_llm_ledger(db: str) -> SqliteLlmLedger | MemoryLlmLedger:
    """The ledger for the database ``db`` names (as ``open_store`` reads it): the SQLite file's
    own tables, or an in-memory ledger for ``memory://`` and ``:memory:``. ``close()`` it at
    shutdown."""
    target = db.strip()
    if target.startswith("memory://") or target == ":memory:":
        return MemoryLlmLedger()
    if "://" in target:
        raise StoreError("the LLM ledger is built for SQLite only (PostgreSQL is on the roadmap)")
    return await SqliteLlmLedger.open(target)
