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

/* n secrets named PREFIX<serial> through bg_vault_secret_add_many. */
static int
add_batch(bg_vault_t *v, const char *tenant, const char *prefix, size_t n,
    size_t *serial)
{
	static char names[BG_VAULT_ADD_MANY_MAX][32];
	static const char *np[BG_VAULT_ADD_MANY_MAX];
	static const uint8_t *vp[BG_VAULT_ADD_MANY_MAX];
	static size_t lens[BG_VAULT_ADD_MANY_MAX];
	size_t i;

	if (n > BG_VAULT_ADD_MANY_MAX)
		bench_die("batch of %zu", n);
	for (i = 0; i < n; i++) {
		(void)snprintf(names[i], sizeof(names[i]), "%s%zu", prefix,
		    (*serial)++);
		np[i] = names[i];
		vp[i] = (const uint8_t *)VALUE;
		lens[i] = sizeof(VALUE) - 1;
	}
	return bg_vault_secret_add_many(v, "bench", tenant, n, np, vp, lens);
}

/* --- seal ------------------------------------------------------------------ */

/*
 * Seconds per X25519 scalar multiplication, measured now over iters.
 * Each sealing round is paired with its own floor measured just before
 * it, so that the ratio compares two figures taken under the same load.
 */
static double
x25519_now(size_t iters)
{
	uint8_t sk[32], pk[32], out[32];
	double t0;
	size_t k;

	randombytes_buf(sk, sizeof(sk));
	if (crypto_scalarmult_base(pk, sk) != 0)
		bench_die("x25519");
	t0 = bench_now();
	for (k = 0; k < iters; k++) {
		if (crypto_scalarmult(out, sk, pk) != 0)
			bench_die("x25519");
		pk[0] ^= out[0];
	}
	return (bench_now() - t0) / (double)iters;
}

/* Bare crypto of one secret, as bg_secret_seal() does it (no rows). */
static void
seal_bare(const bg_policy_t *pol, const uint8_t pks[][32], size_t n,
    uint8_t *key, bg_seal_eph_t *eph, uint8_t *shares, uint8_t *work)
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
	    bg_policy_split_with(pol, key, shares, work, NULL, NULL) != BG_OK ||
	    bg_seal_eph_init(eph) != BG_OK)
		bench_die("bare seal");
	for (i = 0; i < n; i++)
		if (bg_seal_ad_share(&ad, "0123456789abcdef0123456789abcdef",
		    "acme", "s", 1, i, bg_policy_hash(pol)) != BG_OK ||
		    bg_seal_box_eph(eph, pks[i], shares + i * BG_POLICY_SHARE_LEN,
		    BG_POLICY_SHARE_LEN, ad.buf, ad.len, box, sizeof(box),
		    &blen) != BG_OK)
			bench_die("bare box");
	bg_seal_eph_clear(eph);
}

/* Print a rate figure and its per-round ratio to the paired floor. */
static void
seal_figs(size_t n, const char *what, double *rate, double *ratio,
    size_t rounds)
{
	char label[96];

	(void)snprintf(label, sizeof(label), "%zu approvers: %s", n, what);
	bench_fig("seal", label, bench_stat(rate, rounds), "secrets/s");
	(void)snprintf(label, sizeof(label), "%zu approvers: %s, %% of floor",
	    n, what);
	bench_fig("seal", label, bench_stat(ratio, rounds), "%");
}

