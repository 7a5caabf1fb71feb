#!/bin/sh
# Time: approval deadline, lease end -> rotation-due -> overdue (vault
# check), and a clock set back.  The clock is moved with faketime(1) around
# the real program; nothing inside the product is overridden.
. "$(dirname "$0")/lib.sh"
bg_setup
command -v faketime >/dev/null || fail "faketime is not installed"
std_vault

# fake NAME OFFSET vault ARGS...: as NAME, at now+OFFSET.
fake() {
	_n=$1; _o=$2; shift 3
	RC=0
	ASAN_OPTIONS=${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}verify_asan_link_order=0 \
	faketime -f "$_o" "$VAULT_BIN" --token "$(token "$_n")" \
	    --pin-file "$T/$_n.pin" "$@" --as "$_n" >"$T/out" 2>"$T/err" \
	    </dev/null || RC=$?
}
# fake_ro OFFSET vault ARGS...: a read command at now+OFFSET.
fake_ro() {
	_o=$1; shift 2
	RC=0
	ASAN_OPTIONS=${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}verify_asan_link_order=0 \
	faketime -f "$_o" "$VAULT_BIN" "$@" >"$T/out" 2>"$T/err" \
	    </dev/null || RC=$?
}

step "lease end makes the secret rotation-due, then overdue; check says so"
new_request
as alice vault approve "$REQ"; ok
as mia vault approve "$REQ"; ok
as tom vault release "$REQ"; ok
run vault check; expect_rc 0
fake_ro +2h vault check; expect_rc 5
expect_out "rotation-due"; expect_out "acme/da"; expect_err "vault: check"
fake_ro +2h vault secret show acme/da --json; ok
expect_out '"state": "rotation-due"'
fake_ro +3d vault check; expect_rc 5; expect_out "overdue"
fake_ro +3d vault status; ok; expect_out "OVERDUE"
fake_ro +3d vault check nosuch; [ "$RC" -ne 0 ] || fail "check of unknown tenant"

step "rotation clears check"
printf 'v2\n' >"$T/v2"
run_in "$T/v2" vault rotate begin acme/da; ok
fake_ro +3d vault check; expect_rc 5
run vault rotate commit acme/da; ok
fake_ro +3d vault check; expect_rc 0

step "approval deadline passed"
new_request
as alice vault approve "$REQ"; ok
fake mia +2d vault approve "$REQ"; refused 1 "approve $REQ"
expect_event refused
fake_ro +2d vault request show "$REQ" --json; ok; expect_out '"state": "expired"'

step "clock set back: the vault refuses to act"
# the refusal above was logged at now+2d; real time is now behind it
as mia vault approve "$REQ"; refused 1 "clock"
expect_event refused "BG_ERR_CLOCK"
as tom vault release "$REQ"; refused 1 "clock"
run vault tenant add later; refused 1 "clock"
# reading still works and judges expiry by the newest event
run vault request show "$REQ" --json; ok; expect_out '"state": "expired"'
echo "time: all passed"
