"""Crash safety: SIGKILL the real vault at every file-changing syscall.

For each operation (secret add, approve, release to stdout and (long
mode) with --out, rotate begin, rotate commit, and the chain sign that
completes a tenant's link 2) and each syscall S in SYSCALLS, run the
operation under
  strace -f -e trace=S -e inject=S:signal=SIGKILL:when=N
for N = 1, 2, ... until the operation completes without reaching N.  After
each kill, on that copy of the vault:
  - PRAGMA integrity_check is ok;
  - `vault audit verify` passes;
  - every secret is in exactly one state (hlib.invariants);
  - the release's stdout carries the value only if its release event exists;
  - no sealed value was lost: the interrupted flow is resumed (or a fresh
    request -> approvals -> release is run) and returns the original value
    (every kill point in long mode, every 6th in quick mode).
"""
import os
import time

import hlib
from hlib import VALUE1, VALUE2, VALUE_DB, log

SYSCALLS = ("write", "pwrite64", "fsync", "fdatasync", "rename", "unlink",
            "ftruncate")
# The policy of acme's link 2, whose last signature is the "chain sign"
# operation (canonical text, as policy show prints it).
LINK2_POLICY = "2-of(alice,bob,mia)"


def scenarios(env):
    """Build the base state of each operation; (name, snap, args, stdin, who)."""
    out = []
    env.std_vault()
    out.append(("secret add", env.snapshot("add"),
                ["secret", "add", "acme", "db"], (VALUE_DB + "\n").encode(), None))
    req = env.request()
    env.must(["approve", req], who="alice")
    out.append(("approve", env.snapshot("approve"), ["approve", req], b"", "mia"))
    env.must(["approve", req], who="mia")
    out.append(("release", env.snapshot("release"), ["release", req], b"", "tom"))
    out.append(("release --out", os.path.join(env.T, "snap-release"),
                ["release", req, "--out", os.path.join(env.T, "value.out")],
                b"", "tom"))
    r = env.must(["release", req], who="tom")
    if r.out.strip() != VALUE1:
        raise hlib.Fail("reference release returned %r" % r.out)
    out.append(("rotate begin", env.snapshot("rbegin"),
                ["rotate", "begin", "acme/da"], (VALUE2 + "\n").encode(), None))
    env.must(["rotate", "begin", "acme/da"], stdin=(VALUE2 + "\n").encode())
    out.append(("rotate commit", env.snapshot("rcommit"),
                ["rotate", "commit", "acme/da"], b"", None))
    # The signature that completes a link: the link, its signatures and
    # the memberships, tokens and policy written from it, in one go.
    env.must(["rotate", "commit", "acme/da"])
    env.must(["policy", "set", "acme", LINK2_POLICY])
    env.sign("alice", "acme")
    out.append(("chain sign", env.snapshot("link"),
                ["chain", "sign", "acme"], b"", "mia"))
    return req, out


def expect(what, got, want, bad):
    if got != want:
        bad.append("%s returned %r, expected %r" % (what, got, want))


