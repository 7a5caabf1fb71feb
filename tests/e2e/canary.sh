#!/bin/sh
# Canary (issue 5, memory hygiene): seal a random canary value, run a full
# ceremony (request, two approvals, release), then look for the canary
# everywhere it must not be:
#   - the vault database, its WAL and shm files (SQLite's own pages),
#   - every other file in the test directory and every file created under
#     /tmp and /dev/shm during the run,
#   - stdout and stderr of every command but the release,
#   - the memory of the `vault release` process, read through
#     /proc/PID/mem (tests/hardening/memdump.c) AFTER the value has been
#     written: its stdout is a FIFO pre-filled so that exactly the value
#     fits, so the process blocks in write(1, "\n", 1), which
#     cmd_release.c issues only after wiping and freeing the value.
# It must appear exactly once: in the release's stdout.  The stdio buffer
# counts as process memory (cmd_release.c writes the value with write(2)
# to avoid it).
. "$(dirname "$0")/lib.sh"
bg_setup

CC=${CC:-cc}
"$CC" -O2 -o "$T/memdump" "$(dirname "$0")/../hardening/memdump.c" ||
    fail "cannot build tests/hardening/memdump.c"
: >"$T/start.marker"
: >"$T/transcript"

CANARY=bgcanary-$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
[ ${#CANARY} -eq 57 ] || fail "canary not made"

# rec: keep this command's stdout and stderr for the search at the end
rec() {
	cat "$T/out" "$T/err" >>"$T/transcript"
}

step "vault, tokens, policy"
for p in tom alice mia olga; do soft_person $p "pin-$p-1"; done
std_genesis; rec
as carol vault tenant add acme; ok; rec
as_enroll tom requester; rec
as_enroll olga operator; rec
for p in alice mia; do as_enroll $p approver; rec; done
as carol vault policy set acme 'all-of(1-of(alice),1-of(mia))'; ok; rec
for p in carol dave alice; do sign_link acme $p; rec; done
expect_out "link 1 of acme takes effect now"

step "seal the canary (from a pipe: it is in no file)"
RC=0
printf '%s\n' "$CANARY" | "$VAULT_BIN" --token "$(token olga)" \
    --pin-file "$T/olga.pin" secret add acme canary --as olga \
    >"$T/out" 2>"$T/err" || RC=$?
ok; rec

step "request and two approvals"
as tom vault request acme/canary --reason "canary drill" --ticket CAN-1 \
    --ttl 1h; ok; rec
REQ=$(cat "$T/out")
as alice vault approve "$REQ"; ok; rec
as mia vault approve "$REQ"; ok; rec
run vault status; ok; rec
run vault request show "$REQ"; ok; rec

step "release into a FIFO that holds exactly the value"
N=${#CANARY}
mkfifo "$T/rel.fifo"
exec 3<>"$T/rel.fifo"
head -c $((65536 - N)) /dev/zero >&3
"$VAULT_BIN" --token "$(token tom)" --pin-file "$T/tom.pin" \
    release "$REQ" --as tom >"$T/rel.fifo" 2>"$T/rel.err" &
RPID=$!
echo $RPID >>"$T/pids"
# wait until it blocks writing the newline: /proc/PID/syscall "1 0x1 ADDR 0x1"
i=0
while :; do
	sc=$(cat /proc/$RPID/syscall 2>/dev/null || true)
	set -- $sc
	if [ "${1:-}" = 1 ] && [ "${2:-}" = 0x1 ] && [ "${4:-}" = 0x1 ]; then
		break
	fi
	kill -0 $RPID 2>/dev/null || fail "release exited early: $(cat "$T/rel.err")"
	i=$((i + 1))
	[ $i -lt 3000 ] || fail "release never blocked on its newline (syscall: $sc)"
	sleep 0.01
done

step "the process: not dumpable, no core files, canary not in memory"
grep -q '^Max core file size *0 *0 ' /proc/$RPID/limits ||
    fail "core dumps not disabled: $(grep core /proc/$RPID/limits)"
VmLck=$(sed -n 's/^VmLck:[[:space:]]*\([0-9]*\) kB/\1/p' /proc/$RPID/status)
echo "   release holds ${VmLck} kB locked"
# control: the helper does see the process's heap (the request's reason)
RC=0
printf %s "canary drill" | "$T/memdump" $RPID >"$T/memdump.out" 2>&1 || RC=$?
[ $RC -eq 1 ] || fail "memdump control: request reason not found in memory"
RC=0
printf %s "$CANARY" | "$T/memdump" $RPID >"$T/memdump.out" 2>&1 || RC=$?
cat "$T/memdump.out"
[ $RC -ne 2 ] || fail "memdump failed"
[ $RC -eq 0 ] || fail "canary found in the release process's memory"

step "drain the FIFO; the value came out once, intact"
head -c 65536 <&3 >"$T/rel.raw"
wait $RPID || fail "release failed: $(cat "$T/rel.err")"
head -c 1 <&3 >"$T/rel.nl"
exec 3>&-
[ "$(tail -c "$N" "$T/rel.raw")" = "$CANARY" ] || fail "released value differs"
[ "$(od -An -c "$T/rel.nl" | tr -d ' ')" = '\n' ] || fail "no newline after the value"
cat "$T/rel.err" >>"$T/transcript"
tail -c "$N" "$T/rel.raw" >"$T/release.out"
rm -f "$T/rel.raw"

step "another process reading the vault after the release"
run vault audit log; ok; rec
run vault secret show acme/canary; rec

step "search: database, WAL, files, outputs"
n=0
for f in $(find "$T" -type f ! -name release.out ! -name memdump ! -name transcript); do
	if grep -qaF "$CANARY" "$f"; then
		echo "canary in $f" >&2; n=$((n + 1))
	fi
done
grep -qaF "$CANARY" "$T/transcript" && { echo "canary in a command's output" >&2; n=$((n + 1)); }
for f in $(find /tmp /dev/shm -xdev -type f -newer "$T/start.marker" -size -64M \
    ! -path "$T/*" 2>/dev/null); do
	if grep -qaF "$CANARY" "$f" 2>/dev/null; then
		echo "canary in $f" >&2; n=$((n + 1))
	fi
done
[ $n -eq 0 ] || fail "canary found in $n place(s)"
[ "$(grep -caF "$CANARY" "$T/release.out")" -eq 1 ] || fail "release output lost the canary"
ls "$T"/vault.db* >/dev/null || fail "no database"
echo "canary: only in the release's stdout"
