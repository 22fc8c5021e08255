-- 0016: thumbnails of uploaded images (docs/storage.md), made by the queued job file-thumbnails. Images already
-- stored start pending, so the job's first sweep makes theirs too; other files have no thumbnail (null).

ALTER TABLE stored_files ADD thumbnail_status character varying(10);

ALTER TABLE stored_files ADD thumbnail_key character varying(300);

ALTER TABLE stored_files ADD thumbnail_error character varying(500);

UPDATE stored_files SET thumbnail_status = 'pending' WHERE content_type LIKE 'image/%';

CREATE INDEX ix_stored_files_thumbnail_status_id ON stored_files (thumbnail_status, id);
