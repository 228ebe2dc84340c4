"""Operator controls in the core (issue 10): the settings, the bot's daily budget in the limit rules,
the ceilings on what server admins may set, where edits may happen, and "owner pays" charging the owner
while each editor keeps their own limits and exemptions."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.access import Actor
from bot.errors import ConfigError, Forbidden, InputError, QuotaExceeded
from bot.jobs import JobService, Origin
from bot.limits import ADMIN_CEILINGS, LIMITS
from bot.limits_service import LimitsService
from bot.quota import Usage, check_submission, refusal_for_payer, resolve_limits
from bot.service import EditService
from bot.sessions import SessionService
from bot.settings import LimitDefaults, Settings
from bot.store import GuildConfig, JobAction, Requester, RoleLimits, Session
from cogs.text import render
from storage.sqlite import SqliteStorage
from tests.bot.test_cli import run_cli
from tests.bot.test_core_services import StubScheduler, submit
from tests.storage_support import Clock, finish, make_storage

GUILD_A, GUILD_B = 1083542166512746496, 1174229812345678901
CHANNEL_A, THREAD_A = 1083542167028498432, 1083542169876543210
OWNER, BOB, MOD = 412345678901234567, 523456789012345678, 634567890123456789
EXEMPT_ROLE, GENEROUS_ROLE = 1190203040506070809, 1190203040506070810
MOD_A = Actor(MOD, GUILD_A, CHANNEL_A, manage_guild=True)
NOW = datetime(2030, 5, 17, 12, 0, tzinfo=UTC)
README = Path(__file__).resolve().parents[2] / "README.md"


# --- settings --------------------------------------------------------------------------------------


def test_defaults_serve_every_server_refuse_dms_and_cap_the_bot() -> None:
    settings = Settings.from_mapping({})
    assert settings.allowed_guild_ids is None and settings.serves(GUILD_B)
    assert (settings.daily_image_budget, settings.allow_dms) == (500, False)
    assert (settings.max_user_daily_images, settings.max_guild_daily_images) == (100, 1000)
    assert settings.admin_ceiling("daily_images") == 100 and settings.admin_ceiling("guild_daily_images") == 1000
    assert settings.admin_ceiling("window_minutes") is None


def test_allowed_guild_ids_are_snowflakes_separated_by_commas() -> None:
    settings = Settings.from_mapping({"ALLOWED_GUILD_IDS": f" {GUILD_A} ,{GUILD_B},", "ALLOW_DMS": "true"})
    assert settings.allowed_guild_ids == {GUILD_A, GUILD_B} and settings.allow_dms
    only_a = Settings.from_mapping({"ALLOWED_GUILD_IDS": str(GUILD_A)})
    assert only_a.serves(GUILD_A) and not only_a.serves(GUILD_B) and only_a.serves(None)
    for bad in ("abc", "12,x", ",", "-5", str(2**63)):
        with pytest.raises(ConfigError, match="ALLOWED_GUILD_IDS is invalid: expected Discord server ids"):
            Settings.from_mapping({"ALLOWED_GUILD_IDS": bad})


@pytest.mark.parametrize("name", ["DAILY_IMAGE_BUDGET", "MAX_USER_DAILY_IMAGES", "MAX_GUILD_DAILY_IMAGES"])
def test_budget_and_ceilings_are_whole_numbers(name: str) -> None:
    assert getattr(Settings.from_mapping({name: "0"}), name.lower()) == 0
    for bad in ("-1", "many", "2000000"):
        with pytest.raises(ConfigError, match=f"{name} is invalid: expected a whole number"):
            Settings.from_mapping({name: bad})


def test_the_dev_guild_must_be_an_allowed_one() -> None:
    with pytest.raises(ConfigError, match="DEV_GUILD_ID is not in ALLOWED_GUILD_IDS"):
        Settings.from_mapping({"ALLOWED_GUILD_IDS": str(GUILD_A), "DEV_GUILD_ID": str(GUILD_B)})
    Settings.from_mapping({"ALLOWED_GUILD_IDS": f"{GUILD_A},{GUILD_B}", "DEV_GUILD_ID": str(GUILD_B)})


def readme_first_run_env() -> str:
    first_run = re.search(r"4\. \*\*First run\.\*\*.*?```sh\n(.*?)```", README.read_text(), re.S)
    assert first_run is not None
    return "\n".join(line.strip() for line in first_run.group(1).splitlines())


def test_the_readme_documents_every_operator_setting_and_its_example_values_load() -> None:
    text = README.read_text()
    for name in ("ALLOWED_GUILD_IDS", "DAILY_IMAGE_BUDGET", "MAX_USER_DAILY_IMAGES", "MAX_GUILD_DAILY_IMAGES"):
        assert f"| `{name}` |" in text, name
    assert "| `ALLOW_DMS` |" in text and "Public Bot" in text
    env = {}
    for line in readme_first_run_env().splitlines():
        key, _, value = line.partition("=")
        env[key] = value.split("#")[0].strip()
    settings = Settings.from_mapping(env)
    assert settings.allowed_guild_ids and settings.dev_guild_id in settings.allowed_guild_ids


async def test_python_m_bot_check_accepts_the_readmes_env_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(readme_first_run_env())
    run = await run_cli("check", cwd=tmp_path)
    assert run.code == 0, run.output
    assert "Settings OK." in run.stdout and "Servers served: only 123456789012345678" in run.stdout


def test_every_ceiling_named_by_the_limit_spec_is_a_setting() -> None:
    named = {spec.admin_max for spec in LIMITS if spec.admin_max}
    assert named == set(ADMIN_CEILINGS)
    for name, default in ADMIN_CEILINGS.items():
        assert getattr(Settings(), name) == default


# --- the bot's budget in the limit rules ---------------------------------------------------------------


def test_exempt_roles_are_not_exempt_from_the_budget_and_payers_do_not_own_it() -> None:
    limits = resolve_limits(LimitDefaults(), None, (), budget=10)
    exempt = replace(limits, exempt=True)
    usage = Usage(window_used=0, daily_used=0, active_jobs=0, guild_daily_used=0, bot_daily_used=9)
    refusal = check_submission(exempt, usage, 2, NOW, list)
    assert refusal is not None and refusal.limit == "bot_daily"
    assert "This bot has used 9 of its daily budget of 10 images" in render(refusal.message)
    assert refusal_for_payer(refusal, payer_user_id=OWNER, requester_user_id=BOB) is refusal  # nobody's own
    too_big = check_submission(exempt, replace(usage, bot_daily_used=0), 11, NOW, list)
    assert too_big is not None and "the bot's daily budget is 10" in render(too_big.message)
    assert check_submission(exempt, replace(usage, bot_daily_used=8), 2, NOW, list) is None


def test_the_operators_ceilings_cap_what_a_server_stored_and_bind_exempt_members() -> None:
    """Values stored before a ceiling was lowered, and an exempt role, cannot go past the operator's
    ceilings: they are applied when the limits are resolved, not only when an admin sets one."""
    exempt_role = RoleLimits(EXEMPT_ROLE, exempt=True)
    stored = GuildConfig(GUILD_A, daily_images=500, guild_daily_images=5000, roles=(exempt_role,))
    ceilings = Settings(max_user_daily_images=40, max_guild_daily_images=300).admin_ceilings
    limits = resolve_limits(LimitDefaults(), stored, (), ceilings=ceilings)
    assert (limits.daily_images, limits.guild_daily_images, limits.daily_ceiling) == (40, 300, 40)
    exempt = resolve_limits(LimitDefaults(), stored, (EXEMPT_ROLE,), ceilings=ceilings)
    assert exempt.exempt
    usage = Usage(window_used=99, daily_used=39, active_jobs=99, guild_daily_used=0)
    assert check_submission(exempt, usage, 1, NOW, list) is None  # window and active jobs lifted
    refusal = check_submission(exempt, replace(usage, daily_used=40), 1, NOW, list)
    assert refusal is not None and refusal.limit == "daily"  # the operator's per-user ceiling is not
    assert resolve_limits(LimitDefaults(), stored, (EXEMPT_ROLE,)).daily_ceiling is None  # no ceilings: as before


# --- the services ------------------------------------------------------------------------------------------


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[SqliteStorage]:
    async with make_storage(tmp_path, Clock()) as opened:
        yield opened


async def test_admins_cannot_set_limits_above_the_operators_ceilings(storage: SqliteStorage) -> None:
    service = LimitsService(Settings(max_user_daily_images=40, max_guild_daily_images=300), storage)
    with pytest.raises(InputError) as caught:
        await service.set(MOD_A, "guild_daily_images", 100_000)
    text = render(caught.value.message)
    assert "Images for the whole server per day can be at most 300" in text and "MAX_GUILD_DAILY_IMAGES" in text
    with pytest.raises(InputError, match="MAX_USER_DAILY_IMAGES"):
        await service.set(MOD_A, "daily_images", 41)
    with pytest.raises(InputError, match="at most 40"):
        await service.set_role(MOD_A, GENEROUS_ROLE, daily_images=1000)
    config = await storage.guild_config(GUILD_A)
    assert (config.guild_daily_images, config.daily_images, config.roles) == (None, None, ())
    assert await storage.audit_log(GUILD_A) == []  # nothing was changed, so nothing was audited
    assert (await service.set(MOD_A, "guild_daily_images", 300)).config.guild_daily_images == 300
    assert (await service.set(MOD_A, "daily_images", 40)).config.daily_images == 40
    assert (await service.set_role(MOD_A, GENEROUS_ROLE, daily_images=40)).config.roles[0].daily_images == 40
    assert (await service.set(MOD_A, "window_images", 5000)).config.window_images == 5000  # no ceiling


def jobs_service(tmp_path: Path, storage: SqliteStorage, **settings: object) -> JobService:
    config = Settings(data_dir=tmp_path, **settings)  # type: ignore[arg-type]
    return JobService(config, storage, EditService(config, None), StubScheduler())  # type: ignore[arg-type]


async def test_edits_in_dms_are_refused_unless_allowed_and_count_against_the_budget(
    tmp_path: Path, storage: SqliteStorage
) -> None:
    dm = Origin(Requester(BOB, None, 1083542167000000001))
    with pytest.raises(Forbidden) as caught:
        await jobs_service(tmp_path, storage).precheck(dm, 1)
    assert "not available in direct messages" in render(caught.value.message)
    allowed = jobs_service(tmp_path, storage, allow_dms=True, daily_image_budget=1)
    await allowed.precheck(dm, 1)
    limits = await allowed.limits_for(dm.requester, ())
    assert limits.bot_daily_images == 1 and limits.daily_images == LimitDefaults().user_daily_images
    await submit(storage, OWNER, GUILD_A)  # one image elsewhere spends the whole bot's budget
    with pytest.raises(QuotaExceeded) as refused:
        await allowed.precheck(dm, 1)
    assert refused.value.limit == "bot_daily"


async def test_jobs_from_servers_the_bot_does_not_serve_are_refused(tmp_path: Path, storage: SqliteStorage) -> None:
    service = jobs_service(tmp_path, storage, allowed_guild_ids=frozenset({GUILD_A}))
    with pytest.raises(Forbidden) as caught:
        await service.precheck(Origin(Requester(BOB, GUILD_B, 1174229812987654321)), 1)
    assert "not available in this server" in render(caught.value.message)
    await service.precheck(Origin(Requester(BOB, GUILD_A, CHANNEL_A)), 1)


# --- owner pays: the owner is charged, the editor keeps their own limits ------------------------------------


def session(owner_pays: bool = True) -> Session:
    return Session(1, GUILD_A, CHANNEL_A, THREAD_A, OWNER, 1, 1, 0, False, owner_pays, False, NOW)


async def test_the_job_service_resolves_limits_with_the_operators_ceilings(
    tmp_path: Path, storage: SqliteStorage
) -> None:
    await storage.update_guild_config(GUILD_A, MOD, daily_images=90)  # stored when the ceiling was higher
    await storage.set_role_limits(GUILD_A, MOD, RoleLimits(EXEMPT_ROLE, exempt=True), EXEMPT_ROLE)
    service = jobs_service(tmp_path, storage, max_user_daily_images=7)
    limits = await service.limits_for(Requester(BOB, GUILD_A, CHANNEL_A), (EXEMPT_ROLE,))
    assert limits.exempt and (limits.daily_images, limits.daily_ceiling) == (7, 7)
    dm = await service.limits_for(Requester(BOB, None, CHANNEL_A), ())
    assert dm.daily_ceiling == 7


async def test_an_exempt_owner_does_not_exempt_the_editors_of_a_session_they_pay_for(
    tmp_path: Path, storage: SqliteStorage
) -> None:
    await storage.set_role_limits(GUILD_A, MOD, RoleLimits(EXEMPT_ROLE, exempt=True), EXEMPT_ROLE)
    service = jobs_service(tmp_path, storage, limits=LimitDefaults(user_daily_images=1, user_max_active_jobs=1))
    parent = await finish(storage, await submit(storage, OWNER, GUILD_A))  # the owner's v1: 1 image today
    bob = Origin(Requester(BOB, GUILD_A, CHANNEL_A, THREAD_A), role_ids=(GENEROUS_ROLE,))
    paid = SessionService.origin_for(bob, session())
    assert paid.payer_user_id == OWNER and paid.role_ids == (GENEROUS_ROLE,)  # bob's roles, not the owner's
    with pytest.raises(QuotaExceeded) as caught:  # bob's own daily limit (1) against the owner's usage (1)
        await service.submit_followup(paid, parent, JobAction.REROLL)
    assert caught.value.limit == "daily" and f"<@{OWNER}>" in render(caught.value.message)

    owner_exempt = Origin(Requester(OWNER, GUILD_A, CHANNEL_A, THREAD_A), role_ids=(EXEMPT_ROLE,))
    await service.submit_followup(SessionService.origin_for(owner_exempt, session()), parent, JobAction.REROLL)


async def test_editors_keep_their_own_exemption_and_their_own_active_job_limit(
    tmp_path: Path, storage: SqliteStorage
) -> None:
    await storage.set_role_limits(GUILD_A, MOD, RoleLimits(EXEMPT_ROLE, exempt=True), EXEMPT_ROLE)
    await storage.set_role_limits(GUILD_A, MOD, RoleLimits(GENEROUS_ROLE, max_active_jobs=2), GENEROUS_ROLE)
    service = jobs_service(tmp_path, storage, limits=LimitDefaults(user_daily_images=1, user_max_active_jobs=1))
    parent = await finish(storage, await submit(storage, OWNER, GUILD_A))
    exempt_bob = Origin(Requester(BOB, GUILD_A, CHANNEL_A, THREAD_A), role_ids=(EXEMPT_ROLE,))
    for _ in range(3):  # bob's own exemption: charged to the owner past the owner's daily limit
        job = (
            await service.submit_followup(SessionService.origin_for(exempt_bob, session()), parent, JobAction.REROLL)
        ).job
        assert job.payer_user_id == OWNER and job.requester.user_id == BOB

    carol = 745678901234567890
    roomy = LimitDefaults(user_window_images=100, user_daily_images=100, user_max_active_jobs=1)
    service = jobs_service(tmp_path, storage, limits=roomy)
    generous = Origin(Requester(carol, GUILD_A, CHANNEL_A, THREAD_A), role_ids=(GENEROUS_ROLE,))
    for _ in range(2):  # carol's own role: two at once, whatever the owner's roles say
        await service.submit_followup(SessionService.origin_for(generous, session()), parent, JobAction.REROLL)
    with pytest.raises(QuotaExceeded) as caught:
        await service.submit_followup(SessionService.origin_for(generous, session()), parent, JobAction.REROLL)
    assert caught.value.limit == "active" and "2 edits queued or running" in render(caught.value.message)
