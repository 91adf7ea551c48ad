# es-gateway: a build stage with the -dev packages, then a runtime stage with
# only the shared libraries it links.  BASE names the Debian 12 base image.
ARG BASE=debian:bookworm-slim

FROM ${BASE} AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential pkg-config libcivetweb-dev libpq-dev libssl-dev libcjson-dev libyaml-dev libhiredis-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY gateway/Makefile gateway/Makefile
COPY gateway/src gateway/src
RUN make -s -j2 -C gateway es-gateway && strip gateway/es-gateway

FROM ${BASE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libcivetweb1 libpq5 libssl3 libcjson1 libyaml-0-2 libhiredis0.14 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin gateway \
 && install -d -o 10001 -g 10001 -m 0700 /var/spool/es-gateway
COPY --from=build /src/gateway/es-gateway /usr/local/bin/es-gateway
COPY gateway/config/resilience.yaml /etc/es-gateway/resilience.yaml
COPY docker/gateway/entrypoint.sh /usr/local/bin/es-gateway-entrypoint
ENV ES_LISTEN=0.0.0.0:8080 \
    ES_RESILIENCE_CONFIG=/etc/es-gateway/resilience.yaml
USER 10001
EXPOSE 8080
# bash's /dev/tcp: no HTTP client in the runtime image
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${ES_LISTEN##*:} && printf 'GET /health/live HTTP/1.0\\r\\n\\r\\n' >&3 && head -1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["es-gateway-entrypoint"]
