#!/bin/bash
# es-gateway-entrypoint: secrets from mounted files (*_FILE), then exec the
# gateway (PID 1 gets SIGTERM and drains).  The database password goes to
# libpq as PGPASSWORD, so ES_DATABASE_URL carries no secret.
set -euo pipefail
if [ -n "${ES_JWT_SECRET_FILE:-}" ]; then
	ES_JWT_SECRET=$(tr -d '\n' <"$ES_JWT_SECRET_FILE")
	export ES_JWT_SECRET
fi
if [ -n "${ES_DATABASE_PASSWORD_FILE:-}" ]; then
	PGPASSWORD=$(tr -d '\n' <"$ES_DATABASE_PASSWORD_FILE")
	export PGPASSWORD
fi
# the shared fallback cache: the Redis password from its secret file
if [ -n "${ES_REDIS_HOST:-}" ]; then
	auth=""
	[ -z "${ES_REDIS_PASSWORD_FILE:-}" ] || auth=":$(tr -d '\n' <"$ES_REDIS_PASSWORD_FILE")@"
	export ES_REDIS_URL="redis://${auth}${ES_REDIS_HOST}"
fi
# compose passes unset optional settings as empty strings: empty = not set
for v in ES_JWT_AUDIENCE ES_JWT_ISSUER; do
	[ -n "${!v:-}" ] || unset "$v"
done
exec /usr/local/bin/es-gateway "$@"
