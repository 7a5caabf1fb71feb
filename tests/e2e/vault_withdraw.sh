#!/bin/sh
# vault request withdraw: the requester takes back an open request with
# a signed act; the request closes as cancelled, its key is destroyed,
# a new request can follow at once, and approvals already given still
# count toward the version's exposure.
. "$(dirname "$0")/lib.sh"
bg_setup
std_vault

step "only the requester withdraws, with a token"
new_request
as alice vault approve "$REQ"; ok
as mia vault request withdraw "$REQ"; refused 1 "only the requester (tom)"
expect_event refused mia
run vault request withdraw "$REQ"; expect_rc 2; expect_err "--as PERSON"
run vault request withdraw --as tom; expect_rc 2

step "the requester withdraws: cancelled, key destroyed, receipt"
as tom vault request withdraw "$REQ"; ok
expect_out "request $REQ withdrawn by tom"
expect_err "the approvals given (alice) still count toward the exposure"
expect_err "receipt: BG1-"
expect_event withdraw '"approvers": "alice"'
run vault request show "$REQ" --json; ok; expect_out '"state": "cancelled"'
[ "$(db "SELECT count(*) FROM requests WHERE id = $REQ AND req_sk_sealed IS NULL")" = 1 ] ||
    fail "request key kept"
[ "$(db "SELECT count(*) FROM approvals WHERE request_id = $REQ AND resealed IS NOT NULL")" = 0 ] ||
    fail "re-sealed share kept"

step "a withdrawn request is closed for good"
as tom vault request withdraw "$REQ"; refused 1 "nothing to withdraw"
as mia vault approve "$REQ"; refused 1 "was cancelled"
as tom vault release "$REQ"; refused 1 "was cancelled"
expect_no_out hunter2

step "a new request follows at once; the old approval still counts"
new_request
as mia vault approve "$REQ"; ok
expect_event approve '"exposed": true'
run vault check; expect_rc 5; expect_out "exposed at quorum"
as tom vault release "$REQ"; refused 1 "needs 1 more from: alice, bob"
as bob vault approve "$REQ"; ok
as tom vault release "$REQ"; ok; expect_out hunter2-domain-admin

step "the report shows the withdrawal"
run vault report acme; ok; expect_out "tom withdrew the request"
as carol vault evidence export --request 1 --out "$T/wd.bundle"; ok
run vault evidence verify "$T/wd.bundle"; ok; expect_no_out FAIL
echo "withdraw: all passed"
