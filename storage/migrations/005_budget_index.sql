-- 005: the operator's daily budget (issue 10) sums every image reserved or charged today, whoever and
-- wherever; this index lets that sum read only today's ledger rows (and only the index).

CREATE INDEX usage_ledger_time ON usage_ledger (created_at, reserved, charged);
