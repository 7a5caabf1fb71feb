#!/bin/sh
# Red team: a first link dated in the far future needs no client.  A
# tenant's first link needs a custodian quorum and "every client approver
# the link names" -- every LIVE one, judged at the link's own time
# (rule_next_clients in chain.c).  tom, root over the file, sets the
# draft's "time" to the year 2100, when every membership in it has
# expired; `vault chain show` does not print the time.  The two
# custodians sign the tenant's set-up and it takes effect without alice
# or bob.  Nothing compares the link's time with the vault's clock, and
# afterwards no honest change can follow it (a new draft is dated now,
# before link 1), so the client cannot even undo it.
#
# Safe behaviour asserted: link 1 does not take effect before alice and
# bob sign.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/lib.sh"
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

step "tom dates the draft in 2100"
NOW=$(db "SELECT json_extract(body, '$.time') FROM drafts WHERE tenant = 'acme'")
db "UPDATE drafts SET body = replace(body, '\"time\":$NOW,',
    '\"time\":4102444800,') WHERE tenant = 'acme'"
run vault chain show acme; ok
cp "$T/out" "$T/show"

step "the custodians sign the tenant's set-up"
as carol vault chain sign acme; refused 1 "not within the last 14 days"
as dave vault chain sign acme; refused 1 "not within the last 14 days"
if [ "$(head_seq acme)" = 1 ]; then
	cat "$T/show"
	as carol vault tenant set acme --max-ttl 2h; ok
	as alice vault chain sign acme
	echo "   (afterwards an honest change: rc $RC, $(tail -n 1 "$T/err"))"
	fail "link 1 took effect without alice or bob: dated in 2100, no client approver is 'live'"
fi
echo "redteam_futuretime: all passed"
