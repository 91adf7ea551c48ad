# postgres_exporter (Debian's prometheus-postgres-exporter) with es_saas
# queries: appends (es_saas.events inserts) and projection lag.
ARG BASE=debian:bookworm-slim
FROM ${BASE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus-postgres-exporter \
 && rm -rf /var/lib/apt/lists/*
COPY docker/prometheus/postgres-queries.yaml /etc/prometheus-postgres-exporter/queries.yaml
ENV PG_EXPORTER_EXTEND_QUERY_PATH=/etc/prometheus-postgres-exporter/queries.yaml \
    PG_EXPORTER_WEB_LISTEN_ADDRESS=0.0.0.0:9187
USER prometheus
EXPOSE 9187
HEALTHCHECK --interval=5s --timeout=3s --retries=5 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/9187 && printf 'GET /metrics HTTP/1.0\\r\\n\\r\\n' >&3 && head -1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["prometheus-postgres-exporter"]
