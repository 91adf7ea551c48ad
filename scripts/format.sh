#!/usr/bin/env bash
# make format / make format-check: clang-format (style in .clang-format,
# written for clang-format 14, Debian 12) over the project's C sources.
#
#   scripts/format.sh            rewrite the files in place
#   scripts/format.sh --check    list the files that would change; exit 1 if any
set -euo pipefail
cd "$(dirname "$0")/.."

CLANG_FORMAT=${CLANG_FORMAT:-clang-format}
command -v "$CLANG_FORMAT" >/dev/null || {
	echo "format: $CLANG_FORMAT not found (make deps installs clang-format)" >&2
	exit 2
}
# other major versions format some constructs differently: say so, go on
if ! "$CLANG_FORMAT" --version | grep -q 'version 14\.'; then
	echo "format: warning: .clang-format is tuned for clang-format 14, this is: $("$CLANG_FORMAT" --version)" >&2
fi

shopt -s nullglob
files=(extension/*.c extension/*.h gateway/src/*.c gateway/src/*.h test/gateway/unit/*.c test/gateway/unit/*.h)

if [ "${1:-}" = "--check" ]; then
	differ=0
	for f in "${files[@]}"; do
		if ! "$CLANG_FORMAT" --style=file "$f" | cmp -s - "$f"; then
			echo "$f"
			differ=$((differ + 1))
		fi
	done
	if [ "$differ" -gt 0 ]; then
		echo "format-check: $differ of ${#files[@]} files differ from .clang-format (make format rewrites them)" >&2
		exit 1
	fi
	echo "format-check: ${#files[@]} files clean"
else
	"$CLANG_FORMAT" --style=file -i "${files[@]}"
fi
