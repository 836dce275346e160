#!/bin/sh
# Runs once, when the postgres-data volume is first initialised (docker-entrypoint-initdb.d):
# one role and database for the application, one role and two databases for Temporal. The
# passwords come from the container's environment (docker-compose.yml), never from this file.
set -eu
: "${APP_DB_PASSWORD:?}"
: "${TEMPORAL_DB_PASSWORD:?}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v app_password="$APP_DB_PASSWORD" -v temporal_password="$TEMPORAL_DB_PASSWORD" <<'SQL'
CREATE ROLE flash_sale LOGIN PASSWORD :'app_password';
CREATE DATABASE flash_sale OWNER flash_sale;
CREATE ROLE temporal LOGIN PASSWORD :'temporal_password';
CREATE DATABASE temporal OWNER temporal;
CREATE DATABASE temporal_visibility OWNER temporal;
SQL
