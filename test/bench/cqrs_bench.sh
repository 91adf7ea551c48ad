#!/usr/bin/env bash
# Benchmarks of the CQRS runtime (issue 3), ratios measured in one run:
#   A. es_execute of a registered command vs a bare es_append of the same event
#   B. inline projection overhead per append (with vs without one registered)
#   C. es_execute cost on a 100,000-event stream vs a 10-event stream (snapshots)
#   D. async worker throughput (events/s applied) vs the append rate
#   E. lag of the async worker under a steady 1,000 events/s over 100 tenants
# Own cluster under tmp_check/bench_cqrs (port 55441), es_saas preloaded.
# Knobs: DURATION (s per pgbench point, 8), RUNS (3), STEADY (s, 30).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
dir=$root/tmp_check/bench_cqrs
port=${CQRS_BENCH_PORT:-55441}
db=bench
duration=${DURATION:-8}
runs=${RUNS:-3}
steady=${STEADY:-30}
out=$root/test/bench/cqrs_results.md
work=$(mktemp -d)
trap 'scripts/cluster.sh stop "$dir"; rm -rf "$work"' EXIT

scripts/cluster.sh stop "$dir" 2>/dev/null || true
rm -rf "$dir"
scripts/cluster.sh start "$dir" "$port" "$db"
cat >>"$dir/data/postgresql.conf" <<CONF
es_saas.worker_count = 2
es_saas.worker_naptime = '200ms'
es_saas.worker_batch_size = 500
CONF
scripts/cluster.sh stop "$dir"
scripts/cluster.sh start "$dir" "$port" "$db"
export PGHOST=$dir PGPORT=$port PGUSER=postgres
createdb $db
q() { psql -X -qAt -v ON_ERROR_STOP=1 -d $db -c "$1"; }

