import asyncio
import io
import os

from prompt_toolkit.application import create_app_session
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from bot.adapters.console import ConsoleChat, PromptLines, StdinLines, Terminal, console_ref
from bot.app import human_interval, round_line
from bot.clock import ManualClock
from bot.domain import ChannelRef, StoreError, Story, Topic
from bot.services.chat import ChatService, chat_service
from bot.services.core import RoundReport
from bot.services.pipeline import PollReport
from bot.store.memory import MemoryStore

STORY = Story(
    id="s",
    name="Talks",
    description="",
    terms=("ukraine",),
    topics=(Topic(id="nato", name="NATO", description="The alliance"),),
)


def _chat(store: MemoryStore) -> ChatService:
    from datetime import UTC, datetime

    clock = ManualClock(datetime(2026, 2, 1, tzinfo=UTC))
    return chat_service(store=store, story=STORY, clock=clock)


def test_piped_output_is_plain_lines() -> None:
    out = io.StringIO()
    Terminal(out).show("hello")
    assert out.getvalue() == "hello\n"


def test_intervals_read_like_a_person_would_say_them() -> None:
    assert human_interval(600) == "10 minutes"
    assert human_interval(60) == "1 minute"
    assert human_interval(3600) == "1 hour"
    assert human_interval(5400) == "90 minutes"
    assert human_interval(45) == "45 seconds"


def test_round_lines_use_correct_plurals_and_quiet_rounds_say_nothing() -> None:
    one = RoundReport(
        polls=(PollReport(source_id="a", status="failed", error="boom"),), delivered=0
    )
    assert round_line(one).startswith("[polled 1 source: 0 ok, 1 failing; 0 new items")
    assert "0 alerts queued" in round_line(one)
    quiet = RoundReport(polls=(PollReport(source_id="a", status="unchanged"),))
    assert not quiet.eventful
    busy = RoundReport(polls=(PollReport(source_id="a", status="new", new_items=1, alerts=1),))
    assert (
        busy.eventful and "1 new item;" in round_line(busy) and "1 alert queued" in round_line(busy)
    )


class FailingStore(MemoryStore):
    async def subscribe(self, ref: ChannelRef, topics: object) -> list[str]:
        raise StoreError("database is locked")


async def test_a_failing_command_is_answered_and_the_chat_goes_on() -> None:
    read_fd, write_fd = os.pipe()
    out = io.StringIO()
    with os.fdopen(read_fd) as stdin:
        with os.fdopen(write_fd, "w") as typed:
            typed.write("subscribe nato\nsubscriptions\n")
        chat = ConsoleChat(
            lines=StdinLines(stdin),
            terminal=Terminal(out),
            chat=_chat(FailingStore()),
            channel=console_ref(),
        )
        await chat.serve()
    assert out.getvalue() == (
        "Sorry, that did not work: database is locked. Try again in a moment.\n"
        "This channel follows nothing yet.\nTry: subscribe nato (or subscribe * for all).\n"
    )


async def test_an_alert_printed_while_typing_leaves_the_typed_line_intact() -> None:
    """At a terminal, output that arrives mid-line goes above the prompt, and what the user had
    typed so far is still there to finish."""
    store = MemoryStore()
    with create_pipe_input() as pipe, create_app_session(input=pipe, output=DummyOutput()):
        chat = ConsoleChat(
            lines=PromptLines(), terminal=Terminal(), chat=_chat(store), channel=console_ref()
        )
        serving = asyncio.create_task(chat.serve())
        await asyncio.sleep(0.2)
        pipe.send_text("subscr")
        await asyncio.sleep(0.1)
        Terminal().show("── NEW ──\nEnvoy meets Putin")  # a background alert
        await asyncio.sleep(0.1)
        pipe.send_text("ibe nato\r")
        for _ in range(50):
            if await store.subscriptions(console_ref()):
                break
            await asyncio.sleep(0.05)
        pipe.send_text("\x04")  # Ctrl-D ends the session
        async with asyncio.timeout(5):
            await serving
    assert await store.subscriptions(console_ref()) == ["nato"]
