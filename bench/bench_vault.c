/*
 * Engine benchmarks, in process, on vaults in a temporary directory:
 *
 *   bench_vault seal DIR        secrets sealed per second for policies of
 *                               2, 3, 5 and 9 approvers: through
 *                               bg_vault_secret_add (one transaction and
 *                               fsync each), through the same sealing path
 *                               batched in one transaction, and the bare
 *                               seal.h crypto; ratio to the X25519 floor
 *   bench_vault ceremony DIR    request + 2 approvals + release through
 *                               in-process software tokens, split into
 *                               token time, vault time and fsync
 *   bench_vault gen PATH T S A  generate a vault of T tenants x S secrets
 *                               under 2-of-A policies (for scripts/bench)
 *
 * DIR must exist and be empty-ish (the program creates files in it).
 * Output: fig/note lines (bench.h).
 */
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "breakglass/err.h"
#include "breakglass/token.h"
#include "breakglass/vault.h"
#include "policy.h"
#include "seal.h"
#include "soft/inproc.h"
#include "vault_int.h"

#define PIN		"123456"
#define MAX_APPROVERS	9
#define VALUE		"correct horse battery staple 0123456789abcdef"

/* BENCH_NO_V4=1 drops the index of schema migration v4 (vault/store.c)
 * to show the figures it was added for. */
#define BENCH_DROP_V4_SQL "DROP INDEX IF EXISTS tokens_membership;"

/* --- a token transport that times the authenticator's own work ---------- */

static double tok_seconds;	/* time spent inside the token's io */

static void *
tio_open(const char *path)
{
	return bg_soft_inproc_io()->open(path);
}

static void
tio_close(void *h)
{
	bg_soft_inproc_io()->close(h);
}

static int
tio_read(void *h, unsigned char *buf, size_t len, int ms)
{
	double t0 = bench_now();
	int r = bg_soft_inproc_io()->read(h, buf, len, ms);

	tok_seconds += bench_now() - t0;
	return r;
}

static int
tio_write(void *h, const unsigned char *buf, size_t len)
{
	double t0 = bench_now();
	int r = bg_soft_inproc_io()->write(h, buf, len);

	tok_seconds += bench_now() - t0;
	return r;
}

static const bg_token_io_t timed_io = {
	tio_open, tio_close, tio_read, tio_write
};

/*
 * Linked with -Wl,--wrap=bg_token_assert (Makefile): the engine's calls to
 * bg_token_assert() land here, so the time of a whole assertion (FIDO
 * client work in libfido2 plus the token's own) is known too.
 */
static double assert_seconds;

int __real_bg_token_assert(bg_token_t *, const char *, const uint8_t *,
    size_t, int, const uint8_t *, size_t, const uint8_t *, const uint8_t *,
    const char *, bg_token_assertion_t **);
int __wrap_bg_token_assert(bg_token_t *, const char *, const uint8_t *,
    size_t, int, const uint8_t *, size_t, const uint8_t *, const uint8_t *,
    const char *, bg_token_assertion_t **);

int
__wrap_bg_token_assert(bg_token_t *tok, const char *rp_id,
    const uint8_t *cred_id, size_t cred_id_len, int alg,
    const uint8_t *pubkey, size_t pubkey_len, const uint8_t *cdh,
    const uint8_t *salt, const char *pin, bg_token_assertion_t **assertp)
{
	double t0 = bench_now();
	int r = __real_bg_token_assert(tok, rp_id, cred_id, cred_id_len, alg,
	    pubkey, pubkey_len, cdh, salt, pin, assertp);

	assert_seconds += bench_now() - t0;
	return r;
}

/* --- fixture -------------------------------------------------------------- */

typedef struct person {
	char		 name[32];
	bg_soft_inproc_t *ip;
	bg_token_t	*tok;
} person_t;

typedef struct fx {
	char		 path[512];
	bg_vault_t	*v;
	person_t	 req;
	person_t	 appr[MAX_APPROVERS];
	size_t		 n_appr;
} fx_t;

