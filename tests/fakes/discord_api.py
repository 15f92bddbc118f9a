"""A local fake of the parts of Discord's REST API the bot uses, served by aiohttp on 127.0.0.1.

It records message creates and edits (with their nonce), interaction callbacks and follow-ups,
and command syncs; deduplicates creates by nonce like Discord does (while ``dedup`` is on: turn
it off to play a retry later than Discord's window); keeps each channel's messages for history
reads (which, like Discord's, carry no nonce); and answers scripted failures: 429 with
``retry_after`` (global or not), 5xx, 403 and 404 with Discord's error codes, or a response that
never comes (the message is made, the client times out).
"""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

APP_ID = "900000000000000001"
BOT_ID = "900000000000000002"
PREFIX = "/api/v10"


@dataclass
class Failure:
    status: int
    code: int = 0
    retry_after: float | None = None
    is_global: bool = False
    hang: float | None = None  # make the message, then answer only after this many seconds


@dataclass
class Call:
    method: str
    path: str
    body: Any


@dataclass
class FakeDiscord:
    calls: list[Call] = field(default_factory=list)
    messages: dict[str, list[dict[str, Any]]] = field(
        default_factory=dict
    )  # channel -> oldest first
    failures: dict[str, list[Failure]] = field(default_factory=dict)  # "create"/"edit"/… -> queue
    deleted: set[str] = field(default_factory=set)
    dedup: bool = True
    base_url: str = ""
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1_000_000))
    _runner: web.AppRunner | None = None
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    # -- scripting and reading

    def fail(self, what: str, *failures: Failure) -> None:
        self.failures.setdefault(what, []).extend(failures)

    def made(self, channel: str | None = None) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.method == "POST"
            and c.path.endswith("/messages")
            and (channel is None or f"/channels/{channel}/" in c.path)
        ]

    def edits(self) -> list[Call]:
        return [c for c in self.calls if c.method == "PATCH" and "/channels/" in c.path]

    def callbacks(self) -> list[Call]:
        return [c for c in self.calls if "/interactions/" in c.path or "/webhooks/" in c.path]

    async def wait_for(self, predicate: Any, within: float = 5.0) -> None:
        async def loop() -> None:
            while not predicate():
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(loop(), within)

    def next_id(self) -> str:
        return str(next(self._ids))

    # -- serving

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}{PREFIX}"
        return self.base_url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def _error(self, failure: Failure) -> web.Response:
        headers = {"Via": "1.1 google", "Content-Type": "application/json"}
        if failure.status == 429:
            body = {
                "message": "You are being rate limited.",
                "retry_after": failure.retry_after or 1.0,
                "global": failure.is_global,
                "code": 0,
            }
            if failure.is_global:
                headers["X-RateLimit-Global"] = "true"
        else:
            body = {"message": f"error {failure.code}", "code": failure.code}
        return web.Response(status=failure.status, body=json.dumps(body).encode(), headers=headers)

    def _take(self, what: str) -> Failure | None:
        queue = self.failures.get(what)
        return queue.pop(0) if queue else None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if not path.startswith(PREFIX):
            return web.Response(status=404)
        path = path[len(PREFIX) :]
        body: Any = {}
        if request.can_read_body:
            raw = await request.read()
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = {"raw": raw.decode("utf-8", "replace")}
        call = Call(request.method, path, body)
        self.calls.append(call)
        try:
            return await self._route(request, path, body)
        finally:
            self._changed.set()

    async def _route(self, request: web.Request, path: str, body: Any) -> web.Response:
        parts = path.strip("/").split("/")
        method = request.method
        if path == "/users/@me":
            return _json(_user(BOT_ID, "briefbot", bot=True))
        if path == "/oauth2/applications/@me":
            return _json(
                {
                    "id": APP_ID,
                    "name": "briefbot",
                    "icon": None,
                    "description": "",
                    "bot_public": True,
                    "bot_require_code_grant": False,
                    "owner": _user("1", "owner"),
                    "verify_key": "00",
                    "flags": 0,
                }
            )
        if parts[0] == "applications" and parts[-1] == "commands" and method == "PUT":
            return _json([self._command(c) for c in body or []])
        if parts[0] == "interactions" and parts[-1] == "callback":
            flags = int((body.get("data") or {}).get("flags") or 0)
            interaction = {
                "id": parts[1],
                "type": 2,
                "response_message_loading": body.get("type") == 5,
                "response_message_ephemeral": bool(flags & 64),
            }
            return _json({"interaction": interaction})
        if parts[0] == "webhooks":
            return _json(self._message("0", body, author=_user(APP_ID, "briefbot")))
        if parts[0] == "channels" and len(parts) == 3 and parts[2] == "messages":
            channel = parts[1]
            if method == "GET":
                limit = int(request.query.get("limit", "50"))
                history = list(reversed(self.messages.get(channel, [])))[:limit]
                return _json([{k: v for k, v in m.items() if k != "nonce"} for m in history])
            return await self._create(channel, body)
        if parts[0] == "channels" and len(parts) == 4 and method == "PATCH":
            return self._edit(parts[1], parts[3], body)
        return _json({"message": "404: Not Found", "code": 0}, status=404)

    def _command(self, data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "id": self.next_id(), "application_id": APP_ID, "version": "1"}

    async def _create(self, channel: str, body: dict[str, Any]) -> web.Response:
        failure = self._take("create")
        if failure is not None and failure.hang is None:
            return self._error(failure)
        nonce = body.get("nonce")
        if self.dedup and nonce:
            for m in self.messages.get(channel, []):
                if m.get("nonce") == nonce:
                    return _json(m)
        message = self._message(channel, body, author=_user(BOT_ID, "briefbot", bot=True))
        self.messages.setdefault(channel, []).append(message)
        if failure is not None and failure.hang is not None:
            await asyncio.sleep(failure.hang)
            return self._error(Failure(status=500))
        return _json(message)

    def _edit(self, channel: str, message_id: str, body: dict[str, Any]) -> web.Response:
        failure = self._take("edit")
        if failure is not None:
            return self._error(failure)
        for m in self.messages.get(channel, []):
            if m["id"] == message_id and message_id not in self.deleted:
                m.update({k: v for k, v in body.items() if k in ("content", "embeds")})
                return _json(m)
        return self._error(Failure(status=404, code=10008))

    def delete(self, channel: str, message_id: str) -> None:
        """A moderator deletes a message."""
        self.deleted.add(message_id)
        self.messages[channel] = [
            m for m in self.messages.get(channel, []) if m["id"] != message_id
        ]

    def _message(
        self, channel: str, body: dict[str, Any], *, author: dict[str, Any]
    ) -> dict[str, Any]:
        message = {
            "id": self.next_id(),
            "channel_id": channel,
            "type": 0,
            "content": body.get("content") or "",
            "embeds": body.get("embeds") or [],
            "nonce": body.get("nonce"),
            "author": author,
            "attachments": [],
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": False,
            "timestamp": "2026-02-10T12:00:00+00:00",
            "edited_timestamp": None,
        }
        if body.get("message_reference"):
            message["message_reference"] = body["message_reference"]
        return message


def _json(data: Any, status: int = 200) -> web.Response:
    # discord.py reads a body as JSON only when the content type is exactly application/json.
    return web.Response(
        status=status, body=json.dumps(data).encode(), headers={"Content-Type": "application/json"}
    )


def _user(user_id: str, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {
        "id": user_id,
        "username": name,
        "discriminator": "0",
        "global_name": name,
        "avatar": None,
        "bot": bot,
    }
