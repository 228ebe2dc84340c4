-- 008 (PostgreSQL only): the day's totals of the usage ledger, kept by triggers, so the server's daily
-- cap and the operator's daily budget read a few rows instead of summing every ledger row of the day.
--
-- A submission checked both with SUM(reserved + charged) over the day's ledger rows: linear in the
-- day's volume (about 0.25 µs a row), and with a budget that sum ran under the bot-wide lock, so it
-- bounded submissions a second for the whole bot. These tables hold the same sums per UTC day (day:
-- epoch ms of midnight UTC, the day of the ledger row's created_at), and the triggers below keep them
-- equal to the ledger in the transaction that changes it, whoever changes it (submissions, refunds,
-- retention, history deletion, `migrate`'s COPY, a TRUNCATE). Summing `day >= midnight` over them
-- equals summing `created_at >= midnight` over the ledger. No rule lives here: the limits stay
-- bot.quota's; this is an index that PostgreSQL cannot build by itself.
--
-- The bot-wide total is split over 16 slots, one per writing connection (pg_backend_pid() % 16):
-- every submission adds to it, and one row would make every submission wait for the previous one's
-- commit even without a budget. A transaction only ever changes its own connection's slot, so two
-- transactions never lock slots in opposite orders (a deadlock). Reading it sums the 16 rows.

CREATE TABLE bot_usage_days (
    day    BIGINT   NOT NULL,
    slot   SMALLINT NOT NULL,
    images BIGINT   NOT NULL,
    PRIMARY KEY (day, slot)
);

CREATE TABLE guild_usage_days (
    guild_id BIGINT NOT NULL,
    day      BIGINT NOT NULL,
    images   BIGINT NOT NULL,
    PRIMARY KEY (guild_id, day)
);

CREATE FUNCTION usage_days_add(guild BIGINT, created BIGINT, images BIGINT) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    midnight BIGINT := created - created % 86400000;
BEGIN
    IF images = 0 THEN
        RETURN;
    END IF;
    INSERT INTO bot_usage_days AS u (day, slot, images) VALUES (midnight, pg_backend_pid() % 16, images)
    ON CONFLICT (day, slot) DO UPDATE SET images = u.images + EXCLUDED.images;
    IF guild IS NOT NULL THEN
        INSERT INTO guild_usage_days AS u (guild_id, day, images) VALUES (guild, midnight, images)
        ON CONFLICT (guild_id, day) DO UPDATE SET images = u.images + EXCLUDED.images;
    END IF;
END $$;

CREATE FUNCTION usage_days_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.guild_id IS NOT DISTINCT FROM NEW.guild_id
            AND OLD.created_at = NEW.created_at THEN  -- a settlement: one change by the difference
        PERFORM usage_days_add(NEW.guild_id, NEW.created_at,
                               (NEW.reserved + NEW.charged) - (OLD.reserved + OLD.charged));
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM usage_days_add(OLD.guild_id, OLD.created_at, -(OLD.reserved + OLD.charged));
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        PERFORM usage_days_add(NEW.guild_id, NEW.created_at, NEW.reserved + NEW.charged);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION usage_days_clear() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE bot_usage_days, guild_usage_days;
    RETURN NULL;
END $$;

CREATE TRIGGER usage_days_insert_delete AFTER INSERT OR DELETE ON usage_ledger
    FOR EACH ROW EXECUTE FUNCTION usage_days_apply();
-- A settlement that charges exactly what it reserved changes no total: no call at all.
CREATE TRIGGER usage_days_update AFTER UPDATE ON usage_ledger
    FOR EACH ROW WHEN (OLD.reserved + OLD.charged IS DISTINCT FROM NEW.reserved + NEW.charged
                       OR OLD.created_at IS DISTINCT FROM NEW.created_at
                       OR OLD.guild_id IS DISTINCT FROM NEW.guild_id)
    EXECUTE FUNCTION usage_days_apply();
CREATE TRIGGER usage_days_truncate AFTER TRUNCATE ON usage_ledger
    FOR EACH STATEMENT EXECUTE FUNCTION usage_days_clear();

-- An existing ledger's totals.
INSERT INTO bot_usage_days (day, slot, images)
SELECT created_at - created_at % 86400000, 0, SUM(reserved + charged) FROM usage_ledger
GROUP BY 1 HAVING SUM(reserved + charged) <> 0;
INSERT INTO guild_usage_days (guild_id, day, images)
SELECT guild_id, created_at - created_at % 86400000, SUM(reserved + charged) FROM usage_ledger
WHERE guild_id IS NOT NULL GROUP BY 1, 2 HAVING SUM(reserved + charged) <> 0;
