#!/bin/sh
# A red-team review of remote approval (issue 13), as the insider: root
# on the vault file and the packets it writes and reads, holder of his
# own token and PIN.  Each attack here is refused; the ones that were
# not are described in the review's report, not asserted here.
#  approver's machine:
#  - a card used with another person's token; a packet for another
#    approver carrying her shares (his card, his token);
#  - the statement and signature of another request in a packet;
#  - tenant links reordered or duplicated; a link signature moved from
#    one link onto another; a draft short of its signatures as a link;
#  - a genesis carrying one custodian's signature twice; another
#    vault's (validly signed) genesis; a vault link after the card
#    edited to drop a custodian; a vault draft that removes a custodian,
#    signed by one custodian only, offered as the next vault link;
#  - the approver's own clock past the deadline;
#  - a fork of the log at the witnessed size (same size, other root);
#  - nothing is signed, logged (issued.log) or witnessed on a refusal;
#  import at the vault:
#  - the same approval twice; a denial turned into an approval;
#  - the request key swapped in the file after the packet was written;
#  - a cloned token (a signature whose counter is not past the one the
#    vault knew when it wrote the packet); packets of two requests
#    imported in the other order than signed are both counted;
#  - an approval after the version was rotated.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/lib.sh"
bg_setup
adv_vault
printf 'second-secret\n' >"$T/value2"
op_in "$T/value2" vault secret add acme db; ok
# the insider's clone of alice's token, taken now (counter as it is now)
cp "$T/alice.state" "$T/clone.state"
soft_start clone
pin_file clone pin-alice-1
as alice vault packet card acme --out "$T/alice.card"; ok
as bob vault packet card acme --out "$T/bob.card"; ok
STATE=$T/alice-machine/home/.local/state/breakglass

# nothing_issued FILE: the refused packet left no approval, no line in
# alice's issued.log and no witness state moved.
nothing_issued() {
	[ ! -e "$1" ] || fail "an approval was written: $1"
	[ "$(cat "$STATE/issued.log" 2>/dev/null | wc -l)" = "$ISSUED" ] ||
	    fail "issued.log has a line for a refused packet"
	[ "$(cat "$STATE"/witness-* 2>/dev/null)" = "$WIT" ] ||
	    fail "the witness state moved on a refused packet"
}
ISSUED=0
WIT=

# after the cards: a second tenant link (ray joins, alice co-signs) and a
# second vault link (erin joins the custodians)
soft_person ray pin-ray-1
with ray vault member add acme ray --role requester; ok
as alice vault chain sign acme; ok; expect_out "takes effect now"
soft_person erin pin-erin-1
with erin vault custodian add erin; ok
as carol vault chain sign; ok
as dave vault chain sign; ok; expect_out "vault link 1 takes effect now"
request_da
R1=$REQ
as tom vault request acme/db --reason "restore INC-10" --ticket INC-10 \
    --ttl 1h; ok
R2=$(cat "$T/out")
as tom vault packet export "$R1" --for alice --out "$T/a.req"; ok
as tom vault packet export "$R2" --for alice --out "$T/a2.req"; ok

step "a card used with another person's token"
approve_away bob "$T/alice.card" "$T/a.req" "$T/x.appr"
# approve_away uses NAME's token: bob's token, alice's card
refused_away "this token holds none of alice's credentials on the card"
nothing_issued "$T/x.appr"

step "bob's packet carrying alice's shares: bob's card and token"
as tom vault packet export "$R1" --for bob --out "$T/b.req"; ok
python3 - "$T/b.req" "$T/a.req" "$T/x.req" <<'PY'
import json, sys
b = json.load(open(sys.argv[1])); a = json.load(open(sys.argv[2]))
b["shares"] = a["shares"]
open(sys.argv[3], "w").write(json.dumps(b, sort_keys=True,
    separators=(",", ":"), ensure_ascii=False) + "\n")
PY
rm -f "$T/x.appr"
away bob approve --card "$T/bob.card" --packet "$T/x.req" --out "$T/x.appr" \
    --token "$(token bob)" --pin-file "$T/bob.pin"
