#!/bin/sh
# Recertification: the person's token (PIN + touch) and an approver's
# sign-off extend the expiry, with both assertions in the audit event;
# expired memberships cannot request or approve; "quorum at risk" in
# status.  The clock moves forward with faketime(1).
. "$(dirname "$0")/lib.sh"
bg_setup
command -v faketime >/dev/null || fail "faketime is not installed"
REAL_VAULT=$VAULT_BIN

# at OFFSET: run every later vault command OFFSET ahead ("+340d").
at() {
	printf '#!/bin/sh\nASAN_OPTIONS=${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}verify_asan_link_order=0\nexport ASAN_OPTIONS\nexec faketime -f "%s" "%s" "$@"\n' "$1" \
	    "$REAL_VAULT" >"$T/at"
	chmod +x "$T/at"
	VAULT_BIN=$T/at
}

# recert PERSON APPROVER UNTIL: PERSON proves, APPROVER signs off.
recert() {
	as "$2" vault member recertify acme "$1" --until "$3" \
	    --person-token "$(token "$1")" --person-pin-file "$T/$1.pin"
}

std_vault	# members valid 365 days; all-of(1-of(alice,bob),1-of(mia))

step "quorum at risk: mia alone stands for 1-of(mia)"
run vault status acme; ok
expect_out "QUORUM AT RISK"
expect_out "losing any one of mia would leave"
run vault status --json; ok
python3 - "$T/out" <<'PY' || fail "status --json lacks quorum-at-risk"
import json, sys
items = json.load(open(sys.argv[1]))["items"]
assert any(i["kind"] == "quorum-at-risk" and "mia" in i["text"] for i in items)
PY

step "the operator alone can no longer recertify"
run vault member recertify acme alice --expires +10d; expect_rc 2
run vault member recertify acme alice --until +10d
expect_rc 2; expect_err "--as APPROVER is required"

at "+340d"
step "25 days before expiry: expiring, and the quorum is lost"
run vault status acme; ok
expect_out "Memberships expiring within 30 days"
expect_out "quorum lost for acme"
run vault check; expect_rc 0; expect_out "quorum-at-risk: acme/policy"

step "refusals"
recert alice alice "+400d"; refused 1 "cannot sign off their own"
recert alice tom "+400d"; refused 1 "tom is not an approver of acme"
as mia vault member recertify acme alice --until "+400d" \
    --person-token "$(token bob)" --person-pin-file "$T/bob.pin"
refused 3 "none of alice's credentials"
recert alice mia "-1d"; refused 1 "must lie in the future"
as mia vault member recertify acme nobody --until "+400d" \
    --person-token "$(token bob)" --person-pin-file "$T/bob.pin"
refused 4 "nobody has no membership in acme"

step "alice proves possession, mia signs off"
recert alice mia "+400d"; ok
expect_out "alice recertified in acme"
expect_err "breakglass recertify statement v1"
expect_event member.recertify '"approver_signoff"'
expect_event member.recertify '"person_proof"'
python3 - "$T/audit.json" <<'PY' || fail "recertify evidence incomplete"
import json, sys
log = json.load(open(sys.argv[1]))
ev = log[-1] if isinstance(log, list) else log["events"][-1]
d = json.loads(ev["entry"])["details"] if "details" not in ev else ev["details"]
assert d["person"] == "alice" and d["approver"] == "mia"
for k in ("person_proof", "approver_signoff"):
    assert len(d[k]["sig"]) >= 128 and len(d[k]["authdata"]) >= 74, k
assert "new expiry" in d["statement"]
PY
recert mia alice "+400d"; ok

at "+380d"
step "bob and tom expired: they can neither approve nor request"
run vault status acme; ok
expect_out "Expired memberships"
expect_out "bob (approver)"
as tom vault request acme/da --reason r --ticket T-1 --ttl 1h
refused 1 "expired"
step "tom is recertified (even after expiry) and requests again"
recert tom alice "+400d"; ok
new_request
as bob vault approve "$REQ"; refused 1 "expired"
as alice vault approve "$REQ"; ok
as mia vault approve "$REQ"; ok
as tom vault release "$REQ"; ok; expect_out "hunter2-domain-admin"
run vault status acme; ok
expect_out "losing any one of alice, mia would leave"
run vault audit verify; ok
echo "recertify: all passed"
