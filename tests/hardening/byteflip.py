"""Byte flips: corrupt one byte of a small reference vault at a time.

Reference vault (hlib.Env.std_vault): a signed genesis (custodians carol
and dave), tenant acme whose signed first link has requester tom and
approvers alice bob mia, secret acme/da, one request approved by alice
and mia (releasable).  For each chosen offset, a copy of the file has
that byte inverted (XOR 0xff) and the real vault runs `secret list`,
`audit verify` and `release` of the approved request.  Every case must
end without a signal (exit < 128) and without a sanitizer report, and:
  - a failing command prints one clean "vault: ..." line;
  - release never prints anything but the original value;
  - a release that succeeds signs a tree head that extends the original
    history: its root is the Merkle root of the reference vault's event
    leaves followed by the events the release appended (the vault checks
    that the stored tree extends its newest signed head before it
    appends, O(log n); an old row flipped in place is not re-read then,
    but it cannot be laundered into a new head either, and `audit
    verify` still names it).
A release that succeeds on other changed content (every row of every
table compared with the reference; e.g. a migration's description) is
not a violation - nothing it authenticates changed - but each such case
is listed as a note.

Offsets: quick mode every QUICK_STRIDE-th byte plus the 100-byte file
header; long mode every 16th byte (BG_BYTEFLIP_STRIDE) plus the file
header and the first 12 bytes of every page (the b-tree page headers).
BG_BYTEFLIP_STRIDE=1 flips every byte (about 90 minutes on 2 cores for
the ~130 KiB file).
"""
import concurrent.futures
import hashlib
import os
import shutil
import sqlite3
import time

import hlib
from hlib import VALUE1, log

QUICK_STRIDE = 1013


def mth(leaves):
    """RFC 9162 Merkle tree hash over leaf hashes."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def leaves(db, after=0):
    return [bytes(r[0]) for r in hlib.sql(
        db, "SELECT leaf FROM events WHERE seq > ? ORDER BY seq", (after,))]


def extends(ref, db):
    """Does db's newest signed head cover ref's leaves, then db's own?"""
    base = leaves(ref)
    size, root = hlib.sql(db, "SELECT size, root FROM tree_heads "
                              "ORDER BY size DESC LIMIT 1")[0]
    new = leaves(db, len(base))
    if len(base) + len(new) != size:
        return "newest head covers %d events, expected %d" % (
            size, len(base) + len(new))
    if mth(base + new) != bytes(root):
        return "newest head's root is not the original history extended"
    return ""


def logical(db):
    try:
        return hlib.dump(db)
    except Exception as e:  # sqlite3.Error, a name that is not UTF-8, ...
        return ("unreadable", str(e))


def run(env, mode):
    env.std_vault()
    req = env.request()
    env.must(["approve", req], who="alice")
    env.must(["approve", req], who="mia")
    ref = os.path.join(env.T, "ref.db")
    for suf in ("-wal", "-shm"):
        if os.path.exists(env.db + suf) and os.path.getsize(env.db + suf) > 0:
            raise hlib.Fail("the vault left a non-empty %s behind" % suf)
    shutil.copy2(env.db, ref)
    with open(ref, "rb") as f:
        img = f.read()
    refdump = logical(ref)
    page = hlib.sql(ref, "PRAGMA page_size")[0][0]
    size = len(img)
    if mode == "long":
        stride = int(os.environ.get("BG_BYTEFLIP_STRIDE", "16"))
    else:
        stride = QUICK_STRIDE
    offs = set(range(0, size, stride)) | set(range(0, 100))
    if mode == "long":
        for p in range(0, size, page):
            offs |= set(range(p + (100 if p == 0 else 0),
                              p + (112 if p == 0 else 12)))
    offs = sorted(o for o in offs if o < size)
    log("  reference vault: %d bytes, page size %d, %d offsets" %
        (size, page, len(offs)))
    t0 = time.time()

    def one(off, slot):
        d = os.path.join(env.T, "flip-%d" % slot)
        os.makedirs(d, exist_ok=True)
        db = os.path.join(d, "vault.db")
        for suf in hlib.SUFFIXES:
            if os.path.exists(db + suf):
                os.unlink(db + suf)
        if os.path.exists(env.db + ".key"):
            shutil.copy2(env.db + ".key", db + ".key")
        b = bytearray(img)
        b[off] ^= 0xff
        with open(db, "wb") as f:
            f.write(b)
        os.chmod(db, 0o600)
        cur = logical(db)
        same = cur == refdump
        what = ""
        if not same and isinstance(cur, tuple) and len(cur) == 2 and \
                isinstance(cur[0], dict):
            diff = [t for t in refdump[0] if refdump[0][t] != cur[0].get(t)]
            if refdump[1] != cur[1]:
                diff.append("events")
            what = "changed: %s" % ", ".join(diff)
        elif not same:
            what = "unreadable by the sqlite3 module: %s" % (cur[1],)
        bad = []
        outcome = []
        for args, who in ((["secret", "list"], None),
                          (["audit", "verify"], None),
                          (["release", req], "tom")):
            r = env.run(args, who=who, db=db)
            if r.rc < 0 or r.rc >= 128:
                bad.append("%s: exit %d (signal)" % (args[0], r.rc))
            if hlib.sanitizer_report(r.err):
                bad.append("%s: sanitizer report" % args[0])
            if r.rc != 0 and 0 < r.rc < 128 and not hlib.one_clean_line(r.err):
                bad.append("%s: not one clean error line: %r" %
                           (args[0], r.err[-200:]))
            if args[0] == "release":
                if r.rc == 0 or r.out.strip():
                    if r.out.strip() != VALUE1:
                        bad.append("release printed %r" % r.out[:80])
                    else:
                        why = extends(ref, db)
                        if why:
                            bad.append("release signed a head that does not "
                                       "extend the original log (%s): %s" %
                                       (what, why))
            outcome.append(r.rc)
        info = what if (outcome[2] == 0 and not same and not bad) else ""
        if info and outcome[1] != 0:
            info += " (audit verify names the flip)"
        return off, same, outcome, bad, info

    n = violations = unchanged = refused = 0
    slots = [0, 1]
    res = []
    with concurrent.futures.ThreadPoolExecutor(2) as ex:
        chunks = [offs[s::2] for s in slots]
        futs = [ex.submit(lambda c, s: [one(o, s) for o in c], chunks[s], s)
                for s in slots]
        for f in futs:
            res += f.result()
    noticed = {}
    for off, same, outcome, bad, info in sorted(res):
        if info:
            noticed[info] = noticed.get(info, 0) + 1
        n += 1
        if same:
            unchanged += 1
        if outcome[2] != 0:
            refused += 1
        if bad:
            violations += 1
            log("VIOLATION flip at offset %d (page %d): %s" %
                (off, off // page + 1, "; ".join(bad)))
    for k, c in sorted(noticed.items()):
        log("  note: %d flip(s) changed content and release still succeeded "
            "(the value was the original; its head extends the original "
            "log): %s" % (c, k))
    log("byteflip: %d byte flips (%d left the logical content unchanged), "
        "release refused in %d; %d violations, %.0f s" %
        (n, unchanged, refused, violations, time.time() - t0))
    return violations == 0


if __name__ == "__main__":
    hlib.main(run)
