-- 0015: the ISIN list of the daily download (docs/isins.md) and what each source's last download left behind
-- (ETag, Last-Modified, SHA-256: an unchanged file is not loaded again, whichever node runs the job).

CREATE TABLE "isins" (
    "isin" TEXT NOT NULL CONSTRAINT "pk_isins" PRIMARY KEY,
    "lei" TEXT NULL,
    "country" TEXT NOT NULL,
    "first_seen" TEXT NOT NULL,
    "last_seen" TEXT NOT NULL,
    "removed_at" TEXT NULL
) WITHOUT ROWID;

CREATE INDEX "ix_isins_lei" ON "isins" ("lei");

CREATE INDEX "ix_isins_country_isin" ON "isins" ("country", "isin");

CREATE TABLE "isin_downloads" (
    "source_url" TEXT NOT NULL CONSTRAINT "pk_isin_downloads" PRIMARY KEY,
    "etag" TEXT NULL,
    "last_modified" TEXT NULL,
    "sha256" TEXT NULL,
    "checked_at" TEXT NULL,
    "loaded_at" TEXT NULL,
    "outcome" TEXT NULL,
    "rows" INTEGER NOT NULL,
    "invalid_rows" INTEGER NOT NULL,
    "error" TEXT NULL
);
