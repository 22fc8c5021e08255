-- 0003: personal to-do tasks.

CREATE TABLE "todo_tasks" (
    "id" INTEGER NOT NULL CONSTRAINT "pk_todo_tasks" PRIMARY KEY AUTOINCREMENT,
    "owner_id" INTEGER NOT NULL,
    "title" TEXT NOT NULL,
    "description" TEXT NULL,
    "status" TEXT NOT NULL,
    "priority" INTEGER NOT NULL,
    "due_date" TEXT NULL,
    "completed_at" TEXT NULL,
    "created_at" TEXT NOT NULL,
    "updated_at" TEXT NOT NULL,
    "deleted_at" TEXT NULL,
    "version" INTEGER NOT NULL DEFAULT 1,
    CONSTRAINT "fk_todo_tasks_users_owner_id" FOREIGN KEY ("owner_id") REFERENCES "users" ("id") ON DELETE CASCADE
);

CREATE INDEX "ix_todo_tasks_owner_id_created_at" ON "todo_tasks" ("owner_id", "created_at");

CREATE INDEX "ix_todo_tasks_owner_id_due_date" ON "todo_tasks" ("owner_id", "due_date");

CREATE INDEX "ix_todo_tasks_owner_id_status_created_at" ON "todo_tasks" ("owner_id", "status", "created_at");
