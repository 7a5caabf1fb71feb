#!/bin/sh
# Custodians change by vault links (the vault's own chain after its
# genesis), each signed by a custodian quorum of the vault link in force,
# in the manner of TUF's root rotation.  The insiders: dave, a custodian
# with root over the vault file, and erin, a custodian on her way out.
#
#   1. custodians carol, dave and erin, quorum 2
#   2. one custodian alone cannot add his own second "custodian" token
#      under a new name
#   3. the quorum and drill/production: a custodian quorum; root cannot
#      flip the flag in the file
#   4. removing a custodian needs 2 of the others, never her own signature
#   5. a tenant draft made before the removal is refused
#   6. the removed custodian cannot sign a new tenant's first link
#   7. vault links spliced, replayed or rolled back with sqlite3: refused
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/lib.sh"
bg_setup
for p in carol dave erin tom alice bob mia olga; do soft_person $p "pin-$p-1"; done

# vault_seq: the newest vault link's number in the file
vault_seq() {
	db "SELECT max(seq) FROM links WHERE tenant = ''"
}

# keep / put_back: a copy of the vault file, and the file put back
keep() {
	db "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
	cp "$BREAKGLASS_VAULT" "$T/keep.db"
}
put_back() {
	cp "$T/keep.db" "$BREAKGLASS_VAULT"
	rm -f "$BREAKGLASS_VAULT-wal" "$BREAKGLASS_VAULT-shm"
}

step "1. custodians carol, dave and erin, quorum 2"
as carol vault init --allow-soft-tokens; ok
expect_out "custodian quorum: 2"
with dave vault custodian add dave; ok
with erin vault custodian add erin; ok
for p in carol dave erin; do as $p vault chain sign; ok; done
expect_out "the vault's genesis takes effect now"
run vault chain show; ok
expect_out "in force: genesis 0"; expect_out "custodian quorum: 2"
as carol vault tenant add acme; ok
with tom vault member add acme tom --role requester; ok
with alice vault member add acme alice --role approver --side client; ok
with bob vault member add acme bob --role approver --side client; ok
with mia vault member add acme mia --role approver --side msp; ok
with olga vault member add acme olga --role operator; ok
as carol vault policy set acme 'all-of(1-of(alice,bob),1-of(mia))'; ok
for p in carol dave alice bob; do as $p vault chain sign acme; ok; done
expect_out "link 1 of acme takes effect now"
printf 'hunter2-domain-admin\n' >"$T/value"
op_in "$T/value" vault secret add acme da; ok

step "2. dave enrolls a second custodian token of his own, as 'zed'"
with dave vault custodian add zed; ok
expect_out "zed enrolled as a custodian in the vault's draft"
run vault chain show; ok
expect_out "draft:    vault link 1"; expect_out "+ custodian zed"
as dave vault chain sign; ok
expect_out "still needs: a custodian quorum (1 more of: carol, erin)"
# the newcomer does not vouch for himself
with dave vault chain sign --as zed; ok
expect_out "still needs: a custodian quorum (1 more of: carol, erin)"
run vault chain show; ok; expect_out "signed by: dave, zed"
# nor does his token sign as carol
with dave vault chain sign --as carol; refused 3 "vault: chain sign"
[ "$(vault_seq)" = 0 ] || fail "zed became a custodian"
step "2b. ... and writes the draft into the vault's chain with sqlite3"
keep
db "INSERT INTO links SELECT tenant, 1, body, x'00', 0 FROM drafts
    WHERE tenant = ''"
db "INSERT INTO link_sigs (tenant, seq, person, cred_id, authdata, sig)
    SELECT tenant, 1, person, cred_id, authdata, sig FROM draft_sigs
    WHERE tenant = ''"
as carol vault tenant add beta; refused 3 "vault link 1 does not verify: needs: a custodian quorum (1 more of: carol, erin)"
op_in "$T/value" vault secret add acme other; refused 3 "vault link 1 does not verify"
as alice vault chain sign acme; refused 3 "vault link 1 does not verify"
run vault status; ok	# reads still work
put_back
as carol vault chain discard; ok
run vault chain show; ok; expect_no_out "draft:"; expect_no_out "zed"

