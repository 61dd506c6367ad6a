-- The seal is append-only like the events it seals: the database refuses UPDATE, DELETE and TRUNCATE
-- on audit_seal, whoever connects. (A superuser can still disable the triggers; what the seal protects
-- is then the exported bundles already in regulators' hands, which carry the same hashes.)
CREATE OR REPLACE FUNCTION public.audit_seal_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_seal is append-only: % refused', TG_OP
        USING HINT = 'the seal of a recorded event never changes';
END;
$$;

CREATE TRIGGER audit_seal_no_update
    BEFORE UPDATE ON public.audit_seal
    FOR EACH ROW EXECUTE FUNCTION public.audit_seal_refuse_change();

CREATE TRIGGER audit_seal_no_delete
    BEFORE DELETE ON public.audit_seal
    FOR EACH ROW EXECUTE FUNCTION public.audit_seal_refuse_change();

CREATE TRIGGER audit_seal_no_truncate
    BEFORE TRUNCATE ON public.audit_seal
    FOR EACH STATEMENT EXECUTE FUNCTION public.audit_seal_refuse_change();
