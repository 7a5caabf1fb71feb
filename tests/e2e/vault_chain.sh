#!/bin/sh
# Signed keyset chains with the real vault and software tokens: the
# vault's genesis (custodians carol and dave), a tenant's first link
# (custodian quorum and every client approver it names), and later links
# under the signing rules: approvers and policy (the policy in force plus
# client co-signers), grants and removals of requesters and auditors,
# a second token (one of the person's old tokens), the MSP exception,
# settings.  A policy change on a tenant with sealed secrets is just a
# link: older versions stay sealed under their link and open under its
# policy by approvers still live; a rotation seals under the newest link.
. "$(dirname "$0")/lib.sh"
bg_setup
for p in carol dave tom alice bob mia erin olga; do soft_person $p "pin-$p-1"; done

# release_with NAME...: tom requests acme/da, NAMEs approve, tom releases;
# the value is $VAL.  Leaves the version spent: rotate after.
release_with() {
	new_request
	for _a in "$@"; do as "$_a" vault approve "$REQ"; ok; done
	as tom vault release "$REQ"; ok
	[ "$(cat "$T/out")" = "$VAL" ] || fail "released $(cat "$T/out"), not $VAL"
}

# rotate_to VALUE: a new version of acme/da, sealed under the newest link.
rotate_to() {
	VAL=$1
	printf '%s\n' "$VAL" >"$T/v"
	op_in "$T/v" vault rotate begin acme/da; ok
	op vault rotate commit acme/da; ok
}

# in_force NAME...: member list (links in force) has exactly these people.
in_force() {
	run vault member list acme --json; ok
	python3 - "$T/out" "$@" <<'PY' || fail "members in force are not: $*"
import json, sys
got = sorted({m["person"] for m in json.load(open(sys.argv[1]))["members"]})
want = sorted(set(sys.argv[2:]))
if got != want:
    sys.stderr.write("members in force: %r, expected %r\n" % (got, want))
    sys.exit(1)
PY
}

step "genesis: carol creates the vault and its draft; nothing is in force"
run vault --token "$(token carol)" --pin-file "$T/carol.pin" \
    init --allow-soft-tokens --as carol
ok; expect_out "first custodian:  carol"; expect_out "custodian quorum: 2"
expect_err "two touches"
as carol vault tenant add acme; refused 1 "the vault's genesis is not signed yet"
run vault --token "$(token dave)" --pin-file "$T/dave.pin" custodian add dave
ok; expect_out "dave enrolled as a custodian in the genesis draft"
expect_event custodian.add dave
run vault --token "$(token dave)" --pin-file "$T/dave.pin" custodian add dave
refused 1 "dave is a custodian of this genesis already"
run vault chain show; ok
expect_out "in force: nothing yet"; expect_out "draft:    genesis 0"
expect_out "software tokens: allowed (drill vault)"
expect_out "+ custodian carol"; expect_out "+ custodian dave"
expect_out "signed by: nobody yet"
expect_out "a signature by carol"; expect_out "a signature by dave"

step "genesis: only its custodians sign it; it takes effect with the last"
as tom vault chain sign; refused 1 "tom holds no credential"
run vault --token "$(token tom)" --pin-file "$T/tom.pin" chain sign --as carol
refused 3 "vault: chain sign"
as carol vault chain sign; ok
expect_out "carol signed; the draft still needs: a signature by dave"
expect_event chain.sign carol
as carol vault tenant add acme; refused 1 "the vault's genesis is not signed yet"
as dave vault chain sign; ok; expect_out "takes effect now"
expect_event vault.genesis '"signed_by": "carol, dave"'
run vault chain show; ok; expect_out "in force: genesis 0"; expect_no_out "draft:"
as dave vault chain sign; refused 4 "there is no draft to sign"
# after the genesis, custodians change by vault links (custodians.sh)
run vault --token "$(token erin)" --pin-file "$T/erin.pin" custodian add erin
ok; expect_out "erin enrolled as a custodian in the vault's draft"
run vault chain show; ok
expect_out "in force: genesis 0"; expect_out "draft:    vault link 1"
expect_out "+ custodian erin"
expect_out "still needs: a custodian quorum (2 more of: carol, dave)"
as carol vault chain discard; ok

