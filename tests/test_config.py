"""The config folder and the environment: what loads, what wins, and what a mistake says."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import (
    DEFAULT_LLM_MODEL,
    Settings,
    load_settings,
    load_sources,
    load_story,
)
from bot.domain import ConfigError

PROJECT_CONFIG = Path(__file__).resolve().parents[1] / "config"
SHIPPED_TOPICS = (
    "negotiations",
    "territory",
    "nato",
    "security-guarantees",
    "sanctions",
    "fighting",
    "kyiv-politics",
    "europe",
)

SOURCES = """\
[[sources]]
id = "bbc-world"
name = "BBC News"
url = "https://feeds.bbci.co.uk/news/world/rss.xml"

[[sources]]
id = "rp-pl"
name = "Rzeczpospolita"
url = "https://www.rp.pl/rss_main"
language = "pl"
"""

TOPICS = """\
[story]
id = "talks"
name = "The talks"
description = "Peace talks."
terms = ["ukrain*", "kyiv"]

[[topics]]
id = "nato"
name = "NATO"
description = "The alliance."
aliases = ["nato", "otan"]

[[topics]]
id = "sanctions"
name = "Sanctions"
description = "Pressure on Russia's economy."
aliases = ["sanction*"]
"""


def make_config(
    tmp_path: Path,
    bot: str = "",
    *,
    sources: str = SOURCES,
    topics: str = TOPICS,
    env: str | None = None,
) -> Path:
    folder = tmp_path / "config"
    folder.mkdir(parents=True)
    (folder / "bot.toml").write_text(bot, encoding="utf-8")
    (folder / "sources.toml").write_text(sources, encoding="utf-8")
    (folder / "topics.toml").write_text(topics, encoding="utf-8")
    if env is not None:
        (folder / ".env").write_text(env, encoding="utf-8")
    return folder


def config_error(folder: Path, **kwargs: object) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(folder, environ=kwargs.pop("environ", {}), **kwargs)  # type: ignore[arg-type]
    return str(caught.value)


# --- the shipped configuration ----------------------------------------------------------------


def test_shipped_config_loads_with_its_sources_and_the_eight_topics() -> None:
    settings = load_settings(PROJECT_CONFIG, environ={})

    assert len(settings.sources) >= 12
    assert len({s.id for s in settings.sources}) == len(settings.sources)
    assert all(s.url.startswith(("https://", "http://")) for s in settings.sources)
    assert settings.story.topic_ids() == SHIPPED_TOPICS
    for topic in settings.story.topics:
        assert topic.name and topic.description and topic.aliases, topic.id
    assert settings.story.terms
    assert settings.db == "data/briefbot.db"
    assert settings.poll_interval == 600
    assert settings.languages == ("en",)
    assert settings.console_channel == "console"
    assert settings.llm.enabled is False


def test_shipped_config_covers_outlets_from_each_side() -> None:
    hosts = " ".join(s.url for s in load_sources(PROJECT_CONFIG / "sources.toml"))
    for domain in (
        "kyivindependent.com",
        "themoscowtimes.com",
        "nytimes.com",
        "bbc",
        "politico.eu",
    ):
        assert domain in hosts


def test_shipped_topics_load_alone_as_the_replay_does() -> None:
    story = load_story(PROJECT_CONFIG / "topics.toml")
    assert story.topic_ids() == SHIPPED_TOPICS
    nato = next(t for t in story.topics if t.id == "nato")
    assert "nato" in [a.lower() for a in nato.aliases]


# --- defaults and the parts of Settings -------------------------------------------------------


def test_an_empty_bot_toml_gives_the_documented_defaults(tmp_path: Path) -> None:
    settings = load_settings(make_config(tmp_path), environ={})

    assert settings.db == "data/briefbot.db"
    assert settings.poll_interval == 600
    assert (settings.backoff_base, settings.backoff_max) == (300, 21600)
    assert settings.fetch.connect_timeout == 10
    assert settings.fetch.read_timeout == 30
    assert settings.fetch.max_body_bytes == 15 * 1024 * 1024
    assert settings.fetch.max_redirects == 5
    assert settings.fetch.user_agent.startswith("briefbot/")
    assert settings.summary_max_chars == 400
    assert settings.max_links == 3
    assert settings.embeddings == "auto"
    assert settings.pair_model is None  # the fit the package ships
    assert settings.secrets.slack_mode == "socket"
    assert settings.secrets.slack_http_port == 3000
    assert not settings.secrets.slack_enabled and not settings.secrets.discord_enabled


def test_values_in_bot_toml_are_used(tmp_path: Path) -> None:
    folder = make_config(
        tmp_path,
        """
