#!/bin/sh
# Root puts back an older copy of the vault file after an approver has
# witnessed a newer log, hoping the next approver signs on the old
# history (where a spent version is sealed again).  Every approver is a
# witness: her machine keeps the largest tree head it has checked and
# refuses a log that does not extend it.  A machine that lost its state
# falls back to its card's head, never to the first packet it sees.
# `vault audit verify --witness FILE` checks the vault against that
# state: the rolled-back file is refused there too.
# Witnesses' cosignatures: every approval statement names the log's size
# and root under the approver's token; packets ship the newest of every
# witness of the tenant, and the next approver refuses a log that does
# not extend the largest it verifies.  Root rolls the log back behind
# bob's cosigned head but keeps bob's approval (so that it still counts):
# mia, who never saw that head, refuses the packet; grown again past it,
# still refused; a cosignature forged or edited is refused as tampering.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/lib.sh"
bg_setup
adv_vault
sqlite3 "$BREAKGLASS_VAULT" ".backup '$T/before-card.db'"
as alice vault packet card acme --out "$T/alice.card"; ok
sqlite3 "$BREAKGLASS_VAULT" ".backup '$T/old.db'"

step "alice witnesses the log at her first remote approval"
request_da
as tom vault packet export "$REQ" --for alice --out "$T/a1.req"; ok
approve_away alice "$T/alice.card" "$T/a1.req" "$T/a1.appr"; ok
run vault packet import "$T/a1.appr"; ok
W=$(cat "$T"/alice-machine/home/.local/state/breakglass/witness-*)
SEEN=$(echo "$W" | sed 's/.* size=\([0-9]*\) .*/\1/')
WFILE=$(ls "$T"/alice-machine/home/.local/state/breakglass/witness-*)
cp "$WFILE" "$T/alice.witness"
run vault audit verify --witness "$T/alice.witness"; ok
expect_out "extends the tree head of size $SEEN witnessed"
sed 's/root=[0-9a-f]*/root=0000000000000000000000000000000000000000000000000000000000000000/' \
    "$T/alice.witness" >"$T/forged.witness"
run vault audit verify --witness "$T/forged.witness"
refused 6 "not the log an approver's machine witnessed"
echo "not a witness" >"$T/junk.witness"
run vault audit verify --witness "$T/junk.witness"
refused 2 "not one"

restore() {
	rm -f "$BREAKGLASS_VAULT" "$BREAKGLASS_VAULT-wal" "$BREAKGLASS_VAULT-shm"
	cp "$1" "$BREAKGLASS_VAULT"
}

step "the file rolled back: the next packet's log does not extend the witnessed head"
restore "$T/old.db"
run vault audit verify --witness "$T/alice.witness"
refused 6 "fewer than the $SEEN an approver's machine witnessed: the vault file was rolled back"
request_da
as tom vault packet export "$REQ" --for alice --out "$T/r.req"; ok
approve_away alice "$T/alice.card" "$T/r.req" "$T/r.appr"
refused_away "does not extend the largest tree head this machine has checked (size $SEEN)"
expect_err "rolled back or its log rewritten"
[ ! -e "$T/r.appr" ] || fail "an approval was written on a rolled-back log"
run vault audit verify --witness "$T/alice.witness"
refused 6 "the vault file was rolled back and grown again"

step "the rolled-back file grown past the witnessed size: still refused"
i=0
while [ "$(db 'SELECT max(seq) FROM events')" -le "$SEEN" ]; do
	i=$((i + 1))
	as tom vault packet export "$REQ" --for bob --out "$T/pad$i.req"; ok
done
as tom vault packet export "$REQ" --for alice --out "$T/f.req"; ok
approve_away alice "$T/alice.card" "$T/f.req" "$T/f.appr"
[ "$RC" -ne 0 ] || fail "a forked log was accepted"
expect_err "refusing the packet"
[ ! -e "$T/f.appr" ] || fail "an approval was written on a forked log"
run vault audit verify --witness "$T/alice.witness"
refused 6 "rolled back and grown again"
# a proof from the witnessed size, had root made one, would not verify:
# the forked log's root at that size differs
tamper "$T/f.req" "$T/f2.req" "
p['proofs'] = []
"
approve_away alice "$T/alice.card" "$T/f2.req" "$T/f2.appr"
refused_away "carries no consistency proof from the largest tree head"
grep -q "$W" "$T"/alice-machine/home/.local/state/breakglass/witness-* ||
    fail "the witness state moved on a refused packet"

step "a witness that lost its state falls back to its card's head"
rm -rf "$T/alice-machine/home/.local/state"
restore "$T/before-card.db"
request_da
as tom vault packet export "$REQ" --for alice --out "$T/b.req"; ok
approve_away alice "$T/alice.card" "$T/b.req" "$T/b.appr"
refused_away "your card's tree head"
expect_err "No witness state for this vault"
step "cosignatures: an honest packet ships bob's, and mia checks it"
restore "$T/old.db"
for p in bob mia; do
	as $p vault packet card acme --out "$T/$p.card"; ok
