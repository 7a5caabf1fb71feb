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
