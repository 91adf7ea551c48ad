#!/usr/bin/env bash
# test/deploy/k8s.sh - docker/k8s without a cluster: kubectl kustomize (Debian's
# kubernetes-client) renders it, every object validates against the Kubernetes
# schemas (npm kubernetes-models, pinned in package-lock.json) and the shape
# checks of validate_k8s.js pass.  Works on a copy (secrets generated there).
set -uo pipefail
cd "$(dirname "$0")/../.."
TMP=$(mktemp -d /tmp/es_k8s.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
fail=0
# Debian's kubectl: the installed kubernetes-client, else extracted from its
# .deb (another package may own /usr/bin/kubectl on this machine)
if dpkg-query -W -f='${Status}' kubernetes-client 2>/dev/null | grep -q "install ok installed"; then
	KUBECTL=/usr/bin/kubectl
else
	cache=${ES_DEPLOY_CACHE:-/var/cache/es_saas_deploy}/kubernetes-client
	if [ ! -x "$cache/usr/bin/kubectl" ]; then
		mkdir -p "$cache" && (cd "$TMP" && apt-get download kubernetes-client >/dev/null 2>&1) &&
			dpkg-deb -x "$TMP"/kubernetes-client_*.deb "$cache"
	fi
	KUBECTL=$cache/usr/bin/kubectl
fi
echo "# kubectl: $KUBECTL ($("$KUBECTL" version --client --short 2>/dev/null))"
cp -r docker/k8s "$TMP/k8s"
cp gateway/config/resilience.yaml "$TMP/k8s/config/resilience.yaml"
"$TMP/k8s/secrets/make-secrets.sh" "$TMP/k8s/secrets" >/dev/null
if "$KUBECTL" kustomize "$TMP/k8s" >"$TMP/rendered.yaml" 2>"$TMP/err"; then
	echo "ok - kubectl kustomize docker/k8s renders ($(grep -c '^kind:' "$TMP/rendered.yaml") objects)"
else
	cat "$TMP/err"; echo "not ok - kubectl kustomize docker/k8s"; exit 1
fi
if grep -l '^kind: Secret' docker/k8s/*.yaml 2>/dev/null; then
	echo "not ok - a plain manifest holds a Secret"; fail=1
else
	echo "ok - no Secret in the plain manifests (secretGenerator only)"
fi
if ! git ls-files --error-unmatch docker/k8s/secrets/*.txt docker/k8s/secrets/*.key >/dev/null 2>&1; then
	echo "ok - no secret file tracked by git under docker/k8s/secrets"
else
	echo "not ok - secret files tracked by git"; fail=1
fi
[ -d test/deploy/node_modules/kubernetes-models ] ||
	(cd test/deploy && timeout 300 npm ci --no-audit --no-fund >/dev/null 2>&1)
node test/deploy/validate_k8s.js "$TMP/rendered.yaml" gateway/config/resilience.yaml >"$TMP/v.tap"
rc=$?
grep '^not ok' "$TMP/v.tap"
echo "$( [ $rc -eq 0 ] && echo ok || echo not ok) - schemas and shape ($(grep -c '^ok' "$TMP/v.tap") checks)"
[ $rc -eq 0 ] && [ $fail -eq 0 ]
