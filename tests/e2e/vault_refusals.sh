#!/bin/sh
# Refusals of the ceremony: the requester approving, a non-approver, the
# same person twice (also with a second token), the wrong person releasing,
# deny, and policies a single person could satisfy.
. "$(dirname "$0")/lib.sh"
bg_setup
std_vault
soft_person zed pin-zed-1
as_enroll zed approver
soft_person alice2 pin-alice2-1
# alice's second token: same person, same role, another token
run vault --token "$(token alice2)" --pin-file "$T/alice2.pin" \
    member add acme alice --role approver --side client --label alice-spare
ok
# not in force until link 2 is signed: the policy in force (alice, mia),
# and alice with a token she already had (for her new one)
run vault member list acme --person alice; ok; expect_no_out alice-spare
sign_link acme alice mia
expect_out "link 2 of acme takes effect now"
run vault member list acme --person alice; ok; expect_out alice-spare

step "policies a single person could satisfy are refused, with positions"
run vault policy show acme; ok
as carol vault tenant add beta; ok
for p in alice bob; do as_enroll $p approver beta; done
as carol vault policy set beta '1-of(alice,bob)'; refused 1 "single"
as carol vault policy set beta '2-of(alice,alice)'; refused 1 "position"
as carol vault policy set beta '2-of(alice,nobody)'; refused 4 "position 12: unknown approver 'nobody'"
as carol vault policy set beta '3-of(alice,bob)'; refused 1 "position"
as carol vault policy set beta '2-of(alice,bob'; refused 1 "position"
expect_event refused
as carol vault policy set acme '1-of(alice,bob,mia)'; refused 1 "vault: policy set acme"
expect_err "a single approver"
run vault chain show acme; ok; expect_out "in force: link 2"
expect_no_out "draft:"

new_request

step "the requester cannot approve"
as tom vault approve "$REQ"; refused 1 "approve $REQ"
expect_event refused tom

step "an approver outside the policy cannot approve"
as zed vault approve "$REQ"; refused 1 "approve $REQ"
expect_event refused zed

step "the same person twice, also with their second token"
as alice vault approve "$REQ"; ok
as alice vault approve "$REQ"; refused 1 "approve $REQ"
expect_event refused alice
run vault --token "$(token alice2)" --pin-file "$T/alice2.pin" \
    approve "$REQ" --as alice
refused 1 "approve $REQ"
expect_event refused alice
run vault request show "$REQ" --json; ok; expect_out '"approvals": 1'
as tom vault release "$REQ"; refused 1 "needs 1 more from: mia"

step "someone else's token under a name is refused, and the event names both"
run vault --token "$(token bob)" --pin-file "$T/bob.pin" approve "$REQ" --as mia
[ "$RC" -ne 0 ] || fail "bob's token approved as mia"
expect_err "vault: approve $REQ"
expect_err "holds none of mia's credentials for this: it is bob's token 'bob-soft'"
expect_event refused '"token_owner": "bob"'
expect_event refused '"actor": "mia"'
run vault --token "$(token bob)" --pin-file "$T/bob.pin" chain sign beta --as alice
[ "$RC" -ne 0 ] || fail "bob's token signed as alice"
expect_err "it is bob's token"; expect_event refused '"token_owner": "bob"'

step "only the requester releases"
as mia vault approve "$REQ"; ok
as alice vault release "$REQ"; refused 1 "release $REQ"
expect_event refused
run vault --token "$(token alice)" --pin-file "$T/alice.pin" release "$REQ" --as tom
[ "$RC" -ne 0 ] || fail "alice's token released as tom"
expect_err "it is alice's token"
expect_event refused '"token_owner": "alice"'
as tom vault release "$REQ"; ok; expect_out hunter2-domain-admin

step "deny closes a request"
printf 'db-password\n' >"$T/v"
op_in "$T/v" vault secret add acme db; ok
as tom vault request acme/db --reason "db down" --ticket INC-9 --ttl 30m; ok
REQ2=$(cat "$T/out")
as mia vault deny "$REQ2"; expect_rc 2; expect_err "--reason TEXT is required"
as mia vault deny "$REQ2" --reason "db01 recovered; INC-9 closed"
ok; expect_err "db down"; expect_out "denied by mia"
expect_err "your reason, for the audit log: db01 recovered"
expect_event deny mia
expect_event deny '"reason": "db01 recovered; INC-9 closed"'
run vault audit log; ok; expect_out "db01 recovered; INC-9 closed"
as alice vault approve "$REQ2" --reason "not for approve"; expect_rc 2
run vault request show "$REQ2" --json; ok; expect_out '"state": "denied"'
expect_out '"deny_reason": "db01 recovered; INC-9 closed"'
run vault request show "$REQ2"; ok; expect_out "deny reason:  db01 recovered"
as alice vault approve "$REQ2"; refused 1 "approve $REQ2"
as tom vault release "$REQ2"; refused 1 "release $REQ2"
expect_no_out db-password

step "the still-missing list names only those who can approve"
# tom requests in gamma and is also one of its MSP approvers
as carol vault tenant add gamma; ok
as_enroll tom requester gamma
as_enroll olga operator gamma
as_enroll tom approver gamma msp
for p in alice bob mia; do as_enroll $p approver gamma; done
as carol vault policy set gamma 'all-of(1-of(alice,bob),1-of(mia,tom))'; ok
sign_link gamma carol dave alice bob
expect_out "link 1 of gamma takes effect now"
printf 'gamma-value\n' >"$T/v"; op_in "$T/v" vault secret add gamma g; ok
as tom vault request gamma/g --reason "g down" --ticket INC-7 --ttl 10m; ok
REQ3=$(cat "$T/out")
expect_err "needs 1 more from: alice, bob; and 1 more from: mia"
expect_no_err "mia, tom"
run vault request show "$REQ3"; ok
expect_out "needs 1 more from: alice, bob; and 1 more from: mia"
expect_no_out "mia, tom"
as alice vault approve "$REQ3"; ok
expect_out "needs 1 more from: mia"; expect_no_out "tom"
as tom vault release "$REQ3"; refused 1 "needs 1 more from: mia"
expect_no_err "mia, tom"

step "unknown request, tenant, secret: exit 4"
as alice vault approve 999; refused 4 "999"
as tom vault request acme/nosuch --reason x --ticket y; refused 4 "nosuch"
run vault secret show nosuch/x; expect_rc 4
echo "refusals: all passed"
