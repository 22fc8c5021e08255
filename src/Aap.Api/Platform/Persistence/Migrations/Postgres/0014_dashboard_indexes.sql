-- 0014: what the admin dashboard reads (docs/benchmarks.md, "dashboard"). The per-day charts count one day at a time
-- on created_at; the counts by status and the points per app come from completion_totals, one row per app and
-- status that statement triggers keep exact on every insert, update and delete of app_completions (cascades and SQL
-- by hand included), so that the dashboard reads a few hundred rows instead of every completion. Each statement
-- adds its rows' totals in one upsert per app and status; a completion's transaction holds that row's lock until it
-- commits, so completions of one app are committed one after the other (each is a short transaction).

CREATE INDEX ix_app_completions_created_at ON app_completions (created_at);

CREATE INDEX ix_users_created_at ON users (created_at);

-- The accounts' totals (active, admins) count this narrow index rather than the wide rows of users.
CREATE INDEX ix_users_is_active_role ON users (is_active, role);

CREATE TABLE completion_totals (
    app_id bigint NOT NULL,
    status character varying(20) NOT NULL,
    completions bigint NOT NULL,
    points bigint NOT NULL,
    CONSTRAINT pk_completion_totals PRIMARY KEY (app_id, status)
);

INSERT INTO completion_totals (app_id, status, completions, points)
SELECT app_id, status, count(*), sum(points) FROM app_completions GROUP BY app_id, status;

-- Adds what a statement changed, per app and status; the rows are upserted in key order, so that two statements
-- never wait for each other in a cycle.
CREATE FUNCTION app_completions_totals() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO completion_totals AS t (app_id, status, completions, points)
        SELECT app_id, status, count(*), sum(points) FROM new_rows GROUP BY app_id, status ORDER BY app_id, status
        ON CONFLICT (app_id, status) DO UPDATE SET completions = t.completions + excluded.completions, points = t.points + excluded.points;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO completion_totals AS t (app_id, status, completions, points)
        SELECT app_id, status, -count(*), -sum(points) FROM old_rows GROUP BY app_id, status ORDER BY app_id, status
        ON CONFLICT (app_id, status) DO UPDATE SET completions = t.completions + excluded.completions, points = t.points + excluded.points;
    ELSE
        INSERT INTO completion_totals AS t (app_id, status, completions, points)
        SELECT app_id, status, sum(n), sum(p) FROM (
            SELECT app_id, status, 1 AS n, points::bigint AS p FROM new_rows
            UNION ALL
            SELECT app_id, status, -1, -points::bigint FROM old_rows
        ) AS d
        GROUP BY app_id, status
        HAVING sum(n) <> 0 OR sum(p) <> 0
        ORDER BY app_id, status
        ON CONFLICT (app_id, status) DO UPDATE SET completions = t.completions + excluded.completions, points = t.points + excluded.points;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER app_completions_totals_insert AFTER INSERT ON app_completions
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app_completions_totals();

CREATE TRIGGER app_completions_totals_delete AFTER DELETE ON app_completions
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION app_completions_totals();

CREATE TRIGGER app_completions_totals_update AFTER UPDATE ON app_completions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app_completions_totals();
