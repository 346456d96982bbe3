-- Push runs: the plan of a change set's push as steps, each recorded before and after its AWS
-- call, so a push interrupted by a crash is finished by the next process (lease below).
CREATE TABLE push_runs (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    change_set_id BIGINT NOT NULL REFERENCES change_sets,
    state TEXT NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'succeeded', 'failed')),
    started_by TEXT NOT NULL,
    started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at TIMESTAMPTZ,
    error TEXT,
    -- Whoever holds an unexpired lease runs the steps; others wait or take over once it lapses.
    lease_owner TEXT,
    lease_until TIMESTAMPTZ
);
-- At most one unfinished push per change set.
CREATE UNIQUE INDEX push_runs_one_running ON push_runs (change_set_id) WHERE state = 'running';
CREATE INDEX push_runs_by_change_set ON push_runs (change_set_id, id DESC);

CREATE TABLE push_steps (
    run_id BIGINT NOT NULL REFERENCES push_runs,
    seq INT NOT NULL,
    target TEXT NOT NULL,
    operation TEXT NOT NULL,
    summary TEXT NOT NULL,
    call JSONB NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'running', 'done', 'failed')),
    attempts INT NOT NULL DEFAULT 0,
    aws_request_id TEXT,
    error TEXT,
    started_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ,
    PRIMARY KEY (run_id, seq)
);
-- The last change Gatehouse made to an API (a stage deployed before it serves an old policy).
CREATE INDEX push_steps_api_changes ON push_steps (target, (call->>'api_id'), started_at)
    WHERE state = 'done' AND operation IN ('UpdateRestApi', 'UpdateMethod');
