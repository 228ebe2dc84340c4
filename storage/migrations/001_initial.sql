-- 001: the tables. Applied in one transaction by storage/sqlite.py and recorded in schema_migrations.
--
-- Portable on purpose: BIGINT ids (Discord snowflakes are 64-bit), times as BIGINT epoch milliseconds
-- in UTC, booleans as BOOLEAN (0/1 in SQLite), JSON as TEXT. SQLite-specific, each for a reason:
-- "INTEGER PRIMARY KEY [AUTOINCREMENT]" (the rowid; PostgreSQL: an identity column) and
-- "WITHOUT ROWID" (one B-tree instead of two for a table keyed by its primary key; PostgreSQL: drop it).

-- AUTOINCREMENT: a job id is never reused, even after the newest job is deleted, so an old button
-- or message that names job #N can never reach a different job (and its ledger row stays unique).
CREATE TABLE jobs (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id             BIGINT  NOT NULL,           -- the requester
    guild_id            BIGINT,                     -- NULL in DMs
    channel_id          BIGINT,
    thread_id           BIGINT,
    parent_job_id       BIGINT REFERENCES jobs (id) ON DELETE SET NULL,
    session_id          BIGINT,
    action              TEXT    NOT NULL,
    prompt              TEXT    NOT NULL,
    prompt_folded       TEXT    NOT NULL,           -- casefold(prompt): Unicode-correct history search
    options             TEXT    NOT NULL,           -- JSON (EditOptions.to_json())
    seed                BIGINT,
    status              TEXT    NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    attempts            INTEGER NOT NULL DEFAULT 0,
    error_code          TEXT,
    error_message       TEXT,
    images_requested    INTEGER NOT NULL CHECK (images_requested > 0),
    images_delivered    INTEGER NOT NULL DEFAULT 0,
    images_withheld     INTEGER NOT NULL DEFAULT 0,
    payer_user_id       BIGINT  NOT NULL,
    private             BOOLEAN NOT NULL DEFAULT FALSE,
    reply_token         TEXT,
    created_at          BIGINT  NOT NULL,
    started_at          BIGINT,
    finished_at         BIGINT,
    progress_channel_id BIGINT,
    progress_message_id BIGINT,
    result_channel_id   BIGINT,
    result_message_id   BIGINT
);

-- Every image a job uses or produced. ``sha`` names a file under DATA_DIR/images; it is NULL for an
-- output the safety filter withheld. A file is deleted only when no row references it any more.
CREATE TABLE job_images (
    job_id      BIGINT  NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    kind        TEXT    NOT NULL CHECK (kind IN ('input', 'mask', 'output')),
    idx         INTEGER NOT NULL,
    sha         TEXT,
    seed        BIGINT,
    is_safe     BOOLEAN NOT NULL DEFAULT TRUE,
    prompt_used TEXT,
    resolution  TEXT,
    width       INTEGER,
    height      INTEGER,
    mime        TEXT,
    PRIMARY KEY (job_id, kind, idx)
) WITHOUT ROWID;

-- One row per job: images reserved at submission, then charged (success, or a failure the user
-- caused) or released (refund). Limits sum reserved + charged by reservation time. The row outlives
-- its job on purpose (no foreign key), so deleting history never resets a quota; cleanup() prunes it.
CREATE TABLE usage_ledger (
    job_id     INTEGER PRIMARY KEY,                 -- the job's id (never reused), even once it is deleted
    user_id    BIGINT  NOT NULL,                    -- the payer
    guild_id   BIGINT,                              -- NULL in DMs
    reserved   INTEGER NOT NULL CHECK (reserved >= 0),
    charged    INTEGER NOT NULL DEFAULT 0 CHECK (charged >= 0),
    created_at BIGINT  NOT NULL,                    -- reservation time: the window and the day count from here
    settled_at BIGINT
);

-- Per-guild overrides of the bot-wide limits; NULL = use the default from settings.
CREATE TABLE guild_settings (
    guild_id           BIGINT PRIMARY KEY,
    window_images      INTEGER,
    window_minutes     INTEGER,
    daily_images       INTEGER,
    max_active_jobs    INTEGER,
    guild_daily_images INTEGER,
    updated_at         BIGINT NOT NULL
);

CREATE TABLE role_limits (
    guild_id        BIGINT  NOT NULL,
    role_id         BIGINT  NOT NULL,
    window_images   INTEGER,
    daily_images    INTEGER,
    max_active_jobs INTEGER,
    exempt          BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at      BIGINT  NOT NULL,
    PRIMARY KEY (guild_id, role_id)
);

CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY,
    guild_id   BIGINT NOT NULL,
    actor_id   BIGINT NOT NULL,
    action     TEXT   NOT NULL,
    old_value  TEXT,
    new_value  TEXT,
    created_at BIGINT NOT NULL
);
