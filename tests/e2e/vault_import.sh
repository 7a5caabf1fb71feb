#!/bin/sh
# vault secret import: NAME=VALUE lines from standard input, sealed in one
# transaction; every refusal names its line and leaves the vault as it was.
. "$(dirname "$0")/lib.sh"
bg_setup
std_vault

names() {	# the secret names of acme, one line
	db "SELECT group_concat(name, ' ') FROM (SELECT s.name FROM secrets s
	    JOIN tenants t ON t.id = s.tenant_id WHERE t.name = 'acme'
	    ORDER BY s.name);"
}
adds() { db "SELECT count(*) FROM events WHERE action = 'secret.add';"; }

step "three secrets in one run, comments and blank lines skipped"
cat >"$T/in" <<'IN'
# customer acme, taken on today
db-root=pa55=word with spaces

fw-admin=x
backup-key=correct horse battery staple
IN
before=$(adds)
op_in "$T/in" vault secret import acme; ok
expect_err "sealed 3 secrets of acme"
[ "$(names)" = "backup-key da db-root fw-admin" ] || fail "names: $(names)"
[ "$(adds)" -eq $((before + 3)) ] || fail "expected 3 secret.add events"
expect_no_out "pa55"; expect_no_err "pa55"

step "an imported secret releases its value, '=' and spaces included"
as tom vault request acme/db-root --reason import --ticket T-1 --ttl 10m; ok
REQ=$(cat "$T/out")
as alice vault approve "$REQ"; ok
as mia vault approve "$REQ"; ok
as tom vault release "$REQ"; ok
[ "$(cat "$T/out")" = "pa55=word with spaces" ] || fail "released: $(cat "$T/out")"

# refused IN RC TEXT: the import of IN fails with RC and TEXT, and the
# vault keeps exactly the secrets it had.
refused() {
	was=$(names) wasn=$(adds)
	printf "$1" >"$T/in"
	op_in "$T/in" vault secret import acme
	expect_rc "$2"; expect_err "$3"
	[ "$(wc -l <"$T/err")" -eq 1 ] || fail "not one line: $(cat "$T/err")"
	[ "$(names)" = "$was" ] || fail "secrets changed: $(names)"
	[ "$(adds)" -eq "$wasn" ] || fail "a secret.add was logged"
}

step "refusals name the line; nothing is sealed"
refused 'ok1=v\nno-equals-sign\n' 2 "line 2: expected NAME=VALUE"
refused 'ok1=v\r\nok2=w\n' 2 "line 1 ends in a carriage return"
refused 'ok1=v\nok2=\n' 2 "line 2: the value of 'ok2' must have 1 to"
refused 'ok1=v\n=w\n' 2 "line 2: the name must have 1 to"
refused 'ok1=v\nok2=w\nok1=x\n' 2 "line 3: 'ok1' again (first on line 1)"
refused '# nothing\n\n' 2 "no NAME=VALUE line"
refused 'ok1=v\nBad Name=w\n' 2 "line 2: the name 'Bad Name' may only hold"
refused 'ok1=v\nfw-admin=w\n' 1 "line 2: secret 'acme/fw-admin' already exists"

step "an unknown tenant"
printf 'ok1=v\n' >"$T/in"
op_in "$T/in" vault secret import nosuch
expect_rc 4
echo "import: all passed"
