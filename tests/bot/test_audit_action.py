"""The audit log's action vocabulary is written and read in one place (``bot.store.AuditAction``)."""

from __future__ import annotations

import pytest

from bot.store import AuditAction
from tests.ids import ROLES


@pytest.mark.parametrize(
    "action",
    [AuditAction(limit="daily_images"), AuditAction(role_id=ROLES[3]), AuditAction(role_id=ROLES[3], removed=True)],
)
def test_every_action_reads_back_as_written(action: AuditAction) -> None:
    assert AuditAction.parse(action.text) == action


def test_an_unknown_action_is_kept_as_text() -> None:
    assert AuditAction.parse("something older").limit == "something older"
