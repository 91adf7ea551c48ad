#!/usr/bin/env bash
# make test: build, install, start a throwaway cluster, run every suite.
set -uo pipefail
cd "$(dirname "$0")/.."

root=$(pwd)
# The server runs as postgres: it needs a directory it can reach.  The repo's
# tmp_check/ when postgres may enter it, else a fresh one under /tmp.
base=$root/tmp_check
mkdir -p "$base"
if ! runuser -u postgres -- test -x "$base" 2>/dev/null; then
	base=$(mktemp -d /tmp/es_saas_test.XXXXXX)
	chmod 755 "$base"
fi
export ES_TEST_BASE=$base
dir=$base/cluster
port=${ES_TEST_PORT:-54329}
failed=0
passed=0

run_suite() {
	local name=$1
	shift
	echo "=== $name"
	if "$@"; then
		passed=$((passed + 1))
	else
		echo "*** suite failed: $name"
		failed=$((failed + 1))
	fi
}

make -s PG_CFLAGS="-Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers" all || exit 1
make -s install >/dev/null || exit 1
run_suite "lint (cppcheck, clang-tidy)" make -s lint

scripts/cluster.sh stop "$dir" 2>/dev/null
rm -rf "$dir"
# es_saas preloaded (the production setting: shared position cache), no workers
scripts/cluster.sh start "$dir" "$port" preload || { cat "$dir"/*.log; exit 1; }
trap 'scripts/cluster.sh stop "$dir"' EXIT

export PGHOST=$dir PGPORT=$port PGUSER=postgres

show_diffs() {
	[ -f regression.diffs ] && head -200 regression.diffs
	[ -f output_iso/regression.diffs ] && head -200 output_iso/regression.diffs
	return 0
}
run_suite "pg_regress + isolation (es_saas preloaded)" make -s installcheck
show_diffs

# the same without shared_preload_libraries (positions from the index)
plain_installcheck() {
	local pdir=$base/plain pport=$((port + 1)) rc
	scripts/cluster.sh stop "$pdir" 2>/dev/null
	rm -rf "$pdir"
	scripts/cluster.sh start "$pdir" "$pport" || return 1
	PGHOST=$pdir PGPORT=$pport make -s installcheck
	rc=$?
	scripts/cluster.sh stop "$pdir"
	return $rc
}
run_suite "pg_regress + isolation (not preloaded)" plain_installcheck
show_diffs

if compgen -G "test/pgtap/*.sql" >/dev/null; then
	createdb es_pgtap
	psql -X -q -d es_pgtap -c "CREATE EXTENSION pgtap" -c "CREATE EXTENSION es_saas"
	run_suite "pgTAP (test/pgtap)" pg_prove -d es_pgtap test/pgtap/*.sql
fi

run_suite "cluster TAP tests (test/t/*.sh)" prove --exec bash test/t/*.sh

# PostgreSQL::Test::Cluster refuses root: run the Perl TAP tests as postgres
# in a scratch directory it owns; each test starts its own clusters.
run_perl_tap() {
	local tap=$base/tap pgxs
	pgxs=$(dirname "$(dirname "$(dirname "$(pg_config --pgxs)")")")
	rm -rf "$tap" && mkdir -p "$tap" && cp test/t/*.pl "$tap"/ && chown -R postgres "$tap"
	(cd "$tap" && runuser -u postgres -- env PATH="$(pg_config --bindir):$PATH" \
		PERL5LIB="$pgxs/src/test/perl" PG_REGRESS="$pgxs/src/test/regress/pg_regress" \
		prove ./*.pl)
}
run_suite "cluster TAP tests (test/t/*.pl, PostgreSQL::Test::Cluster)" run_perl_tap

# the gateway: unit tests, then the REST contract over real HTTP, plain and
# under valgrind (zero errors, no leaks)
run_suite "gateway unit tests" make -s -C gateway check
run_suite "gateway end-to-end" bash test/gateway/run_e2e.sh
run_suite "gateway resilience (test/gateway/resilience)" bash test/gateway/resilience/run.sh
run_suite "gateway end-to-end under valgrind" bash test/gateway/run_e2e.sh --valgrind
run_suite "gateway fallback cache: embedded, redis shared by 2 replicas, tenant isolation (test/gateway/cache)" bash test/gateway/cache/run.sh
run_suite "OpenAPI: redocly lint, generated TypeScript client" bash test/gateway/run_client.sh
run_suite "gateway command spool and slow clients (test/gateway/spool)" bash test/gateway/spool/run.sh

# the documentation: every sql/sh example of the READMEs runs on a fresh
# cluster (and gateway) and prints what the README shows
run_suite "README examples (README.md, gateway/README.md)" bash test/docs/run_examples.sh
# make run as a newcomer meets it: busy ports (private ES_RUN_DIR)
run_suite "make run: busy ports (test/run/busy_port.sh)" bash test/run/busy_port.sh

# the extension's own memory safety: every regress suite on a server under valgrind
run_suite "extension under valgrind" bash test/valgrind_regress.sh

# docker/: images built and the compose stack run for real, k8s manifests
run_suite "deployment kit (docker compose, k8s manifests)" bash test/deploy/run.sh

echo
echo "suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
