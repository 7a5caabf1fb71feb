"""I/O faults: EIO and ENOSPC at every file-changing syscall.

For each operation of crash.py and each syscall S and error E in
(EIO, ENOSPC) (quick mode: ENOSPC only for pwrite64, the database
writes, and no `release --out`), run the operation under
  strace -f -e trace=S -e inject=S:error=E:when=N
for N = 1, 2, ... until strace reports no injection.  Outcomes:

  failed (exit != 0): exactly one clean "vault: ..." error line, no signal
    exit, and nothing changed: every table but `events` is row-for-row
    equal to before, and the events are the old events followed only by
    `refused` events (the engine records a refusal when it can; a refusal
    it could not record because of the fault is allowed too).  One
    documented exception: a release whose value could not be *written*
    after the release was committed says "the version is spent, rotate
    it" - the version stays spent and its release event exists.  And
    likewise for any operation whose change was committed before printing
    its result on stdout failed ("vault: writing standard output failed"):
    the operation's own event is in the log and the invariants hold; these
    are counted separately (the message could say that the change was
    made - see docs/security.md).
  succeeded (exit 0): the fault hit something the program may survive
    (a prompt on stderr, removing the WAL at close); the operation must
    then really have taken effect, and the vault must pass
    integrity_check, audit verify and the state invariants.
"""
import os
import time

import hlib
import crash
from hlib import VALUE1, VALUE2, VALUE_DB, log

ERRORS = ("EIO", "ENOSPC")
# Quick mode: EIO at every syscall, ENOSPC only where a full disk shows up
# (SQLite's pwrite64); long mode: both errors at every syscall.
QUICK_ENOSPC = ("pwrite64",)
# The events an operation appends when it succeeds, in order.
ACTION = {"secret add": ("secret.add",), "approve": ("approve",),
          "release": ("release",), "release --out": ("release",),
          "rotate begin": ("rotate.begin",),
          "rotate commit": ("rotate.commit",),
          "chain sign": ("chain.sign", "chain.link")}


def check_failed(env, name, req, base, work, r, bad):
    """The operation failed: a clean message and nothing changed."""
    if r.rc < 0 or r.rc >= 128:
        bad.append("killed by a signal or crashed (exit %d)" % r.rc)
    if not hlib.one_clean_line(r.err):
        bad.append("error output is not one 'vault: ...' line: %r" %
                   r.err[-300:])
    if hlib.sanitizer_report(r.err):
        bad.append("sanitizer report")
    data0, ev0 = base
    ok, rows = hlib.integrity(work)
    if not ok:
        bad.append("integrity_check: %r" % rows[:3])
        return
    data1, ev1 = hlib.dump(work)
    spent_ok = (name.startswith("release") and "the version is spent" in r.err
                and hlib.release_event(work, req))
    extra = [e[1] for e in ev1[len(ev0):]]
    # The change was committed, then printing its result on stdout failed.
    acts = list(ACTION[name])
    stdout_ok = ("writing standard output failed" in r.err and
                 extra[:len(acts)] == acts and not hlib.invariants(work))
    diff = [t for t in data0 if data0[t] != data1.get(t)]
    if len(ev1) > len(ev0):	# the log grew: its own tables may follow
        diff = [t for t in diff if t not in hlib.LOG_TABLES]
    if diff and not spent_ok and not stdout_ok:
        bad.append("tables changed: %s" % ", ".join(diff))
    if ev1[:len(ev0)] != ev0:
        bad.append("existing audit events changed")
    if (spent_ok or stdout_ok) and extra[:len(acts)] == acts:
        extra = extra[len(acts):]
    if any(a != "refused" for a in extra):
        bad.append("new events other than refusals: %s" % extra)
    if not name.startswith("release") and VALUE1 in r.out:
        bad.append("value on stdout")
    if name.startswith("release") and VALUE1 in r.out and not spent_ok:
        bad.append("value on stdout of a failed release")
    return "spent" if spent_ok else "stdout" if stdout_ok else "unchanged"


def check_succeeded(env, base, work, bad):
    ok, rows = hlib.integrity(work)
    if not ok:
        bad.append("integrity_check: %r" % rows[:3])
        return
    if hlib.dump(work)[0] == base[0]:
        bad.append("reported success but changed nothing")
    bad += hlib.invariants(work)


def run(env, mode):
    req, scen = crash.scenarios(env)
    work = os.path.join(env.T, "work.db")
    trace = os.path.join(env.T, "strace.out")
    outf = os.path.join(env.T, "value.out")
    points = violations = failed = survived = spent = outerr = 0
    t0 = time.time()
    for name, snap, args, stdin, who in scen:
        if mode == "quick" and name == "release --out":
            continue
        env.restore(snap, db=work)
        base = hlib.dump(work)
        per = 0
        for err in ERRORS:
            for sc in crash.SYSCALLS:
                if mode == "quick" and err != "EIO" and sc not in QUICK_ENOSPC:
                    continue
                n = 1
                while True:
                    env.restore(snap, db=work)
                    if os.path.exists(outf):
                        os.unlink(outf)
                    prefix = ["strace", "-f", "-qq", "-o", trace,
                              "-e", "trace=" + sc,
                              "-e", "inject=%s:error=%s:when=%d" % (sc, err, n)]
                    r = env.run(args, stdin=stdin, prefix=prefix, who=who,
                                db=work)
                    with open(trace) as f:
                        hit = "(INJECTED)" in f.read()
                    if not hit:
                        if r.rc != 0:
                            violations += 1
                            log("FAIL: %s without injection: %r" % (name, r))
                        break
                    points += 1
                    per += 1
                    bad = []
                    if os.path.exists(outf):
                        with open(outf) as f:
                            r.out += f.read()
                    if r.rc == 0:
                        survived += 1
                        check_succeeded(env, base, work, bad)
                    else:
                        failed += 1
                        res = check_failed(env, name, req, base, work, r, bad)
                        if res == "spent":
                            spent += 1
                        elif res == "stdout":
                            outerr += 1
                    v = env.run(["audit", "verify"], db=work)
                    if v.rc != 0:
                        bad.append("audit verify: %r" % v)
                    if bad:
                        violations += 1
                        log("VIOLATION %s, %s at %s #%d (exit %d): %s" %
                            (name, err, sc, n, r.rc, "; ".join(bad)))
                    n += 1
        log("  %-14s %4d fault points" % (name, per))
    log("faults: %d EIO/ENOSPC points: %d failed (%d of them releases spent "
        "with a write error of the value, %d committed then stdout failed), "
        "%d survived; %d violations, %.0f s" %
        (points, failed, spent, outerr, survived, violations,
         time.time() - t0))
    return violations == 0


if __name__ == "__main__":
    hlib.main(run)
