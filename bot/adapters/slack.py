"""The Slack adapter, on slack-bolt's async API: one workspace per bot token.

``SlackPlatform`` connects (Socket Mode by default, or an HTTP endpoint at ``/slack/events``
verified with the signing secret), turns Slack's events into calls on ``ChatService`` and owns
``SlackOutlet``, which delivers the outbox's posts with ``chat.postMessage`` and ``chat.update``.
Both modes hand every request to the same bolt app, so an event is handled the same way whichever
way it came.

Delivery keeps Slack's rules: one message a second per channel, 429s honoured within their own
scope, each message tagged with its outbox key in message metadata so that after an uncertain
failure (a timeout after sending) the key is looked for in the channel before sending again.
Errors are mapped by code (see ``SlackOutlet``). Secrets are never logged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.socket_mode.async_internals import run_async_bolt_app
from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.adapters.slack_render import (
    SlackMessage,
    render_alert,
    render_message,
    render_more_coverage,
    render_plain,
    render_reply,
)
from bot.config import Settings
from bot.domain import (
    BriefbotError,
    Caller,
    ChannelRef,
    ConfigError,
    ManagePolicy,
    Post,
    PostKind,
)
from bot.messages import AlertView, Reply
from bot.ports import Clock, DeliveryError, Store
from bot.services.chat import ChatService, Mention
from bot.services.commands import SPECS, Invocation, Permission, parse_command

log = logging.getLogger(__name__)

PLATFORM = "slack"
EVENTS_PATH = "/slack/events"
POST_EVENT = "briefbot_post"  # the metadata event type every message of the bot carries
HISTORY_LIMIT = 50  # messages looked through for a post's key after an uncertain failure
PACE = 1.0  # seconds between two messages in one channel
ADMIN_TTL = 600.0  # seconds a user's admin flag is remembered
API_TIMEOUT = 15  # seconds for one Web API call
DEFAULT_RETRY_AFTER = 30.0
SOCKET_CONNECT_TIMEOUT = 30.0

# Error codes, by what they mean for the post.
CHANNEL_PAUSE = {
    "not_in_channel": "the bot is not in the channel (invite it back with /invite @briefbot)",
    "channel_not_found": "the channel is gone or the bot cannot see it",
    "is_archived": "the channel is archived",
}
WORKSPACE_PAUSE = {
    "account_inactive": "the bot's account is inactive (the app was uninstalled?)",
    "invalid_auth": "Slack refused the bot token (invalid_auth)",
    "token_revoked": "the bot token was revoked",
    "not_authed": "Slack received no bot token",
    "team_access_not_granted": "the app has no access to the workspace",
}
GONE = {"message_not_found", "cant_update_message"}
TRANSIENT = {
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
    "ratelimited",
    "team_added_to_org",
}


def api_base(url: str | None) -> str:
    """The Web API base URL for slack_sdk, which joins method names onto it (a slash at the
    end matters)."""
    if not url:
        return AsyncWebClient.BASE_URL
    return url if url.endswith("/") else url + "/"


def slack_ref(team: str, channel: str, thread: str | None = None) -> ChannelRef:
    return ChannelRef(platform=PLATFORM, workspace=team, channel=channel, thread=thread)


# --- pacing -----------------------------------------------------------------------------------


Sleep = Callable[[float], Awaitable[None]]
Monotonic = Callable[[], float]


class Pacer:
    """At most one message per ``interval`` seconds per key (a channel), waiting its turn."""

    def __init__(
        self,
        *,
        interval: float = PACE,
        monotonic: Monotonic = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._interval = interval
        self._monotonic = monotonic
        self._sleep = sleep
        self._last: dict[str, float] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def wait(self, key: str) -> None:
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            last = self._last.get(key)
            if last is not None:
                wait = last + self._interval - self._monotonic()
                if wait > 0:
                    await self._sleep(wait)
            self._last[key] = self._monotonic()


# --- the outlet -------------------------------------------------------------------------------


class SlackOutlet:
    """Delivers posts to one Slack workspace.

    - A new post is one ``chat.postMessage`` (a long briefing, several), in the answer's thread
      or under ``thread_id``, unfurls off, with its outbox key in message metadata.
    - An ``update`` (``thread_id`` = its alert's ts) edits the alert to its current view with
      ``chat.update``; only when the update adds outlets or languages does it also post one
      thread reply saying so, whose ts it returns (a quiet update returns the alert's ts).
    - An edit is a ``chat.update``; a message a person deleted is not recreated (``gone``).
    - Errors by code: a channel the bot cannot post in pauses that channel; a refused token
      pauses the workspace; 429 waits ``Retry-After`` within its scope (``chat.postMessage``:
      one channel, as Slack limits it; other methods: the workspace); 5xx and timeouts are
      retried by the outbox, a timeout after sending first looking for the key in the channel.
    """

    platform = PLATFORM

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        workspace: str = "",
        pacer: Pacer | None = None,
        monotonic: Monotonic = time.monotonic,
        history_limit: int = HISTORY_LIMIT,
    ) -> None:
        self._client = client
        self.workspace = workspace
        self._pacer = pacer or Pacer(monotonic=monotonic)
        self._monotonic = monotonic
        self._history_limit = history_limit
        self._blocked: dict[tuple[str, ...], float] = {}  # rate-limit scope -> until
        self._uncertain: set[str] = set()  # keys that may have been posted
        self._ready = False
        self.last_error: str | None = None

    @property
    def ready(self) -> bool:
        return self._ready

    def set_ready(self, ready: bool) -> None:
        self._ready = ready

    # --- the outbox's calls ---------------------------------------------------------------

    async def send(self, post: Post, *, thread_id: str | None = None) -> str:
        channel = post.channel.channel
        if (
            post.kind is PostKind.UPDATE
            and thread_id is not None
            and isinstance(post.message, AlertView)
        ):
            return await self._update(post, post.message, thread_id)
        messages = self._render(post)
        thread = thread_id or post.channel.thread
        first: str | None = None
        for index, message in enumerate(messages):
            key = post.key if index == 0 else f"{post.key}#{index + 1}"
            ts = await self._post_once(post, channel, message, key=key, thread=thread)
            first = first or ts
        assert first is not None
        return first

    async def edit(self, post: Post, message_id: str) -> None:
        message = self._render(post)[0]
        await self._chat_update(post.channel.channel, message_id, message)

    # --- how ------------------------------------------------------------------------------

    @staticmethod
    def _render(post: Post) -> list[SlackMessage]:
        if post.message is not None:
            if isinstance(post.message, AlertView) and post.kind is PostKind.UPDATE:
                # An update without its alert's message: it stands as an alert of its own.
                return [render_alert(post.message, as_update=False)]
            return render_message(post.message)
        return [render_plain(post.text)]

    async def _update(self, post: Post, view: AlertView, alert_ts: str) -> str:
        channel = post.channel.channel
        await self._chat_update(channel, alert_ts, render_alert(view, as_update=False))
        if not (view.new_outlets or view.new_languages):
            return alert_ts
        reply = render_more_coverage(view)
        return await self._post_once(post, channel, reply, key=post.key, thread=alert_ts)

    async def _post_once(
        self, post: Post, channel: str, message: SlackMessage, *, key: str, thread: str | None
    ) -> str:
        if post.attempts > 0 or key in self._uncertain:
            found = await self.find(channel, key, thread=thread)
            if found is not None:
                log.info("post %s was delivered already (found in the channel)", key)
                self._uncertain.discard(key)
                return found
        await self._pacer.wait(f"{self.workspace}:{channel}")
        try:
            response = await self._call(
                "chat.postMessage",
                ("chat.postMessage", channel),
                lambda: self._client.chat_postMessage(
                    channel=channel,
                    text=message.text,
                    blocks=list(message.blocks),
                    thread_ts=thread,
                    unfurl_links=False,
                    unfurl_media=False,
                    metadata={"event_type": POST_EVENT, "event_payload": {"key": key}},
                ),
                sending=True,
            )
        except DeliveryError as e:
            if e.uncertain:
                self._uncertain.add(key)
            raise
        self._uncertain.discard(key)
        return str(response["ts"])

    async def _chat_update(self, channel: str, ts: str, message: SlackMessage) -> None:
        await self._pacer.wait(f"{self.workspace}:{channel}")
        await self._call(
            "chat.update",
            ("chat.update",),
            lambda: self._client.chat_update(
                channel=channel, ts=ts, text=message.text, blocks=list(message.blocks)
            ),
            sending=False,
        )

    async def find(self, channel: str, key: str, *, thread: str | None = None) -> str | None:
        """The ts of the bot's message carrying ``key`` among the channel's (or the thread's)
        recent messages, or None."""
        if thread is None:
            response = await self._call(
                "conversations.history",
                ("conversations.history",),
                lambda: self._client.conversations_history(
                    channel=channel, include_all_metadata=True, limit=self._history_limit
                ),
                sending=False,
            )
        else:
            response = await self._call(
                "conversations.replies",
                ("conversations.replies",),
                lambda: self._client.conversations_replies(
                    channel=channel,
                    ts=thread,
                    include_all_metadata=True,
                    limit=self._history_limit,
                ),
                sending=False,
            )
        for message in response.get("messages") or ():
            metadata = message.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if metadata.get("event_type") == POST_EVENT and payload.get("key") == key:
                return str(message["ts"])
        return None

    async def _call(
        self,
        method: str,
        scope: tuple[str, ...],
        call: Callable[[], Awaitable[AsyncSlackResponse]],
        *,
        sending: bool,
    ) -> AsyncSlackResponse:
        """One Web API call, its failures as ``DeliveryError``. ``sending``: the call posts a
        message, so a failure after the request left may have posted it (``uncertain``)."""
        now = self._monotonic()
        until = self._blocked.get(scope)
        if until is not None and until > now:
            raise DeliveryError(
                f"Slack rate-limits {method} here for {until - now:.0f} s more",
                retry_after=until - now,
            )
        try:
            return await call()
        except SlackApiError as e:
            error = self._mapped(method, scope, e, sending=sending)
        except TimeoutError as e:
            error = DeliveryError(f"{method} timed out", uncertain=sending)
            error.__cause__ = e
        except aiohttp.ClientConnectorError as e:  # nothing was sent
            error = DeliveryError(f"{method}: cannot reach Slack ({type(e).__name__})")
            error.__cause__ = e
        except aiohttp.ClientError as e:
            error = DeliveryError(f"{method} failed ({type(e).__name__})", uncertain=sending)
            error.__cause__ = e
        self.last_error = str(error)
        raise error

    def _mapped(
        self, method: str, scope: tuple[str, ...], e: SlackApiError, *, sending: bool
    ) -> DeliveryError:
        response = e.response
        status = int(getattr(response, "status_code", 0) or 0)
        data = response.data if isinstance(response.data, dict) else {}
        code = str(data.get("error") or "")
        if status == 429 or code == "ratelimited":
            headers = getattr(response, "headers", None) or {}
            raw = headers.get("Retry-After") or headers.get("retry-after")
            try:
                retry_after = float(raw) if raw is not None else DEFAULT_RETRY_AFTER
            except ValueError:
                retry_after = DEFAULT_RETRY_AFTER
            self._blocked[scope] = self._monotonic() + retry_after
            return DeliveryError(
                f"Slack rate-limited {method}; retry in {retry_after:g} s",
                retry_after=retry_after,
            )
        if status >= 500:
            return DeliveryError(f"Slack answered {method} with HTTP {status}", uncertain=sending)
        if code in CHANNEL_PAUSE:
            return DeliveryError(f"{method}: {code}", pause=CHANNEL_PAUSE[code], scope="channel")
        if code in WORKSPACE_PAUSE:
            return DeliveryError(
                f"{method}: {code}", pause=WORKSPACE_PAUSE[code], scope="workspace"
            )
        if code in GONE:
            return DeliveryError(f"{method}: {code} (deleted in Slack)", gone=True)
        if code in TRANSIENT or not code:
            return DeliveryError(f"{method}: {code or f'HTTP {status}'}")
        return DeliveryError(f"{method}: {code}", permanent=True)


# --- the platform -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Admin:
    admin: bool
    at: float


def _is_bot(event: Mapping[str, Any]) -> bool:
    return bool(event.get("bot_id") or event.get("subtype") == "bot_message")


class SlackPlatform:
    """Slack for ``briefbot run``: ``start`` connects, ``stop`` disconnects."""

    name = PLATFORM

    def __init__(
        self,
        settings: Settings,
        *,
        chat: ChatService,
        store: Store,
        clock: Clock,
        client: AsyncWebClient | None = None,
        deliver: Callable[[], Coroutine[Any, Any, object]] | None = None,
        monotonic: Monotonic = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        secrets = settings.secrets
        self._mode = settings.slack.mode
        if not secrets.slack_bot_token:
            raise ConfigError(
                "SLACK_BOT_TOKEN is not set: Slack needs the app's bot token (xoxb-…), from "
                "OAuth & Permissions in the app's settings once it is installed."
            )
        if self._mode == "socket" and not secrets.slack_app_token:
            raise ConfigError(
                "SLACK_APP_TOKEN is not set: Socket Mode (the default) needs an app-level token "
                "(xapp-…). Create one under Basic Information → App-Level Tokens with the "
                "connections:write scope and set SLACK_APP_TOKEN, or set SLACK_MODE=http and "
                "SLACK_SIGNING_SECRET to receive events over HTTP instead."
            )
        if self._mode == "http" and not secrets.slack_signing_secret:
            raise ConfigError(
                "SLACK_SIGNING_SECRET is not set: HTTP mode (SLACK_MODE=http) checks every "
                "request from Slack with the app's signing secret. Copy it from Basic "
                "Information → App Credentials into SLACK_SIGNING_SECRET, or unset SLACK_MODE "
                "to use Socket Mode."
            )
        self._settings = settings
        self._chat = chat
        self._store = store
        self._clock = clock
        self._deliver = deliver
        self._monotonic = monotonic
        self._policy: ManagePolicy = settings.slack.manage
        self._app_token = secrets.slack_app_token
        self._client = client or AsyncWebClient(
            token=secrets.slack_bot_token,
            base_url=api_base(settings.slack.api_url),
            timeout=API_TIMEOUT,
            retry_handlers=[],  # the outbox retries, knowing what may have been posted
        )
        self._outlet = SlackOutlet(
            self._client, pacer=Pacer(monotonic=monotonic, sleep=sleep), monotonic=monotonic
        )
        self._app = AsyncApp(
            name="briefbot",
            logger=logging.getLogger("bot.adapters.slack.bolt"),
            client=self._client,
            signing_secret=secrets.slack_signing_secret or "",
            request_verification_enabled=True,  # HTTP requests; Socket Mode needs none
            process_before_response=False,  # ack at once, work after
        )
        self._register()
        self._socket: AsyncSocketModeHandler | None = None
        self._runner: web.AppRunner | None = None
        self._connected = False
        self._team_id = ""
        self._team = ""
        self._bot_user = ""
        self._bot_name = "briefbot"
        self._last_error: str | None = None
        self._admins: dict[str, _Admin] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self.port: int | None = None  # the HTTP port bound (HTTP mode)

    # --- Platform ---------------------------------------------------------------------------

    @property
    def outlet(self) -> SlackOutlet:
        return self._outlet

    @property
    def app(self) -> AsyncApp:
        return self._app

    async def start(self) -> None:
        """Check the bot token, then connect; raises ``BriefbotError`` naming the fix."""
        await self._identify()
        if self._mode == "socket":
            await self._start_socket()
        else:
            await self._start_http()
        self._connected = True
        self._outlet.set_ready(True)
        log.info(
            "Slack connected: workspace %s (%s), %s",
            self._team,
            self._team_id,
            "Socket Mode" if self._mode == "socket" else f"HTTP on port {self.port}",
        )

    async def stop(self) -> None:
        self._outlet.set_ready(False)
        self._connected = False
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]
            self._socket = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def connected(self) -> bool:
        """Serving: the HTTP endpoint listens, or the Socket Mode connection is open (the SDK
        reconnects a dropped one by itself)."""
        if not self._connected:
            return False
        if self._socket is not None:
            session = self._socket.client.current_session
            return session is not None and not session.closed
        return True

    def status(self) -> Mapping[str, Any]:
        return {
            "connected": self.connected,
            "mode": self._mode,
            "workspace": self._team or None,
            "team_id": self._team_id or None,
            "endpoint": (
                f"http://{self._settings.slack.http_host}:{self.port}{EVENTS_PATH}"
                if self._mode == "http" and self.port
                else None
            ),
            "last_error": self._outlet.last_error or self._last_error,
        }

    # --- connecting -------------------------------------------------------------------------

    def _fail(self, message: str, cause: BaseException | None = None) -> BriefbotError:
        self._last_error = message
        error: BriefbotError = (
            ConfigError(message) if "SLACK_" in message else BriefbotError(message)
        )
        error.__cause__ = cause
        return error

    async def _identify(self) -> None:
        try:
            auth = await self._client.auth_test()
        except SlackApiError as e:
            code = e.response.get("error") if isinstance(e.response.data, dict) else None
            raise self._fail(
                f"Slack refused SLACK_BOT_TOKEN ({code or e.response.status_code}): copy the "
                "Bot User OAuth Token (xoxb-…) from OAuth & Permissions, and reinstall the app "
                "if it was uninstalled.",
                e,
            ) from e
        except (TimeoutError, aiohttp.ClientError) as e:
            raise self._fail(
                f"cannot reach Slack's Web API ({type(e).__name__}): check the network"
                + (" and SLACK_API_URL" if self._settings.slack.api_url else ""),
                e,
            ) from e
        self._team_id = str(auth.get("team_id") or "")
        self._team = str(auth.get("team") or "")
        self._bot_user = str(auth.get("user_id") or "")
        self._bot_name = str(auth.get("user") or "briefbot")
        self._outlet.workspace = self._team_id

    async def _start_socket(self) -> None:
        # The Socket Mode client retries a refused token forever, so the token is checked
        # here first: the URL it gets is the one the client connects to.
        try:
            opened = await self._client.apps_connections_open(app_token=self._app_token or "")
        except SlackApiError as e:
            code = e.response.get("error") if isinstance(e.response.data, dict) else None
            raise self._fail(
                f"Slack refused SLACK_APP_TOKEN ({code or e.response.status_code}): create an "
                "app-level token with the connections:write scope (Basic Information → "
                "App-Level Tokens), and turn Socket Mode on in the app's settings.",
                e,
            ) from e
        except (TimeoutError, aiohttp.ClientError) as e:
            raise self._fail(
                f"cannot reach Slack to open Socket Mode ({type(e).__name__})", e
            ) from e
        handler = AsyncSocketModeHandler(self._app, self._app_token, web_client=self._client)
        handler.client.wss_uri = str(opened.get("url") or "") or None
        try:
            async with asyncio.timeout(SOCKET_CONNECT_TIMEOUT):
                await handler.connect_async()  # type: ignore[no-untyped-call]
        except TimeoutError as e:
            await handler.close_async()  # type: ignore[no-untyped-call]
            raise self._fail(
                "cannot open Slack's Socket Mode connection (no answer within "
                f"{SOCKET_CONNECT_TIMEOUT:g} s): check the network, or use SLACK_MODE=http",
                e,
            ) from e
        self._socket = handler

    async def _start_http(self) -> None:
        web_app = web.Application(client_max_size=1024 * 1024)
        web_app.router.add_post(EVENTS_PATH, self._http_events)
        runner = web.AppRunner(web_app, access_log=None)
        await runner.setup()
        host, port = self._settings.slack.http_host, self._settings.slack.http_port
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as e:
            await runner.cleanup()
            raise self._fail(
                f"cannot listen on {host}:{port} for Slack ({e.strerror}): set SLACK_HTTP_PORT "
                "to a free port",
                e,
            ) from e
        server = site._server
        sockets = getattr(server, "sockets", None) or ()
        self.port = sockets[0].getsockname()[1] if sockets else port
        self._runner = runner

    async def _http_events(self, request: web.Request) -> web.Response:
        bolt_request = await to_bolt_request(request)
        bolt_response = await self._app.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)

    async def dispatch(
        self, payload: Mapping[str, Any], *, kind: str = "events_api"
    ) -> BoltResponse:
        """Handle one Socket Mode envelope's payload as the Socket Mode handler does (tests, and
        the same path as the connection's)."""
        request = SocketModeRequest(type=kind, envelope_id="local", payload=dict(payload))
        response: BoltResponse = await run_async_bolt_app(self._app, request)
        return response

    # --- events ---------------------------------------------------------------------------

    def _register(self) -> None:
        app = self._app
        app.command("/brief")(self._on_command)
        app.event("app_mention")(self._on_mention)
        app.event("message")(self._on_message)
        app.event("member_joined_channel")(self._on_joined)
        app.event("channel_left")(self._on_left)
        app.event("group_left")(self._on_left)
        app.event("channel_archive")(self._on_archive)
        app.event("group_archive")(self._on_archive)
        app.event("channel_unarchive")(self._on_unarchive)
        app.event("group_unarchive")(self._on_unarchive)
        app.event("app_uninstalled")(self._on_uninstalled)
        app.event("tokens_revoked")(self._on_revoked)
        app.error(self._on_error)

    def _kick(self) -> None:
        """Deliver now what an event queued, rather than at the next tick."""
        if self._deliver is None:
            return
        task: asyncio.Task[object] = asyncio.create_task(self._deliver())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    def _team_of(body: Mapping[str, Any], event: Mapping[str, Any]) -> str:
        return str(body.get("team_id") or event.get("team") or "")

    async def _on_command(
        self, ack: Callable[..., Awaitable[Any]], command: dict[str, Any], respond: Any
    ) -> None:
        await ack()  # within Slack's 3 seconds; the work and the reply come after
        ref = slack_ref(str(command.get("team_id", "")), str(command.get("channel_id", "")))
        text = str(command.get("text") or "")
        try:
            parsed = parse_command(text)
            if parsed.verb == "subscribe" and not await self._bot_in(ref.channel):
                reply = Reply(
                    lines=("I'm not in this channel, so I could not post its alerts.",),
                    suggestion=(
                        f"Invite me with /invite @{self._bot_name}, then type /brief {text} again."
                    ),
                    error=True,
                    private=True,
                )
            else:
                caller = await self._caller(str(command.get("user_id", "")), parsed.verb)
                invocation = Invocation(channel=ref, caller=caller, policy=self._policy)
                reply = await self._chat.text(invocation, text)
        except BriefbotError as e:
            log.warning("/brief in %s failed: %s", ref.key, e)
            reply = Reply(
                lines=("Sorry, that did not work just now.",),
                suggestion="Try again in a moment.",
                error=True,
                private=True,
            )
        message = render_reply(reply)
        await respond(
            text=message.text,
            blocks=list(message.blocks),
            response_type="ephemeral" if reply.private else "in_channel",
            unfurl_links=False,
            unfurl_media=False,
        )

    async def _caller(self, user: str, verb: str) -> Caller:
        """Who typed it; whether they are a workspace admin is asked (users.info, remembered a
        while) only when the policy needs it for this command."""
        spec = SPECS.get(verb)
        needs = (
            spec is not None
            and spec.permission is Permission.MANAGE
            and self._policy.who in ("admins", "managers")
            and user not in self._policy.users
        )
        if not needs or not user:
            return Caller(user=user)
        cached = self._admins.get(user)
        now = self._monotonic()
        if cached is None or now - cached.at > ADMIN_TTL:
            try:
                info = await self._client.users_info(user=user)
                profile = info.get("user") or {}
                admin = bool(profile.get("is_admin") or profile.get("is_owner"))
            except (SlackApiError, TimeoutError, aiohttp.ClientError) as e:
                log.warning("could not tell whether %s is an admin: %s", user, type(e).__name__)
                return Caller(user=user)
            cached = _Admin(admin=admin, at=now)
            self._admins[user] = cached
        return Caller(user=user, admin=cached.admin)

    async def _bot_in(self, channel: str) -> bool:
        """Whether the bot is a member of ``channel`` (a DM always has it)."""
        if channel.startswith("D"):
            return True
        try:
            info = await self._client.conversations_info(channel=channel)
        except SlackApiError as e:
            data = e.response.data if isinstance(e.response.data, dict) else {}
            if data.get("error") in ("channel_not_found", "not_in_channel"):
                return False
            log.warning("conversations.info %s: %s", channel, data.get("error"))
            return True
        except (TimeoutError, aiohttp.ClientError):
            return True
        found = info.get("channel") or {}
        return bool(found.get("is_im") or found.get("is_member", True))

    async def _on_mention(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        if _is_bot(event) or event.get("user") == self._bot_user:
            return
        ts = str(event.get("ts", ""))
        ref = slack_ref(
            self._team_of(body, event),
            str(event.get("channel", "")),
            thread=str(event.get("thread_ts") or ts),
        )
        await self._ask(ref, str(event.get("text") or ""), ts, str(event.get("user") or ""))

    async def _on_message(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        """A direct message to the bot is a question or a command; other messages are not
        for it (mentions come as ``app_mention``)."""
        if event.get("channel_type") != "im" or event.get("subtype") or _is_bot(event):
            return
        if event.get("user") == self._bot_user:
            return
        ts = str(event.get("ts", ""))
        ref = slack_ref(self._team_of(body, event), str(event.get("channel", "")))
        await self._ask(ref, str(event.get("text") or ""), ts, str(event.get("user") or ""))

    async def _ask(self, ref: ChannelRef, text: str, ts: str, user: str) -> None:
        if self._bot_user:
            text = text.replace(f"<@{self._bot_user}>", " ")
        try:
            caller = await self._caller(user, parse_command(text).verb)
            queued = await self._chat.mention(
                Mention(channel=ref, text=text, message_id=ts), caller=caller, policy=self._policy
            )
        except BriefbotError as e:
            log.warning("could not answer %s in %s: %s", ts, ref.key, e)
            return
        if queued:
            self._kick()

    async def _on_joined(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        if event.get("user") != self._bot_user:
            return
        team, channel = self._team_of(body, event), str(event.get("channel", ""))
        log.info("the bot was added to slack:%s:%s", team, channel)
        await self._chat.resume(platform=PLATFORM, workspace=team, channel=channel)
        self._kick()

    async def _on_left(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        team, channel = self._team_of(body, event), str(event.get("channel", ""))
        await self._chat.pause(
            platform=PLATFORM,
            workspace=team,
            channel=channel,
            reason=CHANNEL_PAUSE["not_in_channel"],
        )

    async def _on_archive(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        team, channel = self._team_of(body, event), str(event.get("channel", ""))
        await self._chat.pause(
            platform=PLATFORM, workspace=team, channel=channel, reason=CHANNEL_PAUSE["is_archived"]
        )

    async def _on_unarchive(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        team, channel = self._team_of(body, event), str(event.get("channel", ""))
        await self._chat.resume(platform=PLATFORM, workspace=team, channel=channel)
        self._kick()

    async def _on_uninstalled(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        team = self._team_of(body, event)
        log.warning("the Slack app was uninstalled from %s: its channels are paused", team)
        self._last_error = "the app was uninstalled from the workspace"
        await self._chat.pause(
            platform=PLATFORM, workspace=team, channel=None, reason=self._last_error
        )

    async def _on_revoked(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        team = self._team_of(body, event)
        bots = (event.get("tokens") or {}).get("bot") or []
        if self._bot_user and self._bot_user not in bots:
            log.info("Slack revoked user tokens in %s; the bot's own token is unaffected", team)
            return
        log.warning("Slack revoked the bot's tokens in %s: its channels are paused", team)
        self._last_error = "the bot's tokens were revoked"
        await self._chat.pause(
            platform=PLATFORM, workspace=team, channel=None, reason=self._last_error
        )

    async def _on_error(self, error: Exception, body: dict[str, Any]) -> None:
        self._last_error = f"{type(error).__name__}: {error}"
        log.error("Slack event failed: %s", self._last_error)


def create_slack(
    settings: Settings,
    *,
    chat: ChatService,
    store: Store,
    clock: Clock,
    deliver: Callable[[], Coroutine[Any, Any, object]] | None = None,
) -> SlackPlatform:
    """The Slack platform for ``briefbot run`` (``settings.secrets.slack_enabled``). Raises
    ``ConfigError`` when a token or the signing secret its mode needs is missing. ``deliver``
    (the Deliverer's ``deliver_due``) lets an answer go out at once instead of at the next
    tick."""
    return SlackPlatform(settings, chat=chat, store=store, clock=clock, deliver=deliver)
