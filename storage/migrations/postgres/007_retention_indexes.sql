-- 007: retention prunes settled usage in small batches, oldest first; this index lets each batch read
-- only the rows it deletes (as SQLite's 009).
CREATE INDEX usage_ledger_settled ON usage_ledger (created_at) WHERE reserved = 0;
