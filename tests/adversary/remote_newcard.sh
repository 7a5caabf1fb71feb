#!/bin/sh
# A new card made on a rolled-back (forked) vault file does not replace
# the approver machine's witness (found by a red-team review): the packet
# must show that the log extends both the card's head and the largest head
# the machine has checked, so a forked log is refused with either card.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/lib.sh"
bg_setup
adv_vault
as alice vault packet card acme --out "$T/alice.card"; ok
sqlite3 "$BREAKGLASS_VAULT" ".backup '$T/old.db'"
request_da
as tom vault packet export "$REQ" --for alice --out "$T/a1.req"; ok
approve_away alice "$T/alice.card" "$T/a1.req" "$T/a1.appr"; ok
run vault packet import "$T/a1.appr"; ok
W=$(cat "$T"/alice-machine/home/.local/state/breakglass/witness-*)
SEEN=$(echo "$W" | sed 's/.* size=\([0-9]*\) .*/\1/')
step "root rolls the file back and grows it past the witnessed size"
rm -f "$BREAKGLASS_VAULT" "$BREAKGLASS_VAULT-wal" "$BREAKGLASS_VAULT-shm"
cp "$T/old.db" "$BREAKGLASS_VAULT"
request_da
i=0
while [ "$(db 'SELECT max(seq) FROM events')" -le "$SEEN" ]; do
	i=$((i + 1))
	as tom vault packet export "$REQ" --for bob --out "$T/pad$i.req"; ok
done
as tom vault packet export "$REQ" --for alice --out "$T/f.req"; ok
approve_away alice "$T/alice.card" "$T/f.req" "$T/f.appr"
[ "$RC" -ne 0 ] || fail "the old card accepted a rolled-back log"
step "alice is asked to renew her card at the (rolled-back) vault"
as alice vault packet card acme --out "$T/alice2.card"; ok
as tom vault packet export "$REQ" --for alice --out "$T/g.req"; ok
approve_away alice "$T/alice2.card" "$T/g.req" "$T/g.appr"
[ "$RC" -ne 0 ] || fail "a new card made on the forked file superseded the witness"
expect_err "does not extend the tree head of size $SEEN"
[ ! -e "$T/g.appr" ] || fail "an approval was signed on a forked log"
[ "$(cat "$T"/alice-machine/home/.local/state/breakglass/witness-*)" = "$W" ] ||
    fail "the witness state moved"
echo "remote_newcard: all passed"