static void
person_open(person_t *p, const char *name)
{
	(void)snprintf(p->name, sizeof(p->name), "%s", name);
	if (bg_soft_inproc_new(NULL, NULL, 0, &p->ip) != BG_OK ||
	    bg_token_open_io(bg_soft_inproc_path(p->ip), &timed_io,
	    &p->tok) != BG_OK ||
	    bg_token_pin_set(p->tok, PIN) != BG_OK)
		bench_die("software token for %s", name);
}

static void
person_close(person_t *p)
{
	bg_token_close(&p->tok);
	bg_soft_inproc_free(&p->ip);
}

static void
enroll(fx_t *f, const char *tenant, person_t *p, int role)
{
	if (bg_vault_member_add(f->v, "bench", tenant, p->name, role,
	    (int64_t)time(NULL) + 365 * 86400, NULL, p->tok, PIN) != BG_OK)
		bench_die("enroll %s: %s", p->name, bg_vault_errmsg(f->v));
}

/* "2-of(p1,p2,...)" */
static void
policy_text(size_t n, char *buf, size_t cap)
{
	size_t i, o;

	o = (size_t)snprintf(buf, cap, "2-of(");
	for (i = 0; i < n && o < cap; i++)
		o += (size_t)snprintf(buf + o, cap - o, "%sp%zu",
		    i ? "," : "", i + 1);
	if (o < cap)
		(void)snprintf(buf + o, cap - o, ")");
}

static void
fx_open(fx_t *f, const char *dir, const char *file, size_t n_appr)
{
	char name[32], pol[256];
	size_t i;

	memset(f, 0, sizeof(*f));
	(void)snprintf(f->path, sizeof(f->path), "%s/%s", dir, file);
	(void)unlink(f->path);
	if (bg_vault_create(f->path, true, "bench", &f->v) != BG_OK)
		bench_die("create %s", f->path);
	if (bg_vault_tenant_add(f->v, "bench", "acme", NULL) != BG_OK)
		bench_die("tenant: %s", bg_vault_errmsg(f->v));
	f->n_appr = n_appr;
	person_open(&f->req, "carol");
	enroll(f, "acme", &f->req, BG_VAULT_ROLE_REQUESTER);
	for (i = 0; i < n_appr; i++) {
		(void)snprintf(name, sizeof(name), "p%zu", i + 1);
		person_open(&f->appr[i], name);
		enroll(f, "acme", &f->appr[i], BG_VAULT_ROLE_APPROVER);
	}
	policy_text(n_appr, pol, sizeof(pol));
	if (bg_vault_policy_set(f->v, "bench", "acme", pol) != BG_OK)
		bench_die("policy %s: %s", pol, bg_vault_errmsg(f->v));
}

static void
fx_close(fx_t *f)
{
	size_t i;

	bg_vault_close(&f->v);
	person_close(&f->req);
	for (i = 0; i < f->n_appr; i++)
		person_close(&f->appr[i]);
}

static void
set_sync(bg_vault_t *v, bool on)
{
	if (sqlite3_exec(v->db, on ? "PRAGMA synchronous = FULL" :
	    "PRAGMA synchronous = OFF", NULL, NULL, NULL) != SQLITE_OK)
		bench_die("synchronous pragma");
}

/*
 * The body of bg_vault_secret_add() inside the caller's transaction: the
 * secret row, bg_secret_seal() (keyset check, data key, value blob, policy
 * split, one box per approver token, rows) and the audit event.
 */
static int
add_in_tx(bg_vault_t *v, const bg_tenant_row_t *t, const char *name,
    const uint8_t *value, size_t len, int64_t now)
{
	sqlite3_stmt *st = NULL;
	json_t *det = NULL;
	int64_t sid;
	int r = BG_ERR_INTERNAL;

	if ((r = bg_store_prepare(v, "INSERT INTO secrets (tenant_id, name, "
	    "created_at) VALUES (?, ?, ?)", &st)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 1, t->id)) != BG_OK ||
	    (r = bg_store_bind_text(v, st, 2, name)) != BG_OK ||
	    (r = bg_store_bind_int(v, st, 3, now)) != BG_OK ||
	    (r = bg_store_step_done(v, st)) != BG_OK)
		goto out;
	sid = sqlite3_last_insert_rowid(v->db);
	if ((det = json_object()) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = bg_secret_seal(v, t, sid, name, 1, BG_VAULT_VERSION_SEALED,
	    now, value, len, det)) != BG_OK)
		goto out;
	r = bg_audit_append(v, now, "bench", "secret.add", t->name, name, det);
	det = NULL;
