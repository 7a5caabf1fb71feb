#!/bin/sh
# Every step that changes something prints a receipt for the paper log
# book (README, "A ceremony, briefly"): "receipt: BG1-..." on standard
# error, the receipt of the log as the step left it.
. "$(dirname "$0")/lib.sh"
bg_setup

# receipted: the last command succeeded and printed the current receipt
receipted() {
	ok
	_r=$(sed -n 's/^receipt: //p' "$T/err")
	[ -n "$_r" ] || fail "no receipt printed"
	"$VAULT_BIN" audit receipt >"$T/now" 2>/dev/null || fail "audit receipt"
	grep -qF -- "$_r" "$T/now" || fail "receipt $_r is not the log's: $(cat "$T/now")"
}

step "custodian add"
for _c in carol dave; do soft_person $_c "pin-$_c-1"; done
run vault --token "$(token carol)" --pin-file "$T/carol.pin" init \
    --allow-soft-tokens --as carol; ok
run vault --token "$(token dave)" --pin-file "$T/dave.pin" custodian add dave
receipted
sign_genesis carol dave

step "tenant, member, policy, chain"
for p in tom alice bob mia olga; do soft_person $p "pin-$p-1"; done
as carol vault tenant add acme; receipted
as carol vault tenant set acme --max-ttl 2h; receipted
run vault --token "$(token tom)" --pin-file "$T/tom.pin" \
    member add acme tom --role requester; receipted
for p in alice bob mia; do as_enroll $p approver; done
as carol vault policy set acme 'all-of(1-of(alice,bob),1-of(mia))'; receipted
as carol vault member remove acme tom; receipted
as carol vault chain discard acme; receipted
run vault --token "$(token tom)" --pin-file "$T/tom.pin" \
    member add acme tom --role requester; ok
as_enroll olga operator
for p in alice bob mia; do as_enroll $p approver; done
as carol vault policy set acme 'all-of(1-of(alice,bob),1-of(mia))'; ok
sign_link acme carol dave alice bob; receipted

step "secret add and import"
printf 'v1\n' >"$T/v"; op_in "$T/v" vault secret add acme da; receipted
op vault secret add acme gen --generate; receipted
printf 'a=1\nb=2\n' >"$T/imp"; op_in "$T/imp" vault secret import acme; receipted

step "request, approvals, release"
as tom vault request acme/da --reason r --ticket T-1 --ttl 10m; receipted
REQ=$(cat "$T/out")
as alice vault approve "$REQ"; receipted
as mia vault approve "$REQ"; receipted
as tom vault release "$REQ"; receipted

step "rotate begin, commit, abort"
printf 'v2\n' >"$T/v2"; op_in "$T/v2" vault rotate begin acme/da; receipted
op vault rotate commit acme/da; receipted
op vault rotate begin acme/da --generate; receipted
op vault rotate abort acme/da; receipted

step "evidence export, offboard"
as carol vault evidence export --request "$REQ" --out "$T/b"; receipted
op vault tenant offboard acme --confirm acme; receipted
echo "receipts: all passed"
