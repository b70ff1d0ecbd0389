-- Once, as a PostgreSQL administrator, before the first publish:
--
--   psql -v ON_ERROR_STOP=1 -v publisher_password="$PUBLISHER_PASSWORD" -v dagster_password="$DAGSTER_PASSWORD" \
--        -h DBHOST -U postgres -d postgres -f deploy/postgres/setup.sql
--
-- The pipeline then publishes with STYRINGSDATA_POSTGRES_URL=postgresql://styringsdata_publisher@DBHOST:5432/styringsdata
-- (password in PGPASSWORD or ~/.pgpass), and Dagster stores its runs with DAGSTER_PG_USERNAME=dagster, DAGSTER_PG_DB=dagster.
-- tests/pipeline/test_postgres_team.py runs this file against a throwaway server.

-- Publishes: owns the warehouse database, so it may create the schemas it switches between. No other rights.
create role styringsdata_publisher login password :'publisher_password';
-- What BI tools read with: granted USAGE on the live schema and SELECT on its tables by every publish.
create role styringsdata_reader nologin;
create database styringsdata owner styringsdata_publisher;
-- So that a publish held back by a reader's open transaction can name that session (user, application, since when).
grant pg_read_all_stats to styringsdata_publisher;

-- Dagster's instance (runs, event logs, schedules, sensors): its own login and database.
create role dagster login password :'dagster_password';
create database dagster owner dagster;

\connect styringsdata
-- Readers get nothing but what each publication grants them (PostgreSQL 15 already keeps PUBLIC out of `public`).
revoke create on schema public from public;
revoke all on database styringsdata from public;
grant connect on database styringsdata to styringsdata_reader, styringsdata_publisher;

-- A BI login (one per tool or team), read-only through the reader role:
--   create role powerbi login password '...' in role styringsdata_reader;
--   alter role powerbi set search_path = styringsdata;
--   -- a tool that leaves a transaction open would hold back the next publication (STYRINGSDATA_POSTGRES_SWAP_WAIT):
--   alter role powerbi set idle_in_transaction_session_timeout = '5min';
