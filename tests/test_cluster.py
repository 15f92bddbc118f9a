from datetime import UTC, datetime, timedelta

from bot.novelty.cluster import Clusterer, ClusterItem, headline_words

T0 = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)


def _item(
    n: int,
    title: str,
    *,
    link: str | None = None,
    summary: str = "",
    minutes: int = 0,
    source: str = "s1",
) -> ClusterItem:
    return ClusterItem(
        item_id=n,
        source_id=source,
        link=link or f"https://{source}.example/{n}",
        title=title,
        summary=summary,
        seen_at=T0 + timedelta(minutes=minutes),
    )


def test_same_link_joins_the_development() -> None:
    c = Clusterer()
    first = c.assign(_item(1, "Envoy lands in Moscow", link="https://x.example/a"), new_id="d1")
    again = c.assign(
        _item(2, "Different words entirely", link="https://x.example/a", source="s2", minutes=5),
        new_id="d2",
    )
    assert first.created and first.development_id == "d1"
    assert not again.created and again.development_id == "d1" and again.reason == "link"


def test_syndicated_copy_with_outlet_suffix_joins() -> None:
    c = Clusterer()
    c.assign(_item(1, "Zelensky names new head of his presidential office"), new_id="d1")
    copy = c.assign(
        _item(2, "Zelensky names new head of his presidential office - Kyiv Wire", source="agg"),
        new_id="d2",
    )
    assert copy.development_id == "d1"


def test_same_text_under_a_second_url_joins() -> None:
    c = Clusterer()
    summary = "The strike hit a cafe on New Year's night, officials said."
    c.assign(_item(1, "Strike hits cafe", summary=summary), new_id="d1")
    copy = c.assign(_item(2, "Strike hits cafe", summary=summary, source="s1b"), new_id="d2")
    assert copy.development_id == "d1" and copy.reason in ("text", "headline")


def test_lexically_close_but_different_events_stay_apart() -> None:
    c = Clusterer()
    c.assign(_item(1, "Russian missile strike on Kharkiv kills two"), new_id="d1")
    other = c.assign(_item(2, "Russian drone strike on Odesa port kills one"), new_id="d2")
    assert other.created and other.development_id == "d2"


def test_window_expires_old_developments() -> None:
    c = Clusterer(window=timedelta(hours=1))
    c.assign(_item(1, "Envoy lands in Moscow", link="https://x.example/a"), new_id="d1")
    late = c.assign(
        _item(2, "Envoy lands in Moscow", link="https://x.example/a", minutes=120), new_id="d2"
    )
    assert late.created


def test_load_rebuilds_the_window() -> None:
    c = Clusterer()
    known = ClusterItem(
        item_id=1,
        source_id="s1",
        link="https://x.example/a",
        title="Envoy lands in Moscow",
        summary="",
        seen_at=T0,
        development_id="d7",
    )
    c.load([known])
    assert (
        c.assign(
            _item(2, "Other", link="https://x.example/a", minutes=3), new_id="d9"
        ).development_id
        == "d7"
    )


def test_headline_words_drop_outlet_suffix_and_stop_words() -> None:
    assert headline_words("The envoy meets Putin - Reuters") == {"envoy", "meets", "putin"}
