#!/bin/sh
# Tampering with the database with the sqlite3 program: whatever rows are
# edited, a release never succeeds with fewer approvals than the policy
# that sealed the secret required, and a value never comes out.
. "$(dirname "$0")/lib.sh"
bg_setup
command -v sqlite3 >/dev/null || fail "sqlite3 is not installed"
std_vault
for s in s2 s3 s4 s5; do
	printf 'value-of-%s\n' "$s" >"$T/v"
	op_in "$T/v" vault secret add acme "$s"; ok
done

vid() {	# vid SECRET: id of the active version row
	db "SELECT v.id FROM versions v JOIN secrets s ON s.id = v.secret_id
	    WHERE s.name = '$1' ORDER BY v.version DESC LIMIT 1;"
}

# never_released SECRET: the last command did not put the value out.
never_released() {
	[ "$RC" -ne 0 ] || fail "release succeeded after tampering"
	expect_no_out "value-of-$1"; expect_no_out hunter2
	expect_no_err "value-of-$1"
}

# req SECRET: tom asks for acme/SECRET; id in $REQ.
req() {
	as tom vault request "acme/$1" --reason tamper --ticket T-1 --ttl 10m
	REQ=$(cat "$T/out")
}

step "lowered threshold in the tenant and version rows: one approval is not enough"
db "UPDATE tenants SET policy = '1-of(1-of(alice,bob),1-of(mia))';
    UPDATE versions SET policy = '1-of(1-of(alice,bob),1-of(mia))'
    WHERE id = $(vid da);"
req da
if [ "$RC" -eq 0 ]; then
	as alice vault approve "$REQ"
	as tom vault release "$REQ"
fi
never_released da
expect_err "altered"
# restore the rows so that the other cases test one thing each
db "UPDATE tenants SET policy = '2-of(1-of(alice,bob),1-of(mia))';
    UPDATE versions SET policy = '2-of(1-of(alice,bob),1-of(mia))';"

step "a forged approval row (alice's copied as mia's) opens nothing"
req s2; ok
as alice vault approve "$REQ"; ok
db "INSERT INTO approvals (request_id, person, token_id, leaf, decision,
      created_at, statement, authdata, sig, resealed)
    SELECT request_id, 'mia',
      (SELECT t.id FROM tokens t JOIN memberships m ON m.id = t.membership_id
       WHERE m.person = 'mia' LIMIT 1),
      2, decision, created_at, statement, authdata, sig, resealed
    FROM approvals WHERE request_id = $REQ AND person = 'alice';"
as tom vault release "$REQ"
never_released s2
expect_err "does not verify"

step "a sealed share moved to another row: the operator's seal no longer matches"
# alice's row (leaf 0) of s3 now holds bob's sealed share (leaf 1)
db "UPDATE shares SET blob = (SELECT blob FROM shares
      WHERE version_id = $(vid s3) AND leaf = 1)
    WHERE version_id = $(vid s3) AND leaf = 0;"
req s3
[ "$RC" -ne 0 ] || fail "a request for a version with a moved share"
expect_err "is not what olga sealed"
expect_event refused tom

step "a share copied from another secret's row: refused before anyone approves"
db "UPDATE shares SET blob = (SELECT blob FROM shares WHERE version_id = $(vid s5) AND leaf = 2)
    WHERE version_id = $(vid s4) AND leaf = 2;"
req s4
[ "$RC" -ne 0 ] || fail "a request for a version with a copied share"
expect_err "is not what olga sealed"

step "a value ciphertext swapped between versions: refused"
db "UPDATE versions SET blob = (SELECT blob FROM versions WHERE id = $(vid s2))
    WHERE id = $(vid s4);"
req s4
[ "$RC" -ne 0 ] || fail "a request for a version with a swapped value"
expect_err "is not what olga sealed"

step "the seal's act taken off the version: refused"
db "UPDATE versions SET seal_act = NULL WHERE id = $(vid s2);"
req s2
[ "$RC" -ne 0 ] || fail "a request for a version without a seal"
expect_err "carries no operator's signed seal"

