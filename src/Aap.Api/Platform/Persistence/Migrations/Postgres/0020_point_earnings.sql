-- 0020: the leaderboard and the dashboard's "points issued" read totals kept with the ledger instead of aggregating
-- it (docs/benchmarks.md, "The leaderboard and points issued over a million ledger entries").
-- point_earnings: per user, the points earned from completions with reversals deducted, what the all-time
-- leaderboard ranks; its partial index is in the board's order (points descending, then the older account), so that
-- a page is a range of it. Statement triggers on point_ledger keep it exact on every insert, update and delete
-- (cascades from a deleted user and SQL by hand included), one upsert per user a statement changes, in key order. A
-- credit or reversal holds its user's row until it commits: users never wait for each other on it, and AAP writes
-- the balance before the ledger entry on every path (RewardsService), so that the two rows of a user are always
-- taken in the same order.
-- point_totals: the sum of every balance ("points issued") and the number of users on the board (the page's total),
-- in 16 rows by user id (user_id % 16), summed on read, kept by statement triggers the same way (the number by
-- triggers on point_earnings). One row would be held by every credit of every user until its commit, so that completions
-- would be committed one after the other; with 16, two credits wait for each other only when their users share a
-- slot. AAP writes the ledger last in each of its transactions but for a reversal's audit record (RewardsService), so
-- that a transaction waiting for a slot holds nothing the slot's holder still waits for (no deadlock with
-- completion_totals or the balances). A transfer's two entries are not added: they cancel out in the transaction
-- that writes them, as they do in the balances. The script fills both tables from the existing rows.
-- Additive: older nodes do not read the tables, and the triggers count their writes too.

CREATE TABLE point_earnings (
    user_id bigint NOT NULL,
    points bigint NOT NULL,
    CONSTRAINT pk_point_earnings PRIMARY KEY (user_id),
    CONSTRAINT fk_point_earnings_users_user_id FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);

CREATE INDEX ix_point_earnings_points_user_id ON point_earnings (points DESC, user_id) WHERE points > 0;

CREATE TABLE point_totals (
    slot smallint NOT NULL,
    points bigint NOT NULL,
    ranked bigint NOT NULL,
    CONSTRAINT pk_point_totals PRIMARY KEY (slot)
);

INSERT INTO point_earnings (user_id, points)
SELECT user_id, sum(amount) FROM point_ledger WHERE reason IN ('completion', 'reversal') GROUP BY user_id;

INSERT INTO point_totals (slot, points, ranked)
SELECT s.slot, coalesce(b.points, 0), coalesce(e.ranked, 0)
FROM generate_series(0, 15) AS s(slot)
LEFT JOIN (SELECT user_id % 16 AS slot, sum(balance) AS points FROM point_balances GROUP BY 1) AS b ON b.slot = s.slot
LEFT JOIN (SELECT user_id % 16 AS slot, count(*) AS ranked FROM point_earnings WHERE points > 0 GROUP BY 1) AS e ON e.slot = s.slot;

CREATE FUNCTION point_ledger_earnings() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO point_earnings AS e (user_id, points)
        SELECT user_id, sum(amount) FROM new_rows WHERE reason IN ('completion', 'reversal')
        GROUP BY user_id ORDER BY user_id
        ON CONFLICT (user_id) DO UPDATE SET points = e.points + excluded.points;
    ELSIF TG_OP = 'DELETE' THEN
        -- An update, not an upsert: when a user is deleted, their row may already be gone by cascade.
        UPDATE point_earnings AS e SET points = e.points - d.points
        FROM (SELECT user_id, sum(amount) AS points FROM old_rows WHERE reason IN ('completion', 'reversal') GROUP BY user_id) AS d
        WHERE e.user_id = d.user_id;
    ELSE
        INSERT INTO point_earnings AS e (user_id, points)
        SELECT user_id, sum(p) FROM (
            SELECT user_id, amount AS p FROM new_rows WHERE reason IN ('completion', 'reversal')
            UNION ALL
            SELECT user_id, -amount FROM old_rows WHERE reason IN ('completion', 'reversal')
        ) AS d
        GROUP BY user_id
        HAVING sum(p) <> 0
        ORDER BY user_id
        ON CONFLICT (user_id) DO UPDATE SET points = e.points + excluded.points;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER point_ledger_earnings_insert AFTER INSERT ON point_ledger
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION point_ledger_earnings();

