# Shared helpers for the vault end-to-end tests (POSIX sh; sourced).
#
#   . "$(dirname "$0")/lib.sh"
#   bg_setup                       temp dir $T, vault file, cleanup trap
#   soft_start alice [--no-uv]     software token daemon unix:$T/alice.sock
#   soft_pin alice 1234            set its PIN; writes $T/alice.pin (0600)
#   run vault ...                  run the real vault; sets $RC, $T/out, $T/err
#   expect_rc 0; expect_err 'text'; expect_out 'text'; expect_event approve
#   std_genesis                    custodians carol, dave; signed genesis
#   as_enroll NAME ROLE [TENANT] [SIDE]   enroll into TENANT's draft link
#   sign_link TENANT NAME...       each NAME signs TENANT's draft link
#   sign_genesis NAME...           each custodian NAME signs the genesis draft
#   std_vault                      genesis, tenant acme, link 1, secret acme/da
#
# Every test sets -eu, so a helper that finds a mismatch calls fail, which
# prints what was expected and what came out, and exits 1.

set -eu

: "${BG_BUILD:?BG_BUILD must name the build directory}"
VAULT_BIN=${VAULT_BIN:-$BG_BUILD/vault}
TOKENCTL_BIN=${TOKENCTL_BIN:-$BG_BUILD/tokenctl}
RC=0

bg_cleanup() {
	if [ -n "${T:-}" ] && [ -d "$T" ]; then
		if [ -f "$T/pids" ]; then
			while read -r pid; do
				kill "$pid" 2>/dev/null || true
			done <"$T/pids"
			while read -r pid; do
				wait "$pid" 2>/dev/null || true
			done <"$T/pids"
		fi
		rm -rf "$T"
	fi
}

bg_setup() {
	T=$(mktemp -d "${TMPDIR:-/tmp}/bg-e2e.XXXXXX")
	trap bg_cleanup EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 143' TERM
	: >"$T/pids"
	BREAKGLASS_VAULT=$T/vault.db
	export BREAKGLASS_VAULT
	unset XDG_DATA_HOME || true
}

fail() {
	echo "FAIL: $*" >&2
	if [ -f "$T/out" ]; then echo "--- stdout:" >&2; cat "$T/out" >&2; fi
	if [ -f "$T/err" ]; then echo "--- stderr:" >&2; cat "$T/err" >&2; fi
	exit 1
}

step() {
	echo "== $*"
}

# token NAME: the device path of software token NAME.
token() {
	echo "unix:$T/$1.sock"
}

# soft_start NAME [serve options...]: create and serve a software token;
# returns once the daemon says it is ready.
soft_start() {
	_n=$1; shift
	[ -f "$T/$_n.state" ] ||
	    "$TOKENCTL_BIN" soft create --state "$T/$_n.state" >/dev/null 2>&1 ||
	    fail "tokenctl soft create $_n"
	rm -f "$T/$_n.sock"
	"$TOKENCTL_BIN" soft serve --state "$T/$_n.state" \
	    --socket "$T/$_n.sock" "$@" 2>"$T/$_n.log" &
	echo $! >>"$T/pids"
	echo $! >"$T/$_n.pid"
	_i=0
	while ! grep -q "ready on unix:" "$T/$_n.log" 2>/dev/null; do
		_i=$((_i + 1))
		[ $_i -lt 1000 ] || fail "software token $_n did not start"
		kill -0 "$(cat "$T/$_n.pid")" 2>/dev/null ||
		    fail "software token $_n exited: $(cat "$T/$_n.log")"
		sleep 0.01
	done
}

# soft_stop NAME: stop a token's daemon (its state file stays).
soft_stop() {
	_pid=$(cat "$T/$1.pid")
	kill "$_pid" 2>/dev/null || true
	wait "$_pid" 2>/dev/null || true
}

