-- 0017: CSV imports started by admins through the API or the admin panel (docs/imports.md): the uploaded file's key
-- in the file store, the options, the state (queued, running, succeeded, failed, cancelled), the progress the job
-- writes at most once a second, the summary and the rejects file's key. created_by has no foreign key: the record
-- outlives its admin. Additive: older nodes ignore the table.

CREATE TABLE imports (
    id uuid NOT NULL,
    created_by bigint NOT NULL,
    created_at timestamp with time zone NOT NULL,
    file_name character varying(255) NOT NULL,
    file_key character varying(300) NOT NULL,
    file_bytes bigint NOT NULL,
    table_name character varying(100) NOT NULL,
    options text NOT NULL,
    state character varying(20) NOT NULL,
    cancel_requested boolean NOT NULL,
    rows_read bigint NOT NULL,
    rows_loaded bigint NOT NULL,
    rows_rejected bigint NOT NULL,
    bytes_read bigint NOT NULL,
    progress_at timestamp with time zone,
    summary text,
    error_code character varying(50),
    error character varying(2000),
    rejects_key character varying(300),
    started_at timestamp with time zone,
    finished_at timestamp with time zone,
    CONSTRAINT pk_imports PRIMARY KEY (id)
);

CREATE INDEX ix_imports_created_at ON imports (created_at);

CREATE INDEX ix_imports_state_created_at ON imports (state, created_at);