refused_away "holds no share sealed to a credential on your card"
[ ! -e "$T/x.appr" ] || fail "bob approved with alice's shares"

step "the statement and signature of another request"
python3 - "$T/a.req" "$T/a2.req" "$T/x.req" <<'PY'
import json, sys
a = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))
a["statement"] = b["statement"]; a["requester_sig"] = b["requester_sig"]
open(sys.argv[3], "w").write(json.dumps(a, sort_keys=True,
    separators=(",", ":"), ensure_ascii=False) + "\n")
PY
approve_away alice "$T/alice.card" "$T/x.req" "$T/x.appr"
refused_away "the statement names another vault, tenant or request"
nothing_issued "$T/x.appr"

step "tenant links and vault links rearranged, forged or short of signatures"
# a tenant draft nobody signed: eve as a new client approver
soft_person eve pin-eve-1
with eve vault member add acme eve --role approver --side client; ok
TDRAFT=$(db "SELECT body FROM drafts WHERE tenant = 'acme'")
as carol vault chain discard acme; ok
# a vault draft removing dave, signed by carol alone (quorum 2)
as carol vault custodian remove dave; ok
as carol vault chain sign; ok
expect_no_out "takes effect now"
VDRAFT=$(db "SELECT body FROM drafts WHERE tenant = ''")
VSIG=$(db "SELECT json_object('person', person, 'cred_id', lower(hex(cred_id)),
    'authdata', lower(hex(authdata)), 'sig', lower(hex(sig)))
    FROM draft_sigs WHERE tenant = ''")
as carol vault chain discard; ok
export TDRAFT VDRAFT VSIG
n=0
while IFS='|' read -r what expr why; do
	n=$((n + 1))
	tamper "$T/a.req" "$T/t$n.req" "$expr"
	approve_away alice "$T/alice.card" "$T/t$n.req" "$T/t$n.appr"
	refused_away "$why"
	nothing_issued "$T/t$n.appr"
	echo "  refused: $what"
done <<'CASES'
tenant links reordered|p["links"] = p["links"][::-1]|not consecutive links of acme
a tenant link duplicated|p["links"] = p["links"] + p["links"][-1:]|not consecutive links of acme
the card's link signature moved onto the next link|p["links"][-1]["sigs"] = [s for s in p["links"][0]["sigs"] if s["person"] == "alice"]|link 2 of acme does not verify
an unsigned draft as the newest link|import os; p["links"] = p["links"] + [{"body": os.environ["TDRAFT"], "sigs": []}]|link 3 of acme does not verify
the genesis with carol's signature twice|s = [x for x in p["vault_links"][0]["sigs"] if x["person"] == "carol"][0]; p["vault_links"][0]["sigs"] = [s, dict(s)]|needs: a signature by dave
vault link 1 edited to drop dave|import json as J; b = J.loads(p["vault_links"][1]["body"]); n = len(b["members"]); b["members"] = [m for m in b["members"] if m["person"] != "dave"]; assert len(b["members"]) == n - 1; p["vault_links"][1]["body"] = J.dumps(b, sort_keys=True, separators=(",", ":"), ensure_ascii=False)|vault link 1 does not verify
a vault draft removing dave, signed by carol alone|import os, json as J; p["vault_links"] = p["vault_links"] + [{"body": os.environ["VDRAFT"], "sigs": [J.loads(os.environ["VSIG"])]}]|vault link 2 does not verify
a vault link duplicated|p["vault_links"] = p["vault_links"] + p["vault_links"][-1:]|vault link 2 is out of place
CASES
echo "  $n rearranged or forged chains refused"

