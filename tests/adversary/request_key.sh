#!/bin/sh
# Root, with no token at all, overwrites the key a request's approvals
# are re-sealed to.  The request key is inside the statement the
# requester signed, and every approval checks that signature against the
# rows before it re-seals anything: refused, nothing re-sealed.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/lib.sh"
bg_setup
adv_vault
request_da
db "SELECT statement FROM requests WHERE id = $REQ" >"$T/stmt"
grep -q "^request-key: [0-9a-f]\{64\}$" "$T/stmt" ||
    fail "the signed request statement names no request key"
grep -q "^keyset: link 1, [0-9a-f]\{64\}$" "$T/stmt" ||
    fail "the signed request statement names no keyset link"
grep -q "^genesis: [0-9a-f]\{64\}$" "$T/stmt" ||
    fail "the signed request statement names no genesis"

step "the request key swapped in the row"
cp "$BREAKGLASS_VAULT" "$T/keep.db"
db "UPDATE requests SET req_pk = randomblob(32) WHERE id = $REQ"
as alice vault approve "$REQ"; refused 3 "is not what tom signed"
expect_event refused approve
[ "$(db "SELECT count(*) FROM approvals")" = 0 ] || fail "an approval was stored"

step "... and in the stored statement too"
NEW=$(db "SELECT lower(hex(req_pk)) FROM requests WHERE id = $REQ")
OLD=$(sed -n 's/^request-key: //p' "$T/stmt")
db "UPDATE requests SET statement = replace(statement, '$OLD', '$NEW')
    WHERE id = $REQ"
as alice vault approve "$REQ"; refused 3 "signature on this statement does not verify"
[ "$(db "SELECT count(*) FROM approvals")" = 0 ] || fail "an approval was stored"

step "the keyset the version names, swapped"
cp "$T/keep.db" "$BREAKGLASS_VAULT"; rm -f "$BREAKGLASS_VAULT-wal" "$BREAKGLASS_VAULT-shm"
db "UPDATE versions SET chain_head = randomblob(32)"
as alice vault approve "$REQ"; refused 3 "does not match link 1"

step "the untouched request is approved and released"
cp "$T/keep.db" "$BREAKGLASS_VAULT"; rm -f "$BREAKGLASS_VAULT-wal" "$BREAKGLASS_VAULT-shm"
as alice vault approve "$REQ"; ok
as mia vault approve "$REQ"; ok
as tom vault release "$REQ"; ok
expect_out "hunter2-domain-admin"
echo "request_key: all passed"
