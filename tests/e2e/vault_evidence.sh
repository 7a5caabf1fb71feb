#!/bin/sh
# vault evidence export | verify: a bundle verified in another directory
# with the vault file gone; every kind of tampering caught and named.
. "$(dirname "$0")/lib.sh"
bg_setup

step "an incident: request, approvals, release; a denied request too"
std_vault
new_request
REQ1=$REQ
as bob vault deny "$REQ1" --reason "not an outage"; ok
new_request
as alice vault approve "$REQ"; ok
as mia vault approve "$REQ"; ok
as tom vault release "$REQ" --out "$T/value.out"; ok

step "a receipt for the paper log book, computed independently"
RECEIPT=$(sqlite3 "$BREAKGLASS_VAULT" "SELECT entry FROM events ORDER BY seq" |
    python3 -c '
import sys, hashlib, binascii
def mth(l):
    if len(l) == 1: return l[0]
    k = 1
    while 2 * k < len(l): k *= 2
    return hashlib.sha256(b"\x01" + mth(l[:k]) + mth(l[k:])).digest()
leaves = [hashlib.sha256(b"\x00" + x.rstrip(b"\n")).digest() for x in sys.stdin.buffer]
body = "BG1-%d-%s" % (len(leaves), mth(leaves).hex()[:16])
print("%s-%04x" % (body, binascii.crc_hqx(body.encode(), 0)))')
[ -n "$RECEIPT" ] || fail "no receipt"

step "export"
as carol vault evidence export --request "$REQ" --out "$T/bundle.json" --receipt "$RECEIPT"
ok; expect_err "written to"
expect_event evidence.export
python3 - "$T/bundle.json" <<'PY' || fail "a signer's token carries no attestation"
import json, sys
b = json.load(open(sys.argv[1]))
toks = b["tokens"]
assert toks, "no tokens"
for t in toks:
    a = t["attestation"]
    assert a is not None and len(a["authdata"]) >= 74 and a["stmt"], t["person"]
PY
as carol vault evidence export --request "$REQ" --out "$T/bundle.json"
refused 1 "already exists"
as carol vault evidence export --request "$REQ1" --out "$T/denied.json"; ok
as carol vault evidence export --request 999 --out "$T/none.json"; refused 4 "999"
[ ! -e "$T/none.json" ] || fail "a bundle for no request"
as carol vault evidence export --out "$T/x.json"; expect_rc 2

step "copy elsewhere, remove the vault, verify"
mkdir "$T/auditor"
cp "$T/bundle.json" "$T/denied.json" "$T/auditor/"
PK=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["vault_public_key"])' "$T/auditor/bundle.json")
rm -f "$BREAKGLASS_VAULT" "$BREAKGLASS_VAULT"-* "$BREAKGLASS_VAULT".key
B=$T/auditor/bundle.json
# verified: the bundle verified, every check passed (each token with the
# chain link that put it in force).
verified() {
	ok
	expect_out "evidence: PASS"
	expect_no_out "FAIL"
}
run vault evidence verify "$B" --pubkey "$PK" --receipt "$RECEIPT"; verified
expect_no_out "NOTE"
for s in "PASS tree head signature" "PASS bundle signature" \
    "(request by tom) is in the log" "(approve by alice) is in the log" \
    "(release by tom) is in the log" \
    "PASS approve by mia: token signature over the statement" \
    "PASS approve by alice: statement agrees with event" \
    "PASS request by tom: token signature over the statement" \
    "PASS token" "was enrolled in the log" "PASS the tree head extends receipt" \
    "PASS the report agrees with the events"; do
	expect_out "$s"
done
run vault evidence verify "$B"; verified; expect_out "NOTE the vault key $PK"
run vault evidence verify "$T/auditor/denied.json" --pubkey "$PK"; verified
expect_out "PASS deny by bob: token signature over the statement"

# tamper WHAT PYTHON-EXPR: copy the bundle, apply the edit to b (the parsed
# bundle), write it back; verify must fail and name WHAT.
tamper() {
	python3 - "$B" "$T/auditor/t.json" "$2" <<'PY' || fail "tamper script"
import json, sys
b = json.load(open(sys.argv[1]))
def flip(h, i=10):
    return h[:i] + ("0" if h[i] != "0" else "1") + h[i + 1:]
def ev(action):
    return [e for e in b["events"] if json.loads(e["entry"])["action"] == action][0]
def asr(person):
    return [a for a in b["assertions"] if a["person"] == person][0]
exec(sys.argv[3])
json.dump(b, open(sys.argv[2], "w"), indent=1, sort_keys=True)
PY
	run vault evidence verify "$T/auditor/t.json" --pubkey "$PK"
	expect_rc 1
	expect_out "evidence: FAIL"
	expect_out "FAIL $1"
	expect_err "does not verify"
}

step "tampering: an event, a proof, a signature, a statement, a key, the head"
SEQ=$(python3 -c 'import json,sys; b=json.load(open(sys.argv[1])); print([json.loads(e["entry"])["seq"] for e in b["events"] if json.loads(e["entry"])["action"]=="request"][0])' "$B")
tamper "event $SEQ (request by tom) is in the log" \
    'e = ev("request"); e["entry"] = e["entry"].replace("outage", "Outage")'
expect_out "FAIL bundle signature"
tamper "event $((SEQ + 2)) (approve by mia) is in the log" \
    'e = ev("approve"); e = [x for x in b["events"] if "\"mia\"" in x["entry"] and "approve" in x["entry"]][0]; e["proof"][0] = flip(e["proof"][0])'
tamper "approve by alice: token signature over the statement" \
    'a = asr("alice"); a["signature"] = flip(a["signature"], 20)'
tamper "approve by alice: statement agrees with event" \
    'a = asr("alice"); a["statement"] = a["statement"].replace("reason: outage", "reason: routine")'
expect_out "FAIL approve by alice: token signature over the statement"
tamper "request by tom: token signature over the statement" \
    't = [x for x in b["tokens"] if x["person"] == "tom"][0]; t["public_key"] = flip(t["public_key"], 30)'
tamper "tree head signature" \
    'b["tree_head"] = b["tree_head"].replace(" time=", " time=1", 1)'
tamper "every approval event has its token assertion" \
    'b["assertions"] = [a for a in b["assertions"] if a["person"] != "mia"]'
tamper "the report agrees with the events" \
    'b["report"]["incidents"][0]["timeline"][0]["time"] += 1'

step "a wrong key, a wrong receipt, not a bundle"
run vault evidence verify "$B" --pubkey "$(printf '%064d' 7)"
expect_rc 1; expect_out "FAIL the bundle names the pinned vault key"
expect_out "FAIL tree head signature"
run vault evidence verify "$B" --pubkey "$PK" --receipt BG1-3-0000000000000000-0000
expect_rc 1; expect_out "FAIL the tree head extends receipt"
printf 'not a bundle\n' >"$T/auditor/junk"
run vault evidence verify "$T/auditor/junk"; expect_rc 1
expect_out "FAIL bundle format"
run vault evidence verify "$T/auditor/nosuch"; expect_rc 4
run vault evidence verify "$B" --pubkey abc; expect_rc 2
echo "evidence: all passed"
