#!/bin/sh
# Everything is checked before a token is asked for: a request, an
# approval, a denial, a release, a withdrawal or a chain signature that
# would be refused is refused before any PIN prompt or "Touch the token"
# line, and before the statement is shown; the refusal is still logged.
. "$(dirname "$0")/lib.sh"
bg_setup
std_vault

# untouched: the last command said nothing about a PIN or a touch
untouched() {
	expect_no_err "Touch the token"
	expect_no_err "PIN of"
	expect_no_err "Read it before you touch"
}

step "request"
as tom vault request acme/da --reason r --ticket t --ttl 5h
refused 1 "outside 1..3600 s"; untouched; expect_event refused tom
as alice vault request acme/da --reason r --ticket t
refused 1 "alice"; untouched; expect_event refused alice
as tom vault request acme/nosuch --reason r --ticket t
refused 4 "nosuch"; untouched
new_request
as tom vault request acme/da --reason r --ticket t
refused 1 "request $REQ is already open"; untouched

step "approve and deny"
as tom vault approve "$REQ"; refused 1 "tom is the requester"; untouched
expect_event refused tom
as zed vault approve "$REQ"; refused 1 "zed"; untouched
as tom vault deny "$REQ" --reason no; refused 1 "tom is the requester"
untouched
as alice vault approve "$REQ"; ok
as alice vault approve "$REQ"; refused 1 "alice already approved"; untouched

step "release"
as alice vault release "$REQ"; refused 1 "only the requester (tom)"
untouched; expect_event refused alice
as tom vault release "$REQ" --out "$T/early"; refused 1 "needs 1 more from: mia"
untouched
[ ! -e "$T/early" ] || fail "release refused but left its --out file"

step "withdraw"
as mia vault request withdraw "$REQ"; refused 1 "only the requester"
untouched

step "chain sign"
as carol vault tenant set acme --max-ttl 2h; ok
as zed vault chain sign acme; refused 1 "zed holds no credential"
untouched; expect_event refused zed
run vault chain sign nosuch --as carol; expect_rc 4; untouched

step "what passes the checks still reaches the token"
as mia vault approve "$REQ"; ok; expect_err "Touch the token of mia"
as tom vault release "$REQ"; ok; expect_out hunter2-domain-admin
echo "precheck: all passed"
