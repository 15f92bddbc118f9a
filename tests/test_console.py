import io

from bot.adapters.console import Terminal
from bot.app import human_interval


def test_a_message_arriving_at_the_prompt_takes_its_place_and_the_prompt_returns() -> None:
    out = io.StringIO()
    terminal = Terminal(out, interactive=True)
    terminal.prompt()
    terminal.show("── NEW ──\nEnvoy meets Putin")
    assert out.getvalue() == "> \r\x1b[K── NEW ──\nEnvoy meets Putin\n> "


def test_a_reply_after_enter_is_printed_plainly() -> None:
    out = io.StringIO()
    terminal = Terminal(out, interactive=True)
    terminal.prompt()
    terminal.answered()
    terminal.show("Subscribed to nato.")
    assert out.getvalue() == "> Subscribed to nato.\n"


def test_piped_output_has_no_prompt_and_no_escape_codes() -> None:
    out = io.StringIO()
    terminal = Terminal(out, interactive=False)
    terminal.prompt()
    terminal.show("hello")
    assert out.getvalue() == "hello\n"


def test_intervals_read_like_a_person_would_say_them() -> None:
    assert human_interval(600) == "10 minutes"
    assert human_interval(60) == "1 minute"
    assert human_interval(3600) == "1 hour"
    assert human_interval(5400) == "90 minutes"
    assert human_interval(45) == "45 seconds"


async def test_a_failing_command_is_answered_and_the_chat_goes_on() -> None:
    import os

    from bot.adapters.console import ConsoleChat, console_ref
    from bot.domain import ChannelRef, StoreError

    async def handler(channel: ChannelRef, text: str) -> str:
        if text == "subscribe nato":
            raise StoreError("database is locked")
        return f"ok: {text}"

    read_fd, write_fd = os.pipe()
    out = io.StringIO()
    with os.fdopen(read_fd) as stdin:
        with os.fdopen(write_fd, "w") as typed:
            typed.write("subscribe nato\ntopics\n")
        chat = ConsoleChat(
            stdin=stdin,
            terminal=Terminal(out, interactive=False),
            handler=handler,
            channel=console_ref(),
        )
        await chat.serve()
    assert out.getvalue() == (
        "Sorry, that did not work: database is locked. Try again in a moment.\nok: topics\n"
    )
