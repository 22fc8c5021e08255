-- 0009: counters of password attempts (per account and client address, and per account), and the log of ended
-- sessions that every node reads to refuse the access tokens of a session that was ended before they expired.
-- Refresh tokens record the dialect that issued them (v1 or seed): each refresh route accepts its own only.

CREATE TABLE "login_attempts" (
    "key" TEXT NOT NULL CONSTRAINT "pk_login_attempts" PRIMARY KEY,
    "window_start_ms" INTEGER NOT NULL,
    "attempts" INTEGER NOT NULL
);

CREATE INDEX "ix_login_attempts_window_start_ms" ON "login_attempts" ("window_start_ms");

CREATE TABLE "ended_sessions" (
    "id" INTEGER NOT NULL CONSTRAINT "pk_ended_sessions" PRIMARY KEY AUTOINCREMENT,
    "session_id" TEXT NULL,
    "user_id" INTEGER NULL,
    "ended_at" TEXT NOT NULL,
    "reason" TEXT NOT NULL
);

CREATE INDEX "ix_ended_sessions_ended_at" ON "ended_sessions" ("ended_at");

-- Tokens issued before this migration were all issued by the v1 routes or by seed routes that did not rotate
-- them; v1 is the safe reading (a seed client logs in again).
ALTER TABLE "refresh_tokens" ADD COLUMN "dialect" TEXT NOT NULL DEFAULT 'v1';
