#!/bin/sh
# Tokens without the credProtect extension (older FIDO2 tokens), played by
# software tokens served with --no-cred-protect: they enrol (cred_protect 0
# in the member listing and the audit event) and carry a whole request ->
# two approvals -> release.  The requester's token has credProtect, so
# the listing shows both kinds side by side.
. "$(dirname "$0")/lib.sh"
bg_setup

step "tokens: tom with credProtect; alice, bob, mia without"
soft_person tom pin-tom-1
soft_person olga pin-olga-1
for p in alice bob mia; do
	soft_start $p --no-cred-protect
	soft_pin $p "pin-$p-1"
	run tokenctl info --token "$(token $p)"; ok
	expect_no_out credProtect
done
run tokenctl info --token "$(token tom)"; ok
expect_out credProtect

step "vault, tenant, enrolment, first link: level 0 recorded for the old tokens"
std_genesis
as carol vault tenant add acme; ok
as_enroll tom requester
as_enroll olga operator
expect_event member.add '"cred_protect": 3'
for p in alice bob mia; do
	as_enroll $p approver
	expect_event member.add '"cred_protect": 0'
	expect_event member.add "$p"
done
as carol vault policy set acme 'all-of(1-of(alice,bob),1-of(mia))'; ok
# signed by the custodians and both client approvers (tokens without
# credProtect sign links as they approve)
sign_link acme carol dave alice bob
expect_out "link 1 of acme takes effect now"
run vault member list acme --json; ok
python3 - "$T/out" <<'PY' || fail "member listing cred_protect values"
import json, sys
doc = json.load(open(sys.argv[1]))
def walk(o):
    if isinstance(o, dict):
        if "cred_protect" in o:
            yield o
        for v in o.values():
            yield from walk(v)
    elif isinstance(o, list):
        for v in o:
            yield from walk(v)
seen = {}
for m in walk(doc):
    name = m.get("name") or m.get("member") or m.get("label")
    seen[str(name)] = m["cred_protect"]
want = {"tom": 3, "alice": 0, "bob": 0, "mia": 0}
for who, level in want.items():
    hits = [v for k, v in seen.items() if who in k]
    if hits != [level]:
        sys.stderr.write("%s: cred_protect %r, want %d (all: %r)\n"
                         % (who, hits, level, seen))
        sys.exit(1)
PY
printf 'old-token-secret\n' >"$T/value"
op_in "$T/value" vault secret add acme da; ok
op_in "$T/value" vault secret add acme db; ok

step "request, two approvals from tokens without credProtect, release"
new_request
as alice vault approve "$REQ"; ok
expect_out "approved by alice"; expect_out "needs 1 more from: mia"
expect_event approve alice
as mia vault approve "$REQ"; ok
expect_out "the policy is met"
as tom vault release "$REQ" --out "$T/value.out"; ok
[ "$(cat "$T/value.out")" = old-token-secret ] || fail "released value differs"
expect_event release tom

step "a wrong PIN on an old token is still refused"
pin_file wrong nope-nope
as tom vault request acme/db --reason "second" --ticket INC-2 --ttl 1h; ok
REQ=$(cat "$T/out")
run vault --token "$(token bob)" --pin-file "$T/wrong.pin" approve "$REQ" \
    --as bob
[ "$RC" -ne 0 ] || fail "approved with a wrong PIN"
expect_err "PIN"
echo "vault_nocredprotect: ok"
