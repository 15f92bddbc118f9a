"""Settings: the TOML files of a config folder plus secrets from the environment.

A config folder holds ``bot.toml`` (settings), ``sources.toml`` (the feeds) and ``topics.toml``
(the story and its topics), and may hold a ``.env`` file of secrets. This is the only module that
reads ``os.environ``; everything else receives a frozen :class:`Settings`.

Precedence, highest first: command-line arguments, the process environment, the ``.env`` file,
``bot.toml``, the defaults written here. ``bot.toml`` never holds a secret.

Every problem raises :class:`~bot.domain.ConfigError` whose message names the file, the key
(dotted; ``sources[3]`` is the third ``[[sources]]`` entry of the file), what was found and what is
expected. Nothing here exits the process or logs; the command line prints the message.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from bot.domain import ConfigError, ManagePolicy, Source, Story, Topic
from bot.novelty.embed import EMBEDDING_MODES
from bot.novelty.pair import PairModelError, load_pair_model
from bot.topics.meaning import TopicModelError, load_topic_model

__all__ = [
    "BOT_FILE",
    "DEFAULT_CONFIG_DIR",
    "DEFAULT_LLM_MODEL",
    "ENV_FILE",
    "ENV_NAMES",
    "SOURCES_FILE",
    "TOPICS_FILE",
    "FetchSettings",
    "LlmSettings",
    "Secrets",
    "Settings",
    "load_settings",
    "load_sources",
    "load_story",
]

DEFAULT_CONFIG_DIR: Final = Path("config")
BOT_FILE: Final = "bot.toml"
SOURCES_FILE: Final = "sources.toml"
TOPICS_FILE: Final = "topics.toml"
ENV_FILE: Final = ".env"

DEFAULT_DB: Final = "data/briefbot.db"
DEFAULT_USER_AGENT: Final = "briefbot/0.1 (self-hosted news bot; RSS reader)"
DEFAULT_LLM_MODEL: Final = "gpt-4o-mini"  # used when OPENAI_API_KEY alone turns the LLM on

# The environment variables the bot reads (see the design's INTERFACE.md).
ENV_DB: Final = "BRIEFBOT_DB"
ENV_LLM_MODEL: Final = "BRIEFBOT_LLM_MODEL"
ENV_SLACK_BOT_TOKEN: Final = "SLACK_BOT_TOKEN"
ENV_SLACK_APP_TOKEN: Final = "SLACK_APP_TOKEN"
ENV_SLACK_MODE: Final = "SLACK_MODE"
ENV_SLACK_SIGNING_SECRET: Final = "SLACK_SIGNING_SECRET"
ENV_SLACK_HTTP_PORT: Final = "SLACK_HTTP_PORT"
ENV_SLACK_API_URL: Final = "SLACK_API_URL"
ENV_DISCORD_TOKEN: Final = "DISCORD_TOKEN"
ENV_DISCORD_APPLICATION_ID: Final = "DISCORD_APPLICATION_ID"
ENV_DISCORD_TEST_GUILD: Final = "DISCORD_TEST_GUILD"
ENV_OPENAI_API_KEY: Final = "OPENAI_API_KEY"
ENV_OPENAI_BASE_URL: Final = "OPENAI_BASE_URL"

ENV_NAMES: Final = (
    ENV_DB,
    ENV_SLACK_BOT_TOKEN,
    ENV_SLACK_APP_TOKEN,
    ENV_SLACK_MODE,
    ENV_SLACK_SIGNING_SECRET,
    ENV_SLACK_HTTP_PORT,
    ENV_SLACK_API_URL,
    ENV_DISCORD_TOKEN,
    ENV_DISCORD_APPLICATION_ID,
    ENV_DISCORD_TEST_GUILD,
    ENV_OPENAI_API_KEY,
    ENV_OPENAI_BASE_URL,
    ENV_LLM_MODEL,
)

LLM_KEYS: Final = (
    "enabled",
    "base_url",
    "model",
    "timeout",
    "max_retries",
    "daily_token_budget",
    "breaker_failures",
    "breaker_cooldown",
    "second_opinion",
)

_SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")
_CHANNEL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,79}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DIGITS = re.compile(r"[0-9]{1,20}")
_SECRET_KEY = re.compile(
    r"(?:^|[_\-.])(?:token|secret|password|passwd|apikey|api[_\-]?key|private[_\-]?key|"
    r"credentials?)$",
    re.IGNORECASE,
)
_SECRET_VALUE = re.compile(r"^(?:xox[abposr]-|xapp-|sk-[A-Za-z0-9_\-]{8,})")

_MISSING_HINT = (
    "run briefbot from the project directory (the one holding config/) or pass --config DIR, "
    "the folder holding bot.toml, sources.toml and topics.toml"
)


# --- settings objects -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchSettings:
    """How feeds are fetched: time limits in seconds, the size cap, redirects, User-Agent."""

    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    max_body_bytes: int = 15 * 1024 * 1024
    max_redirects: int = 5
    user_agent: str = DEFAULT_USER_AGENT


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class LlmSettings:
    """The OpenAI-compatible summarizer; off unless OPENAI_API_KEY or ``[llm]`` turns it on.

    ``repr`` shows ``base_url`` without any user name, password or query it may carry."""

    enabled: bool = False
    base_url: str | None = None  # None: the OpenAI API
    model: str | None = None
    timeout: float = 30.0  # seconds for one request
    max_retries: int = 1  # the SDK's own retries of a failed request (429, 5xx, connection)
    daily_token_budget: int = 200_000  # tokens a UTC day, counted from the API's usage
    breaker_failures: int = 3  # failed calls in a row that open the circuit breaker
    breaker_cooldown: float = 600.0  # seconds the LLM is skipped once the breaker opened
    # Ask the LLM about the reports the offline same-event model is unsure of (off by default).
    second_opinion: bool = False

    def __repr__(self) -> str:
        url = None if self.base_url is None else _redact_url(self.base_url)
        return (
            f"LlmSettings(enabled={self.enabled!r}, base_url={url!r}, model={self.model!r}, "
            f"timeout={self.timeout!r}, max_retries={self.max_retries!r}, "
            f"daily_token_budget={self.daily_token_budget!r}, "
            f"breaker_failures={self.breaker_failures!r}, "
            f"breaker_cooldown={self.breaker_cooldown!r})"
        )


_SECRET_FIELDS: Final = frozenset(
    {
        "slack_bot_token",
        "slack_app_token",
        "slack_signing_secret",
        "discord_token",
        "openai_api_key",
    }
)


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class Secrets:
    """Tokens and endpoints from the environment. Every field is optional.

    ``repr``/``str`` never show a token: only whether it is set. URLs are shown without any
    user name, password or query they may carry.
    """

    slack_bot_token: str | None = None
    slack_app_token: str | None = None
    slack_mode: str = "socket"  # "socket" or "http"
    slack_signing_secret: str | None = None
    slack_http_port: int = 3000
    slack_api_url: str | None = None
    discord_token: str | None = None
    discord_application_id: str | None = None
    discord_test_guild: str | None = None
    openai_api_key: str | None = None
    openai_base_url: str | None = None
    llm_model: str | None = None

    @property
    def slack_enabled(self) -> bool:
        """A Slack bot token is set (``briefbot run`` then serves Slack)."""
        return self.slack_bot_token is not None

    @property
    def discord_enabled(self) -> bool:
        """A Discord token is set (``briefbot run`` then serves Discord)."""
        return self.discord_token is not None

    def __repr__(self) -> str:
        parts: list[str] = []
        for name in self.__slots__:
            value = getattr(self, name)
            if name in _SECRET_FIELDS:
                shown = "<set>" if value is not None else "<unset>"
            elif value is None:
                shown = "None"
            elif name.endswith("_url"):
                shown = repr(_redact_url(str(value)))
            else:
                shown = repr(value)
            parts.append(f"{name}={shown}")
        return f"Secrets({', '.join(parts)})"

    __str__ = __repr__


@dataclass(frozen=True, slots=True, kw_only=True)
class SlackSettings:
    """Slack's non-secret settings: ``[slack]`` in bot.toml, the environment winning."""

    mode: str = "socket"  # "socket" (Socket Mode, SLACK_APP_TOKEN) or "http" (Events API)
    http_port: int = 3000
    http_host: str = "0.0.0.0"
    api_url: str | None = None  # the Web API base URL; None: Slack's own
    manage: ManagePolicy = field(default_factory=ManagePolicy)


