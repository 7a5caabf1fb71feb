#!/bin/sh
# Recertification is a draft amendment of the tenant's keyset chain: the
# operator extends (or, with --shorten, brings forward) an expiry without
# any token, and the new expiry is in force only once the link is signed
# (a client approver for a requester; the policy in force and a client
# approver for an approver).  Expired memberships cannot request or
# approve; "quorum at risk" in status.  The clock moves forward with
# faketime(1).
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

# expiry PERSON: PERSON's expiry in acme as member list (links in force)
# shows it, in seconds since the epoch.
expiry() {
	"$VAULT_BIN" member list acme --person "$1" --json >"$T/list.json" ||
	    fail "member list --person $1"
	python3 - "$T/list.json" <<'PY' || fail "no single membership of $1"
import json, sys
m = json.load(open(sys.argv[1]))["members"]
assert len(m) == 1, m
print(m[0]["expires_at"])
PY
}

std_vault	# members valid 365 days; all-of(1-of(alice,bob),1-of(mia))
TOM0=$(expiry tom)
ALICE0=$(expiry alice)

step "1-of(mia) by design: a note in status, no alarm in check"
run vault status acme; ok
expect_no_out "QUORUM AT RISK"
expect_out "Approvers without an alternate (by design; a note)"
expect_out "gives no alternate for mia: every release of acme needs mia"
run vault status --json; ok
python3 - "$T/out" <<'PY' || fail "status --json: quorum-by-design"
import json, sys
items = json.load(open(sys.argv[1]))["items"]
assert any(i["kind"] == "quorum-by-design" and "mia" in i["text"] for i in items)
assert not any(i["kind"] == "quorum-at-risk" for i in items)
PY
run vault check; ok; expect_no_out "quorum"; expect_out "ok: nothing overdue"

step "usage: --until is required; the two-touch sign-off is gone"
as carol vault member recertify acme alice --expires +10d; expect_rc 2
expect_err "--until TIME is required"
as carol vault member recertify acme alice; expect_rc 2
expect_err "--until TIME is required"
as carol vault member recertify acme alice --until +400d \
    --person-token "$(token alice)"
expect_rc 2

step "recertify only amends the draft: nothing changes until it is signed"
as carol vault member recertify acme tom --until +400d; ok
expect_out "tom in acme until"; expect_out "in the draft link"
expect_event member.recertify tom
[ "$(expiry tom)" = "$TOM0" ] || fail "tom's expiry changed before a signature"
run vault chain show acme; ok
expect_out "in force: link 1"; expect_out "draft:    link 2"
expect_out "~ requester tom"; expect_out "signed by: nobody yet"
expect_out "still needs"
as carol vault chain discard acme; ok; expect_out "draft of acme discarded"
expect_event chain.discard
run vault chain show acme; ok; expect_no_out "draft:"
[ "$(expiry tom)" = "$TOM0" ] || fail "a discarded draft changed tom's expiry"

at "+340d"
step "25 days before expiry: expiring, and the quorum is lost"
run vault status acme; ok
expect_out "Memberships expiring within 30 days"
expect_out "quorum lost for acme"
run vault check; expect_rc 0; expect_out "quorum-at-risk: acme/policy"

step "refusals"
as carol vault member recertify acme alice --until "-1d"
refused 1 "must lie in the future"
as carol vault member recertify acme nobody --until "+400d"
refused 4 "nobody has no such membership in acme"
as carol vault member recertify acme alice --until "+400d" --role requester
refused 4 "alice has no such membership in acme"
# +10d from now is before alice's expiry (+365d from the start)
as carol vault member recertify acme alice --until "+10d"
refused 1 "recertify extends; say --shorten"
expect_event refused "member.recertify"
run vault chain show acme; ok; expect_no_out "draft:"

step "alice and mia are recertified in one draft"
as carol vault member recertify acme alice --until "+400d"; ok
as carol vault member recertify acme mia --until "+400d"; ok
expect_event member.recertify '"signatures_dropped": 0'
run vault chain show acme; ok
expect_out "~ client approver alice"; expect_out "~ msp approver mia"
# a requester's signature counts for nothing here
as tom vault chain sign acme
[ "$(expiry alice)" = "$ALICE0" ] || fail "tom's signature recertified alice"
# someone else's token under a name is refused
run vault --token "$(token bob)" --pin-file "$T/bob.pin" chain sign acme \
    --as mia
refused 3 "holds none of mia's credentials"
as mia vault chain sign acme; ok
expect_out "mia signed; the draft still needs"
[ "$(expiry alice)" = "$ALICE0" ] || fail "alice's expiry changed before a client approver signed"
run vault member list acme; ok; expect_no_out "EXPIRED"
as bob vault chain sign acme; ok
expect_out "bob signed; link 2 of acme takes effect now"
[ "$(expiry alice)" -gt "$ALICE0" ] || fail "alice's expiry did not move"
[ "$(expiry mia)" -gt "$ALICE0" ] || fail "mia's expiry did not move"
[ "$(expiry tom)" = "$TOM0" ] || fail "tom's expiry moved"
expect_event chain.link '"signed_by": "'
python3 - "$T/audit.json" <<'PY' || fail "link 2 event incomplete"
import json, sys
log = json.load(open(sys.argv[1]))
ev = (log if isinstance(log, list) else log["events"])[-1]
d = ev["details"]
assert d["seq"] == 2 and len(d["hash"]) == 64 and len(d["prev"]) == 64, d
assert d["prev"] != "0" * 64, d
signers = d["signed_by"].split(", ")
assert "bob" in signers and "mia" in signers, signers
PY

step "amending a draft drops the signatures already on it"
as carol vault member recertify acme bob --until "+500d"; ok
as alice vault chain sign acme; ok
run vault chain show acme; ok; expect_out "signed by: alice"
as carol vault member recertify acme bob --until "+501d"; ok
expect_event member.recertify '"signatures_dropped": 1'
run vault chain show acme; ok; expect_out "signed by: nobody yet"
as carol vault chain discard acme; ok

at "+380d"
step "bob and tom expired: they can neither approve nor request"
run vault status acme; ok
expect_out "Expired memberships"
expect_out "bob (approver)"
as tom vault request acme/da --reason r --ticket T-1 --ttl 1h
refused 1 "expired"

step "tom is recertified (even after expiry): one client approver signs"
as carol vault member recertify acme tom --until "+400d"; ok
as tom vault request acme/da --reason r --ticket T-1 --ttl 1h
refused 1 "expired"
as alice vault chain sign acme; ok
expect_out "alice signed; link 3 of acme takes effect now"
[ "$(expiry tom)" -gt "$TOM0" ] || fail "tom's expiry did not move"
new_request
as bob vault approve "$REQ"; refused 1 "expired"
as alice vault approve "$REQ"; ok
as mia vault approve "$REQ"; ok
as tom vault release "$REQ"; ok; expect_out "hunter2-domain-admin"
run vault status acme; ok
# alice has lost her alternate (bob expired): an alarm; mia never had one
expect_out "losing any one of alice would leave"
expect_out "since bob is removed, expired or expiring within 30 days"
expect_out "gives no alternate for mia"
run vault check; expect_out "quorum-at-risk: acme/policy: quorum at risk"
expect_no_out "no alternate for mia"
run vault audit verify; ok
echo "recertify: all passed"