out:
	sqlite3_finalize(st);
	json_decref(det);
	return r;
}

/* --- seal ------------------------------------------------------------------ */

/* Median seconds of one X25519 scalar multiplication, measured now. */
static double
x25519_floor(size_t rounds)
{
	double s[BENCH_MAX_ROUNDS], t0;
	uint8_t sk[32], pk[32], out[32];
	size_t i, k, iters = bench_quick() ? 500 : 2000;

	randombytes_buf(sk, sizeof(sk));
	if (crypto_scalarmult_base(pk, sk) != 0)
		bench_die("x25519");
	for (i = 0; i < rounds; i++) {
		t0 = bench_now();
		for (k = 0; k < iters; k++) {
			if (crypto_scalarmult(out, sk, pk) != 0)
				bench_die("x25519");
			pk[0] ^= out[0];
		}
		s[i] = (bench_now() - t0) / (double)iters;
	}
	return bench_stat(s, rounds).med;
}

/* Bare crypto of one secret, as bg_secret_seal() does it (no rows). */
static void
seal_bare(const bg_policy_t *pol, const uint8_t pks[][32], size_t n,
    uint8_t *key, uint8_t *shares)
{
	uint8_t blob[sizeof(VALUE) + BG_SEAL_VALUE_OVERHEAD];
	uint8_t box[BG_POLICY_SHARE_LEN + BG_SEAL_BOX_OVERHEAD];
	bg_seal_ad_t ad;
	size_t blen = 0, i;

	if (bg_seal_data_key(key) != BG_OK ||
	    bg_seal_ad_value(&ad, "0123456789abcdef0123456789abcdef", "acme",
	    "s", 1, bg_policy_hash(pol)) != BG_OK ||
	    bg_seal_value(key, (const uint8_t *)VALUE, sizeof(VALUE) - 1,
	    ad.buf, ad.len, blob, sizeof(blob), &blen) != BG_OK ||
	    bg_policy_split(pol, key, shares, NULL, NULL) != BG_OK)
		bench_die("bare seal");
	for (i = 0; i < n; i++)
		if (bg_seal_ad_share(&ad, "0123456789abcdef0123456789abcdef",
		    "acme", "s", 1, i, bg_policy_hash(pol)) != BG_OK ||
		    bg_seal_box(pks[i], shares + i * BG_POLICY_SHARE_LEN,
		    BG_POLICY_SHARE_LEN, ad.buf, ad.len, box, sizeof(box),
		    &blen) != BG_OK)
			bench_die("bare box");
}