@dataclass(frozen=True, slots=True, kw_only=True)
class DiscordSettings:
    """Discord's non-secret settings: ``[discord]`` in bot.toml, the environment winning."""

    application_id: str | None = None
    test_guild: str | None = None  # sync app commands to this guild only (instant)
    sharding: bool = False  # automatic sharding, for bots in very many servers
    api_url: str | None = None  # the REST API base URL (tests, proxies); None: Discord's own
    manage: ManagePolicy = field(default_factory=lambda: ManagePolicy(who="managers"))


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """Everything the bot is configured with. Built by :func:`load_settings`."""

    config_dir: Path
    db: str  # SQLite path (relative to the working directory) or a database URL
    poll_interval: float  # seconds
    backoff_base: float  # seconds
    backoff_max: float  # seconds
    fetch: FetchSettings
    languages: tuple[str, ...]  # lowercase language codes items must have to be posted
    summary_max_chars: int
    max_links: int
    console_channel: str
    sources: tuple[Source, ...]
    story: Story
    secrets: Secrets
    llm: LlmSettings
    embeddings: str = "auto"  # sentence embeddings for clustering: "auto" or "off"
    slack: SlackSettings = field(default_factory=SlackSettings)
    discord: DiscordSettings = field(default_factory=DiscordSettings)
    # The fitted same-event model (bot/novelty/pair.py); None: the one shipped in the package.
    pair_model: Path | None = None
    # The fitted topic model by meaning (bot/topics/meaning.py); None: the package's.
    topic_model: Path | None = None

    @property
    def db_display(self) -> str:
        """The database as it may be shown: a URL loses its user name and password."""
        return _redact_url(self.db) if "://" in self.db else self.db

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{name}={self.db_display if name == 'db' else getattr(self, name)!r}"
            for name in self.__dataclass_fields__
        )
        return f"Settings({shown})"

    __str__ = __repr__


