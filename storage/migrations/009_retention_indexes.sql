-- 009: retention prunes settled usage in small batches, oldest first; this index lets each batch read
-- only the rows it deletes (without it, every batch scans the whole ledger while holding the writer).
CREATE INDEX usage_ledger_settled ON usage_ledger (created_at) WHERE reserved = 0;
