"""``/limits show``'s audit lines: values stored in one language-free form, shown in the reader's."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.store import AuditAction, AuditEntry, AuditValue, RoleLimits
from cogs.admin import audit_value
from tests.ids import GUILD, ROLE, USERS

AT = datetime(2030, 5, 17, 12, 0, tzinfo=UTC)


def entry(action: AuditAction, old: AuditValue | None, new: AuditValue | None) -> AuditEntry:
    return AuditEntry(GUILD, USERS[1], action.text, old and old.text, new and new.text, AT)


def shown(e: AuditEntry, locale: str) -> str:
    return " → ".join(audit_value(value, locale) for value in e.values)


def test_limit_changes_read_back_in_the_readers_language() -> None:
    change = entry(AuditAction(limit="daily_images"), AuditValue.of_limit(None), AuditValue.of_limit(7))
    assert (change.old_value, change.new_value) == ("default", "7")  # what is stored: language-free
    assert shown(change, "en-US") == "default → 7"
    assert shown(change, "zh-CN") == "默认 → 7"


def test_role_changes_read_back_in_the_readers_language() -> None:
    role = RoleLimits(ROLE, window_images=20, max_active_jobs=4)
    added = entry(AuditAction(role_id=ROLE), AuditValue.of_role(None), AuditValue.of_role(role))
    assert added.new_value == "window_images=20, max_active_jobs=4"
    assert added.values[1] == AuditValue.of_role(role)  # the role comes back whole, its id from the action
    assert shown(added, "en-US") == "no overrides → window 20, at once 4"
    assert shown(added, "zh-CN") == "没有覆盖设置 → 时段 20, 同时 4"
    exempt = RoleLimits(ROLE, daily_images=0, exempt=True)
    removed = entry(AuditAction(role_id=ROLE, removed=True), AuditValue.of_role(exempt), None)
    assert removed.old_value == "daily_images=0, exempt"
    assert shown(removed, "en-US") == "exempt from per-user limits → —"


def test_a_value_this_version_did_not_write_is_shown_as_it_is_and_harmless() -> None:
    odd = AuditEntry(GUILD, USERS[1], "set daily_images", "**bold** <@123456789012345678>", None, AT)
    assert shown(odd, "en-US") == "\\*\\*bold\\*\\* <@\u200b123456789012345678> → —"
