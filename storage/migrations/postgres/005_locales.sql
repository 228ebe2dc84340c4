-- 005: whose language (issue 13), as SQLite's 007: the member's and the server's locale on jobs and
-- drafts, the server's on sessions. Rows from before read as English, which is what they were shown in.

ALTER TABLE jobs ADD COLUMN locale TEXT NOT NULL DEFAULT 'en-US';
ALTER TABLE jobs ADD COLUMN guild_locale TEXT NOT NULL DEFAULT 'en-US';
ALTER TABLE sessions ADD COLUMN guild_locale TEXT NOT NULL DEFAULT 'en-US';
ALTER TABLE drafts ADD COLUMN locale TEXT NOT NULL DEFAULT 'en-US';
ALTER TABLE drafts ADD COLUMN guild_locale TEXT NOT NULL DEFAULT 'en-US';
