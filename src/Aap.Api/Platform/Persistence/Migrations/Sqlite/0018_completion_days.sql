-- 0018: the admin dashboard's completions-per-day chart reads completion_days, one row per UTC day and app with the
-- number of completions created that day, instead of counting a range of ix_app_completions_created_at per day
-- (docs/benchmarks.md, "dashboard"). Triggers keep it exact on every insert, delete and change of created_at or
-- app_id of app_completions (cascades and SQL by hand included); the script fills it from the existing rows. The
-- day is the date part of created_at, which is stored as UTC text ('yyyy-MM-dd HH:mm:ss...').
-- Additive: older nodes do not read the table, and the triggers count their writes too.

CREATE TABLE "completion_days" (
    "day" TEXT NOT NULL,
    "app_id" INTEGER NOT NULL,
    "completions" INTEGER NOT NULL,
    CONSTRAINT "pk_completion_days" PRIMARY KEY ("day", "app_id")
);

INSERT INTO "completion_days" ("day", "app_id", "completions")
SELECT substr("created_at", 1, 10), "app_id", count(*) FROM "app_completions" GROUP BY substr("created_at", 1, 10), "app_id";

CREATE TRIGGER "app_completions_days_insert" AFTER INSERT ON "app_completions"
BEGIN
    INSERT INTO "completion_days" ("day", "app_id", "completions") VALUES (substr(NEW."created_at", 1, 10), NEW."app_id", 1)
    ON CONFLICT ("day", "app_id") DO UPDATE SET "completions" = "completions" + 1;
END;

CREATE TRIGGER "app_completions_days_delete" AFTER DELETE ON "app_completions"
BEGIN
    UPDATE "completion_days" SET "completions" = "completions" - 1
    WHERE "day" = substr(OLD."created_at", 1, 10) AND "app_id" = OLD."app_id";
END;

CREATE TRIGGER "app_completions_days_update" AFTER UPDATE OF "created_at", "app_id" ON "app_completions"
WHEN substr(OLD."created_at", 1, 10) <> substr(NEW."created_at", 1, 10) OR OLD."app_id" <> NEW."app_id"
BEGIN
    UPDATE "completion_days" SET "completions" = "completions" - 1
    WHERE "day" = substr(OLD."created_at", 1, 10) AND "app_id" = OLD."app_id";
    INSERT INTO "completion_days" ("day", "app_id", "completions") VALUES (substr(NEW."created_at", 1, 10), NEW."app_id", 1)
    ON CONFLICT ("day", "app_id") DO UPDATE SET "completions" = "completions" + 1;
END;
