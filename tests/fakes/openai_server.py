"""A local OpenAI-compatible server for tests: ``POST /v1/chat/completions`` on 127.0.0.1.

Each request takes the next scripted :class:`Reply` (then ``default``), and is recorded (its JSON
body and headers) so a test can read what the bot sent.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Reply:
    text: str | None = "A reply."
    status: int = 200
    delay: float = 0.0  # seconds before answering
    retry_after: str | None = None
    raw: str | None = None  # a body sent as is (malformed output)
    choices: bool = True  # False: a completion without choices
    tokens: tuple[int, int] | None = (50, 20)  # prompt, completion; None: no usage reported


def ok(text: str, *, tokens: tuple[int, int] | None = (50, 20)) -> Reply:
    return Reply(text=text, tokens=tokens)


def slow(seconds: float, text: str = "A reply.") -> Reply:
    return Reply(text=text, delay=seconds)


def status(code: int, *, retry_after: str | None = None) -> Reply:
    return Reply(status=code, retry_after=retry_after)


def raw(body: str) -> Reply:
    return Reply(raw=body)


def no_choices() -> Reply:
    return Reply(choices=False)


@dataclass
class Recorded:
    body: dict[str, Any]
    headers: dict[str, str]

    @property
    def system(self) -> str:
        return str(next(m["content"] for m in self.body["messages"] if m["role"] == "system"))

    @property
    def user(self) -> str:
        return str(next(m["content"] for m in self.body["messages"] if m["role"] == "user"))


@dataclass
class FakeOpenAI:
    default: Reply | Callable[[dict[str, Any]], Reply] = field(default_factory=Reply)
    script: list[Reply] = field(default_factory=list)
    requests: list[Recorded] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    port: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def then(self, *replies: Reply) -> FakeOpenAI:
        self.script.extend(replies)
        return self

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._complete)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = int(sock.getsockname()[1])
        await web.SockSite(self._runner, sock).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _complete(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(Recorded(body=body, headers=dict(request.headers)))
        if self.script:
            reply = self.script.pop(0)
        elif callable(self.default):
            reply = self.default(body)
        else:
            reply = self.default
        if reply.delay:
            await asyncio.sleep(reply.delay)
        headers = {"Retry-After": reply.retry_after} if reply.retry_after is not None else {}
        if reply.status != 200:
            error = {"error": {"message": "scripted failure", "type": "server_error"}}
            return web.json_response(error, status=reply.status, headers=headers)
        if reply.raw is not None:
            return web.Response(text=reply.raw, content_type="application/json")
        completion: dict[str, Any] = {
            "id": f"chatcmpl-{len(self.requests)}",
            "object": "chat.completion",
            "created": 1_760_000_000,
            "model": body.get("model", "fake"),
            "choices": [],
        }
        if reply.choices:
            completion["choices"] = [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": reply.text},
                    "finish_reason": "stop",
                }
            ]
        if reply.tokens is not None:
            prompt, answer = reply.tokens
            completion["usage"] = {
                "prompt_tokens": prompt,
                "completion_tokens": answer,
                "total_tokens": prompt + answer,
            }
        return web.Response(text=json.dumps(completion), content_type="application/json")


class ServerThread:
    """The fake served from a thread of its own, for tests that run ``asyncio.run`` themselves
    (the command line)."""

    def __init__(self, server: FakeOpenAI) -> None:
        self.server = server
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self._loop).result(10)
        return self.server

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


def data_lines(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The JSON data lines of a recorded request's user message."""
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    lines = str(user).splitlines()
    begin = next(i for i, line in enumerate(lines) if line.startswith("BEGIN DATA-"))
    end = lines.index("END " + lines[begin].removeprefix("BEGIN "))
    return [json.loads(line) for line in lines[begin + 1 : end]]
