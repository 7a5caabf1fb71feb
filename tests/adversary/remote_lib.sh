# Helpers for the remote-approval attacks (sourced after ../e2e/lib.sh and
# lib.sh): the approver's own machine, and a tamperer that edits one
# field of a packet and writes it back in canonical form, so that what
# is refused is the field, not the spelling.

# away NAME ARGS...: tokenctl on NAME's machine (own directory and HOME,
# no vault anywhere).
away() {
	_n=$1; shift
	mkdir -p "$T/$_n-machine/home"
	RC=0
	( cd "$T/$_n-machine" && unset BREAKGLASS_VAULT XDG_STATE_HOME \
	    XDG_DATA_HOME && HOME=$T/$_n-machine/home \
	    "$TOKENCTL_BIN" "$@" ) >"$T/out" 2>"$T/err" </dev/null || RC=$?
}

# approve_away NAME CARD PACKET OUT: NAME approves with their token.
approve_away() {
	rm -f "$4"
	away "$1" approve --card "$2" --packet "$3" --out "$4" \
	    --token "$(token "$1")" --pin-file "$T/$1.pin"
}

# refused_away TEXT: the approver's program refused, saying TEXT, and
# wrote nothing.
refused_away() {
	[ "$RC" -ne 0 ] || fail "tokenctl accepted what it should refuse ($1)"
	expect_err "$1"
	[ "$(grep -c '^tokenctl: ' "$T/err")" -eq 1 ] || fail "not one error line"
}

# tamper IN OUT PYTHON-EXPRESSION: p is the packet (a dict); the
# expression edits it in place.  Helpers: flip(hexstr), lines(s).
tamper() {
	python3 - "$1" "$2" "$3" <<'PY'
import json, sys
src, dst, expr = sys.argv[1:4]
p = json.load(open(src, encoding="utf-8"))
def flip(h, i=10):
    b = bytearray.fromhex(h); b[i % len(b)] ^= 1; return b.hex()
exec(expr)
open(dst, "w", encoding="utf-8").write(json.dumps(p, sort_keys=True,
    separators=(",", ":"), ensure_ascii=False) + "\n")
PY
}
