"""Link and text normalization: what a user sees as one article, and the text shown for it."""

from __future__ import annotations

import pytest

from bot.ingest.normalize import (
    canonical_link,
    clean_text,
    content_hash,
    html_to_text,
    plain_text,
    truncate,
)

# --- canonical_link ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("HTTPS://News.Example.COM/World/Story", "https://news.example.com/World/Story"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("https://example.com/a#comments", "https://example.com/a"),
        ("https://example.com", "https://example.com/"),
        ("  https://example.com/a \n", "https://example.com/a"),
        ("https://example.com/a\n/b", "https://example.com/a/b"),
        ("http://[::1]:80/x", "http://[::1]/x"),
    ],
)
def test_canonical_link_normalizes_the_parts_that_do_not_change_the_page(
    raw: str, expected: str
) -> None:
    assert canonical_link(raw) == expected


def test_canonical_link_drops_trackers_and_keeps_other_parameters_in_order() -> None:
    raw = (
        "https://example.com/story?utm_source=rss&id=42&fbclid=abc&page=2"
        "&UTM_Medium=feed&gclid=x&mc_cid=1&mc_eid=2&ocid=msn&cmpid=c&lang=uk"
    )
    assert canonical_link(raw) == "https://example.com/story?id=42&page=2&lang=uk"


def test_canonical_link_drops_the_query_when_only_trackers_were_in_it() -> None:
    assert canonical_link("https://example.com/a?utm_campaign=x&fbclid=y") == (
        "https://example.com/a"
    )


def test_canonical_link_keeps_parameter_spelling_and_blank_values() -> None:
    raw = "https://example.com/search?q=peace%20talks&flag&x=a+b"
    assert canonical_link(raw) == raw


def test_the_same_article_from_two_campaigns_gets_one_link() -> None:
    a = canonical_link("https://www.Example.com/news/1?at_medium=RSS&at_campaign=rss#top")
    b = canonical_link("https://www.example.com/news/1?utm_source=twitter")
    assert a == b == "https://www.example.com/news/1"


@pytest.mark.parametrize(
    "junk",
    ["", "   ", "not a url", "/relative/path", "http://example.com:99999999/", "http://[::1"],
)
def test_canonical_link_returns_junk_stripped_and_never_raises(junk: str) -> None:
    assert canonical_link(f" {junk} ") == junk.strip()


# --- html_to_text -----------------------------------------------------------------------------


def test_html_to_text_drops_tags_scripts_styles_iframes_and_comments() -> None:
    html = (
        "<div><p>Talks <b>resume</b> in Geneva</p><script>track('x')</script>"
        "<style>p{color:red}</style><!-- ad slot --><iframe src=x>frame text</iframe>"
        "<p>Delegations arrive</p></div>"
    )
    assert html_to_text(html) == "Talks resume in Geneva\nDelegations arrive"


def test_html_to_text_turns_br_and_blocks_into_line_breaks_and_cells_into_spaces() -> None:
    html = "line one<br>line two<br/>line three<ul><li>a</li><li>b</li></ul><td>x</td><td>y</td>"
    assert html_to_text(html) == "line one\nline two\nline three\na\nb\nx y"


def test_html_to_text_decodes_named_and_numeric_entities() -> None:
    html = "Kyiv &amp; Moscow &#8212; &#x201C;talks&#x201D;&nbsp;go on &lt;maybe&gt;"
    assert html_to_text(html) == "Kyiv & Moscow — “talks” go on <maybe>"


def test_an_escaped_tag_in_text_stays_text() -> None:
    assert html_to_text("&lt;script&gt;alert(1)&lt;/script&gt;") == "<script>alert(1)</script>"


def test_html_to_text_keeps_a_less_than_sign_that_is_not_a_tag() -> None:
    assert html_to_text("if a < b and c<3 then") == "if a < b and c<3 then"


def test_html_to_text_handles_a_greater_than_sign_inside_an_attribute() -> None:
    assert html_to_text('<a title="1 > 0" href="/x">link</a> after') == "link after"


def test_html_to_text_survives_unterminated_markup() -> None:
    assert html_to_text("before<script>never closed") == "before"
    assert html_to_text("before<!-- never closed") == "before"


def test_line_breaks_inside_markup_are_spaces_as_in_a_browser() -> None:
    html = "<p>Leaders\nmeet in\r\nParis</p><p>Second\nparagraph</p>"
    assert html_to_text(html) == "Leaders meet in Paris\nSecond paragraph"


def test_plain_text_passes_through_with_whitespace_collapsed() -> None:
    assert html_to_text("  Peace   talks\t\tresume \n\n\n in Geneva ") == (
        "Peace talks resume\nin Geneva"
    )


# --- clean_text, plain_text, truncate ---------------------------------------------------------


def test_clean_text_strips_controls_and_invisible_characters_and_collapses_whitespace() -> None:
    assert clean_text("Zelensky\x00 meets\u200b\tWitkoff\r\nin\xa0Paris\ufeff") == (
        "Zelensky meets Witkoff in Paris"
    )


def test_clean_text_composes_unicode_to_nfc() -> None:
    decomposed = "Kie\u0301v"  # e + combining acute
    assert clean_text(decomposed) == "Kiév"
    assert len(clean_text(decomposed)) == 4


def test_clean_text_can_keep_paragraph_breaks() -> None:
    assert clean_text("one \n\n  two", keep_newlines=True) == "one\ntwo"
    assert clean_text("one \n\n  two") == "one two"


def test_truncate_cuts_at_a_word_and_marks_the_cut() -> None:
    text = "The delegations agreed to meet again next week in Istanbul"
    cut = truncate(text, 30)
    assert len(cut) <= 30
    assert cut.endswith("…")
    assert text.startswith(cut[:-1])
    assert cut == "The delegations agreed to…"
    assert truncate("short", 30) == "short"


def test_plain_text_of_a_huge_fragment_is_capped_and_reads_only_what_it_needs() -> None:
    paragraph = "<p>" + "word " * 50 + "</p>"
    html = paragraph * 20_000  # about 5 MB of markup
    text = plain_text(html, keep_newlines=True, limit=1_000)
    assert len(text) <= 1_000
    assert text.startswith("word word")
    assert "<" not in text


def test_plain_text_of_a_short_text_construct_is_not_treated_as_html() -> None:
    assert plain_text("x <b> y", is_html=False, limit=100) == "x <b> y"
    assert plain_text("x <b> y", is_html=True, limit=100) == "x y"


# --- content_hash -----------------------------------------------------------------------------


def test_content_hash_is_stable_hex() -> None:
    h = content_hash("Talks resume", "Delegations meet in Geneva.")
    assert h == content_hash("Talks resume", "Delegations meet in Geneva.")
    assert int(h, 16) >= 0
    assert len(h) == 32


def test_content_hash_ignores_whitespace_and_composition_but_not_words() -> None:
    base = content_hash("Talks resume", "Delegations meet in Kiév.")
    assert content_hash("  Talks   resume ", "Delegations\nmeet in Kie\u0301v.") == base
    assert content_hash("Talks resume", "Delegations meet in Minsk.") != base
    assert content_hash("Talks collapse", "Delegations meet in Kiév.") != base


def test_content_hash_keeps_title_and_summary_apart() -> None:
    assert content_hash("a b", "c") != content_hash("a", "b c")
