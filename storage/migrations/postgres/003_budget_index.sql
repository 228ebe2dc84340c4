-- 003: as SQLite's 005: the operator's daily budget (issue 10) sums every image reserved or charged
-- today; this index lets that sum read only today's ledger rows.

CREATE INDEX usage_ledger_time ON usage_ledger (created_at) INCLUDE (reserved, charged);
