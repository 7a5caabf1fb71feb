#!/bin/sh
# Bash completion (completions/vault, completions/tokenctl) against the
# programs' own usage texts, so the two cannot drift: the verbs, each
# verb's sub-commands, each entry's options, which options take an
# argument, and the fixed values of those that list them (a|b).  The
# completion functions are driven as bash drives them (COMP_WORDS,
# COMP_CWORD, COMP_LINE, COMP_POINT), once bare and, where the
# bash-completion package is installed, once more under its helpers.
. "$(dirname "$0")/lib.sh"
bg_setup
COMPDIR=$(cd "$(dirname "$0")/../../completions" && pwd)
command -v bash >/dev/null || fail "bash is needed"
# file-name completion runs here, where no name starts with "-"
mkdir "$T/cwd"
cd "$T/cwd"

for helpers in none /usr/share/bash-completion/bash_completion; do
	[ $helpers = none ] || [ -f $helpers ] || continue
	step "completion against usage (helpers: $helpers)"
	python3 - "$VAULT_BIN" "$TOKENCTL_BIN" "$COMPDIR" "$helpers" <<'PY' ||
import re, subprocess, sys

vault, tokenctl, compdir, helpers = sys.argv[1:5]

def run(*argv):
    p = subprocess.run(argv, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("%s exited %d: %s" % (" ".join(argv), p.returncode, p.stderr))
    return p.stdout

def entries(text, prog):
    """Usage entries: 'prog ...' lines with their indented continuations."""
    out, cur = [], None
    for line in text.splitlines():
        m = re.match(r"^(?:usage:)?\s*" + prog + r"(\s.*|)$", line)
        if m:
            if cur is not None:
                out.append(cur)
            cur = m.group(1).strip()
        elif cur is not None and line.startswith(" ") and line.strip():
            cur += " " + line.strip()
        elif cur is not None:
            out.append(cur)
            cur = None
    if cur is not None:
        out.append(cur)
    return out

def options(entry):
    """{--opt: (takes_arg, values or None)} of one usage entry."""
    toks, res = entry.split(), {}
    for i, t in enumerate(toks):
        m = re.match(r"^[\[{]*(--[a-z][a-z0-9-]*)(.*)$", t)
        if not m:
            continue
        o, rest = m.group(1), m.group(2)
        arg, vals = False, None
        if rest == "" and i + 1 < len(toks):
            n = toks[i + 1]
            if not n.startswith(("[", "|")):
                n = n.rstrip("]}.")
                if re.match(r"^[A-Z]", n) or "|" in n:
                    arg = True
                    if re.fullmatch(r"[a-z0-9]+(\|[a-z0-9]+)+", n):
                        vals = set(n.split("|"))
        res[o] = (arg, vals)
    return res

def split_key(entry):
    """(verb, sub or None, rest) of 'verb [sub] ...'."""
    w = entry.split()
    if len(w) > 1 and re.fullmatch(r"[a-z][a-z-]*", w[1]):
        return w[0], w[1]
    return w[0], None

def merge(d, key, opts):
    cur = d.setdefault(key, {})
    for o, v in opts.items():
        if o in cur and cur[o][0] != v[0]:
            sys.exit("usage of %s: %s both with and without an argument" % (key, o))
        cur[o] = v

queries, expect = [], []
def want(words, exp):
    queries.append(words)
    expect.append(set(exp))

def program(prog, verbs, top, keys, after):
    """Queries for one program: top-level options, verbs, subs, options."""
    want([prog, ""], verbs)
    want([prog, "--"], top)
    for o, (arg, vals) in top.items():
        want([prog, o, "--"], set() if arg else top)
        if arg:
            want([prog, o, "x", ""], verbs)   # its argument is stepped over
    subs = {}
    for (v, s) in keys:
        if s:
            subs.setdefault(v, set()).add(s)
    for v in verbs:
        want([prog, v, ""], subs.get(v, set()))
        keys.setdefault((v, None), {})
    for (v, s), opts in sorted(keys.items(), key=lambda k: (k[0][0], k[0][1] or "")):
        words = [prog, v] + ([s] if s else [])
        allopts = dict(after)
        allopts.update(opts)
        want(words + ["--"], allopts)
        for o, (arg, vals) in allopts.items():
            want(words + [o, "--"], set() if arg else allopts)
            if vals:
                want(words + [o, ""], vals)

# vault: the global usage, the command list, then each verb's usage.
vhelp = run(vault, "--help")
vverbs = re.findall(r"^  ([a-z][a-z-]*) ", vhelp.split("commands:", 1)[1], re.M)
vtop = {}
for e in entries(vhelp, "vault"):
    vtop.update(options(e))
vkeys = {}
for v in vverbs:
    for e in entries(run(vault, v, "--help"), "vault"):
        if split_key(e)[0] != v:
            sys.exit("vault %s --help: entry for another verb: %s" % (v, e))
        merge(vkeys, split_key(e), options(e))
vafter = {o: x for o, x in vtop.items() if o != "--version"}
program("vault", set(vverbs), vtop, vkeys, vafter)

# tokenctl: one usage text for every verb.
thelp = run(tokenctl, "--help")
ttop, tkeys, tverbs = {}, {}, set()
for e in entries(thelp, "tokenctl"):
    if e.startswith("-"):
        ttop.update(options(e))
        continue
    tverbs.add(split_key(e)[0])
    merge(tkeys, split_key(e), options(e))
program("tokenctl", tverbs, ttop, tkeys, {"--help": (False, None)})

if len(vverbs) < 18 or len(tverbs) < 6 or "--version" not in vtop or "--version" not in ttop:
    sys.exit("usage texts not understood: vault verbs %s, tokenctl verbs %s"
             % (vverbs, sorted(tverbs)))

# Drive the completion functions as bash would.
script = []
if helpers != "none":
    script.append(". %s" % helpers)
script += [". %s/vault" % compdir, ". %s/tokenctl" % compdir,
           'q() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*";'
           ' COMP_POINT=${#COMP_LINE}; COMPREPLY=();'
           ' case $1 in vault) _bg_vault;; tokenctl) _bg_tokenctl;; esac;'
           ' printf "%s\\n" "${COMPREPLY[*]}"; }']
for w in queries:
    script.append("q " + " ".join("'%s'" % x for x in w))
p = subprocess.run(["bash", "--norc", "--noprofile"], input="\n".join(script) + "\n",
                   capture_output=True, text=True)
got = p.stdout.split("\n")
bad = 0
for i, (w, exp) in enumerate(zip(queries, expect)):
    g = set(got[i].split()) if i < len(got) else {"<no answer>"}
    if g != exp:
        bad += 1
        print("completing %r: usage says %s, completion gives %s"
              % (" ".join(w), sorted(exp), sorted(g)))
if p.returncode != 0 or p.stderr.strip():
    print("bash: exit %d: %s" % (p.returncode, p.stderr.strip()))
    bad += 1
print("%d completions checked against usage (%d vault verbs, %d tokenctl verbs), "
      "%d differ" % (len(queries), len(vverbs), len(tverbs), bad))
sys.exit(1 if bad else 0)
PY
	fail "bash completion and usage differ (fix completions/ to match usage())"
done
echo "completion: every verb and option of the usage texts, and no more"
