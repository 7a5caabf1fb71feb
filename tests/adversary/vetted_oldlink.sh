#!/bin/sh
# A tenant link may name an older vault link than the one in force (it
# need only be no older than the tenant's previous link): the insider,
# a client approver who alone can grant a requester (client_cosign 1),
# writes with root a link that names the vault link before the one that
# pinned a BLOB reporting his token's model REVOKED, and so enrolls a
# token the vault in force refuses.  The link's signatures are good;
# what must stop it is the trust store in force: a tenant member's
# credential is vetted against it whenever it is to sign (bg_act_sign).
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/lib.sh"
bg_setup

G=0123456789abcdef0123456789abcdef
CA=$T/ca
scripts/test-ca ca "$CA" "$G" || fail "scripts/test-ca ca"
for p in carol dave tom alice bob olga eve; do
	"$TOKENCTL_BIN" soft create --state "$T/$p.state" \
	    --attestation-cert "$CA/leaf.pem" --attestation-key "$CA/leaf.key" \
	    --attestation-chain "$CA/chain.pem" --aaguid "$G" >/dev/null ||
	    fail "tokenctl soft create $p"
	soft_person $p "pin-$p-1"
done
scripts/test-ca blob "$CA" 4 2099-01-01 "$G" FIDO_CERTIFIED "Test Key 5" \
    >"$T/blob4"
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

step "root keeps a copy; the custodians then pin a BLOB that reports the model REVOKED"
cp "$BREAKGLASS_VAULT" "$T/pre.db"
as carol vault custodian trust --mds "$T/blob5"; ok
as carol vault chain sign; ok
as dave vault chain sign; ok; expect_out "vault link 2 takes effect now"
with eve vault member add acme eve --role requester
refused 3 "REVOKED"
run vault chain discard acme --as carol
true

step "on his copy, alice grants eve (a token of the revoked model) alone"
REAL=$BREAKGLASS_VAULT
BREAKGLASS_VAULT=$T/pre.db
with eve vault member add acme eve --role requester; ok
as alice vault chain sign acme; ok; expect_out "takes effect now"
BREAKGLASS_VAULT=$REAL

step "root writes that link, naming vault link 1, into the real vault"
db "ATTACH '$T/pre.db' AS p;
    INSERT INTO links SELECT * FROM p.links WHERE tenant = 'acme' AND seq = 2;
    INSERT INTO link_sigs (tenant, seq, person, cred_id, authdata, sig)
      SELECT tenant, seq, person, cred_id, authdata, sig FROM p.link_sigs
      WHERE tenant = 'acme' AND seq = 2;
    INSERT INTO memberships SELECT * FROM p.memberships WHERE person = 'eve';
    INSERT INTO tokens SELECT * FROM p.tokens WHERE membership_id IN
      (SELECT id FROM p.memberships WHERE person = 'eve');"
[ "$(db "SELECT json_extract(body, '\$.vault_seq') FROM links
    WHERE tenant = 'acme' AND seq = 2")" = 1 ] || fail "the link names no vault link 1"

step "eve's revoked token must not count: her request is refused"
as eve vault request acme/da --reason r --ticket T --ttl 10m
[ "$RC" != 0 ] || fail "eve, enrolled with a REVOKED model after the BLOB reported it, requested acme/da"
# refused by the trust store in force, vetted when a token is to sign
expect_err "eve's token cannot sign here"; expect_err "REVOKED"
echo "vetted_oldlink: all passed"