step "3. the quorum and drill/production: a custodian quorum of the link in force"
as carol vault custodian set --custodian-quorum 4
refused 1 "the custodian quorum must be 2..3"
as carol vault custodian set; expect_rc 2; expect_err "nothing to set"
as carol vault custodian set --allow-soft-tokens --refuse-soft-tokens; expect_rc 2
as carol vault custodian set --custodian-quorum 3; ok
run vault chain show; ok; expect_out "custodian quorum: 3  (changed)"
as carol vault chain sign; ok
expect_out "still needs: a custodian quorum (1 more of: dave, erin)"
as dave vault chain sign; ok; expect_out "vault link 1 takes effect now"
expect_event vault.link '"custodian_quorum": 3'
# a production vault takes no software token: these custodians hold them
as carol vault custodian set --refuse-soft-tokens
refused 1 "custodian carol's token is a software token"
# root flips the flag in the draft: not the draft the log names
as carol vault custodian set --custodian-quorum 2; ok
db "UPDATE drafts SET body = replace(body, '\"allow_soft\":true',
    '\"allow_soft\":false') WHERE tenant = ''"
as carol vault chain sign; refused 1 "not the newest one the audit log names"
as carol vault chain discard; ok
# ... or in the link in force: it no longer verifies, every act stops
keep
db "UPDATE links SET body = replace(body, '\"allow_soft\":true',
    '\"allow_soft\":false') WHERE tenant = '' AND seq = 1"
as carol vault tenant add beta; refused 3 "vault link 1 does not verify"
as carol vault custodian set --custodian-quorum 2; refused 3 "vault link 1 does not verify"
run vault tenant show acme; ok	# reads still work
put_back
# back to 2: now all three of the quorum in force sign
as carol vault custodian set --custodian-quorum 2; ok
as carol vault chain sign; ok
as dave vault chain sign; ok
expect_out "still needs: a custodian quorum (1 more of: erin)"
as erin vault chain sign; ok; expect_out "vault link 2 takes effect now"

step "4. removing erin needs two of the others; her signature does not count"
# beta's first draft, made now, under vault link 2 (used in 5)
as carol vault tenant add beta; ok
with tom vault member add beta tom --role requester; ok
with alice vault member add beta alice --role approver --side client; ok
with mia vault member add beta mia --role approver --side msp; ok
as carol vault policy set beta '2-of(alice,mia)'; ok
for p in erin alice; do as $p vault chain sign beta; ok; done
expect_out "still needs: a custodian quorum (1 more of: carol, dave)"
run vault chain show beta; ok; expect_out "under vault link 2"
as carol vault custodian remove erin; ok
expect_out "custodian erin removed in the vault's draft"
run vault chain show; ok; expect_out "- custodian erin"
as erin vault chain sign; ok
expect_out "still needs: a custodian quorum (2 more of: carol, dave)"
as carol vault chain sign; ok
expect_out "still needs: a custodian quorum (1 more of: dave)"
[ "$(vault_seq)" = 2 ] || fail "erin's removal took effect without dave"
as dave vault chain sign; ok; expect_out "vault link 3 takes effect now"
expect_event vault.link '"signed_by": "erin, carol, dave"'
run vault chain show; ok; expect_out "in force: vault link 3"
expect_no_out "+ custodian erin"
# the quorum in force can no longer lose a custodian
as carol vault custodian remove dave; refused 1 "a vault keeps at least two custodians"

step "5. beta's draft, made before erin's removal, is refused"
as dave vault chain sign beta
refused 1 "the vault's custodians changed since this draft was made; discard it"
run vault chain show beta; ok
expect_out "still cannot take effect: the draft of beta was made under vault link 2"
with tom vault member add beta mia2 --role auditor
refused 1 "the vault's custodians changed since this draft was made"
[ "$(head_seq beta)" = "" ] || fail "beta has a link"

