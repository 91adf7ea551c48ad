#!/usr/bin/env bash
# make bench: every benchmark, each with its own cluster, ratios measured in one run.
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
rc=0
echo "=== event store, fsync'd commits"
bash test/bench/bench.sh || rc=1
echo "=== event store, synchronous_commit=off (CPU only): appends over 100 tenants and on one tenant"
BENCH_SYNCHRONOUS_COMMIT=off BENCH_POINTS="1 1h" BENCH_RESULTS=test/bench/results_cpu.md \
	bash test/bench/bench.sh || rc=1
echo "=== instructions per append (callgrind; repeatable, unlike tx/s)"
bash test/bench/callgrind_append.sh "$(pg_config --pkglibdir)/es_saas.so" || rc=1
echo "=== CQRS runtime"
bash test/bench/cqrs_bench.sh || rc=1
echo "=== gateway"
dir=$root/tmp_check/bench_gw
scripts/cluster.sh stop "$dir" 2>/dev/null
rm -rf "$dir"
scripts/cluster.sh start "$dir" 55442 || exit 1
PGHOST=$dir PGPORT=55442 PGUSER=postgres bash test/gateway/bench.sh | tee test/bench/gateway_results.txt || rc=1
scripts/cluster.sh stop "$dir"
echo "=== gateway resilience (breakers, retries, cache on vs off; fail fast; recovery)"
bash test/gateway/resilience_bench.sh | tee test/bench/resilience_results.txt || rc=1
exit $rc
