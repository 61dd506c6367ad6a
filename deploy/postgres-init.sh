#!/bin/sh
# Run once by the postgres image on a new data directory (docker-entrypoint-initdb.d): the schema's
# owner (used only by `disputes migrate`), the database it owns, the group role the application's
# rights go to (migration 0030 grants them), and the login user the API and the workers connect as.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v owner_password="$DISPUTES_OWNER_PASSWORD" -v app_password="$DISPUTES_APP_PASSWORD" <<'SQL'
CREATE ROLE disputes_owner LOGIN PASSWORD :'owner_password';
CREATE DATABASE disputes OWNER disputes_owner;
CREATE ROLE disputes_app NOLOGIN;
CREATE ROLE disputes_server LOGIN PASSWORD :'app_password' IN ROLE disputes_app;
SQL
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname disputes <<'SQL'
-- PostgreSQL before 15 lets everyone create in schema public: only the owner may.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
ALTER SCHEMA public OWNER TO disputes_owner;
SQL
