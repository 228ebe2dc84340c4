"""Contract: whose language (issue 13) is stored with jobs, sessions and drafts on every backend, so a
result posted later, after a restart or by another process, is in the language its server reads."""

from __future__ import annotations

from dataclasses import replace

from bot.store import Requester, Storage
from tests.storage.test_contract_drafts import new_draft
from tests.storage.test_contract_sessions import open_session
from tests.storage_support import T0, UNLIMITED, cid, finish, gid, new_job, submit, uid


async def test_a_job_keeps_the_members_and_the_servers_locale(backend: Storage) -> None:
    job = await new_job(backend, user=uid(3), guild=gid(11))
    job = replace(job, requester=replace(job.requester, locale="zh-CN", guild_locale="en-US"))
    stored = await backend.submit_job(job, UNLIMITED, T0)
    assert (stored.requester.locale, stored.requester.guild_locale) == ("zh-CN", "en-US")
    again = await backend.get_job(stored.id)
    assert again is not None and again.requester == stored.requester
    assert (again.requester.locale, again.requester.guild_locale) == ("zh-CN", "en-US")


async def test_a_job_without_locales_is_english(backend: Storage) -> None:
    job = await submit(backend)
    assert (job.requester.locale, job.requester.guild_locale) == ("en-US", "en-US")
    assert (await backend.get_job(job.id)).requester.guild_locale == "en-US"


async def test_a_session_takes_its_root_jobs_server_locale(backend: Storage) -> None:
    chinese = await new_job(backend)
    chinese = replace(chinese, requester=replace(chinese.requester, guild_locale="zh-CN"))
    root = await finish(backend, await backend.submit_job(chinese, UNLIMITED, T0))
    session = await open_session(backend, root.id)
    assert session.guild_locale == "zh-CN"
    assert (await backend.get_session(session.id)).guild_locale == "zh-CN"
    plain = await finish(backend, await submit(backend))
    assert (await open_session(backend, plain.id, thread_id=cid(905))).guild_locale == "en-US"


async def test_a_draft_keeps_both_locales(backend: Storage) -> None:
    requester = Requester(uid(4), gid(12), cid(100), None, locale="zh-CN", guild_locale="en-GB")
    draft = await backend.create_draft(new_draft(requester=requester))
    assert draft.requester == requester
    assert (await backend.get_draft(draft.id)).requester == requester
