#!/bin/sh
# Exposure counted honestly and time judged against a mark root cannot
# move forward himself.  tom, the requester, collects approvals across
# requests (one denied, one live), and sets the clock back to before a
# deadline, with and without a timer tick after it.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/lib.sh"
bg_setup
command -v faketime >/dev/null || fail "faketime is not installed"
adv_vault
op_in "$T/value" vault secret add acme db; ok

# at OFFSET NAME vault ARGS...: as NAME with the clock at now+OFFSET
at() {
	_o=$1; _n=$2; shift 3
	RC=0
	ASAN_OPTIONS=${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}verify_asan_link_order=0 \
	faketime -f "$_o" "$VAULT_BIN" --token "$(token "$_n")" \
	    --pin-file "$T/$_n.pin" "$@" --as "$_n" >"$T/out" 2>"$T/err" \
	    </dev/null || RC=$?
}
at_ro() {
	_o=$1; shift 2
	RC=0
	ASAN_OPTIONS=${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}verify_asan_link_order=0 \
	faketime -f "$_o" "$VAULT_BIN" "$@" >"$T/out" 2>"$T/err" \
	    </dev/null || RC=$?
}

step "an approval of a denied request and one of a live request add up"
request_da
R1=$REQ
as alice vault approve "$R1"; ok
as bob vault deny "$R1" --reason "not me"; ok
run vault status; ok
expect_no_out "exposed"
request_da
R2=$REQ
as mia vault approve "$R2"; ok
expect_event approve '"exposed": true'
run vault status; ok
expect_out "acme/da v1 exposed at quorum, not released"
run vault check; expect_rc 5
expect_out "exposed at quorum"
run vault secret show acme/da --json; ok
expect_out '"state": "rotation-due"'
# deny still stops the release; it does not undo exposure
as bob vault deny "$R2" --reason "still not me"; ok
as tom vault release "$R2"; refused 1 "denied"
run vault check; expect_rc 5

step "a deadline passed with a timer tick: setting the clock back is refused"
as tom vault request acme/db --reason "outage" --ticket INC-7 --ttl 1h; ok
R3=$(cat "$T/out")
as alice vault approve "$R3"; ok
cp "$BREAKGLASS_VAULT" "$T/before.db"	# the file before the tick
at_ro +25h vault check; expect_rc 5	# the timer's tick, after the deadline
expect_event clock.tick
at +1h mia vault approve "$R3"; refused 1 "earlier than the newest event"
expect_event refused BG_ERR_CLOCK
at +26h mia vault approve "$R3"; refused 1 "expired"

step "without a tick (or with the file rolled back) the deadline is no boundary: exposure is counted"
# docs/security.md: root rolls the mark back together with the file
cp "$T/before.db" "$BREAKGLASS_VAULT"; rm -f "$BREAKGLASS_VAULT-wal" "$BREAKGLASS_VAULT-shm"
at +1h mia vault approve "$R3"; ok
at_ro +1h vault status; ok
expect_out "acme/db v1 exposed at quorum, not released"
echo "exposure_time: all passed"
