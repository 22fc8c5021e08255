-- 0013: the run history of scheduled jobs (docs/adr/0011-scheduled-jobs-with-quartz.md), written by the scheduler's
-- job listener and trimmed after Jobs:HistoryDays. Quartz's own tables are created by Quartz (ProvisionSchema).

CREATE TABLE "job_runs" (
    "id" TEXT NOT NULL CONSTRAINT "pk_job_runs" PRIMARY KEY,
    "job" TEXT NOT NULL,
    "occurrence" TEXT NULL,
    "scheduled_at" TEXT NULL,
    "node" TEXT NULL,
    "status" TEXT NOT NULL,
    "manual" INTEGER NOT NULL,
    "attempt" INTEGER NOT NULL,
    "items" INTEGER NULL,
    "error" TEXT NULL,
    "queued_at" TEXT NOT NULL,
    "started_at" TEXT NULL,
    "finished_at" TEXT NULL
);

CREATE INDEX "ix_job_runs_job_queued_at" ON "job_runs" ("job", "queued_at");

CREATE INDEX "ix_job_runs_status" ON "job_runs" ("status");
