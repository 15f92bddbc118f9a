from datetime import UTC, datetime

from bot.domain import Item
from bot.ports import SummaryInput
from bot.summarize.extractive import ExtractiveSummarizer, sentences

T0 = datetime(2026, 2, 1, tzinfo=UTC)


def _item(n: int, title: str, summary: str) -> Item:
    return Item(
        id=n,
        source_id="s",
        source_name="S",
        guid=str(n),
        link=f"https://s.example/{n}",
        title=title,
        summary=summary,
        published=None,
        first_seen=T0,
        content_hash="h",
    )


async def _summary(*items: Item, limit: int = 400) -> str:
    return await ExtractiveSummarizer().summarize(
        SummaryInput(title=items[0].title, items=items, max_chars=limit)
    )


async def test_takes_whole_lead_sentences_within_the_limit() -> None:
    lede = (
        "The US envoy met Vladimir Putin for five hours in the Kremlin. Both sides called the "
        "talks useful. A second round is planned for next week in Abu Dhabi. "
    ) * 3
    out = await _summary(_item(1, "Envoy meets Putin", lede), limit=120)
    assert len(out) <= 120
    assert out.startswith("The US envoy met Vladimir Putin for five hours in the Kremlin.")


async def test_never_longer_than_the_limit_even_for_one_long_sentence() -> None:
    out = await _summary(_item(1, "Talks", "word " * 500), limit=400)
    assert len(out) <= 400 and out.endswith("…")


async def test_prefers_the_most_informative_summary() -> None:
    out = await _summary(
        _item(1, "Envoy meets Putin", "Envoy meets Putin"),
        _item(2, "Putin receives envoy", "Putin received the US envoy in Moscow on Tuesday."),
    )
    assert out == "Putin received the US envoy in Moscow on Tuesday."


async def test_falls_back_to_the_headline() -> None:
    assert await _summary(_item(1, "Kremlin rejects the ceasefire plan", "")) == (
        "Kremlin rejects the ceasefire plan"
    )


async def test_a_link_aggregators_boilerplate_is_no_summary() -> None:
    # What a Reddit entry carries as its summary, once its HTML is text.
    boilerplate = "submitted by /u/some_reader\n[link] [comments]"
    alone = _item(1, "Kremlin rejects the ceasefire plan", boilerplate)
    assert await _summary(alone) == "Kremlin rejects the ceasefire plan"
    with_report = _item(
        2, "Moscow says no to truce", "The Kremlin said the plan ignored its demands."
    )
    assert await _summary(alone, with_report) == "The Kremlin said the plan ignored its demands."


async def test_untrusted_text_cannot_ping_or_smuggle_links() -> None:
    out = await _summary(_item(1, "Talks", "@everyone read https://evil.example/x now <!here>."))
    assert "evil.example" not in out and "@everyone" not in out and "<!here>" not in out


def test_sentence_split_keeps_abbreviations_of_numbers_together() -> None:
    assert sentences("Talks resume. Kyiv agrees. 3.5 million wait.") == [
        "Talks resume.",
        "Kyiv agrees.",
        "3.5 million wait.",
    ]
