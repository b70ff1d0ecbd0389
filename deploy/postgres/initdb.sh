#!/bin/sh
# Run once by the postgres image on an empty data volume: setup.sql with the passwords from the environment.
set -e
psql -v ON_ERROR_STOP=1 -v publisher_password="$PUBLISHER_PASSWORD" -v dagster_password="$DAGSTER_PASSWORD" \
     --username "${POSTGRES_USER:-postgres}" --dbname postgres -f /opt/setup/setup.sql
