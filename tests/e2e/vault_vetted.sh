#!/bin/sh
# Vetted tokens end to end: a production vault whose genesis pins a test
# vendor root and AAGUID allow-list (scripts/test-ca); software tokens
# made with an attestation identity answer makeCredential with packed
# attestation and an x5c over real CTAPHID to real libfido2.  A valid
# chain enrolls; an untrusted root, an unknown AAGUID, a certificate
# whose AAGUID differs from authData, a self-attested software token and
# a revoked AAGUID (in a BLOB signed by the test FIDO root) are refused
# in one sentence naming make/model and reason; a tampered BLOB, one
# signed by another root and an older serial are refused by custodian
# trust.
. "$(dirname "$0")/lib.sh"
bg_setup

G=0123456789abcdef0123456789abcdef
W=ffffffffffffffffffffffffffffffff
CA=$T/ca
scripts/test-ca ca "$CA" "$G" || fail "scripts/test-ca ca"

# vendor_person NAME LEAF KEY CHAIN AAGUID: a token with that identity.
vendor_person() {
	"$TOKENCTL_BIN" soft create --state "$T/$1.state" \
	    --attestation-cert "$CA/$2" --attestation-key "$CA/$3" \
	    --attestation-chain "$CA/$4" --aaguid "$5" >/dev/null 2>"$T/err" ||
	    fail "tokenctl soft create $1: $(cat "$T/err")"
	soft_person "$1" "pin-$1-1"
}

step "tokenctl soft create checks its attestation inputs"
chmod 644 "$CA/leaf.key"
run tokenctl soft create --state "$T/x.state" --attestation-cert \
    "$CA/leaf.pem" --attestation-key "$CA/leaf.key" --aaguid "$G"
expect_rc 1; expect_err "accessible to group or others"
chmod 600 "$CA/leaf.key"
run tokenctl soft create --state "$T/x.state" --attestation-cert \
    "$CA/leaf.pem" --attestation-key "$CA/leaf2.key" --aaguid "$G"
expect_rc 1; expect_err "not the key of the attestation certificate"
run tokenctl soft create --state "$T/x.state" --attestation-cert \
    "$CA/leaf.pem" --aaguid "$G"
expect_rc 2; expect_err "needs --attestation-cert, --attestation-key and --aaguid"
run tokenctl soft create --state "$T/x.state" --attestation-cert \
    "$CA/leaf.pem" --attestation-key "$CA/leaf.key" --aaguid 0123
expect_rc 2; expect_err "--aaguid takes 32 hex digits"
[ ! -e "$T/x.state" ] || fail "a refused soft create left a state"

for p in carol dave alice bob tom; do
	vendor_person $p leaf.pem leaf.key chain.pem "$G"
done
vendor_person eve leaf2.pem leaf2.key chain2.pem "$G"	# untrusted root
vendor_person uma wrong.pem wrong.key chain.pem "$W"	# unknown AAGUID
vendor_person max wrong.pem wrong.key chain.pem "$G"	# cert AAGUID differs
soft_person sam pin-sam-1				# self-attested

step "a production vault needs a trust store in its genesis"
as carol vault init
expect_rc 2; expect_err "a production vault pins a trust store in its genesis"
[ ! -e "$BREAKGLASS_VAULT" ] || fail "a refused init left a vault"

step "init pins the vendor root and AAGUID; custodians are vetted at genesis"
as carol vault init --root "$CA/root.pem" --allow-aaguid "$G"; ok
expect_out "software tokens:  refused (production vault)"
expect_out "trust store:      1 vendor root, 1 AAGUID"
run vault --token "$(token eve)" --pin-file "$T/eve.pin" custodian add eve
refused 3 "does not chain to a root trusted for its AAGUID"
run vault --token "$(token dave)" --pin-file "$T/dave.pin" custodian add dave
ok
sign_genesis carol dave
expect_out "takes effect now"
run vault chain show; ok
expect_out "Test Attestation Root"
expect_out "allowed AAGUID: 01234567-89ab-cdef-0123-456789abcdef"

step "a token whose chain ends at the trusted root enrolls"
as carol vault tenant add acme; ok
for p in alice bob; do as_enroll $p approver; done
as_enroll tom requester
run vault chain show acme; ok; expect_out "requester tom"

step "refused, in one sentence naming make/model and reason"
member() {
	run vault --token "$(token "$1")" --pin-file "$T/$1.pin" \
	    member add acme "$1" --role requester
}
member eve; refused 3 "01234567-89ab-cdef-0123-456789abcdef"
expect_err "does not chain to a root trusted for its AAGUID"
member uma; refused 3 "ffffffff-ffff-ffff-ffff-ffffffffffff"
expect_err "is not on the vault's allow-list"
member max; refused 3 "01234567-89ab-cdef-0123-456789abcdef"
expect_err "AAGUID"
member sam; refused 3 "software token"
run vault chain show acme; ok
for p in eve uma max sam; do expect_no_out "requester $p"; done

step "custodian trust: a BLOB signed under the test FIDO root"
scripts/test-ca blob "$CA" 5 2099-01-01 "$G" FIDO_CERTIFIED "Test Key 5" \
    >"$T/blob5"
scripts/test-ca blob "$CA" 4 2099-01-01 "$G" FIDO_CERTIFIED "Test Key 5" \
    >"$T/blob4"
scripts/test-ca blob "$CA" 6 2099-01-01 "$G" FIDO_CERTIFIED "Test Key 5" 2 \
    >"$T/blob-other"
scripts/test-ca blob "$CA" 7 2099-01-01 "$G" REVOKED "Test Key 5" \
    >"$T/blob7"
sed 's/\.\(.\)/.X\1/' "$T/blob5" | sed 's/\.X./.A/' >"$T/blob-tampered"
cmp -s "$T/blob5" "$T/blob-tampered" && fail "tampering changed nothing"
as carol vault custodian trust --fido-root "$CA/mds-root.pem" --mds "$T/blob-tampered"
refused 3 "the metadata BLOB's signature does not verify"
as carol vault custodian trust --fido-root "$CA/mds-root.pem" --mds "$T/blob-other"
refused 3 "signing certificate does not chain to the pinned FIDO root"
as carol vault custodian trust --fido-root "$CA/mds-root.pem" --mds "$T/blob5"; ok
sign_genesis carol dave
expect_out "vault link 1 takes effect now"
as carol vault custodian trust --mds "$T/blob4"
refused 1 "not above the one pinned (5)"
run vault chain show; ok; expect_out "serial 5"

step "a revoked AAGUID in a newer BLOB: refused"
as carol vault custodian trust --mds "$T/blob7"; ok
sign_genesis carol dave
expect_out "vault link 2 takes effect now"
vendor_person ann leaf.pem leaf.key chain.pem "$G"
as carol vault chain discard acme; ok	# made under vault link 0
member ann; refused 3 "Test Key 5"
expect_err "REVOKED"
