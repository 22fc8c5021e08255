-- 0019: retention of CSV imports' files (docs/imports.md): when the job import-retention removed an ended import's
-- upload and rejects from the file store (Imports:RetentionDays after it ended); the row and its summary stay.
-- Additive: older nodes ignore the column.

ALTER TABLE imports ADD COLUMN files_expired_at timestamp with time zone;
