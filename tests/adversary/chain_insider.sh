#!/bin/sh
# The insider of issue 10: tom, the requester, holds his own token and
# PIN and root over the vault file.  Every way he tried to make who can
# open what follow his token instead of the approvers' is refused.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/lib.sh"
bg_setup
adv_vault

step "1. tom enrolls his own token under alice's name"
with tom vault member add acme alice --role approver --side client \
    --label spare; ok	# a draft is only a proposal
with tom vault chain sign acme --as alice; ok	# his token, alice's name
as tom vault chain sign acme; ok		# his own signature
still_needs acme
expect_out "the policy in force"
expect_out "a signature by alice with a credential alice already holds"
expect_out "signed by: alice, tom"
[ "$(head_seq acme)" = 1 ] || fail "the draft took effect"
run vault member list acme --person alice; ok
[ "$(grep -c "^acme" "$T/out")" = 1 ] || fail "alice has more than one token"
request_da
with tom vault approve "$REQ" --as alice; refused 3 "none of alice's credentials"
expect_event refused approve

step "1b. ... and writes the draft into the chain with sqlite3"
db "INSERT INTO links SELECT tenant, 2, body, x'00', 0 FROM drafts
    WHERE tenant = 'acme'"
db "INSERT INTO link_sigs (tenant, seq, person, cred_id, authdata, sig)
    SELECT tenant, 2, person, cred_id, authdata, sig FROM draft_sigs
    WHERE tenant = 'acme'"
op_in "$T/value" vault secret add acme other; refused 3 "link 2 of acme"
expect_event refused secret.add
as alice vault approve "$REQ"; refused 3 "link 2 of acme"
db "DELETE FROM link_sigs WHERE tenant = 'acme' AND seq = 2"
db "DELETE FROM links WHERE tenant = 'acme' AND seq = 2"
as carol vault chain discard acme; ok

step "2. tom points the policy at two fresh 'people' who are his token"
with tom vault member add acme x1 --role approver --side client; ok
with tom vault member add acme x2 --role approver --side client; ok
as carol vault policy set acme '2-of(x1,x2)'; ok
for x in x1 x2; do with tom vault chain sign acme --as $x; ok; done
still_needs acme
[ "$(head_seq acme)" = 1 ] || fail "the policy of x1 and x2 took effect"
op_in "$T/value" vault secret add acme after; ok
[ "$(db "SELECT v.chain_seq FROM versions v JOIN secrets s ON
    s.id = v.secret_id WHERE s.name = 'after'")" = 1 ] ||
    fail "the new secret was not sealed under link 1"
as carol vault chain discard acme; ok

step "3. the same, as a row: tenants.policy and memberships edited"
db "UPDATE tenants SET policy = '2-of(x1,x2)'"
op_in "$T/value" vault secret add acme after2; ok	# the row decides nothing
[ "$(db "SELECT v.policy FROM versions v JOIN secrets s ON s.id =
    v.secret_id WHERE s.name = 'after2'")" = "2-of(1-of(alice,bob),1-of(mia))" ] ||
    fail "the seal followed the edited row"
db "UPDATE memberships SET person = 'x1' WHERE person = 'alice'"
op_in "$T/value" vault secret add acme after2b; refused 1 "the file was altered"
as alice vault approve "$REQ"; refused 1 "the file was altered"
db "UPDATE memberships SET person = 'alice' WHERE person = 'x1'"
as alice vault approve "$REQ"; ok			# alice, by the chain

step "4. tom swaps alice's membership key for his own in the rows"
db "UPDATE tokens SET member_pk = (SELECT k.member_pk FROM tokens k JOIN
    memberships m ON m.id = k.membership_id WHERE m.person = 'tom')
    WHERE membership_id IN (SELECT id FROM memberships WHERE
    person = 'alice')"
op_in "$T/value" vault secret add acme after3; ok
[ "$(db "SELECT count(*) FROM shares")" -gt 0 ] || fail "no shares"
# the seal went to alice's key from the chain: she still opens it
as tom vault request acme/after3 --reason "x" --ticket X --ttl 1h; ok
R3=$(cat "$T/out")
as alice vault approve "$R3"; ok
as mia vault approve "$R3"; ok
as tom vault release "$R3"; ok
expect_out "hunter2-domain-admin"

