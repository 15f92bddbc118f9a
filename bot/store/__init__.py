"""Storage: implementations of the ``Store`` port and the one function that picks one."""

from __future__ import annotations

from bot.domain import ConfigError
from bot.ports import Store
from bot.store.memory import MemoryStore
from bot.store.sqlite import SqliteStore

__all__ = ["MemoryStore", "SqliteStore", "open_store"]


async def open_store(db: str) -> Store:
    """Open the store ``db`` names: a SQLite file path (or ``:memory:``), or ``memory://`` for
    the in-memory fake. Raises ``ConfigError`` for a URL this build cannot serve, ``StoreError``
    when the database cannot be opened."""
    target = db.strip()
    if not target:
        raise ConfigError("the database setting is empty; give a SQLite file path")
    if target.startswith("memory://"):
        return MemoryStore()
    scheme = target.split("://", 1)[0].lower() if "://" in target else ""
    if scheme in ("postgresql", "postgres"):
        raise ConfigError(
            f"cannot open {_redact(target)}: PostgreSQL support is not built yet (it is on the "
            "roadmap); use a SQLite file path for the database, e.g. data/briefbot.db"
        )
    if scheme:
        raise ConfigError(
            f"cannot open {_redact(target)}: unknown database URL scheme {scheme!r}; "
            "use a SQLite file path (or memory:// for a throwaway in-memory store)"
        )
    return await SqliteStore.open(target)


def _redact(url: str) -> str:
    """``url`` without a password, fit for an error message."""
    scheme, _, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"
