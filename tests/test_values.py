"""Commands and messages are values: every reply renders through the console's renderer and
through a second renderer written here from the values alone; an alert, its update and a later
edit re-render from what the store kept, after a restart, without reading any text."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.domain import ChannelRef, Development, Post, PostKind, Source, Story, Topic, alert_key
from bot.messages import (
    AlertView,
    BriefingSection,
    BriefingView,
    Entry,
    Field,
    Message,
    Reply,
    message_from_json,
    message_to_json,
)
from bot.ports import NewItem
from bot.services.commands import COMMANDS, Command, CommandService, Invocation
from bot.services.render import render_reply_text, render_text
from bot.store.sqlite import SqliteStore, load_migrations, split_statements

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
STORY = Story(
    id="s",
    name="Talks",
    description="",
    terms=("ukraine",),
    topics=(
        Topic(id="nato", name="NATO", description="The alliance", aliases=("alliance",)),
        Topic(id="territory", name="Territory", description="Lines", aliases=("donbas",)),
    ),
)
DESK = ChannelRef(platform="console", workspace="local", channel="desk")
HOSTILE = (
    "@everyone <!channel> <!here> <@U1> <@&42> [x](https://evil.example) "
    "\x1b[31mred\x1b[0m \u202eevil\u202c"
)


def html(reply: Reply) -> str:
    """A second renderer, for tests: it knows only the values, and escapes everything."""

    def esc(text: str) -> str:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    parts = [f"<h1>{esc(reply.title)}</h1>"] if reply.title else []
    parts += [f"<p>{esc(line)}</p>" for line in reply.lines]
    parts += [f"<dt>{esc(f.name)}</dt><dd>{esc(f.value)}</dd>" for f in reply.fields]
    for entry in reply.entries:
        links = "".join(f'<a href="{esc(link)}">{esc(link)}</a>' for link in entry.links)
        parts.append(f"<li>{esc(entry.headline)} {esc(entry.when)} {links}</li>")
    if reply.suggestion:
        parts.append(f"<p class=hint>{esc(reply.suggestion)}</p>")
    return "".join(parts)


async def _service(store: SqliteStore) -> CommandService:
    await store.sync_sources([Source(id="kw", name="Kyiv Wire", url="https://kw.example/rss")])
    item = await store.add_item(
        NewItem(
            source_id="kw",
            guid="g1",
            link="https://kw.example/1",
            title="Alliance ministers meet",
            summary="",
            published=NOW,
            first_seen=NOW - timedelta(hours=2),
            content_hash="h1",
        )
    )
    await store.save_development(
        Development(
            id="d1",
            first_seen=NOW - timedelta(hours=2),
            updated_at=NOW,
            title="Alliance ministers meet",
            summary="",
            topics=("nato",),
            item_ids=(item.id,),
        )
    )
    return CommandService(store=store, story=STORY, clock=ManualClock(NOW))


@pytest.mark.parametrize("spec", COMMANDS, ids=lambda s: s.verb)
async def test_every_command_reply_renders_from_its_value_alone(
    spec: object, tmp_path: Path
) -> None:
    from bot.services.commands import CommandSpec

    assert isinstance(spec, CommandSpec)
    store = await SqliteStore.open(str(tmp_path / "bot.db"))
    try:
        service = await _service(store)
        args = ("nato",) if spec.args else ()
        reply = await service.execute(Invocation(channel=DESK), Command(verb=spec.verb, args=args))
        text, other = render_reply_text(reply), html(reply)
        assert text.strip() and other
        # Both renderers show the same facts, taken from the value, not from each other's text.
        for value in [reply.title, *reply.lines, *(f.name for f in reply.fields)]:
            if value:
                assert value.split()[0] in text
        for entry in reply.entries:
            assert entry.headline in text and entry.headline in other
            for link in entry.links:
                assert link in text and f'href="{link}"' in other
        assert reply.private == spec.private or spec.verb == "whatsnew"
    finally:
        await store.close()


async def test_a_manage_command_is_refused_by_the_table_at_run_time(tmp_path: Path) -> None:
    from bot.domain import Caller, ManagePolicy

    store = await SqliteStore.open(str(tmp_path / "bot.db"))
    try:
        service = await _service(store)
        invocation = Invocation(
            channel=DESK, caller=Caller(user="U2"), policy=ManagePolicy(who="admins")
        )
        reply = await service.execute(invocation, Command(verb="subscribe", args=("nato",)))
        assert reply.error and "workspace admins" in render_reply_text(reply)
        assert await store.subscriptions(DESK) == []
        allowed = Invocation(
            channel=DESK, caller=Caller(user="U1", admin=True), policy=ManagePolicy(who="admins")
        )
        await service.execute(allowed, Command(verb="subscribe", args=("nato",)))
        assert await store.subscriptions(DESK) == ["nato"]
        # Anyone may ask.
        asked = await service.execute(invocation, Command(verb="subscriptions"))
        assert not asked.error
    finally:
        await store.close()


def test_every_message_survives_storage_as_the_same_value() -> None:
    messages: list[Message] = [
        AlertView(
            headline="Envoy meets Putin",
            summary="Five hours of talks.",
            outlets=("Kyiv Wire", "Baltic Post"),
            links=("https://kw.example/1", "https://bp.example/2"),
            topics=("negotiations",),
            development_id="dev-1",
            is_update=True,
            new_outlets=("Baltic Post",),
            new_languages=("pl",),
        ),
        Reply(
            title="What's new",
            lines=("one",),
            fields=(Field(name="nato", value="The alliance"),),
            entries=(Entry(headline="h", links=("https://x.example/",), when="2 h ago"),),
            private=True,
            suggestion="try",
        ),
        BriefingView(
            title="Morning briefing",
            top_line="2 developments from 3 outlets",
            sections=(BriefingSection(topic="nato", title="NATO", entries=(Entry(headline="h"),)),),
            late=True,
            local_date="2026-03-02",
        ),
    ]
    for message in messages:
        assert message_from_json(message_to_json(message)) == message
    with pytest.raises(ValueError):
        message_from_json('{"type": "nope"}')


async def test_alert_update_and_edit_re_render_from_stored_values_after_a_restart(
    tmp_path: Path,
) -> None:
    path = str(tmp_path / "bot.db")
    alert = AlertView(
        headline="Envoy meets Putin",
        summary="Talks lasted five hours.",
        outlets=("Kyiv Wire",),
        links=("https://kw.example/1",),
        topics=("negotiations",),
        development_id="dev-1",
    )
    update = AlertView(
        headline=alert.headline,
        summary=alert.summary,
        outlets=("Kyiv Wire", "Baltic Post"),
        links=("https://bp.example/2", "https://kw.example/1"),
        topics=alert.topics,
        is_update=True,
        development_id="dev-1",
        new_outlets=("Baltic Post",),
    )
    edited = AlertView(
        headline="Envoy meets Putin for five hours",
        summary=alert.summary,
        outlets=update.outlets,
        links=update.links,
        topics=alert.topics,
        is_update=True,
        development_id="dev-1",
        new_outlets=("Baltic Post",),
    )
    key = alert_key(DESK, "dev-1")
    store = await SqliteStore.open(path)
    for n, (view, kind, extra) in enumerate(
        [
            (alert, PostKind.ALERT, {}),
            (update, PostKind.UPDATE, {"thread_of": key}),
            (edited, PostKind.ALERT, {"edit_of": key}),
        ]
    ):
        await store.enqueue(
            Post(
                key=key if n == 0 else f"{kind}:{n}",
                channel=DESK,
                kind=kind,
                text="(not read)",
                created_at=NOW,
                development_id="dev-1",
                message=view,
                sources=view.links,
                **extra,  # type: ignore[arg-type]
            )
        )
    await store.close()

    store = await SqliteStore.open(path)  # a restart
    try:
        posts = await store.posts_for_development(DESK, "dev-1")
        assert [p.message for p in posts] == [alert, update, edited]
        assert posts[1].thread_of == key and posts[2].edit_of == key
        shown = [render_text(p.message) for p in posts if p.message is not None]
        assert shown[0].startswith("Envoy meets Putin\nTalks lasted five hours.")
        assert shown[1].startswith("Update: Envoy meets Putin")
        assert "Now reported by Kyiv Wire and Baltic Post (2 outlets)" in shown[2]
        assert "(not read)" not in "".join(shown)
    finally:
        await store.close()


def test_hostile_feed_text_is_inert_in_the_plain_text_renderer() -> None:
    view = AlertView(
        headline=HOSTILE,
        summary=HOSTILE,
        outlets=(HOSTILE,),
        links=("https://kw.example/1",),
        topics=("nato",),
    )
    reply = Reply(
        title=HOSTILE, lines=(HOSTILE,), entries=(Entry(headline=HOSTILE, outlets=(HOSTILE,)),)
    )
    for text in (render_text(view), render_text(reply)):
        for live in ("@everyone", "<!channel>", "<!here>", "<@U1>", "<@&42>", "\x1b", "\u202e"):
            assert live not in text
        assert "https://evil.example" not in render_text(view)


async def test_a_database_of_the_previous_release_upgrades_keeping_everything(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    first = load_migrations()[0]
    assert first[0] == 1
    with sqlite3.connect(path) as conn:  # the schema the previous release made
        for statement in split_statements(first[2]):
            conn.execute(statement)
        conn.execute("PRAGMA user_version = 1")
        conn.execute(
            "INSERT INTO sources (id, name, url, position, active) VALUES"
            " ('kw', 'Kyiv Wire', 'https://kw.example/rss', 0, 1)"
        )
        conn.execute(
            "INSERT INTO channels (key, platform, workspace, channel) VALUES"
            " ('console:local:desk', 'console', 'local', 'desk')"
        )
        conn.execute(
            "INSERT INTO items (id, source_id, guid, link, title, summary, first_seen,"
            " content_hash, on_story, topics, development_id) VALUES (7, 'kw', 'g7',"
            " 'https://kw.example/7', 'Envoy meets Putin', '', ?, 'h7', 1, '[\"nato\"]', 'dev-1')",
            (NOW.isoformat(),),
        )
        conn.execute(
            "INSERT INTO subscriptions (channel_key, topic) VALUES ('console:local:desk', 'nato')"
        )
        conn.execute(
            "INSERT INTO outbox (key, channel_key, platform, workspace, channel, kind, text,"
            " created_at) VALUES ('alert:console:local:desk:dev-1', 'console:local:desk',"
            " 'console', 'local', 'desk', 'alert', 'Envoy meets Putin', ?)",
            (NOW.isoformat(),),
        )
    store = await SqliteStore.open(str(path))
    try:
        assert await store.subscriptions(DESK) == ["nato"]
        assert [s.id for s in await store.list_sources()] == ["kw"]
        pending = await store.pending_heads(per_channel=5, limit=10)
        assert [p.text for p in pending] == ["Envoy meets Putin"]
        assert pending[0].message is None  # an old post: shown from its text
        channel = await store.get_channel(DESK)
        assert channel is not None and channel.pause_reason is None
        (item,) = await store.get_items([7])  # an old item: news, as its headline says
        assert item.topics == ("nato",) and item.development_id == "dev-1" and not item.analysis
    finally:
        await store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == load_migrations()[-1][0]
