"""Shared helpers for the hardening harnesses (tests/hardening/*.py).

Each harness is started by tests/hardening/run.sh, which creates the temp
directory T (removed by its trap, which also kills every pid listed in
T/pids) and passes MODE ("quick" or "long") and T.  Everything here drives
the real programs: BG_BUILD/vault and BG_BUILD/tokenctl with software
tokens on UNIX sockets; nothing inside the product is overridden.
"""
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

BUILD = os.environ.get("BG_BUILD", "build")
VAULT = os.path.abspath(os.environ.get("VAULT_BIN", os.path.join(BUILD, "vault")))
TOKENCTL = os.path.abspath(os.environ.get("TOKENCTL_BIN",
                                          os.path.join(BUILD, "tokenctl")))

VALUE1 = "hunter2-domain-admin"
VALUE_DB = "db-second-secret"
VALUE2 = "rotated-value-v2"

# carol and dave are the vault's custodians (they sign its genesis and
# the tenant's first link); tom requests; alice and bob approve for the
# client, mia for the MSP.
CUSTODIANS = ("carol", "dave")
OPERATOR = "olga"
# acts a custodian signs (--as) in these tests
CUSTODIAN_ACTS = (["tenant", "add"], ["tenant", "set"], ["policy", "set"],
                  ["member", "remove"], ["member", "recertify"],
                  ["chain", "discard"])
PEOPLE = CUSTODIANS + ("tom", "alice", "bob", "mia", OPERATOR)
SIDE = {"alice": "client", "bob": "client", "mia": "msp"}
POLICY = "all-of(1-of(alice,bob),1-of(mia))"

# The files of a vault: the database, SQLite's WAL, shared-memory index and
# journal, and the transparency log's signing key (FILE.key).
SUFFIXES = ("", "-wal", "-shm", "-journal", ".key")

# version states (include/breakglass/vault.h)
V_PENDING, V_SEALED, V_SPENT, V_RETIRED = 0, 1, 2, 3
R_OPEN, R_RELEASED = 1, 2


class Fail(Exception):
    pass


def log(msg):
    sys.stdout.write(msg + "\n")
    sys.stdout.flush()


class Result:
    def __init__(self, rc, out, err):
        self.rc, self.out, self.err = rc, out, err

    def __repr__(self):
        return "rc=%d out=%r err=%r" % (self.rc, self.out[-300:], self.err[-300:])


