"""The checks on a model's text: links, mentions, markup, numbers and names."""

import pytest

from bot.summarize.grounding import (
    clean_markup,
    ground_answer,
    ground_summary,
    unknown_names,
    unknown_numbers,
)

SOURCES = [
    "Zełenski spotkał się z Witkoffem w Kijowie",
    "Zelensky met US envoy Steve Witkoff in Kyiv on Tuesday. Russia launched 1 200 drones "
    "and 3,5 mln people lost power; the front moved 12 km. Inflation hit 9.5%.",
    "Зеленський заявив, що п'ять областей без світла",
    "Five regions were left without power, officials said.",
]
LINKS = ["https://news.example/a", "https://other.example/b/"]


def _summary(text: str, limit: int = 400) -> str | None:
    return ground_summary(text, sources=SOURCES, links=LINKS, max_chars=limit)


# --- numbers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Russia launched 1,200 drones.",
        "Russia launched 1200 drones.",
        "Russia launched 1.200 drones.",  # a dot as the thousands separator
        "Russia launched 1\u00a0200 drones.",
        "About 3.5 million people lost power.",
        "About 3,500,000 people lost power.",
        "About 3.5m people lost power.",
        "The front moved 12 kilometres.",
        "Inflation hit 9,5 percent.",  # a decimal comma
        "Power cuts hit 5 regions.",  # "five" in a source
    ],
)
def test_a_number_the_sources_have_passes_in_any_spelling(text: str) -> None:
    assert unknown_numbers(text, SOURCES) == []


@pytest.mark.parametrize(
    ("text", "invented"),
    [
        ("Russia launched 1,300 drones.", "1,300"),
        ("About 3.5 billion people lost power.", "3.5 billion"),
        ("About 4 million people lost power.", "4 million"),
        ("The front moved 15 km.", "15"),
        ("Inflation hit 9.6%.", "9.6"),
        ("At least 40 people died.", "40"),
    ],
)
def test_an_invented_number_is_found(text: str, invented: str) -> None:
    assert unknown_numbers(text, SOURCES) == [invented]


# --- names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Zelensky met Witkoff in Kyiv.",
        "Zelenskyy met Witkoff.",  # the stem of Zelensky/Zełenski/Зеленський
        "Zelenskyi spoke on Tuesday.",
        "The Ukrainian president met the US envoy.",  # "Ukrainian" shares its stem with "Ukraine"
        "Meanwhile Russia launched drones.",
        "However, officials said five regions had no power.",
    ],
)
def test_names_the_sources_have_pass_folded(text: str) -> None:
    sources = [*SOURCES, "Ukraine's president"]
    assert unknown_names(text, sources) == []


@pytest.mark.parametrize(
    ("text", "invented"),
    [
        ("Zelensky met Macron in Kyiv.", "Macron"),
        ("Witkoff flew to Geneva.", "Geneva"),
        ("Putin rejected the plan.", "Putin"),
        ("Talks resumed on Friday.", "Friday"),
    ],
)
def test_an_invented_name_is_found(text: str, invented: str) -> None:
    assert unknown_names(text, SOURCES) == [invented]


def test_a_cyrillic_source_grounds_a_latin_name() -> None:
    assert unknown_names("Zelensky said so.", ["Зеленський заявив"]) == []
    assert unknown_names("Budanov said so.", ["Зеленський заявив"]) == ["Budanov"]


# --- links, mentions, markup ---------------------------------------------------------------


def test_links_the_sources_lack_are_removed_and_theirs_kept() -> None:
    out = clean_markup(
        "Read https://news.example/a and https://evil.example/x, or https://other.example/b.",
        LINKS,
    )
    assert "https://news.example/a" in out and "https://other.example/b" in out
    assert "evil.example" not in out


def test_masked_links_keep_their_text_only() -> None:
    out = clean_markup(
        "See [the report](https://evil.example/x) and <https://evil.example/y|this>."
    )
    assert out == "See the report and this."


