-- 0016: thumbnails of uploaded images (docs/storage.md), made by the queued job file-thumbnails. Images already
-- stored start pending, so the job's first sweep makes theirs too; other files have no thumbnail (null).

ALTER TABLE "stored_files" ADD COLUMN "thumbnail_status" TEXT NULL;

ALTER TABLE "stored_files" ADD COLUMN "thumbnail_key" TEXT NULL;

ALTER TABLE "stored_files" ADD COLUMN "thumbnail_error" TEXT NULL;

UPDATE "stored_files" SET "thumbnail_status" = 'pending' WHERE "content_type" LIKE 'image/%';

CREATE INDEX "ix_stored_files_thumbnail_status_id" ON "stored_files" ("thumbnail_status", "id");