# --- loading ----------------------------------------------------------------------------------


def load_settings(
    config_dir: Path,
    *,
    db: str | None = None,
    poll_interval: float | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Read and check the config folder and the environment; raise ``ConfigError`` if wrong.

    ``db`` and ``poll_interval`` are the command line's ``--db`` and ``--poll-interval``; they win
    over everything else. ``environ`` defaults to ``os.environ`` (tests pass their own).
    """
    config_dir = Path(config_dir)
    if not config_dir.is_dir():
        raise ConfigError(f"{config_dir}: no such folder; {_MISSING_HINT}")
    env = _Environment.build(
        os.environ if environ is None else environ, _read_env_file(config_dir / ENV_FILE)
    )

    bot_path = config_dir / BOT_FILE
    file = str(bot_path)
    data = _read_toml(bot_path)
    _reject_secrets(file, data, "")
    root = _Table(
        file,
        "",
        data,
        (
            "storage",
            "polling",
            "fetch",
            "posting",
            "novelty",
            "console",
            "llm",
            "slack",
            "discord",
        ),
    )

    storage = root.table("storage", ("database",))
    toml_db = storage.string("database", DEFAULT_DB)

    polling = root.table("polling", ("interval", "backoff_base", "backoff_max"))
    interval = polling.number("interval", 600.0, minimum=1.0, unit="seconds")
    backoff_base = polling.number("backoff_base", 300.0, minimum=1.0, unit="seconds")
    backoff_max = polling.number("backoff_max", 21600.0, minimum=1.0, unit="seconds")
    if backoff_max < backoff_base:
        raise polling.fail(
            "backoff_max",
            f"at least polling.backoff_base ({_show(backoff_base)} seconds)",
            backoff_max,
        )

    fetch_table = root.table(
        "fetch",
        ("connect_timeout", "read_timeout", "max_body_mb", "max_redirects", "user_agent"),
    )
    fetch = FetchSettings(
        connect_timeout=fetch_table.number("connect_timeout", 10.0, above=0.0, unit="seconds"),
        read_timeout=fetch_table.number("read_timeout", 30.0, above=0.0, unit="seconds"),
        max_body_bytes=int(
            fetch_table.number("max_body_mb", 15.0, above=0.0, unit="megabytes") * 1024 * 1024
        ),
        max_redirects=fetch_table.integer("max_redirects", 5, minimum=0, maximum=30),
        user_agent=fetch_table.string("user_agent", DEFAULT_USER_AGENT, single_line=True),
    )

    posting = root.table("posting", ("languages", "summary_max_chars", "max_links"))
    languages = posting.languages("languages", ("en",))
    summary_max_chars = posting.integer("summary_max_chars", 400, minimum=50, maximum=4000)
    max_links = posting.integer("max_links", 3, minimum=1, maximum=20)

    novelty = root.table("novelty", ("embeddings", "pair_model", "topic_model"))
    embeddings = novelty.string("embeddings", "auto")
    if embeddings not in EMBEDDING_MODES:
        raise novelty.fail("embeddings", " or ".join(f'"{m}"' for m in EMBEDDING_MODES), embeddings)
    pair_model = _fitted_file(novelty, "pair_model", config_dir, load_pair_model, PairModelError)
    topic_model = _fitted_file(
        novelty, "topic_model", config_dir, load_topic_model, TopicModelError
    )

    console = root.table("console", ("channel",))
    console_channel = console.string("channel", "console")
    if not _CHANNEL_ID.fullmatch(console_channel):
        raise console.fail(
            "channel",
            "a channel id of letters, digits, '.', '_' or '-' (no spaces or colons)",
            console_channel,
        )

    secrets = env.secrets()
    llm = _llm_settings(root.table("llm", LLM_KEYS), env, secrets)
    slack = _slack_settings(
        root.table("slack", ("mode", "http_port", "http_host", "api_url", "manage")), env
    )
    discord = _discord_settings(
        root.table("discord", ("application_id", "test_guild", "sharding", "api_url", "manage")),
        env,
    )

    if db is not None:
        if not db.strip():
            raise ConfigError('--db must be a file path or a database URL, got ""')
        chosen_db = db
    else:
        chosen_db = env.get(ENV_DB) or toml_db

    if poll_interval is not None:
        valid = (
            isinstance(poll_interval, int | float)
            and not isinstance(poll_interval, bool)
            and math.isfinite(poll_interval)
            and poll_interval >= 1
        )
        if not valid:
            raise ConfigError(
                f"--poll-interval must be a number of seconds ≥ 1, got {_show(poll_interval)}"
            )
        interval = float(poll_interval)

    return Settings(
        config_dir=config_dir,
        db=chosen_db,
        poll_interval=interval,
        backoff_base=backoff_base,
        backoff_max=backoff_max,
        fetch=fetch,
        languages=languages,
        summary_max_chars=summary_max_chars,
        max_links=max_links,
        console_channel=console_channel,
        sources=load_sources(config_dir / SOURCES_FILE),
        story=load_story(config_dir / TOPICS_FILE),
        secrets=secrets,
        llm=llm,
        embeddings=embeddings,
        slack=slack,
        discord=discord,
        pair_model=pair_model,
        topic_model=topic_model,
    )


def load_sources(path: Path) -> tuple[Source, ...]:
    """The ``[[sources]]`` of a sources file, in file order; raise ``ConfigError`` if wrong."""
    file = str(path)
    data = _read_toml(path)
    root = _Table(file, "", data, ("sources",))
    sources: list[Source] = []
    seen_ids: dict[str, str] = {}
    seen_urls: dict[str, str] = {}
    for entry in root.tables("sources", ("id", "name", "url", "language")):
        source_id = entry.slug("id")
        entry.label = f'(source "{source_id}")'
        url = entry.url("url")
        source = Source(
            id=source_id,
            name=entry.required_string("name", single_line=True),
            url=url,
            language=entry.language("language"),
        )
        key = entry.key("id")
        if source_id in seen_ids:
            raise ConfigError(
                f'{file}: {key} "{source_id}" is used twice (first at {seen_ids[source_id]}); '
                "source ids must be unique"
            )
        seen_ids[source_id] = key
        if url in seen_urls:
            raise ConfigError(
                f"{file}: {entry.key('url')} {_show(url)} is already the url of "
                f"{seen_urls[url]}; each feed must be listed once"
            )
        seen_urls[url] = entry.key("url")
        sources.append(source)
    return tuple(sources)


def load_story(path: Path) -> Story:
    """The ``[story]`` and ``[[topics]]`` of a topics file; raise ``ConfigError`` if wrong."""
    file = str(path)
    data = _read_toml(path)
    root = _Table(file, "", data, ("story", "topics"))
    if "story" not in data:
        raise ConfigError(
            f"{file}: [story] is required: a table with id, name, description and terms"
        )
    story = root.table(
        "story",
        ("id", "name", "description", "terms", "supporting", "other_stories", "exclude"),
    )
    topics: list[Topic] = []
    seen: dict[str, str] = {}
    for entry in root.tables("topics", ("id", "name", "description", "aliases")):
        topic_id = entry.slug("id")
        entry.label = f'(topic "{topic_id}")'
        key = entry.key("id")
        if topic_id in seen:
            raise ConfigError(
                f'{file}: {key} "{topic_id}" is used twice (first at {seen[topic_id]}); '
                "topic ids must be unique"
            )
        seen[topic_id] = key
        topics.append(
            Topic(
                id=topic_id,
                name=entry.required_string("name", single_line=True),
                description=entry.required_string("description"),
                aliases=entry.words("aliases", required=False),
            )
        )
    return Story(
        id=story.slug("id"),
        name=story.required_string("name", single_line=True),
        description=story.required_string("description"),
        terms=story.words("terms", required=True),
        exclude=story.words("exclude", required=False),
        topics=tuple(topics),
        supporting=story.words("supporting", required=False),
        other_stories=story.words("other_stories", required=False),
    )


# --- the environment and .env -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Environment:
    """The bot's variables, with where each came from (for error messages)."""

    values: Mapping[str, str]
    origins: Mapping[str, str]

    @classmethod
    def build(cls, environ: Mapping[str, str], dotenv: _DotEnv) -> _Environment:
        values: dict[str, str] = {}
        origins: dict[str, str] = {}
        for name in ENV_NAMES:
            if (value := environ.get(name, "").strip()) != "":
                values[name], origins[name] = value, f"environment variable {name}"
            elif (value := dotenv.values.get(name, "").strip()) != "":
                values[name], origins[name] = value, f"{dotenv.file}: {name}"
        return cls(values, origins)

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    def fail(self, name: str, expected: str, shown: str) -> ConfigError:
        return ConfigError(f"{self.origins[name]} must be {expected}, got {shown}")

    def url(self, name: str) -> str | None:
        value = self.get(name)
        if value is not None and not _is_http_url(value):
            raise self.fail(name, "an http:// or https:// URL", _show(_mask_userinfo(value)))
        return value

    def digits(self, name: str, what: str) -> str | None:
        value = self.get(name)
        if value is not None and not _DIGITS.fullmatch(value):
            raise self.fail(name, f"{what} (digits only)", _show(value))
        return value

    def token(self, name: str, prefix: str, what: str) -> str | None:
        value = self.get(name)
        if value is not None and not value.startswith(prefix):
            # Never echo the value: it may be a real secret put in the wrong variable.
            raise ConfigError(
                f"{self.origins[name]} must be {what} starting with {prefix!r}; "
                "the value set does not (it is not shown here)"
            )
        return value

    def secrets(self) -> Secrets:
        mode = (self.get(ENV_SLACK_MODE) or "socket").lower()
        if mode not in ("socket", "http"):
            raise self.fail(
                ENV_SLACK_MODE, '"socket" or "http"', _show(self.values[ENV_SLACK_MODE])
            )
        port = 3000
        if (raw_port := self.get(ENV_SLACK_HTTP_PORT)) is not None:
            if not _DIGITS.fullmatch(raw_port) or not 1 <= int(raw_port) <= 65535:
                raise self.fail(ENV_SLACK_HTTP_PORT, "a TCP port number 1–65535", _show(raw_port))
            port = int(raw_port)
        return Secrets(
            slack_bot_token=self.token(ENV_SLACK_BOT_TOKEN, "xoxb-", "a Slack bot token"),
            slack_app_token=self.token(ENV_SLACK_APP_TOKEN, "xapp-", "a Slack app-level token"),
            slack_mode=mode,
            slack_signing_secret=self.get(ENV_SLACK_SIGNING_SECRET),
            slack_http_port=port,
            slack_api_url=self.url(ENV_SLACK_API_URL),
            discord_token=self.get(ENV_DISCORD_TOKEN),
            discord_application_id=self.digits(ENV_DISCORD_APPLICATION_ID, "a Discord id"),
            discord_test_guild=self.digits(ENV_DISCORD_TEST_GUILD, "a Discord guild id"),
            openai_api_key=self.get(ENV_OPENAI_API_KEY),
            openai_base_url=self.url(ENV_OPENAI_BASE_URL),
            llm_model=self.get(ENV_LLM_MODEL),
        )


@dataclass(frozen=True, slots=True)
class _DotEnv:
    file: str
    values: Mapping[str, str]


def _read_env_file(path: Path) -> _DotEnv:
    """Parse an optional ``.env``: ``KEY=VALUE`` lines, ``#`` comments, optional quotes and
    ``export``. Error messages give the line number but never the line (it may hold a secret)."""
    file = str(path)
    if not path.exists():
        return _DotEnv(file, {})
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{file}: cannot be read as UTF-8 text: {e}") from e
    values: dict[str, str] = {}
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        name, sep, value = line.partition("=")
        name = name.strip()
        if not sep or not _ENV_NAME.fullmatch(name):
            raise ConfigError(
                f"{file}: line {lineno} must be KEY=VALUE with a name of letters, digits and "
                "underscores (the line is not shown: it may hold a secret)"
            )
        value = value.strip()
        if value[:1] in ('"', "'"):
            quote = value[0]
            end = value.find(quote, 1)
            if end == -1:
                raise ConfigError(
                    f"{file}: line {lineno}: {name} opens a {quote} quote and never closes it"
                )
            rest = value[end + 1 :].strip()
            if rest and not rest.startswith("#"):
                raise ConfigError(
                    f"{file}: line {lineno}: {name} has text after its closing quote; "
                    "put a comment after #"
                )
            value = value[1:end]
        elif (comment := re.search(r"\s#", value)) is not None:
            value = value[: comment.start()].rstrip()
        if name.startswith("BRIEFBOT_") and name not in ENV_NAMES:
            raise ConfigError(
                f"{file}: line {lineno}: unknown variable {name}"
                f"{_did_you_mean(name, ENV_NAMES)}; the bot reads {', '.join(ENV_NAMES)}"
            )
        values[name] = value
    return _DotEnv(file, values)


def _manage_policy(table: _Table, default: str) -> ManagePolicy:
    """``manage``: who may change a channel's subscriptions and briefing."""
    value = table.data.get("manage", default)
    choices = ("anyone", "admins", "managers")
    if isinstance(value, str) and value in choices:
        return ManagePolicy(who=value)
    if (
        isinstance(value, list)
        and value
        and all(isinstance(v, str) and v.strip() and len(v) <= 64 for v in value)
    ):
        return ManagePolicy(who="users", users=frozenset(v.strip() for v in value))
    raise table.fail(
        "manage",
        '"anyone", "admins", "managers", or a list of user ids such as ["U012AB3CD"]',
        value,
    )


def _slack_settings(table: _Table, env: _Environment) -> SlackSettings:
    toml_mode = table.optional_string("mode", single_line=True)
    if toml_mode is not None and toml_mode not in ("socket", "http"):
        raise table.fail("mode", '"socket" or "http"', toml_mode)
    mode = (env.get(ENV_SLACK_MODE) or toml_mode or "socket").lower()
    if mode not in ("socket", "http"):
        raise env.fail(ENV_SLACK_MODE, '"socket" or "http"', _show(mode))
    port = table.integer("http_port", 3000, minimum=1, maximum=65535)
    if (raw_port := env.get(ENV_SLACK_HTTP_PORT)) is not None:
        port = int(raw_port)  # checked with the secrets
    return SlackSettings(
        mode=mode,
        http_port=port,
        http_host=table.string("http_host", "0.0.0.0", single_line=True),
        api_url=env.url(ENV_SLACK_API_URL) or table.optional_url("api_url"),
        manage=_manage_policy(table, "anyone"),
    )


def _discord_settings(table: _Table, env: _Environment) -> DiscordSettings:
    def digits(name: str) -> str | None:
        value = table.data.get(name)
        if value is None:
            return None
        text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
        if not isinstance(text, str) or not _DIGITS.fullmatch(text):
            raise table.fail(name, "a Discord id (digits only)", value)
        return text

    sharding = table.optional_bool("sharding")
    return DiscordSettings(
        application_id=env.digits(ENV_DISCORD_APPLICATION_ID, "a Discord id")
        or digits("application_id"),
        test_guild=env.digits(ENV_DISCORD_TEST_GUILD, "a Discord guild id") or digits("test_guild"),
        sharding=bool(sharding),
        api_url=table.optional_url("api_url"),
        manage=_manage_policy(table, "managers"),
    )


def _llm_settings(table: _Table, env: _Environment, secrets: Secrets) -> LlmSettings:
    toml_enabled = table.optional_bool("enabled")
    toml_base_url = table.optional_url("base_url")
    toml_model = table.optional_string("model", single_line=True)
    enabled = toml_enabled if toml_enabled is not None else secrets.openai_api_key is not None
    base_url = secrets.openai_base_url or toml_base_url
    model = secrets.llm_model or toml_model
    if enabled and secrets.openai_api_key is None:
        # A local endpoint that needs no key: it must be named, and so must its model.
        if base_url is None:
            raise ConfigError(
                f"{table.file}: llm.enabled = true needs llm.base_url (or {ENV_OPENAI_BASE_URL}) "
                f"when {ENV_OPENAI_API_KEY} is not set"
            )
        if model is None:
            raise ConfigError(
                f"{table.file}: llm.enabled = true needs llm.model (or {ENV_LLM_MODEL}): "
                "the model name the endpoint serves"
            )
    if enabled and model is None:
        model = DEFAULT_LLM_MODEL
    return LlmSettings(
        enabled=enabled,
        base_url=base_url,
        model=model,
        timeout=table.number("timeout", 30.0, above=0.0, unit="seconds"),
        max_retries=table.integer("max_retries", 1, minimum=0, maximum=5),
        daily_token_budget=table.integer(
            "daily_token_budget", 200_000, minimum=0, maximum=1_000_000_000
        ),
        breaker_failures=table.integer("breaker_failures", 3, minimum=1, maximum=100),
        breaker_cooldown=table.number("breaker_cooldown", 600.0, minimum=1.0, unit="seconds"),
        second_opinion=bool(table.optional_bool("second_opinion")),
    )


# --- TOML reading and checking ----------------------------------------------------------------


def _read_toml(path: Path) -> dict[str, Any]:
    file = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError as e:
        raise ConfigError(f"{file}: file not found; {_MISSING_HINT}") from e
    except IsADirectoryError as e:
        raise ConfigError(f"{file}: is a folder, expected a TOML file") from e
    except OSError as e:
        raise ConfigError(f"{file}: cannot be read: {e.strerror or e}") from e
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"{file}: is not UTF-8 text (byte {e.start})") from e
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{file}: not valid TOML: {e}") from e


