"""The Discord adapter (discord.py 2.x): the ``/brief`` command group, mentions and direct
messages, guild joins and removals, and the outlet that delivers posts as embeds.

- **Connection.** Minimal intents (guilds, guild and direct messages; no privileged intent: a
  message that mentions the bot, and a direct message, carry their content anyway), mentions
  disabled client-wide (``AllowedMentions.none()``), ``AutoShardedClient`` when
  ``[discord] sharding`` is on. ``start`` logs in, syncs the commands (to ``test_guild`` only
  when set) and runs the gateway as a background task; it never calls ``run()``.
- **api_url.** When set, this client's REST calls and its interaction responses go there
  instead of discord.com: a subclass of ``HTTPClient`` rewrites each route's URL, and a webhook
  adapter (discord.py's ``async_context``, a context variable, set in the context ``start``
  runs in and so inherited by the gateway task) does the same for interaction callbacks and
  follow-ups. ``Route.BASE`` is never changed. The gateway (events) is always Discord's own.
- **Commands** are built from ``services.commands.COMMANDS``; their permissions are checked by
  the ``ChatService`` at run time, with the caller's channel permissions from the interaction.
- **Delivery** (``DiscordOutlet``): see its docstring.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import inspect
import logging
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any

import aiohttp
import discord
from discord import app_commands
from discord.http import HTTPClient, Route
from discord.webhook.async_ import AsyncWebhookAdapter, async_context

from bot.adapters import discord_render as dr
from bot.config import Settings
from bot.domain import BriefbotError, Caller, ChannelRef, ManagePolicy, Post, PostKind
from bot.messages import AlertView, Message, Reply, error_reply
from bot.ports import Clock, DeliveryError, Platform, Store
from bot.services.chat import ChatService, Mention
from bot.services.commands import COMMANDS, ArgKind, ArgSpec, Command, CommandSpec, Invocation

log = logging.getLogger(__name__)

PLATFORM = "discord"
DM = "dm"  # the ChannelRef.workspace of a direct message
GROUP = "brief"

# Exactly what the bot needs: see the channel, post there and in its threads, embed links,
# and read recent messages to find a post it may have sent already.
PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    embed_links=True,
    read_message_history=True,
)
SCOPES = ("bot", "applications.commands")

# Discord error codes the outlet maps.
UNKNOWN_CHANNEL = 10003
UNKNOWN_MESSAGE = 10008
MISSING_ACCESS = 50001
CANNOT_DM = 50007
MISSING_PERMISSIONS = 50013

NONCE_LENGTH = 25  # Discord's limit
DEDUP_WINDOW = timedelta(minutes=2)  # Discord deduplicates nonces for a few minutes: be early
PACE_MESSAGES = 5
PACE_SECONDS = 5.0
REQUEST_TIMEOUT = 20.0  # seconds before a request counts as possibly sent (uncertain)
HISTORY_LIMIT = 50  # recent messages read to find a post sent already
MAX_RATELIMIT_WAIT = 30.0  # longer 429s come back to the outbox as retry_after
PLAIN_FOR = 3600.0  # seconds a channel without Embed Links gets plain text before trying again
ANSWER_WITHIN = 2.0  # seconds to answer an interaction inline before deferring it
AUTOCOMPLETE_MAX = 25


def invite_url(application_id: str) -> str:
    """The OAuth2 URL that adds the bot to a server, with exactly the scopes and permissions it
    needs."""
    if not application_id.isdigit():
        raise ValueError(f"not a Discord application id: {application_id!r}")
    return discord.utils.oauth_url(application_id, permissions=PERMISSIONS, scopes=SCOPES)


def nonce_for(key: str) -> str:
    """The 25-character digest of an outbox key: the create's nonce, and the reference in the
    embed footer that finds the message again after Discord forgot the nonce."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:NONCE_LENGTH]


def footer_for(key: str) -> str:
    return f"briefbot · ref {nonce_for(key)}"


# --- the HTTP client, pointed at api_url --------------------------------------------------------


def _reroute(route: Route, base: str) -> None:
    if route.url.startswith(Route.BASE):
        route.url = base + route.url[len(Route.BASE) :]


class _RoutedHTTPClient(HTTPClient):
    """discord.py's HTTP client, sending this client's requests to ``base``."""

    def __init__(self, base: str, **options: Any) -> None:
        super().__init__(**options)
        self._base = base.rstrip("/")

    async def request(self, route: Route, **kwargs: Any) -> Any:
        _reroute(route, self._base)
        return await super().request(route, **kwargs)


