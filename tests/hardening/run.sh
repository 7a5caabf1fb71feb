#!/bin/sh
# Run hardening harnesses against the real programs.
#
#   BG_BUILD=/abs/build tests/hardening/run.sh quick|long NAME...
#
# NAME is crash, faults, failmalloc, byteflip or rollback (a .py file
# beside this script).  Each gets its own temp dir, removed by the trap,
# which also kills every software-token daemon the harness started.
set -eu

: "${BG_BUILD:?BG_BUILD must name the build directory}"
mode=$1; shift
case $mode in quick|long) ;; *) echo "usage: $0 quick|long NAME..." >&2; exit 2;; esac
here=$(cd "$(dirname "$0")" && pwd)
T=
cleanup() {
	if [ -n "$T" ] && [ -d "$T" ]; then
		if [ -f "$T/pids" ]; then
			while read -r pid; do kill "$pid" 2>/dev/null || true; done <"$T/pids"
		fi
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

command -v strace >/dev/null || { echo "FAIL: strace is not installed" >&2; exit 1; }
command -v faketime >/dev/null || { echo "FAIL: faketime is not installed" >&2; exit 1; }
command -v python3 >/dev/null || { echo "FAIL: python3 is not installed" >&2; exit 1; }

passed=0 failed=0
for name in "$@"; do
	T=$(mktemp -d "${TMPDIR:-/tmp}/bg-hard.XXXXXX")
	: >"$T/pids"
	echo "== hardening $mode: $name"
	if python3 "$here/$name.py" "$mode" "$T"; then
		echo "PASS $name"
		passed=$((passed + 1))
	else
		echo "FAIL $name"
		failed=$((failed + 1))
	fi
	cleanup
	T=
done
echo "hardening: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
