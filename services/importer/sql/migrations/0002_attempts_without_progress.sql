-- A run's attempts count the takeovers that found no progress since the previous one:
-- a run killed many times, but moving forward each time, is never given up on.
ALTER TABLE imports ADD COLUMN claimed_at_batch integer NOT NULL DEFAULT 0;
