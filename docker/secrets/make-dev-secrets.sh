#!/usr/bin/env bash
# Development secrets for docker/compose.yaml: random passwords and JWT secret
# in docker/secrets/*.txt (gitignored).  Mode 0644 because the services run as
# different non-root users and compose mounts the files as they are: for
# development only; production uses Kubernetes Secrets (docker/k8s).
set -euo pipefail
dir=${1:-$(dirname "$0")}
for name in postgres_password gateway_db_password exporter_db_password redis_password \
	jwt_secret grafana_admin_password; do
	f=$dir/$name.txt
	[ -s "$f" ] || openssl rand -hex 32 >"$f"
	chmod 644 "$f"
done
echo "secrets in $dir"
