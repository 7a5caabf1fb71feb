#!/bin/sh
# vault report: a full incident (request, a denial on an earlier request,
# approvals, a wrong PIN, a clock set back, release, lease end, rotation)
# as text, JSON and HTML; attacker-chosen text in a reason is escaped.
. "$(dirname "$0")/lib.sh"
bg_setup
command -v faketime >/dev/null || fail "faketime is not installed"

step "set up the standard vault"
std_vault

step "an earlier request with a <script> reason, denied by bob"
as tom vault request acme/da --reason '<script>alert(1)</script> & "x"' \
    --ticket INC-0 --ttl 1h
ok
REQ0=$(cat "$T/out")
as bob vault deny "$REQ0" --reason "not an outage"; ok

step "the incident: request, a wrong PIN, a clock set back, approvals, release"
new_request
pin_file wrong "not-the-pin"
run vault --token "$(token mia)" --pin-file "$T/wrong.pin" approve "$REQ" --as mia
[ "$RC" -ne 0 ] || fail "approve with a wrong PIN succeeded"
expect_event refused BG_ERR_TOKEN_PIN_INVALID
RC=0
# (an ASan build must not insist on being first in the preload list)
ASAN_OPTIONS=${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}verify_asan_link_order=0 \
    faketime -f "-2d" "$VAULT_BIN" --token "$(token olga)" \
    --pin-file "$T/olga.pin" secret add acme other --as olga <"$T/value" \
    >"$T/out" 2>"$T/err" || RC=$?
expect_rc 1; expect_err "clock"
as alice vault approve "$REQ"; ok
as mia vault approve "$REQ"; ok
as tom vault release "$REQ" --out "$T/value.out"; ok
printf 'second-value\n' >"$T/v2"
op_in "$T/v2" vault rotate begin acme/da; ok
op vault rotate commit acme/da; ok

step "text report of the request"
run vault report --request "$REQ"; ok
for s in "Request $REQ: acme/da v1, released" "requester: tom" \
    "reason:    outage INC-1" "ticket:    INC-1" \
    "approvers: alice, mia" "request " "approve " "release " "lease-end" \
    "rotate.begin" "rotate.commit" "signature verifies" "rotated " \
    "(operator, signed act" "known to:  olga (sealed this version)" \
    "on-time" "BG_ERR_TOKEN_PIN_INVALID" "wrong-pin"; do
	expect_out "$s"
done
expect_no_out "DOES NOT VERIFY"
expect_no_out "INC-0"
# rotated right after the release, well before the lease ended
expect_out "before lease end: on-time"; expect_no_out "lag 0s"
run vault report --request "$REQ" --format json; ok
python3 - "$T/out" <<'PY' || fail "lag_seconds of a rotation before lease end"
import json, sys
rot = json.load(open(sys.argv[1]))["incidents"][0]["rotation"]
assert rot["status"] == "on-time" and rot["lag_seconds"] < 0, rot
assert rot["lag_seconds"] == rot["rotated_at"] - rot["lease_end"], rot
PY
run vault report --request "$REQ" --format html; ok
expect_out "before lease end; "

step "JSON report of the tenant: both requests, denial and anomalies"
run vault report acme --format json; ok
python3 - "$T/out" "$REQ" "$REQ0" <<'PY' || fail "JSON report content"
import json, sys
rep = json.load(open(sys.argv[1]))
req, req0 = int(sys.argv[2]), int(sys.argv[3])
assert rep["format"] == "bg-report-v1", rep["format"]
inc = {i["request"]: i for i in rep["incidents"]}
assert set(inc) == {req, req0}, inc.keys()
i = inc[req]
kinds = [t["kind"] for t in i["timeline"]]
for k in ("request", "approve", "release", "lease-end", "rotate.begin",
          "rotate.commit", "refused"):
    assert k in kinds, (k, kinds)
assert kinds.index("request") < kinds.index("release") < kinds.index("rotate.commit")
assert i["approvers"] == ["alice", "mia"], i["approvers"]
assert i["requester"] == "tom" and i["ticket"] == "INC-1"
ev = [t for t in i["timeline"] if t["kind"] == "approve"]
assert len(ev) == 2 and all(t["evidence"]["signature_valid"] for t in ev)
# the rotation is the operator's signed act: person, role, signature
rot = [t for t in i["timeline"] if t["kind"].startswith("rotate.")]
assert rot and all(t["actor"] == "olga" and t["signed"]["role"] == "operator"
                   and len(t["signed"]["sig"]) >= 128 for t in rot), rot
