-- 0018: the admin dashboard's completions-per-day chart reads completion_days, one row per UTC day and app with the
-- number of completions created that day, instead of counting a range of ix_app_completions_created_at per day
-- (about 18,000 index entries a day at a million completions, docs/benchmarks.md, "dashboard"). Statement triggers
-- keep it exact on every insert, update and delete of app_completions (cascades and SQL by hand included), one
-- upsert per day and app a statement changes, in key order; the script fills it from the existing rows. A row is per
-- app as well as per day so that completions of different apps never wait for each other on it: a completion's
-- transaction already holds its app's completion_totals row (0014) until it commits.
-- Additive: older nodes do not read the table, and the triggers count their writes too.

CREATE TABLE completion_days (
    day date NOT NULL,
    app_id bigint NOT NULL,
    completions bigint NOT NULL,
    CONSTRAINT pk_completion_days PRIMARY KEY (day, app_id)
);

INSERT INTO completion_days (day, app_id, completions)
SELECT (created_at AT TIME ZONE 'UTC')::date, app_id, count(*) FROM app_completions
GROUP BY (created_at AT TIME ZONE 'UTC')::date, app_id;

CREATE FUNCTION app_completions_days() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO completion_days AS d (day, app_id, completions)
        SELECT (created_at AT TIME ZONE 'UTC')::date, app_id, count(*) FROM new_rows
        GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (day, app_id) DO UPDATE SET completions = d.completions + excluded.completions;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO completion_days AS d (day, app_id, completions)
        SELECT (created_at AT TIME ZONE 'UTC')::date, app_id, -count(*) FROM old_rows
        GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (day, app_id) DO UPDATE SET completions = d.completions + excluded.completions;
    ELSE
        -- A review changes neither the day nor the app: the difference is empty and nothing is written.
        INSERT INTO completion_days AS d (day, app_id, completions)
        SELECT day, app_id, sum(n) FROM (
            SELECT (created_at AT TIME ZONE 'UTC')::date AS day, app_id, 1 AS n FROM new_rows
            UNION ALL
            SELECT (created_at AT TIME ZONE 'UTC')::date, app_id, -1 FROM old_rows
        ) AS c
        GROUP BY day, app_id
        HAVING sum(n) <> 0
        ORDER BY day, app_id
        ON CONFLICT (day, app_id) DO UPDATE SET completions = d.completions + excluded.completions;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER app_completions_days_insert AFTER INSERT ON app_completions
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app_completions_days();

CREATE TRIGGER app_completions_days_delete AFTER DELETE ON app_completions
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION app_completions_days();

CREATE TRIGGER app_completions_days_update AFTER UPDATE ON app_completions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app_completions_days();