CREATE TRIGGER point_ledger_earnings_delete AFTER DELETE ON point_ledger
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION point_ledger_earnings();

CREATE TRIGGER point_ledger_earnings_update AFTER UPDATE ON point_ledger
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION point_ledger_earnings();

-- Adds what a statement changed, per slot, in slot order: rows of transfers' entries are left out when inserted.
CREATE FUNCTION point_ledger_issued() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO point_totals AS p (slot, points, ranked)
        SELECT user_id % 16, sum(amount), 0 FROM new_rows WHERE reason NOT IN ('transfer_in', 'transfer_out')
        GROUP BY 1 ORDER BY 1
        ON CONFLICT (slot) DO UPDATE SET points = p.points + excluded.points;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO point_totals AS p (slot, points, ranked)
        SELECT user_id % 16, -sum(amount), 0 FROM old_rows
        GROUP BY 1 ORDER BY 1
        ON CONFLICT (slot) DO UPDATE SET points = p.points + excluded.points;
    ELSE
        INSERT INTO point_totals AS p (slot, points, ranked)
        SELECT slot, sum(points), 0 FROM (
            SELECT user_id % 16 AS slot, amount AS points FROM new_rows
            UNION ALL
            SELECT user_id % 16, -amount FROM old_rows
        ) AS d
        GROUP BY slot
        HAVING sum(points) <> 0
        ORDER BY slot
        ON CONFLICT (slot) DO UPDATE SET points = p.points + excluded.points;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER point_ledger_issued_insert AFTER INSERT ON point_ledger
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION point_ledger_issued();

CREATE TRIGGER point_ledger_issued_delete AFTER DELETE ON point_ledger
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION point_ledger_issued();

CREATE TRIGGER point_ledger_issued_update AFTER UPDATE ON point_ledger
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION point_ledger_issued();

-- The users on the board: rows of point_earnings entering or leaving it (above zero or not), or deleted, per slot.
CREATE FUNCTION point_earnings_ranked() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO point_totals AS t (slot, points, ranked)
        SELECT user_id % 16, 0, count(*) FROM new_rows WHERE points > 0
        GROUP BY 1 ORDER BY 1
        ON CONFLICT (slot) DO UPDATE SET ranked = t.ranked + excluded.ranked;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO point_totals AS t (slot, points, ranked)
        SELECT user_id % 16, 0, -count(*) FROM old_rows WHERE points > 0
        GROUP BY 1 ORDER BY 1
        ON CONFLICT (slot) DO UPDATE SET ranked = t.ranked + excluded.ranked;
    ELSE
        INSERT INTO point_totals AS t (slot, points, ranked)
        SELECT slot, 0, sum(n) FROM (
            SELECT user_id % 16 AS slot, 1 AS n FROM new_rows WHERE points > 0
            UNION ALL
            SELECT user_id % 16, -1 FROM old_rows WHERE points > 0
        ) AS d
        GROUP BY slot
        HAVING sum(n) <> 0
        ORDER BY slot
        ON CONFLICT (slot) DO UPDATE SET ranked = t.ranked + excluded.ranked;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER point_earnings_ranked_insert AFTER INSERT ON point_earnings
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION point_earnings_ranked();

CREATE TRIGGER point_earnings_ranked_delete AFTER DELETE ON point_earnings
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION point_earnings_ranked();

CREATE TRIGGER point_earnings_ranked_update AFTER UPDATE ON point_earnings
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION point_earnings_ranked();