def _reject_secrets(file: str, data: Any, prefix: str) -> None:
    """Refuse anything in ``bot.toml`` that looks like a secret, naming the variable to use."""
    if isinstance(data, dict):
        for name, value in data.items():
            key = f"{prefix}.{name}" if prefix else name
            if _SECRET_KEY.search(name) and not isinstance(value, dict | list):
                raise ConfigError(
                    f"{file}: {key} looks like a secret, and bot.toml must not hold secrets; "
                    f"remove it and set the environment variable {_secret_env_for(key)} "
                    f"instead (or put it in {ENV_FILE} beside bot.toml)"
                )
            _reject_secrets(file, value, key)
    elif isinstance(data, list):
        for index, value in enumerate(data, start=1):
            _reject_secrets(file, value, f"{prefix}[{index}]")
    elif isinstance(data, str) and _SECRET_VALUE.match(data.strip()):
        raise ConfigError(
            f"{file}: {prefix} holds what looks like a token (the value is not shown), and "
            "bot.toml must not hold secrets; set it in the environment instead: "
            f"{', '.join(n for n in ENV_NAMES if n.endswith(('TOKEN', 'SECRET', 'KEY')))}"
        )


def _secret_env_for(key: str) -> str:
    k = key.lower()
    if "signing" in k:
        return ENV_SLACK_SIGNING_SECRET
    if "slack" in k or "xox" in k:
        return ENV_SLACK_APP_TOKEN if "app" in k else ENV_SLACK_BOT_TOKEN
    if "discord" in k:
        return ENV_DISCORD_TOKEN
    if "llm" in k or "openai" in k or "api" in k:
        return ENV_OPENAI_API_KEY
    return "SLACK_BOT_TOKEN, DISCORD_TOKEN or OPENAI_API_KEY (whichever it is)"


