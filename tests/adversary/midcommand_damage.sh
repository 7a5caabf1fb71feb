#!/bin/sh
# Root damages the vault file while an approver's command waits for her
# PIN, after the structural check that runs meanwhile (ahead of the first
# write, docs/security.md "Integrity of the file") has passed on the sound
# file.  Its verdict is for the file as it was: the write must find the
# file changed under it, check again, and refuse, writing nothing into
# the damaged file.  A commit by another process in the same window is
# seen as well, and the check runs again on what it committed.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/lib.sh"
bg_setup
adv_vault
request_da
db "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null	# every page in the file
PAGE=$(db "SELECT rootpage FROM sqlite_schema WHERE name = 'subshares_version'")
[ "$PAGE" -gt 1 ] || fail "no index page to damage"
mkfifo -m 600 "$T/pin.fifo"

# approve_waiting NAME: NAME's approve started, blocked on her PIN.
approve_waiting() {
	"$VAULT_BIN" --token "$(token "$1")" --pin-file "$T/pin.fifo" \
	    approve "$REQ" --as "$1" >"$T/out" 2>"$T/err" </dev/null &
	APID=$!
	# the check ahead reads a file of a few hundred KiB: long done
	sleep 1
}
pin_given() {
	cat "$T/$1.pin" >"$T/pin.fifo"
	RC=0
	wait "$APID" || RC=$?
}

step "the file damaged through the file system while the PIN is awaited"
cp "$BREAKGLASS_VAULT" "$T/sound.db"
approve_waiting alice
kill -0 "$APID" 2>/dev/null || fail "approve did not wait for the PIN"
# 512 bytes of 0xa5 over the b-tree header of an index the approval
# neither reads nor writes (sub-shares by version, used by re-keying):
# only the check of the whole file can see it
awk 'BEGIN { for (i = 0; i < 512; i++) printf "%c", 165 }' |
    dd of="$BREAKGLASS_VAULT" bs=1 seek=$(( (PAGE - 1) * 4096 )) \
    conv=notrunc 2>/dev/null
pin_given alice
refused 1 "damaged (quick_check: "
[ "$(db "SELECT count(*) FROM approvals")" = 0 ] ||
    fail "an approval was written into the damaged file"

step "a commit by another process while the PIN is awaited"
cp "$T/sound.db" "$BREAKGLASS_VAULT"
rm -f "$BREAKGLASS_VAULT-wal" "$BREAKGLASS_VAULT-shm"
approve_waiting alice
kill -0 "$APID" 2>/dev/null || fail "approve did not wait for the PIN"
# a harmless commit (nothing of it stays): the file is not the one checked
db "CREATE TABLE t_between(x); DROP TABLE t_between;"
pin_given alice
ok
[ "$(db "SELECT count(*) FROM approvals")" = 1 ] || fail "the approval is missing"
run vault check; ok

step "the same damage before the command: refused, as always"
cp "$T/sound.db" "$BREAKGLASS_VAULT"
rm -f "$BREAKGLASS_VAULT-wal" "$BREAKGLASS_VAULT-shm"
awk 'BEGIN { for (i = 0; i < 512; i++) printf "%c", 165 }' |
    dd of="$BREAKGLASS_VAULT" bs=1 seek=$(( (PAGE - 1) * 4096 )) \
    conv=notrunc 2>/dev/null
as alice vault approve "$REQ"; refused 1 "damaged (quick_check: "
echo "PASS"
