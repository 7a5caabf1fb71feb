#!/bin/sh
# vault backup and restore: the backup is the SQLite copy, its signing key
# and its signed tree head; restore verifies before it replaces, keeps the
# old file, refuses a backup older than a receipt, a rollback without
# --force, a corrupted or tampered backup, and another vault's backup.
. "$(dirname "$0")/lib.sh"
bg_setup
command -v sqlite3 >/dev/null || fail "sqlite3 is not installed"
std_vault

step "backup: three files, 0600, a signed tree head printed"
as carol vault backup --out "$T/b1.db"; ok
expect_out "bg-treehead-v1 vault="
expect_err "receipt: BG1-"
for f in b1.db b1.db.key b1.db.head; do
	[ -f "$T/$f" ] || fail "backup lacks $f"
	[ "$(stat -c %a "$T/$f")" = 600 ] || fail "$f not 0600"
done
grep -qF "$(cat "$T/out")" "$T/b1.db.head" || fail "head file differs"
[ "$(sqlite3 "$T/b1.db" 'PRAGMA integrity_check')" = ok ] ||
    fail "backup copy damaged"
as carol vault backup --out "$T/b1.db"; expect_rc 1; expect_err "refusing to overwrite"
B1N=$(sqlite3 "$T/b1.db" "SELECT MAX(seq) FROM events")

step "the vault moves on; a receipt is taken"
as carol vault tenant add beta; ok
run vault audit receipt; ok
R2=$(cat "$T/out")
N2=$(db "SELECT MAX(seq) FROM events")

step "restore of an older backup: refused without --force, and by a later receipt"
as carol vault restore --from "$T/b1.db"; expect_rc 1
expect_err "the backup has $B1N events and the current vault $N2: restoring it rolls the log back"
as carol vault restore --from "$T/b1.db" --receipt "$R2" --force; expect_rc 6
expect_err "the backup does not extend receipt $R2"
[ "$(db "SELECT MAX(seq) FROM events")" = "$N2" ] || fail "vault replaced"
[ -e "$T/vault.db.before-restore" ] && fail "refused restore left a file"

step "a newer backup restores in place and keeps the old file"
as carol vault backup --out "$T/b2.db"; ok
as carol vault tenant add gamma; ok
db "UPDATE events SET entry = entry || ' ' WHERE seq = 2"	# damage the live log
run vault audit verify; expect_rc 6
# another process holding the vault open: refused, nothing replaced
mkfifo "$T/hold.fifo"
sqlite3 "$BREAKGLASS_VAULT" <"$T/hold.fifo" >/dev/null 2>&1 &
HOLD=$!
exec 7>"$T/hold.fifo"
echo "SELECT count(*) FROM events;" >&7
sleep 0.5
as carol vault restore --from "$T/b2.db" --receipt "$R2" --force
refused 1 "another vault command has $BREAKGLASS_VAULT open"
[ -e "$T/vault.db.before-restore" ] && fail "a refused restore replaced the file"
exec 7>&-
wait "$HOLD" || true
as carol vault restore --from "$T/b2.db" --receipt "$R2" --force; ok
expect_err "the previous file is"
[ -f "$T/vault.db.before-restore" ] || fail "no .before-restore"
run vault audit verify --receipt "$R2"; ok
run vault tenant show beta; ok
run vault tenant show gamma; expect_rc 4
as carol vault tenant add delta; ok
run vault audit verify; ok

step "a corrupted backup is refused"
cp "$T/b2.db" "$T/bad.db"
head -c 4096 /dev/urandom | dd of="$T/bad.db" bs=1 seek=4096 conv=notrunc 2>/dev/null
as carol vault restore --from "$T/bad.db" --force; expect_rc 6
expect_err "vault: restore: "
expect_err "damaged"

step "a backup with an edited event is refused"
cp "$T/b2.db" "$T/bad2.db"
TA=$(sqlite3 "$T/bad2.db" "SELECT MIN(seq) FROM events WHERE action = 'tenant.add'")
sqlite3 "$T/bad2.db" "UPDATE events SET entry = replace(entry, '3600', '7200') WHERE seq = $TA"
[ "$(sqlite3 "$T/bad2.db" "SELECT instr(entry, '7200') > 0 FROM events WHERE seq = $TA")" = 1 ] ||
    fail "the tenant.add event was not edited"
as carol vault restore --from "$T/bad2.db" --force; expect_rc 6
expect_err "event $TA: entry does not match its leaf hash (edited)"

step "another vault's backup is refused"
mkdir "$T/other"
(
	BREAKGLASS_VAULT=$T/other/v.db; export BREAKGLASS_VAULT
	as carol vault init --allow-soft-tokens; ok
	run vault --token "$(token dave)" --pin-file "$T/dave.pin" \
	    custodian add dave; ok
	sign_genesis carol dave
	as carol vault backup --out "$T/other/b.db"; ok
) || fail "the other vault and its backup"
as carol vault restore --from "$T/other/b.db" --force; expect_rc 6
expect_err "the backup is of vault"

step "restore onto a new machine: no vault yet, the key comes along"
mkdir "$T/new"
RC=0
BREAKGLASS_VAULT=$T/new/vault.db "$VAULT_BIN" --token "$(token carol)" \
    --pin-file "$T/carol.pin" restore --from "$T/b2.db" --as carol \
    >"$T/out" 2>"$T/err" || RC=$?
ok
[ -f "$T/new/vault.db.key" ] || fail "key not restored"
BREAKGLASS_VAULT=$T/new/vault.db "$VAULT_BIN" audit log --action restore \
    --json >"$T/out" 2>"$T/err" || fail "audit log of the restored vault"
grep -q '"actor": "carol"' "$T/out" && grep -q '"sig": "' "$T/out" ||
    fail "the restore is not carol's signed event"
cmp -s "$T/new/vault.db.key" "$T/b2.db.key" || fail "key differs"
RC=0
BREAKGLASS_VAULT=$T/new/vault.db "$VAULT_BIN" --token "$(token carol)" \
    --pin-file "$T/carol.pin" tenant add epsilon --as carol \
    >"$T/out" 2>"$T/err" || RC=$?
ok
BREAKGLASS_VAULT=$T/new/vault.db "$VAULT_BIN" audit verify >"$T/out" \
    2>"$T/err" || fail "restored vault does not verify: $(cat "$T/err")"
