-- 0002: accounts (Identity users and their claims, logins and tokens), refresh tokens, runtime settings and their audit.

CREATE TABLE "runtime_setting_changes" (
    "id" INTEGER NOT NULL CONSTRAINT "pk_runtime_setting_changes" PRIMARY KEY AUTOINCREMENT,
    "key" TEXT NOT NULL,
    "old_value" TEXT NULL,
    "new_value" TEXT NOT NULL,
    "changed_by" INTEGER NULL,
    "changed_at" TEXT NOT NULL
);

CREATE TABLE "runtime_settings" (
    "key" TEXT NOT NULL CONSTRAINT "pk_runtime_settings" PRIMARY KEY,
    "value" TEXT NOT NULL,
    "updated_at" TEXT NOT NULL,
    "updated_by" INTEGER NULL
);

CREATE TABLE "users" (
    "id" INTEGER NOT NULL CONSTRAINT "pk_users" PRIMARY KEY AUTOINCREMENT,
    "role" TEXT NOT NULL,
    "is_active" INTEGER NOT NULL,
    "created_at" TEXT NOT NULL,
    "updated_at" TEXT NOT NULL,
    "user_name" TEXT NULL,
    "normalized_user_name" TEXT NULL,
    "email" TEXT NULL,
    "normalized_email" TEXT NULL,
    "email_confirmed" INTEGER NOT NULL,
    "password_hash" TEXT NULL,
    "security_stamp" TEXT NULL,
    "concurrency_stamp" TEXT NULL,
    "phone_number" TEXT NULL,
    "phone_number_confirmed" INTEGER NOT NULL,
    "two_factor_enabled" INTEGER NOT NULL,
    "lockout_end" TEXT NULL,
    "lockout_enabled" INTEGER NOT NULL,
    "access_failed_count" INTEGER NOT NULL
);

CREATE TABLE "refresh_tokens" (
    "id" INTEGER NOT NULL CONSTRAINT "pk_refresh_tokens" PRIMARY KEY AUTOINCREMENT,
    "user_id" INTEGER NOT NULL,
    "family_id" TEXT NOT NULL,
    "token_hash" TEXT NOT NULL,
    "created_at" TEXT NOT NULL,
    "expires_at" TEXT NOT NULL,
    "family_expires_at" TEXT NOT NULL,
    "used_at" TEXT NULL,
    "revoked_at" TEXT NULL,
    "revoked_reason" TEXT NULL,
    "replaced_by_id" INTEGER NULL,
    CONSTRAINT "fk_refresh_tokens_users_user_id" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE
);

CREATE TABLE "user_claims" (
    "id" INTEGER NOT NULL CONSTRAINT "pk_user_claims" PRIMARY KEY AUTOINCREMENT,
    "user_id" INTEGER NOT NULL,
    "claim_type" TEXT NULL,
    "claim_value" TEXT NULL,
    CONSTRAINT "fk_user_claims_users_user_id" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE
);

CREATE TABLE "user_logins" (
    "login_provider" TEXT NOT NULL,
    "provider_key" TEXT NOT NULL,
    "provider_display_name" TEXT NULL,
    "user_id" INTEGER NOT NULL,
    CONSTRAINT "pk_user_logins" PRIMARY KEY ("login_provider", "provider_key"),
    CONSTRAINT "fk_user_logins_users_user_id" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE
);

CREATE TABLE "user_tokens" (
    "user_id" INTEGER NOT NULL,
    "login_provider" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "value" TEXT NULL,
    CONSTRAINT "pk_user_tokens" PRIMARY KEY ("user_id", "login_provider", "name"),
    CONSTRAINT "fk_user_tokens_users_user_id" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE
);

CREATE INDEX "ix_refresh_tokens_family_id" ON "refresh_tokens" ("family_id");

CREATE UNIQUE INDEX "ix_refresh_tokens_token_hash" ON "refresh_tokens" ("token_hash");

CREATE INDEX "ix_refresh_tokens_user_id_revoked_at" ON "refresh_tokens" ("user_id", "revoked_at");

CREATE INDEX "ix_runtime_setting_changes_key_changed_at" ON "runtime_setting_changes" ("key", "changed_at");

CREATE INDEX "ix_user_claims_user_id" ON "user_claims" ("user_id");

CREATE INDEX "ix_user_logins_user_id" ON "user_logins" ("user_id");

CREATE UNIQUE INDEX "ix_users_normalized_email" ON "users" ("normalized_email");

CREATE UNIQUE INDEX "ix_users_normalized_user_name" ON "users" ("normalized_user_name");
