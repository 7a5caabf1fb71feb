#!/bin/sh
# Red team 2: a re-key commits on a contribution nobody signed.
#
# all_in() (vault/rekey.c) decides that every contributor has
# contributed by counting redist_contrib rows; the statement, authdata
# and sig in those rows are never verified.  commit_plan()'s
# completeness check counts DISTINCT contributor over every sub-share
# row of the version (any re-key, live or not), not the sub-shares this
# re-key's contributors sent.  So root, with one contributor (alice)
# contributing honestly, writes a redist_contrib row and one sub-share
# row for mia: alice's contribution commits the re-key, the old shares
# are destroyed, and the version is moved to the new link without mia's
# token ever being touched.  Safe behaviour: a contribution row that
# does not carry the contributor's verified signature over the re-key's
# statement does not count, and the re-key stays open with the old
# shares in place.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/lib.sh"
bg_setup
adv_vault

step "erin joins and the policy names her (link 2)"
soft_person erin pin-erin-1
with erin vault member add acme erin --role approver --side client; ok
as carol vault policy set acme 'all-of(1-of(alice,bob,erin),1-of(mia))'; ok
as alice vault chain sign acme; ok
as mia vault chain sign acme; ok
expect_out "link 2 of acme takes effect now"

step "a re-key: contributors alice and mia"
as carol vault rekey propose acme; ok
RK=$(head -n 1 "$T/out")
run vault rekey show "$RK"; ok
expect_out "contributors: alice x"
NSH=$(db "SELECT count(*) FROM shares")
[ "$NSH" -gt 0 ] || fail "no shares before the re-key"
VID=$(db "SELECT version_id FROM redist_versions WHERE redist_id = $RK")

step "root forges mia's contribution: a row without a signature, one garbage sub-share"
db "INSERT INTO redist_contrib (redist_id, person, created_at, statement,
    authdata, sig) VALUES ($RK, 'mia', 0, 'forged', x'', x'')"
db "INSERT INTO subshares (version_id, redist_id, from_seq, leaf, token_id,
    contributor, sender_pk, blob, live) VALUES ($VID, $RK, 1, 0, 0, 'mia',
    zeroblob(32), x'00', 0)"

step "alice contributes: the re-key must not commit on mia's forged row"
as alice vault rekey contribute "$RK"
expect_no_out "the re-key is committed"
[ "$(db "SELECT state FROM redist WHERE id = $RK")" = 1 ] ||
    fail "re-key $RK committed without mia's token (state $(db "SELECT state FROM redist WHERE id = $RK"))"
[ "$(db "SELECT count(*) FROM shares")" = "$NSH" ] ||
    fail "the old shares were destroyed without mia's contribution"
echo "redteam2_rekey_forged_contrib: all passed"