class Env:
    """A temp dir with six software tokens (carol, dave, tom, alice, bob,
    mia)."""

    def __init__(self, T):
        self.T = T
        self.db = os.path.join(T, "vault.db")
        self.procs = []
        self.env = dict(os.environ)
        self.env["BREAKGLASS_VAULT"] = self.db
        self.env.pop("XDG_DATA_HOME", None)
        self.env["ASAN_OPTIONS"] = (self.env.get("ASAN_OPTIONS", "") +
                                    ":verify_asan_link_order=0").lstrip(":")

    # --- software tokens -------------------------------------------------
    def token(self, name):
        return "unix:%s/%s.sock" % (self.T, name)

    def pin(self, name):
        return "%s/%s.pin" % (self.T, name)

    def start_tokens(self):
        for n in PEOPLE:
            st = os.path.join(self.T, n + ".state")
            subprocess.run([TOKENCTL, "soft", "create", "--state", st],
                           check=True, capture_output=True)
            logf = open(os.path.join(self.T, n + ".log"), "w")
            p = subprocess.Popen([TOKENCTL, "soft", "serve", "--state", st,
                                  "--socket", os.path.join(self.T, n + ".sock")],
                                 stdout=subprocess.DEVNULL, stderr=logf)
            self.procs.append(p)
            with open(os.path.join(self.T, "pids"), "a") as f:
                f.write("%d\n" % p.pid)
            for _ in range(1000):
                with open(os.path.join(self.T, n + ".log")) as f:
                    if "ready on unix:" in f.read():
                        break
                if p.poll() is not None:
                    raise Fail("software token %s exited" % n)
                time.sleep(0.01)
            else:
                raise Fail("software token %s did not start" % n)
            fd = os.open(self.pin(n), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.write(fd, ("pin-%s-1\n" % n).encode())
            os.close(fd)
            subprocess.run([TOKENCTL, "pin", "set", "--token", self.token(n),
                            "--pin-file", self.pin(n)], check=True,
                           capture_output=True)

    def stop(self):
        for p in self.procs:
            try:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=5)
            except Exception:
                pass

    # --- running the vault -------------------------------------------------
    def run(self, args, stdin=b"", prefix=(), env=None, who=None, db=None,
            timeout=120):
        cmd = list(prefix) + [VAULT]
        # sealing and rotating are the operator's signed acts; a tenant
        # and its draft are amended by a custodian's
        if who is None and (args[0] == "rotate" or
                            list(args[:2]) in (["secret", "add"],
                                               ["secret", "import"])):
            who = OPERATOR
        if who is None and list(args[:2]) in CUSTODIAN_ACTS:
            who = CUSTODIANS[0]
        if who is not None:
            cmd += ["--token", self.token(who), "--pin-file", self.pin(who)]
        if db is not None:
            cmd += ["--vault", db]
        cmd += list(args)
        if who is not None and (args[0] in ("request", "approve", "deny",
                                             "release", "init", "rotate") or
                                list(args[:2]) in (["secret", "add"],
                                                   ["secret", "import"]) or
                                list(args[:2]) in CUSTODIAN_ACTS or
                                list(args[:2]) == ["chain", "sign"]):
            cmd += ["--as", who]
        e = self.env if env is None else env
        if prefix and prefix[0] == "strace":
            # LeakSanitizer cannot run under ptrace; leaks are checked by
            # failmalloc.py, which does not use strace.
            e = dict(e)
            e["ASAN_OPTIONS"] = e.get("ASAN_OPTIONS", "") + ":detect_leaks=0"
        p = subprocess.run(cmd, input=stdin, capture_output=True, env=e,
                           timeout=timeout)
        return Result(p.returncode, p.stdout.decode(errors="replace"),
                      p.stderr.decode(errors="replace"))

    def must(self, args, **kw):
        r = self.run(args, **kw)
        if r.rc != 0:
            raise Fail("vault %s: %r" % (" ".join(args), r))
        return r

    def enroll(self, who, role, tenant="acme"):
        """Enroll who's token into tenant's draft link."""
        args = ["member", "add", tenant, who, "--role", role, "--label",
                who + "-soft"]
        if role == "approver":
            args += ["--side", SIDE.get(who, "client")]
        self.must(args, who=who)

    def sign(self, who, tenant=None, db=None):
        """who signs the draft of tenant's chain (None: the genesis)."""
        return self.must(["chain", "sign"] + ([tenant] if tenant else []),
                         who=who, db=db)

    def genesis(self):
        """A drill vault whose genesis, naming custodians carol and dave,
        both have signed."""
        self.must(["init", "--allow-soft-tokens"], who="carol")
        self.must(["custodian", "add", "dave"], who="dave")
        self.sign("carol")
        r = self.sign("dave")
        if "takes effect now" not in r.out:
            raise Fail("the genesis did not take effect: %r" % r)

    def std_vault(self):
        """Custodians carol and dave (signed genesis); tenant acme whose
        first link (signed by carol, dave, alice and bob) has requester
        tom, operator olga, client approvers alice and bob, MSP approver
        mia and policy
        all-of(1-of(alice,bob),1-of(mia)); secret acme/da = VALUE1."""
        self.genesis()
        self.must(["tenant", "add", "acme"])
        self.enroll("tom", "requester")
        self.enroll(OPERATOR, "operator")
        for p in ("alice", "bob", "mia"):
            self.enroll(p, "approver")
        self.must(["policy", "set", "acme", POLICY])
        for p in CUSTODIANS + ("alice", "bob"):
            r = self.sign(p, "acme")
        if "link 1 of acme takes effect now" not in r.out:
            raise Fail("link 1 of acme did not take effect: %r" % r)
        self.must(["secret", "add", "acme", "da"], stdin=(VALUE1 + "\n").encode())

    def request(self, secret="acme/da", db=None):
        r = self.must(["request", secret, "--reason", "drill", "--ticket",
                       "HARD-1", "--ttl", "1h"], who="tom", db=db)
        return r.out.strip()

    def ceremony(self, secret="acme/da", db=None):
        """A fresh request, two approvals and a release; the value."""
        req = self.request(secret, db=db)
        self.must(["approve", req], who="alice", db=db)
        self.must(["approve", req], who="mia", db=db)
        r = self.must(["release", req], who="tom", db=db)
        return r.out.rstrip("\n")

    # --- files -------------------------------------------------------------
    def files(self, db=None):
        d = db or self.db
        return [d + suf for suf in SUFFIXES]

    def snapshot(self, name):
        dst = os.path.join(self.T, "snap-" + name)
        os.makedirs(dst, exist_ok=True)
        for f in self.files():
            t = os.path.join(dst, os.path.basename(f))
            if os.path.exists(f):
                shutil.copy2(f, t)
            elif os.path.exists(t):
                os.unlink(t)
        return dst

    def restore(self, snap, db=None):
        """Put snapshot snap in place of db (default: the main vault)."""
        d = db or self.db
        for suf in SUFFIXES:
            s = os.path.join(snap, os.path.basename(self.db) + suf)
            if os.path.exists(d + suf):
                os.unlink(d + suf)
            if os.path.exists(s):
                shutil.copy2(s, d + suf)


