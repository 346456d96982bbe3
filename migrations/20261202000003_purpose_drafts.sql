-- A rollback or a drift resolution gets a draft of its own, titled for what it does, instead of
-- landing in whatever draft its author had open (where it could sit beside contradictory
-- items). `purpose` names it; a person still has one general draft (purpose NULL) for edits.
ALTER TABLE change_sets ADD COLUMN purpose TEXT;
DROP INDEX change_sets_one_draft;
CREATE UNIQUE INDEX change_sets_one_draft ON change_sets (author_oid)
    WHERE state = 'draft' AND purpose IS NULL;
CREATE UNIQUE INDEX change_sets_one_draft_per_purpose ON change_sets (author_oid, purpose)
    WHERE state = 'draft' AND purpose IS NOT NULL;
