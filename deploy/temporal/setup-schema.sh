#!/bin/sh
# One-shot (temporalio/admin-tools): brings Temporal's two databases to the schema of the pinned
# server. The databases themselves are created by deploy/postgres/init-databases.sh.
# setup-schema -v 0.0 only stamps a database that has no version yet and update-schema applies
# just the missing versions, so this runs again harmlessly at every `docker compose up`.
set -eu
: "${POSTGRES_SEEDS:?}" "${POSTGRES_USER:?}" "${SQL_PASSWORD:?}"
schema=/etc/temporal/schema/postgresql/v12
for db in temporal visibility; do
  name=$([ "$db" = temporal ] && echo temporal || echo temporal_visibility)
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "${DB_PORT:-5432}" -u "$POSTGRES_USER" --db "$name" setup-schema -v 0.0
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "${DB_PORT:-5432}" -u "$POSTGRES_USER" --db "$name" update-schema -d "$schema/$db/versioned"
done
echo 'temporal schema ready'