step "4b. ... and inside the signed link"
cp "$BREAKGLASS_VAULT" "$T/keep.db"
TOMPK=$(db "SELECT hex(k.member_pk) FROM tokens k JOIN memberships m ON
    m.id = k.membership_id WHERE m.person = 'tom'" | tr A-F a-f)
ALPK=$(db "SELECT json_extract(j.value, '$.tokens[0].member_pk') FROM
    links, json_each(links.body, '$.members') j WHERE links.tenant =
    'acme' AND json_extract(j.value, '$.person') = 'alice'")
db "UPDATE links SET body = replace(body, '$ALPK', '$TOMPK')
    WHERE tenant = 'acme'"
op_in "$T/value" vault secret add acme after4; refused 3 "does not verify"
as alice vault approve "$REQ"; refused 3 "does not verify"
run vault status; ok	# reads still work for the people on call
cp "$T/keep.db" "$BREAKGLASS_VAULT"; rm -f "$BREAKGLASS_VAULT-wal" "$BREAKGLASS_VAULT-shm"

step "5. the production flag: the genesis decides, and it is signed"
db "UPDATE meta SET value = '0' WHERE key = 'allow_soft_tokens'"
run vault tenant show acme; ok	# nothing changed: the genesis says drill
db "UPDATE links SET body = replace(body, '\"allow_soft\":true',
    '\"allow_soft\":false') WHERE tenant = '' AND seq = 0"
as carol vault tenant add beta; refused 3 "the vault's genesis does not verify"
db "UPDATE links SET body = replace(body, '\"allow_soft\":false',
    '\"allow_soft\":true') WHERE tenant = '' AND seq = 0"
db "UPDATE links SET body = replace(body, '\"custodian_quorum\":2',
    '\"custodian_quorum\":1') WHERE tenant = '' AND seq = 0"
as carol vault tenant add beta; refused 3 "the vault's genesis does not verify"
db "UPDATE links SET body = replace(body, '\"custodian_quorum\":1',
    '\"custodian_quorum\":2') WHERE tenant = '' AND seq = 0"
# a production vault cannot be built on software tokens at all
# (its genesis vets every custodian against its trust store)
run vault --vault "$T/prod.db" --token "$(token tom)" --pin-file \
    "$T/tom.pin" init --as tom
refused 2 "--allow-soft-tokens"
[ ! -e "$T/prod.db" ] || fail "a failed init left a vault file"

step "6. tom grants himself a longer membership"
as carol vault member recertify acme tom --until +400d; ok
as tom vault chain sign acme; ok
still_needs acme
expect_out "client co-signer"
as carol vault chain discard acme; ok

step "7. splicing a link of another tenant, replaying an old one"
as carol vault tenant add beta; ok
with tom vault member add beta tom --role requester; ok
with alice vault member add beta alice --role approver --side client; ok
with mia vault member add beta mia --role approver --side msp; ok
as carol vault policy set beta '2-of(alice,mia)'; ok
for p in carol dave alice; do as $p vault chain sign beta; ok; done
expect_out "takes effect now"
cp "$BREAKGLASS_VAULT" "$T/keep.db"
db "INSERT INTO links SELECT 'acme', 2, body, hash, committed_at FROM links
    WHERE tenant = 'beta' AND seq = 1"
db "INSERT INTO link_sigs (tenant, seq, person, cred_id, authdata, sig)
    SELECT 'acme', 2, person, cred_id, authdata, sig FROM link_sigs
    WHERE tenant = 'beta' AND seq = 1"
op_in "$T/value" vault secret add acme spliced; refused 3 "link 2 of acme"
db "DELETE FROM links WHERE tenant = 'acme' AND seq = 2"
db "DELETE FROM link_sigs WHERE tenant = 'acme' AND seq = 2"
db "INSERT INTO links SELECT 'acme', 2, body, hash, committed_at FROM links
    WHERE tenant = 'acme' AND seq = 1"
db "INSERT INTO link_sigs (tenant, seq, person, cred_id, authdata, sig)
    SELECT 'acme', 2, person, cred_id, authdata, sig FROM link_sigs
    WHERE tenant = 'acme' AND seq = 1"
op_in "$T/value" vault secret add acme replayed; refused 3 "link 2 of acme"
cp "$T/keep.db" "$BREAKGLASS_VAULT"; rm -f "$BREAKGLASS_VAULT-wal" "$BREAKGLASS_VAULT-shm"

step "8. rolling the chain back to a keyset that still had bob"
as carol vault policy set acme 'all-of(1-of(alice),1-of(mia))'; ok
as carol vault member remove acme bob; ok
for p in alice mia; do as $p vault chain sign acme; ok; done
expect_out "takes effect now"
RCPT=$("$VAULT_BIN" audit receipt 2>/dev/null | grep -o 'BG1-[0-9a-f-]*' | head -n 1)
[ -n "$RCPT" ] || fail "no receipt"
db "DELETE FROM links WHERE tenant = 'acme' AND seq = 2"
db "DELETE FROM link_sigs WHERE tenant = 'acme' AND seq = 2"
op_in "$T/value" vault secret add acme rolled; refused 3 "rolled back"
# ... and erasing the log's record of link 2 too is caught by the receipt
db "DELETE FROM events WHERE action = 'chain.link' AND tenant = 'acme' AND
    seq = (SELECT max(seq) FROM events WHERE action = 'chain.link')"
run vault audit verify --receipt "$RCPT"; expect_rc 6

echo "chain_insider: all passed"
