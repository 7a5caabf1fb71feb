#!/bin/sh
# Sealing is an operator's signed act.  The insider plays root on the
# vault file (sqlite3) and, in turn, a requester with their own token and
# the operator who rotated a value:
#   - a requester seals with their own token: refused (not an operator);
#   - root swaps in a value ciphertext, a share, or another version's
#     seal act, or edits the stored statement or its signer: every request
#     and release is refused, no value comes out;
#   - the operator who rotated a value (and so knows it) asks for it:
#     refused, and the version says who knows it.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/lib.sh"
bg_setup
adv_vault
printf 'the-db-value\n' >"$T/dbv"
op_in "$T/dbv" vault secret add acme db; ok

step "the seal statement names what was sealed, and the event carries the signature"
act=$(db "SELECT seal_act FROM versions x JOIN secrets s ON s.id = x.secret_id
    WHERE s.name = 'da'")
[ -n "$act" ] || fail "acme/da names no seal act"
db "SELECT statement FROM acts WHERE id = $act" >"$T/seal"
grep -q "^by: olga (operator)$" "$T/seal" || fail "the seal names no operator"
grep -q "^keyset: link 1, [0-9a-f]\{64\}$" "$T/seal" ||
    fail "the seal names no keyset link"
grep -q "^value: da version 1, 20 bytes, ciphertext [0-9a-f]\{64\}, shares [0-9a-f]\{64\}, key-commitment [0-9a-f]\{64\}$" \
    "$T/seal" || fail "the seal has no line for da"
run vault audit log --action secret.add --json; ok
expect_out '"by": "olga"'; expect_out '"sig": "'

step "a requester's own token cannot seal"
as tom vault secret add acme mine </dev/null
refused 1 "tom is not an operator of the tenant acme"
expect_event refused tom

step "a value ciphertext swapped from another version: refused before any approval"
cp "$BREAKGLASS_VAULT" "$T/keep.db"
db "UPDATE versions SET blob = (SELECT x.blob FROM versions x JOIN secrets s
      ON s.id = x.secret_id WHERE s.name = 'db')
    WHERE id = (SELECT x.id FROM versions x JOIN secrets s
      ON s.id = x.secret_id WHERE s.name = 'da')"
as tom vault request acme/da --reason r --ticket T --ttl 10m
refused 3 "is not what olga sealed"

step "a share ciphertext replaced by one root made"
cp "$T/keep.db" "$BREAKGLASS_VAULT"; rm -f "$BREAKGLASS_VAULT-wal" "$BREAKGLASS_VAULT-shm"
db "UPDATE shares SET blob = randomblob(length(blob)) WHERE id =
    (SELECT min(id) FROM shares)"
as tom vault request acme/da --reason r --ticket T --ttl 10m
refused 3 "is not what olga sealed"

step "another version's seal act pointed at"
cp "$T/keep.db" "$BREAKGLASS_VAULT"; rm -f "$BREAKGLASS_VAULT-wal" "$BREAKGLASS_VAULT-shm"
db "UPDATE versions SET seal_act = (SELECT max(id) FROM acts)"
as tom vault request acme/da --reason r --ticket T --ttl 10m
refused 3 "is not what olga sealed"

step "the stored seal statement edited to match a swapped value"
cp "$T/keep.db" "$BREAKGLASS_VAULT"; rm -f "$BREAKGLASS_VAULT-wal" "$BREAKGLASS_VAULT-shm"
db "UPDATE versions SET blob = (SELECT x.blob FROM versions x JOIN secrets s
      ON s.id = x.secret_id WHERE s.name = 'db')
    WHERE id = (SELECT x.id FROM versions x JOIN secrets s
      ON s.id = x.secret_id WHERE s.name = 'da')"
OLDH=$(sed -n 's/^value: da version 1, 20 bytes, ciphertext \([0-9a-f]*\),.*/\1/p' "$T/seal")
NEWH=$(db "SELECT lower(hex(x.blob)) FROM versions x JOIN secrets s
      ON s.id = x.secret_id WHERE s.name = 'da'" | python3 -c '
import hashlib, sys
print(hashlib.sha256(bytes.fromhex(sys.stdin.read().strip())).hexdigest())')
db "UPDATE acts SET statement = replace(statement, '$OLDH', '$NEWH')"
as tom vault request acme/da --reason r --ticket T --ttl 10m
refused 3 "does not verify"

step "the signer of the seal changed to someone else"
cp "$T/keep.db" "$BREAKGLASS_VAULT"; rm -f "$BREAKGLASS_VAULT-wal" "$BREAKGLASS_VAULT-shm"
db "UPDATE acts SET person = 'mia'"
as tom vault request acme/da --reason r --ticket T --ttl 10m
refused 3 "vault: request acme/da"

step "the seal act removed"
cp "$T/keep.db" "$BREAKGLASS_VAULT"; rm -f "$BREAKGLASS_VAULT-wal" "$BREAKGLASS_VAULT-shm"
db "UPDATE versions SET seal_act = NULL"
as tom vault request acme/da --reason r --ticket T --ttl 10m
refused 3 "carries no operator's signed seal"

step "... and with the file as it was, the request goes through"
cp "$T/keep.db" "$BREAKGLASS_VAULT"; rm -f "$BREAKGLASS_VAULT-wal" "$BREAKGLASS_VAULT-shm"
request_da
as alice vault approve "$REQ"; ok
as mia vault approve "$REQ"; ok
as tom vault release "$REQ"; ok; expect_out hunter2-domain-admin

step "the operator who rotated a value may not request it"
with olga vault member add acme olga --role requester; ok
as olga vault chain sign acme; ok	# her new credential, with her old one
as alice vault chain sign acme; ok; expect_out "takes effect now"
printf 'fresh-value\n' >"$T/v2"
op_in "$T/v2" vault rotate begin acme/da; ok
op vault rotate commit acme/da; ok
as olga vault request acme/da --reason r --ticket T --ttl 10m
refused 1 "olga sealed acme/da v2 and knows its value"
expect_event refused olga
as tom vault request acme/da --reason r --ticket T --ttl 10m; ok
echo "seal_operator: all passed"