def _fitted_file(
    table: _Table,
    key: str,
    config_dir: Path,
    load: Callable[[Path], object],
    error: type[Exception],
) -> Path | None:
    """A fitted model named in ``table`` (``pair_model``, ``topic_model``), relative to the config
    folder like the other files it holds, checked to load; None when not set (the package's)."""
    name = table.optional_string(key, single_line=True)
    if name is None:
        return None
    path = config_dir / Path(name).expanduser()
    try:
        load(path)
    except (OSError, error) as e:
        what = key.replace("_", " ")
        raise table.fail(key, f"a readable {what} file", name) from e
    return path


class _Table:
    """One TOML table being checked: knows its file and dotted path, refuses unknown keys."""

    def __init__(self, file: str, path: str, data: Mapping[str, Any], allowed: Sequence[str]):
        self.file = file
        self.path = path
        self.data = data
        self.label = ""  # e.g. '(source "bbc-world")', shown after the key
        unknown = [name for name in data if name not in allowed]
        if unknown:
            where = f" in [{path}]" if path else " at the top level"
            raise ConfigError(
                f"{file}: unknown key {self.key(unknown[0])}{_did_you_mean(unknown[0], allowed)}; "
                f"valid keys{where}: {', '.join(allowed)}"
            )

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def _where(self, name: str) -> str:
        return f"{self.key(name)} {self.label}" if self.label else self.key(name)

    def fail(self, name: str, expected: str, value: object) -> ConfigError:
        return ConfigError(
            f"{self.file}: {self._where(name)} must be {expected}, got {_show(value)}"
        )

    def missing(self, name: str, expected: str) -> ConfigError:
        return ConfigError(f"{self.file}: {self._where(name)} is required: {expected}")

    # nested tables

    def table(self, name: str, allowed: Sequence[str]) -> _Table:
        value = self.data.get(name, {})
        if not isinstance(value, dict):
            raise self.fail(name, f"a table ([{self.key(name)}])", value)
        return _Table(self.file, self.key(name), value, allowed)

    def tables(self, name: str, allowed: Sequence[str]) -> Iterable[_Table]:
        value = self.data.get(name, [])
        if isinstance(value, dict):
            raise ConfigError(
                f"{self.file}: {self.key(name)} must be an array of tables: write "
                f"[[{name}]] with two brackets before each entry"
            )
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.fail(name, f"an array of tables ([[{name}]] entries)", value)
        for index, entry in enumerate(value, start=1):
            yield _Table(self.file, f"{self.key(name)}[{index}]", entry, allowed)

    # scalars

    def _string(self, name: str, *, single_line: bool) -> str | None:
        value = self.data.get(name)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(name, "a non-empty string", value)
        if single_line and any(c in value for c in "\r\n\x00"):
            raise self.fail(name, "a single line of text", value)
        return value.strip()

    def string(self, name: str, default: str, *, single_line: bool = False) -> str:
        value = self._string(name, single_line=single_line)
        return default if value is None else value

    def optional_string(self, name: str, *, single_line: bool = False) -> str | None:
        return self._string(name, single_line=single_line)

    def required_string(self, name: str, *, single_line: bool = False) -> str:
        value = self._string(name, single_line=single_line)
        if value is None:
            raise self.missing(name, "a non-empty string")
        return value

    def slug(self, name: str) -> str:
        value = self.data.get(name)
        if value is None:
            raise self.missing(
                name, 'a lowercase slug of letters, digits and hyphens, such as "bbc-world"'
            )
        if not isinstance(value, str) or not _SLUG.fullmatch(value):
            raise self.fail(
                name,
                "a lowercase slug of letters, digits and hyphens (at most 64, not starting or "
                'ending with a hyphen), such as "security-guarantees"',
                value,
            )
        return value

    def url(self, name: str) -> str:
        value = self.data.get(name)
        if value is None:
            raise self.missing(name, "the feed's http:// or https:// address")
        if not isinstance(value, str) or not _is_http_url(value.strip()):
            raise self.fail(name, "an http:// or https:// URL", value)
        return value.strip()

    def optional_url(self, name: str) -> str | None:
        value = self.data.get(name)
        if value is None:
            return None
        if not isinstance(value, str) or not _is_http_url(value.strip()):
            raise self.fail(name, "an http:// or https:// URL", value)
        return value.strip()

    def optional_bool(self, name: str) -> bool | None:
        value = self.data.get(name)
        if value is not None and not isinstance(value, bool):
            raise self.fail(name, "true or false", value)
        return value

    def number(
        self,
        name: str,
        default: float,
        *,
        minimum: float | None = None,
        above: float | None = None,
        unit: str,
    ) -> float:
        value = self.data.get(name, default)
        if minimum is not None:
            expected = f"a number of {unit} ≥ {_show(minimum)}"
        else:
            expected = f"a number of {unit} > {_show(above)}"
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(name, expected, value)
        if not math.isfinite(value):
            raise self.fail(name, expected, value)
        if (minimum is not None and value < minimum) or (above is not None and value <= above):
            raise self.fail(name, expected, value)
        return float(value)

    def integer(self, name: str, default: int, *, minimum: int, maximum: int) -> int:
        value = self.data.get(name, default)
        expected = f"a whole number from {minimum} to {maximum}"
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(name, expected, value)
        if not minimum <= value <= maximum:
            raise self.fail(name, expected, value)
        return value

    def language(self, name: str) -> str | None:
        value = self.data.get(name)
        if value is None:
            return None
        if not isinstance(value, str) or not _LANGUAGE.fullmatch(value):
            raise self.fail(name, 'a language code such as "en", "pl" or "en-GB"', value)
        return value.lower()

    def languages(self, name: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = self.data.get(name)
        if value is None:
            return default
        expected = 'a non-empty list of language codes such as ["en"] or ["en", "pl"]'
        if not isinstance(value, list) or not value:
            raise self.fail(name, expected, value)
        codes: list[str] = []
        for index, code in enumerate(value, start=1):
            if not isinstance(code, str) or not _LANGUAGE.fullmatch(code):
                raise ConfigError(
                    f"{self.file}: {self.key(name)}[{index}] must be a language code such as "
                    f'"en", "pl" or "en-GB", got {_show(code)}'
                )
            if code.lower() not in codes:
                codes.append(code.lower())
        return tuple(codes)

    def words(self, name: str, *, required: bool) -> tuple[str, ...]:
        """A list of match terms: words or phrases, a trailing ``*`` meaning a prefix."""
        value = self.data.get(name)
        expected = 'a list of words or phrases, such as ["ceasefire", "sanction*"]'
        if value is None:
            if required:
                raise self.missing(name, expected)
            return ()
        if not isinstance(value, list) or (required and not value):
            raise self.fail(name, ("a non-empty " if required else "") + expected[2:], value)
        out: list[str] = []
        for index, word in enumerate(value, start=1):
            key = f"{self.key(name)}[{index}]"
            if not isinstance(word, str) or not word.strip():
                raise ConfigError(
                    f"{self.file}: {key} must be a non-empty word or phrase, got {_show(word)}"
                )
            word = " ".join(word.split())
            if "*" in word[:-1] or word == "*":
                raise ConfigError(
                    f"{self.file}: {key} may use * only at its end, after at least one letter "
                    f'(meaning "starts with"), got {_show(word)}'
                )
            if word not in out:
                out.append(word)
        return tuple(out)


# --- small helpers ----------------------------------------------------------------------------


def _did_you_mean(name: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def _is_http_url(value: str) -> bool:
    if any(c.isspace() for c in value):
        return False
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _redact_url(value: str) -> str:
    """``value`` without user name, password, query or fragment."""
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<not a URL>"
    if not parts.scheme or not host:
        return "<not a URL>"
    return f"{parts.scheme}://{host}{port}{parts.path}"


def _mask_userinfo(value: str) -> str:
    """``value`` with any ``user:password@`` of a URL-like string replaced by ``***@``."""
    return re.sub(r"//[^/@\s]*@", "//***@", value)


def _show(value: object) -> str:
    """A found value as an error message shows it: strings quoted, containers described."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = value if len(value) <= 80 else value[:77] + "..."
        return json.dumps(text, ensure_ascii=False)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    return f"a {type(value).__name__}"
