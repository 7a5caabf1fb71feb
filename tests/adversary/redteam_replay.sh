#!/bin/sh
# Red team: a signature outlives the discard of its draft.  A policy
# change that drops bob is drafted; alice signs it, then thinks better of
# it and discards the draft (`vault chain discard`, logged as
# chain.discard).  tom, root over the file, had kept the draft row and
# alice's signature row; he puts both back (the log is untouched).  A
# signature is bound to the draft's hash and nothing else, and nothing
# compares a draft with the discards and amendments the log records, so
# when mia signs -- the draft says "signed by: alice" -- the change alice
# withdrew takes effect with alice's signature on it.
#
# Safe behaviour asserted: a draft that was discarded does not take
# effect on signatures collected before the discard.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/lib.sh"
bg_setup
adv_vault

step "a policy without bob is drafted; alice signs it"
as carol vault policy set acme '2-of(alice,mia)'; ok
as alice vault chain sign acme; ok
still_needs acme

step "tom keeps a copy of the draft and of alice's signature"
db "CREATE TABLE x_draft AS SELECT * FROM drafts WHERE tenant = 'acme'"
db "CREATE TABLE x_sigs AS SELECT * FROM draft_sigs WHERE tenant = 'acme'"

step "alice changes her mind and discards the draft"
as carol vault chain discard acme; ok
expect_event chain.discard

step "tom puts the draft and alice's signature back; mia signs"
db "INSERT INTO drafts SELECT * FROM x_draft"
db "INSERT INTO draft_sigs SELECT * FROM x_sigs"
db "DROP TABLE x_draft"; db "DROP TABLE x_sigs"
run vault chain show acme; ok
expect_out "signed by: alice"
as mia vault chain sign acme
if [ "$(head_seq acme)" != 1 ]; then
	run vault policy show acme
	fail "the discarded draft took effect on alice's withdrawn signature (policy now: $(cat "$T/out"))"
fi
echo "redteam_replay: all passed"
