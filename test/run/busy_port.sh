#!/usr/bin/env bash
# `make run` meets a busy port: it must say which variable to change, exit
# non-zero, and leave alone both the program holding the port and what an
# earlier `make run` started.  Runs with a private ES_RUN_DIR, so a
# developer's own `make run` (.run/) is not touched.  Prints TAP.
set -uo pipefail
cd "$(dirname "$0")/../.."

tmp=$(mktemp -d /tmp/es_run_test.XXXXXX)
chmod 755 "$tmp" # the private cluster lives under it, run as postgres
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	[ -f "$tmp/run2/gateway.pid" ] && ES_RUN_DIR="$tmp/run2" bash scripts/run.sh stop >/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
check() {
	local d=$1
	shift
	if "$@"; then ok "$d"; else nok "$d"; fi
}

# a listener on a free 127.0.0.1 port: "another program"; prints its port
perl -MIO::Socket::INET -e '
	my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => 0,
		Listen => 5, ReuseAddr => 1) or die "listen: $!";
	open(my $f, ">", $ARGV[0]) or die; print $f $s->sockport, "\n"; close $f;
	while (my $c = $s->accept) { close $c }' "$tmp/busy.port" &
pids+=($!)
listener=$!
for _ in $(seq 1 50); do [ -s "$tmp/busy.port" ] && break; sleep 0.1; done
busy=$(cat "$tmp/busy.port")
free_port() {
	perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(LocalAddr => "127.0.0.1",
		LocalPort => 0, Listen => 1)->sockport'
}

# "what an earlier make run started": a live gateway pid on another port
sleep 600 &
pids+=($!)
earlier=$!
mkdir -p "$tmp/run"
echo "$earlier" >"$tmp/run/gateway.pid"
free_port >"$tmp/run/gateway.port"

run() { # VAR=value ... : make run with the private run directory
	env ES_RUN_DIR="$tmp/run" "$@" timeout 120 make -s run >"$tmp/out" 2>"$tmp/err"
}

run ES_PG_PORT="$(free_port)" ES_GATEWAY_PORT="$busy"
rc=$?
check "busy gateway port: exit code 2 (got $rc)" test "$rc" -eq 2
check "busy gateway port: the message names the port and ES_GATEWAY_PORT" \
	grep -q "port $busy (REST gateway) is already in use.*" "$tmp/err"
check "busy gateway port: the hint says ES_GATEWAY_PORT=" grep -q "ES_GATEWAY_PORT=$((busy + 1)) make run" "$tmp/err"
check "busy gateway port: the listener is still alive" kill -0 "$listener"
check "busy gateway port: the earlier gateway is still alive" kill -0 "$earlier"
check "busy gateway port: no cluster was created" test ! -e "$tmp/run/pg"
[ "$failed" -eq 0 ] || { echo "# stderr:"; sed 's/^/#   /' "$tmp/err"; }

run ES_PG_PORT="$busy" ES_GATEWAY_PORT="$(free_port)"
rc=$?
check "busy PostgreSQL port: exit code 2 (got $rc)" test "$rc" -eq 2
check "busy PostgreSQL port: the message names the port and ES_PG_PORT" \
	grep -q "port $busy (PostgreSQL) is already in use" "$tmp/err"
check "busy PostgreSQL port: the hint says ES_PG_PORT=" grep -q "ES_PG_PORT=$((busy + 1)) make run" "$tmp/err"
check "busy PostgreSQL port: the listener is still alive" kill -0 "$listener"
check "busy PostgreSQL port: the earlier gateway is still alive" kill -0 "$earlier"
check "busy PostgreSQL port: no cluster was created" test ! -e "$tmp/run/pg"
check "the earlier gateway's pid file is kept" test "$(cat "$tmp/run/gateway.pid")" = "$earlier"

run ES_PG_PORT=54x ES_GATEWAY_PORT="$(free_port)"
rc=$?
check "a port that is not a number: exit code 2 (got $rc)" test "$rc" -eq 2

# a real `make run` (private directory, free ports), then a second one whose
# gateway port is taken: the first keeps serving
pg_port=$(free_port)
gw_port=$(free_port)
env ES_RUN_DIR="$tmp/run2" ES_PG_PORT="$pg_port" ES_GATEWAY_PORT="$gw_port" \
	timeout 300 make -s run >"$tmp/out" 2>"$tmp/err"
rc=$?
check "make run with ES_RUN_DIR, ES_PG_PORT, ES_GATEWAY_PORT: exit 0 (got $rc)" test "$rc" -eq 0
[ "$rc" -eq 0 ] || sed 's/^/#   /' "$tmp/err" | tail -20
check "its cluster is under ES_RUN_DIR and listens on ES_PG_PORT" \
	pg_isready -q -h "$tmp/run2/pg" -p "$pg_port"
check "its gateway answers on ES_GATEWAY_PORT" curl -fsS -o /dev/null "http://127.0.0.1:$gw_port/health/ready"
check "it prints the gateway's address" grep -q "http://127.0.0.1:$gw_port" "$tmp/out"
first_gw=$(cat "$tmp/run2/gateway.pid" 2>/dev/null)
env ES_RUN_DIR="$tmp/run2" ES_PG_PORT="$pg_port" ES_GATEWAY_PORT="$busy" \
	timeout 120 make -s run >"$tmp/out" 2>"$tmp/err"
rc=$?
check "again with a busy ES_GATEWAY_PORT: exit 2 (got $rc)" test "$rc" -eq 2
check "again with a busy ES_GATEWAY_PORT: the message names ES_GATEWAY_PORT" grep -q ES_GATEWAY_PORT "$tmp/err"
check "the first make run's gateway still runs and answers" \
	sh -c "kill -0 '$first_gw' && curl -fsS -o /dev/null 'http://127.0.0.1:$gw_port/health/ready'"
check "the first make run's cluster still runs" pg_isready -q -h "$tmp/run2/pg" -p "$pg_port"
check "the listener is still alive" kill -0 "$listener"
ES_RUN_DIR="$tmp/run2" bash scripts/run.sh stop >/dev/null
check "make stop with ES_RUN_DIR stops its gateway" sh -c "! kill -0 '$first_gw' 2>/dev/null"
check "make stop with ES_RUN_DIR stops its cluster" sh -c "! pg_isready -q -h '$tmp/run2/pg' -p '$pg_port'"

echo "1..$n"
[ "$failed" -eq 0 ]
