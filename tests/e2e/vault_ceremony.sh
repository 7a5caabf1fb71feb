#!/bin/sh
# vault ceremony: request, approvals and release in one sitting, scripted
# with --requester/--approver; statement shown before each touch; extra
# approvers not asked; too few approvers leaves the request open.
. "$(dirname "$0")/lib.sh"
bg_setup
std_vault
printf 'second-secret\n' >"$T/v"; op_in "$T/v" vault secret add acme db; ok

who() { echo "$1=$(token "$1"),$T/$1.pin"; }

step "scripted ceremony to a new 0600 file"
run vault ceremony acme/da --requester "$(who tom)" --approver "$(who alice)" \
    --approver "$(who mia)" --approver "$(who bob)" --reason "drill" \
    --ticket DRILL-1 --ttl 10m --out "$T/da.out"
ok
[ "$(cat "$T/da.out")" = hunter2-domain-admin ] || fail "ceremony value"
[ "$(stat -c %a "$T/da.out")" = 600 ] || fail "ceremony --out mode"
expect_err "step 1: tom requests acme/da"
expect_err "approval by alice"; expect_err "approval by mia"
expect_no_err "approval by bob"
expect_err "Touch the token of mia"
expect_err "receipt for the ceremony log book"
expect_no_out hunter2
# the statement is shown before each touch
sed -n '/approval by mia/,$p' "$T/err" | sed -n '/ticket/,$p' |
    grep -q "Touch the token of mia" || fail "statement not before touch"
expect_event release tom
run vault secret show acme/da --json; ok; expect_out '"state": "released"'

step "a wrong name on the command line: refused before anything is done"
n0=$(count_events request)
run vault ceremony acme/db --requester "$(who tom)" --approver "$(who alcie)" \
    --approver "$(who mia)" --reason drill --ticket DRILL-2
refused 2 "--approver alcie: alcie is not an approver of acme (approvers: alice, bob, mia)"
expect_err "nothing was done"; expect_no_err "Touch the token"
run vault ceremony acme/db --requester "$(who tom)" --approver "$(who tom)" \
    --approver "$(who mia)" --reason drill --ticket DRILL-2
refused 2 "tom is the requester and cannot approve"
run vault ceremony acme/db --requester "$(who mia)" --approver "$(who alice)" \
    --reason drill --ticket DRILL-2
refused 2 "--requester mia: mia is not a requester of acme (requesters: tom)"
[ "$(count_events request)" = "$n0" ] || fail "a refused ceremony opened a request"

step "too few approvers: the request stays open, how to go on is said"
run vault ceremony acme/db --requester "$(who tom)" --approver "$(who alice)" \
    --approver "$(who bob)" --reason "drill 2" --ticket DRILL-2
expect_rc 1; expect_err "vault: ceremony acme/db: request"
expect_err "needs 1 more from: mia"
expect_err "go on with 'vault approve"
expect_err "or withdraw it with 'vault request withdraw"
expect_no_out second-secret
run vault request list acme --json; ok; expect_out '"secret": "db"'

step "running it again says how to go on"
run vault ceremony acme/db --requester "$(who tom)" --approver "$(who mia)" \
    --reason "drill 3" --ticket DRILL-3
refused 1 "is already open for acme/db"
expect_err "vault request withdraw"; expect_no_err "Touch the token"

step "the requester as approver is refused"
run vault request list acme; ok
REQ=$(awk '$2 == "acme/db" { print $1 }' "$T/out")
[ -n "$REQ" ] || fail "no open request for acme/db"
as mia vault approve "$REQ"; ok
as tom vault release "$REQ"; ok; expect_out second-secret

step "usage"
run vault ceremony acme/da --requester bad; expect_rc 2
echo "ceremony: all passed"
