"""Hostile feed text is inert in every renderer: the terminal's plain text, Slack's Block Kit
and Discord's embeds. The same values go through each; nothing can ping, link, format or
steer the terminal."""

from __future__ import annotations

import json
import re

import pytest

from bot.adapters import discord_render, slack_render
from bot.messages import AlertView, BriefingSection, BriefingView, Entry, Message, Reply
from bot.services.render import render_text

HOSTILE = (
    "@everyone @here <!channel> <!here> <!everyone> <@U123> <@456> <@&789> <#C1> "
    "<https://evil.example|bank> [bank](https://evil.example) "
    "\x1b[2J\x1b[31mred\x1b[0m \u202eevil\u202c"
)
SAFE_LINK = "https://kw.example/news/1"


def messages() -> list[Message]:
    entry = Entry(headline=HOSTILE, summary=HOSTILE, outlets=(HOSTILE,), links=(SAFE_LINK,))
    return [
        AlertView(
            headline=HOSTILE,
            summary=HOSTILE,
            outlets=(HOSTILE,),
            links=(SAFE_LINK,),
            topics=("nato",),
        ),
        AlertView(
            headline=HOSTILE,
            summary=HOSTILE,
            outlets=(HOSTILE, "Wire"),
            links=(SAFE_LINK,),
            topics=("nato",),
            is_update=True,
            new_outlets=(HOSTILE,),
        ),
        Reply(title=HOSTILE, lines=(HOSTILE,), entries=(entry,), suggestion=HOSTILE),
        BriefingView(
            title="Morning briefing",
            top_line=HOSTILE,
            sections=(BriefingSection(topic="nato", title=HOSTILE, entries=(entry,)),),
            further_reading=(entry,),
        ),
    ]


def assert_inert(shown: str, *, links: bool = True) -> None:
    """No live mention, no terminal control, no bidi override; with ``links``, no masked or
    angle-bracket link either (a plain-text terminal shows those as the text they are)."""
    for live in ("@everyone", "@here", "\x1b", "\u202e"):
        assert live not in shown, live
    for mention in ("<!channel>", "<!here>", "<!everyone>", "<@U123>", "<@456>", "<@&789>"):
        assert mention not in shown, mention
    if links:
        assert "](https://evil" not in shown and "<https://evil" not in shown


@pytest.mark.parametrize("message", messages(), ids=lambda m: type(m).__name__)
def test_plain_text(message: Message) -> None:
    shown = render_text(message)
    assert_inert(shown, links=False)
    if isinstance(message, AlertView):
        assert "evil.example" not in shown  # feed text keeps no URL at all


@pytest.mark.parametrize("message", messages(), ids=lambda m: type(m).__name__)
def test_discord_embeds_and_their_plain_fallback(message: Message) -> None:
    rendered = discord_render.render(message)
    for shown in (
        json.dumps(rendered.embeds, ensure_ascii=False),
        discord_render.plain_text(rendered),
    ):
        assert_inert(shown)
    urls = [e.get("url") for e in rendered.embeds if e.get("url")]
    assert all(u == SAFE_LINK for u in urls)


def _slack_live_markup(shown: str) -> list[str]:
    """Slack markup that would go live: any <…> the renderer did not make itself."""
    found = re.findall(r"<([^>]*)>", shown)
    return [f for f in found if not re.fullmatch(r"https://kw\.example/news/1(\|[^<>|]*)?", f)]


@pytest.mark.parametrize("message", messages(), ids=lambda m: type(m).__name__)
def test_slack_blocks_and_their_fallback(message: Message) -> None:
    rendered = slack_render.render_message(message)
    if isinstance(message, AlertView) and message.is_update:
        rendered.append(slack_render.render_more_coverage(message))
    for part in rendered:
        for shown in (json.dumps(part.blocks, ensure_ascii=False), part.text):
            assert _slack_live_markup(shown) == []
            for live in ("@everyone", "@here", "\x1b", "\u202e", "\\u001b", "\\u202e"):
                assert live not in shown, live
