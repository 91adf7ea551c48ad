#!/usr/bin/env bash
# Install the Debian packages es_saas needs, when any is missing.
set -euo pipefail

packages=(
	postgresql-15 postgresql-contrib postgresql-server-dev-15 postgresql-15-pgtap
	libtap-parser-sourcehandler-pgtap-perl libipc-run-perl
	libcivetweb-dev libjwt-dev libjansson-dev libcjson-dev libyaml-dev libssl-dev libpq-dev libcmocka-dev
	wrk curl jq pkg-config build-essential valgrind prometheus
	clang-format clang-tidy cppcheck python3
)

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
