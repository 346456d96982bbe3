-- An export's rows are hashed by one process at a time, the one holding its lease (renewed as
-- it goes). A process that stops leaves the lease to lapse; another takes the export over.
ALTER TABLE audit_exports ADD COLUMN lease_owner TEXT, ADD COLUMN lease_until TIMESTAMPTZ;