[polling]
interval = 45.5
[fetch]
max_body_mb = 2
user_agent = "test-agent/1"
[posting]
languages = ["en", "PL", "en"]
max_links = 5
[novelty]
embeddings = "off"
[console]
channel = "terminal"
""",
    )
    settings = load_settings(folder, environ={})
    assert settings.embeddings == "off"

    assert settings.poll_interval == 45.5
    assert settings.fetch.max_body_bytes == 2 * 1024 * 1024
    assert settings.fetch.user_agent == "test-agent/1"
    assert settings.languages == ("en", "pl")
    assert settings.max_links == 5
    assert settings.console_channel == "terminal"
    assert settings.config_dir == folder


def test_sources_and_story_come_back_as_domain_objects(tmp_path: Path) -> None:
    settings = load_settings(make_config(tmp_path), environ={})

    assert [s.id for s in settings.sources] == ["bbc-world", "rp-pl"]
    assert settings.sources[0].language is None
    assert settings.sources[1].language == "pl"
    assert settings.story.id == "talks"
    assert settings.story.terms == ("ukrain*", "kyiv")
    assert settings.story.topics[1].aliases == ("sanction*",)


# --- precedence -------------------------------------------------------------------------------


def test_db_argument_beats_environment_beats_dotenv_beats_bot_toml(tmp_path: Path) -> None:
    folder = make_config(
        tmp_path, '[storage]\ndatabase = "from-toml.db"\n', env="BRIEFBOT_DB=from-dotenv.db\n"
    )
    environ = {"BRIEFBOT_DB": "from-env.db"}

    assert load_settings(folder, db="from-arg.db", environ=environ).db == "from-arg.db"
    assert load_settings(folder, environ=environ).db == "from-env.db"
    assert load_settings(folder, environ={}).db == "from-dotenv.db"
    (folder / ".env").unlink()
    assert load_settings(folder, environ={}).db == "from-toml.db"


def test_an_empty_environment_variable_counts_as_unset(tmp_path: Path) -> None:
    folder = make_config(tmp_path, env="BRIEFBOT_DB=from-dotenv.db\n")
    assert load_settings(folder, environ={"BRIEFBOT_DB": ""}).db == "from-dotenv.db"


def test_poll_interval_argument_beats_bot_toml(tmp_path: Path) -> None:
    folder = make_config(tmp_path, "[polling]\ninterval = 900\n")
    assert load_settings(folder, environ={}).poll_interval == 900
    assert load_settings(folder, poll_interval=5, environ={}).poll_interval == 5


def test_environment_wins_over_dotenv_for_secrets(tmp_path: Path) -> None:
    folder = make_config(tmp_path, env="SLACK_MODE=http\nSLACK_HTTP_PORT=8080\n")

    from_file = load_settings(folder, environ={}).secrets
    assert (from_file.slack_mode, from_file.slack_http_port) == ("http", 8080)
    overridden = load_settings(folder, environ={"SLACK_MODE": "socket"}).secrets
    assert (overridden.slack_mode, overridden.slack_http_port) == ("socket", 8080)


def test_dotenv_understands_comments_quotes_and_export(tmp_path: Path) -> None:
    folder = make_config(
        tmp_path,
        env=(
            "# secrets for my workspace\n"
            "\n"
            "export SLACK_BOT_TOKEN='xoxb-1-quoted # not a comment'\n"
            'DISCORD_TOKEN="discord token"  # trailing comment\n'
            "OPENAI_API_KEY=sk-plain # comment\n"
            "UNRELATED_TOOL_SETTING=whatever\n"
        ),
    )
    secrets = load_settings(folder, environ={}).secrets

    assert secrets.slack_bot_token == "xoxb-1-quoted # not a comment"
    assert secrets.discord_token == "discord token"
    assert secrets.openai_api_key == "sk-plain"


def test_all_secrets_are_read_from_the_environment(tmp_path: Path) -> None:
    environ = {
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_APP_TOKEN": "xapp-1",
        "SLACK_MODE": "HTTP",
        "SLACK_SIGNING_SECRET": "signing",
        "SLACK_HTTP_PORT": "3100",
        "SLACK_API_URL": "http://127.0.0.1:9999/api/",
        "DISCORD_TOKEN": "discord",
        "DISCORD_APPLICATION_ID": "1234567890",
        "DISCORD_TEST_GUILD": "987654321",
        "OPENAI_API_KEY": "sk-test",
        "OPENAI_BASE_URL": "http://127.0.0.1:11434/v1",
        "BRIEFBOT_LLM_MODEL": "tiny",
    }
    s = load_settings(make_config(tmp_path), environ=environ).secrets

    assert (s.slack_bot_token, s.slack_app_token, s.slack_signing_secret) == (
        "xoxb-1",
        "xapp-1",
        "signing",
    )
    assert (s.slack_mode, s.slack_http_port) == ("http", 3100)
    assert s.slack_api_url == "http://127.0.0.1:9999/api/"
    assert (s.discord_token, s.discord_application_id, s.discord_test_guild) == (
        "discord",
        "1234567890",
        "987654321",
    )
    assert (s.openai_api_key, s.openai_base_url, s.llm_model) == (
        "sk-test",
        "http://127.0.0.1:11434/v1",
        "tiny",
    )
    assert s.slack_enabled and s.discord_enabled


# --- the LLM switch ---------------------------------------------------------------------------


def test_an_openai_key_turns_the_llm_on_with_a_default_model(tmp_path: Path) -> None:
    llm = load_settings(make_config(tmp_path), environ={"OPENAI_API_KEY": "sk-x"}).llm
    assert llm.enabled and llm.model == DEFAULT_LLM_MODEL and llm.base_url is None


def test_a_local_llm_is_turned_on_in_bot_toml_and_env_overrides_it(tmp_path: Path) -> None:
    folder = make_config(
        tmp_path,
        '[llm]\nenabled = true\nbase_url = "http://127.0.0.1:11434/v1"\nmodel = "small"\n',
    )
    llm = load_settings(folder, environ={}).llm
    assert (llm.enabled, llm.base_url, llm.model) == (True, "http://127.0.0.1:11434/v1", "small")

    llm = load_settings(folder, environ={"BRIEFBOT_LLM_MODEL": "big"}).llm
    assert llm.model == "big"


def test_llm_disabled_in_bot_toml_stays_off_even_with_a_key(tmp_path: Path) -> None:
    folder = make_config(tmp_path, "[llm]\nenabled = false\n")
    assert load_settings(folder, environ={"OPENAI_API_KEY": "sk-x"}).llm.enabled is False


def test_llm_enabled_without_key_needs_an_endpoint(tmp_path: Path) -> None:
    message = config_error(make_config(tmp_path, '[llm]\nenabled = true\nmodel = "m"\n'))
    assert "bot.toml" in message and "llm.base_url" in message and "OPENAI_BASE_URL" in message


# --- secrets never shown ----------------------------------------------------------------------


def test_repr_and_str_of_settings_never_show_a_secret(tmp_path: Path) -> None:
    secret_values = {
        "SLACK_BOT_TOKEN": "xoxb-SECRET-bot-value",
        "SLACK_APP_TOKEN": "xapp-SECRET-app-value",
        "SLACK_SIGNING_SECRET": "SECRET-signing-value",
        "DISCORD_TOKEN": "SECRET-discord-value",
        "OPENAI_API_KEY": "sk-SECRET-openai-value",
    }
    environ = {**secret_values, "OPENAI_BASE_URL": "https://user:SECRET-pw@llm.example/v1?k=SECRET"}
    settings: Settings = load_settings(make_config(tmp_path), environ=environ)

    for shown in (repr(settings), str(settings), repr(settings.secrets), str(settings.secrets)):
        assert "SECRET" not in shown
        assert "slack_bot_token=<set>" in shown
        assert "discord_token=<set>" in shown
    assert "llm.example/v1" in repr(settings.secrets)
    assert "slack_bot_token=<unset>" in repr(load_settings(make_config(tmp_path / "b"), environ={}))


# --- errors: every message names the file and the key ----------------------------------------


def test_missing_config_folder_says_how_to_fix(tmp_path: Path) -> None:
    message = config_error(tmp_path / "nowhere")
    assert "nowhere" in message and "--config DIR" in message


@pytest.mark.parametrize("name", ["bot.toml", "sources.toml", "topics.toml"])
def test_missing_file_is_named_with_the_fix(tmp_path: Path, name: str) -> None:
    folder = make_config(tmp_path)
    (folder / name).unlink()
    message = config_error(folder)
    assert str(folder / name) in message
    assert "not found" in message and "--config DIR" in message


def test_toml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    folder = make_config(tmp_path, "[polling]\ninterval = = 5\n")
    message = config_error(folder)
    assert str(folder / "bot.toml") in message
    assert "not valid TOML" in message and "line 2" in message


def test_wrong_type_is_reported_with_file_key_found_and_expected(tmp_path: Path) -> None:
    folder = make_config(tmp_path, '[polling]\ninterval = "ten"\n')
    assert config_error(folder) == (
        f'{folder / "bot.toml"}: polling.interval must be a number of seconds ≥ 1, got "ten"'
    )


@pytest.mark.parametrize(
    ("toml", "key", "found"),
    [
        ("[polling]\ninterval = true\n", "polling.interval", "got true"),
        ("[polling]\ninterval = 0.5\n", "polling.interval", "got 0.5"),
        ("[polling]\nbackoff_base = 600\nbackoff_max = 60\n", "polling.backoff_max", "got 60"),
        ("[fetch]\nread_timeout = 0\n", "fetch.read_timeout", "got 0"),
        ("[fetch]\nmax_redirects = 2.5\n", "fetch.max_redirects", "got 2.5"),
        ('[fetch]\nuser_agent = ""\n', "fetch.user_agent", 'got ""'),
        ("[storage]\ndatabase = 42\n", "storage.database", "got 42"),
        ("[posting]\nsummary_max_chars = 10\n", "posting.summary_max_chars", "got 10"),
        ('[posting]\nlanguages = "en"\n', "posting.languages", 'got "en"'),
        ("[posting]\nlanguages = []\n", "posting.languages", "got a list"),
        ('[posting]\nlanguages = ["english"]\n', "posting.languages[1]", 'got "english"'),
        ('[console]\nchannel = "my channel"\n', "console.channel", 'got "my channel"'),
        ('[novelty]\nembeddings = "on"\n', "novelty.embeddings", 'got "on"'),
        ('[novelty]\npair_model = "missing.json"\n', "novelty.pair_model", 'got "missing.json"'),
        ('[novelty]\ntopic_model = "gone.json"\n', "novelty.topic_model", 'got "gone.json"'),
        ("[llm]\nenabled = 1\n", "llm.enabled", "got 1"),
        ('[llm]\nbase_url = "localhost:11434"\n', "llm.base_url", 'got "localhost:11434"'),
        ('polling = "often"\n', "polling", 'got "often"'),
    ],
)
def test_bad_values_in_bot_toml(tmp_path: Path, toml: str, key: str, found: str) -> None:
    folder = make_config(tmp_path, toml)
    message = config_error(folder)
    assert message.startswith(f"{folder / 'bot.toml'}: {key} must be ")
    assert message.endswith(found)


def test_unknown_key_is_refused_with_the_valid_ones(tmp_path: Path) -> None:
    folder = make_config(tmp_path, "[polling]\nintervall = 60\n")
    message = config_error(folder)
    assert str(folder / "bot.toml") in message
    assert "unknown key polling.intervall" in message
    assert "did you mean interval?" in message
    assert "interval, backoff_base, backoff_max" in message


def test_unknown_section_is_refused(tmp_path: Path) -> None:
    message = config_error(make_config(tmp_path, "[pollling]\ninterval = 60\n"))
    assert "unknown key pollling" in message and "did you mean polling?" in message


@pytest.mark.parametrize(
    ("toml", "key", "variable"),
    [
        ('[slack]\nbot_token = "xoxb-1-2-3"\n', "slack.bot_token", "SLACK_BOT_TOKEN"),
        ('[slack]\napp_token = "xapp-1-2-3"\n', "slack.app_token", "SLACK_APP_TOKEN"),
        ('[slack]\nsigning_secret = "abc123"\n', "slack.signing_secret", "SLACK_SIGNING_SECRET"),
        ('[discord]\ntoken = "abc.def.ghi"\n', "discord.token", "DISCORD_TOKEN"),
        ('[llm]\napi_key = "sk-abcdefghijkl"\n', "llm.api_key", "OPENAI_API_KEY"),
        ('openai_api_key = "sk-abcdefghijkl"\n', "openai_api_key", "OPENAI_API_KEY"),
    ],
)
def test_a_secret_in_bot_toml_is_refused_without_echoing_it(
    tmp_path: Path, toml: str, key: str, variable: str
) -> None:
    folder = make_config(tmp_path, toml)
    message = config_error(folder)
    assert str(folder / "bot.toml") in message
    assert key in message and "secret" in message and variable in message
    assert toml.split('"')[1] not in message


def test_a_token_pasted_into_another_key_is_refused(tmp_path: Path) -> None:
    folder = make_config(tmp_path, '[fetch]\nuser_agent = "xoxb-123-456-abc"\n')
    message = config_error(folder)
    assert "fetch.user_agent" in message and "token" in message
    assert "xoxb-123" not in message


def test_duplicate_source_ids_name_both_entries(tmp_path: Path) -> None:
    sources = SOURCES.replace('id = "rp-pl"', 'id = "bbc-world"')
    folder = make_config(tmp_path, sources=sources)
    message = config_error(folder)
    assert str(folder / "sources.toml") in message
    assert 'sources[2].id "bbc-world" is used twice (first at sources[1].id)' in message


def test_the_same_feed_twice_is_refused(tmp_path: Path) -> None:
    sources = SOURCES.replace(
        "https://www.rp.pl/rss_main", "https://feeds.bbci.co.uk/news/world/rss.xml"
    )
    message = config_error(make_config(tmp_path, sources=sources))
    assert "sources[2].url" in message and "sources[1].url" in message


@pytest.mark.parametrize(
    ("old", "new", "key", "found"),
    [
        ("https://www.rp.pl/rss_main", "ftp://www.rp.pl/rss_main", "sources[2].url", "ftp://"),
        ("https://www.rp.pl/rss_main", "www.rp.pl/rss_main", "sources[2].url", "www.rp.pl"),
        ("https://www.rp.pl/rss_main", "https://", "sources[2].url", '"https://"'),
        ('id = "rp-pl"', 'id = "RP PL"', "sources[2].id", '"RP PL"'),
        ('id = "rp-pl"', 'id = "-rp"', "sources[2].id", '"-rp"'),
        ('language = "pl"', 'language = "polish!"', "sources[2].language", '"polish!"'),
        ('name = "BBC News"', "name = 7", "sources[1].name", "got 7"),
    ],
)
def test_bad_source_entries(tmp_path: Path, old: str, new: str, key: str, found: str) -> None:
    folder = make_config(tmp_path, sources=SOURCES.replace(old, new))
    message = config_error(folder)
    assert message.startswith(f"{folder / 'sources.toml'}: {key}")
    assert found in message


def test_missing_source_url_is_required(tmp_path: Path) -> None:
    sources = SOURCES.replace('url = "https://www.rp.pl/rss_main"\n', "")
    message = config_error(make_config(tmp_path, sources=sources))
    assert 'sources[2].url (source "rp-pl") is required' in message


def test_single_brackets_for_sources_are_explained(tmp_path: Path) -> None:
    sources = '[sources]\nid = "x"\nname = "X"\nurl = "https://x.example/feed"\n'
    message = config_error(make_config(tmp_path, sources=sources))
    assert "[[sources]]" in message and "two brackets" in message


def test_unknown_key_in_a_source_is_refused(tmp_path: Path) -> None:
    sources = SOURCES.replace('language = "pl"', 'lang = "pl"')
    message = config_error(make_config(tmp_path, sources=sources))
    assert "unknown key sources[2].lang" in message and "id, name, url, language" in message


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('id = "nato"', 'id = "NATO Alliance"', "topics[1].id"),
        ('id = "nato"', 'id = "*"', "topics[1].id"),
        ('aliases = ["nato", "otan"]', 'aliases = ["na*to"]', "topics[1].aliases[1]"),
        ('aliases = ["nato", "otan"]', 'aliases = "nato"', "topics[1].aliases"),
        ('terms = ["ukrain*", "kyiv"]', "terms = []", "story.terms"),
        ('id = "talks"', 'id = "The Talks"', "story.id"),
        ('description = "The alliance."\n', "", "topics[1].description"),
    ],
)
def test_bad_topics(tmp_path: Path, old: str, new: str, key: str) -> None:
    folder = make_config(tmp_path, topics=TOPICS.replace(old, new))
    message = config_error(folder)
    assert message.startswith(f"{folder / 'topics.toml'}: {key}")


def test_supporting_words_and_other_stories_are_optional_lists(tmp_path: Path) -> None:
    plain = load_story(make_config(tmp_path / "a", topics=TOPICS) / "topics.toml")
    assert plain.supporting == () and plain.other_stories == ()

    topics = TOPICS.replace(
        'terms = ["ukrain*", "kyiv"]\n',
        'terms = ["ukrain*", "kyiv"]\nsupporting = ["russia", "putin"]\n'
        'other_stories = ["venezuela", "maduro"]\n',
    )
    story = load_story(make_config(tmp_path / "b", topics=topics) / "topics.toml")
    assert story.supporting == ("russia", "putin")
    assert story.other_stories == ("venezuela", "maduro")


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ('supporting = "russia"', "story.supporting"),
        ('other_stories = ["ven*ezuela"]', "story.other_stories[1]"),
        ('supporting_terms = ["russia"]', "unknown key story.supporting_terms"),
    ],
)
def test_bad_supporting_or_other_stories(tmp_path: Path, line: str, key: str) -> None:
    topics = TOPICS.replace(
        'terms = ["ukrain*", "kyiv"]\n', f'terms = ["ukrain*", "kyiv"]\n{line}\n'
    )
    folder = make_config(tmp_path, topics=topics)
    message = config_error(folder)
    assert str(folder / "topics.toml") in message
    assert key in message


def test_duplicate_topic_ids_are_refused(tmp_path: Path) -> None:
    folder = make_config(tmp_path, topics=TOPICS.replace('id = "sanctions"', 'id = "nato"'))
    message = config_error(folder)
    assert str(folder / "topics.toml") in message
    assert 'topics[2].id "nato" is used twice' in message


def test_a_topics_file_without_story_is_refused(tmp_path: Path) -> None:
    topics = TOPICS.split("[[topics]]", 1)[1]
    message = config_error(make_config(tmp_path, topics="[[topics]]" + topics))
    assert "[story] is required" in message


@pytest.mark.parametrize(
    ("environ", "variable", "found"),
    [
        ({"SLACK_MODE": "websocket"}, "SLACK_MODE", '"websocket"'),
        ({"SLACK_HTTP_PORT": "eighty"}, "SLACK_HTTP_PORT", '"eighty"'),
        ({"SLACK_HTTP_PORT": "70000"}, "SLACK_HTTP_PORT", '"70000"'),
        ({"SLACK_API_URL": "slack.local"}, "SLACK_API_URL", 'got "slack.local"'),
        ({"OPENAI_BASE_URL": "file:///etc/passwd"}, "OPENAI_BASE_URL", '"file:///etc/passwd"'),
        ({"OPENAI_BASE_URL": "ftp://me:pw@host/"}, "OPENAI_BASE_URL", '"ftp://***@host/"'),
        ({"SLACK_HTTP_PORT": "３０００"}, "SLACK_HTTP_PORT", '"３０００"'),
        ({"DISCORD_TEST_GUILD": "my-guild"}, "DISCORD_TEST_GUILD", '"my-guild"'),
    ],
)
def test_bad_environment_values_name_the_variable(
    tmp_path: Path, environ: dict[str, str], variable: str, found: str
) -> None:
    message = config_error(make_config(tmp_path), environ=environ)
    assert message.startswith(f"environment variable {variable} must be ")
    assert found in message


def test_bad_value_in_dotenv_names_the_file(tmp_path: Path) -> None:
    folder = make_config(tmp_path, env="SLACK_MODE=sockets\n")
    message = config_error(folder)
    assert message.startswith(f"{folder / '.env'}: SLACK_MODE must be ")
    assert '"socket" or "http"' in message


def test_a_token_in_the_wrong_variable_is_refused_without_echoing_it(tmp_path: Path) -> None:
    environ = {"SLACK_APP_TOKEN": "xoxb-secret-bot-token"}
    message = config_error(make_config(tmp_path), environ=environ)
    assert "SLACK_APP_TOKEN" in message and "xapp-" in message
    assert "xoxb-secret" not in message


def test_malformed_dotenv_line_gives_its_number_but_not_its_text(tmp_path: Path) -> None:
    folder = make_config(tmp_path, env="# ok\nSLACK_BOT_TOKEN xoxb-hidden\n")
    message = config_error(folder)
    assert f"{folder / '.env'}: line 2" in message
    assert "xoxb-hidden" not in message


def test_a_misspelt_briefbot_variable_in_dotenv_is_caught(tmp_path: Path) -> None:
    message = config_error(make_config(tmp_path, env="BRIEFBOT_DATABASE=x.db\n"))
    assert "BRIEFBOT_DATABASE" in message and "BRIEFBOT_DB" in message


@pytest.mark.parametrize("value", [0, -3, float("nan")])
def test_bad_poll_interval_argument_names_the_option(tmp_path: Path, value: float) -> None:
    message = config_error(make_config(tmp_path), poll_interval=value)
    assert message.startswith("--poll-interval must be a number of seconds ≥ 1")


# --- the LLM's limits -------------------------------------------------------------------------


def test_the_llm_limits_have_defaults(tmp_path: Path) -> None:
    llm = load_settings(make_config(tmp_path), environ={"OPENAI_API_KEY": "sk-x"}).llm
    assert (llm.timeout, llm.max_retries, llm.daily_token_budget) == (30.0, 1, 200_000)
    assert (llm.breaker_failures, llm.breaker_cooldown) == (3, 600.0)


def test_the_llm_limits_are_read_from_bot_toml(tmp_path: Path) -> None:
    folder = make_config(
        tmp_path,
        "[llm]\ntimeout = 5\nmax_retries = 0\ndaily_token_budget = 5000\n"
        "breaker_failures = 2\nbreaker_cooldown = 60\n",
    )
    llm = load_settings(folder, environ={"OPENAI_API_KEY": "sk-x"}).llm
    assert (llm.timeout, llm.max_retries, llm.daily_token_budget) == (5.0, 0, 5000)
    assert (llm.breaker_failures, llm.breaker_cooldown) == (2, 60.0)
    assert "daily_token_budget=5000" in repr(llm)


@pytest.mark.parametrize(
    ("toml", "key", "found"),
    [
        ("[llm]\ntimeout = 0\n", "llm.timeout", "got 0"),
        ('[llm]\ntimeout = "30s"\n', "llm.timeout", 'got "30s"'),
        ("[llm]\nmax_retries = 9\n", "llm.max_retries", "got 9"),
        ("[llm]\ndaily_token_budget = -1\n", "llm.daily_token_budget", "got -1"),
        ("[llm]\ndaily_token_budget = 1.5\n", "llm.daily_token_budget", "got 1.5"),
        ("[llm]\nbreaker_failures = 0\n", "llm.breaker_failures", "got 0"),
        ("[llm]\nbreaker_cooldown = 0.5\n", "llm.breaker_cooldown", "got 0.5"),
    ],
)
def test_bad_llm_limits_are_refused(tmp_path: Path, toml: str, key: str, found: str) -> None:
    folder = make_config(tmp_path, toml)
    message = config_error(folder)
    assert message.startswith(f"{folder / 'bot.toml'}: {key} must be ")
    assert message.endswith(found)


def test_an_unknown_llm_key_names_the_valid_ones(tmp_path: Path) -> None:
    message = config_error(make_config(tmp_path, "[llm]\ntoken_budget = 5\n"))
    assert "llm.token_budget" in message and "daily_token_budget" in message


def test_the_off_switch_wins_over_a_key_and_an_endpoint(tmp_path: Path) -> None:
    folder = make_config(
        tmp_path, '[llm]\nenabled = false\nbase_url = "http://127.0.0.1:8080/v1"\n'
    )
    environ = {"OPENAI_API_KEY": "sk-x", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}
    assert load_settings(folder, environ=environ).llm.enabled is False


def test_a_pair_model_file_is_read_relative_to_the_config_folder(tmp_path: Path) -> None:
    from bot.novelty.pair import DEFAULT_PATH

    folder = make_config(tmp_path, '[novelty]\npair_model = "fold.json"\n')
    (folder / "fold.json").write_text(DEFAULT_PATH.read_text())
    settings = load_settings(folder, environ={})
    assert settings.pair_model == folder / "fold.json"


def test_a_topic_model_file_is_read_relative_to_the_config_folder(tmp_path: Path) -> None:
    from bot.topics.meaning import DEFAULT_PATH

    folder = make_config(tmp_path, '[novelty]\ntopic_model = "topics-fold.json"\n')
    (folder / "topics-fold.json").write_text(DEFAULT_PATH.read_text())
    assert load_settings(folder, environ={}).topic_model == folder / "topics-fold.json"
    (folder / "topics-fold.json").write_text('{"dimensions": 4, "topics": {"nato": 1}}')
    assert "topics-fold.json" in config_error(folder)


# --- Slack's and Discord's non-secret settings -----------------------------------------------


def test_chat_settings_come_from_bot_toml_and_the_environment_wins(tmp_path: Path) -> None:
    folder = make_config(
        tmp_path,
        '[slack]\nmode = "http"\nhttp_port = 8080\nmanage = "admins"\n'
        '[discord]\ntest_guild = "42"\nsharding = true\nmanage = ["111", "222"]\n',
    )
    settings = load_settings(folder, environ={})
    assert (settings.slack.mode, settings.slack.http_port) == ("http", 8080)
    assert settings.slack.manage.who == "admins"
    assert settings.discord.test_guild == "42" and settings.discord.sharding
    assert settings.discord.manage.users == frozenset({"111", "222"})
    env = {"SLACK_MODE": "socket", "SLACK_HTTP_PORT": "3100", "DISCORD_TEST_GUILD": "7"}
    overridden = load_settings(folder, environ=env)
    assert (overridden.slack.mode, overridden.slack.http_port) == ("socket", 3100)
    assert overridden.discord.test_guild == "7"
    defaults = load_settings(make_config(tmp_path / "d"), environ={})
    assert defaults.slack.manage.who == "anyone" and defaults.discord.manage.who == "managers"


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ('[slack]\nmode = "websocket"\n', "slack.mode"),
        ('[slack]\nmanage = "everyone"\n', "slack.manage"),
        ("[slack]\nhttp_port = 70000\n", "slack.http_port"),
        ('[discord]\ntest_guild = "my-server"\n', "discord.test_guild"),
        ("[discord]\nmanage = []\n", "discord.manage"),
    ],
)
def test_bad_chat_settings_are_refused_naming_the_key(tmp_path: Path, toml: str, key: str) -> None:
    message = config_error(make_config(tmp_path, toml))
    assert message.startswith(f"{tmp_path / 'config' / 'bot.toml'}: {key} must be ")
