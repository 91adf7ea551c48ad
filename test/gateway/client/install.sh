#!/usr/bin/env bash
# Install the pinned npm tools of test/gateway/client (package-lock.json) with
# `npm ci`, unless node_modules already holds exactly that lock file.
# Usage: test/gateway/client/install.sh LOGFILE; exit 0 when the tools are there.
set -u
CLIENT=$(cd "$(dirname "$0")" && pwd)
LOG=${1:-/dev/null}
command -v node >/dev/null && command -v npm >/dev/null ||
	{ echo "node and npm are needed (make deps)" >"$LOG"; exit 1; }
if ! cmp -s "$CLIENT/package-lock.json" "$CLIENT/node_modules/.package-lock.stamp" 2>/dev/null; then
	(cd "$CLIENT" && npm ci --no-audit --no-fund) >"$LOG" 2>&1 || exit 1
	cp "$CLIENT/package-lock.json" "$CLIENT/node_modules/.package-lock.stamp"
fi
[ -x "$CLIENT/node_modules/.bin/redocly" ] && [ -x "$CLIENT/node_modules/.bin/tsc" ]
