#!/bin/sh
# The carrier of QR codes (docs/remote-approval.md, "Carrying packets as
# QR codes"): whoever carries the images across the gap can make
# well-formed parts of any bytes, with the right ID (a hash, not a
# signature: tests/adversary/adv_qr).  A packet re-cut after an edit is
# refused by the same checks as the file would be; a genuine packet with
# one part swapped for a part of the edited one is refused as mixed; a
# part of the genuine packet duplicated under another number is refused.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/lib.sh"
bg_setup
ADV_QR=$BG_BUILD/adversary/adv_qr
[ -x "$ADV_QR" ] || fail "$ADV_QR is not built"
adv_vault
as alice vault packet card acme --out "$T/alice.card"; ok
request_da
as tom vault packet export "$REQ" --for alice --out "$T/a.req" \
    --out-qr "$T/a-req-qr"; ok

step "the request's reason edited, re-cut as valid QR parts: refused"
tamper "$T/a.req" "$T/t.req" \
    'p["statement"] = p["statement"].replace("reason: ", "reason: routine ")'
"$ADV_QR" "$T/t.req" "$T/t-req-qr" >/dev/null || fail "adv_qr failed"
away alice approve --card "$T/alice.card" --packet-qr "$T/t-req-qr" \
    --out "$T/t.appr" --token "$(token alice)" --pin-file "$T/alice.pin"
refused_away "tom's signature over the request statement does not verify"
[ ! -e "$T/t.appr" ] || fail "an approval was written"

step "a genuine request with one part swapped for an edited one: mixed"
cp -r "$T/a-req-qr" "$T/m-req-qr"
n=$(ls "$T/m-req-qr" | wc -l)
cp "$T/t-req-qr"/part-01-of-*.png "$T/m-req-qr/part-01-of-$n.png"
away alice approve --card "$T/alice.card" --packet-qr "$T/m-req-qr" \
    --out "$T/t.appr" --token "$(token alice)" --pin-file "$T/alice.pin"
refused_away "is part of another packet"

step "the genuine request: approved; the approval goes back as QR"
away alice approve --card "$T/alice.card" --packet-qr "$T/a-req-qr" \
    --out "$T/a.appr" --out-qr "$T/a-appr-qr" --token "$(token alice)" \
    --pin-file "$T/alice.pin"; ok

step "the approval's signature flipped, re-cut as valid QR parts: refused"
tamper "$T/a.appr" "$T/x.appr" 'p["sig"]["sig"] = flip(p["sig"]["sig"])'
"$ADV_QR" "$T/x.appr" "$T/x-appr-qr" >/dev/null || fail "adv_qr failed"
run vault packet import --qr "$T/x-appr-qr"
[ "$RC" -ne 0 ] || fail "a re-cut approval with a flipped signature was imported"
refused "$RC" "does not verify"
[ "$(db "SELECT count(*) FROM approvals")" = 0 ] || fail "an approval was stored"

step "one genuine part copied over another part's number: refused"
cp -r "$T/a-appr-qr" "$T/d-appr-qr"
m=$(ls "$T/d-appr-qr" | wc -l)
[ "$m" -gt 1 ] || fail "the approval is one part"
cp "$T/d-appr-qr/part-1-of-$m.png" "$T/d-appr-qr/part-2-of-$m.png"
run vault packet import --qr "$T/d-appr-qr"
refused 1 "is missing"

step "the genuine approval imports"
run vault packet import --qr "$T/a-appr-qr"; ok
expect_out "request $REQ approved"
echo "remote_qr_carrier: all passed"