static void
bench_seal(const char *dir)
{
	static const size_t sizes[] = { 2, 3, 5, 9 };
	double s_tx[BENCH_MAX_ROUNDS], s_batch[BENCH_MAX_ROUNDS];
	double s_bare[BENCH_MAX_ROUNDS], t0, x, floor_rate;
	size_t rounds = bench_rounds(), z, i, k, n, per_round, serial = 0;
	bg_tenant_row_t t;
	bg_policy_t *pol = NULL;
	uint8_t pks[MAX_APPROVERS][32], *key = NULL, *shares = NULL;
	bench_stat_t st;
	char label[96], name[32], pol_text[256];
	int64_t now;
	fx_t f;

	x = x25519_floor(rounds);
	bench_fig1("seal", "X25519 floor (this run)", x * 1e6, "us/op");
	per_round = bench_quick() ? 20 : 60;
	if ((key = sodium_malloc(BG_SEAL_KEY_LEN)) == NULL ||
	    (shares = sodium_malloc(MAX_APPROVERS * BG_POLICY_SHARE_LEN)) ==
	    NULL)
		bench_die("sodium_malloc");
	for (z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
		n = sizes[z];
		fx_open(&f, dir, "seal.db", n);
		floor_rate = 1.0 / ((double)(n + 1) * x);
		/* 1: the public call, one transaction (and fsync) per secret */
		for (i = 0; i < rounds; i++) {
			t0 = bench_now();
			for (k = 0; k < per_round; k++) {
				(void)snprintf(name, sizeof(name), "a%zu",
				    serial++);
				if (bg_vault_secret_add(f.v, "bench", "acme",
				    name, (const uint8_t *)VALUE,
				    sizeof(VALUE) - 1) != BG_OK)
					bench_die("secret add: %s",
					    bg_vault_errmsg(f.v));
			}
			s_tx[i] = (double)per_round / (bench_now() - t0);
		}
		/* 2: the same sealing path, many secrets per transaction */
		memset(&t, 0, sizeof(t));
		for (i = 0; i < rounds; i++) {
			t0 = bench_now();
			if (bg_store_begin(f.v) != BG_OK ||
			    bg_vault_now(f.v, &now) != BG_OK ||
			    bg_tenant_get(f.v, "acme", &t) != BG_OK)
				bench_die("begin: %s", bg_vault_errmsg(f.v));
			for (k = 0; k < per_round * 4; k++) {
				(void)snprintf(name, sizeof(name), "b%zu",
				    serial++);
				if (add_in_tx(f.v, &t, name,
				    (const uint8_t *)VALUE, sizeof(VALUE) - 1,
				    now) != BG_OK)
					bench_die("batched add: %s",
					    bg_vault_errmsg(f.v));
			}
			if (bg_store_commit(f.v) != BG_OK)
				bench_die("commit: %s", bg_vault_errmsg(f.v));
			bg_tenant_row_clear(&t);
			s_batch[i] = (double)(per_round * 4) /
			    (bench_now() - t0);
		}
		/* 3: bare crypto (seal.h + policy split), no database */
		policy_text(n, pol_text, sizeof(pol_text));
		if (bg_policy_parse(pol_text, &pol, NULL) != BG_OK)
			bench_die("policy parse");
		for (k = 0; k < n; k++)
			randombytes_buf(pks[k], 32);
		for (k = 0; k < n; k++)
			if (crypto_scalarmult_base(pks[k], pks[k]) != 0)
				bench_die("pk");
		for (i = 0; i < rounds; i++) {
			t0 = bench_now();
			for (k = 0; k < per_round * 4; k++)
				seal_bare(pol, pks, n, key, shares);
			s_bare[i] = (double)(per_round * 4) /
			    (bench_now() - t0);
		}
		bg_policy_free(&pol);
		(void)snprintf(label, sizeof(label),
		    "%zu approvers: floor 1/((n+1) X25519)", n);
		bench_fig1("seal", label, floor_rate, "secrets/s");
		st = bench_stat(s_tx, rounds);
		(void)snprintf(label, sizeof(label),
		    "%zu approvers: secret_add (tx+fsync each)", n);
		bench_fig("seal", label, st, "secrets/s");
		(void)snprintf(label, sizeof(label),
		    "%zu approvers: secret_add ratio to floor", n);
		bench_fig1("seal", label, 100.0 * st.med / floor_rate, "%");
		st = bench_stat(s_batch, rounds);
		(void)snprintf(label, sizeof(label),
		    "%zu approvers: sealing path, batched tx", n);
		bench_fig("seal", label, st, "secrets/s");
		(void)snprintf(label, sizeof(label),
		    "%zu approvers: batched ratio to floor", n);
		bench_fig1("seal", label, 100.0 * st.med / floor_rate, "%");
		st = bench_stat(s_bare, rounds);
		(void)snprintf(label, sizeof(label),
		    "%zu approvers: bare seal crypto", n);
		bench_fig("seal", label, st, "secrets/s");
		(void)snprintf(label, sizeof(label),
		    "%zu approvers: bare crypto ratio to floor", n);
		bench_fig1("seal", label, 100.0 * st.med / floor_rate, "%");
		fx_close(&f);
		(void)unlink(f.path);
	}
	sodium_free(key);
	sodium_free(shares);
}

/* --- ceremony ------------------------------------------------------------ */

/*
 * One ceremony on secret name; returns its wall time, *tokp the token's
 * time, *hostp the FIDO client's (assertions minus token time).
 */
