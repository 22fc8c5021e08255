-- 0021: indexes for keyset (cursor) paging (docs/api.md, "Paging"): each list's newest-first order ends in its id,
-- so that a page after a cursor is a range of one index, (filters..., created_at, id) read backwards from the
-- cursor's position, whatever its depth. Each replaces the index on the same leading columns without the id (it
-- serves the same queries). To-dos (0006), the ledger (0007) and the audit log (0012) have theirs already.
-- Additive for older nodes: they order by the same keys.

CREATE INDEX "ix_stored_files_owner_id_created_at_id" ON "stored_files" ("owner_id", "created_at", "id");

DROP INDEX "ix_stored_files_owner_id_created_at";

CREATE INDEX "ix_app_completions_created_at_id" ON "app_completions" ("created_at", "id");

DROP INDEX "ix_app_completions_created_at";

CREATE INDEX "ix_point_transfers_from_user_id_created_at_id" ON "point_transfers" ("from_user_id", "created_at", "id");

CREATE INDEX "ix_point_transfers_to_user_id_created_at_id" ON "point_transfers" ("to_user_id", "created_at", "id");

DROP INDEX "ix_point_transfers_to_user_id";

CREATE INDEX "ix_users_created_at_id" ON "users" ("created_at", "id");

DROP INDEX "ix_users_created_at";

CREATE INDEX "ix_imports_created_at_id" ON "imports" ("created_at", "id");

DROP INDEX "ix_imports_created_at";

CREATE INDEX "ix_job_runs_job_queued_at_id" ON "job_runs" ("job", "queued_at", "id");

DROP INDEX "ix_job_runs_job_queued_at";
