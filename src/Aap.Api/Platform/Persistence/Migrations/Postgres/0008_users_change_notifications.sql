-- 0008: every committed change of users rows is announced on the channel aap_profile_changes, whatever made it
-- (AAP, a bulk update, SQL by hand), so that every node evicts those accounts from its cache (ADR 6). A
-- notification is sent only if its transaction commits. The payload is the changed ids, comma-separated, or '*'
-- when a statement changed more than 200 rows (a notification holds at most 8,000 bytes).

CREATE FUNCTION announce_users_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    changed bigint;
    ids text;
BEGIN
    SELECT count(*), string_agg(id::text, ',') INTO changed, ids FROM (SELECT id FROM old_rows LIMIT 201) AS some_rows;
    IF changed > 200 THEN
        PERFORM pg_notify('aap_profile_changes', '*');
    ELSIF changed > 0 THEN
        PERFORM pg_notify('aap_profile_changes', ids);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER users_announce_update AFTER UPDATE ON users
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION announce_users_change();

CREATE TRIGGER users_announce_delete AFTER DELETE ON users
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION announce_users_change();