static void
bench_seal(const char *dir)
{
	static const size_t sizes[] = { 2, 3, 5, 9 };
	double s_tx[BENCH_MAX_ROUNDS], s_batch[BENCH_MAX_ROUNDS];
	double s_bare[BENCH_MAX_ROUNDS], x_all[4 * BENCH_MAX_ROUNDS];
	double r_tx[BENCH_MAX_ROUNDS], r_batch[BENCH_MAX_ROUNDS];
	double r_bare[BENCH_MAX_ROUNDS], f_rate[BENCH_MAX_ROUNDS], t0, x;
	size_t rounds = bench_rounds(), z, i, k, n, per_round, serial = 0;
	size_t xiters = bench_quick() ? 300 : 1000, nx = 0;
	bg_policy_t *pol = NULL;
	uint8_t pks[MAX_APPROVERS][32], *key = NULL, *shares = NULL;
	uint8_t *work = NULL;
	bg_seal_eph_t *eph = NULL;
	char label[96], name[32], pol_text[256];
	fx_t f;

	per_round = bench_quick() ? 20 : 60;
	if ((key = sodium_malloc(BG_SEAL_KEY_LEN)) == NULL ||
	    (shares = sodium_malloc(MAX_APPROVERS * BG_POLICY_SHARE_LEN)) ==
	    NULL || (eph = sodium_malloc(sizeof(*eph))) == NULL)
		bench_die("sodium_malloc");
	for (z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
		n = sizes[z];
		fx_open(&f, dir, "seal.db", n);
		policy_text(n, pol_text, sizeof(pol_text));
		if (bg_policy_parse(pol_text, &pol, NULL) != BG_OK ||
		    (work = sodium_malloc(bg_policy_split_work_len(pol))) ==
		    NULL)
			bench_die("policy parse");
		for (k = 0; k < n; k++) {
			randombytes_buf(pks[k], 32);
			if (crypto_scalarmult_base(pks[k], pks[k]) != 0)
				bench_die("pk");
		}
		for (i = 0; i < rounds; i++) {
			/* the floor of this round: 1 / ((n + 1) X25519) */
			x = x25519_now(xiters);
			x_all[nx++] = x;
			f_rate[i] = 1.0 / ((double)(n + 1) * x);
			/* the public call, one transaction + fsync each */
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
			/* bg_vault_secret_add_many: one transaction */
			t0 = bench_now();
			if (add_batch(f.v, "acme", "b", per_round * 4,
			    &serial) != BG_OK)
				bench_die("batched add: %s",
				    bg_vault_errmsg(f.v));
			s_batch[i] = (double)(per_round * 4) /
			    (bench_now() - t0);
			/* bare crypto (seal.h + policy split), no rows */
			t0 = bench_now();
			for (k = 0; k < per_round * 4; k++)
				seal_bare(pol, pks, n, key, eph, shares, work);
			s_bare[i] = (double)(per_round * 4) /
			    (bench_now() - t0);
			r_tx[i] = 100.0 * s_tx[i] / f_rate[i];
			r_batch[i] = 100.0 * s_batch[i] / f_rate[i];
			r_bare[i] = 100.0 * s_bare[i] / f_rate[i];
		}
		bg_policy_free(&pol);
		sodium_free(work);
		work = NULL;
		(void)snprintf(label, sizeof(label),
		    "%zu approvers: floor 1/((n+1) X25519)", n);
		bench_fig("seal", label, bench_stat(f_rate, rounds),
		    "secrets/s");
		seal_figs(n, "secret_add (tx+fsync each)", s_tx, r_tx,
		    rounds);
		seal_figs(n, "secret_add_many (one tx)", s_batch, r_batch,
		    rounds);
		seal_figs(n, "bare seal crypto", s_bare, r_bare, rounds);
		fx_close(&f);
		(void)unlink(f.path);
	}
	for (i = 0; i < nx; i++)
		x_all[i] *= 1e6;
	bench_fig("seal", "X25519 floor (paired rounds)",
	    bench_stat(x_all, nx), "us/op");
	sodium_free(key);
	sodium_free(shares);
	sodium_free(eph);
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
	char tname[32], pol[256], pname[32];
	size_t i, k, serial;
	double start, tsec, ssec = 0, s0;
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
		serial = 0;
		if (add_batch(v, tname, "s", ns, &serial) != BG_OK)
			bench_die("add: %s", bg_vault_errmsg(v));
		ssec += bench_now() - s0;
	}
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
	    "policies, %zu approvers' tokens each, one "
	    "bg_vault_secret_add_many per tenant, synchronous=OFF while "
	    "generating", nt, ns, na, na);
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
