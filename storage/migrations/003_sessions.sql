-- 003: editing sessions (a thread around one image; its versions are the jobs with its session_id).
--
-- root_job_id and head_job_id deliberately have no foreign key: history can be deleted (by the user or
-- by retention) while the session and its thread live on; callers handle a missing head job.

CREATE TABLE sessions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: buttons carry session ids
    guild_id    BIGINT  NOT NULL,
    channel_id  BIGINT  NOT NULL,                   -- the channel the thread hangs off
    thread_id   BIGINT  NOT NULL UNIQUE,
    owner_id    BIGINT  NOT NULL,
    root_job_id BIGINT  NOT NULL UNIQUE,            -- one session per result
    head_job_id BIGINT  NOT NULL,
    head_index  INTEGER NOT NULL,
    locked      BOOLEAN NOT NULL DEFAULT FALSE,
    owner_pays  BOOLEAN NOT NULL DEFAULT FALSE,
    closed      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  BIGINT  NOT NULL
);

-- session_jobs(): the versions of a session.
CREATE INDEX jobs_session ON jobs (session_id, id) WHERE session_id IS NOT NULL;
