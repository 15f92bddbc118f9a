"""The console adapter: the terminal is one channel. Lines typed are commands; posts are printed.

It is what a newcomer meets first (no tokens needed), and what ``briefbot demo`` prints into.
At a real terminal the prompt is prompt_toolkit's: line editing, history (up and down arrows),
and alerts that arrive while you type are printed above the line you are typing, which stays
as it was. From a pipe, lines are read as they come and end of input ends the session.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from collections.abc import AsyncIterator
from typing import IO, Protocol

from bot.domain import BriefbotError, ChannelRef, Post, PostKind
from bot.messages import Reply
from bot.ports import Clock
from bot.services.chat import ChatService
from bot.services.commands import Invocation
from bot.services.render import render_reply_text, render_text

PLATFORM = "console"

_LABEL = {
    PostKind.ALERT: "NEW",
    PostKind.UPDATE: "UPDATE",
    PostKind.BRIEFING: "BRIEFING",
    PostKind.ANSWER: "ANSWER",
    PostKind.NOTICE: "NOTICE",
}


def console_ref(channel: str = "console") -> ChannelRef:
    return ChannelRef(platform=PLATFORM, workspace="local", channel=channel)


class Terminal:
    """The one writer of the terminal. With prompt_toolkit's prompt showing, what is printed goes
    above the line being typed (``patch_stdout``); without it, plain lines."""

    def __init__(self, out: IO[str] | None = None) -> None:
        self._out = out  # None: whatever sys.stdout is at the time (patched while prompting)

    def show(self, text: str) -> None:
        out = self._out or sys.stdout
        out.write(text + "\n")
        out.flush()


def post_text(post: Post) -> str:
    """What the terminal shows of a post: its neutral message rendered as plain text (made
    inert: no controls, no escapes, no live mentions), or the stored text of an older post."""
    return render_text(post.message) if post.message is not None else post.text


class ConsoleOutlet:
    """Prints posts on the terminal, one block each, stamped with the clock's time."""

    platform = PLATFORM
    ready = True

    def __init__(self, terminal: Terminal, clock: Clock) -> None:
        self._terminal = terminal
        self._clock = clock
        self._count = 0

    def _print(self, header: str, text: str) -> None:
        self._terminal.show(f"\n── {header} ──\n{text}")

    async def send(self, post: Post, *, thread_id: str | None = None) -> str:
        self._count += 1
        stamp = self._clock.now().strftime("%a %d %b %H:%M UTC")
        self._print(f"{_LABEL[post.kind]} · {stamp} · #{self._count}", post_text(post))
        return str(self._count)

    async def edit(self, post: Post, message_id: str) -> None:
        self._print(f"EDITED #{message_id}", post_text(post))


class Lines(Protocol):
    def lines(self) -> AsyncIterator[str]:
        """The lines typed, until end of input."""
        ...


class StdinLines:
    """Lines from a (blocking) text stream, read on a daemon thread so the event loop never
    blocks and shutdown never waits on a pending read."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    async def lines(self) -> AsyncIterator[str]:
        queue: asyncio.Queue[str | None] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        def pump() -> None:
            try:
                for line in self._stream:
                    loop.call_soon_threadsafe(queue.put_nowait, line.rstrip("\r\n"))
            except (OSError, ValueError):
                pass
            finally:
                # RuntimeError: the loop closed first, nobody is listening any more.
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(queue.put_nowait, None)

        threading.Thread(target=pump, name="console-stdin", daemon=True).start()
        while (line := await queue.get()) is not None:
            yield line


class PromptLines:
    """prompt_toolkit's prompt at a real terminal: editing, history, output above the input."""

    PROMPT = "> "

    async def lines(self) -> AsyncIterator[str]:
        from prompt_toolkit import PromptSession
        from prompt_toolkit.history import InMemoryHistory
        from prompt_toolkit.patch_stdout import patch_stdout

        session: PromptSession[str] = PromptSession(history=InMemoryHistory())
        with patch_stdout(raw=True):
            while True:
                try:
                    line = await session.prompt_async(self.PROMPT)
                except EOFError:  # Ctrl-D
                    return
                except KeyboardInterrupt:  # Ctrl-C at the prompt: stop, as a signal would
                    return
                yield line


class ConsoleChat:
    """Reads commands from the terminal and prints the replies. Ends at end of input or
    ``quit``."""

    def __init__(
        self, *, lines: Lines, terminal: Terminal, chat: ChatService, channel: ChannelRef
    ) -> None:
        self._lines = lines
        self._terminal = terminal
        self._chat = chat
        self._channel = channel

    async def serve(self) -> None:
        async for line in self._lines.lines():
            if line.strip().casefold() in ("quit", "exit"):
                return
            if not line.strip():
                continue
            try:
                reply = await self._chat.text(Invocation(channel=self._channel), line)
            except BriefbotError as e:  # the store failed: say so and keep serving
                reply = Reply(lines=(f"Sorry, that did not work: {e}. Try again in a moment.",))
            self._terminal.show(render_reply_text(reply))
