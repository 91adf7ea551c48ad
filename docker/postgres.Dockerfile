# PostgreSQL 15 with es_saas built in and preloaded (position cache, async
# projection worker).  BASE names the Debian 12 base image: debian:bookworm-slim
# where a registry is reachable, the local debootstrap import in the tests.
ARG BASE=debian:bookworm-slim

FROM ${BASE} AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      postgresql-server-dev-15 build-essential \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile es_saas.control ./
COPY extension ./extension
RUN make -s -j2 && make -s install DESTDIR=/out

FROM ${BASE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      postgresql-15 \
 && rm -rf /var/lib/apt/lists/* \
 && install -d -o postgres -g postgres -m 700 /var/lib/postgresql/data \
 && install -d -o postgres -g postgres -m 2775 /var/run/postgresql
COPY --from=build /out/ /
COPY docker/postgres/entrypoint.sh /usr/local/bin/es-postgres-entrypoint
COPY docker/postgres/initdb.d/ /docker-entrypoint-initdb.d/
ENV PATH=/usr/lib/postgresql/15/bin:$PATH \
    PGDATA=/var/lib/postgresql/data \
    ES_DB=es_saas
USER postgres
VOLUME /var/lib/postgresql/data
EXPOSE 5432
HEALTHCHECK --interval=5s --timeout=3s --start-period=30s --retries=5 \
  CMD pg_isready -q -h /var/run/postgresql -d "$ES_DB" || exit 1
STOPSIGNAL SIGINT
ENTRYPOINT ["es-postgres-entrypoint"]
CMD ["postgres"]
