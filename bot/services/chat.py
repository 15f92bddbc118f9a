"""What every chat adapter talks to: one neutral entry point for commands, mentions and the
platform's news about channels (the bot was removed, invited back, the app uninstalled).

An adapter turns a platform event into a call here and renders what comes back: a ``Reply`` to a
command is answered inline and not stored; an answer to a mention is an outbox post (``answer``),
delivered like every other post, so it is never lost and never sent twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

from bot.domain import Caller, ChannelRef, ManagePolicy, Post, PostKind, Story, answer_key
from bot.messages import Reply
from bot.ports import Clock, Store
from bot.services.answers import Answerer, AnswerWriter
from bot.services.commands import Command, CommandService, Invocation, parse_command
from bot.services.render import render_reply_text

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class Mention:
    """A message that mentions the bot (or a direct message to it)."""

    channel: ChannelRef  # where the answer goes: ``thread`` set to answer in a thread or reply
    text: str
    message_id: str  # the platform's id of the message, unique in the channel


class ChatService:
    def __init__(
        self, *, store: Store, commands: CommandService, answerer: Answerer, clock: Clock
    ) -> None:
        self._store = store
        self._commands = commands
        self._answerer = answerer
        self._clock = clock
        self._queued: Callable[[], None] | None = None

    def on_queued(self, callback: Callable[[], None]) -> None:
        """Called after an answer is queued, so that a live bot delivers it at once rather than
        at the next round (the replay delivers at the instant anyway)."""
        self._queued = callback

    @property
    def commands(self) -> CommandService:
        return self._commands

    @property
    def answerer(self) -> Answerer:
        return self._answerer

    async def command(self, invocation: Invocation, command: Command) -> Reply:
        """Run a command; the reply is answered inline by the adapter."""
        if command.verb == "whatsnew":
            answer = await self._answerer.answer(
                invocation.channel, "what's new " + " ".join(command.args)
            )
            return answer.reply
        return await self._commands.execute(invocation, command)

    async def text(self, invocation: Invocation, text: str) -> Reply:
        """A line typed as a command (the console, ``/brief <text>``). What is no command is
        read as a question; what reads as neither gets the command list."""
        command = parse_command(text)
        if command.verb == "help" and command.unknown:
            answer = await self._answerer.answer(invocation.channel, text)
            if answer.understood:
                return answer.reply
        return await self.command(invocation, command)

    async def mention(
        self,
        mention: Mention,
        *,
        caller: Caller | None = None,
        policy: ManagePolicy | None = None,
    ) -> bool:
        """Queue the answer to a question asked by mentioning the bot. Commands work there too
        ("@briefbot subscribe nato"), under the platform's ``policy``, and act on the channel
        (not the thread the answer goes to). Returns False when this message was answered
        already."""
        command = parse_command(mention.text)
        if command.verb == "whatsnew" or (command.verb == "help" and command.unknown):
            answer = await self._answerer.answer(mention.channel, mention.text)
            reply, topics, developments = answer.reply, answer.topics, answer.developments
            kind = PostKind.ANSWER
        else:
            invocation = Invocation(
                channel=replace(mention.channel, thread=None),
                caller=caller or Caller(),
                policy=policy or ManagePolicy(),
            )
            reply = await self.command(invocation, command)
            topics, developments = (), ()
            kind = PostKind.NOTICE
        post = Post(
            key=answer_key(mention.channel, mention.message_id),
            channel=mention.channel,
            kind=kind,
            text=render_reply_text(reply),
            created_at=self._clock.now(),
            developments=developments,
            topics=topics,
            sources=reply.cited(),
            message=reply,
        )
        queued = await self._store.enqueue(post)
        if queued and self._queued is not None:
            self._queued()
        return queued

    async def pause(
        self, *, platform: str, workspace: str, channel: str | None, reason: str
    ) -> list[ChannelRef]:
        """The platform said the bot cannot post there (removed, archived, uninstalled)."""
        changed = await self._store.set_paused(
            platform=platform, workspace=workspace, channel=channel, reason=reason
        )
        for ref in changed:
            log.warning("paused %s: %s", ref.key, reason)
        return changed

    async def resume(
        self, *, platform: str, workspace: str, channel: str | None
    ) -> list[ChannelRef]:
        """The bot may post there again (invited back, unarchived, reinstalled)."""
        changed = await self._store.set_paused(
            platform=platform, workspace=workspace, channel=channel, reason=None
        )
        for ref in changed:
            log.info("resumed %s", ref.key)
        return changed


def chat_service(
    *, store: Store, story: Story, clock: Clock, writer: AnswerWriter | None = None
) -> ChatService:
    """The chat service with its command and answer services, as the composition root and the
    adapters' tests build it."""
    return ChatService(
        store=store,
        commands=CommandService(store=store, story=story, clock=clock),
        answerer=Answerer(store=store, story=story, clock=clock, writer=writer),
        clock=clock,
    )
