#!/bin/sh
# The seal after a re-key, attacked through the file.  A re-keyed
# version's shares are sub-shares, so bg_seal_check does not compare
# their hash when the version's link differs from the one its seal
# names; the insider, as root, sets that row (chain_seq, alone or with
# the link hash and policy) on a version that was never re-keyed to skip
# the comparison and swaps a share (a plain share is compared whatever
# the row says), or moves a re-keyed version back to the link its seal
# names; and the operator who sealed a value, made a requester, asks for
# it after the re-key.  Nothing opens, and the re-key's commit names a
# person.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/lib.sh"
bg_setup
adv_vault

step "erin joins, the policy names her, olga becomes a requester too"
soft_person erin pin-erin-1
with erin vault member add acme erin --role approver --side client; ok
with olga vault member add acme olga --role requester; ok
as carol vault policy set acme 'all-of(1-of(alice,bob,erin),1-of(mia))'; ok
as olga vault chain sign acme; ok
as alice vault chain sign acme; ok
as mia vault chain sign acme; ok
expect_out "link 2 of acme takes effect now"

step "acme/da (sealed by olga under link 1) is re-keyed to link 2"
P1=$(db "SELECT policy FROM versions")
P1H=$(db "SELECT hex(policy_hash) FROM versions")
as carol vault rekey propose acme; ok
RK=$(head -n 1 "$T/out")
as alice vault rekey contribute "$RK"; ok
as mia vault rekey contribute "$RK"; ok
expect_out "the re-key is committed"
[ "$(db "SELECT actor FROM events WHERE action = 'rekey.commit'")" = mia ] ||
    fail "the re-key's commit names no person"

step "the sealer asks for what she sealed, after the re-key: refused"
as olga vault request acme/da --reason r --ticket T --ttl 10m
refused 1 "olga sealed acme/da v1 and knows its value"

cp "$BREAKGLASS_VAULT" "$T/keep.db"
restore() {
	cp "$T/keep.db" "$BREAKGLASS_VAULT"
	rm -f "$BREAKGLASS_VAULT-wal" "$BREAKGLASS_VAULT-shm"
}
DA="(SELECT x.id FROM versions x JOIN secrets s ON s.id = x.secret_id
    WHERE s.name = 'da')"
DB="(SELECT x.id FROM versions x JOIN secrets s ON s.id = x.secret_id
    WHERE s.name = 'db')"

step "the re-keyed version moved back to the link its seal names: refused"
db "UPDATE versions SET chain_seq = 1 WHERE id = $DA"
as tom vault request acme/da --reason r --ticket T --ttl 10m
refused 3 "is not what olga sealed"

step "a version never re-keyed, its link row moved to skip the share hash, a share swapped"
restore
printf 'db-under-link-2\n' >"$T/dbv"
op_in "$T/dbv" vault secret add acme db; ok
cp "$BREAKGLASS_VAULT" "$T/keep.db"
db "UPDATE versions SET chain_seq = 1 WHERE id = $DB;
    UPDATE shares SET blob = randomblob(length(blob)) WHERE id =
      (SELECT min(id) FROM shares WHERE version_id = $DB)"
# A plain share is compared whatever link the row names: refused before
# anyone is asked to approve.
as tom vault request acme/db --reason r --ticket T --ttl 10m
refused 3 "is not what olga sealed"

step "the link row, its hash and policy all moved to link 1, a share swapped"
restore
db "UPDATE versions SET chain_seq = 1,
      chain_head = (SELECT hash FROM links WHERE tenant = 'acme' AND seq = 1),
      policy = '$P1', policy_hash = x'$P1H'
    WHERE id = $DB;
    UPDATE shares SET blob = randomblob(length(blob)) WHERE id =
      (SELECT min(id) FROM shares WHERE version_id = $DB)"
as tom vault request acme/db --reason r --ticket T --ttl 10m
refused 3 "is not what olga sealed"

step "the rows moved alone (no share swapped): the shares, bound to link 2, open nothing"
restore
db "UPDATE versions SET chain_seq = 1,
      chain_head = (SELECT hash FROM links WHERE tenant = 'acme' AND seq = 1),
      policy = '$P1', policy_hash = x'$P1H'
    WHERE id = $DB"
as tom vault request acme/db --reason r --ticket T --ttl 10m; ok
REQ=$(cat "$T/out")
as alice vault approve "$REQ"; refused 3 "does not open"

step "the seal act's tenant or role edited: refused"
restore
db "UPDATE acts SET tenant = 'beta' WHERE id = (SELECT seal_act FROM versions
    WHERE id = $DB)"
as tom vault request acme/db --reason r --ticket T --ttl 10m
refused 3 "is not a seal of acme"
restore
db "UPDATE acts SET role = 1 WHERE id = (SELECT seal_act FROM versions
    WHERE id = $DB)"
as tom vault request acme/db --reason r --ticket T --ttl 10m
refused 3 "is not a seal of acme"

step "with the file as it was, both values open"
restore
request_da
as alice vault approve "$REQ"; ok
as mia vault approve "$REQ"; ok
as tom vault release "$REQ"; ok; expect_out hunter2-domain-admin
echo "seal_rekeyed: all passed"