step "an approval replayed onto another request opens nothing"
req s5; ok; R5=$REQ
as alice vault approve "$R5"; ok
as mia vault approve "$R5"; ok
printf 'value-of-s6\n' >"$T/v"; op_in "$T/v" vault secret add acme s6; ok
req s6; ok; R6=$REQ
as alice vault approve "$R6"; ok
db "INSERT INTO approvals (request_id, person, token_id, leaf, decision,
      created_at, statement, authdata, sig, resealed)
    SELECT $R6, person, token_id, leaf, decision, created_at, statement,
      authdata, sig, resealed
    FROM approvals WHERE request_id = $R5 AND person = 'mia';"
as tom vault release "$R6"
never_released s6
expect_err "does not belong to request $R6"
expect_no_out value-of-s5

step "a changed member key in the token rows: seals still go to the signed keys"
# mia's key replaced by alice's in the rows: were the seal to read them,
# alice would get mia's share.  The rows are only a listing; seals read
# the signed chain, so the new secret's shares go to the real keys.
db "UPDATE tokens SET member_pk = (SELECT member_pk FROM tokens t
      JOIN memberships m ON m.id = t.membership_id WHERE m.person = 'alice'
      AND m.tenant_id = (SELECT id FROM tenants WHERE name = 'acme') LIMIT 1)
    WHERE membership_id IN (SELECT id FROM memberships WHERE person = 'mia');"
printf 'value-of-new\n' >"$T/v"
op_in "$T/v" vault secret add acme new; ok
req new; ok
as alice vault approve "$REQ"; ok
as mia vault approve "$REQ"; ok	# opens her share: sealed to her real key
as tom vault release "$REQ"; ok; expect_out value-of-new

step "a changed member key in the signed link: seals and requests are refused"
cp "$BREAKGLASS_VAULT" "$T/before-link.db"
A=$(db "SELECT lower(hex(k.member_pk)) FROM tokens k JOIN memberships m
    ON m.id = k.membership_id WHERE m.person = 'alice'")
M=$(db "SELECT json_extract(j.value, '$.tokens[0].member_pk')
    FROM links l, json_each(l.body, '$.members') j
    WHERE l.tenant = 'acme' AND json_extract(j.value, '$.person') = 'mia'")
[ ${#A} -eq 64 ] && [ ${#M} -eq 64 ] && [ "$A" != "$M" ] ||
    fail "member keys not found"
db "UPDATE links SET body = replace(body, '$M', '$A') WHERE tenant = 'acme'"
[ "$(db "SELECT instr(body, '$M') FROM links WHERE tenant = 'acme'")" = 0 ] ||
    fail "link not edited"
printf 'value-of-new2\n' >"$T/v"
op_in "$T/v" vault secret add acme new2
refused 3 "vault: secret add acme/new2"
expect_err "link 1 of acme does not verify"
expect_event refused
as tom vault request acme/s2 --reason tamper --ticket T-2 --ttl 10m
refused 3 "link 1 of acme does not verify"
run vault chain show acme; refused 3 "does not verify"
run vault secret show acme/new2; expect_rc 4

step "a signature taken off the signed link: seals are refused"
cp "$T/before-link.db" "$BREAKGLASS_VAULT"
rm -f "$BREAKGLASS_VAULT-wal" "$BREAKGLASS_VAULT-shm"
db "DELETE FROM link_sigs WHERE tenant = 'acme' AND seq = 1 AND person = 'bob'"
printf 'value-of-new3\n' >"$T/v"
op_in "$T/v" vault secret add acme new3
refused 3 "vault: secret add acme/new3"
expect_err "link 1 of acme"; expect_err "bob"
run vault secret show acme/new3; expect_rc 4

step "a damaged page: check and audit verify read the whole file and name the damage"
db "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
page=$(db "SELECT rootpage FROM sqlite_schema WHERE name = 'events_tenant_action';")
psize=$(db "PRAGMA page_size;")
[ "$page" -gt 1 ] || fail "no root page for events_tenant_action"
# the b-tree header and cell pointers of that index page: zeros
dd if=/dev/zero of="$BREAKGLASS_VAULT" bs=1 count=64 conv=notrunc \
    seek=$(( (page - 1) * psize )) 2>/dev/null
run vault check
expect_rc 6; expect_err "vault database is damaged (quick_check:"
run vault audit verify
expect_rc 6; expect_err "vault database is damaged (quick_check:"
echo "tamper: all passed"
