#!/usr/bin/env bash
# test/deploy/run.sh - the deployment kit, run for real: Docker engine (started
# when not running), a Debian 12 base from debootstrap (imported once, then
# reused), every image of docker/ built, the compose stack up; a smoke suite
# through nginx over HTTPS (curl --cacert), Prometheus scraping every replica,
# every dashboard and alert expression through Prometheus' API, promtool,
# a replica stopped mid-traffic, PostgreSQL stopped and started, data kept
# across down/up; then the Kubernetes manifests (test/deploy/k8s.sh).
# Prints TAP-like lines and "N passed, N failed"; bounded by DEPLOY_TIMEOUT.
# Everything it creates (containers, networks, volumes) goes in a trap.
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
PASS=0 FAIL=0
ok() { PASS=$((PASS + 1)); echo "ok - $*"; }
nok() { FAIL=$((FAIL + 1)); echo "not ok - $*"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else nok "$d"; fi; }
t0=$(date +%s)
elapsed() { echo $(($(date +%s) - t0)); }

[ "$(id -u)" -eq 0 ] || { echo "deploy tests need root (Docker engine)"; exit 1; }
for p in docker.io docker-compose debootstrap openssl curl jq prometheus python3; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		{ echo "missing Debian package $p (make deps installs it)"; exit 1; }
done
DOCKER=/usr/bin/docker		# Debian's client (a newer one may sit earlier in PATH)
export DOCKER_HOST=unix:///var/run/docker.sock
TMP=$(mktemp -d /tmp/es_deploy.XXXXXX)
PROJECT=esdeploy$$
BASE_IMAGE=es-base:bookworm
export ES_BASE_IMAGE=$BASE_IMAGE ES_TAG=test
export ES_HTTPS_PORT=${DEPLOY_HTTPS_PORT:-55190} ES_HTTP_PORT=${DEPLOY_HTTP_PORT:-55191}
export ES_PROMETHEUS_PORT=${DEPLOY_PROM_PORT:-55192} ES_PG_PORT=${DEPLOY_PG_PORT:-55193}
export ES_SECRETS_DIR=$TMP/secrets ES_TLS_CERT=$TMP/tls/dev.crt ES_TLS_KEY=$TMP/tls/dev.key
compose() { timeout 300 docker-compose -p "$PROJECT" -f docker/compose.yaml "$@"; }
started_dockerd=
cleanup() {
	compose down -v --remove-orphans >/dev/null 2>&1
	[ -n "${bgpid:-}" ] && kill "$bgpid" 2>/dev/null
	if [ -n "$started_dockerd" ]; then
		kill "$started_dockerd" 2>/dev/null
		wait "$started_dockerd" 2>/dev/null
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# ---------- engine and base image ----------
if ! timeout 10 $DOCKER info >/dev/null 2>&1; then
	dockerd >"$TMP/dockerd.log" 2>&1 &
	started_dockerd=$!
	for _ in $(seq 60); do timeout 5 $DOCKER info >/dev/null 2>&1 && break; sleep 0.5; done
fi
check "Docker engine answers" bash -c "timeout 10 $DOCKER info >/dev/null 2>&1"
if ! $DOCKER image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
	mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null)
	[ -n "$mirror" ] || mirror=$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list)
	tb=$(date +%s)
	timeout 600 debootstrap --variant=minbase bookworm "$TMP/rootfs" "$mirror" >"$TMP/debootstrap.log" 2>&1 &&
		rm -rf "$TMP"/rootfs/var/cache/apt/archives/*.deb "$TMP"/rootfs/var/lib/apt/lists/* &&
		tar -C "$TMP/rootfs" -c . | $DOCKER import - "$BASE_IMAGE" >/dev/null
	rm -rf "$TMP/rootfs"
	echo "# base image built with debootstrap in $(($(date +%s) - tb)) s"
fi
check "local Debian 12 base image $BASE_IMAGE" bash -c "$DOCKER image inspect $BASE_IMAGE >/dev/null"

# ---------- secrets, certificate, images ----------
mkdir -p "$TMP/secrets" "$TMP/tls"
docker/secrets/make-dev-secrets.sh "$TMP/secrets" >/dev/null && docker/tls/make-dev-cert.sh "$TMP/tls" >/dev/null
CA=$TMP/tls/dev.crt
tb=$(date +%s)
if compose build >"$TMP/build.log" 2>&1; then
	ok "every image builds FROM the local base ($(($(date +%s) - tb)) s)"
else
	tail -40 "$TMP/build.log"; nok "images build"; echo "$PASS passed, $FAIL failed"; exit 1
fi
for img in postgres gateway nginx redis prometheus postgres-exporter; do
	echo "# image es-saas/$img: $($DOCKER image inspect -f '{{.Size}}' "es-saas/$img:test" | awk '{printf "%.0f MB", $1/1e6}')"
	u=$($DOCKER image inspect -f '{{.Config.User}}' "es-saas/$img:test")
	hc=$($DOCKER image inspect -f '{{if .Config.Healthcheck}}yes{{end}}' "es-saas/$img:test")
	check "image $img runs as a non-root user ($u) with a HEALTHCHECK" test -n "$u" -a "$u" != root -a "$u" != 0 -a "$hc" = yes
done
# no secret value may be inside an image (they are mounted at run time)
leak=0
for img in postgres gateway; do
	$DOCKER save "es-saas/$img:test" | grep -a -q -F -f <(cat "$TMP"/secrets/*.txt) && leak=1
done
check "no generated secret appears in the postgres or gateway image" test $leak -eq 0

# ---------- the stack ----------
wait_healthy() {	# every container of the project healthy, within $1 s
	local deadline=$(($(date +%s) + $1)) ids st
	while [ "$(date +%s)" -lt "$deadline" ]; do
		ids=$(compose ps -q)
		st=$($DOCKER inspect -f '{{.State.Health.Status}}' $ids 2>/dev/null | sort -u | tr '\n' ' ')
		[ "$st" = "healthy " ] && return 0
		sleep 1
	done
	compose ps
	return 1
}
tb=$(date +%s.%N)
compose up -d >"$TMP/up.log" 2>&1
check "docker-compose up -d" test $? -eq 0
check "every service healthy within 120 s" wait_healthy 120
echo "# compose start time (up -d to all healthy): $(echo "$(date +%s.%N) - $tb" | bc | cut -c1-5) s"
GW=https://127.0.0.1:$ES_HTTPS_PORT
PROM=http://127.0.0.1:$ES_PROMETHEUS_PORT
secret=$(cat "$TMP/secrets/jwt_secret.txt")
b64u() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
jwt() {	# jwt CLAIMS_JSON: an HS256 token signed with the stack's secret
	local h p s
	h=$(printf '{"alg":"HS256","typ":"JWT"}' | b64u)
	p=$(printf '%s' "$1" | b64u)
	s=$(printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -hmac "$secret" -binary | b64u)
	printf '%s.%s.%s' "$h" "$p" "$s"
}
exp=$(($(date +%s) + 3600))
ADMIN=$(jwt "{\"sub\":\"ops\",\"roles\":[\"admin\"],\"exp\":$exp}")
TEN=deploy-$$
TOK=$(jwt "{\"sub\":\"alice\",\"tenant_id\":\"$TEN\",\"roles\":[\"user\"],\"exp\":$exp}")
api() {	# api METHOD PATH TOKEN [BODY] -> "status body" on stdout
	local args=(-s --cacert "$CA" --max-time 10 -o "$TMP/body" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $3")
	[ $# -ge 4 ] && args+=(-H 'Content-Type: application/json' --data "$4")
	local code
	code=$(curl "${args[@]}" "$GW$2")
	echo "$code $(cat "$TMP/body" 2>/dev/null)"
}

# ---------- smoke through nginx over HTTPS ----------
r=$(curl -s --cacert "$CA" --max-time 5 "$GW/health")
check "GET /health over HTTPS (verified against the dev CA): ok" test "$(jq -r .status <<<"$r" 2>/dev/null)" = ok
r=$(api POST /api/v1/tenants "$ADMIN" "{\"id\":\"$TEN\"}")
check "create tenant: 201 (${r:0:60})" test "${r%% *}" = 201
for i in 1 2 3; do
	r=$(api POST /api/v1/commands/execute "$TOK" \
		"{\"type\":\"append\",\"stream\":\"order-1\",\"events\":[{\"type\":\"Added\",\"data\":{\"n\":$i}}]}")
	check "append event $i: 200 (${r:0:60})" test "${r%% *}" = 200
done
r=$(api GET /api/v1/streams/order-1 "$TOK")
check "read stream: 3 events" test "$(jq '.events|length' <<<"${r#* }" 2>/dev/null)" = 3
r=$(api POST /api/v1/queries/execute "$TOK" '{"type":"stream","stream":"order-1"}')
check "query type stream: 3 events" test "$(jq '.events|length' <<<"${r#* }" 2>/dev/null)" = 3
curl -s -N --cacert "$CA" --max-time 3 -H "Authorization: Bearer $TOK" -H 'Accept: text/event-stream' \
	"$GW/api/v1/events?after=0" >"$TMP/sse.txt" 2>/dev/null
check "SSE catch-up through nginx: 3 events with ids" test "$(grep -c '^id: ' "$TMP/sse.txt")" = 3
check "SSE data carries the appended events" grep -Eq '"n": ?3' "$TMP/sse.txt"
loc=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' --max-time 5 "http://127.0.0.1:$ES_HTTP_PORT/api/v1/streams/x?y=1")
check "plain HTTP redirected to HTTPS (301 $loc)" test "$loc" = "301 https://127.0.0.1:8443/api/v1/streams/x?y=1"
check "TLS 1.2 accepted" curl -s -o /dev/null --cacert "$CA" --tlsv1.2 --tls-max 1.2 --max-time 5 "$GW/health/live"
check "TLS 1.1 refused" bash -c "! openssl s_client -connect 127.0.0.1:$ES_HTTPS_PORT -tls1_1 </dev/null >/dev/null 2>&1"
check "wrong CA refused by curl" bash -c "! curl -s -o /dev/null --max-time 5 $GW/health"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CA" --max-time 5 "$GW/metrics")
check "/metrics not published through nginx (got $code)" test "$code" = 404

r=$(api GET /api/v1/streams/no-such-stream "$TOK")
check "unknown stream: 404 (feeds the error ratio panel)" test "${r%% *}" = 404

# an async projection so projection lag exists (registered as the superuser)
$DOCKER exec -i "$(compose ps -q postgres)" psql -X -q -v ON_ERROR_STOP=1 -d es_saas >/dev/null 2>"$TMP/proj.err" <<'SQL'
CREATE FUNCTION public.deploy_noop(tenant text, event jsonb) RETURNS void LANGUAGE sql AS 'SELECT';
SELECT es_register_projection('deploy_noop', 'public.deploy_noop(text,jsonb)', NULL, 'async');
SQL
check "async projection registered (for the lag metric) $(head -c 200 "$TMP/proj.err")" test ! -s "$TMP/proj.err"

# ---------- Prometheus ----------
up_count() { curl -s --max-time 5 "$PROM/api/v1/query" --data-urlencode "query=$1" | jq -r '.data.result | length' 2>/dev/null; }
for _ in $(seq 60); do
	[ "$(up_count 'up{job="gateway"} == 1')" = 3 ] && [ "$(up_count 'es_projection_lag')" != 0 ] &&
		[ "$(up_count 'es_events_appended >= 3')" = 1 ] && break
	sleep 1
done
check "Prometheus: every gateway replica up (3)" test "$(up_count 'up{job="gateway"} == 1')" = 3
check "Prometheus: PostgreSQL up through postgres_exporter" test "$(up_count 'pg_up == 1')" = 1
check "Prometheus: appends counted (es_events_appended >= 3)" test "$(up_count 'es_events_appended >= 3')" = 1
sleep 6	# one more scrape, so rate() windows hold two samples
python3 test/deploy/promql_check.py "$PROM" docker/grafana/dashboards/es_saas.json >"$TMP/promql.tap"
rc=$?
grep '^not ok' "$TMP/promql.tap"
check "every dashboard and alert expression evaluated through Prometheus ($(grep -c '^ok' "$TMP/promql.tap") checks)" test $rc -eq 0
check "promtool check rules" promtool check rules docker/prometheus/alerts.yml
check "promtool test rules (a unit test per alert)" promtool test rules docker/prometheus/rules.test.yaml
check "promtool check config" bash -c "sed 's|/etc/prometheus/alerts.yml|$root/docker/prometheus/alerts.yml|' docker/prometheus/prometheus.yml >$TMP/p.yml && promtool check config $TMP/p.yml >/dev/null"

# ---------- one replica stopped mid-traffic ----------
(
	end=$(($(date +%s) + 8)) n=0 bad=0
	while [ "$(date +%s)" -lt "$end" ]; do
		c=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CA" --max-time 10 \
			-H "Authorization: Bearer $TOK" "$GW/api/v1/streams/order-1")
		n=$((n + 1)); [ "$c" = 200 ] || bad=$((bad + 1))
	done
	echo "$n $bad" >"$TMP/traffic"
) &
bgpid=$!
sleep 2
compose stop -t 40 gateway2 >/dev/null 2>&1
wait "$bgpid"; bgpid=
read -r n bad <"$TMP/traffic"
check "gateway2 stopped mid-traffic: $n reads through nginx, $bad not 200" test "$n" -gt 20 -a "$bad" -eq 0
compose start gateway2 >/dev/null 2>&1

# ---------- PostgreSQL stopped and started ----------
health_is() {	# health_is STATUS SECONDS
	local deadline=$(($(date +%s) + $2)) s
	while [ "$(date +%s)" -lt "$deadline" ]; do
		s=$(curl -s --cacert "$CA" --max-time 5 "$GW/health" | jq -r .status 2>/dev/null)
		[ "$s" = "$1" ] && return 0
		sleep 1
	done
	return 1
}
# the fallback cache is the shared Redis: the reads above were stored there
gw_metrics() {	# the /metrics text of a gateway replica, from inside its container
	$DOCKER exec "$(compose ps -q "$1")" bash -c \
		'exec 3<>/dev/tcp/127.0.0.1/8080 && printf "GET /metrics HTTP/1.0\r\n\r\n" >&3 && cat <&3'
}
stores=0
for g in gateway1 gateway2 gateway3; do
	n=$(gw_metrics $g | awk '$1 == "es_gateway_cache_stores_total{backend=\"redis\"}" {print $2}')
	stores=$((stores + ${n:-0}))
done
check "answers stored in the shared Redis cache ($stores stores over 3 replicas)" test "$stores" -gt 0

compose stop postgres >/dev/null 2>&1
check "PostgreSQL stopped: /health says degraded" health_is degraded 30
compose start postgres >/dev/null 2>&1
check "PostgreSQL started: /health ok again" health_is ok 60

# ---------- data survives down + up (named volume) ----------
compose down >/dev/null 2>&1
check "docker-compose down (volumes kept)" test -n "$($DOCKER volume ls -q -f name="${PROJECT}_pgdata")"
compose up -d >/dev/null 2>&1
check "stack up again, every service healthy" wait_healthy 120
r=$(api GET /api/v1/streams/order-1 "$TOK")
check "the 3 events survived down + up" test "$(jq '.events|length' <<<"${r#* }" 2>/dev/null)" = 3
compose down -v >/dev/null 2>&1
check "docker-compose down -v removes the volumes" test -z "$($DOCKER volume ls -q -f name="${PROJECT}_")"

# ---------- Kubernetes manifests ----------
bash test/deploy/k8s.sh
check "Kubernetes manifests (kustomize render, schemas, shape)" test $? -eq 0

echo "# deploy suite duration: $(elapsed) s"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
