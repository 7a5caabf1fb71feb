#!/bin/sh
# An approval packet counts only for a token the trust store in force
# vets, exactly as an approval made at the vault (found by a red-team
# review): after the custodians pin a BLOB reporting a model REVOKED,
# bob's token of that model is refused at the vault, and alice's approval
# packet signed with the same model on her own machine (which knows no
# trust store) is refused at import.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/lib.sh"
bg_setup
vetted_vault carol dave tom alice bob mia olga
as alice vault packet card acme --out "$T/alice.card"; ok
request_da
as tom vault packet export "$REQ" --for alice --out "$T/a.req"; ok

step "custodians pin a BLOB reporting the model REVOKED"
as carol vault custodian trust --mds "$T/blob5"; ok
as carol vault chain sign; ok
as dave vault chain sign; ok; expect_out "vault link 2 takes effect now"

step "at the vault, bob's token of that model is refused"
as bob vault approve "$REQ"
refused 3 "bob's token cannot sign here"; expect_err "REVOKED"

step "alice approves on her machine (it knows no trust store); the import refuses"
approve_away alice "$T/alice.card" "$T/a.req" "$T/a.appr"; ok
run vault packet import "$T/a.appr"
refused 3 "alice's token cannot sign here"; expect_err "REVOKED"
[ -z "$(db "SELECT person FROM approvals")" ] || fail "an approval was stored"
echo "remote_vetting: all passed"
