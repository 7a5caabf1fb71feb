# Shared set-up for the adversary tests (POSIX sh; sourced after
# ../e2e/lib.sh).  Each test plays an insider who holds their own token
# and PIN and root over the vault file (sqlite3 edits, copies, rollbacks),
# and asserts refusal.
#
#   adv_vault     custodians carol and dave (signed genesis); tenant acme:
#                 tom requester, alice and bob client approvers, mia MSP
#                 approver, olga operator, policy
#                 all-of(1-of(alice,bob),1-of(mia)), link 1 signed by
#                 carol, dave, alice, bob; secret acme/da sealed by olga.
#   with NAME vault ARGS...   vault with NAME's token and PIN, no --as
#   still_needs TENANT        the tenant's draft has not taken effect
#   head_seq TENANT           the newest link's number in the file

with() {
	_n=$1; shift
	shift	# "vault"
	run vault --token "$(token "$_n")" --pin-file "$T/$_n.pin" "$@"
}

adv_vault() {
	for p in carol dave tom alice bob mia olga; do
		soft_person $p "pin-$p-1"
	done
	as carol vault init --allow-soft-tokens; ok
	with dave vault custodian add dave; ok
	as carol vault chain sign; ok
	as dave vault chain sign; ok
	as carol vault tenant add acme; ok
	with tom vault member add acme tom --role requester; ok
	with alice vault member add acme alice --role approver --side client; ok
	with bob vault member add acme bob --role approver --side client; ok
	with mia vault member add acme mia --role approver --side msp; ok
	with olga vault member add acme olga --role operator; ok
	as carol vault policy set acme 'all-of(1-of(alice,bob),1-of(mia))'; ok
	for p in carol dave alice bob; do as $p vault chain sign acme; ok; done
	expect_out "takes effect now"
	printf 'hunter2-domain-admin\n' >"$T/value"
	op_in "$T/value" vault secret add acme da; ok
}

still_needs() {
	run vault chain show "$1"; ok
	expect_out "still needs"
}

head_seq() {
	db "SELECT max(seq) FROM links WHERE tenant = '$1'"
}

# request_da: tom asks for acme/da; id in $REQ.
request_da() {
	as tom vault request acme/da --reason "outage INC-9" --ticket INC-9 \
	    --ttl 1h; ok
	REQ=$(cat "$T/out")
}

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

# vetted_vault PEOPLE...: a production-style vault whose tokens are vetted.
# A test CA in $CA for the model $G; software tokens with its attestation
# for PEOPLE (carol, dave, tom, alice, bob and olga among them); BLOBs
# $T/blob4 (the model FIDO_CERTIFIED) and $T/blob5 (REVOKED); the genesis
# pins the CA root and allows $G, vault link 1 pins blob4; tenant acme:
# tom requester, alice and bob client approvers, olga operator, policy
# 2-of(alice,bob), link 1 signed by carol, dave, alice, bob; secret
# acme/da sealed by olga.
vetted_vault() {
	G=0123456789abcdef0123456789abcdef
	CA=$T/ca
	scripts/test-ca ca "$CA" "$G" || fail "scripts/test-ca ca"
	for p in "$@"; do
		"$TOKENCTL_BIN" soft create --state "$T/$p.state" \
		    --attestation-cert "$CA/leaf.pem" \
		    --attestation-key "$CA/leaf.key" \
		    --attestation-chain "$CA/chain.pem" --aaguid "$G" \
		    >/dev/null || fail "tokenctl soft create $p"
		soft_person $p "pin-$p-1"
	done
	scripts/test-ca blob "$CA" 4 2099-01-01 "$G" FIDO_CERTIFIED \
	    "Test Key 5" >"$T/blob4"
	scripts/test-ca blob "$CA" 5 2099-01-01 "$G" REVOKED "Test Key 5" \
	    >"$T/blob5"
	as carol vault init --root "$CA/root.pem" --allow-aaguid "$G"; ok
	with dave vault custodian add dave; ok
	as carol vault chain sign; ok
	as dave vault chain sign; ok
	as carol vault custodian trust --fido-root "$CA/mds-root.pem" \
	    --mds "$T/blob4"; ok
	as carol vault chain sign; ok
	as dave vault chain sign; ok
	expect_out "vault link 1 takes effect now"
	as carol vault tenant add acme; ok
	with tom vault member add acme tom --role requester; ok
	with alice vault member add acme alice --role approver --side client
	ok
	with bob vault member add acme bob --role approver --side client; ok
	with olga vault member add acme olga --role operator; ok
	as carol vault policy set acme '2-of(alice,bob)'; ok
	for p in carol dave alice bob; do as $p vault chain sign acme; ok; done
	expect_out "takes effect now"
	printf 'hunter2-domain-admin\n' >"$T/value"
	op_in "$T/value" vault secret add acme da; ok
}
