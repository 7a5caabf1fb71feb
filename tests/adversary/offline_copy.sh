#!/bin/sh
# The insider's second machine: his own program, linked against the
# engine's library, on a copy of the vault file, with his own token.
# It skips every check and tries every share with every key his token
# can give for any salt in the file.  Nothing opens.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/lib.sh"
ADV=$BG_BUILD/adversary/adv_offline
[ -x "$ADV" ] || fail "$ADV not built"
bg_setup
adv_vault
op_in "$T/value" vault secret add acme db; ok

step "tom, alone, on a copy: no share opens"
cp "$BREAKGLASS_VAULT" "$T/copy.db"
run "$ADV" "$T/copy.db" "$(token tom)" "$T/tom.pin" tom; ok
expect_out ", 0 opened"

step "... nor after he enrolled his token under alice's name in a draft"
with tom vault member add acme alice --role approver --side client; ok
cp "$BREAKGLASS_VAULT" "$T/copy.db"
# the draft's membership rows do not exist until it takes effect: put his
# credential in alice's rows himself, as root on the copy
sqlite3 "$T/copy.db" "UPDATE memberships SET person = 'alice' WHERE person = 'tom'"
run "$ADV" "$T/copy.db" "$(token tom)" "$T/tom.pin" alice; ok
expect_out ", 0 opened"

step "the check is real: alice's own token opens her shares"
run "$ADV" "$BREAKGLASS_VAULT" "$(token alice)" "$T/alice.pin" alice
expect_rc 1
expect_out "opened"
expect_no_out ", 0 opened"
echo "offline_copy: all passed"
