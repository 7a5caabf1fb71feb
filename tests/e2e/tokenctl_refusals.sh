#!/bin/sh
# Tokens that cannot or will not: presence never given (timeout, and
# Ctrl-C cancelling the wait), and a token without PIN/UV support.
. "$(dirname "$0")/lib.sh"
bg_setup
pin_file p 1234

step "presence never given: the wait ends with the timeout"
soft_start slow --no-presence
S=$(token slow)
# setting a PIN needs no touch
run tokenctl pin set --token "$S" --pin-file "$T/p.pin"; ok
start=$(date +%s)
run tokenctl test --token "$S" --pin-file "$T/p.pin" --timeout 2
end=$(date +%s)
expect_rc 1
expect_out "PASS token has hmac-secret and a PIN"
expect_out "FAIL enroll a test credential"
expect_err "tokenctl: $S: no touch on the security token in time"
[ $((end - start)) -le 10 ] || fail "the 2 s timeout took $((end - start)) s"
[ $((end - start)) -ge 1 ] || fail "the timeout came too early"

step "the daemon serves the next client after the cancelled wait"
run tokenctl info --token "$S"; ok; expect_out "clientPin: PIN set"

step "Ctrl-C cancels the wait for a touch"
"$TOKENCTL_BIN" test --token "$S" --pin-file "$T/p.pin" \
    >"$T/out" 2>"$T/err" &
tpid=$!
i=0
while ! grep -q "Touch the token" "$T/err" 2>/dev/null; do
	i=$((i + 1)); [ $i -lt 500 ] || fail "tokenctl test never asked for a touch"
	sleep 0.01
done
sleep 0.3
start=$(date +%s)
kill -INT $tpid
RC=0; wait $tpid || RC=$?
end=$(date +%s)
expect_rc 1
expect_err "tokenctl: $S: the token operation was cancelled"
[ $((end - start)) -le 3 ] || fail "cancel took $((end - start)) s"
run tokenctl info --token "$S"; ok

step "a token without PIN/UV support is refused, saying why"
soft_start nouv --no-uv
N=$(token nouv)
run tokenctl info --token "$N"; ok
expect_out "clientPin: not supported"
expect_out "usable by breakglass: no: this token cannot verify a PIN (no clientPin support); breakglass needs a token with a PIN"
run tokenctl info --json --token "$N"; ok
expect_out '"usable": false'
run tokenctl test --token "$N" --pin-file "$T/p.pin"; expect_rc 1
expect_out "FAIL token has hmac-secret and a PIN"
expect_err "tokenctl: $N: this token cannot verify a PIN (no clientPin support); breakglass needs a token with a PIN"
expect_no_out "PASS"
run tokenctl pin set --token "$N" --pin-file "$T/p.pin"; expect_rc 1
expect_err "this token cannot verify a PIN (no clientPin support)"
echo "tokenctl_refusals: ok"