static double
one_ceremony(fx_t *f, const char *name, double *tokp, double *hostp)
{
	uint8_t hash[BG_VAULT_HASH_LEN], *value = NULL;
	size_t len = 0, i;
	int64_t id = 0;
	double t0, total;

	tok_seconds = 0;
	assert_seconds = 0;
	t0 = bench_now();
	if (bg_vault_request(f->v, "acme", name, "carol", "disk full on db01",
	    "INC-4711", 900, f->req.tok, PIN, &id) != BG_OK)
		bench_die("request: %s", bg_vault_errmsg(f->v));
	for (i = 0; i < 2; i++) {
		if (bg_vault_statement(f->v, id, NULL, hash) != BG_OK ||
		    bg_vault_approve(f->v, id, f->appr[i].name, hash,
		    f->appr[i].tok, PIN) != BG_OK)
			bench_die("approve: %s", bg_vault_errmsg(f->v));
	}
	if (bg_vault_release(f->v, id, "carol", f->req.tok, PIN, &value,
	    &len) != BG_OK)
		bench_die("release: %s", bg_vault_errmsg(f->v));
	total = bench_now() - t0;
	if (len != sizeof(VALUE) - 1 ||
	    memcmp(value, VALUE, len) != 0) /* public: benchmark fixture */
		bench_die("released value differs");
	sodium_free(value);
	*tokp = tok_seconds;
	*hostp = assert_seconds - tok_seconds;
	return total;
}

static void
bench_ceremony(const char *dir)
{
	size_t rounds = bench_rounds(), per = bench_quick() ? 4 : 10;
	size_t i, k, serial = 0, pass;
	double tot[2][BENCH_MAX_ROUNDS], tok[2][BENCH_MAX_ROUNDS];
	double vt[2][BENCH_MAX_ROUNDS], host[2][BENCH_MAX_ROUNDS];
	double a, b, c, sa, sb, sc;
	bench_stat_t st, st_off;
	char name[32];
	fx_t f;

	fx_open(&f, dir, "ceremony.db", 3);
	for (k = 0; k < 2 * rounds * per + 2; k++) {
		(void)snprintf(name, sizeof(name), "s%zu", k);
		if (bg_vault_secret_add(f.v, "bench", "acme", name,
		    (const uint8_t *)VALUE, sizeof(VALUE) - 1) != BG_OK)
			bench_die("secret: %s", bg_vault_errmsg(f.v));
	}
	(void)one_ceremony(&f, "s0", &a, &c);	/* warm up */
	serial = 1;
	/* pass 0: synchronous=FULL as shipped; pass 1: synchronous=OFF */
	for (pass = 0; pass < 2; pass++) {
		set_sync(f.v, pass == 0);
		for (i = 0; i < rounds; i++) {
			sa = sb = sc = 0;
			for (k = 0; k < per; k++) {
				(void)snprintf(name, sizeof(name), "s%zu",
				    serial++);
				a = one_ceremony(&f, name, &b, &c);
				sa += a;
				sb += b;
				sc += c;
			}
			tot[pass][i] = sa / (double)per * 1e3;
			tok[pass][i] = sb / (double)per * 1e3;
			host[pass][i] = sc / (double)per * 1e3;
			vt[pass][i] = (sa - sb - sc) / (double)per * 1e3;
		}
	}
	set_sync(f.v, true);
	st = bench_stat(tot[0], rounds);
	bench_fig("ceremony", "total (synchronous=FULL)", st, "ms");
	st_off = bench_stat(tot[1], rounds);
	bench_fig("ceremony", "total (synchronous=OFF)", st_off, "ms");
	bench_fig("ceremony", "token time (inside the token's io)",
	    bench_stat(tok[1], rounds), "ms");
	bench_fig("ceremony", "FIDO client time (libfido2, PIN protocol)",
	    bench_stat(host[1], rounds), "ms");
	bench_fig("ceremony", "vault time, fsync excluded",
	    bench_stat(vt[1], rounds), "ms");
	bench_fig("ceremony", "vault time incl. fsync",
	    bench_stat(vt[0], rounds), "ms");
	bench_fig1("ceremony", "fsync (FULL minus OFF)", st.med - st_off.med,
	    "ms");
	bench_note("ceremony", "request + 2 approvals + release, %zu per "
	    "round, 2-of(p1,p2,p3), in-process software tokens", per);
	fx_close(&f);
	(void)unlink(f.path);
}

