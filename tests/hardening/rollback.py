"""Rollback and clock.

Rollback: a copy of the vault file taken before a release and a rotation
is put back.  With receipts (`vault audit verify --receipt LINE`, from the
evidence work) the verification against a receipt taken afterwards must
report it.  Until that option exists the harness says PENDING plainly and
asserts what exists: the old copy still verifies on its own (a rollback
is invisible without a receipt held outside the file - the reason
receipts exist) and its log is shorter than the receipt's.

Clock (faketime around the real program; nothing in the product is
overridden): with the clock one year back and then one year and a day
forward, an open request is not revived, an expired membership does not
act, and every refusal is an audit event (the last event is `refused`
and the log grew by exactly one).
"""
import os
import shutil

import hlib
from hlib import VALUE1, VALUE2, log


def count_events(db):
    return hlib.sql(db, "SELECT count(*) FROM events")[0][0]


def last_action(db):
    r = hlib.sql(db, "SELECT action FROM events ORDER BY seq DESC LIMIT 1")
    return r[0][0] if r else None


def run(env, mode):
    bad = []
    env.std_vault()
    old = os.path.join(env.T, "old.db")
    shutil.copy2(env.db, old)
    if os.path.exists(env.db + ".key"):
        shutil.copy2(env.db + ".key", old + ".key")
    old_n = count_events(old)
    req = env.request()
    env.must(["approve", req], who="alice")
    env.must(["approve", req], who="mia")
    if env.must(["release", req], who="tom").out.strip() != VALUE1:
        raise hlib.Fail("reference release")
    env.must(["rotate", "begin", "acme/da"], stdin=(VALUE2 + "\n").encode())
    env.must(["rotate", "commit", "acme/da"])
    new_n = count_events(env.db)

    # --- rollback --------------------------------------------------------
    h = env.run(["audit", "verify", "--help"])
    rb = os.path.join(env.T, "rolled-back.db")
    shutil.copy2(old, rb)
    if os.path.exists(old + ".key"):
        shutil.copy2(old + ".key", rb + ".key")
    if "--receipt" in h.out + h.err:
        rc = env.run(["audit", "receipt"])
        line = rc.out.strip().splitlines()[-1] if rc.rc == 0 and rc.out.strip() else ""
        if not line:
            bad.append("--receipt exists but `vault audit receipt` gave no "
                       "receipt line: %r" % rc)
        else:
            r = env.run(["audit", "verify", "--receipt", line], db=rb)
            if r.rc == 0:
                bad.append("rolled-back vault verified against a later receipt")
            elif not hlib.one_clean_line(r.err):
                bad.append("rollback report is not one clean line: %r" % r.err)
            else:
                log("  rollback reported: %s" % r.err.strip().splitlines()[-1])
            r = env.run(["audit", "verify", "--receipt", line])
            if r.rc != 0:
                bad.append("current vault fails its own receipt: %r" % r)
    else:
        log("  PENDING: `vault audit verify --receipt` does not exist yet "
            "(evidence issue): rollback detection by receipt NOT tested")
        r = env.run(["audit", "verify"], db=rb)
        if r.rc != 0:
            bad.append("the old copy does not verify on its own: %r" % r)
        if not count_events(rb) == old_n < new_n:
            bad.append("event counts: old %d, rolled back %d, new %d" %
                       (old_n, count_events(rb), new_n))
        log("  without receipts a rollback is invisible: the old copy "
            "verifies, its log has %d events, the current one %d" %
            (old_n, new_n))

    # --- clock -----------------------------------------------------------
    req2 = env.request()
    env.must(["approve", req2], who="alice")
    refusals = 0

    def refused(offset, args, who, what):
        nonlocal refusals
        before = count_events(env.db)
        r = env.run(args, who=who, prefix=["faketime", "-f", offset])
        if r.rc == 0:
            bad.append("%s at %s succeeded: %r" % (what, offset, r))
            return
        if r.rc >= 128 or not hlib.one_clean_line(r.err):
            bad.append("%s at %s: not a clean refusal: %r" % (what, offset, r))
        if VALUE1 in r.out or VALUE2 in r.out:
            bad.append("%s at %s printed a value" % (what, offset))
        after = count_events(env.db)
        if after != before + 1 or last_action(env.db) != "refused":
            bad.append("%s at %s: refusal not logged (events %d -> %d, "
                       "last %r)" % (what, offset, before, after,
                                     last_action(env.db)))
        refusals += 1

    for off in ("-365d", "+366d"):
        refused(off, ["approve", req2], "mia", "approve")
        refused(off, ["release", req2], "tom", "release")
        refused(off, ["request", "acme/da", "--reason", "late", "--ticket",
                      "T-2", "--ttl", "1h"], "tom", "request")
    r = env.run(["request", "show", req2, "--json"],
                prefix=["faketime", "-f", "+366d"])
    if r.rc != 0 or '"state": "open"' in r.out:
        bad.append("request %s after a year: %r" % (req2, r))
    r = env.run(["secret", "show", "acme/da", "--json"],
                prefix=["faketime", "-f", "-365d"])
    if '"state": "released"' in r.out:
        bad.append("a lease is running again with the clock set back")
    v = env.run(["audit", "verify"])
    if v.rc != 0:
        bad.append("audit verify after the clock moves: %r" % v)
    for b in bad:
        log("VIOLATION " + b)
    log("rollback/clock: %d refusals with the clock moved, each an audit "
        "event; %d violations" % (refusals, len(bad)))
    return not bad


if __name__ == "__main__":
    hlib.main(run)
