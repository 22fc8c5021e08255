-- 0010: Idempotency-Key bound to the request that first used it, with its stored outcome (docs/api/rewards.md).
-- The key on point_transfers is no longer unique: idempotency_records guards it for its retention period.

CREATE TABLE "idempotency_records" (
    "id" INTEGER NOT NULL CONSTRAINT "pk_idempotency_records" PRIMARY KEY AUTOINCREMENT,
    "user_id" INTEGER NOT NULL,
    "idempotency_key" TEXT NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "response_status" INTEGER NULL,
    "response_body" TEXT NULL,
    "created_at" TEXT NOT NULL,
    "expires_at" TEXT NOT NULL,
    CONSTRAINT "fk_idempotency_records_users_user_id" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE
);

CREATE UNIQUE INDEX "ix_idempotency_records_user_id_idempotency_key" ON "idempotency_records" ("user_id", "idempotency_key");

CREATE INDEX "ix_idempotency_records_expires_at" ON "idempotency_records" ("expires_at");

DROP INDEX "ix_point_transfers_from_user_id_idempotency_key";

CREATE INDEX "ix_point_transfers_from_user_id_idempotency_key" ON "point_transfers" ("from_user_id", "idempotency_key");
