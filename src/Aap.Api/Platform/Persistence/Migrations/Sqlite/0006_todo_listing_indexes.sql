-- 0006: to-do listing indexes that end in id (the ORDER BY tie-break); SQLite has no INCLUDE.

CREATE INDEX "ix_todo_tasks_owner_id_created_at_id" ON "todo_tasks" ("owner_id", "created_at", "id");

CREATE INDEX "ix_todo_tasks_owner_id_status_created_at_id" ON "todo_tasks" ("owner_id", "status", "created_at", "id");

CREATE INDEX "ix_todo_tasks_owner_id_due_date_id" ON "todo_tasks" ("owner_id", "due_date", "id");

DROP INDEX "ix_todo_tasks_owner_id_created_at";

DROP INDEX "ix_todo_tasks_owner_id_status_created_at";

DROP INDEX "ix_todo_tasks_owner_id_due_date";
