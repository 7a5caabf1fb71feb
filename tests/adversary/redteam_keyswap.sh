#!/bin/sh
# Red team: tom, the requester, with his own token and root over the file,
# rides an honest change.  The custodian-free settings change "max TTL 2h"
# is drafted; before the approvers read it, tom rewrites the draft: the
# public keys of alice's and mia's credentials become keys of fresh
# credentials on HIS token.  Credential ids, membership keys, salts, names
# and expiries stay, so `vault chain show` reads exactly as before, and the
# enrollment proofs (which name the credential id and membership key, not
# the public key) are re-signed by his own credentials.  The owner rule
# ("a new credential of a person who holds one") keys on credential ids
# only, so it does not fire.  alice and mia sign what they read; the link
# takes effect; from then on tom signs as alice and as mia, meets the
# policy in force on his own, installs approvers that are his token, and
# opens the next secret the MSP seals.
#
# Safe behaviour asserted: either the tampered draft reads differently
# from the honest one (the signers can see it), or it does not take
# effect, or tom gets nothing out of it.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/lib.sh"
ADV=$BG_BUILD/adversary/adv_forge
[ -x "$ADV" ] || fail "$ADV not built (make build/adversary/adv_forge)"
bg_setup
adv_vault

step "an honest settings change is drafted and shown"
as carol vault tenant set acme --max-ttl 2h; ok
run vault chain show acme; ok
grep -v '^draft:' "$T/out" >"$T/honest"

step "tom (root, his own token) swaps alice's and mia's signing keys in the draft"
run "$ADV" swapkey "$BREAKGLASS_VAULT" "$(token tom)" "$T/tom.pin" acme \
    alice "$T/k-alice"; ok
run "$ADV" swapkey "$BREAKGLASS_VAULT" "$(token tom)" "$T/tom.pin" acme \
    mia "$T/k-mia"; ok
run vault chain show acme; ok
grep -v '^draft:' "$T/out" >"$T/forged"
if ! cmp -s "$T/honest" "$T/forged"; then
	echo "the tampered draft reads differently from the honest one:"
	diff "$T/honest" "$T/forged" || true
	echo "redteam_keyswap: all passed (the signers can see the change)"
	exit 0
fi
echo "   (chain show: the tampered draft reads word for word as the honest one)"

step "alice and mia read the settings change and sign it"
as alice vault chain sign acme; ok
as mia vault chain sign acme
if [ "$RC" -ne 0 ] || [ "$(head_seq acme)" != 2 ]; then
	echo "redteam_keyswap: all passed (the tampered draft did not take effect)"
	exit 0
fi

step "tom alone: approvers al2 (client) and mi2 (msp) on his token, policy over them"
with tom vault member add acme al2 --role approver --side client; ok
with tom vault member add acme mi2 --role approver --side msp; ok
as carol vault policy set acme '2-of(al2,mi2)'; ok
run "$ADV" sign "$BREAKGLASS_VAULT" "$(token tom)" "$T/tom.pin" acme alice \
    "$T/k-alice"; ok
run "$ADV" sign "$BREAKGLASS_VAULT" "$(token tom)" "$T/tom.pin" acme mia \
    "$T/k-mia"; ok
as tom vault chain sign acme; ok	# any signature re-runs the check
if [ "$(head_seq acme)" = 3 ]; then
	echo "   VIOLATION: link 3 (new approvers and policy) took effect with tom's token only"
fi

step "the MSP seals a new secret; tom requests, 'approves' twice, releases"
printf 'fresh-secret-value\n' >"$T/fresh"
op_in "$T/fresh" vault secret add acme fresh; ok
as tom vault request acme/fresh --reason "x" --ticket X --ttl 1h; ok
R=$(cat "$T/out")
with tom vault approve "$R" --as al2
with tom vault approve "$R" --as mi2
as tom vault release "$R"
if [ "$RC" -eq 0 ] && grep -q fresh-secret-value "$T/out"; then
	fail "tom alone obtained acme/fresh: signing keys swapped under unchanged credential ids in an honest draft"
fi
echo "redteam_keyswap: all passed"