/* --- generation ------------------------------------------------------------ */

/* Copy tenant src's memberships and tokens to tenant dst (bench shortcut). */
static void
copy_members(bg_vault_t *v, int64_t src, int64_t dst)
{
	sqlite3_stmt *st = NULL;
	static const char *const sql[] = {
		"INSERT INTO memberships (tenant_id, person, role, expires_at, "
		"created_at, salt) SELECT ?2, person, role, expires_at, "
		"created_at, salt FROM memberships WHERE tenant_id = ?1 "
		"ORDER BY id",
		"INSERT INTO tokens (membership_id, label, enrolled_at, cred_id, "
		"cose_key, pubkey, alg, aaguid, is_soft, fmt, attestation, x5c, "
		"cred_protect, sign_count, member_pk) SELECT nm.id, k.label, "
		"k.enrolled_at, k.cred_id, k.cose_key, k.pubkey, k.alg, "
		"k.aaguid, k.is_soft, k.fmt, k.attestation, k.x5c, "
		"k.cred_protect, k.sign_count, k.member_pk FROM tokens k "
		"JOIN memberships om ON om.id = k.membership_id "
		"JOIN memberships nm ON nm.tenant_id = ?2 AND "
		"nm.person = om.person AND nm.role = om.role "
		"WHERE om.tenant_id = ?1 ORDER BY k.id",
	};
	size_t i;

	for (i = 0; i < 2; i++) {
		if (bg_store_prepare(v, sql[i], &st) != BG_OK ||
		    bg_store_bind_int(v, st, 1, src) != BG_OK ||
		    bg_store_bind_int(v, st, 2, dst) != BG_OK ||
		    bg_store_step_done(v, st) != BG_OK)
			bench_die("copy members: %s", bg_vault_errmsg(v));
		sqlite3_finalize(st);
		st = NULL;
	}
}

