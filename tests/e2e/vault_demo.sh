#!/bin/sh
# make demo's script runs to the end and tells the whole story.
. "$(dirname "$0")/lib.sh"
bg_setup
demo=$(dirname "$0")/../../scripts/demo
RC=0
BG_BUILD=$BG_BUILD sh "$demo" >"$T/out" 2>&1 || RC=$?
expect_rc 0
for s in "first custodian:  carol" "dave enrolled as a custodian" \
    "in force: nothing yet" "dave signed; the vault's genesis takes effect now" "takes effect now" \
    "enrolled as client approver of acme" "enrolled as msp approver of acme" \
    "a custodian quorum (2 more of: carol, dave)" \
    "a signature by bob (client approver named by this link)" \
    "has no signed link yet" "bob signed; link 1 of acme takes effect now" \
    "keyset: link 1" \
    "needs 1 more from: mia" "refused, as it should be" "Active leases" "Rotation due" \
    "rotate" "approve" "release" "Demo complete"; do
	expect_out "$s"
done
# the demo cleans up after itself
[ -z "$(ls -d "${TMPDIR:-/tmp}"/breakglass-demo.* 2>/dev/null)" ] ||
    echo "note: stale demo directories exist (from other runs?)"
echo "demo: passed"