step "6. erin cannot sign beta's first link"
as carol vault chain discard beta; ok
as carol vault tenant set beta --max-ttl 2h; ok
with tom vault member add beta tom --role requester; ok
with alice vault member add beta alice --role approver --side client; ok
with mia vault member add beta mia --role approver --side msp; ok
as carol vault policy set beta '2-of(alice,mia)'; ok
as erin vault chain sign beta; refused 1 "erin holds no credential"
expect_event refused chain.sign
with erin vault chain sign beta --as carol; refused 3 "vault: chain sign"
run vault chain show beta; ok
expect_out "a custodian quorum (2 more of: carol, dave)"
expect_out "under vault link 3"
for p in carol alice; do as $p vault chain sign beta; ok; done
expect_out "still needs: a custodian quorum (1 more of: dave)"
as dave vault chain sign beta; ok; expect_out "link 1 of beta takes effect now"
[ "$(db "SELECT json_extract(body, '$.vault_seq') FROM links
    WHERE tenant = 'beta' AND seq = 1")" = 3 ] || fail "beta's link is not under vault link 3"
# acme's link 1, made under the genesis, still verifies
op_in "$T/value" vault secret add acme after; ok

step "7. vault links spliced, replayed or rolled back with sqlite3"
RCPT=$("$VAULT_BIN" audit receipt 2>/dev/null | grep -o 'BG1-[0-9a-f-]*' | head -n 1)
[ -n "$RCPT" ] || fail "no receipt"
keep
# erin's removal rolled back: the log names vault link 3
db "DELETE FROM link_sigs WHERE tenant = '' AND seq = 3"
db "DELETE FROM links WHERE tenant = '' AND seq = 3"
as carol vault tenant add gamma
refused 3 "the audit log records vault link 3, but the vault's chain ends at link 2"
as erin vault chain sign acme; refused 3 "rolled back"
run vault status; ok
# ... and the log's record of it erased too: the receipt catches it
db "DELETE FROM events WHERE action = 'vault.link' AND seq = (SELECT
    max(seq) FROM events WHERE action = 'vault.link')"
run vault audit verify --receipt "$RCPT"; expect_rc 6
put_back
# an old vault link replayed as the next one
db "INSERT INTO links SELECT '', 4, body, hash, committed_at FROM links
    WHERE tenant = '' AND seq = 1"
db "INSERT INTO link_sigs (tenant, seq, person, cred_id, authdata, sig)
    SELECT '', 4, person, cred_id, authdata, sig FROM link_sigs
    WHERE tenant = '' AND seq = 1"
as carol vault tenant add gamma; refused 3 "vault link 4 is stored as vault link 1"
put_back
db "UPDATE links SET body = (SELECT body FROM links WHERE tenant = ''
    AND seq = 1) WHERE tenant = '' AND seq = 3"
as carol vault tenant add gamma
refused 3 "vault link 3 is stored as vault link 1"
put_back
# a tenant link spliced in as a vault link, with its signatures
db "UPDATE links SET body = (SELECT body FROM links WHERE tenant = 'beta'
    AND seq = 1) WHERE tenant = '' AND seq = 1"
db "DELETE FROM link_sigs WHERE tenant = '' AND seq = 1"
db "INSERT INTO link_sigs (tenant, seq, person, cred_id, authdata, sig)
    SELECT '', 1, person, cred_id, authdata, sig FROM link_sigs
    WHERE tenant = 'beta' AND seq = 1"
as carol vault tenant add gamma
refused 3 "vault link 1 does not verify: the link is not a vault link"
put_back
# a gap in the vault's chain
db "UPDATE links SET seq = 9 WHERE tenant = '' AND seq = 3"
as carol vault tenant add gamma; refused 3 "has link 9 where link 3 belongs"
put_back
# beta's link pointed at the vault link that still had erin
db "UPDATE links SET body = replace(body, '\"vault_seq\":3',
    '\"vault_seq\":2') WHERE tenant = 'beta'"
op_in "$T/value" vault secret add beta x; refused 3 "link 1 of beta does not verify"
db "UPDATE links SET body = replace(body, '\"vault_seq\":2',
    '\"vault_seq\":9') WHERE tenant = 'beta'"
op_in "$T/value" vault secret add beta x
refused 3 "names vault link 9, which the vault's chain does not have"
put_back
run vault check; ok
run vault audit verify; ok

echo "custodians: all passed"
