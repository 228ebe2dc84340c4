-- 007: whose language (issue 13). A job remembers the member's locale (its progress message and anything
-- shown to them privately later) and the server's preferred locale (its public result), so a result
-- posted after a restart, or by another process, is still in the right language. A session remembers
-- its server's locale (from its root job); a draft both, for the editor page and the job it becomes.
-- Rows from before this migration read as English, which is what they were shown in.

ALTER TABLE jobs ADD COLUMN locale TEXT NOT NULL DEFAULT 'en-US';
ALTER TABLE jobs ADD COLUMN guild_locale TEXT NOT NULL DEFAULT 'en-US';
ALTER TABLE sessions ADD COLUMN guild_locale TEXT NOT NULL DEFAULT 'en-US';
ALTER TABLE drafts ADD COLUMN locale TEXT NOT NULL DEFAULT 'en-US';
ALTER TABLE drafts ADD COLUMN guild_locale TEXT NOT NULL DEFAULT 'en-US';
