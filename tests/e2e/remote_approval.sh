#!/bin/sh
# Remote approval across the air gap (issue 13): membership cards, a
# request packet per approver, `tokenctl approve` on the approver's own
# machine with no vault file (its own directory, HOME and state, no
# BREAKGLASS_VAULT), import at the vault; two approvers remote and one in
# person; the witness state; byte sizes of each kind of file.
. "$(dirname "$0")/lib.sh"
bg_setup

# away NAME ARGS...: tokenctl on NAME's own machine: a fresh HOME in its
# own directory, no vault anywhere.
away() {
	_n=$1; shift
	mkdir -p "$T/$_n-machine/home"
	RC=0
	( cd "$T/$_n-machine" && unset BREAKGLASS_VAULT XDG_STATE_HOME \
	    XDG_DATA_HOME && HOME=$T/$_n-machine/home \
	    "$TOKENCTL_BIN" "$@" ) >"$T/out" 2>"$T/err" </dev/null || RC=$?
}

step "tokenctl links no SQLite"
if readelf -d "$TOKENCTL_BIN" | grep -qi sqlite; then
	fail "tokenctl depends on libsqlite3"
fi
if nm -D "$TOKENCTL_BIN" | grep -q 'sqlite3_'; then
	fail "tokenctl refers to sqlite3 symbols"
fi

step "set up the standard vault; cards for alice and bob"
std_vault
for p in alice bob; do
	as $p vault packet card acme --out "$T/$p.card"; ok
	expect_out "membership card of $p (acme) written"
	expect_err "your membership card for acme"
	cp "$T/$p.card" "$T/$p-card-copy"
done
expect_event member.card bob
[ "$(stat -c %a "$T/alice.card")" = 600 ] || fail "card mode not 0600"
echo "card: $(wc -c <"$T/alice.card") bytes"
# mia holds no card: the card is made with the person's own token
run vault --token "$(token mia)" --pin-file "$T/mia.pin" packet card acme \
    --as alice --out "$T/x.card"
refused 3 "none of alice's credentials"
[ ! -e "$T/x.card" ] || fail "a card was written for the wrong token"

step "request; packets for alice and bob"
new_request
for p in alice bob; do
	as tom vault packet export "$REQ" --for $p --out "$T/$p.req"; ok
	expect_out "request packet of request $REQ for $p"
done
expect_event packet.export bob
echo "request packet: $(wc -c <"$T/alice.req") bytes"
grep -q hunter2 "$T/alice.req" && fail "value in a packet"
as tom vault packet export "$REQ" --for tom --out "$T/tom.req"
refused 1 "tom is not an approver"
as tom vault packet export "$REQ" --for alice --out "$T/alice.req"
refused 1 "already exists"

step "alice approves on her own machine, with no vault file"
away alice approve --card "$T/alice.card" --packet "$T/alice.req" \
    --out "$T/alice.appr" --token "$(token alice)" --pin-file "$T/alice.pin"
ok
expect_err "alice, you are asked to APPROVE"
expect_err "reason: outage INC-1"
expect_err "request-signed: "
expect_err "No witness state for this vault"
expect_out "approval of request $REQ written"
[ ! -e "$T/alice-machine/vault.db" ] || fail "a vault file appeared"
ls "$T/alice-machine/home/.local/state/breakglass/" | grep -q '^witness-' ||
    fail "no witness state kept"
grep -q "request=$REQ person=alice approve" \
    "$T/alice-machine/home/.local/state/breakglass/issued.log" ||
    fail "the issued approval is not in the local log"
echo "approval packet: $(wc -c <"$T/alice.appr") bytes"

step "bob approves remotely too; mia in person"
away bob approve --card "$T/bob.card" --packet "$T/bob.req" \
    --out "$T/bob.appr" --token "$(token bob)" --pin-file "$T/bob.pin"
ok
run vault packet import "$T/alice.appr"; ok
expect_out "request $REQ approved"; expect_out "needs 1 more from: mia"
expect_event approve '"remote": true'
run vault packet import "$T/bob.appr"; ok
as mia vault approve "$REQ"; ok; expect_out "the policy is met"

step "the approval imported counts as one made at the vault: release"
as tom vault release "$REQ" --out "$T/value.out"; ok
[ "$(cat "$T/value.out")" = hunter2-domain-admin ] || fail "released value differs"

step "importing again is refused: stale, the request was released"
run vault packet import "$T/alice.appr"
refused 1 "stale"
expect_err "released already"

step "the witness: a second request checks against the kept head"
op_in "$T/value" vault rotate begin acme/da; ok
op vault rotate commit acme/da; ok
new_request
as tom vault packet export "$REQ" --for alice --out "$T/alice2.req"; ok
# the newest cosignature of every witness, remote or in person
python3 - "$T/alice2.req" <<'PY' || fail "the packet lacks a witness's cosignature"
import json, sys
p = json.load(open(sys.argv[1]))
assert sorted(k["person"] for k in p["cosignatures"]) == ["alice", "bob", "mia"]
PY
echo "request packet with 3 cosignatures: $(wc -c <"$T/alice2.req") bytes"
away alice approve --card "$T/alice.card" --packet "$T/alice2.req" \
    --out "$T/alice2.appr" --token "$(token alice)" --pin-file "$T/alice.pin"
ok
expect_no_err "No witness state"
run vault packet import "$T/alice2.appr"; ok

step "deny from afar"
as tom vault packet export "$REQ" --for bob --out "$T/bob2.req"; ok
away bob deny --card "$T/bob.card" --packet "$T/bob2.req" \
    --out "$T/bob2.deny" --reason "not during the freeze" \
    --token "$(token bob)" --pin-file "$T/bob.pin"
ok
expect_out "denial of request $REQ written"
run vault packet import "$T/bob2.deny"; ok
expect_out "request $REQ denied"
expect_event deny "not during the freeze"
run vault request show "$REQ" --json; ok; expect_out '"state": "denied"'
echo "ok"
