#!/bin/sh
# vault command line: usage, --help per verb, exit codes, global options
# before and after the verb, the default vault path, --json output.
. "$(dirname "$0")/lib.sh"
bg_setup

step "usage and help"
run vault; expect_rc 2; expect_err "usage: vault"
run vault frobnicate; expect_rc 2; expect_err "vault: unknown command 'frobnicate'"
run vault --help; ok; expect_out "usage: vault"; expect_out "ceremony"
run vault --version; ok; expect_out "vault (breakglass)"
# the source commit (a hash, or "unknown" outside git) and the SHA-256 of
# the running binary, which a custodian compares with a reproducible build
grep -Eqx 'commit ([0-9a-f]{40}(-dirty)?|unknown)' "$T/out" || fail "no commit line"
[ "$(sed -n 's/^sha256 //p' "$T/out")" = "$(sha256sum <"$VAULT_BIN" | cut -d' ' -f1)" ] ||
    fail "--version sha256 is not the binary's: $(sha256sum "$VAULT_BIN")"
for v in init custodian chain rekey tenant member policy secret request \
    approve deny release ceremony rotate status check audit; do
	run vault $v --help; ok; expect_out "usage: vault $v"
done
as carol vault tenant add; expect_rc 2; expect_err "usage: vault tenant"
run vault approve; expect_rc 2; expect_err "usage: vault approve"
run vault init --bogus; expect_rc 2

step "no vault yet"
run vault tenant list; expect_rc 4; expect_err "vault: "

step "init needs its first custodian, with a token"
run vault init --allow-soft-tokens; expect_rc 2
expect_err "vault: init: --as CUSTODIAN is required"
[ ! -e "$T/vault.db" ] || fail "init without a custodian left a vault"

step "init in a directory that does not exist names the directory"
as carol vault --vault "$T/no/such/dir/v.db" init --allow-soft-tokens
refused 1 "the directory $T/no/such/dir does not exist"
expect_no_err "input/output error"
[ ! -e "$T/no" ] || fail "init created a directory it was not asked to"

step "init, and a second init refused"
std_genesis
[ -f "$T/vault.db" ] || fail "BREAKGLASS_VAULT not used"
as carol vault init --allow-soft-tokens; expect_rc 1
expect_err "vault: init: "; expect_err "already exists"

step "global options after the verb"
as carol vault tenant add acme; ok
run vault tenant list --json; ok; expect_out '"acme"'
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/out" ||
    fail "tenant list --json is not JSON"
run vault --json tenant list; ok; expect_out '"acme"'
run vault tenant show acme --json; ok; expect_out '"acme"'
run vault tenant show nosuch; expect_rc 4; expect_err "nosuch"
run vault chain show --json; ok; expect_out '"in_force": true'
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/out" ||
    fail "chain show --json is not JSON"
run vault --json chain show acme; ok; expect_out '"draft": true'

step "--vault beats the environment; XDG_DATA_HOME default"
as carol vault --vault "$T/other.db" init --allow-soft-tokens; ok
expect_out "software tokens:  accepted (test/drill vault)"
[ -f "$T/other.db" ] || fail "--vault ignored"
run vault tenant list --vault "$T/other.db" --json; ok; expect_no_out acme
(
	unset BREAKGLASS_VAULT
	XDG_DATA_HOME=$T/xdg; export XDG_DATA_HOME
	as carol vault init --allow-soft-tokens; ok
	[ -f "$T/xdg/breakglass/vault.db" ] || fail "XDG_DATA_HOME default"
)

step "a production vault without a trust store is refused, leaving no vault"
as carol vault --vault "$T/prod.db" init
refused 2 "a production vault pins a trust store in its genesis"
[ ! -e "$T/prod.db" ] || fail "a refused init left its vault file"
run vault --vault "$T/prod.db" tenant list; expect_rc 4
step "a drill vault is marked"
run vault --vault "$T/other.db" tenant list; ok
grep -qF "accepts software tokens" "$T/out" "$T/err" ||
    fail "drill vault not marked"

