-- 0014: what the admin dashboard reads (docs/benchmarks.md, "dashboard"). The per-day charts count one day at a time
-- on created_at; the counts by status and the points per app come from completion_totals, one row per app and
-- status that triggers keep exact on every insert, update and delete of app_completions (cascades and SQL by hand
-- included), so that the dashboard reads a few hundred rows instead of every completion.

CREATE INDEX "ix_app_completions_created_at" ON "app_completions" ("created_at");

CREATE INDEX "ix_users_created_at" ON "users" ("created_at");

-- The accounts' totals (active, admins) count this narrow index rather than the wide rows of users.
CREATE INDEX "ix_users_is_active_role" ON "users" ("is_active", "role");

CREATE TABLE "completion_totals" (
    "app_id" INTEGER NOT NULL,
    "status" TEXT NOT NULL,
    "completions" INTEGER NOT NULL,
    "points" INTEGER NOT NULL,
    CONSTRAINT "pk_completion_totals" PRIMARY KEY ("app_id", "status")
);

INSERT INTO "completion_totals" ("app_id", "status", "completions", "points")
SELECT "app_id", "status", count(*), sum("points") FROM "app_completions" GROUP BY "app_id", "status";

CREATE TRIGGER "app_completions_totals_insert" AFTER INSERT ON "app_completions"
BEGIN
    INSERT INTO "completion_totals" ("app_id", "status", "completions", "points") VALUES (NEW."app_id", NEW."status", 1, NEW."points")
    ON CONFLICT ("app_id", "status") DO UPDATE SET "completions" = "completions" + 1, "points" = "points" + excluded."points";
END;

CREATE TRIGGER "app_completions_totals_delete" AFTER DELETE ON "app_completions"
BEGIN
    UPDATE "completion_totals" SET "completions" = "completions" - 1, "points" = "points" - OLD."points"
    WHERE "app_id" = OLD."app_id" AND "status" = OLD."status";
END;

CREATE TRIGGER "app_completions_totals_update" AFTER UPDATE OF "app_id", "status", "points" ON "app_completions"
BEGIN
    UPDATE "completion_totals" SET "completions" = "completions" - 1, "points" = "points" - OLD."points"
    WHERE "app_id" = OLD."app_id" AND "status" = OLD."status";
    INSERT INTO "completion_totals" ("app_id", "status", "completions", "points") VALUES (NEW."app_id", NEW."status", 1, NEW."points")
    ON CONFLICT ("app_id", "status") DO UPDATE SET "completions" = "completions" + 1, "points" = "points" + excluded."points";
END;
