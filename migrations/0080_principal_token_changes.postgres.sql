-- Token checks are served from each server process's memory; a change to a token (revoked, its
-- expiry changed, removed) must reach every process before its next request. On PostgreSQL each
-- such change, whoever makes it, notifies channel disputes_principal_tokens when it commits; every
-- server process listens there and forgets what it knew.
CREATE FUNCTION principal_tokens_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('disputes_principal_tokens', TG_OP);
    RETURN NULL;
END
$$;

CREATE TRIGGER principal_tokens_changed AFTER UPDATE OR DELETE OR TRUNCATE ON principal_tokens
FOR EACH STATEMENT EXECUTE FUNCTION principal_tokens_changed();