psql -X -q -v ON_ERROR_STOP=1 -d $db >/dev/null <<'SQL'
CREATE EXTENSION es_saas;
SELECT es_create_tenant('t' || i) FROM generate_series(1, 100) i;
CREATE FUNCTION acct_evolve(state jsonb, event jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS
$$ SELECT jsonb_build_object('balance', (state ->> 'balance')::int + (event -> 'data' ->> 'amount')::int) $$;
CREATE FUNCTION acct_decide(state jsonb, command jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS
$$ SELECT jsonb_build_array(jsonb_build_object('type', 'Deposited', 'data', jsonb_build_object('amount', (command ->> 'amount')::int))) $$;
SELECT es_register_aggregate('acct', 'acct_evolve(jsonb,jsonb)', '{"balance": 0}');
SELECT es_register_command('deposit', 'acct_decide(jsonb,jsonb)');
CREATE FUNCTION count_projection(tenant text, event jsonb) RETURNS void LANGUAGE sql AS
$$ SELECT es_doc_put(tenant, 'counts', event ->> 'stream', jsonb_build_object('position', event -> 'position')) $$;
-- streams with some history, so commands fold real state
SELECT count(*) FROM generate_series(1, 100) t, generate_series(1, 20) s,
	LATERAL es_append('t' || t, 'acct-' || s, NULL,
		(SELECT jsonb_agg(jsonb_build_object('type', 'Deposited', 'data', jsonb_build_object('amount', 1)))
		 FROM generate_series(1, 30)));
SQL

cat >"$work/execute.sql" <<'P'
\set t random(1, 100)
\set s random(1, 20)
SELECT es_execute('t' || :t, jsonb_build_object('type', 'deposit', 'stream', 'acct-' || :s, 'amount', 1));
P
cat >"$work/append.sql" <<'P'
\set t random(1, 100)
\set s random(1, 20)
SELECT * FROM es_append('t' || :t, 'acct-' || :s, NULL, '[{"type": "Deposited", "data": {"amount": 1}}]');
P

tps() { pgbench -n -M prepared -c "$2" -j "$(( $2 < 2 ? 1 : 2 ))" -T "$duration" -f "$1" $db 2>/dev/null | awk '/^tps = /{printf "%d", $3}'; }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", (b > 0 ? a / b : 0)}'; }

rows=()
# compare LABEL CLIENTS BASELINE_SCRIPT ES_SCRIPT: alternating runs, medians, one row
compare() {
	local label=$1 c=$2 base=() es=() m_base m_es
	for _ in $(seq 1 "$runs"); do
		base+=("$(tps "$3" "$c")")
		es+=("$(tps "$4" "$c")")
	done
	m_base=$(median "${base[@]}"); m_es=$(median "${es[@]}")
	rows+=("| $label | $c | $m_base | $m_es | $(ratio "$m_es" "$m_base") | runs: ${base[*]} / ${es[*]} |")
}

# A. es_execute vs es_append
for c in 1 4; do
	compare "A. es_execute (registered command) vs es_append, tx/s" $c "$work/append.sql" "$work/execute.sql"
done

# B. inline projection overhead
for c in 1 4; do
	off=(); on=()
	for _ in $(seq 1 "$runs"); do
		q "SELECT es_unregister('projection', 'counts')" >/dev/null 2>&1 || true
		off+=("$(tps "$work/append.sql" $c)")
		q "SELECT es_register_projection('counts', 'count_projection(text,jsonb)', NULL, 'inline')" >/dev/null
		on+=("$(tps "$work/append.sql" $c)")
	done
	q "SELECT es_unregister('projection', 'counts')" >/dev/null
	m_off=$(median "${off[@]}"); m_on=$(median "${on[@]}")
	rows+=("| B. es_append with an inline projection vs without, tx/s | $c | $m_off | $m_on | $(ratio "$m_on" "$m_off") | runs: ${off[*]} / ${on[*]} |")
done

# C. flat cost: a 100,000-event stream vs a 10-event stream (snapshots every 100)
q "DO \$\$ BEGIN FOR b IN 1..100 LOOP PERFORM es_append('t1', 'acct-big', NULL,
	(SELECT jsonb_agg(jsonb_build_object('type', 'Deposited', 'data', jsonb_build_object('amount', 1))) FROM generate_series(1, 1000)));
	END LOOP; END \$\$" >/dev/null
# the first command folds the whole stream once and stores a snapshot
q "SELECT es_execute('t1', '{\"type\": \"deposit\", \"stream\": \"acct-big\", \"amount\": 1}')" >/dev/null
q "SELECT es_append('t1', 'acct-small', NULL, (SELECT jsonb_agg(jsonb_build_object('type', 'Deposited', 'data', jsonb_build_object('amount', 1))) FROM generate_series(1, 10)))" >/dev/null
printf "SELECT es_execute('t1', '{\"type\": \"deposit\", \"stream\": \"acct-big\", \"amount\": 1}');\n" >"$work/big.sql"
printf "SELECT es_execute('t1', '{\"type\": \"deposit\", \"stream\": \"acct-small\", \"amount\": 1}');\n" >"$work/small.sql"
big_version=$(q "SELECT es_stream_version('t1', 'acct-big')")
compare "C. es_execute on a ${big_version}-event stream vs a 10-event stream, tx/s" 1 "$work/small.sql" "$work/big.sql"

# D. async worker throughput: a burst of appends, then time until applied
q "SELECT es_register_projection('async_counts', 'count_projection(text,jsonb)', NULL, 'async')" >/dev/null 2>&1
for _ in $(seq 1 100); do
	q "SELECT bool_and((s ->> 'lag')::int = 0) FROM es_projection_status() s WHERE s ->> 'name' = 'async_counts'" | grep -q t && break
	sleep 1
done
start_pos=$(q "SELECT COALESCE(sum((s ->> 'position')::bigint), 0) FROM es_projection_status() s WHERE s ->> 'name' = 'async_counts'")
t0=$(date +%s.%N)
burst=$(pgbench -n -M prepared -c 4 -j 2 -T "$duration" -f "$work/append.sql" $db 2>/dev/null | awk '/^tps = /{printf "%d", $3}')
t1=$(date +%s.%N)
while :; do
	lag=$(q "SELECT COALESCE(sum((s ->> 'lag')::bigint), 0) FROM es_projection_status() s WHERE s ->> 'name' = 'async_counts'")
	[ "$lag" -eq 0 ] && break
	sleep 0.2
done
t2=$(date +%s.%N)
end_pos=$(q "SELECT COALESCE(sum((s ->> 'position')::bigint), 0) FROM es_projection_status() s WHERE s ->> 'name' = 'async_counts'")
applied=$((end_pos - start_pos))
apply_rate=$(awk -v n="$applied" -v a="$t0" -v b="$t2" 'BEGIN{printf "%d", n / (b - a)}')
rows+=("| D. async worker: events/s applied vs appended (burst of $applied events, 4 clients) | 4 | $burst | $apply_rate | $(ratio "$apply_rate" "$burst") | drained $(awk -v a="$t1" -v b="$t2" 'BEGIN{printf "%.1f", b - a}') s after the burst |")

# E. steady 1,000 events/s over 100 tenants: the lag it settles at
cat >"$work/steady.sql" <<'P'
\set t random(1, 100)
\set s random(1, 20)
SELECT * FROM es_append('t' || :t, 'acct-' || :s, NULL, '[{"type": "Deposited", "data": {"amount": 1}}]');
P
pgbench -n -M prepared -c 4 -j 2 -R 1000 -T "$steady" -f "$work/steady.sql" $db >"$work/steady.log" 2>&1 &
bench_pid=$!
lags=()
sleep 5
while kill -0 $bench_pid 2>/dev/null; do
	lags+=("$(q "SELECT COALESCE(sum((s ->> 'lag')::bigint), 0) FROM es_projection_status() s WHERE s ->> 'name' = 'async_counts'")")
	sleep 1
done
wait $bench_pid || true
rate=$(awk '/^tps = /{printf "%d", $3}' "$work/steady.log")
m_lag=$(median "${lags[@]}")
max_lag=$(printf '%s\n' "${lags[@]}" | sort -n | tail -1)
rows+=("| E. steady load: appended events/s, median lag (events) over 100 tenants | 4 | $rate | $m_lag | $(awk -v l="$m_lag" -v r="$rate" 'BEGIN{printf "%.2f s", (r > 0 ? l / r : 0)}') | max lag $max_lag events, ${#lags[@]} samples |")

{
	echo "# es_saas CQRS runtime benchmarks"
	echo
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, PostgreSQL $(pg_config --version | awk '{print $2}'), pgbench -M prepared, ${duration} s per point, median of $runs runs, es_saas.snapshot_every = 100, 2 workers."
	echo
	echo "| benchmark | clients | baseline | es_saas | ratio | notes |"
	echo "|---|---:|---:|---:|---:|---|"
	printf '%s\n' "${rows[@]}"
} | tee "$out"
