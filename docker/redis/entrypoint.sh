#!/bin/bash
# es-redis-entrypoint: requirepass from $REDIS_PASSWORD_FILE (not argv, where
# ps would show it), no persistence (a cache), then exec redis-server.
set -euo pipefail
conf=$(mktemp /tmp/redis.XXXXXX.conf)
chmod 600 "$conf"
{
	echo "bind 0.0.0.0"
	echo "protected-mode no"
	echo "save \"\""
	echo "appendonly no"
	echo "maxmemory ${REDIS_MAXMEMORY:-256mb}"
	echo "maxmemory-policy allkeys-lru"
	printf 'requirepass %s\n' "$(tr -d '\n' <"$REDIS_PASSWORD_FILE")"
} >"$conf"
exec redis-server "$conf"
