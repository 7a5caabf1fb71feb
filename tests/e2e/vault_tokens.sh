#!/bin/sh
# Token refusals: software token in a production vault, wrong PIN (with
# tries left), token without user verification, no token at the path.
. "$(dirname "$0")/lib.sh"
bg_setup
soft_person alice pin-alice-1
soft_person bob pin-bob-1

step "a production vault refuses software tokens, its first custodian's too"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/root.key" -out "$T/root.pem" -subj /CN=root -days 1 \
    2>/dev/null || fail "openssl req"
run vault --vault "$T/prod.db" --token "$(token alice)" \
    --pin-file "$T/alice.pin" init --as alice --root "$T/root.pem" \
    --allow-aaguid 0123456789abcdef0123456789abcdef
refused 3 "software token"
expect_err "created without --allow-soft-tokens"
[ ! -e "$T/prod.db" ] || fail "a refused init left its vault file"
run vault --vault "$T/prod.db" member list acme; expect_rc 4

step "wrong PIN: refused with the tries left"
std_genesis
as carol vault tenant add acme; ok
pin_file wrong 9999-wrong
run vault --token "$(token alice)" --pin-file "$T/wrong.pin" \
    member add acme alice --role approver --side client
refused 3 "wrong PIN"
expect_err "7 tries left"
expect_no_err 9999-wrong
expect_event refused
run vault chain show acme; ok; expect_no_out "alice"
# the right PIN still works (retries are counted by the token)
as_enroll alice approver

step "a token without user verification (PIN) is refused"
soft_start nouv --no-uv
pin_file nouv 1234-nouv
run vault --token "$(token nouv)" --pin-file "$T/nouv.pin" \
    member add acme fay --role approver --side client
refused 3 "vault: member add acme fay"
expect_err "cannot verify a PIN"
expect_event refused fay

step "a token whose PIN is not set is refused"
soft_start nopin
pin_file nopin 1234-nopin
run vault --token "$(token nopin)" --pin-file "$T/nopin.pin" \
    member add acme gus --role approver --side client
refused 3 "PIN"

step "no token at that path; PIN file mode checked"
run vault --token "unix:$T/none.sock" --pin-file "$T/alice.pin" \
    member add acme erin --role approver --side client
expect_rc 3; expect_err "vault: "
chmod 644 "$T/bob.pin"
run vault --token "$(token bob)" --pin-file "$T/bob.pin" \
    member add acme bob --role approver --side client
refused 3 "vault: member add acme bob"
chmod 600 "$T/bob.pin"
as_enroll bob approver

step "wrong PIN at approval"
soft_person tom pin-tom-1
as_enroll tom requester
soft_person olga pin-olga-1
as_enroll olga operator
as carol vault policy set acme '2-of(alice,bob)'; ok
sign_link acme carol dave alice bob
expect_out "link 1 of acme takes effect now"
printf 'x-value\n' >"$T/v"; op_in "$T/v" vault secret add acme x; ok
as tom vault request acme/x --reason r --ticket t --ttl 10m; ok
REQ=$(cat "$T/out")
run vault --token "$(token alice)" --pin-file "$T/wrong.pin" approve "$REQ" --as alice
refused 3 "tries left"
expect_event refused alice
as alice vault approve "$REQ"; ok
echo "tokens: all passed"
