#!/usr/bin/env bash
# Files for docker/k8s's secretGenerator (gitignored): random passwords and JWT
# secret, and a self-signed TLS pair for es.example.com unless tls.crt/tls.key
# exist (put the real ones here for production).
set -euo pipefail
dir=${1:-$(dirname "$0")}
umask 077
for name in postgres_password gateway_db_password exporter_db_password jwt_secret; do
	[ -s "$dir/$name.txt" ] || openssl rand -hex 32 | tr -d '\n' >"$dir/$name.txt"
done
if [ ! -s "$dir/tls.crt" ]; then
	openssl req -x509 -newkey rsa:2048 -nodes -days 365 -sha256 -subj "/CN=es.example.com" \
		-addext "subjectAltName=DNS:es.example.com" -keyout "$dir/tls.key" -out "$dir/tls.crt" 2>/dev/null
fi
echo "secret files in $dir"