static void
bench_gen(const char *path, size_t nt, size_t ns, size_t na)
{
	bg_vault_t *v = NULL;
	bg_tenant_row_t t, t0row;
	person_t appr[MAX_APPROVERS];
	char tname[32], sname[32], pol[256], pname[32];
	size_t i, k, in_tx = 0, batch = 2000;
	double start, tsec, ssec = 0, s0;
	int64_t now = 0;
	off_t base = 0;
	const char *idx;
	fx_t f;
	struct stat sb;

	if (na < 2 || na > MAX_APPROVERS)
		bench_die("approvers: 2..%d", MAX_APPROVERS);
	memset(&t, 0, sizeof(t));
	memset(&t0row, 0, sizeof(t0row));
	(void)unlink(path);
	if (bg_vault_create(path, true, "bench", &v) != BG_OK)
		bench_die("create %s", path);
	set_sync(v, false);
	idx = getenv("BENCH_NO_V4");
	if (idx != NULL && idx[0] != '\0') {
		if (bg_store_exec(v, BENCH_DROP_V4_SQL) != BG_OK)
			bench_die("dropping the v4 index: %s",
			    bg_vault_errmsg(v));
		bench_note("scale", "without the v4 indexes (BENCH_NO_V4)");
	}
	memset(&f, 0, sizeof(f));
	f.v = v;
	policy_text(na, pol, sizeof(pol));
	start = bench_now();
	for (i = 0; i < nt; i++) {
		(void)snprintf(tname, sizeof(tname), "t%05zu", i);
		if (bg_vault_tenant_add(v, "bench", tname, NULL) != BG_OK)
			bench_die("tenant: %s", bg_vault_errmsg(v));
		if (i == 0) {
			for (k = 0; k < na; k++) {
				(void)snprintf(pname, sizeof(pname), "p%zu",
				    k + 1);
				person_open(&appr[k], pname);
				enroll(&f, tname, &appr[k],
				    BG_VAULT_ROLE_APPROVER);
			}
			if (bg_tenant_get(v, tname, &t0row) != BG_OK)
				bench_die("tenant get");
		} else {
			if (bg_tenant_get(v, tname, &t) != BG_OK ||
			    bg_store_begin(v) != BG_OK)
				bench_die("tenant get: %s", bg_vault_errmsg(v));
			copy_members(v, t0row.id, t.id);
			if (bg_store_commit(v) != BG_OK)
				bench_die("commit");
			bg_tenant_row_clear(&t);
		}
		if (bg_vault_policy_set(v, "bench", tname, pol) != BG_OK)
			bench_die("policy: %s", bg_vault_errmsg(v));
	}
	tsec = bench_now() - start;
	if (bg_store_checkpoint(v) != BG_OK || stat(path, &sb) != 0)
		bench_die("checkpoint");
	base = sb.st_size;
	for (i = 0; i < nt; i++) {
		(void)snprintf(tname, sizeof(tname), "t%05zu", i);
		s0 = bench_now();
		if (in_tx == 0 && (bg_store_begin(v) != BG_OK ||
		    bg_vault_now(v, &now) != BG_OK))
			bench_die("begin: %s", bg_vault_errmsg(v));
		if (bg_tenant_get(v, tname, &t) != BG_OK)
			bench_die("tenant get: %s", bg_vault_errmsg(v));
		for (k = 0; k < ns; k++) {
			(void)snprintf(sname, sizeof(sname), "s%03zu", k);
			if (add_in_tx(v, &t, sname, (const uint8_t *)VALUE,
			    sizeof(VALUE) - 1, now) != BG_OK)
				bench_die("add: %s", bg_vault_errmsg(v));
			if (++in_tx >= batch) {
				if (bg_store_commit(v) != BG_OK ||
				    bg_store_begin(v) != BG_OK)
					bench_die("commit: %s",
					    bg_vault_errmsg(v));
				in_tx = 1;
			}
		}
		bg_tenant_row_clear(&t);
		ssec += bench_now() - s0;
	}
	if (in_tx > 0 && bg_store_commit(v) != BG_OK)
		bench_die("commit: %s", bg_vault_errmsg(v));
	set_sync(v, true);
	if (bg_store_checkpoint(v) != BG_OK)
		bench_die("checkpoint");
	bg_vault_close(&v);
	for (k = 0; k < na; k++)
		person_close(&appr[k]);
	bg_tenant_row_clear(&t0row);
	if (stat(path, &sb) != 0)
		bench_die("stat %s", path);
	bench_note("scale", "generated %zu tenants x %zu secrets, 2-of-%zu "
	    "policies, %zu approvers' tokens each, batches of %zu secrets per "
	    "transaction, synchronous=OFF while generating", nt, ns, na, na,
	    batch);
	bench_fig1("scale", "generation: tenants+members+policy",
	    (double)nt / tsec, "tenants/s");
	bench_fig1("scale", "generation: secrets sealed",
	    (double)(nt * ns) / ssec, "secrets/s");
	bench_fig1("scale", "database size", (double)sb.st_size / 1048576.0,
	    "MiB");
	bench_fig1("scale", "bytes of database per secret version",
	    (double)sb.st_size / (double)(nt * ns), "B");
	bench_fig1("scale", "bytes per secret version, marginal",
	    (double)(sb.st_size - base) / (double)(nt * ns), "B");
}

int
main(int argc, char **argv)
{
	if (sodium_init() < 0 || bg_token_init() != BG_OK)
		bench_die("init");
	if (argc == 3 && strcmp(argv[1], "seal") == 0)
		bench_seal(argv[2]);
	else if (argc == 3 && strcmp(argv[1], "ceremony") == 0)
		bench_ceremony(argv[2]);
	else if (argc == 6 && strcmp(argv[1], "gen") == 0)
		bench_gen(argv[2], strtoul(argv[3], NULL, 10),
		    strtoul(argv[4], NULL, 10), strtoul(argv[5], NULL, 10));
	else
		bench_die("usage: bench_vault seal DIR | ceremony DIR | "
		    "gen PATH TENANTS SECRETS APPROVERS");
	return 0;
}
