#!/bin/sh
# Root puts back an older copy of the vault file after an approver has
# witnessed a newer log, hoping the next approver signs on the old
# history (where a spent version is sealed again).  Every approver is a
# witness: her machine keeps the largest tree head it has checked and
# refuses a log that does not extend it.  A machine that lost its state
# falls back to its card's head, never to the first packet it sees.
# `vault audit verify --witness FILE` checks the vault against that
# state: the rolled-back file is refused there too.
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
echo ok
