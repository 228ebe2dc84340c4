-- 008: claims with a lease, so several processes can share one queue (issue 14).
--
-- lease_owner: the process (WORKER_ID) running the job; lease_until: epoch ms until which its claim
-- holds unless renewed by the heartbeat. A running job whose lease has run out belongs to a dead
-- process and is re-run (once) by another. images_in_flight: the images the job holds of the global
-- cap (MAX_IMAGES_IN_FLIGHT) from its claim until the API has answered, then 0.
ALTER TABLE jobs ADD COLUMN lease_owner TEXT;
ALTER TABLE jobs ADD COLUMN lease_until INTEGER;
ALTER TABLE jobs ADD COLUMN images_in_flight INTEGER NOT NULL DEFAULT 0;

-- The claim's cap check and the search for expired leases read only the running jobs.
CREATE INDEX jobs_running_lease ON jobs (lease_until, images_in_flight) WHERE status = 'running';

-- The round-robin pointer shared by every process: when a user (key "u:…") or a server ("g:…") last
-- had a job claimed (epoch ms), so "whoever was served longest ago goes first" holds across processes.
CREATE TABLE fair_turns (
    key TEXT PRIMARY KEY,
    turn BIGINT NOT NULL
);