step "another vault's genesis, validly signed by its own custodians"
REAL=$BREAKGLASS_VAULT
BREAKGLASS_VAULT=$T/other.db
as carol vault init --allow-soft-tokens; ok
with dave vault custodian add dave; ok
as carol vault chain sign; ok
as dave vault chain sign; ok
OG=$(db "SELECT body FROM links WHERE tenant = '' AND seq = 0")
OSIGS=$(db "SELECT json_group_array(json_object('person', person,
    'cred_id', lower(hex(cred_id)), 'authdata', lower(hex(authdata)),
    'sig', lower(hex(sig)))) FROM link_sigs WHERE tenant = '' AND seq = 0")
BREAKGLASS_VAULT=$REAL
export OG OSIGS
tamper "$T/a.req" "$T/x.req" 'import os, json as J
p["vault_links"] = [{"body": os.environ["OG"], "sigs": J.loads(os.environ["OSIGS"])}]'
approve_away alice "$T/alice.card" "$T/x.req" "$T/x.appr"
refused_away "the packet's genesis is not the one on your card"
nothing_issued "$T/x.appr"

step "the approver's own clock says the deadline has passed"
command -v faketime >/dev/null 2>&1 ||
    fail "faketime is not installed (scripts/install-deps installs it)"
rm -f "$T/x.appr"
mkdir -p "$T/alice-machine/home"
RC=0
# (an ASan build must not insist on being first in the preload list)
( cd "$T/alice-machine" && unset BREAKGLASS_VAULT XDG_STATE_HOME \
    XDG_DATA_HOME && HOME=$T/alice-machine/home \
    ASAN_OPTIONS=${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}verify_asan_link_order=0 \
    faketime '+2 days' \
    "$TOKENCTL_BIN" approve --card "$T/alice.card" --packet "$T/a.req" \
    --out "$T/x.appr" --token "$(token alice)" \
    --pin-file "$T/alice.pin" ) >"$T/out" 2>"$T/err" </dev/null || RC=$?
refused_away "expired at"
expect_err "by this machine's clock"
nothing_issued "$T/x.appr"

step "the honest packets, signed in the order R1, R2 by alice"
approve_away alice "$T/alice.card" "$T/a.req" "$T/a.appr"; ok
approve_away alice "$T/alice.card" "$T/a2.req" "$T/a2.appr"; ok
[ "$(wc -l <"$STATE/issued.log")" = 2 ] || fail "issued.log: not 2 lines"
H=$(python3 -c 'import hashlib, json, sys
print(hashlib.sha256(json.load(open(sys.argv[1]))["statement"].encode()).hexdigest())' "$T/a.appr")
grep -q "request=$R1 person=alice approve statement=$H " "$STATE/issued.log" ||
    fail "issued.log does not name the statement alice signed"
ISSUED=2
WIT=$(cat "$STATE"/witness-*)

step "import: a denial turned into an approval"
as tom vault packet export "$R1" --for alice --out "$T/d.req"; ok
away alice deny --card "$T/alice.card" --packet "$T/d.req" --out "$T/d.appr" \
    --reason "not now" --token "$(token alice)" --pin-file "$T/alice.pin"; ok
ISSUED=3
WIT=$(cat "$STATE"/witness-*)
python3 - "$T/d.appr" "$T/a.appr" "$T/x.appr" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); a = json.load(open(sys.argv[2]))
d["decision"] = "approve"; d["reason"] = ""; d["resealed"] = a["resealed"]
open(sys.argv[3], "w").write(json.dumps(d, sort_keys=True,
    separators=(",", ":"), ensure_ascii=False) + "\n")
PY
KEEP=$(db "SELECT count(*) FROM approvals")
run vault packet import "$T/x.appr"
refused 3 "alice's signature on this statement does not verify"
[ "$(db "SELECT count(*) FROM approvals")" = "$KEEP" ] || fail "stored"

step "import: the request key swapped in the file after the packet was written"
cp "$BREAKGLASS_VAULT" "$T/keep.db"
db "UPDATE requests SET req_pk = randomblob(32) WHERE id = $R1"
run vault packet import "$T/a.appr"
[ "$RC" -ne 0 ] || fail "imported onto a swapped request key"
expect_err "is not what tom signed"
[ "$(db "SELECT count(*) FROM approvals")" = "$KEEP" ] || fail "stored"
rm -f "$BREAKGLASS_VAULT-wal" "$BREAKGLASS_VAULT-shm"
cp "$T/keep.db" "$BREAKGLASS_VAULT"