# --- database checks (the sqlite3 module, like the sqlite3 program) -------

def sql(db, q, args=()):
    c = sqlite3.connect(db, timeout=10)
    try:
        return c.execute(q, args).fetchall()
    finally:
        c.close()


def integrity(db):
    rows = sql(db, "PRAGMA integrity_check")
    return rows == [("ok",)], rows


# The audit log's own tables: they follow the events (the transparency
# log's state grows with every appended event, a refusal included).
LOG_TABLES = ("tree_state", "tree_heads")


def dump(db):
    """Every row of every table but events, and the events as a list."""
    c = sqlite3.connect(db, timeout=10)
    try:
        names = [r[0] for r in c.execute(
            "SELECT name FROM sqlite_schema WHERE type='table' "
            "AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        c.text_factory = bytes	# raw bytes: a flipped byte need not be UTF-8
        data = {}
        for n in names:
            if n == "events":
                continue
            data[n] = sorted(c.execute('SELECT * FROM "%s"' % n).fetchall(),
                             key=repr)
        ev = [(e[0], e[1].decode(errors="replace")) + tuple(e[2:])
              for e in c.execute("SELECT seq, action, entry, chain FROM "
                                 "events ORDER BY seq").fetchall()] \
            if "events" in names else []
        return data, ev
    finally:
        c.close()


def invariants(db):
    """Violations of the state invariants, as a list of sentences."""
    bad = []
    for (sid,) in sql(db, """SELECT s.id FROM secrets s WHERE
            (SELECT count(*) FROM versions v WHERE v.secret_id = s.id
             AND v.state IN (1, 2)) != 1
            OR (SELECT count(*) FROM versions v WHERE v.secret_id = s.id
             AND v.state = 0) > 1"""):
        bad.append("secret %d is not in exactly one state" % sid)
    for (vid,) in sql(db, """SELECT v.id FROM versions v WHERE v.state = 2
            AND (SELECT count(*) FROM requests r WHERE r.version_id = v.id
                 AND r.state = 2) != 1"""):
        bad.append("spent version %d without exactly one released request" % vid)
    for (rid,) in sql(db, """SELECT r.id FROM requests r JOIN versions v
            ON v.id = r.version_id WHERE r.state = 2 AND v.state IN (0, 1)"""):
        bad.append("released request %d on an unspent version" % rid)
    for (rid,) in sql(db, """SELECT r.id FROM requests r WHERE r.state = 2
            AND NOT EXISTS (SELECT 1 FROM events e WHERE e.action = 'release'
              AND json_extract(e.entry, '$.details.request') = r.id)"""):
        bad.append("released request %d has no release event" % rid)
    return bad


def release_event(db, req):
    return bool(sql(db, """SELECT 1 FROM events WHERE action = 'release'
        AND json_extract(entry, '$.details.request') = ?""", (int(req),)))


def one_clean_line(err):
    """The error output ends in exactly one 'vault: ...' line."""
    lines = [l for l in err.splitlines() if l.strip()]
    if not lines or not lines[-1].startswith("vault: "):
        return False
    return sum(1 for l in lines if l.startswith("vault: ")) == 1


def sanitizer_report(err):
    return ("AddressSanitizer" in err or "runtime error:" in err or
            "LeakSanitizer" in err or "UndefinedBehaviorSanitizer" in err)


def main(fn):
    mode, T = sys.argv[1], sys.argv[2]
    env = Env(T)
    t0 = time.time()
    try:
        env.start_tokens()
        ok = fn(env, mode)
    except Fail as e:
        log("FAIL: %s" % e)
        ok = False
    finally:
        env.stop()
    log("(%.0f s)" % (time.time() - t0))
    sys.exit(0 if ok else 1)
