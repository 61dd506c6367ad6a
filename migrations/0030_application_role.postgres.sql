-- Least privilege: the group role disputes_app holds exactly what the running processes (server,
-- projection workers, deadline engine, CLI commands other than migrate) need, and nothing more.
-- Operators create a LOGIN user IN ROLE disputes_app for them; `disputes migrate` keeps running as
-- the owner of the schema (DISPUTES_MIGRATION_DATABASE_URL). See docs/operations.md.
--
--   event store (disputes_events, disputes_snapshots) and audit_seal: SELECT and INSERT only, so a
--       recorded event or seal can be neither changed nor removed by the application, whatever its
--       bugs; the append-only triggers of 0002 and 0011 stay as a second guard against the owner;
--   disputes_events_lock(): the EXCLUSIVE table lock that keeps notification order equal to commit
--       order (LOCK TABLE in that mode would need UPDATE, DELETE or TRUNCATE on the table);
--   principal_tokens, projection_positions: read, add, change (tokens are revoked, never deleted);
--   read models, idempotency_keys: read, add, change, delete (views are rebuilt, keys expire);
--   schema_migrations: read (a process refuses to start on a database not fully migrated).
-- No ownership, no CREATE on the schema, no TRUNCATE, no REFERENCES or TRIGGER anywhere.
--
-- Roles belong to the whole cluster; several databases (deployments, test runs) may create this one
-- at the same moment. A role already there is kept as it is, so a DBA may create it beforehand
-- (CREATE ROLE disputes_app NOLOGIN) when the migration owner lacks CREATEROLE.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'disputes_app') THEN
        BEGIN
            CREATE ROLE disputes_app NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;  -- another database of the cluster created it just now
        END;
    END IF;
END
$$;

-- Runs as its owner (the migration owner), for whoever may execute it; a fixed search_path so that no
-- caller's objects are found instead of the catalog's. The lock lasts to the end of the caller's
-- transaction, as LOCK TABLE's does. event_store.EventTableRecorder calls it before each insert.
CREATE OR REPLACE FUNCTION public.disputes_events_lock() RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    LOCK TABLE public.disputes_events IN EXCLUSIVE MODE;
END;
$$;

REVOKE ALL ON FUNCTION public.disputes_events_lock() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.disputes_events_lock() TO disputes_app;

GRANT USAGE ON SCHEMA public TO disputes_app;

DO $$
BEGIN
    -- A database's name is not known here; CONNECT and TEMPORARY (the projections' staging tables)
    -- are PUBLIC's by default, granted explicitly so an operator may revoke them from PUBLIC.
    EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO disputes_app', current_database());
END
$$;

GRANT SELECT, INSERT ON public.disputes_events, public.disputes_snapshots, public.audit_seal
    TO disputes_app;
GRANT USAGE ON SEQUENCE public.disputes_events_notification_id_seq TO disputes_app;

GRANT SELECT ON public.schema_migrations TO disputes_app;

GRANT SELECT, INSERT, UPDATE ON public.principal_tokens, public.projection_positions TO disputes_app;

GRANT SELECT, INSERT, UPDATE, DELETE ON
    public.idempotency_keys,
    public.read_claims,
    public.read_queue,
    public.read_timeline,
    public.read_timeline_heads,
    public.read_scorecard_facts,
    public.read_audit_facts,
    public.read_deadlines
    TO disputes_app;

-- The rule for every later migration: tables it creates (as the same owner, in schema public) are the
-- application's to read and write, like the read models; sequences it creates may be used. A table
-- that must stay append-only revokes UPDATE and DELETE in a PostgreSQL migration of its own (as this
-- one treats the event store and audit_seal), and tests/integration/test_application_role.py checks
-- every table's grants against that rule.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO disputes_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE ON SEQUENCES TO disputes_app;
