#!/bin/sh
# The software token's socket, unchanged, for a CTAP 2.1 client not written
# here: Yubico's python-fido2 (Debian python3-fido2) runs
# tests/independent/ctap_client.py against "tokenctl soft serve" -- getInfo,
# setPIN, makeCredential (ES256, EdDSA) with packed attestation, hmac-secret
# under PIN protocols 1 and 2, signatures, PIN retries -- and against a
# token served with --no-cred-protect.
. "$(dirname "$0")/lib.sh"
bg_setup

# Debian's interpreter: the module is a Debian package, and a python3
# earlier on PATH (a virtualenv, pyenv) may not see it.
PY=${BG_PYTHON:-/usr/bin/python3}
CLIENT=$(cd "$(dirname "$0")/../independent" && pwd)/ctap_client.py

step "python-fido2 is there (scripts/install-deps installs python3-fido2)"
"$PY" -c 'import fido2, sys; sys.exit(fido2.__version__ < "0.9")' \
    >"$T/out" 2>"$T/err" ||
    fail "$PY cannot import fido2 >= 0.9: install python3-fido2"

client() {
	RC=0
	"$PY" "$CLIENT" "$@" >"$T/out" 2>"$T/err" </dev/null || RC=$?
}

step "full CTAP 2.1 run against a fresh software token"
soft_start indep
client "$T/indep.sock"
ok
expect_out "ALL PASS"
! grep -q '^FAIL' "$T/out" || fail "a check failed"
n=$(grep -c '^PASS: ' "$T/out")
[ "$n" -ge 60 ] || fail "only $n checks passed"
for c in "getInfo pinUvAuthProtocols [2, 1]" \
    "ES256 packed attestation verifies" "EdDSA packed attestation verifies" \
    "ES256 hmac-secret outputs agree across protocols 1 and 2" \
    "EdDSA protocol 1 signature verifies (python-fido2 COSE)" \
    "protocol 1: PIN retries 6" "protocol 2: PIN retries back to 8"; do
	expect_out "PASS: $c"
done
echo "   $n checks"

step "the state it left is usable by tokenctl (PIN set, 8 retries)"
run tokenctl info --token "$(token indep)"; ok
expect_out "software token"
expect_out "pin retries: 8"
expect_no_out "no PIN set"

step "a token without credProtect"
soft_start nocp --no-cred-protect
client "$T/nocp.sock" --no-cred-protect
ok
expect_out "ALL PASS"
expect_out "PASS: no-cred-protect: credProtect request ignored"
run tokenctl info --token "$(token nocp)"; ok
expect_out "extensions: hmac-secret"
expect_no_out "credProtect"

step "the client fails loudly on a token that is not there"
client "$T/nowhere.sock"
[ "$RC" -ne 0 ] || fail "client succeeded without a token"
expect_out "FAIL:"
echo "independent_client: ok"
