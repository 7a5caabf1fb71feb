#!/bin/sh
# Re-key ceremony: each kind of policy change (add an approver, remove one,
# raise a threshold, lower it with and without --confirm-lower), old
# approvers' tokens stop opening shares once removed, new ones open them,
# abort and expiry leave everything as it was.
. "$(dirname "$0")/lib.sh"
bg_setup
command -v faketime >/dev/null || fail "faketime is not installed"

std_vault			# tom; alice, bob, mia; all-of(1-of(alice,bob),1-of(mia))
soft_person carol pin-carol-1
as_enroll carol approver

# release NAME...: tom requests acme/da, NAMEs approve, tom releases; the
# value must be the sealed one.  Leaves the secret spent: rotate after.
release_with() {
	new_request
	for _a in "$@"; do as "$_a" vault approve "$REQ"; ok; done
	as tom vault release "$REQ"; ok
	expect_out "hunter2-domain-admin"
}

# rotate_back: give acme/da a sealed version with the same value again.
rotate_back() {
	run_in "$T/value" vault rotate begin acme/da; ok
	run vault rotate commit acme/da; ok
}

# propose EXPR [ARGS]: tom proposes; id in $RK.
propose() {
	_e=$1; shift
	as tom vault policy set acme "$_e" "$@"
	ok
	RK=$(cat "$T/out")
	[ -n "$RK" ] || fail "policy set printed no re-key id"
}

step "policy set on a tenant with secrets needs a proposer"
run vault policy set acme 'all-of(1-of(alice,bob,carol),1-of(mia))'
refused 1 "re-key ceremony"
expect_err "--as PROPOSER"

step "member remove of a named approver points at the re-key"
run vault member remove acme bob; refused 1 "re-key ceremony"

step "add an approver: diff, approvals meeting the OLD policy, commit"
propose 'all-of(1-of(alice,bob,carol),1-of(mia))'
expect_err "approvers added:   carol"
expect_err "people needed:     2 -> 2"
expect_event rekey.propose '"added": "carol"'
run vault policy show acme; ok
expect_out "2-of(1-of(alice,bob),1-of(mia))"
expect_out "re-key open:       $RK"
# carol is not named by the current policy: her approval does not count
as carol vault policy approve-rekey "$RK"; refused 1 "not named by the current policy"
as tom vault policy approve-rekey "$RK"; refused 1 "cannot approve"
as alice vault policy approve-rekey "$RK"; ok
expect_err "policy after: 2-of(1-of(alice,bob,carol),1-of(mia))"
expect_out "needs 1 more from: mia"
as tom vault policy commit-rekey "$RK"; refused 1 "needs 1 more from: mia"
as mia vault policy approve-rekey "$RK"; ok
expect_out "the proposer can commit"
as alice vault policy commit-rekey "$RK"; refused 1 "only the proposer (tom)"
as tom vault policy commit-rekey "$RK"; ok
expect_out "committed"
expect_event policy.set "\"rekey\": $RK"
run vault policy show acme; ok
expect_out "2-of(1-of(alice,bob,carol),1-of(mia))"
expect_no_out "re-key open"
step "the new approver opens her share"
release_with carol mia
rotate_back

step "remove an approver: bob's token opens nothing afterwards"
propose 'all-of(1-of(alice,carol),1-of(mia))'
expect_err "approvers removed: bob"
as bob vault policy approve-rekey "$RK"; ok
as mia vault policy approve-rekey "$RK"; ok
as tom vault policy commit-rekey "$RK"; ok
new_request
as bob vault approve "$REQ"; refused 1 "not named by the policy"
[ "$(db "SELECT count(*) FROM shares s JOIN tokens k ON k.id = s.token_id JOIN memberships m ON m.id = k.membership_id WHERE m.person = 'bob'")" = 0 ] ||
    fail "bob still holds shares"
run vault member remove acme bob --role approver; ok
as alice vault approve "$REQ"; ok
as mia vault approve "$REQ"; ok
as tom vault release "$REQ"; ok; expect_out "hunter2-domain-admin"
rotate_back

step "raise a threshold"
propose '3-of(alice,carol,mia)'
expect_err "people needed:     2 -> 3"
expect_no_err "LOWERS"
as alice vault policy approve-rekey "$RK"; ok
as mia vault policy approve-rekey "$RK"; ok
as tom vault policy commit-rekey "$RK"; ok
new_request
as alice vault approve "$REQ"; ok
as carol vault approve "$REQ"; ok
as tom vault release "$REQ"; refused 1 "needs 1 more from: mia"
as mia vault approve "$REQ"; ok
as tom vault release "$REQ"; ok; expect_out "hunter2-domain-admin"
rotate_back

step "lower a threshold: refused without --confirm-lower"
as tom vault policy set acme '2-of(alice,carol,mia)'
refused 1 "lowers the number of people needed"
expect_err "from 3 to 2: confirm it with --confirm-lower"
expect_event refused "confirm-lower"
propose '2-of(alice,carol,mia)' --confirm-lower
expect_err "LOWERS the quorum"
expect_event rekey.propose '"lowers": true'
as alice vault policy approve-rekey "$RK"; ok
as carol vault policy approve-rekey "$RK"; ok
as tom vault policy commit-rekey "$RK"; refused 1 "needs 1 more from: mia"
as mia vault policy approve-rekey "$RK"; ok
as tom vault policy commit-rekey "$RK"; ok
expect_event policy.set '"lowers": true'
release_with alice carol
rotate_back

step "abort leaves everything as it was"
propose '3-of(alice,carol,mia)'
as alice vault policy approve-rekey "$RK"; ok
[ "$(db "SELECT count(*) FROM rekey_shares")" -gt 0 ] || fail "no interim shares"
run vault policy abort-rekey "$RK"; ok
expect_event rekey.abort
[ "$(db "SELECT count(*) FROM rekey_shares")" = 0 ] || fail "interim shares kept"
[ "$(db "SELECT count(*) FROM rekeys WHERE rk_sk_sealed IS NOT NULL")" = 0 ] ||
    fail "proposal key kept"
as mia vault policy approve-rekey "$RK"; refused 1 "is aborted"
run vault policy show acme; ok; expect_out "2-of(alice,carol,mia)"
release_with alice mia
rotate_back

step "the audit chain still verifies"
run vault audit verify; ok

step "an expired proposal commits nothing; a new one replaces it"
# Time moves on with faketime from here (the vault refuses a clock earlier
# than its newest event, so every later command runs two days ahead).
printf '#!/bin/sh\nASAN_OPTIONS=${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}verify_asan_link_order=0\nexport ASAN_OPTIONS\nexec faketime -f "+2d" "%s" "$@"\n' "$VAULT_BIN" >"$T/later"
chmod +x "$T/later"
propose '3-of(alice,carol,mia)'
as alice vault policy approve-rekey "$RK"; ok
as mia vault policy approve-rekey "$RK"; ok
as carol vault policy approve-rekey "$RK"; ok
VAULT_BIN=$T/later
as tom vault policy commit-rekey "$RK"; refused 1 "expired"
run vault policy rekey-show "$RK"; ok; expect_out "state:        expired"
run vault policy show acme; ok; expect_out "2-of(alice,carol,mia)"
OLD=$RK
propose '3-of(alice,carol,mia)'
[ "$(db "SELECT state FROM rekeys WHERE id = $OLD")" = 4 ] || fail "stale proposal not expired"
[ "$(db "SELECT count(*) FROM rekey_shares WHERE rekey_id = $OLD")" = 0 ] ||
    fail "stale interim shares kept"
release_with alice carol
echo "rekey: all passed"
