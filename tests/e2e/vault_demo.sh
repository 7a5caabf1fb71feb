#!/bin/sh
# make demo's script runs to the end and tells the whole story.
. "$(dirname "$0")/lib.sh"
bg_setup
demo=$(dirname "$0")/../../scripts/demo
RC=0
BG_BUILD=$BG_BUILD sh "$demo" >"$T/out" 2>&1 || RC=$?
expect_rc 0
for s in "needs 1 more from: mia" "refused, as it should be" "Active leases" "Rotation due" \
    "rotate" "approve" "release" "Demo complete"; do
	expect_out "$s"
done
# the demo cleans up after itself
[ -z "$(ls -d "${TMPDIR:-/tmp}"/breakglass-demo.* 2>/dev/null)" ] ||
    echo "note: stale demo directories exist (from other runs?)"
echo "demo: passed"
