-- 0012: the audit log of admin actions (docs/security.md), with the settings history copied in so the log is complete.
-- runtime_setting_changes stays (the settings page reads it); new setting changes are written to both.

CREATE TABLE "audit_log" (
    "id" INTEGER NOT NULL CONSTRAINT "pk_audit_log" PRIMARY KEY AUTOINCREMENT,
    "occurred_at" TEXT NOT NULL,
    "actor_id" INTEGER NULL,
    "actor_name" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "entity_type" TEXT NOT NULL,
    "entity_id" TEXT NOT NULL,
    "before_json" TEXT NULL,
    "after_json" TEXT NULL,
    "request_id" TEXT NULL
);

CREATE INDEX "ix_audit_log_occurred_at_id" ON "audit_log" ("occurred_at", "id");

CREATE INDEX "ix_audit_log_actor_id_occurred_at" ON "audit_log" ("actor_id", "occurred_at");

CREATE INDEX "ix_audit_log_action_occurred_at" ON "audit_log" ("action", "occurred_at");

CREATE INDEX "ix_audit_log_entity_type_entity_id_occurred_at" ON "audit_log" ("entity_type", "entity_id", "occurred_at");

INSERT INTO "audit_log" ("occurred_at", "actor_id", "actor_name", "action", "entity_type", "entity_id", "before_json", "after_json", "request_id")
SELECT c."changed_at", c."changed_by",
       CASE WHEN c."changed_by" IS NULL THEN 'system' ELSE COALESCE(u."user_name", u."email", 'user ' || c."changed_by") END,
       'setting.updated', 'setting', c."key",
       CASE WHEN c."old_value" IS NULL THEN NULL ELSE json_object('value', CAST(c."old_value" AS INTEGER)) END,
       json_object('value', CAST(c."new_value" AS INTEGER)),
       NULL
FROM "runtime_setting_changes" AS c
LEFT JOIN "users" AS u ON u."id" = c."changed_by"
ORDER BY c."id";
