#!/bin/sh
# Re-key by redistribution, attacked through the file: sub-shares moved
# between contributors, a sender key swapped, a contributor's sub-share
# dropped (garbage in the sum: caught by the key commitment), and the
# re-key's own rules (no request while it is open, none open when it
# starts).  Nobody ever holds a data key; the honest re-key opens.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/lib.sh"
bg_setup
adv_vault

step "erin joins and the policy names her: a link the policy in force signs"
soft_person erin pin-erin-1
with erin vault member add acme erin --role approver --side client; ok
as carol vault policy set acme 'all-of(1-of(alice,bob,erin),1-of(mia))'; ok
as alice vault chain sign acme; ok
as mia vault chain sign acme; ok
expect_out "link 2 of acme takes effect now"

step "a re-key waits for open requests; while it is open nothing is requested"
request_da
as carol vault rekey propose acme; refused 1 "open request"
as tom vault deny "$REQ" --reason x; refused 1 "requester"
as bob vault deny "$REQ" --reason "not now"; ok
as carol vault rekey propose acme; ok
RK=$(head -n 1 "$T/out")
as tom vault request acme/da --reason r --ticket T --ttl 1h; refused 1 "re-key $RK of acme is open"
op_in "$T/value" vault secret add acme other; refused 1 "re-key $RK of acme is open"

step "the contributors: alice and mia; erin is none"
run vault rekey show "$RK"; ok
expect_out "contributors: alice x"
as erin vault rekey contribute "$RK"; refused 1 "not a contributor"
as alice vault rekey contribute "$RK"; ok
as mia vault rekey contribute "$RK"; ok
expect_out "the re-key is committed"
[ "$(db "SELECT count(*) FROM shares")" = 0 ] || fail "old shares left"
cp "$BREAKGLASS_VAULT" "$T/keep.db"

restore() {
	cp "$T/keep.db" "$BREAKGLASS_VAULT"
	rm -f "$BREAKGLASS_VAULT-wal" "$BREAKGLASS_VAULT-shm"
}

step "sub-shares swapped between contributors (erin is leaf 2): refused"
db "UPDATE subshares SET blob = (SELECT s2.blob FROM subshares s2 WHERE
    s2.version_id = subshares.version_id AND s2.leaf = subshares.leaf AND
    s2.token_id = subshares.token_id AND s2.contributor <> subshares.contributor)
    WHERE leaf = 2"
request_da
as erin vault approve "$REQ"; refused 3 "does not open"

step "a sub-share's sender key swapped for tom's: refused"
restore
TOMPK=$(db "SELECT hex(k.member_pk) FROM tokens k JOIN memberships m ON
    m.id = k.membership_id WHERE m.person = 'tom'")
db "UPDATE subshares SET sender_pk = x'$TOMPK' WHERE leaf = 2 AND
    contributor = 'alice'"
request_da
as erin vault approve "$REQ"; refused 3 "do not include the sender's"

step "one contributor's sub-share dropped: the sum is garbage; the key commitment says so"
restore
db "DELETE FROM subshares WHERE leaf = 2 AND contributor = 'alice'"
request_da
as erin vault approve "$REQ"; ok
as mia vault approve "$REQ"; ok
as tom vault release "$REQ"; refused 3 "do not rebuild its data key"
expect_no_out "hunter2"

step "the honest re-key: erin and mia open the value sealed before erin joined"
restore
request_da
as erin vault approve "$REQ"; ok
as mia vault approve "$REQ"; ok
as tom vault release "$REQ"; ok
expect_out "hunter2-domain-admin"
echo "rekey_subshares: all passed"