class _RoutedWebhookAdapter(AsyncWebhookAdapter):
    """Interaction callbacks and follow-ups sent to ``base``."""

    def __init__(self, base: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._base = base.rstrip("/")

    async def request(self, route: Route, *args: Any, **kwargs: Any) -> Any:
        _reroute(route, self._base)
        return await super().request(route, *args, **kwargs)


def _intents() -> discord.Intents:
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    intents.dm_messages = True
    return intents


def make_client(
    *, sharding: bool, api_url: str | None, application_id: str | None
) -> discord.Client:
    options: dict[str, Any] = {
        "intents": _intents(),
        "allowed_mentions": discord.AllowedMentions.none(),
        "max_ratelimit_timeout": MAX_RATELIMIT_WAIT,
        "chunk_guilds_at_startup": False,
        "member_cache_flags": discord.MemberCacheFlags.none(),
    }
    if application_id:
        options["application_id"] = int(application_id)
    cls = discord.AutoShardedClient if sharding else discord.Client
    client = cls(**options)
    if api_url:
        http = _RoutedHTTPClient(
            api_url,
            loop=client.loop,
            max_ratelimit_timeout=MAX_RATELIMIT_WAIT,
        )
        client.http = http
        client._connection.http = http
    return client


# --- pacing ---------------------------------------------------------------------------------


class Pacer:
    """At most ``count`` messages per ``per`` seconds per channel (Discord's own pace)."""

    def __init__(
        self,
        *,
        count: int = PACE_MESSAGES,
        per: float = PACE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._count = count
        self._per = per
        self._monotonic = monotonic
        self._sleep = sleep
        self._sent: dict[int, deque[float]] = {}

    async def wait(self, channel_id: int) -> None:
        sent = self._sent.setdefault(channel_id, deque())
        while True:
            now = self._monotonic()
            while sent and now - sent[0] >= self._per - 1e-6:
                sent.popleft()
            if len(sent) < self._count:
                sent.append(now)
                return
            await self._sleep(self._per - (now - sent[0]))


# --- the outlet --------------------------------------------------------------------------------


def _code(e: discord.HTTPException) -> int:
    return int(getattr(e, "code", 0) or 0)


class DiscordOutlet:
    """Delivers posts to Discord channels.

    - Every create carries ``nonce`` = ``nonce_for(post.key)`` with ``enforce_nonce`` (Discord
      then returns the message it made already instead of a second one) and the same digest in
      the footer. A retry later than Discord's few-minute window first looks for the digest in
      the channel's recent history (the bot's own messages), and returns that message's id.
    - An ``update`` (``thread_id`` = the alert's message) edits the alert's embed in place to
      the current view and returns the alert's id; an answer (``ChannelRef.thread`` set) is a
      reply to the message it answers.
    - Pacing: at most 5 messages per 5 seconds per channel; discord.py keeps its own buckets and
      waits out short 429s; a 429 longer than 30 s comes back as ``retry_after``.
    - Errors by code: Unknown Channel and Missing Access pause the channel; Unknown Message on
      an edit gives that edit up; Missing Permissions for embeds falls back to plain text (one
      log line per channel); 5xx and timeouts are retried (timeouts as ``uncertain``).
    """

    platform = PLATFORM

    def __init__(
        self,
        client: discord.Client,
        *,
        clock: Clock,
        pacer: Pacer | None = None,
        timeout: float = REQUEST_TIMEOUT,
        history_limit: int = HISTORY_LIMIT,
    ) -> None:
        self._client = client
        self._clock = clock
        self._pacer = pacer or Pacer()
        self._timeout = timeout
        self._history_limit = history_limit
        self._plain: dict[int, float] = {}  # channel -> monotonic time embeds were refused
        self._tried: dict[str, Any] = {}  # post key -> clock time of its first attempt here
        self._uncertain: set[str] = set()
        self.logged_in = False
        self.last_error: str | None = None
        self.release_global_after = MAX_RATELIMIT_WAIT

    @property
    def ready(self) -> bool:
        return self.logged_in and not self._client.is_closed()

    # -- sending

    async def send(self, post: Post, *, thread_id: str | None = None) -> str:
        channel_id = self._channel_id(post)
        message = self._message(post)
        if (
            post.kind is PostKind.UPDATE
            and thread_id is not None
            and isinstance(message, AlertView)
        ):
            # The alert's embed, redrawn to what the development is now (keeping its reference).
            await self._edit_message(
                channel_id, int(thread_id), message, post.thread_of or post.key
            )
            return thread_id
        digest = nonce_for(post.key)
        now = self._clock.now()
        first = self._tried.setdefault(post.key, now)
        while len(self._tried) > 10_000:  # posts given up elsewhere: forget the oldest
            del self._tried[next(iter(self._tried))]
        if post.attempts > 0 or post.key in self._uncertain:
            started = min(first, post.created_at)
            if now - started >= DEDUP_WINDOW:
                found = await self._find_sent(channel_id, digest)
                if found is not None:
                    log.info("post %s was delivered already as message %s", post.key, found)
                    self._forget(post.key)
                    return found
        reply_to = post.channel.thread or thread_id
        reference = (
            discord.MessageReference(
                message_id=int(reply_to), channel_id=channel_id, fail_if_not_exists=False
            )
            if reply_to and reply_to.isdigit()
            else None
        )
        sent = await self._create(channel_id, message, post, digest, reference)
        self._forget(post.key)
        return sent

    def _forget(self, key: str) -> None:
        self._tried.pop(key, None)
        self._uncertain.discard(key)

    async def _create(
        self,
        channel_id: int,
        message: Message,
        post: Post,
        digest: str,
        reference: discord.MessageReference | None,
    ) -> str:
        channel = self._client.get_partial_messageable(channel_id)
        footer = footer_for(post.key)
        for plain in (self._is_plain(channel_id), True):
            rendered = (
                dr.text_message(message, footer=footer)
                if plain
                else dr.render(message, footer=footer)
            )
            await self._pacer.wait(channel_id)
            try:
                sent = await asyncio.wait_for(
                    channel.send(
                        content=rendered.content,
                        embeds=rendered.discord_embeds(),
                        nonce=digest,
                        reference=reference,  # type: ignore[arg-type]
                        mention_author=False,
                        allowed_mentions=discord.AllowedMentions.none(),
                    ),
                    self._timeout,
                )
            except discord.Forbidden as e:
                if _code(e) == MISSING_PERMISSIONS and not plain:
                    self._plain[channel_id] = time.monotonic()
                    log.warning(
                        "discord channel %s: no Embed Links permission; sending plain text",
                        channel_id,
                    )
                    continue
                raise self._error(e, post) from e
            except Exception as e:
                raise self._error(e, post) from e
            self.last_error = None
            return str(sent.id)
        raise DeliveryError("unreachable")  # pragma: no cover

    def _is_plain(self, channel_id: int) -> bool:
        since = self._plain.get(channel_id)
        if since is None:
            return False
        if time.monotonic() - since > PLAIN_FOR:
            del self._plain[channel_id]
            return False
        return True

    async def _find_sent(self, channel_id: int, digest: str) -> str | None:
        """The id of a message the bot sent with this digest, among the recent ones."""
        me = self._client.user
        channel = self._client.get_partial_messageable(channel_id)
        try:
            async for m in channel.history(limit=self._history_limit):
                if me is not None and m.author.id != me.id:
                    continue
                if m.nonce is not None and str(m.nonce) == digest:
                    return str(m.id)
                if any(e.footer.text and digest in e.footer.text for e in m.embeds):
                    return str(m.id)
                if digest in (m.content or ""):
                    return str(m.id)
        except discord.Forbidden as e:
            # No Read Message History: send again and trust the nonce (and say so).
            log.warning("discord channel %s: cannot read its history to check: %s", channel_id, e)
            return None
        except discord.HTTPException as e:
            raise self._error(e, None) from e
        except (aiohttp.ClientError, TimeoutError) as e:
            raise DeliveryError(f"could not read the channel's history: {e}") from e
        return None

    # -- editing

    async def edit(self, post: Post, message_id: str) -> None:
        channel_id = self._channel_id(post)
        original = post.edit_of or post.key  # the message keeps the reference it was sent with
        await self._edit_message(channel_id, int(message_id), self._message(post), original)

    async def _edit_message(
        self, channel_id: int, message_id: int, message: Message, key: str
    ) -> None:
        footer = footer_for(key)
        partial = self._client.get_partial_messageable(channel_id).get_partial_message(message_id)
        for plain in (self._is_plain(channel_id), True):
            await self._pacer.wait(channel_id)
            try:
                if plain:
                    text = dr.text_message(message, footer=footer).content
                    await asyncio.wait_for(
                        partial.edit(
                            content=text, embeds=[], allowed_mentions=discord.AllowedMentions.none()
                        ),
                        self._timeout,
                    )
                else:
                    await asyncio.wait_for(
                        partial.edit(
                            content=None,
                            embeds=dr.render(message, footer=footer).discord_embeds(),
                        ),
                        self._timeout,
                    )
                self.last_error = None
                return
            except discord.Forbidden as e:
                if _code(e) == MISSING_PERMISSIONS and not plain:
                    self._plain[channel_id] = time.monotonic()
                    log.warning(
                        "discord channel %s: no Embed Links permission; editing as plain text",
                        channel_id,
                    )
                    continue
                raise self._error(e, None, editing=True) from e
            except Exception as e:
                raise self._error(e, None, editing=True) from e

    # -- helpers

    @staticmethod
    def _channel_id(post: Post) -> int:
        try:
            return int(post.channel.channel)
        except ValueError as e:
            raise DeliveryError(
                f"not a Discord channel id: {post.channel.channel!r}", permanent=True
            ) from e

    @staticmethod
    def _message(post: Post) -> Message:
        if post.message is not None:
            return post.message
        return Reply(lines=(post.text,))  # a post stored before messages were

    def _error(
        self, e: BaseException, post: Post | None, *, editing: bool = False
    ) -> DeliveryError:
        err = self._map(e, editing=editing)
        if err.uncertain and post is not None:
            self._uncertain.add(post.key)
        if not err.gone:
            self.last_error = str(err)
        return err

    def _map(self, e: BaseException, *, editing: bool) -> DeliveryError:
        if isinstance(e, DeliveryError):
            return e
        if isinstance(e, discord.RateLimited):
            return DeliveryError(
                f"rate limited for {e.retry_after:.0f} s", retry_after=float(e.retry_after)
            )
        if isinstance(e, TimeoutError):
            self._release_global_lock()
            return DeliveryError("Discord did not answer in time", uncertain=True)
        if isinstance(e, discord.HTTPException):
            code, status = _code(e), e.status
            if code == UNKNOWN_MESSAGE and editing:
                return DeliveryError("the message was deleted (Unknown Message)", gone=True)
            if code == UNKNOWN_CHANNEL:
                return DeliveryError(
                    "Unknown Channel", pause="the channel was deleted or the bot cannot see it"
                )
            if code == MISSING_ACCESS:
                return DeliveryError(
                    "Missing Access", pause="the bot has no access to the channel (Missing Access)"
                )
            if code == MISSING_PERMISSIONS:
                return DeliveryError(
                    "Missing Permissions",
                    pause="the bot may not send messages there (Missing Permissions)",
                )
            if code == CANNOT_DM:
                return DeliveryError("the user does not take direct messages", permanent=True)
            if status == 429:
                return DeliveryError("rate limited (429)", retry_after=60.0)
            if status >= 500:
                return DeliveryError(f"Discord failed ({status})", uncertain=True)
            if status == 404:
                return DeliveryError(f"not found ({code})", gone=editing, permanent=True)
            return DeliveryError(f"Discord refused the message ({status}, {code})", permanent=True)
        if isinstance(e, aiohttp.ClientError | OSError):
            return DeliveryError(f"network error: {type(e).__name__}", uncertain=True)
        log.error("discord: unexpected error delivering a post", exc_info=e)
        return DeliveryError(f"unexpected error: {type(e).__name__}", uncertain=True)

    def _release_global_lock(self) -> None:
        """A request cancelled while discord.py slept out a global 429 would leave its global
        lock closed for good: open it again after the longest wait discord.py would take."""
        lock = getattr(self._client.http, "_global_over", None)
        if isinstance(lock, asyncio.Event) and not lock.is_set():
            asyncio.get_running_loop().call_later(self.release_global_after, lock.set)


# --- commands ------------------------------------------------------------------------------


def channel_ref(
    *, guild_id: int | None, channel_id: int | None, thread: str | None = None
) -> ChannelRef:
    return ChannelRef(
        platform=PLATFORM,
        workspace=str(guild_id) if guild_id else DM,
        channel=str(channel_id or 0),
        thread=thread,
    )


def caller_of(interaction: discord.Interaction[Any]) -> Caller:
    user = str(interaction.user.id) if interaction.user else ""
    if interaction.guild_id is None:
        return Caller(user=user, admin=False, manager=True)  # one's own direct messages
    perms = interaction.permissions
    return Caller(user=user, admin=perms.administrator, manager=perms.manage_channels)


def message_caller(message: discord.Message, *, direct: bool) -> Caller:
    """Who wrote a message, with the rights they have in its channel (a command in a mention
    obeys the same policy as the slash command). Rights the bot cannot see count as none."""
    user = str(message.author.id)
    if direct:
        return Caller(user=user, admin=False, manager=True)  # one's own direct messages
    if not isinstance(message.author, discord.Member):
        return Caller(user=user)
    channel = message.channel
    perms = (
        channel.permissions_for(message.author)
        if isinstance(channel, discord.abc.GuildChannel | discord.Thread)
        else message.author.guild_permissions
    )
    return Caller(user=user, admin=perms.administrator, manager=perms.manage_channels)


def command_for(spec: CommandSpec, values: Mapping[str, Any]) -> Command:
    """The neutral command for an interaction's option values."""
    args: list[str] = []
    for arg in spec.args:
        value = values.get(arg.name)
        if isinstance(value, str) and value.strip():
            args.extend(value.replace(",", " ").split())
    since = values.get("since")
    if isinstance(since, str) and since.strip():
        args.extend(("since", *since.split()))
    return Command(verb=spec.verb, args=tuple(args))


def _param(arg: ArgSpec) -> inspect.Parameter:
    required = arg.required and arg.kind is ArgKind.TOPICS
    return inspect.Parameter(
        arg.name,
        inspect.Parameter.KEYWORD_ONLY,
        annotation=str if required else str | None,
        default=inspect.Parameter.empty if required else None,
    )


class CommandGroup:
    """``/brief``: one subcommand per row of ``COMMANDS``."""

    def __init__(
        self,
        *,
        chat: ChatService,
        policy: ManagePolicy,
        answer_within: float = ANSWER_WITHIN,
    ) -> None:
        self._chat = chat
        self._policy = policy
        self._answer_within = answer_within
        self.group = app_commands.Group(
            name=GROUP, description="What's new in the story, and what this channel follows"
        )
        for spec in COMMANDS:
            self.group.add_command(self._command(spec))

    def _command(self, spec: CommandSpec) -> app_commands.Command[Any, ..., None]:
        params = [
            inspect.Parameter(
                "interaction",
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                annotation=discord.Interaction,
            ),
            *(_param(a) for a in spec.args),
        ]
        descriptions = {a.name: (a.help or a.name)[:100] for a in spec.args}
        if spec.verb == "whatsnew":
            params.append(
                inspect.Parameter(
                    "since", inspect.Parameter.KEYWORD_ONLY, annotation=str | None, default=None
                )
            )
            descriptions["since"] = "since when: Monday, yesterday, 24h…"

        async def callback(interaction: discord.Interaction[Any], **values: Any) -> None:
            await self.run(interaction, spec, values)

        callback.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        callback.__discord_app_commands_param_description__ = descriptions  # type: ignore[attr-defined]
        command: app_commands.Command[Any, ..., None] = app_commands.Command(
            name=spec.verb, description=spec.summary[:100], callback=callback
        )
        for arg in spec.args:
            if arg.kind in (ArgKind.TOPICS, ArgKind.TOPIC):
                command.autocomplete(arg.name)(self._complete)
        return command

    async def _complete(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        return self.choices(current)

    def choices(self, current: str) -> list[app_commands.Choice[str]]:
        """Topics matching the last word typed; earlier words are kept (``nato terr`` ->
        ``nato territory``)."""
        words = current.replace(",", " ").split()
        done = words[:-1] if current and not current.endswith(" ") else words
        last = words[-1].casefold() if words and not current.endswith(" ") else ""
        story = self._chat.commands.story
        out: list[app_commands.Choice[str]] = []
        options = [("*", "* (the whole story)"), *((t.id, t.name) for t in story.topics)]
        for topic_id, name in options:
            if topic_id in done:
                continue
            if last and not (topic_id.startswith(last) or name.casefold().startswith(last)):
                continue
            value = " ".join([*done, topic_id])[:100]
            label = " ".join([*done, name if topic_id == "*" else f"{name} ({topic_id})"])
            out.append(app_commands.Choice(name=label[:100], value=value))
        return out[:AUTOCOMPLETE_MAX]

    async def run(
        self, interaction: discord.Interaction[Any], spec: CommandSpec, values: Mapping[str, Any]
    ) -> None:
        ref = channel_ref(guild_id=interaction.guild_id, channel_id=interaction.channel_id)
        invocation = Invocation(channel=ref, caller=caller_of(interaction), policy=self._policy)
        work = asyncio.ensure_future(self._reply(invocation, command_for(spec, values)))
        done, _ = await asyncio.wait({work}, timeout=self._answer_within)
        if not done:
            await interaction.response.defer(ephemeral=spec.private, thinking=True)
        reply = await work
        private = spec.private or reply.private
        embeds = dr.render(reply).discord_embeds()
        none = discord.AllowedMentions.none()
        if interaction.response.is_done():
            await interaction.followup.send(embeds=embeds, ephemeral=private, allowed_mentions=none)
        else:
            await interaction.response.send_message(
                embeds=embeds, ephemeral=private, allowed_mentions=none
            )

    async def _reply(self, invocation: Invocation, command: Command) -> Reply:
        try:
            return await self._chat.command(invocation, command)
        except BriefbotError as e:
            log.warning("discord /%s %s failed: %s", GROUP, command.verb, e)
            return error_reply(f"Sorry, that did not work: {e}.", "Try again in a moment.")


class _Tree(app_commands.CommandTree[Any]):
    async def on_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError, /
    ) -> None:
        log.warning("discord interaction failed: %s", error)
        if isinstance(error, app_commands.CommandNotFound | app_commands.CommandSignatureMismatch):
            message = (
                "That command is out of date: the bot was updated and Discord is still "
                "showing its old commands. Try again in a minute."
            )
        else:
            message = "Sorry, that did not work."
        reply = error_reply(message, f"Type /{GROUP} help to see the commands and their options.")
        embeds = dr.render(reply).discord_embeds()
        with contextlib.suppress(discord.HTTPException):
            if interaction.response.is_done():
                await interaction.followup.send(embeds=embeds, ephemeral=True)
            else:
                await interaction.response.send_message(embeds=embeds, ephemeral=True)


# --- the platform -----------------------------------------------------------------------------


_MENTION = re.compile(r"<@[!&]?(\d+)>")


class DiscordPlatform:
    """The Discord connection: commands, mentions, guild events and the outlet."""

    name = PLATFORM

    def __init__(
        self,
        *,
        token: str,
        chat: ChatService,
        store: Store,
        clock: Clock,
        application_id: str | None = None,
        test_guild: str | None = None,
        sharding: bool = False,
        api_url: str | None = None,
        policy: ManagePolicy | None = None,
        gateway: bool = True,
        pacer: Pacer | None = None,
        timeout: float = REQUEST_TIMEOUT,
        answer_within: float = ANSWER_WITHIN,
    ) -> None:
        self._token = token
        self._chat = chat
        self._store = store
        self._api_url = api_url
        self._test_guild = test_guild
        self._sharding = sharding
        self._gateway = gateway
        self._policy = policy or ManagePolicy(who="managers")
        self.client = make_client(sharding=sharding, api_url=api_url, application_id=application_id)
        self.tree = _Tree(self.client)
        self.commands = CommandGroup(chat=chat, policy=self._policy, answer_within=answer_within)
        self.tree.add_command(self.commands.group)
        self._outlet = DiscordOutlet(self.client, clock=clock, pacer=pacer, timeout=timeout)
        self._task: asyncio.Task[None] | None = None
        self._last_error: str | None = None
        self.client.event(self.on_ready)
        self.client.event(self.on_message)
        self.client.event(self.on_guild_remove)
        self.client.event(self.on_guild_join)
        self.client.event(self.on_guild_channel_delete)

    @property
    def outlet(self) -> DiscordOutlet:
        return self._outlet

    async def start(self) -> None:
        if self._api_url:
            async_context.set(_RoutedWebhookAdapter(self._api_url))
        try:
            await self.client.login(self._token)
        except discord.LoginFailure as e:
            raise BriefbotError(
                "Discord refused DISCORD_TOKEN: copy the bot token again from the Developer "
                "Portal (Bot → Reset Token)"
            ) from e
        except (discord.HTTPException, aiohttp.ClientError, OSError) as e:
            raise BriefbotError(f"could not reach Discord to log in: {e}") from e
        self._outlet.logged_in = True
        await self.sync()
        if self._gateway:
            self._task = asyncio.create_task(self._connect(), name="discord-gateway")

    async def sync(self) -> None:
        """Register the ``/brief`` commands: with the test guild only when set (instantly),
        else globally."""
        try:
            if self._test_guild:
                guild = discord.Object(id=int(self._test_guild))
                self.tree.copy_global_to(guild=guild)
                await self.tree.sync(guild=guild)
            else:
                await self.tree.sync()
        except (discord.HTTPException, aiohttp.ClientError, OSError) as e:
            self._last_error = f"could not register the /{GROUP} commands: {e}"
            log.warning("discord: %s", self._last_error)

    async def _connect(self) -> None:
        try:
            await self.client.connect(reconnect=True)
        except asyncio.CancelledError:
            raise
        except Exception as e:
            self._last_error = f"the gateway connection ended: {e}"
            log.error("discord: %s", self._last_error)

    async def stop(self) -> None:
        self._outlet.logged_in = False
        await self.client.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def status(self) -> Mapping[str, Any]:
        app_id = self.client.application_id
        return {
            "connected": self.client.is_ready() and not self.client.is_closed(),
            "logged_in": self._outlet.ready,
            "guilds": len(self.client.guilds),
            "application_id": str(app_id) if app_id else None,
            "sharding": self._sharding,
            "test_guild": self._test_guild,
            "last_error": self._outlet.last_error or self._last_error,
        }

    # -- events

    async def on_ready(self) -> None:
        """The gateway is connected (again): what came before is no longer the last error."""
        self._last_error = None
        log.info(
            "discord: connected as %s to %d servers",
            self.client.user,
            len(self.client.guilds),
        )

    async def on_message(self, message: discord.Message) -> None:
        me = self.client.user
        if message.author.bot or me is None or message.author.id == me.id:
            return
        # An uncached guild's message comes with a partial channel that still knows its guild.
        guild_id = message.guild.id if message.guild else getattr(message.channel, "guild_id", None)
        direct = guild_id is None
        # "@briefbot" may also be the bot's own role (Discord offers both in the picker).
        mine = {str(me.id)} | {
            str(r.id) for r in message.role_mentions if r.tags and r.tags.bot_id == me.id
        }
        mentioned = any(u.id == me.id for u in message.mentions) or len(mine) > 1
        if not (direct or mentioned):
            return
        text = _MENTION.sub(lambda m: "" if m.group(1) in mine else m.group(0), message.content)
        ref = channel_ref(guild_id=guild_id, channel_id=message.channel.id, thread=str(message.id))
        try:
            await self._chat.mention(
                Mention(channel=ref, text=text, message_id=str(message.id)),
                caller=message_caller(message, direct=direct),
                policy=self._policy,
            )
        except BriefbotError as e:
            log.warning("discord: could not queue the answer to %s: %s", message.id, e)

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        await self._chat.pause(
            platform=PLATFORM,
            workspace=str(guild.id),
            channel=None,
            reason="the bot was removed from the server",
        )

    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self._chat.resume(platform=PLATFORM, workspace=str(guild.id), channel=None)

    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        await self._chat.pause(
            platform=PLATFORM,
            workspace=str(channel.guild.id),
            channel=str(channel.id),
            reason="the channel was deleted",
        )


def create_discord(
    settings: Settings, *, chat: ChatService, store: Store, clock: Clock, gateway: bool = True
) -> Platform:
    """The Discord platform for ``briefbot run`` (``DISCORD_TOKEN`` set). ``gateway=False``
    serves REST only (no events): tests against a fake, whose ``api_url`` the gateway (always
    Discord's own) does not follow."""
    token = settings.secrets.discord_token
    if not token:
        raise BriefbotError("DISCORD_TOKEN is not set")
    d = settings.discord
    return DiscordPlatform(
        token=token,
        chat=chat,
        store=store,
        clock=clock,
        application_id=d.application_id or settings.secrets.discord_application_id,
        test_guild=d.test_guild or settings.secrets.discord_test_guild,
        sharding=d.sharding,
        api_url=d.api_url,
        policy=d.manage,
        gateway=gateway,
    )


__all__ = [
    "PERMISSIONS",
    "SCOPES",
    "CommandGroup",
    "DiscordOutlet",
    "DiscordPlatform",
    "Pacer",
    "create_discord",
    "footer_for",
    "invite_url",
    "nonce_for",
]
