"""Allocation failure: the Nth malloc/calloc/realloc of the real vault
fails (tests/hardening/failmalloc.c, LD_PRELOADed; N from a control file
named by BG_FAILMALLOC, read by the preload library only).

Operations: secret add, approve, release (and rotate begin/commit in long
mode).  For each N: the exit status is below 128 (no signal, no crash);
no sanitizer report (when BG_ASAN_BUILD names a gcc ASan+UBSan build, its
vault is used: leaks and memory errors on the error paths are reported);
and either the operation failed with one clean "vault: ..." line and the
database is unchanged (as in faults.py), or it survived the failure and
took effect with the invariants intact.

Which N: every allocation of the process is counted (start-up included).
Quick mode tries the first QUICK_FIRST and then QUICK_SPREAD points spread
evenly over the rest; long mode tries every N, except every 4th N in the
two ~15,000-allocation token operations, to stay under ~20 minutes
(BG_FAILMALLOC_STRIDE=1: every N everywhere).
"""
import concurrent.futures
import os
import threading
import time

import hlib
import crash
import faults
from hlib import log

QUICK_FIRST = 30
QUICK_SPREAD = 70
# 0: every allocation, but every 4th in the two ~15,000-allocation token
# operations (approve, release); BG_FAILMALLOC_STRIDE=1 tries every one.
LONG_STRIDE = int(os.environ.get("BG_FAILMALLOC_STRIDE", "0"))


def run(env, mode):
    so = os.environ.get("BG_FAILMALLOC_SO")
    if not so or not os.path.exists(so):
        raise hlib.Fail("BG_FAILMALLOC_SO must name failmalloc.so")
    asan = os.environ.get("BG_ASAN_BUILD", "")
    vault = hlib.VAULT
    if asan and os.path.exists(os.path.join(asan, "vault")):
        vault = os.path.join(asan, "vault")
        log("  using the ASan+UBSan build %s" % vault)
    else:
        log("  no ASan build given (BG_ASAN_BUILD): sanitizer checks off")
    req, scen = crash.scenarios(env)
    ops = ("secret add", "approve", "release")
    if mode == "long":
        ops += ("rotate begin", "rotate commit")
    lock = threading.Lock()
    tot = {"points": 0, "failed": 0, "survived": 0, "violations": 0,
           "stdout": 0, "spent": 0}
    t0 = time.time()
    for name, snap, args, stdin, who in scen:
        if name not in ops:
            continue
        work0 = os.path.join(env.T, "base.db")
        env.restore(snap, db=work0)
        base = hlib.dump(work0)
        # how many allocations does the operation make?
        ctl = os.path.join(env.T, "ctl-count")
        with open(ctl, "w") as f:
            f.write("0\n")
        e = dict(env.env)
        e["LD_PRELOAD"] = so
        e["BG_FAILMALLOC"] = ctl
        hlib.VAULT = vault
        r = env.run(args, stdin=stdin, who=who, db=work0, env=e)
        if r.rc != 0:
            raise hlib.Fail("%s without a failure: %r" % (name, r))
        with open(ctl + ".count") as f:
            total = int(f.read())
        if mode == "long":
            stride = LONG_STRIDE if LONG_STRIDE else (4 if total > 5000 else 1)
            pts = list(range(1, total + 1, stride))
        else:
            pts = list(range(1, min(QUICK_FIRST, total) + 1))
            rest = total - QUICK_FIRST
            if rest > 0:
                step = max(1, rest // QUICK_SPREAD)
                pts += list(range(QUICK_FIRST + step, total + 1, step))

        def one(n, slot):
            work = os.path.join(env.T, "work-%d.db" % slot)
            c = os.path.join(env.T, "ctl-%d" % slot)
            for suf in (".hit", ".count"):
                if os.path.exists(c + suf):
                    os.unlink(c + suf)
            with open(c, "w") as f:
                f.write("%d\n" % n)
            ee = dict(e)
            ee["BG_FAILMALLOC"] = c
            env.restore(snap, db=work)
            rr = env.run(args, stdin=stdin, who=who, db=work, env=ee)
            if not os.path.exists(c + ".hit"):
                return None
            bad = []
            res = "survived"
            if rr.rc < 0 or rr.rc >= 128:
                bad.append("exit status %d (signal or crash)" % rr.rc)
            elif rr.rc == 0:
                faults.check_succeeded(env, base, work, bad)
                if hlib.sanitizer_report(rr.err):
                    bad.append("sanitizer report: %r" % rr.err[-400:])
            else:
                res = faults.check_failed(env, name, req, base, work, rr, bad)
            return (n, rr, res, bad)

        slots = [0, 1]
        free_slots = list(slots)
        slot_lock = threading.Lock()

        def task(n):
            with slot_lock:
                s = free_slots.pop()
            try:
                return one(n, s)
            finally:
                with slot_lock:
                    free_slots.append(s)

        per = 0
        with concurrent.futures.ThreadPoolExecutor(len(slots)) as ex:
            for res in ex.map(task, pts):
                if res is None:
                    continue
                n, rr, kind, bad = res
                with lock:
                    per += 1
                    tot["points"] += 1
                    if rr.rc == 0:
                        tot["survived"] += 1
                    else:
                        tot["failed"] += 1
                    if kind in ("stdout", "spent"):
                        tot[kind] += 1
                    if bad:
                        tot["violations"] += 1
                        log("VIOLATION %s, allocation #%d fails (exit %d): %s" %
                            (name, n, rr.rc, "; ".join(bad)))
        log("  %-14s %5d of %5d allocations failed in turn" % (name, per, total))
    log("failmalloc: %d allocation-failure points: %d failed cleanly, %d "
        "survived; %d violations, %.0f s" %
        (tot["points"], tot["failed"], tot["survived"], tot["violations"],
         time.time() - t0))
    return tot["violations"] == 0


if __name__ == "__main__":
    hlib.main(run)
