-- 0001: the apps catalog (categories and apps).
CREATE TABLE "app_categories" (
    "id" INTEGER NOT NULL CONSTRAINT "pk_app_categories" PRIMARY KEY AUTOINCREMENT,
    "slug" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "created_at" TEXT NOT NULL,
    "updated_at" TEXT NOT NULL
);

CREATE TABLE "apps" (
    "id" INTEGER NOT NULL CONSTRAINT "pk_apps" PRIMARY KEY AUTOINCREMENT,
    "name" TEXT NOT NULL,
    "normalized_name" TEXT NOT NULL,
    "link" TEXT NOT NULL,
    "points" INTEGER NOT NULL,
    "description" TEXT NULL,
    "category_id" INTEGER NULL,
    "is_active" INTEGER NOT NULL,
    "created_at" TEXT NOT NULL,
    "updated_at" TEXT NOT NULL,
    "deleted_at" TEXT NULL,
    "version" INTEGER NOT NULL DEFAULT 1,
    CONSTRAINT "fk_apps_app_categories_category_id" FOREIGN KEY ("category_id") REFERENCES "app_categories" ("id") ON DELETE RESTRICT
);

CREATE UNIQUE INDEX "ix_app_categories_slug" ON "app_categories" ("slug");

CREATE INDEX "ix_apps_category_id" ON "apps" ("category_id");

CREATE INDEX "ix_apps_is_active_created_at" ON "apps" ("is_active", "created_at");

CREATE UNIQUE INDEX "ix_apps_normalized_name" ON "apps" ("normalized_name") WHERE deleted_at IS NULL;

