-- 0004: metadata of uploaded files.

CREATE TABLE "stored_files" (
    "id" INTEGER NOT NULL CONSTRAINT "pk_stored_files" PRIMARY KEY AUTOINCREMENT,
    "owner_id" INTEGER NOT NULL,
    "key" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "size" INTEGER NOT NULL,
    "content_type" TEXT NOT NULL,
    "sha256" TEXT NOT NULL,
    "original_name" TEXT NOT NULL,
    "category" TEXT NOT NULL,
    "created_at" TEXT NOT NULL,
    "updated_at" TEXT NOT NULL,
    "deleted_at" TEXT NULL,
    CONSTRAINT "fk_stored_files_users_owner_id" FOREIGN KEY ("owner_id") REFERENCES "users" ("id") ON DELETE CASCADE
);

CREATE INDEX "ix_stored_files_deleted_at" ON "stored_files" ("deleted_at");

CREATE UNIQUE INDEX "ix_stored_files_key" ON "stored_files" ("key");

CREATE INDEX "ix_stored_files_owner_id_created_at" ON "stored_files" ("owner_id", "created_at");

CREATE INDEX "ix_stored_files_sha256" ON "stored_files" ("sha256");
