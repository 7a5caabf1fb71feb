#!/bin/sh
# Vetted tokens against root on the vault file (docs/security.md,
# "Vetted tokens"): the trust store lives in the signed vault chain, so
# editing it in the stored link (adding his own root, trading the BLOB
# for one without its status report) breaks the link's signatures; a
# credential's attestation stripped from a link fails the same way; an
# older BLOB is refused by custodian trust.  (A link whose signatures are
# good but whose new credential is self-attested is refused by
# bg_chain_check itself: tests/test_chain.c, test_vetted.)
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/lib.sh"
bg_setup

G=0123456789abcdef0123456789abcdef
CA=$T/ca
scripts/test-ca ca "$CA" "$G" || fail "scripts/test-ca ca"
for p in carol dave tom alice bob; do
	"$TOKENCTL_BIN" soft create --state "$T/$p.state" \
	    --attestation-cert "$CA/leaf.pem" --attestation-key "$CA/leaf.key" \
	    --attestation-chain "$CA/chain.pem" --aaguid "$G" >/dev/null ||
	    fail "tokenctl soft create $p"
	soft_person $p "pin-$p-1"
done
as carol vault init --root "$CA/root.pem" --allow-aaguid "$G"; ok
with dave vault custodian add dave; ok
as carol vault chain sign; ok
as dave vault chain sign; ok
scripts/test-ca blob "$CA" 5 2099-01-01 "$G" REVOKED "Test Key 5" >"$T/blob5"
scripts/test-ca blob "$CA" 4 2099-01-01 "$G" FIDO_CERTIFIED "Test Key 5" \
    >"$T/blob4"
as carol vault custodian trust --fido-root "$CA/mds-root.pem" --mds "$T/blob5"; ok
as carol vault chain sign; ok
as dave vault chain sign; ok; expect_out "vault link 1 takes effect now"
as carol vault tenant add acme; ok
with tom vault member add acme tom --role requester
refused 3 "REVOKED"

hexder() { openssl x509 -in "$1" -outform DER | od -An -v -tx1 | tr -d ' \n'; }
keep() { cp "$BREAKGLASS_VAULT" "$T/keep.db"; }
put_back() { cp "$T/keep.db" "$BREAKGLASS_VAULT"; rm -f "$BREAKGLASS_VAULT-wal" "$BREAKGLASS_VAULT-shm"; }

step "root trusts his own root in the genesis: it no longer verifies"
keep
db "UPDATE links SET body = replace(body, '$(hexder "$CA/root.pem")',
    '$(hexder "$CA/root2.pem")') WHERE tenant = '' AND seq = 0"
[ "$(db "SELECT count(*) FROM links WHERE tenant = '' AND body LIKE
    '%$(hexder "$CA/root2.pem")%'")" = 1 ] || fail "the edit did not land"
as carol vault tenant add beta; refused 3 "the vault's genesis does not verify"
put_back

step "root drops the REVOKED report (the older BLOB) from vault link 1"
keep
db "UPDATE links SET body = replace(body, '$(cat "$T/blob5")',
    '$(cat "$T/blob4")') WHERE tenant = '' AND seq = 1"
[ "$(db "SELECT count(*) FROM links WHERE tenant = '' AND seq = 1 AND
    instr(body, '$(cat "$T/blob4")') > 0")" = 1 ] || fail "the edit did not land"
as carol vault tenant add beta; refused 3 "vault link 1 does not verify"
put_back

step "an older BLOB replayed into a new vault link: refused"
as carol vault custodian trust --mds "$T/blob4"
refused 1 "not above the one pinned (5)"

step "root strips the attestation of a custodian's credential"
keep
db "UPDATE links SET body = json_set(body, '\$.members[0].tokens[0].att',
    json('null')) WHERE tenant = '' AND seq = 0"
as carol vault tenant add beta; refused 3 "the vault's genesis does not"
put_back
as carol vault tenant add beta; ok