assert i["known_to"] == "olga", i["known_to"]
rq = [t for t in i["timeline"] if t["kind"] == "request"]
assert len(rq) == 1 and rq[0]["evidence"]["signature_valid"], rq
assert all(t["evidence"]["statement_hash"] == t["evidence"]["event_statement_hash"] for t in ev + rq)
assert "breakglass statement v1" in ev[0]["evidence"]["statement"]
rel = [t for t in i["timeline"] if t["kind"] == "release"][0]
le = [t for t in i["timeline"] if t["kind"] == "lease-end"][0]
assert le["time"] == rel["time"] + 3600 and le["derived"], (le, rel)
rot = i["rotation"]
assert rot["status"] in ("on-time",), rot
assert rot["deadline_seconds"] == 86400 and rot["rotated_at"] > 0
assert rot["rotate_by"] == le["time"] + 86400
d = inc[req0]
assert d["state"] == "denied" and d["denied_by"] == "bob", d
assert "<script>" in d["reason"]
assert any(t["kind"] == "deny" and "not an outage" in t["text"] for t in d["timeline"])
assert not any(t["kind"] == "refused" for t in d["timeline"]), d["timeline"]
ak = sorted({a["kind"] for a in rep["anomalies"]})
for k in ("clock", "denial", "wrong-pin"):
    assert k in ak, (k, ak)
codes = {r["code"] for r in rep["refusals"]}
assert "BG_ERR_CLOCK" in codes and "BG_ERR_TOKEN_PIN_INVALID" in codes, codes
PY
run vault report acme --json; ok; expect_out '"format": "bg-report-v1"'

step "by ticket and by time range"
run vault report --ticket INC-0 --json; ok
expect_out '"ticket": "INC-0"'; expect_no_out '"ticket": "INC-1"'
run vault report --since +1d; ok; expect_out "0 incident(s)"
run vault report --until @1; ok; expect_out "0 incident(s)"

step "HTML: one file, SVG timeline, no scripts, escaped reason"
run vault report acme --format html --out "$T/report.html"; ok
[ "$(stat -c %a "$T/report.html")" = 600 ] || fail "report file is not mode 0600"
expect_err "report written to"
H=$T/report.html
grep -q '<svg class="timeline"' "$H" || fail "no SVG timeline"
grep -q '&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;' "$H" ||
    fail "reason not escaped"
! grep -qi '<script' "$H" || fail "a script element in the report"
! grep -Eqi '(src|href)="?(https?:|//)' "$H" || fail "external asset"
[ "$(grep -c '<section class="incident"' "$H")" -eq 2 ] || fail "incidents"
cp "$H" "$T/report.keep"
run vault report acme --format text --out "$H"
refused 1 "already exists; refusing to overwrite it"
cmp -s "$H" "$T/report.keep" || fail "report --out overwrote a file"
run vault report nosuch --out "$T/never.txt"; expect_rc 4
[ ! -e "$T/never.txt" ] || fail "a refused report left its --out file"

step "wrong queries are refused"
run vault report nosuch; refused 4 "no tenant 'nosuch'"
run vault report --request 999; refused 4 "999"
run vault report --format pdf; expect_rc 2; expect_err "unknown format"
run vault report a b; expect_rc 2
step "usage texts equal the man page SYNOPSIS"
for v in report evidence; do run vault $v --help; ok; expect_out "usage: vault $v"; done
python3 - "$VAULT_BIN" "$(dirname "$0")/../../docs/vault.1" <<'PY' || fail "usage and SYNOPSIS differ"
import re, subprocess, sys
vault, man = sys.argv[1], sys.argv[2]
txt = subprocess.run(["mandoc", "-T", "ascii", man], capture_output=True, text=True).stdout
syn = re.sub(r".\x08", "", txt).split("SYNOPSIS", 1)[1].split("DESCRIPTION", 1)[0]
def entries(lines, start):
    out, cur = [], None
    for line in lines:
        if re.match(start, line):
            if cur: out.append(cur)
            cur = re.sub(r"^usage: ", "", line).strip()
        elif line.strip() and cur is not None:
            cur += " " + line.strip()
    return out + ([cur] if cur else [])
norm = lambda s: re.sub(r"\s+", " ", s.strip().lower())
mans = {norm(e) for e in entries(syn.splitlines(), r"^     vault ")}
bad = 0
for v in ("report", "evidence"):
    out = subprocess.run([vault, v, "--help"], capture_output=True, text=True).stdout
    us = entries(out.splitlines(), r"^(usage: |       )vault ")
    assert us, v
    for u in us:
        if norm(u) not in mans:
            print("usage line not in the SYNOPSIS:", u); bad += 1
sys.exit(1 if bad else 0)
PY
echo "report: all passed"
