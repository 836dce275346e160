#!/bin/sh
# One-shot (temporalio/admin-tools) after the server is healthy: the namespace the application uses
# and the custom search attributes of the reservation workflow (domain/reservation-workflow-contract.ts).
# Every step checks before it creates, so it runs again harmlessly at every `docker compose up`.
set -eu
: "${TEMPORAL_ADDRESS:?}" "${TEMPORAL_NAMESPACE:?}"
attempt=0
until temporal operator cluster health --address "$TEMPORAL_ADDRESS"; do
  attempt=$((attempt + 1))
  [ "$attempt" -lt 30 ] || { echo 'temporal did not become healthy' >&2; exit 1; }
  sleep 2
done
# Closed workflows' histories are kept 72 h, as in development (domain/retention.ts); set on every run.
if temporal operator namespace describe --address "$TEMPORAL_ADDRESS" --namespace "$TEMPORAL_NAMESPACE" >/dev/null 2>&1; then
  temporal operator namespace update --address "$TEMPORAL_ADDRESS" --namespace "$TEMPORAL_NAMESPACE" --retention 72h
else
  temporal operator namespace create --address "$TEMPORAL_ADDRESS" --namespace "$TEMPORAL_NAMESPACE" --retention 72h
fi
for name in SaleId ShopperId ReservationStatus; do
  if temporal operator search-attribute list --address "$TEMPORAL_ADDRESS" --namespace "$TEMPORAL_NAMESPACE" | grep -qw "$name"; then
    echo "search attribute $name exists"
  else
    temporal operator search-attribute create --address "$TEMPORAL_ADDRESS" --namespace "$TEMPORAL_NAMESPACE" --name "$name" --type Keyword
  fi
done
echo 'temporal namespace and search attributes ready'
