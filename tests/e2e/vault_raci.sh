#!/bin/sh
# RACI and recertification (issue 12): tenant show and report print the
# tenant's RACI from the chain in force (client approvers accountable,
# operators and MSP approvers responsible, requesters, the audit owner,
# the custodians), with every approver's side; a recertification is a
# draft link the client signs, and the recertification report (text,
# JSON, HTML) says since when each membership holds, which link last
# certified it and who signed it; status groups memberships due within
# 30 days by tenant and role and flags an MSP self-approval exception.
. "$(dirname "$0")/lib.sh"
bg_setup
command -v faketime >/dev/null || fail "faketime is not installed"
REAL_VAULT=$VAULT_BIN

# json FILE EXPR: a python assertion over the JSON in FILE (as j).
json() {
	python3 - "$1" "$2" <<'PY' || fail "JSON check: $2"
import json, sys
j = json.load(open(sys.argv[1]))
if not eval(sys.argv[2]):
    sys.stderr.write(json.dumps(j, indent=1)[:3000] + "\n")
    sys.exit(1)
PY
}

step "a vault with an operator and an auditor in acme"
soft_person oscar pin-oscar-1
soft_person ada pin-ada-1
soft_person max pin-max-1
std_vault
as_enroll oscar operator
as_enroll ada auditor
sign_link acme alice
expect_out "link 2 of acme takes effect now"

step "tenant show: the RACI block, every approver's side"
run vault tenant show acme; ok
expect_out "RACI (link 2 in force):"
expect_out "Accountable (client approvers):          alice (client approver), bob (client approver)"
expect_out "Responsible (operators, MSP approvers):  olga (operator), oscar (operator), mia (msp approver)"
expect_out "Requesters (technicians):                tom (requester)"
expect_out "Audit owner:                             ada (auditor)"
expect_out "Custodians (vault link 0):               carol, dave"
expect_no_out "EXCEPTION"
run vault tenant show acme --json; ok
json "$T/out" 'j["raci"]["link"]["seq"] == 2 and j["raci"]["custodians"]["persons"] == ["carol", "dave"]'
json "$T/out" '[(m["person"], m["class"], m["side"]) for m in j["raci"]["members"]] == [("alice","accountable","client"),("bob","accountable","client"),("olga","responsible","none"),("oscar","responsible","none"),("mia","responsible","msp"),("tom","requester","none"),("ada","audit-owner","none")]'
json "$T/out" '[m for m in j["raci"]["members"] if m["person"] == "oscar"][0]["since"]["seq"] == 2'
json "$T/out" 'sorted(s["person"] for s in [m for m in j["raci"]["members"] if m["person"] == "oscar"][0]["signed_by"]) == ["alice"]'
json "$T/out" 'sorted(s["person"] for s in [m for m in j["raci"]["members"] if m["person"] == "alice"][0]["signed_by"]) == ["alice", "bob", "carol", "dave"]'

step "recertification: a draft the client signs, then the report says who"
as carol vault member recertify acme tom --until +400d; ok
sign_link acme bob
expect_out "link 3 of acme takes effect now"
run vault report acme --recertification; ok
expect_out "Recertification report of acme"
expect_out "tom (requester) expires"
expect_out "since:          link 1, took effect"
expect_out "last certified: link 3, took effect"
expect_out "(expiry lengthened)"
expect_out "signed by:      bob (client approver)"
expect_out "Accountable (client approvers)"
expect_no_out "[DUE]"
run vault report acme --recertification --format json; ok
json "$T/out" 'j["format"] == "bg-recert-v1" and j["tenant"] == "acme"'
json "$T/out" '[(m["since"]["seq"], m["certified"]["seq"], m["certified_how"], [s["person"] + "/" + s["side"] for s in m["signed_by"]]) for m in j["raci"]["members"] if m["person"] == "tom"] == [(1, 3, "extended", ["bob/client"])]'
json "$T/out" 'all(m["certified"]["seq"] == 2 and m["certified_how"] == "granted" for m in j["raci"]["members"] if m["person"] in ("oscar", "ada"))'
run vault report acme --recertification --format html --out "$T/recert.html"; ok
grep -q '<h1>Recertification report of acme</h1>' "$T/recert.html" || fail "html title"
grep -q 'bob (client approver)' "$T/recert.html" || fail "html signer"
! grep -q ' src=\| href=' "$T/recert.html" || fail "html refers outside"
run vault report --recertification; expect_rc 2
expect_err "--recertification takes a TENANT"
run vault report acme --recertification --ticket X; expect_rc 2
run vault report nosuch --recertification; expect_rc 4

