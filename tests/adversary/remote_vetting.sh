#!/bin/sh
# An approval packet counts only for a token the trust store in force
# vets, exactly as an approval made at the vault (found by a red-team
# review): after the custodians pin a BLOB reporting a model REVOKED,
# bob's token of that model is refused at the vault, and alice's approval
# packet signed with the same model on her own machine (which knows no
# trust store) is refused at import.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/lib.sh"
bg_setup
G=0123456789abcdef0123456789abcdef
CA=$T/ca
scripts/test-ca ca "$CA" "$G" || fail "scripts/test-ca ca"
for p in carol dave tom alice bob mia olga; do
	"$TOKENCTL_BIN" soft create --state "$T/$p.state" \
	    --attestation-cert "$CA/leaf.pem" --attestation-key "$CA/leaf.key" \
	    --attestation-chain "$CA/chain.pem" --aaguid "$G" >/dev/null ||
	    fail "tokenctl soft create $p"
	soft_person $p "pin-$p-1"
done
scripts/test-ca blob "$CA" 4 2099-01-01 "$G" FIDO_CERTIFIED "Test Key 5" >"$T/blob4"
scripts/test-ca blob "$CA" 5 2099-01-01 "$G" REVOKED "Test Key 5" >"$T/blob5"
as carol vault init --root "$CA/root.pem" --allow-aaguid "$G"; ok
with dave vault custodian add dave; ok
as carol vault chain sign; ok
as dave vault chain sign; ok
as carol vault custodian trust --fido-root "$CA/mds-root.pem" --mds "$T/blob4"; ok
as carol vault chain sign; ok
as dave vault chain sign; ok; expect_out "vault link 1 takes effect now"
as carol vault tenant add acme; ok
with tom vault member add acme tom --role requester; ok
with alice vault member add acme alice --role approver --side client; ok
with bob vault member add acme bob --role approver --side client; ok
with olga vault member add acme olga --role operator; ok
as carol vault policy set acme '2-of(alice,bob)'; ok
for p in carol dave alice bob; do as $p vault chain sign acme; ok; done
expect_out "takes effect now"
printf 'hunter2-domain-admin\n' >"$T/value"
op_in "$T/value" vault secret add acme da; ok
as alice vault packet card acme --out "$T/alice.card"; ok
request_da
as tom vault packet export "$REQ" --for alice --out "$T/a.req"; ok

step "custodians pin a BLOB reporting the model REVOKED"
as carol vault custodian trust --mds "$T/blob5"; ok
as carol vault chain sign; ok
as dave vault chain sign; ok; expect_out "vault link 2 takes effect now"

step "at the vault, bob's token of that model is refused"
as bob vault approve "$REQ"
refused 3 "bob's token cannot sign here"; expect_err "REVOKED"

step "alice approves on her machine (it knows no trust store); the import refuses"
approve_away alice "$T/alice.card" "$T/a.req" "$T/a.appr"; ok
run vault packet import "$T/a.appr"
refused 3 "alice's token cannot sign here"; expect_err "REVOKED"
[ -z "$(db "SELECT person FROM approvals")" ] || fail "an approval was stored"
echo "remote_vetting: all passed"