def recover(env, name, req, db, bad):
    """Resume the interrupted flow and check that no sealed value was lost."""
    if name == "secret add":
        if hlib.sql(db, "SELECT 1 FROM secrets WHERE name = 'db'"):
            expect("ceremony acme/db", env.ceremony("acme/db", db=db),
                   VALUE_DB, bad)
        else:
            env.must(["secret", "add", "acme", "db"], db=db,
                     stdin=(VALUE_DB + "\n").encode())
        expect("ceremony acme/da", env.ceremony(db=db), VALUE1, bad)
    elif name in ("approve", "release", "release --out"):
        st = hlib.sql(db, "SELECT state FROM requests WHERE id = ?", (int(req),))
        if st == [(hlib.R_RELEASED,)]:
            return "spent"
        if name == "approve" and not hlib.sql(db, "SELECT 1 FROM approvals "
                                             "WHERE request_id = ? AND person = 'mia'",
                                             (int(req),)):
            env.must(["approve", req], who="mia", db=db)
        r = env.must(["release", req], who="tom", db=db)
        expect("resumed release", r.out.rstrip("\n"), VALUE1, bad)
    elif name in ("rotate begin", "rotate commit"):
        if not hlib.sql(db, "SELECT 1 FROM versions WHERE state = 0"):
            if name == "rotate begin" or not hlib.sql(
                    db, "SELECT 1 FROM versions WHERE version = 2 AND state = 1"):
                env.must(["rotate", "begin", "acme/da"], db=db,
                         stdin=(VALUE2 + "\n").encode())
        if hlib.sql(db, "SELECT 1 FROM versions WHERE state = 0"):
            env.must(["rotate", "commit", "acme/da"], db=db)
        expect("ceremony after rotation", env.ceremony(db=db), VALUE2, bad)
    elif name == "chain sign":
        if not hlib.sql(db, "SELECT 1 FROM links WHERE tenant = 'acme' "
                        "AND seq = 2"):
            r = env.sign("mia", "acme", db=db)
            if "link 2 of acme takes effect now" not in r.out:
                raise hlib.Fail("resumed signature did not complete link 2: "
                                "%r" % r)
        pol = env.must(["policy", "show", "acme"], db=db).out
        if LINK2_POLICY not in pol:
            bad.append("policy after link 2: %r" % pol)
        expect("ceremony after link 2", env.ceremony(db=db), VALUE2, bad)
    return "ok"


def run(env, mode):
    recover_every = 1 if mode == "long" else 6
    req, scen = scenarios(env)
    work = os.path.join(env.T, "work.db")
    tried = violations = recovered = spent_undelivered = 0
    t0 = time.time()
    for name, snap, args, stdin, who in scen:
        if mode == "quick" and name == "release --out":
            continue	# long mode only
        per = 0
        for sc in SYSCALLS:
            n = 1
            while True:
                env.restore(snap, db=work)
                outf = os.path.join(env.T, "value.out")
                if os.path.exists(outf):
                    os.unlink(outf)
                prefix = ["strace", "-f", "-qq", "-o", "/dev/null",
                          "-e", "trace=" + sc,
                          "-e", "inject=%s:signal=SIGKILL:when=%d" % (sc, n)]
                r = env.run(args, stdin=stdin, prefix=prefix, who=who, db=work)
                if r.rc != -9 and r.rc != 137:
                    if r.rc != 0:
                        log("FAIL: %s completed with %r at %s #%d" %
                            (name, r, sc, n))
                        violations += 1
                    break
                tried += 1
                per += 1
                bad = []
                ok, rows = hlib.integrity(work)
                if not ok:
                    bad.append("integrity_check: %r" % rows[:3])
                v = env.run(["audit", "verify"], db=work)
                if v.rc != 0:
                    bad.append("audit verify: %r" % v)
                bad += hlib.invariants(work)
                if name == "release" and VALUE1 in r.out and \
                        not hlib.release_event(work, req):
                    bad.append("value printed without its release event")
                if name == "release --out" and os.path.exists(outf):
                    with open(outf) as f:
                        got = f.read()
                    if VALUE1 in got and not hlib.release_event(work, req):
                        bad.append("value written to --out without its "
                                   "release event")
                    r.out += got
                if not name.startswith("release") and (VALUE1 in r.out + r.err or
                                          VALUE2 in r.out + r.err or
                                          VALUE_DB in r.out + r.err):
                    bad.append("a value appeared in the output of %s" % name)
                if not bad and (tried % recover_every == 0 or n == 1):
                    try:
                        res = recover(env, name, req, work, bad)
                        recovered += 1
                        if res == "spent" and VALUE1 not in r.out:
                            spent_undelivered += 1
                    except hlib.Fail as e:
                        bad.append("recovery failed: %s" % e)
                if bad:
                    violations += 1
                    log("VIOLATION %s, kill at %s #%d: %s" %
                        (name, sc, n, "; ".join(bad)))
                n += 1
        log("  %-14s %4d kill points" % (name, per))
    log("crash: %d kill points tried, %d violations, %d recoveries checked "
        "(%d releases recorded but killed before the value was printed), "
        "%.0f s" % (tried, violations, recovered, spent_undelivered,
                    time.time() - t0))
    return violations == 0


if __name__ == "__main__":
    hlib.main(run)
