-- Access review campaigns: every binding and grant in a scope, as approved when the campaign
-- started, is a line its reviewers certify "keep" or "revoke". At the due date (or when closed
-- by hand) undecided lines take the campaign's default and the revokes become one change set,
-- reviewed and pushed as usual. Every decision is also an audit event (the evidence).
CREATE TABLE review_campaigns (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    -- {"apis": ["abc123"], "roles": ["arn:aws:iam::…:role/x"]}; both empty: everything.
    scope JSONB NOT NULL,
    -- 'owners': each line's API owners (Gatehouse reviewers where an API has none);
    -- 'group': the members of reviewer_group.
    reviewers TEXT NOT NULL CHECK (reviewers IN ('owners', 'group')),
    reviewer_group JSONB,
    due_at TIMESTAMPTZ NOT NULL,
    default_decision TEXT NOT NULL CHECK (default_decision IN ('keep', 'revoke')),
    started_by_oid UUID,
    started_by TEXT NOT NULL,
    started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    reminded_at TIMESTAMPTZ,
    closed_at TIMESTAMPTZ,
    closed_by TEXT,
    revocation_change_set_id BIGINT REFERENCES change_sets (id),
    CHECK (reviewers = 'owners' OR reviewer_group IS NOT NULL)
);
CREATE INDEX review_campaigns_open ON review_campaigns (due_at) WHERE closed_at IS NULL;

CREATE TABLE review_campaign_lines (
    campaign_id BIGINT NOT NULL REFERENCES review_campaigns (id),
    line INT NOT NULL,
    -- The binding or grant certified, as a change item (AddBinding / AddGrant).
    item JSONB NOT NULL,
    -- Directory groups whose members may decide it; empty: Gatehouse reviewers.
    reviewer_groups JSONB NOT NULL DEFAULT '[]'::jsonb,
    decision TEXT CHECK (decision IN ('keep', 'revoke')),
    comment TEXT NOT NULL DEFAULT '' CHECK (length(comment) <= 2000),
    decided_by_oid UUID,
    decided_by TEXT,
    decided_at TIMESTAMPTZ,
    -- Undecided at the close: the campaign's default was taken.
    defaulted BOOLEAN NOT NULL DEFAULT false,
    PRIMARY KEY (campaign_id, line)
);

-- A campaign's revocation is one change set.
ALTER TABLE change_sets ADD COLUMN campaign_id BIGINT REFERENCES review_campaigns (id);
CREATE UNIQUE INDEX change_sets_one_per_campaign ON change_sets (campaign_id)
    WHERE campaign_id IS NOT NULL;
