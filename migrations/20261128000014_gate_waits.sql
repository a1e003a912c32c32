-- How long a gated step waited for a person to confirm it before it ran. Recovery time (score
-- formula v2) leaves it out: a drill is not slower to recover because its commander was at lunch.
ALTER TABLE run_steps ADD COLUMN waited_ms BIGINT;
