# Redis 7 (Debian's redis-server) for the gateways' shared cache (to come).
# The password comes from a mounted file, written into a private config.
ARG BASE=debian:bookworm-slim
FROM ${BASE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server \
 && rm -rf /var/lib/apt/lists/*
COPY docker/redis/entrypoint.sh /usr/local/bin/es-redis-entrypoint
USER redis
EXPOSE 6379
HEALTHCHECK --interval=5s --timeout=3s --retries=3 \
  CMD ["bash", "-c", "REDISCLI_AUTH=$(cat \"$REDIS_PASSWORD_FILE\") redis-cli ping | grep -q PONG"]
ENTRYPOINT ["es-redis-entrypoint"]
