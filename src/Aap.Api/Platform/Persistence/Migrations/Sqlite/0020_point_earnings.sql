-- 0020: the leaderboard and the dashboard's "points issued" read totals kept with the ledger instead of aggregating
-- it (docs/benchmarks.md, "The leaderboard and points issued over a million ledger entries").
-- point_earnings: per user, the points earned from completions with reversals deducted, what the all-time
-- leaderboard ranks; its partial index is in the board's order (points descending, then the older account), so that
-- a page is a range of it. point_totals: the sum of every balance ("points issued") and the number of users on the
-- board (the page's total), in 16 rows by user id (user_id % 16), summed on read; PostgreSQL needs the rows to keep
-- credits of different users from waiting on one (see its script), SQLite has one writer at a time and keeps the
-- same shape. Triggers on point_ledger keep both exact on every insert,
-- update and delete (cascades from a deleted user and SQL by hand included); the script fills them from the
-- existing rows. A transfer's two entries are not added to point_totals: they cancel out in the transaction that
-- writes them, as they do in the balances. Additive: older nodes do not read the tables, and the triggers count
-- their writes too.

CREATE TABLE "point_earnings" (
    "user_id" INTEGER NOT NULL CONSTRAINT "pk_point_earnings" PRIMARY KEY,
    "points" INTEGER NOT NULL,
    CONSTRAINT "fk_point_earnings_users_user_id" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE
);

CREATE INDEX "ix_point_earnings_points_user_id" ON "point_earnings" ("points" DESC, "user_id") WHERE "points" > 0;

CREATE TABLE "point_totals" (
    "slot" INTEGER NOT NULL CONSTRAINT "pk_point_totals" PRIMARY KEY,
    "points" INTEGER NOT NULL,
    "ranked" INTEGER NOT NULL
);

INSERT INTO "point_earnings" ("user_id", "points")
SELECT "user_id", sum("amount") FROM "point_ledger" WHERE "reason" IN ('completion', 'reversal') GROUP BY "user_id";

WITH RECURSIVE "s"("slot") AS (SELECT 0 UNION ALL SELECT "slot" + 1 FROM "s" WHERE "slot" < 15)
INSERT INTO "point_totals" ("slot", "points", "ranked")
SELECT "s"."slot", coalesce("b"."points", 0), (SELECT count(*) FROM "point_earnings" AS "e" WHERE "e"."points" > 0 AND "e"."user_id" % 16 = "s"."slot")
FROM "s" LEFT JOIN (SELECT "user_id" % 16 AS "slot", sum("balance") AS "points" FROM "point_balances" GROUP BY 1) AS "b" ON "b"."slot" = "s"."slot";

CREATE TRIGGER "point_ledger_earnings_insert" AFTER INSERT ON "point_ledger"
WHEN NEW."reason" IN ('completion', 'reversal')
BEGIN
    INSERT INTO "point_earnings" ("user_id", "points") VALUES (NEW."user_id", NEW."amount")
    ON CONFLICT ("user_id") DO UPDATE SET "points" = "points" + excluded."points";
END;

-- An update, not an upsert: when a user is deleted, their row may already be gone by cascade.
CREATE TRIGGER "point_ledger_earnings_delete" AFTER DELETE ON "point_ledger"
WHEN OLD."reason" IN ('completion', 'reversal')
BEGIN
    UPDATE "point_earnings" SET "points" = "points" - OLD."amount" WHERE "user_id" = OLD."user_id";
END;

CREATE TRIGGER "point_ledger_earnings_update" AFTER UPDATE OF "user_id", "amount", "reason" ON "point_ledger"
WHEN OLD."reason" IN ('completion', 'reversal') OR NEW."reason" IN ('completion', 'reversal')
BEGIN
    UPDATE "point_earnings" SET "points" = "points" - OLD."amount"
    WHERE "user_id" = OLD."user_id" AND OLD."reason" IN ('completion', 'reversal');
    INSERT INTO "point_earnings" ("user_id", "points") SELECT NEW."user_id", NEW."amount" WHERE NEW."reason" IN ('completion', 'reversal')
    ON CONFLICT ("user_id") DO UPDATE SET "points" = "points" + excluded."points";
END;

CREATE TRIGGER "point_ledger_issued_insert" AFTER INSERT ON "point_ledger"
WHEN NEW."reason" NOT IN ('transfer_in', 'transfer_out')
BEGIN
    UPDATE "point_totals" SET "points" = "points" + NEW."amount" WHERE "slot" = NEW."user_id" % 16;
END;

CREATE TRIGGER "point_ledger_issued_delete" AFTER DELETE ON "point_ledger"
BEGIN
    UPDATE "point_totals" SET "points" = "points" - OLD."amount" WHERE "slot" = OLD."user_id" % 16;
END;

CREATE TRIGGER "point_ledger_issued_update" AFTER UPDATE OF "user_id", "amount" ON "point_ledger"
WHEN OLD."user_id" <> NEW."user_id" OR OLD."amount" <> NEW."amount"
BEGIN
    UPDATE "point_totals" SET "points" = "points" - OLD."amount" WHERE "slot" = OLD."user_id" % 16;
    UPDATE "point_totals" SET "points" = "points" + NEW."amount" WHERE "slot" = NEW."user_id" % 16;
END;

-- The users on the board: a user's row of point_earnings entering or leaving it (above zero or not), or deleted.
CREATE TRIGGER "point_earnings_ranked_insert" AFTER INSERT ON "point_earnings"
WHEN NEW."points" > 0
BEGIN
    UPDATE "point_totals" SET "ranked" = "ranked" + 1 WHERE "slot" = NEW."user_id" % 16;
END;

CREATE TRIGGER "point_earnings_ranked_delete" AFTER DELETE ON "point_earnings"
WHEN OLD."points" > 0
BEGIN
    UPDATE "point_totals" SET "ranked" = "ranked" - 1 WHERE "slot" = OLD."user_id" % 16;
END;

CREATE TRIGGER "point_earnings_ranked_update" AFTER UPDATE OF "user_id", "points" ON "point_earnings"
WHEN (OLD."points" > 0) <> (NEW."points" > 0) OR OLD."user_id" <> NEW."user_id"
BEGIN
    UPDATE "point_totals" SET "ranked" = "ranked" - (OLD."points" > 0) WHERE "slot" = OLD."user_id" % 16;
    UPDATE "point_totals" SET "ranked" = "ranked" + (NEW."points" > 0) WHERE "slot" = NEW."user_id" % 16;
END;
