"""A local fake of the Slack Web API, for tests: aiohttp on 127.0.0.1 at a random port.

It keeps the channels' messages (with their metadata and threads), records every call, and can
be told to fail the next calls of a method: a 429 with ``Retry-After``, a 500, an error code such
as ``not_in_channel`` or ``message_not_found``, or a timeout after doing the work (the message is
posted, the answer never arrives in time). ``response_url`` posts of slash commands land here
too (``/respond/<id>``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

TEAM_ID = "T0FAKE"
TEAM_NAME = "Fake Workspace"
BOT_USER = "UBOTSELF"
BOT_ID = "BBOTSELF"


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    token: str | None
    at: float | None = None  # the test's clock when the call arrived (``FakeSlack.stamp``)


@dataclass
class Failure:
    kind: str  # "ratelimited", "500", "timeout", or a Slack error code
    retry_after: int = 1


@dataclass
class FakeSlack:
    base_url: str = ""
    calls: list[Call] = field(default_factory=list)
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    responses: list[dict[str, Any]] = field(default_factory=list)  # response_url posts
    outside: set[str] = field(default_factory=set)  # channels the bot is not a member of
    admins: set[str] = field(default_factory=set)
    failures: dict[str, list[Failure]] = field(default_factory=dict)
    timeout_seconds: float = 3.0
    stamp: Any = None  # a () -> float giving the test's time, recorded with each call
    _ts: int = 0
    posted: asyncio.Event = field(default_factory=asyncio.Event)
    good_app_token: str = "xapp-1-good"  # the app token apps.connections.open accepts
    sockets: list[web.WebSocketResponse] = field(default_factory=list)
    acks: list[dict[str, Any]] = field(default_factory=list)  # Socket Mode acknowledgements
    _envelopes: int = 0

    # --- what tests do ---------------------------------------------------------------------

    def fail(self, method: str, kind: str, *, times: int = 1, retry_after: int = 1) -> None:
        self.failures.setdefault(method, []).extend(
            Failure(kind=kind, retry_after=retry_after) for _ in range(times)
        )

    def called(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def channel_messages(self, channel: str) -> list[dict[str, Any]]:
        return list(self.messages.get(channel, []))

    def delete(self, channel: str, ts: str) -> None:
        """A person deletes a message."""
        self.messages[channel] = [m for m in self.messages.get(channel, []) if m["ts"] != ts]

    def response_url(self, name: str = "cmd") -> str:
        return self.base_url.replace("/api/", f"/respond/{name}")

    async def wait_for(self, predicate: Any, within: float = 10.0) -> None:
        loop = asyncio.get_running_loop()
        end = loop.time() + within
        while not predicate():
            if loop.time() > end:
                raise AssertionError("timed out waiting for the fake Slack")
            await asyncio.sleep(0.05)

    # --- the server ------------------------------------------------------------------------

    def _next_ts(self) -> str:
        self._ts += 1
        return f"1700000000.{self._ts:06d}"

    async def _args(self, request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        body = await request.read()
        if not body:
            return args
        if request.content_type == "application/json":
            args.update(json.loads(body))
        else:
            args.update(dict(parse_qsl(body.decode())))
        for name in ("blocks", "metadata"):
            if isinstance(args.get(name), str):
                args[name] = json.loads(args[name])
        return args

    async def handle(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        args = await self._args(request)
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else args.get("token")
        at = self.stamp() if self.stamp is not None else None
        self.calls.append(Call(method=method, args=args, token=token, at=at))
        queued = self.failures.get(method)
        failure = queued.pop(0) if queued else None
        if failure is not None:
            if failure.kind == "ratelimited":
                return web.json_response(
                    {"ok": False, "error": "ratelimited"},
                    status=429,
                    headers={"Retry-After": str(failure.retry_after)},
                )
            if failure.kind == "500":
                return web.Response(status=500, text="upstream trouble", content_type="text/html")
            if failure.kind != "timeout":
                return web.json_response({"ok": False, "error": failure.kind})
        answer = self._answer(method, args, token)
        if failure is not None:  # a timeout after the work was done
            await asyncio.sleep(self.timeout_seconds)
        return web.json_response(answer)

    def _answer(self, method: str, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        if method == "apps.connections.open":
            if token != self.good_app_token:
                return {"ok": False, "error": "invalid_auth"}
            return {
                "ok": True,
                "url": self.base_url.replace("http://", "ws://", 1).removesuffix("api/") + "ws",
            }
        if token is None or not token.startswith("xoxb-"):
            return {"ok": False, "error": "not_authed"}
        channel = str(args.get("channel", ""))
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://fake.slack.example/",
                "team": TEAM_NAME,
                "team_id": TEAM_ID,
                "user": "briefbot",
                "user_id": BOT_USER,
                "bot_id": BOT_ID,
            }
        if method == "chat.postMessage":
            if channel in self.outside:
                return {"ok": False, "error": "not_in_channel"}
            ts = self._next_ts()
            message = {
                "type": "message",
                "ts": ts,
                "text": args.get("text", ""),
                "blocks": args.get("blocks") or [],
                "bot_id": BOT_ID,
                "user": BOT_USER,
                "unfurl_links": args.get("unfurl_links"),
                "unfurl_media": args.get("unfurl_media"),
            }
            if args.get("thread_ts"):
                message["thread_ts"] = str(args["thread_ts"])
            if args.get("metadata"):
                message["metadata"] = args["metadata"]
            self.messages.setdefault(channel, []).append(message)
            self.posted.set()
            return {"ok": True, "channel": channel, "ts": ts, "message": message}
        if method == "chat.update":
            for message in self.messages.get(channel, []):
                if message["ts"] == str(args.get("ts")):
                    message["text"] = args.get("text", message["text"])
                    message["blocks"] = args.get("blocks") or message["blocks"]
                    message["edited"] = True
                    return {"ok": True, "channel": channel, "ts": message["ts"]}
            return {"ok": False, "error": "message_not_found"}
        if method in ("conversations.history", "conversations.replies"):
            if channel in self.outside:
                return {"ok": False, "error": "not_in_channel"}
            every = self.messages.get(channel, [])
            if method == "conversations.history":
                found = [m for m in every if m.get("thread_ts") in (None, m["ts"])]
            else:
                parent = str(args.get("ts"))
                found = [m for m in every if m["ts"] == parent or m.get("thread_ts") == parent]
            found = sorted(found, key=lambda m: m["ts"], reverse=method.endswith("history"))
            limit = int(args.get("limit") or 100)
            keep_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
            shown = []
            for m in found[:limit]:
                copy = dict(m)
                if not keep_metadata:
                    copy.pop("metadata", None)
                shown.append(copy)
            return {"ok": True, "messages": shown, "has_more": len(found) > limit}
        if method == "conversations.info":
            is_im = channel.startswith("D")
            body: dict[str, Any] = {"id": channel, "is_im": is_im}
            if not is_im:
                body["is_member"] = channel not in self.outside
            return {"ok": True, "channel": body}
        if method == "users.info":
            user = str(args.get("user"))
            admin = user in self.admins
            return {
                "ok": True,
                "user": {"id": user, "is_admin": admin, "is_owner": False, "is_bot": False},
            }
        return {"ok": False, "error": "unknown_method"}

    async def socket(self, request: web.Request) -> web.WebSocketResponse:
        """Socket Mode: say hello, then carry envelopes pushed by the test; record acks."""
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": 1, "debug_info": {}})
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                self.acks.append(json.loads(message.data))
        self.sockets.remove(ws)
        return ws

    async def push(self, payload: dict[str, Any]) -> str:
        """Send an Events API payload over the open Socket Mode connection."""
        self._envelopes += 1
        envelope_id = f"env-{self._envelopes}"
        await self.sockets[-1].send_json(
            {
                "envelope_id": envelope_id,
                "type": "events_api",
                "payload": payload,
                "accepts_response_payload": False,
                "retry_attempt": 0,
                "retry_reason": "",
            }
        )
        return envelope_id

    async def respond(self, request: web.Request) -> web.Response:
        body = await request.json()
        body["_url"] = request.match_info["name"]
        self.responses.append(body)
        return web.Response(text="ok")


@asynccontextmanager
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    app = web.Application()
    app.router.add_post("/api/{method}", fake.handle)
    app.router.add_get("/api/{method}", fake.handle)
    app.router.add_post("/respond/{name}", fake.respond)
    app.router.add_get("/ws", fake.socket)
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    fake.base_url = f"http://127.0.0.1:{port}/api/"
    try:
        yield fake
    finally:
        await runner.cleanup()