step "tenant acme: its first link is a draft until it is signed"
as carol vault tenant add acme; ok; expect_out "its draft link takes effect when it is signed"
as_enroll tom requester
as_enroll olga operator
expect_err "three touches"
expect_out "in the draft link"
for p in alice bob mia; do as_enroll $p approver; done
expect_out "mia enrolled as msp approver of acme"
run vault member add acme erin --role approver; expect_rc 2
expect_err "an approver needs --side client"
run vault member add acme erin --role requester --side client; expect_rc 2
expect_err "only approvers have a --side"
as carol vault policy set acme 'all-of(1-of(alice,bob),1-of(mia))'; ok
expect_out "set in its draft link"
in_force
run vault member list acme; ok; expect_out "no members in acme"
printf 'too-early\n' >"$T/v"
op_in "$T/v" vault secret add acme early; refused 1 "vault: secret add acme/early"
run vault chain show acme; ok
expect_out "in force: nothing yet"; expect_out "draft:    link 1"
expect_out "+ requester tom"; expect_out "+ client approver alice"
expect_out "+ msp approver mia"
expect_out "policy: 2-of(1-of(alice,bob),1-of(mia))"
expect_out "client co-signers 1"
expect_out "a custodian quorum (2 more of: carol, dave)"
expect_out "a signature by alice (client approver named by this link)"
expect_out "a signature by bob (client approver named by this link)"
expect_no_out "a signature by mia"

step "first link: the custodian quorum and every client approver it names"
as carol vault chain sign acme; ok
expect_out "a custodian quorum (1 more of: dave)"
as carol vault chain sign acme; ok	# again: she counts once
expect_out "a custodian quorum (1 more of: dave)"
as mia vault chain sign acme; ok; expect_out "still needs"
as tom vault chain sign acme; ok; expect_out "still needs"
as dave vault chain sign acme; ok; expect_out "still needs: a signature by alice"
as alice vault chain sign acme; ok
expect_out "alice signed; the draft still needs: a signature by bob"
in_force
as bob vault chain sign acme; ok
expect_out "bob signed; link 1 of acme takes effect now"
expect_event chain.link '"note": "first link of acme"'
in_force tom olga alice bob mia
run vault chain show acme; ok; expect_out "in force: link 1"; expect_no_out "draft:"
VAL=hunter2-domain-admin
printf '%s\n' "$VAL" >"$T/v"
op_in "$T/v" vault secret add acme da; ok
release_with alice mia
rotate_to second-value

step "a draft's new members are not in force; discard drops the draft"
soft_person ted pin-ted-1
as_enroll ted requester
in_force tom olga alice bob mia
as ted vault request acme/da --reason r --ticket T --ttl 1h
refused 1 "vault: request acme/da"
as carol vault chain discard acme; ok
as carol vault chain discard acme; refused 4 "has no draft"
run vault chain show acme; ok; expect_no_out "draft:"; expect_no_out "requester ted"

step "a grant: a client approver co-signs, never the grantee"
# alice is granted the auditor role: her own signature does not count
as_enroll alice auditor
as alice vault chain sign acme; ok; expect_out "still needs"
as mia vault chain sign acme; ok; expect_out "still needs"
in_force tom olga alice bob mia
run vault member list acme --person alice --json; ok
expect_no_out '"auditor"'
as bob vault chain sign acme; ok; expect_out "link 2 of acme takes effect now"
run vault member list acme --person alice --json; ok; expect_out '"auditor"'

step "a removal of a requester or auditor: one client approver"
as carol vault member remove acme alice --role auditor; ok
expect_out "removed from the draft link"
as mia vault chain sign acme; ok; expect_out "still needs"
as bob vault chain sign acme; ok; expect_out "link 3 of acme takes effect now"
run vault member list acme --person alice --json; ok
expect_no_out '"auditor"'

step "a new approver and a new policy: the policy in force signs, plus a client approver"
as_enroll erin approver
as carol vault policy set acme 'all-of(1-of(alice,bob,erin),1-of(mia))'; ok
run vault chain show acme; ok
expect_out "+ client approver erin"
expect_out "policy: 2-of(1-of(alice,bob,erin),1-of(mia))  (changed)"
expect_out "the policy in force"
# erin is not an approver of the link in force: her signature counts for
# nothing yet; nor do the custodians', past the first link
as erin vault chain sign acme; ok; expect_out "still needs"
as carol vault chain sign acme; ok; expect_out "still needs"
as dave vault chain sign acme; ok; expect_out "still needs"
as mia vault chain sign acme; ok; expect_out "still needs"
run vault policy show acme; ok; expect_out "2-of(1-of(alice,bob),1-of(mia))"
as alice vault chain sign acme; ok; expect_out "link 4 of acme takes effect now"
expect_event chain.link '"policy": "2-of(1-of(alice,bob,erin),1-of(mia))"'
run vault policy show acme; ok; expect_out "2-of(1-of(alice,bob,erin),1-of(mia))"

step "the version sealed before stays under its link: erin cannot open it"
new_request
as erin vault approve "$REQ"; refused 1 "vault: approve $REQ"
expect_event refused erin
as bob vault approve "$REQ"; ok
as mia vault approve "$REQ"; ok
as tom vault release "$REQ"; ok; expect_out second-value
step "a rotation seals under the newest link: erin opens her share"
rotate_to third-value
release_with erin mia

