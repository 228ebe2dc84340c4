-- 004: editor drafts (issue 12): an edit waiting for its mask to be drawn in the browser.
--
-- A draft carries what the command knew (requester, roles, reply token, prompt, options, image) so the
-- confirmed edit is queued exactly like the command would have queued it. Single use: ``state`` goes
-- open -> confirming -> confirmed (or back to open when the confirm is refused, e.g. by a quota).
-- Image files are content-addressed in DATA_DIR/images; a draft only names them.

CREATE TABLE drafts (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id        BIGINT  NOT NULL,
    guild_id       BIGINT,
    channel_id     BIGINT,
    thread_id      BIGINT,
    role_ids       TEXT    NOT NULL DEFAULT '[]',
    private        BOOLEAN NOT NULL DEFAULT FALSE,
    reply_token    TEXT,
    application_id BIGINT,
    payer_user_id  BIGINT,
    session_id     BIGINT,
    open_thread    BOOLEAN NOT NULL DEFAULT FALSE,
    prompt         TEXT    NOT NULL,
    options        TEXT    NOT NULL,
    image_sha      TEXT    NOT NULL,
    mask_sha       TEXT,
    parent_job_id  BIGINT,
    image_index    INTEGER NOT NULL DEFAULT 0,
    place          TEXT    NOT NULL DEFAULT '',
    state          TEXT    NOT NULL DEFAULT 'open',
    job_id         BIGINT,
    created_at     BIGINT  NOT NULL,
    expires_at     BIGINT  NOT NULL
);

-- create_draft() forgets drafts that expired long ago.
CREATE INDEX drafts_expiry ON drafts (expires_at);