step "import out of order (R2 first), then the same packet again"
run vault packet import "$T/a2.appr"; ok
run vault packet import "$T/a.appr"; ok
expect_out "request $R1 approved"
run vault packet import "$T/a.appr"
refused 1 "alice already approved request $R1"
[ "$(db "SELECT count(*) FROM approvals WHERE person = 'alice'")" = 2 ] ||
    fail "not one approval per request"

step "a cloned token: its counter is not past the vault's at export"
as tom vault request withdraw "$R2"; ok
as tom vault request acme/db --reason "restore INC-11" --ticket INC-11 \
    --ttl 1h; ok
R3=$(cat "$T/out")
as tom vault packet export "$R3" --for alice --out "$T/c.req"; ok
rm -f "$T/c.appr"
mkdir -p "$T/insider/home"
( cd "$T/insider" && HOME=$T/insider/home "$TOKENCTL_BIN" approve \
    --card "$T/alice.card" --packet "$T/c.req" --out "$T/c.appr" \
    --token "$(token clone)" --pin-file "$T/clone.pin" ) >/dev/null 2>&1 ||
    fail "the clone did not sign"
run vault packet import "$T/c.appr"
refused 3 "the token may have been cloned"
[ "$(db "SELECT count(*) FROM approvals WHERE request_id = $R3")" = 0 ] ||
    fail "the clone's approval was stored"

step "an approval after the version was rotated"
as tom vault packet export "$R3" --for bob --out "$T/b3.req"; ok
away bob approve --card "$T/bob.card" --packet "$T/b3.req" --out "$T/b3.appr" \
    --token "$(token bob)" --pin-file "$T/bob.pin"; ok
op_in "$T/value2" vault rotate begin acme/db; ok
op vault rotate commit acme/db; ok
run vault packet import "$T/b3.appr"
refused 1 "the approval packet is stale"

step "the log forked at the witnessed size: same size, another root"
cp "$BREAKGLASS_VAULT" "$T/fork.db"
as tom vault packet export "$R1" --for alice --out "$T/w1.req"; ok
approve_away alice "$T/alice.card" "$T/w1.req" "$T/w1.appr"; ok
ISSUED=$((ISSUED + 1))
WIT=$(cat "$STATE"/witness-*)
SEEN=$(echo "$WIT" | sed 's/.* size=\([0-9]*\) .*/\1/')
rm -f "$BREAKGLASS_VAULT" "$BREAKGLASS_VAULT-wal" "$BREAKGLASS_VAULT-shm"
cp "$T/fork.db" "$BREAKGLASS_VAULT"
sleep 1.1
as tom vault packet export "$R1" --for alice --out "$T/w2.req"; ok
[ "$(db 'SELECT max(seq) FROM events')" = "$SEEN" ] ||
    fail "the fork is not at the witnessed size"
approve_away alice "$T/alice.card" "$T/w2.req" "$T/w2.appr"
refused_away "does not extend the largest tree head this machine has checked (size $SEEN)"
nothing_issued "$T/w2.appr"
step "terminal escapes in a packet's names are refused as not names, and never echoed"
tamper "$T/a.req" "$T/esc.req" 'p["for"] = "\u001b[1A\r\u001b[2Kapproval written to a.appr\u001b[8m"'
sed -i 's/\\u001b/\\u001B/g' "$T/esc.req"
approve_away alice "$T/alice.card" "$T/esc.req" "$T/esc.appr"
[ "$RC" -ne 0 ] || fail "a packet naming an escape sequence was accepted"
expect_err "is not a name"
! grep -q "$(printf '\033')" "$T/err" || fail "an escape reached the terminal"
[ ! -e "$T/esc.appr" ] || fail "an approval was written"
echo "remote_redteam: all passed"
