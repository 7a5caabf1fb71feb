#!/bin/sh
# Red team: the end date of an MSP exception binds nothing.  The client
# signs a link whose policy the MSP side can meet alone, because it
# carries an exception "until" two days from now (`vault chain show`:
# "exception (MSP may approve its own access) until ...").  The end date
# is checked only when the link is made (bg_chain_check: exception_expires
# > next->time).  After it has passed, every seal still goes to the
# MSP-only policy (checked_policy in secret.c) and approvals by MSP
# approvers alone release (decide/bg_vault_release in request.c): mia and
# mike, both MSP, open a secret sealed after the client's consent ran out.
#
# Safe behaviour asserted: once the exception has ended, a value sealed
# afterwards does not come out on MSP approvals alone (the seal refuses,
# or approval/release does).
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/lib.sh"
bg_setup
adv_vault
soft_person mike pin-mike-1

step "the client grants the MSP a two-day exception"
with mike vault member add acme mike --role approver --side msp; ok
as carol vault policy set acme '2-of(alice,mia,mike)' \
    --exception "datacenter move, MSP alone for the weekend" \
    --exception-until +2d; ok
run vault chain show acme; ok
expect_out "exception (MSP may approve its own access) until"
for p in alice mia; do as $p vault chain sign acme; ok; done
expect_out "takes effect now"

step "three days later the exception is over; a new value is sealed"
# (a sanitizer build tolerates faketime's preload)
printf '#!/bin/sh\nASAN_OPTIONS=${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}verify_asan_link_order=0 exec faketime -f "+3d" "%s" "$@"\n' "$VAULT_BIN" >"$T/later"
chmod +x "$T/later"
VAULT_BIN=$T/later
printf 'sealed-after-the-exception\n' >"$T/late"
op_in "$T/late" vault secret add acme late
if [ "$RC" -ne 0 ]; then
	echo "redteam_exception: all passed (the seal refused the ended exception)"
	exit 0
fi

step "mia and mike (both MSP) approve; tom releases"
as tom vault request acme/late --reason x --ticket X --ttl 1h; ok
R=$(cat "$T/out")
as mia vault approve "$R"
as mike vault approve "$R"
as tom vault release "$R"
if [ "$RC" -eq 0 ] && grep -q sealed-after-the-exception "$T/out"; then
	fail "the MSP alone opened a value sealed after its exception ended"
fi
echo "redteam_exception: all passed"
