#!/usr/bin/env bash
# Install the Debian packages es_saas needs, when any is missing.
#   scripts/deps.sh run   what `make run` needs: build and run the extension
#                         and the gateway
#   scripts/deps.sh       everything (`make test`, `make bench`): the above
#                         plus the test, lint and benchmark tools
# One package per line, so lists merge easily.
set -euo pipefail

run_packages=(
	build-essential
	pkg-config
	postgresql-15
	postgresql-contrib
	postgresql-server-dev-15
	libcivetweb-dev
	libcjson-dev
	libyaml-dev
	libssl-dev
	libpq-dev
	libhiredis-dev
	openssl
	curl
)
test_packages=(
	postgresql-15-pgtap
	libtap-parser-sourcehandler-pgtap-perl
	libipc-run-perl
	libcmocka-dev
	wrk
	jq
	redis-server
	valgrind
	prometheus
	clang-format
	clang-tidy
	cppcheck
	python3
	docker.io
	docker-compose
	debootstrap
	nodejs
)

# npm (pinned test tools): Debian's, unless a nodejs build that bundles npm
# is installed (the two packages conflict)
command -v npm >/dev/null 2>&1 || test_packages+=(npm)
# kubernetes-client (kubectl kustomize for test/deploy) conflicts with a
# kubectl from another package: then test/deploy/k8s.sh extracts Debian's .deb
if ! dpkg-query -W -f='${Status}' kubectl 2>/dev/null | grep -q "install ok installed"; then
	test_packages+=(kubernetes-client)
fi

case "${1:-all}" in
run) packages=("${run_packages[@]}") ;;
all) packages=("${run_packages[@]}" "${test_packages[@]}") ;;
*)
	echo "usage: $0 [run|all]" >&2
	exit 2
	;;
esac

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

# node + npm for the OpenAPI tests (test/gateway/client: pinned tools that run
# on Debian 12's nodejs 18.19+ as well as newer ones); a node already on the
# PATH (another packaging) is kept, Debian's npm would conflict with it
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: node/npm missing and not root" >&2
		exit 1
	fi
	echo "deps: installing nodejs npm"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
