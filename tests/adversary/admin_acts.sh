#!/bin/sh
# Every act that changes the vault is a named person's signed act: the
# insider tries each administrative act without a name, under a name
# whose role does not allow it, and under someone else's name with their
# own token.  Each is refused, and the log names a person (never the
# machine's account) and carries a signature for every act that was made.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/lib.sh"
bg_setup
adv_vault

step "no name: refused before anything is asked"
run vault tenant add beta; expect_rc 2; expect_err "--as PERSON is required"
run vault policy set acme '2-of(alice,bob,mia)'; expect_rc 2
run vault tenant offboard acme --confirm acme; expect_rc 2

step "a role that does not allow the act"
as tom vault tenant add beta; refused 1 "tom is not a custodian of the vault"
as tom vault policy set acme '2-of(alice,bob,mia)'
refused 1 "tom is not an operator of the tenant or a custodian acme"
as alice vault member recertify acme tom --until +30d
refused 1 "alice is not an operator"
as carol vault tenant offboard acme --confirm acme
refused 1 "carol is not an operator of the tenant acme"
as tom vault evidence export --request 1 --out "$T/ev.json"
expect_rc 4	# no request 1 yet: refused before any token is asked
request_da
# the requester, and an approver, with a request to export: their roles
# do not allow it, refused before their PIN or touch, nothing written
as tom vault evidence export --request "$REQ" --out "$T/ev.json"
refused 1 "tom is not an operator or the auditor of the tenant"
expect_no_err "Touch the token"
as alice vault evidence export --request "$REQ" --out "$T/ev.json"
refused 1 "alice is not an operator or the auditor of the tenant"
[ ! -e "$T/ev.json" ] || fail "a refused export wrote its bundle"

step "someone else's name with one's own token"
run vault --token "$(token tom)" --pin-file "$T/tom.pin" tenant add beta \
    --as carol
refused 3 "vault: tenant add beta"
expect_event refused carol
run vault --token "$(token tom)" --pin-file "$T/tom.pin" \
    policy set acme '2-of(alice,bob,mia)' --as olga
refused 3 "vault: policy set acme"
[ "$(db "SELECT count(*) FROM drafts WHERE tenant = 'acme'")" = 0 ] ||
    fail "a refused amendment left a draft"

step "made by the right people, every act names them and is signed"
as carol vault tenant add beta; ok
as olga vault policy set acme '2-of(alice,bob,mia)'; ok
as carol vault chain discard acme; ok
run vault audit log --json; ok
python3 - "$T/out" <<'PY' || fail "an act without a person or a signature"
import json, sys
events = json.load(open(sys.argv[1]))["events"]
people = {"carol", "dave", "tom", "alice", "bob", "mia", "olga", "clock"}
signed = {"tenant.add", "policy.set", "chain.discard", "secret.add"}
for e in events:
    if e["actor"] not in people:
        sys.exit("event %d names %r" % (e["seq"], e["actor"]))
    if e["action"] in signed:
        s = e["details"].get("signed")
        if not s or s["by"] != e["actor"] or len(s["sig"]) < 64:
            sys.exit("event %d (%s) carries no signature" %
                     (e["seq"], e["action"]))
PY
[ "$(db "SELECT count(*) FROM acts WHERE kind = 'tenant.add' AND
    person = 'carol' AND tenant IN ('acme', 'beta')")" = 2 ] ||
    fail "the tenant.add acts are not kept"
echo "admin_acts: all passed"
