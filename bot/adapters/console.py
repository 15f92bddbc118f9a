"""The console adapter: the terminal is one channel. Lines typed are commands; posts are printed.

It is what a newcomer meets first (no tokens needed), and what ``briefbot demo`` prints into.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable
from typing import IO

from bot.domain import BriefbotError, ChannelRef, Post, PostKind
from bot.ports import Clock

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
    """The one writer of the terminal: posts, notices and replies that arrive while the prompt
    is showing take its place, and the prompt comes back below them."""

    PROMPT = "> "

    def __init__(self, out: IO[str], *, interactive: bool) -> None:
        self._out = out
        self._interactive = interactive
        self._prompting = False

    def show(self, text: str) -> None:
        if self._prompting:
            self._out.write("\r\x1b[K")  # back to the start of the line, erase the prompt
        self._out.write(text + "\n")
        if self._prompting:
            self._out.write(self.PROMPT)
        self._out.flush()

    def prompt(self) -> None:
        if self._interactive:
            self._out.write(self.PROMPT)
            self._out.flush()
            self._prompting = True

    def answered(self) -> None:
        """The user pressed Enter: the cursor is on a fresh line, no prompt on it."""
        self._prompting = False


class ConsoleOutlet:
    """Prints posts on the terminal, one block each, stamped with the clock's time."""

    platform = PLATFORM

    def __init__(self, terminal: Terminal, clock: Clock) -> None:
        self._terminal = terminal
        self._clock = clock
        self._count = 0

    def _print(self, header: str, text: str) -> None:
        self._terminal.show(f"\n── {header} ──\n{text}")

    ready = True

    async def send(self, post: Post, *, thread_id: str | None = None) -> str:
        self._count += 1
        stamp = self._clock.now().strftime("%a %d %b %H:%M UTC")
        self._print(f"{_LABEL[post.kind]} · {stamp} · #{self._count}", post.text)
        return str(self._count)

    async def edit(self, post: Post, message_id: str) -> None:
        self._print(f"EDITED #{message_id}", post.text)


class StdinLines:
    """Lines from a (blocking) text stream, read on a daemon thread so the event loop never
    blocks and shutdown never waits on a pending read. ``None`` marks the end of input."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._pump, name="console-stdin", daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        try:
            for line in self._stream:
                self._loop.call_soon_threadsafe(self._queue.put_nowait, line.rstrip("\r\n"))
        except (OSError, ValueError):
            pass
        finally:
            # RuntimeError: the loop closed first, nobody is listening any more.
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._queue.put_nowait, None)

    async def next(self) -> str | None:
        return await self._queue.get()


Handler = Callable[[ChannelRef, str], Awaitable[str]]


class ConsoleChat:
    """Reads commands from the terminal and prints the replies. Ends at end of input."""

    def __init__(
        self, *, stdin: IO[str], terminal: Terminal, handler: Handler, channel: ChannelRef
    ) -> None:
        self._stdin = stdin
        self._terminal = terminal
        self._handler = handler
        self._channel = channel

    async def serve(self) -> None:
        lines = StdinLines(self._stdin)
        self._terminal.prompt()
        while True:
            line = await lines.next()
            self._terminal.answered()
            if line is None:
                return
            if line.strip().casefold() in ("quit", "exit"):
                return
            if line.strip():
                try:
                    reply = await self._handler(self._channel, line)
                except BriefbotError as e:  # the store failed: say so and keep serving
                    reply = f"Sorry, that did not work: {e}. Try again in a moment."
                self._terminal.show(reply)
            self._terminal.prompt()