# soft_pin NAME PIN: write $T/NAME.pin and set the token's PIN from it.
soft_pin() {
	pin_file "$1" "$2"
	"$TOKENCTL_BIN" pin set --token "$(token "$1")" \
	    --pin-file "$T/$1.pin" >/dev/null 2>"$T/err" ||
	    fail "tokenctl pin set for $1"
}

# pin_file NAME PIN: write $T/NAME.pin, mode 0600.
pin_file() {
	( umask 077; printf '%s\n' "$2" >"$T/$1.pin" )
}

# soft_person NAME PIN: a running software token with its PIN set.
soft_person() {
	soft_start "$1"
	soft_pin "$1" "$2"
}

# run PROGRAM ARGS...: run a command without tripping set -e; exit status
# in $RC, output in $T/out and $T/err.  "vault" means the real vault.
run() {
	_p=$1; shift
	[ "$_p" = vault ] && _p=$VAULT_BIN
	[ "$_p" = tokenctl ] && _p=$TOKENCTL_BIN
	RC=0
	"$_p" "$@" >"$T/out" 2>"$T/err" </dev/null || RC=$?
}

# run_in FILE PROGRAM ARGS...: like run, with stdin from FILE.
run_in() {
	_in=$1; shift
	_p=$1; shift
	[ "$_p" = vault ] && _p=$VAULT_BIN
	RC=0
	"$_p" "$@" >"$T/out" 2>"$T/err" <"$_in" || RC=$?
}

# as NAME vault ARGS...: run vault with NAME's token and PIN file.
as() {
	_n=$1; shift
	shift	# "vault"
	run vault --token "$(token "$_n")" --pin-file "$T/$_n.pin" "$@" --as "$_n"
}

expect_rc() {
	[ "$RC" -eq "$1" ] || fail "exit status $RC, expected $1"
}

expect_err() {
	grep -qF -- "$1" "$T/err" || fail "stderr lacks: $1"
}

expect_no_err() {
	! grep -qF -- "$1" "$T/err" || fail "stderr has: $1"
}

expect_out() {
	grep -qF -- "$1" "$T/out" || fail "stdout lacks: $1"
}

expect_no_out() {
	! grep -qF -- "$1" "$T/out" || fail "stdout has: $1"
}

# ok: the last command succeeded.
ok() {
	[ "$RC" -eq 0 ] || fail "exit status $RC, expected 0"
}

# refused RC TEXT: the last command failed with exit RC and said TEXT.
refused() {
	expect_rc "$1"
	expect_err "$2"
	# one error line, "vault: <what>: <detail>", after any prompts
	tail -n 1 "$T/err" | grep -q '^vault: ' || fail "error line not 'vault: ...'"
	[ "$(grep -c '^vault: ' "$T/err")" -eq 1 ] || fail "more than one error line"
}

# events: the audit log as JSON in $T/audit.json.
events() {
	"$VAULT_BIN" audit log --json >"$T/audit.json" 2>"$T/audit.err" ||
	    fail "vault audit log --json: $(cat "$T/audit.err")"
}

# expect_event ACTION [TEXT]: the LAST event in the log has that action
# (and contains TEXT somewhere in it).
expect_event() {
	events
	python3 - "$T/audit.json" "$1" "${2:-}" <<'PY' || fail "audit event $1 ${2:-}"
import json, sys
log = json.load(open(sys.argv[1]))
ev = log[-1] if isinstance(log, list) else log["events"][-1]
if ev.get("action") != sys.argv[2]:
    sys.stderr.write("last event is %r, expected %r\n" % (ev.get("action"), sys.argv[2]))
    sys.exit(1)
if sys.argv[3] and sys.argv[3] not in json.dumps(ev, sort_keys=True):
    sys.stderr.write("last event lacks %r: %s\n" % (sys.argv[3], json.dumps(ev)))
    sys.exit(1)
PY
}

