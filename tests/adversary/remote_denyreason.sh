#!/bin/sh
# A denial's reason is signed with the decision (found by a red-team
# review): root who carries alice's denial packet rewrites its reason;
# the import refuses it, and the genuine packet imports with alice's words.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/lib.sh"
bg_setup
adv_vault
as alice vault packet card acme --out "$T/alice.card"; ok
request_da
as tom vault packet export "$REQ" --for alice --out "$T/a.req"; ok
away alice deny --card "$T/alice.card" --packet "$T/a.req" --out "$T/d.appr" \
    --reason "this looks like an attack: call security" \
    --token "$(token alice)" --pin-file "$T/alice.pin"; ok

step "the reason rewritten in the packet: refused at import"
tamper "$T/d.appr" "$T/x.appr" 'p["reason"] = "duplicate of INC-9, already fixed"'
run vault packet import "$T/x.appr"
[ "$RC" -ne 0 ] || fail "a denial with a rewritten reason was imported"
[ -z "$(db "SELECT person FROM approvals")" ] || fail "a decision was stored"

step "the genuine denial imports, with the reason alice signed"
run vault packet import "$T/d.appr"; ok
[ "$(db "SELECT json_extract(entry, '\$.details.reason') FROM events
    WHERE action = 'deny'")" = "this looks like an attack: call security" ] ||
    fail "the logged reason is not alice's"
db "SELECT statement FROM approvals WHERE person = 'alice'" | grep -q \
    "^deny-reason: this looks like an attack: call security$" ||
    fail "the stored statement does not carry the signed reason"
echo "remote_denyreason: all passed"
