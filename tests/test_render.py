from bot.messages import AlertView, join_names
from bot.services.render import neutralize, render_alert_text, scrub, shorten


def test_mass_mentions_are_made_inert() -> None:
    for hostile in ("@everyone", "@here", "@channel", "<!channel>", "<!here>", "<!everyone>"):
        out = neutralize(f"breaking {hostile} now")
        assert hostile not in out
        assert out.replace("\u200b", "") == f"breaking {hostile} now"


def test_user_and_role_mentions_are_made_inert() -> None:
    for hostile in ("<@U012AB3CD>", "<@123456789012345678>", "<@&42>", "<#C0123>"):
        assert hostile not in neutralize(hostile)


def test_scrub_drops_urls_and_control_characters() -> None:
    text = "Read more at https://evil.example/x?y=1 and www.evil.example.com now\x07"
    out = scrub(text)
    assert "evil" not in out
    assert "\x07" not in out
    assert out == "Read more at and now"


def test_shorten_cuts_at_a_word_boundary_with_an_ellipsis() -> None:
    text = "The envoy met the president for five hours in the Kremlin on Tuesday evening"
    out = shorten(text, 40)
    assert len(out) <= 40
    assert out.endswith("…")
    assert text.startswith(out[:-1])
    assert shorten("short", 40) == "short"


def test_join_names() -> None:
    assert join_names(["BBC"]) == "BBC"
    assert join_names(["BBC", "DW"]) == "BBC and DW"
    assert join_names(["BBC", "DW", "AP"]) == "BBC, DW and AP"
    assert join_names(["A", "B", "C", "D", "E"]) == "A, B, C and 2 more"
    assert join_names(["A", "A", "B"]) == "A and B"


def _view(**kw: object) -> AlertView:
    base: dict[str, object] = {
        "headline": "Envoy to meet Putin",
        "summary": "The envoy flies to Moscow on Thursday.",
        "outlets": ("Kyiv Wire",),
        "links": ("https://a.example/1",),
        "topics": ("negotiations",),
    }
    base.update(kw)
    return AlertView(**base)  # type: ignore[arg-type]


def test_alert_names_outlets_and_says_single_outlet() -> None:
    text = render_alert_text(_view())
    assert "Envoy to meet Putin" in text
    assert "Reported by Kyiv Wire (1 outlet so far)" in text
    assert "negotiations" in text
    assert "• https://a.example/1" in text


def test_alert_cites_at_most_three_links_then_and_n_more() -> None:
    links = tuple(f"https://a.example/{n}" for n in range(5))
    text = render_alert_text(_view(links=links, outlets=("A", "B", "C", "D", "E")))
    assert text.count("• https://") == 3
    assert "and 2 more" in text
    assert "(5 outlets)" in text


def test_hostile_headline_cannot_ping() -> None:
    text = render_alert_text(_view(headline="@everyone <!channel> look", outlets=("@here",)))
    for hostile in ("@everyone", "<!channel>", "@here"):
        assert hostile not in text


def test_terminal_escapes_and_bidi_overrides_are_removed() -> None:
    hostile = "Talks\x1b[2J\x1b]0;pwned\x07 resume \x9b31m\u202eevil"
    out = scrub(hostile)
    assert "\x1b" not in out and "\x9b" not in out and "\u202e" not in out and "\x07" not in out
    text = render_alert_text(_view(headline=hostile, outlets=("Wire\x1b[31m",)))
    assert "\x1b" not in text and "\u202e" not in text
