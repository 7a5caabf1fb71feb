#!/bin/sh
# Terminal paths, driven through a pseudo-terminal (python3 pty): a value
# typed with echo off (asked twice), a PIN typed wrong then right (tries
# left shown, statement shown again before the next touch), and the
# interactive ceremony asking for each person and token by name.
. "$(dirname "$0")/lib.sh"
bg_setup
command -v python3 >/dev/null || fail "python3 is not installed"
std_vault

cat >"$T/drive_tty.py" <<'PY'
# drive_tty.py OUT ARGV... ; answers come from $ANSWERS: "prompt=>reply;;..."
import os, pty, select, sys, time
out_path, argv = sys.argv[1], sys.argv[2:]
pairs = [a.split("=>", 1) for a in os.environ.get("ANSWERS", "").split(";;") if a]
pid, fd = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)
out, i, pos = b"", 0, 0
while True:
    r, _, _ = select.select([fd], [], [], 20)
    if not r:
        break
    try:
        d = os.read(fd, 4096)
    except OSError:
        break
    if not d:
        break
    out += d
    while i < len(pairs) and out.find(pairs[i][0].encode(), pos) >= 0:
        pos = out.find(pairs[i][0].encode(), pos) + len(pairs[i][0])
        time.sleep(0.05)
        os.write(fd, pairs[i][1].encode() + b"\n")
        i += 1
# a program still waiting for an answer that never comes is killed
for _ in range(100):
    done, st = os.waitpid(pid, os.WNOHANG)
    if done:
        break
    time.sleep(0.05)
else:
    os.kill(pid, 9)
    _, st = os.waitpid(pid, 0)
    out += b"\n[drive_tty: killed, still waiting for input]\n"
open(out_path, "wb").write(out)
sys.exit(os.waitstatus_to_exitcode(st))
PY

# tty OUT ANSWERS vault ARGS...
tty() {
	_o=$1; _a=$2; shift 3
	RC=0
	ANSWERS=$_a python3 "$T/drive_tty.py" "$T/$_o" "$VAULT_BIN" "$@" || RC=$?
}

step "a value typed on the terminal: echo off, asked twice"
tty add.out "not echoed=>typed-s3cret;;Repeat=>typed-s3cret" \
    vault --token "$(token olga)" --pin-file "$T/olga.pin" \
    secret add acme typed --as olga
ok
! grep -q typed-s3cret "$T/add.out" || fail "the value was echoed"
tty add2.out "not echoed=>one;;Repeat=>two" \
    vault --token "$(token olga)" --pin-file "$T/olga.pin" \
    secret add acme typed2 --as olga
expect_rc 1
grep -q "the two entries differ" "$T/add2.out" || fail "mismatch not refused"

step "wrong PIN on the terminal, then the right one"
new_request
tty appr.out "PIN of alice=>wrong-pin;;PIN of alice=>pin-alice-1" \
    vault --token "$(token alice)" approve "$REQ" --as alice
ok
grep -q "wrong PIN, 7 tries left" "$T/appr.out" || fail "tries left not shown"
! grep -q "pin-alice-1\|wrong-pin" "$T/appr.out" || fail "PIN echoed"
# after the failed try the statement is shown again, before the touch
sed -n '/wrong PIN/,$p' "$T/appr.out" | sed -n '/statement now reads/,$p' |
    grep -q "Touch the token of alice" || fail "statement not re-shown first"
grep -q "approved by alice" "$T/appr.out" || fail "approval"

step "interactive ceremony: people and tokens asked for by name"
printf 'c-value\n' >"$T/v"; op_in "$T/v" vault secret add acme cer; ok
# a mistyped requester, a mistyped approver, the requester as approver
# and an approver twice are each said and asked for again
tty cer.out "Requester (name): =>tmo;;Requester (name): =>tom;;Reason: =>drill;;Ticket: =>D-1;;token of tom=>$(token tom);;PIN of tom=>pin-tom-1;;Next approver (name): =>alcie;;Next approver (name): =>tom;;Next approver (name): =>bob;;token of bob=>$(token bob);;PIN of bob=>pin-bob-1;;Next approver (name): =>bob;;Next approver (name): =>mia;;token of mia=>$(token mia);;PIN of mia=>pin-mia-1;;PIN of tom=>pin-tom-1" \
    vault ceremony acme/cer
ok
grep -q "c-value" "$T/cer.out" || fail "ceremony released nothing"
grep -q "receipt for the ceremony log book" "$T/cer.out" || fail "no receipt"
grep -q "tmo is not a requester of acme (requesters: tom); give another name" \
    "$T/cer.out" || fail "mistyped requester not asked again"
grep -q "alcie is not an approver of acme (approvers: alice, bob, mia)" \
    "$T/cer.out" || fail "mistyped approver not asked again"
grep -q "tom is the requester and cannot approve" "$T/cer.out" ||
    fail "requester as approver not asked again"
grep -q "bob approved already" "$T/cer.out" || fail "second approval not asked again"

step "interactive ceremony stopped: how to go on, then withdraw"
printf 'd-value\n' >"$T/v"; op_in "$T/v" vault secret add acme cer2; ok
tty cer2.out "Requester (name): =>tom;;Reason: =>drill;;Ticket: =>D-2;;token of tom=>$(token tom);;PIN of tom=>pin-tom-1;;Next approver (name): =>" \
    vault ceremony acme/cer2
expect_rc 1
grep -q "go on with 'vault approve" "$T/cer2.out" || fail "no way forward said"
REQ=$(sed -n "s/.*withdraw it with 'vault request withdraw \([0-9]*\) --as tom'.*/\1/p" "$T/cer2.out")
[ -n "$REQ" ] || fail "no request to withdraw named"
as tom vault request withdraw "$REQ"; ok
tty cer3.out "Requester (name): =>tom;;Reason: =>drill;;Ticket: =>D-3;;token of tom=>$(token tom);;PIN of tom=>pin-tom-1;;Next approver (name): =>alice;;token of alice=>$(token alice);;PIN of alice=>pin-alice-1;;Next approver (name): =>mia;;token of mia=>$(token mia);;PIN of mia=>pin-mia-1;;PIN of tom=>pin-tom-1" \
    vault ceremony acme/cer2
ok
grep -q "d-value" "$T/cer3.out" || fail "ceremony after a withdrawal released nothing"
echo "tty: all passed"
