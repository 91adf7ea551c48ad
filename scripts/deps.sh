#!/usr/bin/env bash
# Install the Debian packages es_saas needs, when any is missing.
set -euo pipefail

packages=(
	postgresql-15 postgresql-contrib postgresql-server-dev-15 postgresql-15-pgtap
	libtap-parser-sourcehandler-pgtap-perl libipc-run-perl
	libcivetweb-dev libjwt-dev libjansson-dev libcjson-dev libyaml-dev libssl-dev libpq-dev libcmocka-dev
	wrk curl jq pkg-config build-essential valgrind prometheus
	clang-format clang-tidy cppcheck python3
	docker.io
	docker-compose
	debootstrap
	openssl
	nodejs
)
# npm (test/deploy's pinned kubernetes-models): Debian's, unless a nodejs
# build that bundles npm is installed (the two packages conflict)
command -v npm >/dev/null 2>&1 || packages+=(npm)
# kubernetes-client (kubectl kustomize for test/deploy) conflicts with a
# kubectl from another package: then test/deploy/k8s.sh extracts Debian's .deb
if ! dpkg-query -W -f='${Status}' kubectl 2>/dev/null | grep -q "install ok installed"; then
	packages+=(kubernetes-client)
fi

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: missing packages and not root: ${missing[*]}" >&2
		exit 1
	fi
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
