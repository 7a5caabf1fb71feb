#!/bin/sh
# Token refusals: software token in a production vault, wrong PIN (with
# tries left), token without user verification, no token at the path.
. "$(dirname "$0")/lib.sh"
bg_setup
soft_person alice pin-alice-1
soft_person bob pin-bob-1

step "a production vault refuses software tokens"
run vault --vault "$T/prod.db" init; ok
expect_out "refused (production vault)"
run vault --vault "$T/prod.db" tenant add acme; ok
run vault --vault "$T/prod.db" --token "$(token alice)" \
    --pin-file "$T/alice.pin" member add acme alice --role approver
refused 3 "software token"
run vault --vault "$T/prod.db" audit log --json; ok
expect_out '"BG_ERR_TOKEN_SOFT_REFUSED"'
run vault --vault "$T/prod.db" member list acme; ok
expect_no_out alice; expect_no_out "accepts software tokens"

step "wrong PIN: refused with the tries left"
run vault init --allow-soft-tokens; ok
run vault tenant add acme; ok
pin_file wrong 9999-wrong
run vault --token "$(token alice)" --pin-file "$T/wrong.pin" \
    member add acme alice --role approver
refused 3 "wrong PIN"
expect_err "7 tries left"
expect_no_err 9999-wrong
expect_event refused
run vault member list acme --json; ok; expect_no_out '"alice"'
# the right PIN still works (retries are counted by the token)
as_enroll alice approver

step "a token without user verification (PIN) is refused"
soft_start nouv --no-uv
pin_file nouv 1234-nouv
run vault --token "$(token nouv)" --pin-file "$T/nouv.pin" \
    member add acme carol --role approver
refused 3 "vault: member add acme carol"
expect_err "cannot verify a PIN"
expect_event refused carol

step "a token whose PIN is not set is refused"
soft_start nopin
pin_file nopin 1234-nopin
run vault --token "$(token nopin)" --pin-file "$T/nopin.pin" \
    member add acme dave --role approver
refused 3 "PIN"

step "no token at that path; PIN file mode checked"
run vault --token "unix:$T/none.sock" --pin-file "$T/alice.pin" \
    member add acme erin --role approver
expect_rc 3; expect_err "vault: "
chmod 644 "$T/bob.pin"
run vault --token "$(token bob)" --pin-file "$T/bob.pin" \
    member add acme bob --role approver
refused 3 "vault: member add acme bob"
chmod 600 "$T/bob.pin"
as_enroll bob approver

step "wrong PIN at approval"
soft_person tom pin-tom-1
as_enroll tom requester
run vault policy set acme '2-of(alice,bob)'; ok
printf 'x-value\n' >"$T/v"; run_in "$T/v" vault secret add acme x; ok
as tom vault request acme/x --reason r --ticket t --ttl 10m; ok
REQ=$(cat "$T/out")
run vault --token "$(token alice)" --pin-file "$T/wrong.pin" approve "$REQ" --as alice
refused 3 "tries left"
expect_event refused alice
as alice vault approve "$REQ"; ok
echo "tokens: all passed"
