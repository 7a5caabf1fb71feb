#!/bin/sh
# Process hardening (issue 5): both programs disable core dumps, make
# themselves non-dumpable and refuse to run when secret memory cannot be
# locked into RAM, with a sentence saying why.  The checks run as the
# unprivileged user nobody (root's CAP_IPC_LOCK ignores RLIMIT_MEMLOCK, and
# root may read any process's /proc files).
. "$(dirname "$0")/lib.sh"
bg_setup

command -v setpriv >/dev/null || fail "setpriv (util-linux) is needed"
NOBODY="setpriv --reuid=65534 --regid=65534 --clear-groups"
# nobody runs copies of the programs from a directory it can enter: the
# checkout may live where other users cannot (root's home, a 0700 mktemp -d).
# $T is fine unless TMPDIR itself is closed to others; then a directory of
# its own under /tmp, removed on exit.
chmod 755 "$T"
NB=$T
if ! $NOBODY test -x "$T"; then
	NB=$(mktemp -d /tmp/bg-e2e-nobody.XXXXXX)
	chmod 755 "$NB"
	trap 'bg_cleanup; rm -rf "$NB"' EXIT
fi
mkdir "$NB/bin" "$NB/nb"; chown 65534:65534 "$NB/nb"
cp "$VAULT_BIN" "$TOKENCTL_BIN" "$NB/bin/"
chmod 755 "$NB/bin" "$NB/bin/vault" "$NB/bin/tokenctl"
ASAN_BUILD=0
grep -q __asan_init "$VAULT_BIN" && ASAN_BUILD=1
VAULT_BIN=$NB/bin/vault
TOKENCTL_BIN=$NB/bin/tokenctl
$NOBODY "$VAULT_BIN" --version >/dev/null 2>&1 ||
    fail "nobody cannot run $VAULT_BIN: $($NOBODY "$VAULT_BIN" --version 2>&1)"

step "locked-memory limit too small and fixed (hard 64 KiB): refused, saying why"
# ASan replaces mlock() with a no-op that succeeds (its shadow memory must
# not be locked), so an ASan build cannot see the limit: say so, loudly.
[ $ASAN_BUILD = 0 ] ||
    echo "   NOTE: ASan build: mlock() is a no-op there; refusal not testable"
[ $ASAN_BUILD = 1 ] ||
for prog in "$VAULT_BIN status" "$VAULT_BIN --version" "$TOKENCTL_BIN list"; do
	RC=0
	$NOBODY sh -c "ulimit -S -l 64; ulimit -H -l 64; exec $prog" \
	    >"$T/out" 2>"$T/err" </dev/null || RC=$?
	expect_rc 1
	expect_err "cannot lock secret memory into RAM"
	expect_err "the locked-memory limit is 64 KiB and breakglass needs 1024 KiB"
	expect_err "ulimit -l 1024"
	expect_no_out "breakglass"
done

step "soft limit small, hard limit enough: raised, runs"
RC=0
$NOBODY sh -c "ulimit -H -l 2048; ulimit -S -l 16; exec $VAULT_BIN --version" \
    >"$T/out" 2>"$T/err" </dev/null || RC=$?
ok; expect_out "vault (breakglass)"

step "root with CAP_IPC_LOCK may lock beyond the limit: runs"
RC=0
sh -c "ulimit -l 64; exec $VAULT_BIN --version" >"$T/out" 2>"$T/err" || RC=$?
ok

step "not dumpable, no core files, even when started with cores allowed"
$NOBODY "$TOKENCTL_BIN" soft create --state "$NB/nb/x.state" >/dev/null 2>&1 ||
    fail "soft create as nobody"
prlimit --core=unlimited:unlimited $NOBODY "$TOKENCTL_BIN" soft serve \
    --state "$NB/nb/x.state" --socket "$NB/nb/x.sock" 2>"$NB/nb/x.log" &
SPID=$!
echo $SPID >>"$T/pids"
i=0
while ! grep -q "ready on unix:" "$NB/nb/x.log" 2>/dev/null; do
	i=$((i + 1)); [ $i -lt 500 ] || fail "tokenctl soft serve did not start"
	sleep 0.01
done
# setpriv and prlimit exec, so SPID is tokenctl itself
grep -q '^Max core file size *0 *0 ' /proc/$SPID/limits ||
    fail "core limit not 0: $(grep core /proc/$SPID/limits)"
# a non-dumpable process's /proc files belong to root: its own user
# cannot read them (a dumpable control process can)
$NOBODY cat /proc/$SPID/environ >/dev/null 2>&1 &&
    fail "nobody can read the environment of its own tokenctl: dumpable"
[ "$(stat -c %u /proc/$SPID/environ)" = 0 ] || fail "/proc files not root-owned"
$NOBODY sleep 30 &
CPID=$!
echo $CPID >>"$T/pids"
sleep 0.1
$NOBODY cat /proc/$CPID/environ >/dev/null 2>&1 ||
    fail "control: nobody cannot read its own sleep's environment"
kill $CPID $SPID
echo "hardening: refusals and non-dumpable state as expected"
