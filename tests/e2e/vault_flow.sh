#!/bin/sh
# The whole story with real software tokens: enrol, policy, seal, request,
# approvals, refused early release, release (terminal and --out), spent
# version, status, rotation, release of the new version.
. "$(dirname "$0")/lib.sh"
bg_setup

step "set up: four software tokens, drill vault, tenant, policy, secret"
std_vault
expect_event secret.add
run vault member list acme; ok
expect_out "accepts software tokens (test/drill vault)"
expect_out "software token"
run vault member list acme --json; ok
expect_out '"software_token": true'
expect_out '"soft_tokens_allowed": true'
run vault policy show acme; ok; expect_out "2-of(1-of(alice,bob),1-of(mia))"
run vault secret list acme --json; ok; expect_out '"state": "sealed"'
expect_no_out hunter2
run vault secret show acme/da; ok; expect_no_out hunter2
grep -q hunter2 "$T/vault.db" && fail "value in clear in the database"

step "request"
new_request
expect_event request tom
run vault request show "$REQ" --json; ok
expect_out '"state": "open"'; expect_out '"ticket": "INC-1"'
run vault request list --json; ok; expect_out '"requester": "tom"'

step "first approval (alice) shows the statement before the touch"
as alice vault approve "$REQ"; ok
expect_err "outage INC-1"; expect_err "tom"; expect_err "Touch the token of alice"
# the statement comes before the touch prompt
sed -n '/outage INC-1/,$p' "$T/err" | grep -q "Touch the token of alice" ||
    fail "statement not shown before the touch prompt"
expect_out "approved by alice"; expect_out "needs 1 more from: mia"
expect_event approve alice

step "early release refused, saying what is missing"
as tom vault release "$REQ"; refused 1 "needs 1 more from: mia"
expect_event refused "needs 1 more from: mia"
run vault request show "$REQ"; ok; expect_out "needs 1 more from: mia"

step "second approval (mia), release to a new 0600 file"
as mia vault approve "$REQ"; ok; expect_out "the policy is met"
as tom vault release "$REQ" --out "$T/value.out"; ok
[ "$(stat -c %a "$T/value.out")" = 600 ] || fail "--out file mode not 0600"
[ "$(cat "$T/value.out")" = hunter2-domain-admin ] || fail "released value differs"
expect_no_out hunter2; expect_no_err hunter2
expect_event release tom

step "spent: a second release is refused, ever"
as tom vault release "$REQ"; refused 1 "release $REQ"
expect_no_out hunter2
expect_event refused
as tom vault request acme/da --reason again --ticket INC-2 --ttl 1h
refused 1 "vault: "
run vault secret show acme/da --json; ok; expect_out '"state": "released"'

step "status shows the lease; check says so and exits 0 while the lease runs"
run vault status acme; ok; expect_out "Active leases"; expect_out "acme/da"
run vault status --json; ok; expect_out '"kind": "active-lease"'
run vault check; expect_rc 0; expect_out "active-lease: acme/da"
expect_out "ok: nothing overdue (1 lease(s) running: rotate each once it ends)"
# the man page says the same (exit 5 only once the lease has ended)
mandoc -T ascii "$(dirname "$0")/../../docs/vault.1" | sed 's/.\x08//g' |
    tr -s ' \n' '  ' >"$T/man.txt"
grep -q "While a lease still runs, check prints it (\"active-lease\") and exits 0" \
    "$T/man.txt" || fail "vault.1 does not say check exits 0 while a lease runs"

step "rotation: begin (value from stdin), abort, begin again, commit"
printf 'second-value\n' >"$T/v2"
op_in "$T/v2" vault rotate begin acme/da; ok; expect_no_out second-value
expect_event rotate.begin
op vault rotate abort acme/da; ok
op_in "$T/v2" vault rotate begin acme/da; ok
op_in "$T/v2" vault rotate begin acme/da; refused 1 "vault: rotate begin acme/da"
op vault rotate commit acme/da; ok
run vault secret show acme/da --json; ok
expect_out '"state": "sealed"'; expect_out '"version": 2'
run vault check; expect_rc 0

step "the new version: --out refuses to overwrite and releases nothing"
new_request
as alice vault approve "$REQ"; ok
as bob vault approve "$REQ"; ok; expect_out "needs 1 more from: mia"
as mia vault approve "$REQ"; ok
as tom vault release "$REQ" --out "$T/value.out"; refused 1 "already exists"
[ "$(cat "$T/value.out")" = hunter2-domain-admin ] || fail "file overwritten"
as tom vault release "$REQ"; ok
[ "$(cat "$T/out")" = second-value ] || fail "new version's value differs"

step "generated values: sealed unseen, or shown once with --show"
op vault secret add acme gen --generate --length 20 --charset alnum; ok
[ ! -s "$T/out" ] || fail "generated value printed without --show"
op vault secret add acme gen2 --generate --length 16 --show; ok
[ "$(tr -d '\n' <"$T/out" | wc -c)" -eq 16 ] || fail "--show printed no 16-char value"
op vault secret add acme empty; refused 1 "empty value refused"

step "memberships expiring within 30 days show in status"
as carol vault member recertify acme bob --until +10d --shorten; ok
expect_event member.recertify bob
run vault status acme; ok; expect_no_out "expiring within 30 days"
run vault chain show acme; ok; expect_out "still needs"
cp "$T/out" "$T/chain.txt"
sign_link acme alice mia
expect_out "takes effect now"
run vault status acme; ok; expect_out "expiring within 30 days"; expect_out "bob"
run vault status --json; ok; expect_out '"kind": "member-expiring"'

step "audit log"
run vault audit log; ok; expect_out "approve"; expect_out "release"
run vault audit log --json --action approve; ok
[ "$(grep -c '"action": "approve"' "$T/out")" -eq 5 ] || fail "approve events"
run vault audit log --json --person mia --tenant acme; ok; expect_out '"mia"'
run vault audit log --since +1d; ok; expect_no_out "release"
# a filter that can match nothing because the name is wrong says so
run vault audit log --action relase
refused 2 "unknown action 'relase' (did you mean 'release'?)"
expect_err "withdraw"; [ ! -s "$T/out" ] || fail "audit log printed events"
run vault audit log --tenant glbex; refused 4 "no tenant 'glbex'"
run vault audit log --action withdraw; ok	# known, none logged yet
run vault audit log --json --action tenant.add --tenant acme; ok
expect_out '"action": "tenant.add"'
run vault audit verify; ok; expect_out "intact"
echo "flow: all passed"
