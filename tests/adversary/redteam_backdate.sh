#!/bin/sh
# Red team: an expired client approver still signs.  bob's client
# approver membership ran out (he left the customer) but he kept his
# token.  With root over the file he drafts a grant to a requester "bob2"
# (his own token under a second name), then sets the draft's "time" back
# to the time of the link in force.  The signing rules judge liveness at
# the link's own time (bg_chain_check: c.now = next->time), nothing
# compares that time with the vault's clock when the draft takes effect
# (bg_vault_chain_sign) or when the chain is verified (bg_chain_tenant),
# and `vault chain show` does not print the time.  bob's signature counts
# as a live client co-signer and the grant takes effect on his token
# alone.
#
# Safe behaviour asserted: the expired approver's signature does not
# count: link 2 does not take effect and bob2 is no requester.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/lib.sh"
bg_setup

step "acme as in adv_vault, but bob's membership runs for 10 days"
for p in carol dave tom alice bob mia olga; do soft_person $p "pin-$p-1"; done
as carol vault init --allow-soft-tokens; ok
with dave vault custodian add dave; ok
as carol vault chain sign; ok
as dave vault chain sign; ok
as carol vault tenant add acme; ok
with tom vault member add acme tom --role requester; ok
with alice vault member add acme alice --role approver --side client; ok
with bob vault member add acme bob --role approver --side client \
    --expires +10d; ok
with mia vault member add acme mia --role approver --side msp; ok
with olga vault member add acme olga --role operator; ok
as carol vault policy set acme 'all-of(1-of(alice,bob),1-of(mia))'; ok
for p in carol dave alice bob; do as $p vault chain sign acme; ok; done
expect_out "takes effect now"
printf 'hunter2-domain-admin\n' >"$T/value"
op_in "$T/value" vault secret add acme da; ok
L1TIME=$(db "SELECT json_extract(body, '$.time') FROM links
    WHERE tenant = 'acme' AND seq = 1")

step "twenty days later bob is expired: the vault says so"
# (a sanitizer build tolerates faketime's preload)
printf '#!/bin/sh\nASAN_OPTIONS=${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}verify_asan_link_order=0 exec faketime -f "+20d" "%s" "$@"\n' "$VAULT_BIN" \
    >"$T/later"
chmod +x "$T/later"
VAULT_BIN=$T/later
request_da
as bob vault approve "$REQ"; refused 1 "expired at"

step "bob drafts a requester 'bob2' on his own token and signs it"
with bob vault member add acme bob2 --role requester; ok
as bob vault chain sign acme; refused 1 "their signature would not count"
still_needs acme	# as it should: bob is not live now

step "... then moves the draft's time back to link 1's and signs again"
NOW=$(db "SELECT json_extract(body, '$.time') FROM drafts WHERE tenant = 'acme'")
db "UPDATE drafts SET body = replace(body, '\"time\":$NOW,',
    '\"time\":$L1TIME,') WHERE tenant = 'acme'"
run vault chain show acme; ok
cp "$T/out" "$T/show"
as bob vault chain sign acme; expect_rc 1	# stale date, expired signer
if [ "$(head_seq acme)" != 1 ]; then
	cat "$T/show"
	fail "link 2 (requester bob2) took effect on the signature of bob, whose membership had expired"
fi
with bob vault request acme/da --as bob2 --reason x --ticket X --ttl 1h
[ "$RC" -ne 0 ] || fail "bob2 is a requester of acme"
echo "redteam_backdate: all passed"
