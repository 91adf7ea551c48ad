# es_saas: PGXS build of the extension, plus the project's entry points.
#
#   make run     install what running needs when missing, build, start a
#                local cluster with the extension, a demo tenant and the
#                gateway (ES_PG_PORT, ES_GATEWAY_PORT choose the ports)
#   make test    install what is missing, build, run every suite against a
#                throwaway cluster; fails on any failure
#   make bench   benchmarks (pgbench), ratios against raw SQL in one run
#   make format        clang-format the C sources in place (.clang-format)
#   make format-check  list the C files make format would change; fails if any
#   make lint    cppcheck and clang-tidy on the extension and the gateway;
#                fails on any finding (part of make test)
#   make docker-build / docker-up / docker-down   the compose stack (docker/)
#   make k8s-deploy / k8s-delete   kubectl apply -k / delete -k docker/k8s

EXTENSION = es_saas
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(EXTENSION).control)

MODULE_big = es_saas
OBJS = $(patsubst %.c,%.o,$(wildcard extension/*.c))
PG_CPPFLAGS = -I$(srcdir)/extension
DATA = $(wildcard extension/sql/es_saas--*.sql)

REGRESS = $(sort $(notdir $(basename $(wildcard sql/*.sql))))
REGRESS_OPTS = --encoding=UTF8
ISOLATION = $(sort $(notdir $(basename $(wildcard test/isolation/specs/*.spec))))
ISOLATION_OPTS = --inputdir=test/isolation --encoding=UTF8

EXTRA_CLEAN = results output_iso regression.diffs regression.out tmp_check

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifeq ($(PGXS),)
# pg_config is missing on a fresh machine: only the set-up targets work
.DEFAULT_GOAL := test
else
include $(PGXS)
# PGXS tracks no header dependencies: a changed header rebuilds every object
# (a stale object compiled against an older enum is a silent bug)
$(OBJS) $(OBJS:.o=.bc): $(wildcard extension/*.h)
endif

.PHONY: test run bench deps deps-run stop format format-check lint \
	docker-build docker-up docker-down k8s-config k8s-deploy k8s-delete

deps:
	@bash scripts/deps.sh

deps-run:
	@bash scripts/deps.sh run

test: deps
	@bash scripts/test.sh

run: deps-run
	@bash scripts/run.sh

stop:
	@bash scripts/run.sh stop

bench: deps
	@bash test/bench/run_all.sh

format:
	@bash scripts/format.sh

format-check:
	@bash scripts/format.sh --check

lint:
	@bash scripts/lint.sh

# deployment kit: .env (from .env.example) when present, dev secrets and a
# self-signed certificate when missing
COMPOSE = docker-compose $(if $(wildcard .env),--env-file .env) -f docker/compose.yaml

docker-build:
	$(COMPOSE) build

docker-up:
	@bash docker/secrets/make-dev-secrets.sh >/dev/null
	@[ -n "$$ES_TLS_CERT" ] || bash docker/tls/make-dev-cert.sh >/dev/null
	$(COMPOSE) up -d

docker-down:
	$(COMPOSE) down

# kustomize (kubectl 1.20) loads no file outside docker/k8s
k8s-config:
	@cp gateway/config/resilience.yaml docker/k8s/config/resilience.yaml
	@bash docker/k8s/secrets/make-secrets.sh >/dev/null

k8s-deploy: k8s-config
	kubectl apply -k docker/k8s

k8s-delete: k8s-config
	kubectl delete -k docker/k8s
