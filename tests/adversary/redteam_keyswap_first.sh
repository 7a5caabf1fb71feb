#!/bin/sh
# Red team: the same key swap as redteam_keyswap, on a tenant's FIRST
# link, where it also makes the client approvers' own signatures
# unnecessary.  The first link needs a custodian quorum and "every client
# approver the link names"; those signatures are checked with the keys
# the draft itself gives the client approvers.  tom, with root over the
# file, gives alice, bob and mia public keys of fresh credentials on his
# token (ids, membership keys, salts unchanged: `vault chain show` reads
# word for word as before) and signs as alice and bob himself.  The two
# custodians read the tenant's set-up, sign, and the link takes effect:
# the client never signed.  From then on tom meets every rule alone.
#
# Safe behaviour asserted: the tampered draft reads differently, or it
# does not take effect before alice and bob sign with their own tokens,
# or tom gets nothing out of it.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/lib.sh"
ADV=$BG_BUILD/adversary/adv_forge
[ -x "$ADV" ] || fail "$ADV not built (make build/adversary/adv_forge)"
bg_setup

step "acme's first link is drafted as in adv_vault"
for p in carol dave tom alice bob mia; do soft_person $p "pin-$p-1"; done
as carol vault init --allow-soft-tokens; ok
with dave vault custodian add dave; ok
as carol vault chain sign; ok
as dave vault chain sign; ok
as carol vault tenant add acme; ok
with tom vault member add acme tom --role requester; ok
with alice vault member add acme alice --role approver --side client; ok
with bob vault member add acme bob --role approver --side client; ok
with mia vault member add acme mia --role approver --side msp; ok
as carol vault policy set acme 'all-of(1-of(alice,bob),1-of(mia))'; ok
run vault chain show acme; ok
grep -v '^draft:' "$T/out" >"$T/honest"

step "tom swaps alice's, bob's and mia's signing keys and signs as alice and bob"
for p in alice bob mia; do
	run "$ADV" swapkey "$BREAKGLASS_VAULT" "$(token tom)" "$T/tom.pin" \
	    acme $p "$T/k-$p"; ok
done
for p in alice bob; do
	run "$ADV" sign "$BREAKGLASS_VAULT" "$(token tom)" "$T/tom.pin" \
	    acme $p "$T/k-$p"; ok
done
run vault chain show acme; ok
grep -v '^draft:' "$T/out" | sed 's/^signed by: alice, bob$/signed by: nobody yet/;
    /^still needs/d' >"$T/forged"
sed '/^still needs/d' "$T/honest" >"$T/honest2"
if ! cmp -s "$T/honest2" "$T/forged"; then
	echo "the tampered draft reads differently from the honest one:"
	diff "$T/honest2" "$T/forged" || true
	echo "redteam_keyswap_first: all passed (the signers can see the change)"
	exit 0
fi
echo "   (chain show: the same members, keys and policy; 'signed by: alice, bob')"

step "the custodians sign the tenant's set-up"
as carol vault chain sign acme; ok
as dave vault chain sign acme; ok
if [ "$(head_seq acme)" != 1 ]; then
	echo "redteam_keyswap_first: all passed (it waits for alice and bob)"
	exit 0
fi
echo "   VIOLATION: link 1 took effect; alice and bob never touched their tokens"
as alice vault chain sign acme; expect_rc 4	# nothing left for her to sign

step "tom alone: approvers al2 and mi2 on his token, policy over them"
with tom vault member add acme al2 --role approver --side client; ok
with tom vault member add acme mi2 --role approver --side msp; ok
as carol vault policy set acme '2-of(al2,mi2)'; ok
for p in alice mia; do
	run "$ADV" sign "$BREAKGLASS_VAULT" "$(token tom)" "$T/tom.pin" \
	    acme $p "$T/k-$p"; ok
done
as tom vault chain sign acme; ok

step "the MSP seals a secret; tom requests, 'approves' twice, releases"
printf 'fresh-secret-value\n' >"$T/fresh"
op_in "$T/fresh" vault secret add acme fresh; ok
as tom vault request acme/fresh --reason "x" --ticket X --ttl 1h; ok
R=$(cat "$T/out")
with tom vault approve "$R" --as al2
with tom vault approve "$R" --as mi2
as tom vault release "$R"
if [ "$RC" -eq 0 ] && grep -q fresh-secret-value "$T/out"; then
	fail "tom alone obtained acme/fresh: the first link took effect on the custodians' signatures and his own as alice and bob"
fi
echo "redteam_keyswap_first: all passed"
