-- Snapshots are a cache of the events, written once each: the database refuses to change or remove
-- one, whoever connects, as it does for the events (0002). No command ever decides on a snapshot (the
-- application rebuilds every aggregate from its events), and `disputes verify-store` checks each
-- snapshot against the replay of its events. An operator who must drop snapshots (after a change of
-- the domain model) does so as a superuser, disabling these triggers for that one statement.

CREATE OR REPLACE FUNCTION public.disputes_snapshots_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'disputes_snapshots is append-only: % refused', TG_OP
        USING HINT = 'a snapshot is written once; the events are the record';
END;
$$;

CREATE TRIGGER disputes_snapshots_no_update
    BEFORE UPDATE ON public.disputes_snapshots
    FOR EACH ROW EXECUTE FUNCTION public.disputes_snapshots_refuse_change();

CREATE TRIGGER disputes_snapshots_no_delete
    BEFORE DELETE ON public.disputes_snapshots
    FOR EACH ROW EXECUTE FUNCTION public.disputes_snapshots_refuse_change();

CREATE TRIGGER disputes_snapshots_no_truncate
    BEFORE TRUNCATE ON public.disputes_snapshots
    FOR EACH STATEMENT EXECUTE FUNCTION public.disputes_snapshots_refuse_change();
