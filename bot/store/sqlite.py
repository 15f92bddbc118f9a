"""The SQLite implementation of the ``Store`` port, on aiosqlite.

One connection per store, in autocommit mode: a method that writes one statement is its own
transaction; a method that writes several wraps them in one ``BEGIN IMMEDIATE … COMMIT``. Writes
are serialized by a lock, so two coroutines never share a transaction.

The schema lives in numbered plain-SQL files in ``bot/store/migrations`` (``0001_initial.sql``,
…); ``PRAGMA user_version`` records the last one applied.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

from bot.domain import (
    STAR,
    Channel,
    ChannelMode,
    ChannelRef,
    Development,
    Item,
    PollState,
    Post,
    PostKind,
    PostState,
    Source,
    StoreError,
    utc,
)
from bot.messages import message_from_json, message_to_json
from bot.ports import KnownEntry, NewItem, RuntimeState, Subscriber
from bot.store._shared import subscriber_topics, subscription_order, unique

BUSY_TIMEOUT_MS = 5000
MAX_SEARCH_TERMS = 32

_MIGRATION_NAME = re.compile(r"^(\d{4})_[A-Za-z0-9_]+\.sql$")

Row = Sequence[Any]


# --- values in and out --------------------------------------------------------------------------


def _ts(dt: datetime | None) -> str | None:
    """An aware (or naive-UTC) datetime as fixed-width ISO-8601 UTC text, which sorts as time."""
    if dt is None:
        return None
    return utc(dt).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _ts_req(dt: datetime) -> str:
    return utc(dt).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _dt(text: str | None) -> datetime | None:
    if text is None:
        return None
    return utc(datetime.fromisoformat(text))


def _dt_req(text: str) -> datetime:
    return utc(datetime.fromisoformat(text))


def _tuple(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    value = json.loads(text)
    if not isinstance(value, list):
        raise ValueError(f"expected a JSON list, got {text!r}")
    return tuple(str(v) for v in value)


def _json(values: Iterable[str]) -> str:
    return json.dumps(list(values), ensure_ascii=False)


def fts_query(text: str) -> str | None:
    """Turn arbitrary user text into a safe FTS5 query that matches every word, the last token of
    each word as a prefix. None when the text holds no word at all.

    Each whitespace-separated term is quoted (FTS5 operators and punctuation lose their meaning
    inside a quoted string; a quote is doubled) and terms without a letter or digit are dropped.
    """
    terms = []
    for term in text.split():
        if not any(ch.isalnum() for ch in term):
            continue
        terms.append('"' + term.replace('"', '""') + '"*')
        if len(terms) >= MAX_SEARCH_TERMS:
            break
    return " ".join(terms) if terms else None


_ITEM_COLUMNS = (
    "i.id, i.source_id, s.name, i.guid, i.link, i.title, i.summary, i.published, i.first_seen,"
    " i.content_hash, i.language, i.edited_at, i.baseline, i.on_story, i.topics, i.development_id,"
    " i.url, i.analysis"
)
_ITEM_FROM = "items i JOIN sources s ON s.id = i.source_id"


def _item(row: Row) -> Item:
    return Item(
        id=int(row[0]),
        source_id=row[1],
        source_name=row[2],
        guid=row[3],
        link=row[4],
        title=row[5],
        summary=row[6],
        published=_dt(row[7]),
        first_seen=_dt_req(row[8]),
        content_hash=row[9],
        language=row[10],
        edited_at=_dt(row[11]),
        baseline=bool(row[12]),
        on_story=bool(row[13]),
        topics=_tuple(row[14]),
        development_id=row[15],
        url=row[16],
        analysis=bool(row[17]),
    )


_POLL_COLUMNS = (
    "source_id, etag, last_modified, body_hash, last_poll_at, last_ok_at, next_poll_at,"
    " failures, last_error, baselined, feed_language"
)

_DEVELOPMENT_COLUMNS = "id, first_seen, updated_at, title, summary, topics, item_ids, language"


def _development(row: Row) -> Development:
    item_ids = json.loads(row[6])
    if not isinstance(item_ids, list):
        raise ValueError(f"expected a JSON list of item ids, got {row[6]!r}")
    return Development(
        id=row[0],
        first_seen=_dt_req(row[1]),
        updated_at=_dt_req(row[2]),
        title=row[3],
        summary=row[4],
        topics=_tuple(row[5]),
        item_ids=tuple(int(i) for i in item_ids),
        language=row[7],
    )


_CHANNEL_COLUMNS = (
    "key, platform, workspace, channel, thread, mode, timezone, briefing_time, paused,"
    " pause_reason, quiet, subscribed_at, briefing_set_at, last_briefing_at, last_briefing_date"
)


def _channel(row: Row) -> Channel:
    return Channel(
        ref=ChannelRef(platform=row[1], workspace=row[2], channel=row[3], thread=row[4]),
        mode=ChannelMode(row[5]),
        timezone=row[6],
        briefing_time=row[7],
        paused=bool(row[8]),
        pause_reason=row[9],
        quiet=row[10],
        subscribed_at=_dt(row[11]),
        briefing_set_at=_dt(row[12]),
        last_briefing_at=_dt(row[13]),
        last_briefing_date=row[14],
    )


_POST_COLUMNS = (
    "id, key, platform, workspace, channel, thread, kind, text, development_id, developments,"
    " topics, sources, edit_of, state, attempts, next_attempt_at, platform_message_id,"
    " delivered_at, last_error, created_at, thread_of, message"
)


def _post(row: Row) -> Post:
    return Post(
        id=int(row[0]),
        key=row[1],
        channel=ChannelRef(platform=row[2], workspace=row[3], channel=row[4], thread=row[5]),
        kind=PostKind(row[6]),
        text=row[7],
        development_id=row[8],
        developments=_tuple(row[9]),
        topics=_tuple(row[10]),
        sources=_tuple(row[11]),
        edit_of=row[12],
        state=PostState(row[13]),
        attempts=int(row[14]),
        next_attempt_at=_dt(row[15]),
        platform_message_id=row[16],
        delivered_at=_dt(row[17]),
        last_error=row[18],
        created_at=_dt_req(row[19]),
        thread_of=row[20],
        message=message_from_json(row[21]) if row[21] else None,
    )


# --- migrations ---------------------------------------------------------------------------------


def load_migrations() -> list[tuple[int, str, str]]:
    """The packaged migrations as (version, file name, SQL), in order. Versions must run 1, 2, …"""
    folder = resources.files("bot.store").joinpath("migrations")
    found: list[tuple[int, str, str]] = []
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    for expected, (version, name, _) in enumerate(found, start=1):
        if version != expected:
            raise StoreError(f"migration {name} is out of sequence: expected number {expected:04d}")
    return found


def split_statements(script: str) -> list[str]:
    """Split an SQL script into complete statements (trigger bodies stay whole)."""
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    rest = "\n".join(
        line for line in buffer.splitlines() if line.strip() and not line.strip().startswith("--")
    )
    if rest:
        raise StoreError(f"incomplete SQL statement at the end of a migration: {rest[:80]!r}")
    return statements


def _prepare_folder(path: str) -> str:
    """Expand ``~`` in ``path`` and create its folder; return the path to open."""
    target = Path(path).expanduser()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise StoreError(f"cannot create the folder for the database {path}: {e}") from e
    return str(target)


# --- the store ----------------------------------------------------------------------------------


class SqliteStore:
    """``Store`` on one SQLite file (or ``:memory:``)."""

    def __init__(self, db: aiosqlite.Connection, path: str) -> None:
        self._db = db
        self._path = path
        self._lock = asyncio.Lock()
        self._source_names: dict[str, str] = {}  # a cache for add_item; the table is the truth

    @classmethod
    async def open(cls, path: str) -> SqliteStore:
        """Open (creating if needed) the database at ``path`` and bring its schema up to date."""
        if path != ":memory:":
            path = await asyncio.to_thread(_prepare_folder, path)
        migrations = await asyncio.to_thread(load_migrations)
        try:
            db = await aiosqlite.connect(path, isolation_level=None)
        except sqlite3.Error as e:
            raise StoreError(f"cannot open the database {path}: {e}") from e
        store = cls(db, path)
        try:
            await store._setup(migrations)
        except BaseException:
            await db.close()
            raise
        return store

    async def _setup(self, migrations: list[tuple[int, str, str]]) -> None:
        db = self._db
        try:
            await db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await db.execute("PRAGMA journal_mode = WAL")
            await db.execute("PRAGMA synchronous = NORMAL")
            await db.execute("PRAGMA foreign_keys = ON")
            current = await self._user_version()
        except sqlite3.Error as e:
            raise StoreError(f"cannot open the database {self._path}: {e}") from e
        latest = migrations[-1][0] if migrations else 0
        if current > latest:
            raise StoreError(
                f"the database {self._path} has schema version {current}, but this version of "
                f"briefbot knows only up to version {latest}; it was written by a newer briefbot. "
                "Upgrade briefbot, or point --db at another database."
            )
        for version, name, script in migrations:
            if version <= current:
                continue
            try:
                await db.execute("BEGIN IMMEDIATE")
                # Another process may have migrated while we waited for the write lock.
                if await self._user_version() < version:
                    for statement in split_statements(script):
                        await db.execute(statement)
                    await db.execute(f"PRAGMA user_version = {version}")
                await db.execute("COMMIT")
            except (sqlite3.Error, StoreError) as e:
                if db.in_transaction:
                    await db.execute("ROLLBACK")
                if isinstance(e, StoreError):
                    raise
                raise StoreError(
                    f"cannot apply migration {name} to the database {self._path}: {e}"
                ) from e

    async def _user_version(self) -> int:
        rows = list(await self._db.execute_fetchall("PRAGMA user_version"))
        return int(rows[0][0])

    async def close(self) -> None:
        try:
            await self._db.close()
        except sqlite3.Error as e:
            raise StoreError(f"cannot close the database {self._path}: {e}") from e

    # --- plumbing ------------------------------------------------------------------------------

    @asynccontextmanager
    async def _write(self, what: str) -> AsyncIterator[aiosqlite.Connection]:
        """Serialize one single-statement write (autocommit makes it its own transaction)."""
        async with self._lock:
            try:
                yield self._db
            except (sqlite3.Error, ValueError) as e:
                raise StoreError(f"cannot {what}: {e}") from e

    @asynccontextmanager
    async def _transaction(self, what: str) -> AsyncIterator[aiosqlite.Connection]:
        """Run several writes as one transaction; roll back on any error."""
        async with self._lock:
            db = self._db
            try:
                await db.execute("BEGIN IMMEDIATE")
                try:
                    yield db
                except BaseException:
                    if db.in_transaction:
                        await db.execute("ROLLBACK")
                    raise
                await db.execute("COMMIT")
            except (sqlite3.Error, ValueError) as e:
                raise StoreError(f"cannot {what}: {e}") from e

    async def _fetch(self, what: str, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        try:
            return list(await self._db.execute_fetchall(sql, params))
        except (sqlite3.Error, ValueError) as e:
            raise StoreError(f"cannot {what}: {e}") from e

    # --- sources and poll state ----------------------------------------------------------------

    async def sync_sources(self, sources: Sequence[Source]) -> None:
        async with self._transaction("save the configured sources") as db:
            # A known id with a different url is a different feed: forget its poll state, so it
            # is polled afresh like a new source (its first poll is a baseline).
            await db.executemany(
                "DELETE FROM poll_state WHERE source_id = ?"
                " AND EXISTS (SELECT 1 FROM sources WHERE id = ? AND url <> ?)",
                [(s.id, s.id, s.url) for s in sources],
            )
            await db.execute("UPDATE sources SET active = 0, position = NULL WHERE active = 1")
            await db.executemany(
                "INSERT INTO sources (id, name, url, language, position, active)"
                " VALUES (?, ?, ?, ?, ?, 1)"
                " ON CONFLICT (id) DO UPDATE SET name = excluded.name, url = excluded.url,"
                " language = excluded.language, position = excluded.position, active = 1",
                [(s.id, s.name, s.url, s.language, i) for i, s in enumerate(sources)],
            )
        self._source_names.update((s.id, s.name) for s in sources)

    async def list_sources(self) -> list[Source]:
        rows = await self._fetch(
            "list the sources",
            "SELECT id, name, url, language FROM sources WHERE active = 1 ORDER BY position",
        )
        return [Source(id=r[0], name=r[1], url=r[2], language=r[3]) for r in rows]

    async def get_poll_state(self, source_id: str) -> PollState:
        what = f"read the poll state of source {source_id!r}"
        rows = await self._fetch(
            what, f"SELECT {_POLL_COLUMNS} FROM poll_state WHERE source_id = ?", (source_id,)
        )
        if not rows:
            return PollState(source_id=source_id)
        r = rows[0]
        try:
            return PollState(
                source_id=r[0],
                etag=r[1],
                last_modified=r[2],
                body_hash=r[3],
                last_poll_at=_dt(r[4]),
                last_ok_at=_dt(r[5]),
                next_poll_at=_dt(r[6]),
                failures=int(r[7]),
                last_error=r[8],
                baselined=bool(r[9]),
                feed_language=r[10],
            )
        except ValueError as e:
            raise StoreError(f"cannot {what}: {e}") from e

    async def save_poll_state(self, state: PollState) -> None:
        async with self._write(f"save the poll state of source {state.source_id!r}") as db:
            await db.execute(
                f"INSERT INTO poll_state ({_POLL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (source_id) DO UPDATE SET etag = excluded.etag,"
                " last_modified = excluded.last_modified, body_hash = excluded.body_hash,"
                " last_poll_at = excluded.last_poll_at, last_ok_at = excluded.last_ok_at,"
                " next_poll_at = excluded.next_poll_at, failures = excluded.failures,"
                " last_error = excluded.last_error, baselined = excluded.baselined,"
                " feed_language = excluded.feed_language",
                (
                    state.source_id,
                    state.etag,
                    state.last_modified,
                    state.body_hash,
                    _ts(state.last_poll_at),
                    _ts(state.last_ok_at),
                    _ts(state.next_poll_at),
                    state.failures,
                    state.last_error,
                    int(state.baselined),
                    state.feed_language,
                ),
            )

    # --- items ---------------------------------------------------------------------------------

    async def known_entries(self, source_id: str, guids: Iterable[str]) -> dict[str, KnownEntry]:
        wanted = _json(guids)
        rows = await self._fetch(
            f"look up known entries of source {source_id!r}",
            "SELECT guid, id, content_hash FROM items"
            " WHERE source_id = ? AND guid IN (SELECT value FROM json_each(?))",
            (source_id, wanted),
        )
        return {r[0]: KnownEntry(item_id=int(r[1]), content_hash=r[2]) for r in rows}

    async def add_item(self, item: NewItem) -> Item:
        what = f"store item {item.guid!r} of source {item.source_id!r}"
        async with self._write(what) as db:
            source_name = self._source_names.get(item.source_id)
            if source_name is None:
                rows = list(
                    await db.execute_fetchall(
                        "SELECT name FROM sources WHERE id = ?", (item.source_id,)
                    )
                )
                if not rows:
                    raise StoreError(f"cannot {what}: the source is unknown (sync_sources first)")
                source_name = self._source_names[item.source_id] = str(rows[0][0])
            try:
                cursor = await db.execute(
                    "INSERT INTO items (source_id, guid, link, title, summary, published,"
                    " first_seen, content_hash, language, baseline, url)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        item.source_id,
                        item.guid,
                        item.link,
                        item.title,
                        item.summary,
                        _ts(item.published),
                        _ts_req(item.first_seen),
                        item.content_hash,
                        item.language,
                        int(item.baseline),
                        item.url,
                    ),
                )
            except sqlite3.IntegrityError as e:
                raise StoreError(f"cannot {what}: it is stored already ({e})") from e
            item_id = cursor.lastrowid
        if item_id is None:
            raise StoreError(f"cannot {what}: the database gave no id")
        return Item(
            id=item_id,
            source_id=item.source_id,
            source_name=source_name,
            guid=item.guid,
            link=item.link,
            title=item.title,
            summary=item.summary,
            published=None if item.published is None else utc(item.published),
            first_seen=utc(item.first_seen),
            content_hash=item.content_hash,
            language=item.language,
            baseline=item.baseline,
            url=item.url,
        )

    async def edit_item(
        self, item_id: int, *, title: str, summary: str, content_hash: str, edited_at: datetime
    ) -> Item:
        what = f"record an edit of item {item_id}"
        async with self._write(what) as db:
            cursor = await db.execute(
                "UPDATE items SET title = ?, summary = ?, content_hash = ?, edited_at = ?"
                " WHERE id = ?",
                (title, summary, content_hash, _ts_req(edited_at), item_id),
            )
            if cursor.rowcount == 0:
                raise StoreError(f"cannot {what}: no such item")
        item = await self.get_item(item_id)
        if item is None:
            raise StoreError(f"cannot {what}: the item vanished")
        return item

    async def get_item(self, item_id: int) -> Item | None:
        items = await self.get_items([item_id])
        return items[0] if items else None

    async def get_items(self, item_ids: Sequence[int]) -> list[Item]:
        if not item_ids:
            return []
        rows = await self._fetch(
            "read items",
            f"SELECT {_ITEM_COLUMNS} FROM {_ITEM_FROM}"
            " WHERE i.id IN (SELECT value FROM json_each(?))",
            (json.dumps([int(i) for i in item_ids]),),
        )
        by_id = self._items(rows, "read items")
        found = {item.id: item for item in by_id}
        return [found[i] for i in item_ids if i in found]

    def _items(self, rows: list[Row], what: str) -> list[Item]:
        try:
            return [_item(r) for r in rows]
        except ValueError as e:
            raise StoreError(f"cannot {what}: {e}") from e

    async def items_by_link(self, link: str) -> list[Item]:
        rows = await self._fetch(
            "look up items by link",
            f"SELECT {_ITEM_COLUMNS} FROM {_ITEM_FROM} WHERE i.link = ?"
            " ORDER BY i.first_seen, i.id",
            (link,),
        )
        return self._items(rows, "look up items by link")

    async def classify_item(
        self,
        item_id: int,
        *,
        on_story: bool,
        topics: Sequence[str],
        development_id: str | None,
        analysis: bool = False,
    ) -> None:
        what = f"classify item {item_id}"
        async with self._write(what) as db:
            cursor = await db.execute(
                "UPDATE items SET on_story = ?, topics = ?, development_id = ?, analysis = ?"
                " WHERE id = ?",
                (int(on_story), _json(topics), development_id, int(analysis), item_id),
            )
            if cursor.rowcount == 0:
                raise StoreError(f"cannot {what}: no such item")

    async def story_items_since(self, since: datetime) -> list[Item]:
        rows = await self._fetch(
            "read recent story items",
            f"SELECT {_ITEM_COLUMNS} FROM {_ITEM_FROM}"
            " WHERE i.first_seen >= ? AND i.on_story = 1 ORDER BY i.first_seen, i.id",
            (_ts_req(since),),
        )
        return self._items(rows, "read recent story items")

    async def recent_items(self, *, limit: int) -> list[Item]:
        if limit <= 0:
            return []
        rows = await self._fetch(
            "read recent items",
            # Newest first down the first_seen index, then turned oldest first.
            f"SELECT {_ITEM_COLUMNS} FROM ("
            "  SELECT id FROM items ORDER BY first_seen DESC, id DESC LIMIT ?"
            ") AS r JOIN items i ON i.id = r.id JOIN sources s ON s.id = i.source_id"
            " ORDER BY i.first_seen, i.id",
            (limit,),
        )
        return self._items(rows, "read recent items")

    async def search_items(self, query: str, *, limit: int = 20) -> list[Item]:
        match = fts_query(query)
        if match is None or limit <= 0:
            return []
        rows = await self._fetch(
            "search items",
            # Rank inside the index first, then read only the best rows.
            f"SELECT {_ITEM_COLUMNS} FROM ("
            "  SELECT rowid AS id, bm25(items_fts, 2.0, 1.0) AS score FROM items_fts"
            "  WHERE items_fts MATCH ? ORDER BY score, rowid DESC LIMIT ?"
            ") AS f JOIN items i ON i.id = f.id JOIN sources s ON s.id = i.source_id"
            " ORDER BY f.score, i.id DESC",
            (match, limit),
        )
        return self._items(rows, "search items")

    # --- developments --------------------------------------------------------------------------

    async def save_development(self, development: Development) -> None:
        d = development
        # One statement: triggers rewrite development_items and development_topics.
        async with self._write(f"save development {d.id!r}") as db:
            await db.execute(
                f"INSERT INTO developments ({_DEVELOPMENT_COLUMNS})"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET first_seen = excluded.first_seen,"
                " updated_at = excluded.updated_at, title = excluded.title,"
                " summary = excluded.summary, topics = excluded.topics,"
                " item_ids = excluded.item_ids, language = excluded.language",
                (
                    d.id,
                    _ts_req(d.first_seen),
                    _ts_req(d.updated_at),
                    d.title,
                    d.summary,
                    _json(d.topics),
                    json.dumps([int(i) for i in d.item_ids]),
                    d.language,
                ),
            )

    async def get_development(self, development_id: str) -> Development | None:
        found = await self._developments_by_id([development_id])
        return found[0] if found else None

    async def _developments_by_id(self, ids: Sequence[str]) -> list[Development]:
        """Developments by id, in the order asked."""
        if not ids:
            return []
        what = "read developments"
        rows = await self._fetch(
            what,
            f"SELECT {_DEVELOPMENT_COLUMNS} FROM developments"
            " WHERE id IN (SELECT value FROM json_each(?))",
            (_json(ids),),
        )
        try:
            by_id = {r[0]: _development(r) for r in rows}
        except ValueError as e:
            raise StoreError(f"cannot {what}: {e}") from e
        return [by_id[i] for i in ids if i in by_id]

    async def recent_developments(
        self, *, topic: str | None, since: datetime | None, limit: int
    ) -> list[Development]:
        if limit <= 0:
            return []
        since_text = _ts(since) or ""
        if topic is None or topic == STAR:
            what = "list recent developments"
            rows = await self._fetch(
                what,
                f"SELECT {_DEVELOPMENT_COLUMNS} FROM developments WHERE first_seen >= ?"
                " ORDER BY first_seen DESC, id DESC LIMIT ?",
                (since_text, limit),
            )
        else:
            what = f"list recent developments about {topic!r}"
            columns = ", ".join("d." + c for c in _DEVELOPMENT_COLUMNS.split(", "))
            rows = await self._fetch(
                what,
                f"SELECT {columns} FROM development_topics t"
                " JOIN developments d ON d.id = t.development_id"
                " WHERE t.topic = ? AND t.first_seen >= ?"
                " ORDER BY t.first_seen DESC, t.development_id DESC LIMIT ?",
                (topic, since_text, limit),
            )
        try:
            return [_development(r) for r in rows]
        except ValueError as e:
            raise StoreError(f"cannot {what}: {e}") from e

    # --- channels and subscriptions ------------------------------------------------------------

    async def save_channel(self, channel: Channel) -> None:
        ref = channel.ref
        async with self._write(f"save the settings of channel {ref.key}") as db:
            await db.execute(
                f"INSERT INTO channels ({_CHANNEL_COLUMNS})"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET mode = excluded.mode,"
                " timezone = excluded.timezone, briefing_time = excluded.briefing_time,"
                " paused = excluded.paused, pause_reason = excluded.pause_reason,"
                " quiet = excluded.quiet, subscribed_at = excluded.subscribed_at,"
                " briefing_set_at = excluded.briefing_set_at,"
                " last_briefing_at = excluded.last_briefing_at,"
                " last_briefing_date = excluded.last_briefing_date",
                (
                    ref.key,
                    ref.platform,
                    ref.workspace,
                    ref.channel,
                    ref.thread,
                    str(channel.mode),
                    channel.timezone,
                    channel.briefing_time,
                    int(channel.paused),
                    channel.pause_reason,
                    channel.quiet,
                    _ts(channel.subscribed_at),
                    _ts(channel.briefing_set_at),
                    _ts(channel.last_briefing_at),
                    channel.last_briefing_date,
                ),
            )

    async def get_channel(self, ref: ChannelRef) -> Channel | None:
        what = f"read the settings of channel {ref.key}"
        rows = await self._fetch(
            what, f"SELECT {_CHANNEL_COLUMNS} FROM channels WHERE key = ?", (ref.key,)
        )
        if not rows:
            return None
        try:
            return _channel(rows[0])
        except ValueError as e:
            raise StoreError(f"cannot {what}: {e}") from e

    async def subscribe(self, ref: ChannelRef, topics: Sequence[str]) -> list[str]:
        added: list[str] = []
        async with self._transaction(f"subscribe channel {ref.key}") as db:
            await db.execute(
                "INSERT INTO channels (key, platform, workspace, channel, thread)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
                (ref.key, ref.platform, ref.workspace, ref.channel, ref.thread),
            )
            for topic in unique(topics):
                cursor = await db.execute(
                    "INSERT INTO subscriptions (channel_key, topic) VALUES (?, ?)"
                    " ON CONFLICT (channel_key, topic) DO NOTHING",
                    (ref.key, topic),
                )
                if cursor.rowcount:
                    added.append(topic)
        return added

    async def unsubscribe(self, ref: ChannelRef, topics: Sequence[str]) -> list[str]:
        removed: list[str] = []
        async with self._transaction(f"unsubscribe channel {ref.key}") as db:
            for topic in unique(topics):
                cursor = await db.execute(
                    "DELETE FROM subscriptions WHERE channel_key = ? AND topic = ?",
                    (ref.key, topic),
                )
                if cursor.rowcount:
                    removed.append(topic)
        return removed

    async def subscriptions(self, ref: ChannelRef) -> list[str]:
        rows = await self._fetch(
            f"list the subscriptions of channel {ref.key}",
            "SELECT topic FROM subscriptions WHERE channel_key = ?",
            (ref.key,),
        )
        return sorted((str(r[0]) for r in rows), key=subscription_order)

    async def subscribers(self, topics: Sequence[str]) -> list[Subscriber]:
        wanted = unique(t for t in topics if t != STAR)
        what = "find the subscribers of a development"
        rows = await self._fetch(
            what,
            f"SELECT {', '.join('c.' + c for c in _CHANNEL_COLUMNS.split(', '))}, s.topic"
            " FROM subscriptions s JOIN channels c ON c.key = s.channel_key"
            " WHERE s.topic = ? OR s.topic IN (SELECT value FROM json_each(?))"
            " ORDER BY c.key",
            (STAR, _json(wanted)),
        )
        channels: dict[str, Channel] = {}
        followed: dict[str, set[str]] = {}
        try:
            for r in rows:
                if r[0] not in channels:
                    channels[r[0]] = _channel(r)
                followed.setdefault(r[0], set()).add(r[15])
        except ValueError as e:
            raise StoreError(f"cannot {what}: {e}") from e
        return [
            Subscriber(channel=channels[key], topics=subscriber_topics(wanted, followed[key]))
            for key in sorted(channels)
        ]

    # --- outbox --------------------------------------------------------------------------------

    async def enqueue(self, post: Post) -> bool:
        ref = post.channel
        async with self._write(f"queue post {post.key!r}") as db:
            cursor = await db.execute(
                "INSERT INTO outbox (key, channel_key, platform, workspace, channel, thread, kind,"
                " text, development_id, developments, topics, sources, edit_of, state, attempts,"
                " next_attempt_at, platform_message_id, delivered_at, last_error, created_at,"
                " thread_of, message)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (key) DO NOTHING",
                (
                    post.key,
                    ref.key,
                    ref.platform,
                    ref.workspace,
                    ref.channel,
                    ref.thread,
                    str(post.kind),
                    post.text,
                    post.development_id,
                    _json(post.developments),
                    _json(post.topics),
                    _json(post.sources),
                    post.edit_of,
                    str(post.state),
                    post.attempts,
                    _ts(post.next_attempt_at),
                    post.platform_message_id,
                    _ts(post.delivered_at),
                    post.last_error,
                    _ts_req(post.created_at),
                    post.thread_of,
                    message_to_json(post.message) if post.message is not None else None,
                ),
            )
            return cursor.rowcount == 1

    def _posts(self, rows: list[Row], what: str) -> list[Post]:
        try:
            return [_post(r) for r in rows]
        except ValueError as e:
            raise StoreError(f"cannot {what}: {e}") from e

    async def due_posts(self, now: datetime, *, limit: int = 100) -> list[Post]:
        if limit <= 0:
            return []
        rows = await self._fetch(
            "list due posts",
            f"SELECT {_POST_COLUMNS} FROM outbox WHERE state = 'pending'"
            " AND (next_attempt_at IS NULL OR next_attempt_at <= ?) ORDER BY id LIMIT ?",
            (_ts_req(now), limit),
        )
        return self._posts(rows, "list due posts")

    async def pending_heads(self, *, per_channel: int, limit: int) -> list[Post]:
        if per_channel <= 0 or limit <= 0:
            return []
        what = "list the heads of the channels' queues"
        rows = await self._fetch(
            what,
            f"SELECT {_POST_COLUMNS} FROM (SELECT *, row_number() OVER"
            " (PARTITION BY channel_key ORDER BY id) AS place FROM outbox"
            " WHERE state = 'pending') WHERE place <= ? ORDER BY id LIMIT ?",
            (per_channel, limit),
        )
        return self._posts(rows, what)

    async def pending_for_channel(self, ref: ChannelRef) -> list[Post]:
        what = f"list the pending posts of channel {ref.key}"
        rows = await self._fetch(
            what,
            f"SELECT {_POST_COLUMNS} FROM outbox WHERE state = 'pending'"
            " AND platform = ? AND workspace = ? AND channel = ? ORDER BY id",
            (ref.platform, ref.workspace, ref.channel),
        )
        return self._posts(rows, what)

    async def mark_delivered(self, key: str, *, message_id: str, at: datetime) -> None:
        what = f"mark post {key!r} delivered"
        async with self._write(what) as db:
            cursor = await db.execute(
                "UPDATE outbox SET state = 'delivered', attempts = attempts + 1,"
                " platform_message_id = ?, delivered_at = ?, next_attempt_at = NULL"
                " WHERE key = ?",
                (message_id, _ts_req(at), key),
            )
            if cursor.rowcount == 0:
                raise StoreError(f"cannot {what}: no such post")

    async def mark_attempt_failed(
        self, key: str, *, error: str, next_attempt_at: datetime | None
    ) -> None:
        what = f"record a failed attempt of post {key!r}"
        state = PostState.PENDING if next_attempt_at is not None else PostState.FAILED
        async with self._write(what) as db:
            cursor = await db.execute(
                "UPDATE outbox SET state = ?, attempts = attempts + 1, last_error = ?,"
                " next_attempt_at = ? WHERE key = ?",
                (str(state), error, _ts(next_attempt_at), key),
            )
            if cursor.rowcount == 0:
                raise StoreError(f"cannot {what}: no such post")

    async def get_post(self, key: str) -> Post | None:
        rows = await self._fetch(
            f"read post {key!r}", f"SELECT {_POST_COLUMNS} FROM outbox WHERE key = ?", (key,)
        )
        posts = self._posts(rows, f"read post {key!r}")
        return posts[0] if posts else None

    async def posts_for_development(self, ref: ChannelRef, development_id: str) -> list[Post]:
        what = f"list posts about development {development_id!r} in channel {ref.key}"
        rows = await self._fetch(
            what,
            f"SELECT {_POST_COLUMNS} FROM outbox WHERE channel_key = ? AND development_id = ?"
            " ORDER BY id",
            (ref.key, development_id),
        )
        return self._posts(rows, what)

    async def outbox_depth(self) -> int:
        rows = await self._fetch(
            "count pending posts", "SELECT count(*) FROM outbox WHERE state = 'pending'"
        )
        return int(rows[0][0])

    async def set_paused(
        self, *, platform: str, workspace: str, channel: str | None, reason: str | None
    ) -> list[ChannelRef]:
        what = f"pause channels of {platform}:{workspace}"
        sql = (
            "UPDATE channels SET paused = ?, pause_reason = ? WHERE platform = ? AND workspace = ?"
            " AND paused = ?"
        )
        params: list[Any] = [int(reason is not None), reason, platform, workspace]
        params.append(int(reason is None))
        if channel is not None:
            sql += " AND channel = ?"
            params.append(channel)
        sql += " RETURNING platform, workspace, channel, thread"
        async with self._write(what) as db:
            cursor = await db.execute(sql, params)
            rows = list(await cursor.fetchall())
        return sorted(
            (ChannelRef(platform=r[0], workspace=r[1], channel=r[2], thread=r[3]) for r in rows),
            key=lambda ref: ref.key,
        )

    async def briefing_channels(self) -> list[Channel]:
        what = "list the channels that get briefings"
        rows = await self._fetch(
            what,
            f"SELECT {_CHANNEL_COLUMNS} FROM channels"
            " WHERE briefing_time IS NOT NULL OR mode = 'briefing' ORDER BY key",
        )
        try:
            return [_channel(r) for r in rows]
        except ValueError as e:
            raise StoreError(f"cannot {what}: {e}") from e

    async def paused_channels(self) -> list[Channel]:
        what = "list paused channels"
        rows = await self._fetch(
            what, f"SELECT {_CHANNEL_COLUMNS} FROM channels WHERE paused = 1 ORDER BY key"
        )
        try:
            return [_channel(r) for r in rows]
        except ValueError as e:
            raise StoreError(f"cannot {what}: {e}") from e

    async def save_runtime(self, name: str, value: Mapping[str, Any], *, at: datetime) -> None:
        async with self._write(f"record the runtime state {name!r}") as db:
            await db.execute(
                "INSERT INTO runtime (name, value, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET value = excluded.value,"
                " updated_at = excluded.updated_at",
                (name, json.dumps(dict(value), sort_keys=True), _ts_req(at)),
            )

    async def runtime(self) -> dict[str, RuntimeState]:
        rows = await self._fetch(
            "read the runtime state", "SELECT name, value, updated_at FROM runtime ORDER BY name"
        )
        found: dict[str, RuntimeState] = {}
        for name, value, updated in rows:
            try:
                data = json.loads(value)
            except json.JSONDecodeError:
                continue
            if isinstance(data, dict):
                found[str(name)] = RuntimeState(name=str(name), value=data, at=_dt_req(updated))
        return found

    # --- status --------------------------------------------------------------------------------

    async def stats(self) -> dict[str, int]:
        """Counts for ``briefbot status``: listed sources, items, developments, pending posts."""
        rows = await self._fetch(
            "count what the database holds",
            "SELECT (SELECT count(*) FROM sources WHERE active = 1),"
            " (SELECT count(*) FROM items), (SELECT count(*) FROM developments),"
            " (SELECT count(*) FROM outbox WHERE state = 'pending')",
        )
        sources, items, developments, pending = (int(v) for v in rows[0])
        return {
            "sources": sources,
            "items": items,
            "developments": developments,
            "pending_posts": pending,
        }
