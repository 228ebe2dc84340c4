from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.limits import RESULT_DOWNLOAD_TIMEOUT_S
from bot.options import ApiShape, AuthScheme, LegacyModel
from bot.settings import Settings

KEY = "sk-test-abcdef0123456789"
TOKEN = "MTIzNDU2Nzg5.bot-token.secretpart"


def test_defaults() -> None:
    s = Settings.from_mapping({})
    assert s.ideogram_api is ApiShape.V3
    assert s.edit_url == "https://api.ideogram.ai/v1/ideogram-v3/edit"
    assert s.ideogram_auth is AuthScheme.API_KEY
    assert s.max_images_in_flight == 8
    assert s.database_path == Path("data/bot.sqlite3")
    assert s.problems(need_discord=True, need_api=True) == [
        "DISCORD_TOKEN is not set: the bot token from the Developer Portal.",
        "IDEOGRAM_API_KEY is not set: the key for the image API.",
    ]


def test_legacy_shape_defaults_its_path() -> None:
    s = Settings.from_mapping({"IDEOGRAM_API": "legacy", "IDEOGRAM_MODEL": "v_2"})
    assert s.ideogram_edit_path == "/edit"
    assert s.ideogram_model is LegacyModel.V_2


@pytest.mark.parametrize(
    ("name", "value", "accepted"),
    [
        ("IDEOGRAM_API", "v4", "v3 or legacy"),
        ("IDEOGRAM_AUTH", "basic", "api-key or bearer"),
        ("IDEOGRAM_MODEL", "V_3", "V_2 or V_2_TURBO"),
        ("MAX_IMAGES_IN_FLIGHT", "0", "a whole number from 1 to 64"),
        ("IDEOGRAM_TIMEOUT_S", "soon", "seconds between 1 and 3600"),
        ("IDEOGRAM_BASE_URL", "api.ideogram.ai", "an http(s):// URL"),
        ("IDEOGRAM_EDIT_PATH", "edit", "a path starting with /"),
        ("USER_DAILY_IMAGES", "-1", "a whole number from 0 to 1000000"),
        ("USER_WINDOW_MINUTES", "0", "a whole number from 1 to 1000000"),
    ],
)
def test_invalid_values_name_the_variable(name: str, value: str, accepted: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_mapping({name: value})
    assert info.value.user_message == f"{name} is invalid: expected {accepted}."


@pytest.mark.parametrize("value", ["123456789012345678", "80351110224678912", "1234567890123456789"])
def test_dev_guild_id_accepts_real_snowflakes(value: str) -> None:
    # the README's own example is an 18-digit id; every real server id has 17–19 digits
    assert Settings.from_mapping({"DEV_GUILD_ID": value}).dev_guild_id == int(value)


@pytest.mark.parametrize("value", ["0", "-5", "guild", str(2**64)])
def test_dev_guild_id_refuses_non_ids(value: str) -> None:
    with pytest.raises(ConfigError, match="DEV_GUILD_ID is invalid"):
        Settings.from_mapping({"DEV_GUILD_ID": value})


def test_task_path_needs_placeholder() -> None:
    with pytest.raises(ConfigError, match=r"IDEOGRAM_TASK_PATH.*\{task_id\}"):
        Settings.from_mapping({"IDEOGRAM_TASK_PATH": "/ideogram/task"})


def test_env_file_is_read_and_environment_wins(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text(f'IDEOGRAM_API_KEY="{KEY}"\nIDEOGRAM_AUTH=bearer\nMAX_IMAGES_IN_FLIGHT=4\n')
    s = Settings.load({"MAX_IMAGES_IN_FLIGHT": "6"}, env_file=env)
    assert s.ideogram_api_key.reveal() == KEY
    assert s.ideogram_auth is AuthScheme.BEARER
    assert s.max_images_in_flight == 6


def test_secrets_never_appear_in_reprs_logs_or_errors(caplog: pytest.LogCaptureFixture) -> None:
    s = Settings.from_mapping({"IDEOGRAM_API_KEY": KEY, "DISCORD_TOKEN": TOKEN})
    caplog.set_level(logging.DEBUG)
    logging.getLogger("test").info("settings: %s %r", s, s)
    texts = [repr(s), str(s), f"{s.ideogram_api_key}", str(s.discord_token), caplog.text]
    for text in texts:
        assert KEY not in text and TOKEN not in text
    assert s.ideogram_api_key.reveal() == KEY
    # a secret pasted into the wrong variable is not echoed back in the error
    with pytest.raises(ConfigError) as info:
        Settings.from_mapping({"MAX_IMAGES_IN_FLIGHT": KEY})
    assert KEY not in str(info.value) and KEY not in repr(info.value)


def test_shutdown_grace_covers_the_api_timeout_by_default() -> None:
    """SIGTERM must not cut off a call that was sent (the re-run would be billed again)."""
    default = Settings.from_mapping({})
    assert default.shutdown_grace_s >= default.ideogram_timeout_s + RESULT_DOWNLOAD_TIMEOUT_S
    assert Settings().shutdown_grace_s == default.shutdown_grace_s
    slow = Settings.from_mapping({"IDEOGRAM_TIMEOUT_S": "600"})
    assert slow.shutdown_grace_s >= 600 + RESULT_DOWNLOAD_TIMEOUT_S
    assert Settings.from_mapping({"SHUTDOWN_GRACE_S": "12"}).shutdown_grace_s == 12.0


@pytest.mark.parametrize(("raw", "expected"), [("true", True), ("1", True), ("FALSE", False), ("no", False)])
def test_retry_maybe_billed_is_an_opt_in(raw: str, expected: bool) -> None:
    assert Settings.from_mapping({}).ideogram_retry_maybe_billed is False
    assert Settings.from_mapping({"IDEOGRAM_RETRY_MAYBE_BILLED": raw}).ideogram_retry_maybe_billed is expected
    with pytest.raises(ConfigError, match="IDEOGRAM_RETRY_MAYBE_BILLED is invalid: expected true or false"):
        Settings.from_mapping({"IDEOGRAM_RETRY_MAYBE_BILLED": "maybe"})


def test_several_processes_settings() -> None:
    s = Settings.from_mapping(
        {"RUN_WORKER": "false", "WORKER_ID": "w7", "SHARD_COUNT": "4", "SHARD_IDS": "1, 3", "WORKER_MAX_IMAGES": "2"}
    )
    assert (s.run_worker, s.owner("worker"), s.shard_count, s.shard_ids, s.worker_max_images) == (
        False,
        "w7",
        4,
        (1, 3),
        2,
    )
    default = Settings.from_mapping({})
    assert default.run_worker and default.shard_count is None and default.job_lease_s == 30.0
    assert default.owner("gateway") != default.owner("worker")  # a gateway and a worker on one host differ


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SHARD_IDS": "0"}, "SHARD_IDS is invalid: it needs SHARD_COUNT, and every id must be below it."),
        (
            {"SHARD_COUNT": "2", "SHARD_IDS": "2"},
            "SHARD_IDS is invalid: it needs SHARD_COUNT, and every id must be below it.",
        ),
        (
            {"SHARD_COUNT": "2", "SHARD_IDS": "a"},
            "SHARD_IDS is invalid: expected shard numbers separated by commas, e.g. 0,1.",
        ),
        ({"RUN_WORKER": "maybe"}, "RUN_WORKER is invalid: expected true or false."),
    ],
)
def test_invalid_process_settings(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_mapping(env)
    assert info.value.user_message == message


def test_shards_build_the_sharded_client() -> None:
    import discord

    from bot.app import RunMode, build_bot

    sharded = build_bot(Settings.from_mapping({"SHARD_COUNT": "4", "SHARD_IDS": "2,3"}))
    assert isinstance(sharded, discord.AutoShardedClient)
    assert (sharded.shard_count, tuple(sharded.shard_ids)) == (4, (2, 3))
    plain = build_bot(Settings.from_mapping({"SHARD_COUNT": "4"}), mode=RunMode.WORKER)
    assert not isinstance(plain, discord.AutoShardedClient)  # a worker has no gateway to shard
    assert plain.runs_queue
    assert not build_bot(Settings.from_mapping({"RUN_WORKER": "false"})).runs_queue
