#!/bin/sh
# The audit log as a transparency log, with the real vault and software
# tokens: signed tree heads, receipts, inclusion and consistency proofs
# checked offline, statements carrying the tree root, and the tamper cases
# (edit, delete, reorder, truncate, an older copy of the file) each caught
# with its exact message and exit status 6.
. "$(dirname "$0")/lib.sh"
bg_setup
command -v sqlite3 >/dev/null || fail "sqlite3 is not installed"
std_vault

step "a signing key beside the vault file, 0600, pinned in the database"
[ -f "$T/vault.db.key" ] || fail "no signing key file"
[ "$(stat -c %a "$T/vault.db.key")" = 600 ] || fail "key file not 0600"
PK=$(db "SELECT value FROM meta WHERE key = 'log_public_key'")
[ ${#PK} -eq 64 ] || fail "no pinned public key"
grep -q "$(cut -c28-91 "$T/vault.db.key")" "$T/vault.db" &&
    fail "the private key is inside the database"

step "every state change leaves a signed tree head"
N=$(db "SELECT MAX(seq) FROM events")
H=$(db "SELECT MAX(size) FROM tree_heads")
[ "$N" = "$H" ] || fail "newest tree head covers $H of $N events"
run vault audit head; ok
expect_out "public key: $PK"; expect_out "size:       $N events"
expect_out "bg-treehead-v1 vault="
run vault audit head --json; ok; expect_out "\"public_key\": \"$PK\""

step "receipt, then a release; the statement carries the tree root"
run vault audit receipt; ok
R1=$(cat "$T/out")
echo "$R1" | grep -Eq "^BG1-$N-[0-9a-f]{16}-[0-9a-f]{4}$" || fail "receipt $R1"
cp "$T/vault.db" "$T/old.db"	# the vault file before the release
new_request
run vault request show "$REQ" --json; ok
ROOT=$(db "SELECT lower(hex(root)) FROM tree_heads ORDER BY size DESC LIMIT 1")
as alice vault approve "$REQ"; ok
expect_err "tree-root: "
as mia vault approve "$REQ"; ok
as tom vault release "$REQ" --out "$T/val"; ok
run vault audit receipt; ok
R2=$(cat "$T/out")
run vault audit verify --receipt "$R1"; ok
expect_out "audit log intact"; expect_out "the log extends receipt $R1"
run vault audit verify --receipt "$R2"; ok
run vault audit verify --receipt "bg1-$(echo "$R2" | cut -d- -f2-)"; ok

step "a mistyped receipt is a typo, not tampering"
BADR=$(echo "$R2" | sed 's/-\([0-9a-f]\)\([0-9a-f]*\)-\([0-9a-f]*\)$/-\2\1-\3/')
run vault audit verify --receipt "$BADR"; expect_rc 2
expect_err "checksum does not match"

step "inclusion and consistency proofs, checked offline"
M=$(db "SELECT MAX(seq) FROM events")
run vault audit proof --event 3; ok
cp "$T/out" "$T/incl.txt"
grep -q "^bg-proof-v1: inclusion" "$T/incl.txt" || fail "proof header"
grep -q "^head: bg-treehead-v1" "$T/incl.txt" || fail "no signed head in proof"
run vault audit verify --proof "$T/incl.txt" --key "$PK"; ok
expect_out "event 3 is in the log of $M events"
expect_out "signed tree head verified"
run vault audit proof --event 3 --size 5; ok
cp "$T/out" "$T/incl5.txt"
run vault audit verify --proof "$T/incl5.txt"; ok
expect_err "taken from the proof"
run vault audit proof --from "$N" --to "$M"; ok
cp "$T/out" "$T/cons.txt"
run vault audit verify --proof "$T/cons.txt" --key "$PK"; ok
expect_out "the log of $M events extends the log of $N events"
run vault audit proof --from 1 --json; ok
expect_out '"kind": "consistency"'; expect_out '"path": ['
# the offline check needs no vault at all
(cd "$T" && BREAKGLASS_VAULT=/nonexistent "$VAULT_BIN" audit verify \
    --proof "$T/cons.txt" --key "$PK" >/dev/null 2>&1) ||
    fail "offline proof check needed the vault"

step "corrupted proofs are refused (exit 6)"
sed '0,/^path: \(.\)/s//path: f/' "$T/incl.txt" >"$T/p1.txt"
cmp -s "$T/p1.txt" "$T/incl.txt" && sed '0,/^path: f/s//path: 0/' "$T/incl.txt" >"$T/p1.txt"
run vault audit verify --proof "$T/p1.txt" --key "$PK"; expect_rc 6
expect_err "does not verify"
sed 's/^event: 3$/event: 4/' "$T/incl.txt" >"$T/p2.txt"
run vault audit verify --proof "$T/p2.txt" --key "$PK"; expect_rc 6
sed '$d' "$T/incl.txt" >"$T/p3.txt"	# a path element short
run vault audit verify --proof "$T/p3.txt" --key "$PK"; expect_rc 6
{ cat "$T/cons.txt"; tail -n 1 "$T/cons.txt"; } >"$T/p3.txt"	# one extra
run vault audit verify --proof "$T/p3.txt" --key "$PK"; expect_rc 6
run vault audit verify --proof "$T/incl.txt" --key "$(printf '%064d' 0)"; expect_rc 6
expect_err "not signed by the vault's key"
printf 'bg-proof-v9: inclusion\n' >"$T/p4.txt"
run vault audit verify --proof "$T/p4.txt"; expect_rc 2

step "export: versioned JSON lines, events and tree heads"
run vault audit export --out "$T/export.jsonl"; ok
head -n 1 "$T/export.jsonl" | grep -q '"format":"breakglass-audit-export"' ||
    fail "export header"
head -n 1 "$T/export.jsonl" | grep -q '"version":1' || fail "export version"
[ "$(grep -c '"type":"event"' "$T/export.jsonl")" -eq "$M" ] ||
    fail "export lacks events"
grep -q '"type":"tree_head"' "$T/export.jsonl" || fail "export lacks heads"
run vault audit export --out "$T/export.jsonl"; expect_rc 1
expect_err "refusing to overwrite"

# tamper CASE SQL MESSAGE: on a copy, SQL makes audit verify fail with
# MESSAGE and exit 6.
tamper() {
	cp "$T/vault.db" "$T/t.db"
	sqlite3 "$T/t.db" "$2"
	RC=0
	BREAKGLASS_VAULT=$T/t.db "$VAULT_BIN" audit verify >"$T/out" \
	    2>"$T/err" || RC=$?
	expect_rc 6
	expect_err "$3"
	rm -f "$T/t.db" "$T/t.db-wal" "$T/t.db-shm"
}

step "tampering with the sqlite3 program is caught, naming the first bad event"
Q=$(db "SELECT seq FROM events WHERE action = 'request'")
tamper edit "UPDATE events SET entry = replace(entry, 'INC-1', 'INC-2')
    WHERE seq = $Q" "event $Q: entry does not match its leaf hash (edited)"
tamper edit-row "UPDATE events SET actor = 'bob',
    entry = replace(entry, '\"actor\":\"alice\"', '\"actor\":\"bob\"')
    WHERE seq = (SELECT MIN(seq) FROM events WHERE actor = 'alice' AND
    action = 'approve')" "entry does not match its leaf hash (edited)"
tamper delete "DELETE FROM events WHERE seq = 7" \
    "event 7 is missing (deleted; the next row is event 8)"
tamper reorder "UPDATE events SET entry = CASE seq
      WHEN 5 THEN (SELECT entry FROM events WHERE seq = 6)
      ELSE (SELECT entry FROM events WHERE seq = 5) END
    WHERE seq IN (5, 6)" "event 5: the entry does not match its columns"
tamper truncate "DELETE FROM events WHERE seq > $M - 2" \
    "events end at $((M - 2)) but a tree head covers"
tamper rewrite "UPDATE tree_heads SET root = zeroblob(32)
    WHERE size = $N" "tree head at size $N: root does not match the events (log rewritten)"
tamper forged-sig "UPDATE tree_heads SET sig = zeroblob(64) WHERE size = $M" \
    "tree head at size $M: the signature does not verify"

step "an older copy of the vault file is caught by a later receipt"
cp "$T/old.db" "$T/t.db"
RC=0
BREAKGLASS_VAULT=$T/t.db "$VAULT_BIN" audit verify --receipt "$R2" \
    >"$T/out" 2>"$T/err" || RC=$?
expect_rc 6
expect_err "the log has $N events but the receipt covers"
expect_err "restored from an older copy"
# ... while the older receipt still holds for it
RC=0
BREAKGLASS_VAULT=$T/t.db "$VAULT_BIN" audit verify --receipt "$R1" \
    >"$T/out" 2>"$T/err" || RC=$?
expect_rc 0

step "a rewritten history of the same length is caught by the receipt"
cp "$T/vault.db" "$T/t.db"
# rewrite the tenant.add event consistently (entry, leaf, chain of it and
# all later rows) and drop the signed heads, as someone with the file could
python3 - "$T/t.db" <<'PY' || fail "rewrite script"
import hashlib, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
rows = c.execute("SELECT seq, entry FROM events ORDER BY seq").fetchall()
prev = bytes(32)
edited = 0
for seq, entry in rows:
    if '"action":"tenant.add"' in entry and '"max_ttl":3600' in entry:
        entry = entry.replace('"max_ttl":3600', '"max_ttl":7200')
        edited += 1
    leaf = hashlib.sha256(b"\0" + entry.encode()).digest()
    prev = hashlib.sha256(prev + leaf).digest()
    c.execute("UPDATE events SET entry = ?, leaf = ?, chain = ? WHERE seq = ?",
              (entry, leaf, prev, seq))
assert edited == 1, edited
c.execute("DELETE FROM tree_heads")
c.commit()
PY
RC=0
BREAKGLASS_VAULT=$T/t.db "$VAULT_BIN" audit verify --receipt "$R1" \
    >"$T/out" 2>"$T/err" || RC=$?
expect_rc 6
expect_err "do not match the receipt"

step "the signing key missing: the change is made, the head waits"
mv "$T/vault.db.key" "$T/key.away"
as carol vault tenant add beta; ok
run vault audit head; expect_rc 4; expect_err "signing key"
mv "$T/key.away" "$T/vault.db.key"
run vault audit head; ok
run vault audit verify; ok
