#!/bin/sh
# A tenant link may name an older vault link than the one in force (it
# need only be no older than the tenant's previous link): the insider,
# a client approver who alone can grant a requester (client_cosign 1),
# writes with root a link that names the vault link before the one that
# pinned a BLOB reporting his token's model REVOKED, and so enrolls a
# token the vault in force refuses.  The link's signatures are good;
# what must stop it is the trust store in force: a tenant member's
# credential is vetted against it whenever it is to sign (bg_act_sign).
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/lib.sh"
bg_setup

vetted_vault carol dave tom alice bob olga eve

step "root keeps a copy; the custodians then pin a BLOB that reports the model REVOKED"
cp "$BREAKGLASS_VAULT" "$T/pre.db"
as carol vault custodian trust --mds "$T/blob5"; ok
as carol vault chain sign; ok
as dave vault chain sign; ok; expect_out "vault link 2 takes effect now"
with eve vault member add acme eve --role requester
refused 3 "REVOKED"
run vault chain discard acme --as carol
true

step "on his copy, alice grants eve (a token of the revoked model) alone"
REAL=$BREAKGLASS_VAULT
BREAKGLASS_VAULT=$T/pre.db
with eve vault member add acme eve --role requester; ok
as alice vault chain sign acme; ok; expect_out "takes effect now"
BREAKGLASS_VAULT=$REAL

step "root writes that link, naming vault link 1, into the real vault"
db "ATTACH '$T/pre.db' AS p;
    INSERT INTO links SELECT * FROM p.links WHERE tenant = 'acme' AND seq = 2;
    INSERT INTO link_sigs (tenant, seq, person, cred_id, authdata, sig)
      SELECT tenant, seq, person, cred_id, authdata, sig FROM p.link_sigs
      WHERE tenant = 'acme' AND seq = 2;
    INSERT INTO memberships SELECT * FROM p.memberships WHERE person = 'eve';
    INSERT INTO tokens SELECT * FROM p.tokens WHERE membership_id IN
      (SELECT id FROM p.memberships WHERE person = 'eve');"
[ "$(db "SELECT json_extract(body, '\$.vault_seq') FROM links
    WHERE tenant = 'acme' AND seq = 2")" = 1 ] || fail "the link names no vault link 1"

step "eve's revoked token must not count: her request is refused"
as eve vault request acme/da --reason r --ticket T --ttl 10m
[ "$RC" != 0 ] || fail "eve, enrolled with a REVOKED model after the BLOB reported it, requested acme/da"
# refused by the trust store in force, vetted when a token is to sign
expect_err "eve's token cannot sign here"; expect_err "REVOKED"
echo "vetted_oldlink: all passed"
