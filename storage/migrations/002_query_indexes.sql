-- 002: the indexes the hot queries need (chosen with benchmarks/bench_storage.py).
--
-- Partial indexes (WHERE ...) are standard in SQLite and PostgreSQL alike.

-- Limit checks in submit_job: covering, so the sums never touch the table.
CREATE INDEX usage_ledger_user_time ON usage_ledger (user_id, created_at, reserved, charged);
CREATE INDEX usage_ledger_guild_time ON usage_ledger (guild_id, created_at, reserved, charged);

-- The scheduler's queue scans (status IN ...) and "at most N jobs queued or running" per requester
-- (status IN ('queued', 'running') AND user_id = ?): one index serves both.
CREATE INDEX jobs_status_user ON jobs (status, user_id);

-- History (newest first), the admin view, retention and restart re-delivery.
CREATE INDEX jobs_user_id ON jobs (user_id, id);
CREATE INDEX jobs_guild_id ON jobs (guild_id, id);
CREATE INDEX jobs_finished_at ON jobs (finished_at) WHERE finished_at IS NOT NULL;

-- Foreign-key child lookups: without them every deleted job scans the whole table.
CREATE INDEX jobs_parent ON jobs (parent_job_id) WHERE parent_job_id IS NOT NULL;

-- "Is this file still referenced?" before deleting it.
CREATE INDEX job_images_sha ON job_images (sha) WHERE sha IS NOT NULL;

-- "Edit image" on a posted result finds its job by message id.
CREATE INDEX jobs_result_message ON jobs (result_message_id) WHERE result_message_id IS NOT NULL;

CREATE INDEX audit_log_guild ON audit_log (guild_id, id);
