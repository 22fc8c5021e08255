-- 0005: completions with screenshot proof, the points ledger, balances and transfers.

CREATE TABLE "point_balances" (
    "user_id" INTEGER NOT NULL CONSTRAINT "pk_point_balances" PRIMARY KEY,
    "balance" INTEGER NOT NULL,
    CONSTRAINT "ck_point_balances_not_negative" CHECK (balance >= 0),
    CONSTRAINT "fk_point_balances_users_user_id" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE
);

CREATE TABLE "point_ledger" (
    "id" INTEGER NOT NULL CONSTRAINT "pk_point_ledger" PRIMARY KEY AUTOINCREMENT,
    "user_id" INTEGER NOT NULL,
    "amount" INTEGER NOT NULL,
    "reason" TEXT NOT NULL,
    "completion_id" INTEGER NULL,
    "transfer_id" INTEGER NULL,
    "created_at" TEXT NOT NULL,
    CONSTRAINT "fk_point_ledger_users_user_id" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE
);

CREATE TABLE "point_transfers" (
    "id" INTEGER NOT NULL CONSTRAINT "pk_point_transfers" PRIMARY KEY AUTOINCREMENT,
    "from_user_id" INTEGER NOT NULL,
    "to_user_id" INTEGER NOT NULL,
    "amount" INTEGER NOT NULL,
    "idempotency_key" TEXT NOT NULL,
    "created_at" TEXT NOT NULL,
    CONSTRAINT "fk_point_transfers_users_from_user_id" FOREIGN KEY ("from_user_id") REFERENCES "users" ("id") ON DELETE CASCADE,
    CONSTRAINT "fk_point_transfers_users_to_user_id" FOREIGN KEY ("to_user_id") REFERENCES "users" ("id") ON DELETE CASCADE
);

CREATE TABLE "app_completions" (
    "id" INTEGER NOT NULL CONSTRAINT "pk_app_completions" PRIMARY KEY AUTOINCREMENT,
    "user_id" INTEGER NOT NULL,
    "app_id" INTEGER NOT NULL,
    "screenshot_file_id" INTEGER NOT NULL,
    "screenshot_sha256" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "flagged" INTEGER NOT NULL,
    "points" INTEGER NOT NULL,
    "review_reason" TEXT NULL,
    "reviewed_by" INTEGER NULL,
    "reviewed_at" TEXT NULL,
    "created_at" TEXT NOT NULL,
    "updated_at" TEXT NOT NULL,
    CONSTRAINT "fk_app_completions_apps_app_id" FOREIGN KEY ("app_id") REFERENCES "apps" ("id") ON DELETE RESTRICT,
    CONSTRAINT "fk_app_completions_stored_files_screenshot_file_id" FOREIGN KEY ("screenshot_file_id") REFERENCES "stored_files" ("id") ON DELETE RESTRICT,
    CONSTRAINT "fk_app_completions_users_user_id" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE
);

CREATE INDEX "ix_app_completions_app_id" ON "app_completions" ("app_id");

CREATE INDEX "ix_app_completions_screenshot_file_id" ON "app_completions" ("screenshot_file_id");

CREATE INDEX "ix_app_completions_screenshot_sha256" ON "app_completions" ("screenshot_sha256");

CREATE INDEX "ix_app_completions_status_created_at" ON "app_completions" ("status", "created_at");

CREATE UNIQUE INDEX "ix_app_completions_user_id_app_id" ON "app_completions" ("user_id", "app_id");

CREATE UNIQUE INDEX "ix_point_ledger_completion_id_reason" ON "point_ledger" ("completion_id", "reason") WHERE completion_id IS NOT NULL;

CREATE INDEX "ix_point_ledger_reason_created_at" ON "point_ledger" ("reason", "created_at");

CREATE INDEX "ix_point_ledger_transfer_id" ON "point_ledger" ("transfer_id");

CREATE INDEX "ix_point_ledger_user_id_created_at" ON "point_ledger" ("user_id", "created_at");

CREATE UNIQUE INDEX "ix_point_transfers_from_user_id_idempotency_key" ON "point_transfers" ("from_user_id", "idempotency_key");

CREATE INDEX "ix_point_transfers_to_user_id" ON "point_transfers" ("to_user_id");
