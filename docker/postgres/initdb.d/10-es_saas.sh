# Sourced by es-postgres-entrypoint on first start (socket-only server):
# the extension, the gateway's login role (member of es_gateway) and the
# metrics exporter's role (pg_monitor, plus es_monitor.projection_lag()).  Passwords come from secret files; psql variables keep
# them out of the SQL text's quoting.
gw_user=${ES_GATEWAY_USER:-gateway}
gw_pw=$(read_secret ES_GATEWAY_PASSWORD)
ex_user=${ES_EXPORTER_USER:-es_exporter}
ex_pw=$(read_secret ES_EXPORTER_PASSWORD)
if [ -z "$gw_pw" ]; then
	echo "es-postgres: ES_GATEWAY_PASSWORD_FILE (or ES_GATEWAY_PASSWORD) is required" >&2
	exit 2
fi
psql -X -q -v ON_ERROR_STOP=1 -h /var/run/postgresql -U postgres -d "$ES_DB" \
	-v gw_user="$gw_user" -v gw_pw="$gw_pw" -v ex_user="$ex_user" -v ex_pw="$ex_pw" <<'SQL'
CREATE EXTENSION IF NOT EXISTS es_saas;
CREATE ROLE :"gw_user" LOGIN PASSWORD :'gw_pw' IN ROLE es_gateway;
-- the gateway's SSE subscribers wake on NOTIFY instead of polling
ALTER ROLE :"gw_user" SET es_saas.notify = on;
SELECT :'ex_pw' <> '' AS has_exporter \gset
\if :has_exporter
CREATE ROLE :"ex_user" LOGIN PASSWORD :'ex_pw' IN ROLE pg_monitor;
\endif
-- projection lag for the exporter without tenant powers: a definer function
-- that returns only numbers (no event data), executable by the exporter only
CREATE SCHEMA es_monitor;
CREATE FUNCTION es_monitor.projection_lag(OUT projection text, OUT tenant text,
	OUT lag bigint, OUT dead_letters bigint)
	RETURNS SETOF record LANGUAGE sql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp AS
$$ SELECT s->>'name', s->>'tenant', (s->>'lag')::bigint, (s->>'dead_letters')::bigint
   FROM public.es_projection_status() s $$;
REVOKE ALL ON FUNCTION es_monitor.projection_lag() FROM PUBLIC;
\if :has_exporter
GRANT USAGE ON SCHEMA es_monitor TO :"ex_user";
GRANT EXECUTE ON FUNCTION es_monitor.projection_lag() TO :"ex_user";
\endif
SQL
