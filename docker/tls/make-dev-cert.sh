#!/usr/bin/env bash
# A self-signed certificate for development: docker/tls/dev.crt + dev.key
# (gitignored), CN and SAN localhost + 127.0.0.1.  Clients trust it with
# curl --cacert docker/tls/dev.crt.  Production: set ES_TLS_CERT/ES_TLS_KEY to
# a real pair.  The key is 0644 for the unprivileged nginx: development only.
set -euo pipefail
dir=${1:-$(dirname "$0")}
[ -s "$dir/dev.crt" ] && [ -s "$dir/dev.key" ] && { echo "exists: $dir/dev.crt"; exit 0; }
openssl req -x509 -newkey rsa:2048 -nodes -days 365 -sha256 \
	-subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
	-keyout "$dir/dev.key" -out "$dir/dev.crt" 2>/dev/null
chmod 644 "$dir/dev.key"
echo "wrote $dir/dev.crt and $dir/dev.key"
