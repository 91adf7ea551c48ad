#!/usr/bin/env bash
# The README examples, executed: every ```sql and ```sh/```bash/```console
# block of README.md and gateway/README.md runs in order and its shown output
# is compared (convention and normalisation: test/docs/examples.py).
#
# Each file gets a fresh cluster (es_saas preloaded, its projection worker
# serving the file's database, as `make run` does) on a free 127.0.0.1 port:
#   README.md          database mydb, empty: the examples create the extension
#   gateway/README.md  database es_demo as `make run` leaves it (extension,
#                      demo/app.sql, demo/demo.sql) and an es-gateway on a free
#                      127.0.0.1 port, HS256 tokens minted with openssl as
#                      make run and test/gateway/run_e2e.sh do: $ADMIN (roles
#                      ["admin"]) and $TENANT (tenant "demo")
# Needs es_saas installed (make install) and root (clusters run as postgres).
# Usage: test/docs/run_examples.sh [FILE.md...]   prints TAP per file.
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
export ES_DOCS_ROOT=$root

tmp=$(mktemp -d /tmp/es_docs.XXXXXX)
chmod 755 "$tmp"
gw_pid=
clusters=()
cleanup() {
	[ -n "$gw_pid" ] && kill "$gw_pid" 2>/dev/null && wait "$gw_pid" 2>/dev/null
	for c in "${clusters[@]}"; do scripts/cluster.sh stop "$c"; done
	[ -n "${ES_DOCS_KEEP:-}" ] && echo "# kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT

free_port() {
	perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(LocalAddr => "127.0.0.1",
		LocalPort => 0, Listen => 1, ReuseAddr => 1)->sockport'
}

# fresh_cluster NAME DB: start it, export PG* for it
fresh_cluster() {
	local dir=$tmp/$1 port
	port=$(free_port)
	scripts/cluster.sh start "$dir" "$port" "$2" || { tail -20 "$dir/server.log"; return 1; }
	clusters+=("$dir")
	export PGHOST=$dir PGPORT=$port PGUSER=postgres PGDATABASE=$2
	createdb "$2"
}

b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
jwt() { # jwt SECRET PAYLOAD
	local header payload sig
	header=$(printf '{"alg":"HS256","typ":"JWT"}' | b64url)
	payload=$(printf '%s' "$2" | b64url)
	sig=$(printf '%s.%s' "$header" "$payload" | openssl dgst -sha256 -hmac "$1" -binary | b64url)
	printf '%s.%s.%s' "$header" "$payload" "$sig"
}

# the database and gateway `make run` gives
demo_gateway() {
	local secret gw_port exp
	psql -X -q -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" \
		-c "CREATE EXTENSION es_saas" -f demo/app.sql -f demo/demo.sql \
		-c "CREATE ROLE es_docs_gateway LOGIN IN ROLE es_gateway" >"$tmp/setup.log" 2>&1 ||
		{ cat "$tmp/setup.log"; return 1; }
	make -s -C gateway >/dev/null || return 1
	secret=$(openssl rand -hex 32)
	gw_port=$(free_port)
	ES_DATABASE_URL="host=$PGHOST port=$PGPORT dbname=$PGDATABASE user=es_docs_gateway" \
		ES_LISTEN="127.0.0.1:$gw_port" ES_JWT_SECRET="$secret" \
		ES_RESILIENCE_CONFIG="$root/gateway/config/resilience.yaml" \
		gateway/es-gateway >"$tmp/gateway.log" 2>&1 &
	gw_pid=$!
	for _ in $(seq 1 100); do
		curl -fsS "http://127.0.0.1:$gw_port/health/ready" >/dev/null 2>&1 && break
		sleep 0.1
	done
	curl -fsS "http://127.0.0.1:$gw_port/health/ready" >/dev/null || { tail -20 "$tmp/gateway.log"; return 1; }
	exp=$(($(date +%s) + 3600))
	export ES_DOCS_GATEWAY=127.0.0.1:$gw_port
	export ADMIN TENANT
	ADMIN=$(jwt "$secret" "{\"sub\":\"admin\",\"roles\":[\"admin\"],\"exp\":$exp}")
	TENANT=$(jwt "$secret" "{\"sub\":\"alice\",\"tenant_id\":\"demo\",\"exp\":$exp}")
}

failed=0
files=("$@")
[ ${#files[@]} -gt 0 ] || files=(README.md gateway/README.md)
for f in "${files[@]}"; do
	echo "# $f"
	case "$f" in
	gateway/README.md)
		fresh_cluster gateway es_demo && demo_gateway || { failed=1; continue; } ;;
	*)
		fresh_cluster "$(basename "$f" .md)" mydb || { failed=1; continue; } ;;
	esac
	python3 test/docs/examples.py "$f" || failed=1
	[ -n "$gw_pid" ] && kill "$gw_pid" && wait "$gw_pid" 2>/dev/null
	gw_pid=
	unset ES_DOCS_GATEWAY ADMIN TENANT
done
exit $failed
