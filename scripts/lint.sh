#!/usr/bin/env bash
# make lint: cppcheck and clang-tidy on the extension (extension/*.c) and the
# gateway (gateway/src/*.c); any finding fails (exit 1).
#
# Both tools get the real compile flags: compile_commands.json is written
# from a dry run of the two Makefiles (make -n -B: prints the compiler
# commands, builds nothing), so PGXS include dirs and defines and the
# gateway's pkg-config flags are the ones the build uses.  The file is left
# at the top level for editors (clangd) and is ignored by git.
#
#   scripts/lint.sh                 both tools, both directories
#   LINT_TOOLS=cppcheck scripts/lint.sh     one tool (cppcheck | clang-tidy)
#   scripts/lint.sh extension/read.c ...    only these files
#
# Checks and the reason for every disabled one: .clang-tidy (clang-tidy) and
# the cppcheck options below.  Silence one finding in the code with
# `// NOLINT(check-name)` / `/* NOLINT(check-name) */` (clang-tidy) or
# `/* cppcheck-suppress id */` on the line before (cppcheck), with a reason.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

CLANG_TIDY=${CLANG_TIDY:-clang-tidy}
CPPCHECK=${CPPCHECK:-cppcheck}
tools=${LINT_TOOLS:-cppcheck clang-tidy}
jobs=${LINT_JOBS:-2}
for t in $tools; do
	bin=$CPPCHECK
	[ "$t" = clang-tidy ] && bin=$CLANG_TIDY
	command -v "$bin" >/dev/null || {
		echo "lint: $bin not found (make deps installs cppcheck and clang-tidy)" >&2
		exit 2
	}
done
command -v pg_config >/dev/null || { echo "lint: pg_config not found (make deps)" >&2; exit 2; }

shopt -s nullglob
ext_src=(extension/*.c)
gw_src=(gateway/src/*.c)
if [ $# -gt 0 ]; then
	files=("$@")
else
	files=("${ext_src[@]}" "${gw_src[@]}")
fi

# --- compile_commands.json from the Makefiles' own commands (dry run)
tmp=$(mktemp -d /tmp/es_lint.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
ext_obj=("${ext_src[@]/%.c/.o}")
gw_obj=("${gw_src[@]/#gateway\//}")
gw_obj=("${gw_obj[@]/%.c/.o}")
compiler=$'\t''(gcc|cc|clang)[^ ]* .* -c '
{
	make -n -B -s "${ext_obj[@]}" 2>/dev/null | sed "s|^|$root\t|"
	make -n -B -s -C gateway "${gw_obj[@]}" 2>/dev/null | sed "s|^|$root/gateway\t|"
} | grep -E "$compiler" >"$tmp/commands"
python3 - "$tmp/commands" >"$tmp/cdb.json" <<'PY' || { echo "lint: could not write compile_commands.json" >&2; exit 2; }
import json, shlex, sys
entries = []
for line in open(sys.argv[1]):
    directory, command = line.rstrip("\n").split("\t", 1)
    args = shlex.split(command)
    entries.append({"directory": directory, "arguments": args, "file": args[-1]})
json.dump(entries, sys.stdout, indent=1)
PY
n=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))))' "$tmp/cdb.json")
if [ "$n" -ne $((${#ext_src[@]} + ${#gw_src[@]})) ]; then
	echo "lint: compile database has $n entries, expected $((${#ext_src[@]} + ${#gw_src[@]})) (make -n failed?)" >&2
	exit 2
fi
mv "$tmp/cdb.json" compile_commands.json

# findings as `dir/file:line:col: tool: message [check]`, paths from the top
normalize() {
	sed -E -e "s|^$root/||" -e 's|^src/|gateway/src/|' -e 's|,-warnings-as-errors\]|]|'
}
: >"$tmp/findings"
status=0

# --- cppcheck: bugs, portability, performance; style is left out (its
# scope and shadowing advice is noise for C89-style declarations, and it
# misreads state changed through callbacks as "condition always false").
# -D__GNUC__ -D__x86_64__: what gcc predefines, so PG's headers take the
# gcc paths (s_lock.h otherwise stops with #error and ereport(ERROR) is not
# seen as not returning).
#   readdirCalled   it recommends readdir_r, which glibc deprecates; readdir
#                   on a DIR* that one thread owns is safe
if [[ " $tools " == *" cppcheck "* ]]; then
	start=$SECONDS
	filters=()
	if [ $# -gt 0 ]; then
		for f in "$@"; do filters+=("--file-filter=$f" "--file-filter=${f#gateway/}"); done
	fi
	"$CPPCHECK" --project=compile_commands.json "${filters[@]}" \
		-D__GNUC__=12 -D__x86_64__ --library=posix --library=gnu \
		--enable=warning,portability,performance \
		--suppress=missingIncludeSystem --suppress=readdirCalled \
		--inline-suppr --error-exitcode=1 -j"$jobs" --quiet \
		--template='{file}:{line}:{column}: cppcheck: {message} [{id}]' \
		2>"$tmp/cppcheck.out" >/dev/null
	rc=$?
	normalize <"$tmp/cppcheck.out" | tee -a "$tmp/findings"
	n=$(grep -c ': cppcheck: ' "$tmp/cppcheck.out")
	echo "lint: cppcheck: $n finding(s) in $((SECONDS - start)) s"
	if [ "$rc" -ne 0 ] || [ "$n" -gt 0 ]; then
		status=1
	fi
fi

# --- clang-tidy: checks in .clang-tidy and gateway/.clang-tidy (each
# disabled check has its reason there); warnings are errors
if [[ " $tools " == *" clang-tidy "* ]]; then
	start=$SECONDS
	printf '%s\n' "${files[@]}" | xargs -P"$jobs" -n1 "$CLANG_TIDY" -p . --quiet \
		>"$tmp/tidy.out" 2>"$tmp/tidy.err"
	rc=$?
	# a header's finding shows once per file that includes it: keep one
	grep -E '^[^ ].*:[0-9]+:[0-9]+: (error|warning): ' "$tmp/tidy.out" |
		sed -E 's/: (error|warning): /: clang-tidy: /' | normalize | sort -u >"$tmp/tidy.findings"
	tee -a "$tmp/findings" <"$tmp/tidy.findings"
	n=$(wc -l <"$tmp/tidy.findings")
	# a file clang could not compile is a failure too, with its message
	if [ "$rc" -ne 0 ] && [ "$n" -eq 0 ]; then
		cat "$tmp/tidy.out" "$tmp/tidy.err" >&2
	fi
	echo "lint: clang-tidy: $n finding(s) in $((SECONDS - start)) s"
	if [ "$rc" -ne 0 ] || [ "$n" -gt 0 ]; then
		status=1
	fi
fi

if [ "$status" -ne 0 ]; then
	echo "lint: FAILED ($(wc -l <"$tmp/findings") finding(s) above)" >&2
else
	echo "lint: clean"
fi
exit "$status"
