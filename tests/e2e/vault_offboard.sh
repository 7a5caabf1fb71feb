#!/bin/sh
# Offboarding: every sealed value, share, request key, re-sealed share and
# token key of the tenant is destroyed (the database file and its WAL are
# scanned for the bytes afterwards), audit events stay, and the signed
# destruction certificate verifies (and a flipped byte does not).
. "$(dirname "$0")/lib.sh"
bg_setup

std_vault
# a second tenant that must come through untouched
as carol vault tenant add beta; ok
as_enroll tom requester beta
as_enroll olga operator beta
for p in alice mia; do as_enroll $p approver beta; done
as carol vault policy set beta '2-of(alice,mia)'; ok
sign_link beta carol dave alice
expect_out "link 1 of beta takes effect now"
printf 'beta-keeps-this\n' >"$T/bvalue"
op_in "$T/bvalue" vault secret add beta root; ok

step "a release, a rotation, and an open request with an approval"
new_request
as alice vault approve "$REQ"; ok
as mia vault approve "$REQ"; ok
as tom vault release "$REQ"; ok; expect_out "hunter2-domain-admin"
printf 'second-value-after-rotation\n' >"$T/v2"
op_in "$T/v2" vault rotate begin acme/da; ok
op vault rotate commit acme/da; ok
new_request
as bob vault approve "$REQ"; ok

# the bytes that must be gone afterwards
db "SELECT hex(blob) FROM versions x JOIN secrets s ON s.id = x.secret_id JOIN tenants t ON t.id = s.tenant_id WHERE t.name = 'acme'" >"$T/hex.values"
db "SELECT hex(blob) FROM shares WHERE version_id IN (SELECT x.id FROM versions x JOIN secrets s ON s.id = x.secret_id JOIN tenants t ON t.id = s.tenant_id WHERE t.name = 'acme')" >"$T/hex.shares"
db "SELECT hex(req_sk_sealed) FROM requests WHERE req_sk_sealed IS NOT NULL AND id = $REQ" >"$T/hex.reqkeys"
db "SELECT hex(resealed) FROM approvals WHERE resealed IS NOT NULL AND request_id = $REQ" >"$T/hex.resealed"
db "SELECT hex(k.member_pk) FROM tokens k JOIN memberships m ON m.id = k.membership_id JOIN tenants t ON t.id = m.tenant_id WHERE t.name = 'acme'" >"$T/hex.tokens"
for f in values shares reqkeys resealed tokens; do
	[ -s "$T/hex.$f" ] || fail "no $f recorded before offboarding"
done
NEV=$(count_events release)

step "confirmation is required"
op vault tenant offboard acme; refused 2 "confirm with the tenant's name"
op vault tenant offboard acme --confirm beta; refused 2 "--confirm acme"
run vault secret list acme; ok; expect_out "da"

step "offboard"
op vault tenant offboard acme --confirm acme --certificate "$T/cert"; ok
expect_out "breakglass destruction certificate v1"
expect_out "tenant: acme"
expect_out "secret: da version 2 sealed value-sha256 "
expect_out "secret: da version 1 retired value-sha256 "
expect_out "request keys destroyed: 1"
expect_err "acme offboarded"
[ "$(stat -c %a "$T/cert")" = 600 ] || fail "certificate file not 0600"
cmp -s "$T/out" "$T/cert" || fail "printed and written certificates differ"
op vault tenant offboard acme --confirm acme --certificate "$T/cert"
refused 1 "File exists"
expect_event tenant.offboard

step "the value-blob hashes in the certificate are the destroyed blobs'"
python3 - "$T/cert" "$T/hex.values" <<'PY' || fail "certificate hashes"
import hashlib, sys
cert = open(sys.argv[1]).read()
for h in open(sys.argv[2]).read().split():
    d = hashlib.sha256(bytes.fromhex(h)).hexdigest()
    assert ("value-sha256 " + d) in cert, d
PY

