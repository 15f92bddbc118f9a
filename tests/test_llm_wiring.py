"""``app.make_summarizer``: the settings pick the summarizer, and the LLM one really talks to the
configured endpoint."""

from pathlib import Path

from fakes.openai_server import FakeOpenAI, ok
from test_config import make_config
from test_llm import DEV, GOOD, T0

from bot.app import make_summarizer
from bot.clock import ManualClock
from bot.config import load_settings
from bot.ports import SummaryInput
from bot.summarize.extractive import ExtractiveSummarizer, summarize_extractive
from bot.summarize.ledger import MemoryLlmLedger
from bot.summarize.llm import PLACEHOLDER_KEY, LlmSummarizer


def test_without_a_key_or_llm_table_the_summarizer_is_extractive(tmp_path: Path) -> None:
    settings = load_settings(make_config(tmp_path), environ={})
    assert isinstance(make_summarizer(settings), ExtractiveSummarizer)


def test_the_off_switch_keeps_the_extractive_summarizer_despite_a_key(tmp_path: Path) -> None:
    folder = make_config(tmp_path, "[llm]\nenabled = false\n")
    settings = load_settings(folder, environ={"OPENAI_API_KEY": "sk-x"})
    assert isinstance(make_summarizer(settings), ExtractiveSummarizer)


async def test_a_key_turns_the_llm_summarizer_on_with_the_configured_limits(
    tmp_path: Path,
) -> None:
    folder = make_config(tmp_path, "[llm]\ndaily_token_budget = 1234\n")
    settings = load_settings(folder, environ={"OPENAI_API_KEY": "sk-x"})
    summarizer = make_summarizer(settings)
    assert isinstance(summarizer, LlmSummarizer)
    assert summarizer.client.model == "gpt-4o-mini"
    assert summarizer.client.daily_token_budget == 1234
    await summarizer.client.aclose()


async def test_a_local_endpoint_in_bot_toml_is_used_without_a_key(tmp_path: Path) -> None:
    server = FakeOpenAI(default=ok(GOOD))
    await server.start()
    try:
        folder = make_config(
            tmp_path,
            f'[llm]\nenabled = true\nbase_url = "{server.base_url}"\nmodel = "local-small"\n'
            "timeout = 2\n",
        )
        settings = load_settings(folder, environ={})
        ledger = MemoryLlmLedger()
        summarizer = make_summarizer(settings, ledger=ledger, clock=ManualClock(T0))
        assert isinstance(summarizer, LlmSummarizer)
        assert await summarizer.summarize(DEV) == GOOD
        [request] = server.requests
        assert request.body["model"] == "local-small"
        assert request.headers["Authorization"] == f"Bearer {PLACEHOLDER_KEY}"
        assert await ledger.tokens_on(T0.date()) == 70
        await server.stop()
        # The endpoint is gone: the extractive summary, and no error.
        other = SummaryInput(title="t", items=DEV.items[:1], max_chars=400)
        assert await summarizer.summarize(other) == summarize_extractive(other)
        await summarizer.client.aclose()
    finally:
        await server.stop()