done
request_da
R=$REQ
sqlite3 "$BREAKGLASS_VAULT" ".backup '$T/s1.db'"
as tom vault packet export "$R" --for bob --out "$T/b0.req"; ok
as tom vault packet export "$R" --for bob --out "$T/b1.req"; ok
approve_away bob "$T/bob.card" "$T/b1.req" "$T/b1.appr"; ok
run vault packet import "$T/b1.appr"; ok
BSEEN=$(sed 's/.* size=\([0-9]*\) .*/\1/' \
    "$T"/bob-machine/home/.local/state/breakglass/witness-*)
[ "$BSEEN" -gt "$(sqlite3 "$T/s1.db" 'SELECT max(seq) FROM events')" ] ||
    fail "bob's head is not past the copy root will put back"
sqlite3 "$BREAKGLASS_VAULT" ".backup '$T/after.db'"
as tom vault packet export "$R" --for mia --out "$T/m.req"; ok
python3 - "$T/m.req" "$BSEEN" <<'PY' || fail "the packet does not ship bob's cosignature"
import json, re, sys
p = json.load(open(sys.argv[1]))
c = [k for k in p["cosignatures"] if k["person"] == "bob"]
assert len(c) == 1 and "\nlog-size: %s\n" % sys.argv[2] in c[0]["statement"]
PY
approve_away mia "$T/mia.card" "$T/m.req" "$T/m.appr"; ok
rm -f "$T/m.appr"

step "cosignatures forged or edited: refused as tampering"
n=0
while IFS='|' read -r what expr why; do
	n=$((n + 1))
	tamper "$T/m.req" "$T/mc$n.req" "$expr"
	approve_away mia "$T/mia.card" "$T/mc$n.req" "$T/mc$n.appr"
	refused_away "$why"
	[ ! -e "$T/mc$n.appr" ] || fail "$what: an approval was written"
	echo "  refused: $what"
done <<'CASES'
bob's cosignature flipped|p["cosignatures"][0]["signature"]["sig"] = flip(p["cosignatures"][0]["signature"]["sig"])|bob's cosignature does not verify
bob's cosigned size raised|import re; p["cosignatures"][0]["statement"] = re.sub("log-size: ([0-9]+)", lambda m: "log-size: %d" % (int(m.group(1)) + 100), p["cosignatures"][0]["statement"])|bob's cosignature does not verify
bob's cosignature credited to mia|p["cosignatures"][0]["person"] = "mia"|mia's cosignature does not verify
bob's cosignature of another tenant|p["cosignatures"][0]["statement"] = p["cosignatures"][0]["statement"].replace("tenant: acme", "tenant: beta")|not an approval statement of this vault and tenant
CASES

step "the log rolled back behind bob's cosigned head, his approval kept: mia refuses"
rm -rf "$T/mia-machine/home/.local/state"
restore "$T/s1.db"
sqlite3 "$BREAKGLASS_VAULT" "ATTACH '$T/after.db' AS n;
    INSERT INTO approvals SELECT * FROM n.approvals WHERE person = 'bob'
    AND request_id = $R;"
as tom vault packet export "$R" --for mia --out "$T/mr.req"; ok
approve_away mia "$T/mia.card" "$T/mr.req" "$T/mr.appr"
refused_away "fewer than the $BSEEN of the tree head bob's token cosigned at an approval: the vault file was rolled back"
[ ! -e "$T/mr.appr" ] || fail "an approval was written on a rolled-back log"
grep -q "extends your card" "$T/err" && fail "mia's card alone would have caught it"

step "grown again past bob's head: the forked log is still refused"
i=0
while [ "$(db 'SELECT max(seq) FROM events')" -le "$BSEEN" ]; do
	i=$((i + 1))
	as tom vault packet export "$R" --for alice --out "$T/cpad$i.req"; ok
done
as tom vault packet export "$R" --for mia --out "$T/mf.req"; ok
approve_away mia "$T/mia.card" "$T/mf.req" "$T/mf.appr"
refused_away "does not extend the tree head bob's token cosigned at an approval (size $BSEEN)"
[ ! -e "$T/mf.appr" ] || fail "an approval was written on a forked log"
# without the proof from bob's size, the carried log says the same
tamper "$T/mf.req" "$T/mf2.req" "p['proofs'] = [x for x in p['proofs'] if x['from'] != $BSEEN]"
approve_away mia "$T/mia.card" "$T/mf2.req" "$T/mf2.appr"
refused_away "consistency proof from the tree head bob's token cosigned"
[ ! -d "$T/mia-machine/home/.local/state/breakglass" ] ||
    ! ls "$T"/mia-machine/home/.local/state/breakglass/witness-* >/dev/null 2>&1 ||
    fail "mia's witness state moved on a refused packet"
echo ok