# count_events ACTION: how many events have that action.
count_events() {
	events
	python3 - "$T/audit.json" "$1" <<'PY'
import json, sys
log = json.load(open(sys.argv[1]))
evs = log if isinstance(log, list) else log["events"]
print(sum(1 for e in evs if e.get("action") == sys.argv[2]))
PY
}

# db SQL: run SQL on the vault file with the sqlite3 program.
# op vault ARGS... / op_in FILE vault ARGS...: as the tenant's operator
# (olga, enrolled by std_vault), whose token signs sealing and rotation.
op() {
	as olga "$@"
}
op_in() {
	_in=$1; shift
	shift	# "vault"
	run_in "$_in" vault --token "$(token olga)" --pin-file "$T/olga.pin" \
	    "$@" --as olga
}

db() {
	sqlite3 "$BREAKGLASS_VAULT" "$1"
}

# std_genesis [INIT OPTIONS...]: a drill vault whose signed genesis names
# two custodians, carol and dave (software tokens started here if they
# are not running yet): carol creates the vault and its genesis draft,
# dave enrolls into it, both sign it.
std_genesis() {
	for _c in carol dave; do
		[ -f "$T/$_c.pin" ] || soft_person $_c "pin-$_c-1"
	done
	run vault --token "$(token carol)" --pin-file "$T/carol.pin" \
	    init --allow-soft-tokens --as carol "$@"
	ok
	run vault --token "$(token dave)" --pin-file "$T/dave.pin" \
	    custodian add dave
	ok
	sign_genesis carol dave
	expect_out "takes effect now"
}

# sign_genesis NAME...: each custodian NAME signs the vault's genesis draft.
sign_genesis() {
	for _s in "$@"; do
		as "$_s" vault chain sign
		ok
	done
}

# sign_link TENANT NAME...: each NAME signs TENANT's draft link, in turn;
# $T/out holds the last signer's output ("... takes effect now" once the
# draft had every signature it needs).
sign_link() {
	_t=$1; shift
	for _s in "$@"; do
		as "$_s" vault chain sign "$_t"
		ok
	done
}

# A standard vault: custodians carol and dave (std_genesis); soft tokens
# tom (requester), alice, bob (client approvers), mia (MSP approver),
# olga (the MSP's operator); tenant acme whose first link, signed by
# carol, dave, alice and bob, has policy all-of(1-of(alice,bob),1-of(mia));
# secret acme/da, sealed by olga.
std_vault() {
	for p in tom alice bob mia olga; do soft_person $p "pin-$p-1"; done
	std_genesis
	as carol vault tenant add acme; ok
	as_enroll tom requester
	as_enroll olga operator
	for p in alice bob mia; do as_enroll $p approver; done
	as carol vault policy set acme 'all-of(1-of(alice,bob),1-of(mia))'; ok
	sign_link acme carol dave alice bob
	expect_out "link 1 of acme takes effect now"
	printf 'hunter2-domain-admin\n' >"$T/value"
	op_in "$T/value" vault secret add acme da; ok
}

# as_enroll NAME ROLE [TENANT] [SIDE]: enroll NAME's software token into
# TENANT's (default acme) draft link.  An approver's side defaults to msp
# for mia and to client for everybody else.
as_enroll() {
	_side=
	if [ "$2" = approver ]; then
		_side=${4:-}
		if [ -z "$_side" ]; then
			if [ "$1" = mia ]; then _side=msp; else _side=client; fi
		fi
	fi
	run vault --token "$(token "$1")" --pin-file "$T/$1.pin" \
	    member add "${3:-acme}" "$1" --role "$2" --label "$1-soft" \
	    ${_side:+--side "$_side"}
	ok
}

# new_request [ARGS...]: tom asks for acme/da; request id in $REQ.
new_request() {
	as tom vault request acme/da --reason "outage INC-1" --ticket INC-1 \
	    --ttl 1h "$@"
	ok
	REQ=$(cat "$T/out")
	[ -n "$REQ" ] || fail "request printed no id"
}
