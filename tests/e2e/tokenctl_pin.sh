#!/bin/sh
# Wrong PINs through tokenctl and the real daemon: the retries countdown,
# the blocked PIN after eight, and the PIN-file rules.
. "$(dirname "$0")/lib.sh"
bg_setup

soft_person carol 1234
C=$(token carol)
pin_file bad 9999

step "PIN files are private and must exist"
( umask 022; printf '1234\n' >"$T/open.pin" )
run tokenctl test --token "$C" --pin-file "$T/open.pin"; expect_rc 3
expect_err "tokenctl: $T/open.pin: the PIN file is accessible by group or others"
run tokenctl test --token "$C" --pin-file "$T/missing.pin"; expect_rc 3
expect_err "the PIN file does not exist"
: >"$T/empty.pin"; chmod 600 "$T/empty.pin"
run tokenctl test --token "$C" --pin-file "$T/empty.pin"; expect_rc 3
expect_err "the PIN file is empty"
# a pipe works as /dev/fd/N (mode 0600)
RC=0
printf '1234\n' | "$TOKENCTL_BIN" test --token "$C" --pin-file /dev/fd/0 \
    >"$T/out" 2>"$T/err" || RC=$?
ok; expect_out "all 9 checks passed"

step "wrong PIN: the countdown, one connection per run"
for left in 7 6 5 4 3 2; do
	run tokenctl test --token "$C" --pin-file "$T/bad.pin"; expect_rc 3
	expect_err "tokenctl: $C: wrong PIN, $left tries left"
done
run tokenctl info --json --token "$C"; ok
grep -q '"pin_retries": 2' "$T/out" || fail "info shows 2 retries"

step "a right PIN restores the count"
run tokenctl test --token "$C" --pin-file "$T/carol.pin"; ok
run tokenctl info --token "$C"; ok; expect_out "pin retries: 8"

step "eight wrong PINs block it"
for left in 7 6 5 4 3 2 1; do
	run tokenctl test --token "$C" --pin-file "$T/bad.pin"; expect_rc 3
	if [ $left -eq 1 ]; then
		expect_err "wrong PIN, 1 try left"
	else
		expect_err "wrong PIN, $left tries left"
	fi
done
run tokenctl test --token "$C" --pin-file "$T/bad.pin"; expect_rc 3
expect_err "tokenctl: $C: the token's PIN is blocked: reset it with tokenctl reset"
run tokenctl test --token "$C" --pin-file "$T/carol.pin"; expect_rc 3
expect_err "PIN is blocked"
run tokenctl pin change --token "$C" --pin-file "$T/carol.pin" --new-pin-file "$T/carol.pin"
expect_rc 3; expect_err "PIN is blocked"

step "reset brings it back"
run tokenctl reset --token "$C" --yes; ok
run tokenctl pin set --token "$C" --pin-file "$T/carol.pin"; ok
run tokenctl test --token "$C" --pin-file "$T/carol.pin"; ok
echo "tokenctl_pin: ok"