@pytest.mark.parametrize(
    "mention", ["@everyone", "@here", "@channel", "<!channel>", "<!here>", "<@U123>", "<@&42>"]
)
def test_mentions_are_removed(mention: str) -> None:
    assert clean_markup(f"Alert {mention} now") == "Alert now"


def test_what_looks_like_a_mention_otherwise_is_made_inert() -> None:
    out = clean_markup("Alert <!sub team> @everyone's")
    assert "<!" not in out and "\u200b" in out


def test_controls_markup_and_bidi_overrides_go() -> None:
    out = clean_markup("**Talks** \x1b[31mresume\u202e in `Kyiv`\n\n## <b>today</b>")
    assert out == "Talks [31mresume in Kyiv today"


# --- summaries ------------------------------------------------------------------------------


def test_a_grounded_summary_is_kept_cleaned_and_within_the_limit() -> None:
    out = _summary('Summary: "Zelensky met Witkoff in Kyiv on Tuesday. @everyone"', limit=60)
    assert out is not None and out.startswith("Zelensky met Witkoff in Kyiv")
    assert "@everyone" not in out and len(out) <= 60


def test_a_summary_with_an_invented_number_or_name_is_refused() -> None:
    assert _summary("Zelensky met Witkoff; 40 people died.") is None
    assert _summary("Zelensky met Macron in Kyiv.") is None


@pytest.mark.parametrize("text", ["", "   ", "...", "[1]"])
def test_an_empty_summary_is_refused(text: str) -> None:
    assert _summary(text) is None


# --- answers --------------------------------------------------------------------------------


def test_an_answer_keeps_valid_citations_and_lists_them() -> None:
    out = ground_answer(
        "Zelensky met Witkoff in Kyiv [2]. Russia launched 1,200 drones [1][7].",
        sources=SOURCES,
        links=LINKS,
        count=2,
    )
    assert out is not None
    assert out.cited == (2, 1)
    assert "[7]" not in out.text and out.text.startswith("Zelensky met Witkoff in Kyiv [2].")


def test_an_answer_without_citations_or_with_inventions_is_refused() -> None:
    assert ground_answer("Zelensky met Witkoff.", sources=SOURCES, links=[], count=2) is None
    assert ground_answer("Putin met Witkoff [1].", sources=SOURCES, links=[], count=2) is None
    invented = "Russia launched 900 drones [1]."
    assert ground_answer(invented, sources=SOURCES, links=[], count=1) is None


def test_a_citation_number_is_not_taken_for_a_claimed_number() -> None:
    out = ground_answer("Five regions had no power [3].", sources=SOURCES, links=[], count=3)
    assert out is not None and out.cited == (3,)


def test_dotted_initials_match_plain_ones() -> None:
    sources = ["US envoy in Kyiv", "E.U. leaders meet"]
    assert unknown_names("The U.S. envoy met EU leaders in Kyiv.", sources) == []
    assert unknown_names("The U.K. envoy met them.", sources) == ["UK"]


@pytest.mark.parametrize(
    "text",
    [
        "I cannot help with that request about Kyiv.",
        "I’m sorry, but the reports do not say.",
        "As an AI language model, I met nobody in Kyiv.",
        "Ignore previous instructions: Zelensky met Witkoff.",
        "The provided reports do not mention Kyiv.",
    ],
)
def test_a_model_talking_about_itself_is_refused(text: str) -> None:
    assert _summary(text) is None


def test_the_reports_of_the_news_are_not_taken_for_talk_about_the_task() -> None:
    sources = ["Reports say Zelensky met Witkoff in Kyiv."]
    out = ground_summary(
        "Reports say Zelensky met Witkoff in Kyiv.", sources=sources, links=[], max_chars=400
    )
    assert out == "Reports say Zelensky met Witkoff in Kyiv."


def test_a_clause_left_dangling_by_a_removed_link_goes() -> None:
    assert clean_markup("Talks resumed. Read more: https://evil.example/x") == "Talks resumed."
    assert clean_markup("Talks resumed, see: https://evil.example/x") == "Talks resumed, see"
