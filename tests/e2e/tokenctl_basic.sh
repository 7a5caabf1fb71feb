#!/bin/sh
# tokenctl against the real software-token daemon: usage and man page,
# create/serve, pin set/change, info, list, test, reset.
. "$(dirname "$0")/lib.sh"
bg_setup
MAN=$(dirname "$0")/../../docs/tokenctl.1

step "usage, help, version, and the man page's SYNOPSIS"
run tokenctl; expect_rc 2; expect_err "usage: tokenctl list"
run tokenctl frobnicate; expect_rc 2; expect_err "tokenctl: unknown command 'frobnicate'"
run tokenctl --bogus; expect_rc 2
run tokenctl --version; ok; expect_out "tokenctl (breakglass)"
grep -Eqx 'commit ([0-9a-f]{40}(-dirty)?|unknown)' "$T/out" || fail "no commit line"
run tokenctl --help; ok; expect_out "usage: tokenctl list"
norm() { tr -s '[:space:]' ' ' | sed 's/^ //; s/ $//'; }
usage=$(sed 's/^usage: //' "$T/out" | norm)
synopsis=$(mandoc -T ascii "$MAN" | col -b |
    sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' | sed '1d;$d' | norm)
[ "$usage" = "$synopsis" ] ||
    fail "usage differs from the SYNOPSIS of docs/tokenctl.1:
usage:    $usage
synopsis: $synopsis"
[ -z "$(mandoc -T lint -W warning "$MAN")" ] || fail "mandoc lint"
for v in list info pin reset test soft; do
	run tokenctl $v --help; ok; expect_out "usage: tokenctl $v"
	# each verb's usage lines appear in the global usage
	sed 's/^usage: //; s/^ *//' "$T/out" | while read -r line; do
		echo "$usage" | grep -qF -- "$line" ||
		    fail "'$line' is not in the SYNOPSIS"
	done
done
run tokenctl info; expect_rc 2; expect_err "usage: tokenctl info"
run tokenctl pin; expect_rc 2
run tokenctl pin frob --token x; expect_rc 2; expect_err "unknown subcommand"
run tokenctl test --token x --alg rsa; expect_rc 2; expect_err "es256 or eddsa"
run tokenctl test --token x --timeout 0; expect_rc 2
run tokenctl list --bogus; expect_rc 2

step "no token there"
run tokenctl info --token "unix:$T/none.sock"; expect_rc 4
expect_err "tokenctl: unix:$T/none.sock: no security token found"

step "a fresh software token"
soft_start alice
A=$(token alice)
run tokenctl info --token "$A"; ok
expect_out "kind: software token (breakglass)"
expect_out "extensions: hmac-secret credProtect"
expect_out "clientPin: supported, no PIN set"
expect_out "usable by breakglass: no: this token has no PIN yet"
run tokenctl test --token "$A" --pin-file /nonexistent; expect_rc 3
expect_out "FAIL token has hmac-secret and a PIN"
expect_err "tokenctl pin set"

step "pin set"
pin_file alice 1234
run tokenctl pin set --token "$A" --pin-file "$T/alice.pin"; ok
expect_out "PIN set on $A"
run tokenctl pin set --token "$A" --pin-file "$T/alice.pin"; expect_rc 1
expect_err "already has a PIN"
pin_file short 123
run tokenctl pin set --token "$A" --pin-file "$T/short.pin"; expect_rc 1
expect_err "already has a PIN"

step "info --json"
run tokenctl info --json --token "$A"; ok
python3 - "$T/out" <<'PY' || fail "info --json"
import json, sys
i = json.load(open(sys.argv[1]))
assert i["software"] is True, i
assert i["kind"] == "software token (breakglass)", i
assert i["aaguid"] == "7c3e6a1f-52b4-4d9e-a8f0-3b91d5c2e64a", i
assert i["options"]["clientPin"] and i["options"]["pin_set"], i
assert i["pin_retries"] == 8, i
assert "hmac-secret" in i["extensions"], i
assert i["algorithms"] == ["es256", "eddsa"], i
assert i["pin_protocols"] == [2, 1], i
assert i["usable"] is True and i["unusable_reason"] is None, i
PY

step "list --dir, --token, --json"
soft_start bob
run tokenctl list --dir "$T"; ok
expect_out "$A	software token (breakglass)	aaguid 7c3e6a1f-52b4-4d9e-a8f0-3b91d5c2e64a"
expect_out "$(token bob)	software token (breakglass)"
[ "$(grep -c 'unix:' "$T/out")" -eq 2 ] || fail "list --dir: two tokens expected"
run tokenctl list --token "$A" --token "unix:$T/none.sock"; ok
expect_out "$A	software token (breakglass)"
expect_out "unix:$T/none.sock	CTAPHID socket (not answering)	aaguid -"
run tokenctl list --json --dir "$T"; ok
python3 - "$T/out" "$A" <<'PY' || fail "list --json"
import json, sys
l = json.load(open(sys.argv[1]))
assert len(l) == 2, l
a = [d for d in l if d["path"] == sys.argv[2]][0]
assert a["software"] is True and a["kind"] == "software token (breakglass)", a
assert a["aaguid"] == "7c3e6a1f-52b4-4d9e-a8f0-3b91d5c2e64a", a
PY
run tokenctl list --dir "$T/nodir"; expect_rc 1; expect_err "no such directory"

step "test: every check passes, es256 and eddsa"
for alg in es256 eddsa; do
	run tokenctl test --token "$A" --pin-file "$T/alice.pin" --alg $alg; ok
	for c in "token has hmac-secret and a PIN" "attestation verifies" \
	    "credProtect level 3 granted" "signature verifies" \
	    "hmac-secret is deterministic for a salt" \
	    "hmac-secret differs for another salt" \
	    "sign counter moves forward" "UV flag set in every assertion" \
	    "UV enforced"; do
		expect_out "PASS $c"
	done
	expect_no_out "FAIL"
	expect_out "all 9 checks passed"
done

step "test under PIN/UV auth protocol 1 only"
soft_start old --pin-protocols 1
O=$(token old)
run tokenctl info --json --token "$O"; ok
python3 -c 'import json, sys
assert json.load(open(sys.argv[1]))["pin_protocols"] == [1]' "$T/out" ||
    fail "only PIN protocol 1 expected"
run tokenctl pin set --token "$O" --pin-file "$T/alice.pin"; ok
run tokenctl test --token "$O" --pin-file "$T/alice.pin"; ok
expect_out "all 9 checks passed"

step "pin change"
pin_file new 98765
run tokenctl pin change --token "$A" --pin-file "$T/new.pin" --new-pin-file "$T/new.pin"
expect_rc 3; expect_err "wrong PIN, 7 tries left"
run tokenctl pin change --token "$A" --pin-file "$T/alice.pin" --new-pin-file "$T/short.pin"
expect_rc 3; expect_err "4 to 63"
run tokenctl pin change --token "$A" --pin-file "$T/alice.pin" --new-pin-file "$T/new.pin"
ok; expect_out "PIN changed on $A"
run tokenctl test --token "$A" --pin-file "$T/alice.pin"; expect_rc 3
expect_err "wrong PIN"
run tokenctl test --token "$A" --pin-file "$T/new.pin"; ok

step "reset"
run setsid -w "$TOKENCTL_BIN" reset --token "$A"; expect_rc 2
expect_err "no terminal to confirm on; use --yes"
run tokenctl reset --token "$A" --yes; ok; expect_out "reset"
run tokenctl info --token "$A"; ok; expect_out "clientPin: supported, no PIN set"
run tokenctl pin set --token "$A" --pin-file "$T/alice.pin"; ok
run tokenctl test --token "$A" --pin-file "$T/alice.pin"; ok

step "the daemon is still there after all of it"
kill -0 "$(cat "$T/alice.pid")" || fail "daemon died"
echo "tokenctl_basic: ok"
