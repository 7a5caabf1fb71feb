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
# fake_run OFFSET vault ARGS...: a command without a token at now+OFFSET,
# stdin from $T/stdin if it exists.  (vault check may move the clock's
# high-water mark to its time: every later change runs at that time or
# later, never back at the real time, until the clock-set-back step.)
fake_run() {
	_o=$1; shift 2
	RC=0
	[ -f "$T/stdin" ] || : >"$T/stdin"
	ASAN_OPTIONS=${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}verify_asan_link_order=0 \
	faketime -f "$_o" "$VAULT_BIN" "$@" >"$T/out" 2>"$T/err" \
	    <"$T/stdin" || RC=$?
	rm -f "$T/stdin"
}

step "lease end makes the secret rotation-due, then overdue; check says so"
new_request
as alice vault approve "$REQ"; ok
as mia vault approve "$REQ"; ok
as tom vault release "$REQ"; ok
run vault check; expect_rc 0
fake_run +2h vault check; expect_rc 5
expect_out "rotation-due"; expect_out "acme/da"; expect_err "vault: check"
fake_run +2h vault secret show acme/da --json; ok
expect_out '"state": "rotation-due"'
fake_run +3d vault check; expect_rc 5; expect_out "overdue"
fake_run +3d vault status; ok; expect_out "OVERDUE"
fake_run +3d vault check nosuch; [ "$RC" -ne 0 ] || fail "check of unknown tenant"

step "rotation clears check"
printf 'v2\n' >"$T/stdin"
fake_run +3d vault --token "$(token olga)" --pin-file "$T/olga.pin" \
    rotate begin acme/da --as olga; ok
fake_run +3d vault check; expect_rc 5
fake_run +3d vault --token "$(token olga)" --pin-file "$T/olga.pin" \
    rotate commit acme/da --as olga; ok
fake_run +3d vault check; expect_rc 0

step "approval deadline passed"
fake tom +3d vault request acme/da --reason "outage INC-2" --ticket INC-2 \
    --ttl 1h
ok
REQ=$(cat "$T/out")
fake alice +3d vault approve "$REQ"; ok
fake mia +5d vault approve "$REQ"; refused 1 "approve $REQ"
expect_event refused
fake_run +5d vault request show "$REQ" --json; ok; expect_out '"state": "expired"'

step "clock set back: the vault refuses to act"
# the refusal above was logged at now+5d; real time is now behind it
as mia vault approve "$REQ"; refused 1 "clock"
expect_event refused "BG_ERR_CLOCK"
as tom vault release "$REQ"; refused 1 "clock"
as carol vault tenant add later; refused 1 "clock"
# reading still works and judges expiry by the newest event
run vault request show "$REQ" --json; ok; expect_out '"state": "expired"'
echo "time: all passed"