step "an approver named by the policy is removed with the policy that drops them"
rotate_to fourth-value	# sealed under link 4, bob named
as carol vault member remove acme bob
refused 1 "bob is named by the draft's policy of acme"
expect_event refused "member.remove"
as carol vault policy set acme 'all-of(1-of(alice,erin),1-of(mia))'; ok
as carol vault member remove acme bob; ok
run vault chain show acme; ok; expect_out "- client approver bob"
# bob's own signature does not count for the link that removes him
as bob vault chain sign acme; ok; expect_out "still needs"
as mia vault chain sign acme; ok; expect_out "still needs"
as erin vault chain sign acme; ok; expect_out "link 5 of acme takes effect now"
in_force tom olga alice mia erin
step "bob's token opens nothing afterwards, not even the version sealed with him"
new_request
as bob vault approve "$REQ"; refused 1 "vault: approve $REQ"
expect_event refused bob
as alice vault approve "$REQ"; ok
as mia vault approve "$REQ"; ok
as tom vault release "$REQ"; ok; expect_out fourth-value

step "raise a threshold, then lower it: each a link the policy in force signs"
as carol vault policy set acme '3-of(alice,erin,mia)'; ok
as alice vault chain sign acme; ok; expect_out "still needs"
as mia vault chain sign acme; ok; expect_out "link 6 of acme takes effect now"
rotate_to fifth-value
new_request
as alice vault approve "$REQ"; ok
as erin vault approve "$REQ"; ok
as tom vault release "$REQ"; refused 1 "needs 1 more from: mia"
as mia vault approve "$REQ"; ok
as tom vault release "$REQ"; ok; expect_out fifth-value
as carol vault policy set acme '2-of(alice,erin,mia)'; ok
as alice vault chain sign acme; ok; expect_out "still needs"
as mia vault chain sign acme; ok; expect_out "still needs"
as erin vault chain sign acme; ok; expect_out "link 7 of acme takes effect now"
rotate_to sixth-value
release_with alice erin

step "amending a draft drops the signatures on it"
as carol vault tenant set acme --max-ttl 2h; ok
as alice vault chain sign acme; ok
run vault chain show acme; ok; expect_out "signed by: alice"
as carol vault tenant set acme --max-ttl 3h; ok
run vault chain show acme; ok; expect_out "signed by: nobody yet"
expect_out "max TTL 10800s"
as carol vault chain discard acme; ok

step "settings: more client co-signers, signed by the policy in force"
as carol vault tenant set acme --client-cosign 2; ok
run vault chain show acme; ok; expect_out "client co-signers 2"
as mia vault chain sign acme; ok; expect_out "still needs"
as alice vault chain sign acme; ok; expect_out "link 8 of acme takes effect now"
# a grant now needs two client approvers
soft_person uma pin-uma-1
as_enroll uma requester
as alice vault chain sign acme; ok; expect_out "still needs"
as mia vault chain sign acme; ok; expect_out "still needs"
in_force tom olga alice mia erin
as erin vault chain sign acme; ok; expect_out "link 9 of acme takes effect now"
in_force tom olga alice mia erin uma

step "a second token: one of the person's old tokens signs too"
soft_person alice2 pin-alice2-1
run vault --token "$(token alice2)" --pin-file "$T/alice2.pin" \
    member add acme alice --role approver --side client --label alice-spare
ok
run vault chain show acme; ok
expect_out "for alice's new credential"
as erin vault chain sign acme; ok; expect_out "still needs"
as mia vault chain sign acme; ok; expect_out "still needs"
# her new token cannot vouch for itself
run vault --token "$(token alice2)" --pin-file "$T/alice2.pin" \
    chain sign acme --as alice
ok; expect_out "still needs"
as alice vault chain sign acme; ok; expect_out "link 10 of acme takes effect now"
run vault member list acme --person alice; ok; expect_out alice-spare

step "a policy MSP approvers alone could meet needs a signed exception"
soft_person max pin-max-1
as_enroll max approver acme msp
as carol vault policy set acme '2-of(alice,mia,max)'
refused 1 "MSP approvers alone could meet this policy"
expect_err "--exception REASON --exception-until TIME"
as carol vault policy set acme '2-of(alice,mia,max)' --exception "MSP night shift"
expect_rc 2; expect_err "go together"
as carol vault policy set acme '2-of(alice,mia,max)' --exception "MSP night shift" \
    --exception-until -1d
refused 1 "the exception must end in the future"
as carol vault policy set acme '2-of(alice,mia,max)' --exception "MSP night shift" \
    --exception-until +30d
ok
run vault chain show acme; ok
expect_out "exception (MSP may approve its own access) until"
expect_out "MSP night shift"
for s in mia erin; do as $s vault chain sign acme; ok; expect_out "still needs"; done
as alice vault chain sign acme; ok; expect_out "link 11 of acme takes effect now"
expect_event chain.link '"policy": "2-of(alice,mia,max)"'
rotate_to seventh-value
release_with mia max

step "the chain verifies after all this; the log too"
run vault chain show acme --json; ok
expect_out '"seq": 11'; expect_out '"draft": false'
run vault audit verify; ok
echo "chain: all passed"
