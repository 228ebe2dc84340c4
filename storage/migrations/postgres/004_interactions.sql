-- 004: acknowledged interactions (issue 10), as SQLite's 006: recorded when a command is deferred, before any download.
--
-- A restart answers each one whose 15-minute token still lives: "interrupted" when it never became a
-- job, the job's final state otherwise. ``job_id`` is set once the job is saved; a crash between the
-- two is covered by matching ``token`` against ``jobs.reply_token`` (hence that index).
-- Retention deletes rows older than a day: a token is useless after 15 minutes.

CREATE TABLE interactions (
    id             BIGINT  PRIMARY KEY,
    application_id BIGINT  NOT NULL,
    token          TEXT    NOT NULL,
    user_id        BIGINT  NOT NULL,
    guild_id       BIGINT,
    channel_id     BIGINT,
    locale         TEXT    NOT NULL DEFAULT 'en-US',
    created_at     BIGINT  NOT NULL,
    job_id         BIGINT,
    answered       BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE INDEX interactions_created ON interactions (created_at);
CREATE INDEX jobs_reply_token ON jobs (reply_token);