step "no sealed material of acme is left in the database or its WAL"
[ ! -s "$BREAKGLASS_VAULT-wal" ] || fail "WAL not truncated"
python3 - "$BREAKGLASS_VAULT" "$T" <<'PY' || fail "tenant material left on disk"
import os, sys
path, t = sys.argv[1], sys.argv[2]
data = b""
for f in (path, path + "-wal", path + "-journal"):
    if os.path.exists(f):
        data += open(f, "rb").read()
needles = []
for kind in ("values", "shares", "reqkeys", "resealed", "tokens"):
    for h in open(os.path.join(t, "hex." + kind)).read().split():
        b = bytes.fromhex(h)
        # any 24-byte window of the blob (ciphertexts are random)
        needles.append((kind, b[-24:]))
        needles.append((kind, b[:24] if len(b) >= 48 else b))
needles.append(("plaintext", b"hunter2-domain-admin"))
needles.append(("plaintext", b"second-value-after-rotation"))
bad = [k for k, n in needles if n in data]
if bad:
    sys.stderr.write("found: %s\n" % sorted(set(bad)))
    sys.exit(1)
# the other tenant's material is still there
assert b"beta" in data
PY
[ "$(db "SELECT count(*) FROM tokens k JOIN memberships m ON m.id = k.membership_id JOIN tenants t ON t.id = m.tenant_id WHERE t.name = 'acme'")" = 0 ] ||
    fail "acme token rows left"
[ "$(db "SELECT offboarded_at IS NOT NULL FROM tenants WHERE name = 'acme'")" = 1 ] ||
    fail "tenant not marked offboarded"

step "tenant list and tenant show mark it offboarded"
run vault tenant list; ok
grep -Eq '^acme +offboarded ' "$T/out" || fail "tenant list does not mark acme offboarded"
grep -Eq '^beta +active ' "$T/out" || fail "tenant list does not mark beta active"
run vault tenant list --json; ok
python3 - "$T/out" <<'PY' || fail "tenant list --json state"
import json, sys
t = {x["name"]: x for x in json.load(open(sys.argv[1]))["tenants"]}
assert t["acme"]["state"] == "offboarded" and t["acme"]["offboarded_at"] > 0
assert t["beta"]["state"] == "active" and t["beta"]["offboarded_at"] is None
PY
run vault tenant show acme; ok; expect_out "state:             OFFBOARDED at "
run vault tenant show beta; ok; expect_out "state:             active"

step "audit events stay; the tenant refuses further use"
[ "$(count_events release)" = "$NEV" ] || fail "release events lost"
run vault audit verify; ok
run vault secret list acme; refused 1 "was offboarded"
as tom vault request acme/da --reason r --ticket T --ttl 1h
refused 1 "was offboarded"
as carol vault policy set acme '2-of(alice,mia)'; refused 1 "was offboarded"
as carol vault member recertify acme tom --until +400d; refused 1 "was offboarded"
as carol vault member remove acme tom; refused 1 "was offboarded"
as carol vault tenant set acme --max-ttl 2h; refused 1 "was offboarded"
run vault --token "$(token alice)" --pin-file "$T/alice.pin" \
    member add acme alice --role auditor
refused 1 "was offboarded"
run vault member list acme; refused 1 "was offboarded"

step "the certificate verifies; a flipped byte does not"
run vault tenant verify-certificate "$T/cert"; ok
expect_out "signature good"
python3 - "$T/cert" "$T/bad" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
i = b.index(b"shares destroyed: ") + len("shares destroyed: ")
b[i] = ord("9") if b[i] != ord("9") else ord("8")
open(sys.argv[2], "wb").write(b)
PY
run vault tenant verify-certificate "$T/bad"
refused 3 "signature does not verify"
head -n 3 "$T/cert" >"$T/short"
run vault tenant verify-certificate "$T/short"; refused 1 "signature:"

step "beta is untouched"
as tom vault request beta/root --reason r --ticket T-2 --ttl 1h; ok
R2=$(cat "$T/out")
as alice vault approve "$R2"; ok
as mia vault approve "$R2"; ok
as tom vault release "$R2"; ok; expect_out "beta-keeps-this"
echo "offboard: all passed"
