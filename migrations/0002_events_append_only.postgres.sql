-- The event store is append-only: recorded events are never changed or removed (E-Commerce Law,
-- Art. 31: transaction records kept complete and unaltered). The database itself refuses UPDATE,
-- DELETE and TRUNCATE on disputes_events, whoever connects.
--
-- `disputes migrate` creates the eventsourcing tables (the library's DDL) before any numbered migration.
-- This file still creates disputes_events itself with exactly the DDL of eventsourcing 9.5
-- (PostgresApplicationRecorder, application name "disputes", schema public, ORIGINATOR_ID_TYPE uuid),
-- guarded by IF NOT EXISTS, as it did when the running processes created the tables; whichever ran
-- first made the same table. If the library's DDL or the originator id type ever changes, change it
-- here too. The composite type (stored_event_uuid) and the insert function are the library's.
--
-- SQLite has no such guard: its file is the operator's to protect (file permissions, backups), and the
-- sealed audit chain finds any tampering with stored rows on both backends.

CREATE TABLE IF NOT EXISTS public.disputes_events (
    originator_id uuid NOT NULL,
    originator_version bigint NOT NULL,
    topic text,
    state bytea,
    notification_id bigserial,
    PRIMARY KEY (originator_id, originator_version)
) WITH (
    autovacuum_enabled = true,
    autovacuum_vacuum_threshold = 100000000,
    autovacuum_vacuum_scale_factor = 0.5,
    autovacuum_analyze_threshold = 1000,
    autovacuum_analyze_scale_factor = 0.01
);

CREATE UNIQUE INDEX IF NOT EXISTS disputes_events_notification_id_idx
    ON public.disputes_events (notification_id ASC);

CREATE OR REPLACE FUNCTION public.disputes_events_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'disputes_events is append-only: % refused', TG_OP
        USING HINT = 'recorded events are never changed or removed; record a new event instead';
END;
$$;

CREATE TRIGGER disputes_events_no_update
    BEFORE UPDATE ON public.disputes_events
    FOR EACH ROW EXECUTE FUNCTION public.disputes_events_refuse_change();

CREATE TRIGGER disputes_events_no_delete
    BEFORE DELETE ON public.disputes_events
    FOR EACH ROW EXECUTE FUNCTION public.disputes_events_refuse_change();

CREATE TRIGGER disputes_events_no_truncate
    BEFORE TRUNCATE ON public.disputes_events
    FOR EACH STATEMENT EXECUTE FUNCTION public.disputes_events_refuse_change();
