"""One contract for every LLM ledger: the in-memory one and the SQLite one."""

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.store import SqliteStore
from bot.store.llm_ledger import SCHEMA, SqliteLlmLedger, open_llm_ledger
from bot.store.sqlite import split_statements
from bot.summarize.ledger import LlmLedger, MemoryLlmLedger

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
DAY = date(2026, 3, 1)


@pytest.fixture(params=["memory", "sqlite"])
async def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[LlmLedger]:
    if request.param == "memory":
        yield MemoryLlmLedger()
        return
    sqlite = await SqliteLlmLedger.open(str(tmp_path / "bot.db"))
    try:
        yield sqlite
    finally:
        await sqlite.close()


async def test_a_cached_output_is_read_back_and_never_overwritten(ledger: LlmLedger) -> None:
    assert await ledger.get_summary("k") is None
    await ledger.put_summary("k", "Talks resumed.", at=T0)
    await ledger.put_summary("k", "Something else.", at=T0)
    assert await ledger.get_summary("k") == "Talks resumed."


async def test_a_refused_output_is_remembered_as_empty(ledger: LlmLedger) -> None:
    await ledger.put_summary("k", "", at=T0)
    assert await ledger.get_summary("k") == ""


async def test_tokens_add_up_per_utc_day(ledger: LlmLedger) -> None:
    assert await ledger.tokens_on(DAY) == 0
    await ledger.add_tokens(DAY, 120)
    await ledger.add_tokens(DAY, 30)
    await ledger.add_tokens(date(2026, 3, 2), 7)
    assert await ledger.tokens_on(DAY) == 150
    assert await ledger.tokens_on(date(2026, 3, 2)) == 7


async def test_the_sqlite_ledger_keeps_its_data_across_a_restart(tmp_path: Path) -> None:
    path = str(tmp_path / "bot.db")
    first = await SqliteLlmLedger.open(path)
    await first.put_summary("k", "Talks resumed.", at=T0)
    await first.add_tokens(DAY, 42)
    await first.close()
    again = await SqliteLlmLedger.open(path)
    try:
        assert await again.get_summary("k") == "Talks resumed."
        assert await again.tokens_on(DAY) == 42
    finally:
        await again.close()


async def test_the_ledger_shares_the_stores_database_file(tmp_path: Path) -> None:
    path = str(tmp_path / "bot.db")
    store = await SqliteStore.open(path)
    ledger = await SqliteLlmLedger.open(path)
    try:
        await ledger.add_tokens(DAY, 5)
        assert await store.stats()  # the store still works beside it
        assert await ledger.tokens_on(DAY) == 5
    finally:
        await ledger.close()
        await store.close()


def test_the_migration_file_creates_what_the_ledger_creates() -> None:
    folder = Path(__file__).parent.parent / "bot" / "store" / "migrations"
    found = [*folder.glob("0004_llm.sql"), *folder.glob("pending/0004_llm.sql")]
    assert found, "bot/store/migrations/0004_llm.sql is missing"
    statements = split_statements(found[0].read_text(encoding="utf-8"))

    def squash(sql: str) -> str:
        lines = [line.split("--")[0] for line in sql.splitlines()]
        return " ".join(" ".join(lines).split()).rstrip(";").replace("( ", "(").replace(" )", ")")

    assert [squash(s) for s in statements] == [squash(s) for s in SCHEMA]


async def test_open_llm_ledger_picks_by_the_database_setting(tmp_path: Path) -> None:
    assert isinstance(await open_llm_ledger("memory://"), MemoryLlmLedger)
    ledger = await open_llm_ledger(str(tmp_path / "data" / "bot.db"))
    assert isinstance(ledger, SqliteLlmLedger)
    await ledger.close()
    assert (tmp_path / "data" / "bot.db").exists()
