-- 0007: per-app statistics by (app_id, status), and a user's ledger read by id; SQLite has no INCLUDE.

CREATE INDEX "ix_app_completions_app_id_status" ON "app_completions" ("app_id", "status");

DROP INDEX "ix_app_completions_app_id";

CREATE INDEX "ix_point_ledger_user_id_id" ON "point_ledger" ("user_id", "id");

DROP INDEX "ix_point_ledger_user_id_created_at";