step "argument checks"
as carol vault policy set acme 'bad((('; refused 1 "position"
run vault secret add acme x --length 12; expect_rc 2
run vault secret add acme x --generate --length 3; expect_rc 2
run vault secret add acme x --generate --charset hex; expect_rc 2
run vault request acme/x --as tom; expect_rc 2
run vault request nodash --as tom --reason r --ticket t; expect_rc 2
# a secret named the other way round: the right form, in the user's words
run vault secret show acme domain-admin; expect_rc 2
expect_err "vault: secret show takes TENANT/NAME, one word: vault secret show acme/domain-admin"
expect_err "usage: vault secret"
run vault secret add acme/foo; expect_rc 2
expect_err "vault: secret add takes TENANT NAME, two words: vault secret add acme foo"
run vault secret list acme/foo; expect_rc 2
expect_err "to see one secret: vault secret show acme/foo"
run vault request acme da --as tom --reason r --ticket t; expect_rc 2
expect_err "request takes TENANT/NAME, one word: vault request acme/da"
op vault rotate commit acme da; expect_rc 2
expect_err "rotate commit takes TENANT/NAME, one word: vault rotate commit acme/da"
run vault approve abc --as alice; expect_rc 2
run vault release 1; expect_rc 2
as carol vault tenant add acme2 --max-ttl 5x; expect_rc 2
run vault audit log --since yesterday-ish; expect_rc 2
run vault secret list nosuch; [ "$RC" -ne 0 ] || fail "unknown tenant listed"
run vault check; expect_rc 0
run vault status --json; ok
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/out" ||
    fail "status --json is not JSON"

step "names: the man page states the rule the program applies"
as carol vault tenant add Acme; refused 2 "may only hold a-z"
as carol vault tenant add -acme; expect_rc 2
as carol vault tenant add db01.backup_x-y; ok
python3 - "$(dirname "$0")/../../docs/vault.1" <<'PY' || fail "docs/vault.1 states another name rule"
import re, subprocess, sys
txt = subprocess.run(["mandoc", "-T", "ascii", sys.argv[1]], capture_output=True, text=True).stdout
txt = re.sub(r".\x08", "", txt)
txt = re.sub(r"\s+", " ", txt)
m = re.search(r"Names of tenants, people and secrets are 1 to 64 characters of (\[[^\]]*\])", txt)
assert m, "no name rule in the man page"
cls = re.compile(m.group(1) + "{1,64}")
for name, ok in (("acme", True), ("db01.backup_x-y", True), ("Acme", False), ("ACME", False)):
    assert bool(cls.fullmatch(name)) == ok, (m.group(1), name)
PY

step "every usage text is in the man page SYNOPSIS"
man=$(dirname "$0")/../../docs/vault.1
# (last, so that a man page behind the program fails only this step)
for v in init custodian chain tenant member policy secret request approve \
    deny release ceremony rotate status check audit; do
	# each verb has a synopsis there
	grep -q "^\.Cm $v" "$man" || fail "docs/vault.1 has no synopsis for $v"
done
python3 - "$VAULT_BIN" "$man" <<'PY' || fail "usage and SYNOPSIS differ"
import re, subprocess, sys
vault, man = sys.argv[1], sys.argv[2]
txt = subprocess.run(["mandoc", "-T", "ascii", man], capture_output=True, text=True).stdout
txt = re.sub(r".\x08", "", txt)
syn = txt.split("SYNOPSIS", 1)[1].split("DESCRIPTION", 1)[0]
# join continuation lines: a synopsis entry starts with "     vault "
entries, cur = [], None
for line in syn.splitlines():
    if line.startswith("     vault "):
        if cur: entries.append(cur)
        cur = line.strip()
    elif line.strip() and cur is not None:
        cur += " " + line.strip()
if cur: entries.append(cur)
def norm(s):
    s = re.sub(r"\s+", " ", s.strip().lower())
    return s.replace(" ...", "...")
mans = set(norm(e) for e in entries)
bad = 0
for v in "init custodian chain tenant member policy secret request approve deny release ceremony rotate status check audit".split():
    out = subprocess.run([vault, v, "--help"], capture_output=True, text=True).stdout
    # split usage into entries
    us, cur = [], None
    for line in out.splitlines():
        m = re.match(r"^(usage:)?\s+vault ", line) or line.startswith("usage: vault")
        if re.match(r"^(usage: |       )vault ", line):
            if cur: us.append(cur)
            cur = re.sub(r"^usage: ", "", line).strip()
        elif line.strip() and cur is not None:
            cur += " " + line.strip()
    if cur: us.append(cur)
    for u in us:
        if norm(u) not in mans:
            print("usage line not in man SYNOPSIS:", u); bad += 1
print("checked synopsis:", len(mans), "man entries")
sys.exit(1 if bad else 0)
PY

echo "cli: all passed"
