#!/bin/sh
# An approval signed on an approver's own machine counts toward exposure
# whether or not it is ever imported (issue 13): root, who carries the
# packets, can keep the approvals and open the value with the requester's
# token and a copy of the file.  So exporting request packets to enough
# approvers to meet the policy marks the version exposed at once.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/lib.sh"
bg_setup
adv_vault
for p in alice mia; do
	as $p vault packet card acme --out "$T/$p.card"; ok
done
request_da

step "one packet out: not exposed"
as tom vault packet export "$REQ" --for alice --out "$T/a.req"; ok
[ "$(db "SELECT coalesce(exposed_at, 0) FROM versions")" = 0 ] ||
    fail "exposed after one packet of a policy that needs two"

step "packets out to a quorum (alice and mia): exposed, though nothing came back"
as tom vault packet export "$REQ" --for mia --out "$T/m.req"; ok
[ "$(db "SELECT coalesce(exposed_at, 0) FROM versions")" != 0 ] ||
    fail "packets out to a quorum did not mark the version exposed"
run vault check; [ "$RC" -ne 0 ] || fail "vault check does not ask for the rotation"
expect_out "exposed"
echo "remote_exposure: all passed"
