-- 0017: CSV imports started by admins through the API or the admin panel (docs/imports.md): the uploaded file's key
-- in the file store, the options, the state (queued, running, succeeded, failed, cancelled), the progress the job
-- writes at most once a second, the summary and the rejects file's key. created_by has no foreign key: the record
-- outlives its admin. Additive: older nodes ignore the table.

CREATE TABLE "imports" (
    "id" TEXT NOT NULL CONSTRAINT "pk_imports" PRIMARY KEY,
    "created_by" INTEGER NOT NULL,
    "created_at" TEXT NOT NULL,
    "file_name" TEXT NOT NULL,
    "file_key" TEXT NOT NULL,
    "file_bytes" INTEGER NOT NULL,
    "table_name" TEXT NOT NULL,
    "options" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "cancel_requested" INTEGER NOT NULL,
    "rows_read" INTEGER NOT NULL,
    "rows_loaded" INTEGER NOT NULL,
    "rows_rejected" INTEGER NOT NULL,
    "bytes_read" INTEGER NOT NULL,
    "progress_at" TEXT NULL,
    "summary" TEXT NULL,
    "error_code" TEXT NULL,
    "error" TEXT NULL,
    "rejects_key" TEXT NULL,
    "started_at" TEXT NULL,
    "finished_at" TEXT NULL
);

CREATE INDEX "ix_imports_created_at" ON "imports" ("created_at");

CREATE INDEX "ix_imports_state_created_at" ON "imports" ("state", "created_at");