step "the incident review carries the RACI"
run vault report acme; ok
expect_out "RACI of acme (link 3"
expect_out "Responsible (operators, MSP approvers)   olga (operator), oscar (operator), mia (msp approver)"
run vault report acme --format json; ok
json "$T/out" 'j["raci"]["tenant"] == "acme" and len(j["raci"]["members"]) == 7'
run vault report acme --format html; ok
expect_out '<section class="raci">'

step "an MSP self-approval exception: flagged in show, report and status"
as_enroll max approver acme msp
as carol vault policy set acme '2-of(alice,mia,max)' --exception 'night shift <b>cover</b>' \
    --exception-until +20d
ok
sign_link acme alice mia
expect_out "takes effect now"
run vault tenant show acme; ok
expect_out "the policy can be met by MSP approvers alone"
expect_out "EXCEPTION: MSP may approve its own access until"
expect_out ": night shift <b>cover</b>"
expect_out "signed by alice (client approver), mia (msp approver)"
run vault report acme; ok
expect_out "msp-exception] acme: MSP may approve its own access until"
run vault report acme --format html; ok
expect_out "night shift &lt;b&gt;cover&lt;/b&gt;"
expect_no_out "<b>cover"
run vault status; ok
expect_out "MSP self-approval exceptions"
expect_out "acme: MSP may approve its own access until"
run vault status --json; ok
json "$T/out" 'any(i["kind"] == "msp-exception" and i["tenant"] == "acme" for i in j["items"])'

step "status 340 days on: due memberships by tenant and role"
printf '#!/bin/sh\nASAN_OPTIONS=${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}verify_asan_link_order=0\nexport ASAN_OPTIONS\nexec faketime -f "+340d" "%s" "$@"\n' \
    "$REAL_VAULT" >"$T/at"
chmod +x "$T/at"
VAULT_BIN=$T/at
run vault status acme; ok
expect_out "Memberships expiring within 30 days:"
expect_out "  acme, approver:"
expect_out "  acme, operator:"
expect_out "acme/oscar (operator)"
expect_no_out "acme/tom (requester)"
expect_out "MSP self-approval exceptions ENDED:"
expect_out "the exception that let the MSP approve its own access ended"
run vault status acme --json; ok
json "$T/out" 'sorted((i["role"], i["object"]) for i in j["items"] if i["kind"] == "member-expiring") == [("approver", "alice (approver)"), ("approver", "bob (approver)"), ("approver", "max (approver)"), ("approver", "mia (approver)"), ("auditor", "ada (auditor)"), ("operator", "olga (operator)"), ("operator", "oscar (operator)")]'
run vault report acme --recertification; ok
expect_out "oscar (operator) expires"
expect_out "[DUE]"
run vault report acme --recertification --format json; ok
json "$T/out" 'sorted(m["person"] for m in j["raci"]["members"] if m["due"]) == ["ada", "alice", "bob", "max", "mia", "olga", "oscar"]'
step "a link edited in the file: tenant show still reads, without a RACI"
db "UPDATE links SET body = replace(body, '\"note\":\"', '\"note\":\"x') WHERE tenant = 'acme' AND seq = 1"
run vault tenant show acme; ok
expect_out "RACI:              not shown"
expect_err "RACI not shown: link 1 of acme"
run vault tenant show acme --json; ok
json "$T/out" 'j["raci"] is None and "link 1 of acme" in j["raci_error"]'
run vault report acme --recertification
[ "$RC" -ne 0 ] || fail "a recertification report of an edited chain"
expect_err "link 1 of acme"
echo "raci: all passed"
