-- 0013: the run history of scheduled jobs (docs/adr/0011-scheduled-jobs-with-quartz.md), written by the scheduler's
-- job listener and trimmed after Jobs:HistoryDays. Quartz's own tables are created by Quartz (ProvisionSchema).

CREATE TABLE job_runs (
    id character varying(40) NOT NULL,
    job character varying(100) NOT NULL,
    occurrence character varying(200),
    scheduled_at timestamp with time zone,
    node character varying(200),
    status character varying(20) NOT NULL,
    manual boolean NOT NULL,
    attempt integer NOT NULL,
    items bigint,
    error character varying(500),
    queued_at timestamp with time zone NOT NULL,
    started_at timestamp with time zone,
    finished_at timestamp with time zone,
    CONSTRAINT pk_job_runs PRIMARY KEY (id)
);

CREATE INDEX ix_job_runs_job_queued_at ON job_runs (job, queued_at);

CREATE INDEX ix_job_runs_status ON job_runs (status);
