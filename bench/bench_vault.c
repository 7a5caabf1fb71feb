/*
 * Engine benchmarks, in process, on vaults in a temporary directory:
 *
 *   bench_vault seal DIR        secrets sealed per second for policies of
 *                               2, 3, 5 and 9 approvers: through
 *                               bg_vault_secret_add (one transaction and
 *                               fsync each), through the same sealing path
 *                               batched in one transaction, and the bare
 *                               seal.h crypto; ratio to the X25519 floor;
 *                               the share of the keyset chain check
 *   bench_vault ceremony DIR    request + 2 approvals + release through
 *                               in-process software tokens, split into
 *                               token time, vault time and fsync, and the
 *                               chain checks of each step
 *   bench_vault chain DIR       one chain verification for tenants of 1,
 *                               5 and 20 links against a P-256 signature
 *                               verification of the same run; sealing on
 *                               a 20-link tenant against a 1-link one
 *   bench_vault gen PATH T S A  generate a vault of up to T tenants x S
 *                               secrets under 2-of-A policies, every
 *                               tenant's first link made and signed through
 *                               the engine (for scripts/bench);
 *                               BENCH_GEN_BUDGET=SECONDS stops adding
 *                               tenants when the next chunk would not fit
 *
 * Every vault has the signed set-up the engine now requires: a genesis
 * signed by two custodians, and per tenant a first link with every
 * membership enrolled (enrollment proofs), signed by the custodian quorum
 * and every client approver it names.  DIR must exist (the program creates
 * files in it).  Output: fig/note lines (bench.h).
 */
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "breakglass/err.h"
#include "breakglass/token.h"
#include "breakglass/vault.h"
#include "chain.h"
#include "policy.h"
#include "seal.h"
#include "soft/inproc.h"
#include "soft/serve.h"
#include "vault_int.h"

#define PIN		"123456"
#define MAX_APPROVERS	9
#define VALUE		"correct horse battery staple 0123456789abcdef"
#define YEAR		(365 * 86400)

/* BENCH_NO_V4=1 drops the index of schema migration v4 (vault/store.c)
 * to show the figures it was added for. */
#define BENCH_DROP_V4_SQL "DROP INDEX IF EXISTS tokens_membership;"
/* BENCH_CRED_INDEX=1 (an experiment, not the engine as shipped) adds an
 * index on tokens(cred_id), which the "one credential, one person" check
 * of every enrollment (bg_chain_cred_unique) would use instead of reading
 * every token row of the vault. */
#define BENCH_CRED_INDEX_SQL \
	"CREATE INDEX IF NOT EXISTS bench_tokens_cred ON tokens (cred_id);"

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

/* --- counting the engine's chain verifications ---------------------------- */

/*
 * Every verification of a tenant's chain (vault/chainstore.c,
 * bg_chain_tenant) starts by reading the tenant's links with one
 * statement; SQLite's statement trace counts its runs, so the number of
 * chain checks per call is measured, not assumed.  (The Makefile wraps
 * only bg_token_assert, so the check's time inside a call is not timed
 * there: it is the count times one verification timed directly.)
 */
#define LINKS_SQL_PART	"FROM links WHERE tenant = ? AND seq >= 1"

static unsigned long chain_walks;

static int
trace_stmt(unsigned type, void *ctx, void *p, void *x)
{
	const char *sql;

	(void)ctx;
	(void)x;
	if (type == SQLITE_TRACE_STMT && (sql = sqlite3_sql(p)) != NULL &&
	    strstr(sql, LINKS_SQL_PART) != NULL)
		chain_walks++;
	return 0;
}

static void
trace_install(bg_vault_t *v)
{
	if (sqlite3_trace_v2(v->db, SQLITE_TRACE_STMT, trace_stmt, NULL) !=
	    SQLITE_OK)
		bench_die("sqlite3_trace_v2");
}

/*
 * One verification of tenant's chain from the genesis, as every seal,
 * request, approval and release does it (bg_tenant_get ->
 * bg_chain_tenant), inside a read transaction as in the engine; seconds.
 */
static double
chain_verify(bg_vault_t *v, const char *tenant)
{
	bg_chain_link_t *head = NULL;
	uint8_t h[BG_VAULT_HASH_LEN];
	double t0, t;

	if (sqlite3_exec(v->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		bench_die("begin");
	t0 = bench_now();
	if (bg_chain_tenant(v, tenant, 0, &head, h) != BG_OK)
		bench_die("chain of %s: %s", tenant, bg_vault_errmsg(v));
	t = bench_now() - t0;
	bg_chain_link_free(&head);
	if (sqlite3_exec(v->db, "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK)
		bench_die("rollback");
	return t;
}

/* The median of k verifications (seconds). */
static double
chain_verify_med(bg_vault_t *v, const char *tenant, size_t k)
{
	double s[BENCH_MAX_ROUNDS];
	size_t i;

	if (k > BENCH_MAX_ROUNDS)
		k = BENCH_MAX_ROUNDS;
	for (i = 0; i < k; i++)
		s[i] = chain_verify(v, tenant);
	return bench_stat(s, k).med;
}

/* --- people, the genesis and first links ----------------------------------- */

typedef struct person {
	char		 name[32];
	bg_soft_inproc_t *ip;
	bg_token_t	*tok;
} person_t;

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

/* The two custodians, one token each for the life of the program, and
 * the operator who seals every tenant's secrets. */
static person_t cust[2];
static person_t oper;
static bg_vault_signer_t by_oper, by_cust;
static bool have_cust;

static void
custodians_close(void)
{
	if (have_cust) {
		person_close(&cust[0]);
		person_close(&cust[1]);
		person_close(&oper);
		have_cust = false;
	}
}

/* person signs the draft of tenant (NULL: the genesis); true when that
 * signature made it take effect. */
static bool
sign(bg_vault_t *v, const char *tenant, person_t *p)
{
	bool done = false;

	if (bg_vault_chain_sign(v, tenant, p->name, NULL, p->tok, PIN,
	    &done) != BG_OK)
		bench_die("%s signs %s: %s", p->name, tenant != NULL ? tenant :
		    "the genesis", bg_vault_errmsg(v));
	return done;
}

/* A new vault at path with its genesis signed by cust-a and cust-b. */
static bg_vault_t *
vault_new(const char *path)
{
	bg_vault_t *v = NULL;
	size_t i;

	if (!have_cust) {
		person_open(&cust[0], "cust-a");
		person_open(&cust[1], "cust-b");
		person_open(&oper, "olga");
		by_oper.person = oper.name;
		by_oper.tok = oper.tok;
		by_oper.pin = PIN;
		by_cust.person = cust[0].name;
		by_cust.tok = cust[0].tok;
		by_cust.pin = PIN;
		have_cust = true;
		(void)atexit(custodians_close);
	}
	(void)unlink(path);
	if (bg_vault_create(path, true, "bench", &v) != BG_OK)
		bench_die("create %s", path);
	for (i = 0; i < 2; i++)
		if (bg_vault_custodian_add(v, cust[i].name, NULL, 0,
		    cust[i].tok, PIN) != BG_OK)
			bench_die("custodian %s: %s", cust[i].name,
			    bg_vault_errmsg(v));
	(void)sign(v, NULL, &cust[0]);
	if (!sign(v, NULL, &cust[1]))
		bench_die("the genesis did not take effect");
	trace_install(v);
	return v;
}

static void
enroll(bg_vault_t *v, const char *tenant, person_t *p, int role, int side)
{
	if (bg_vault_member_add(v, tenant, p->name, role, side,
	    (int64_t)time(NULL) + YEAR, NULL, p->tok, PIN) != BG_OK)
		bench_die("enroll %s in %s: %s", p->name, tenant,
		    bg_vault_errmsg(v));
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

/*
 * Approver i of n: the last one stands on the MSP's side, the others on
 * the client's.  Any two of 2-of(p1..pn) then include a client approver,
 * so the policy needs no exception, and a first link needs the
 * signatures of the n - 1 client approvers besides the custodians'.
 */
static int
side_of(size_t i, size_t n)
{
	return i + 1 == n ? BG_VAULT_SIDE_MSP : BG_VAULT_SIDE_CLIENT;
}

/* Where the time of making one first link went (seconds). */
typedef struct setup_cost {
	double	enroll;		/* bg_vault_member_add, every member */
	double	sign;		/* bg_vault_chain_sign, every signer */
	double	other;		/* tenant_add + policy_set */
} setup_cost_t;

/*
 * tenant's first link through the engine: the tenant, the requester (may
 * be NULL) and approvers p1..pn enrolled into the draft, the policy
 * 2-of(p1..pn), signed by both custodians and every client approver; the
 * last signature makes it take effect.
 */
static void
first_link(bg_vault_t *v, const char *tenant, person_t *req,
    person_t *appr, size_t n, setup_cost_t *cost)
{
	char pol[256];
	double t0, t1, t2, t3;
	bool done = false;
	size_t i;

	policy_text(n, pol, sizeof(pol));
	t0 = bench_now();
	if (bg_vault_tenant_add(v, &by_cust, tenant, NULL) != BG_OK)
		bench_die("tenant %s: %s", tenant, bg_vault_errmsg(v));
	t1 = bench_now();
	if (req != NULL)
		enroll(v, tenant, req, BG_VAULT_ROLE_REQUESTER,
		    BG_VAULT_SIDE_NONE);
	enroll(v, tenant, &oper, BG_VAULT_ROLE_OPERATOR, BG_VAULT_SIDE_NONE);
	for (i = 0; i < n; i++)
		enroll(v, tenant, &appr[i], BG_VAULT_ROLE_APPROVER,
		    side_of(i, n));
	t2 = bench_now();
	if (bg_vault_policy_set(v, &by_cust, tenant, pol, NULL, 0) != BG_OK)
		bench_die("policy %s: %s", pol, bg_vault_errmsg(v));
	t3 = bench_now();
	for (i = 0; i < 2; i++)
		if (sign(v, tenant, &cust[i]))
			bench_die("%s: took effect before its client "
			    "approvers signed", tenant);
	for (i = 0; i < n; i++)
		if (side_of(i, n) == BG_VAULT_SIDE_CLIENT)
			done = sign(v, tenant, &appr[i]);
	if (!done)
		bench_die("%s: the first link did not take effect", tenant);
	if (cost != NULL) {
		cost->other += (t1 - t0) + (t3 - t2);
		cost->enroll += t2 - t1;
		cost->sign += bench_now() - t3;
	}
}

/* --- fixture -------------------------------------------------------------- */

typedef struct fx {
	char		 path[512];
	bg_vault_t	*v;
	person_t	 req;
	person_t	 appr[MAX_APPROVERS];
	size_t		 n_appr;
} fx_t;

/* A vault with tenant acme: requester carol, approvers p1..pn under
 * 2-of(p1..pn), its first link in force. */
static void
fx_open(fx_t *f, const char *dir, const char *file, size_t n_appr)
{
	char name[32];
	size_t i;

	memset(f, 0, sizeof(*f));
	(void)snprintf(f->path, sizeof(f->path), "%s/%s", dir, file);
	f->v = vault_new(f->path);
	f->n_appr = n_appr;
	person_open(&f->req, "carol");
	for (i = 0; i < n_appr; i++) {
		(void)snprintf(name, sizeof(name), "p%zu", i + 1);
		person_open(&f->appr[i], name);
	}
	first_link(f->v, "acme", &f->req, f->appr, n_appr, NULL);
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
	return bg_vault_secret_add_many(v, &by_oper, tenant, n, np, vp, lens);
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
seal_fig(size_t n, const char *what, double *s, size_t rounds,
    const char *unit)
{
	char label[96];

	(void)snprintf(label, sizeof(label), "%zu approvers: %s", n, what);
	bench_fig("seal", label, bench_stat(s, rounds), unit);
}

static void
bench_seal(const char *dir)
{
	static const size_t sizes[] = { 2, 3, 5, 9 };
	double s_tx[BENCH_MAX_ROUNDS], s_batch[BENCH_MAX_ROUNDS];
	double s_bare[BENCH_MAX_ROUNDS], x_all[4 * BENCH_MAX_ROUNDS];
	double r_tx[BENCH_MAX_ROUNDS], r_batch[BENCH_MAX_ROUNDS];
	double r_bare[BENCH_MAX_ROUNDS], f_rate[BENCH_MAX_ROUNDS], t0, x;
	double c_us[BENCH_MAX_ROUNDS], c_tx[BENCH_MAX_ROUNDS];
	double c_batch[BENCH_MAX_ROUNDS], r_nochain[BENCH_MAX_ROUNDS];
	double o_us[BENCH_MAX_ROUNDS], oc_us[BENCH_MAX_ROUNDS];
	double t_batch, t_chain;
	size_t rounds = bench_rounds(), z, i, k, n, per_round, serial = 0;
	size_t xiters = bench_quick() ? 300 : 1000, nx = 0, batch;
	unsigned long w0, w_tx = 0, w_batch = 0;
	bg_policy_t *pol = NULL;
	uint8_t pks[MAX_APPROVERS][32], *key = NULL, *shares = NULL;
	uint8_t *work = NULL;
	bg_seal_eph_t *eph = NULL;
	char label[96], name[32], pol_text[256];
	fx_t f;

	per_round = bench_quick() ? 20 : 60;
	batch = per_round * 4;
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
			w0 = chain_walks;
			t0 = bench_now();
			for (k = 0; k < per_round; k++) {
				(void)snprintf(name, sizeof(name), "a%zu",
				    serial++);
				if (bg_vault_secret_add(f.v, &by_oper, "acme",
				    name, (const uint8_t *)VALUE,
				    sizeof(VALUE) - 1) != BG_OK)
					bench_die("secret add: %s",
					    bg_vault_errmsg(f.v));
			}
			s_tx[i] = (double)per_round / (bench_now() - t0);
			w_tx = chain_walks - w0;
			/* bg_vault_secret_add_many: one transaction */
			w0 = chain_walks;
			t0 = bench_now();
			if (add_batch(f.v, "acme", "b", batch, &serial) !=
			    BG_OK)
				bench_die("batched add: %s",
				    bg_vault_errmsg(f.v));
			t_batch = bench_now() - t0;
			s_batch[i] = (double)batch / t_batch;
			w_batch = chain_walks - w0;
			/* bare crypto (seal.h + policy split), no rows */
			t0 = bench_now();
			for (k = 0; k < batch; k++)
				seal_bare(pol, pks, n, key, eph, shares, work);
			s_bare[i] = (double)batch / (bench_now() - t0);
			/* the chain check each call makes, timed alone */
			t_chain = chain_verify_med(f.v, "acme", 5);
			c_us[i] = t_chain * 1e6;
			c_tx[i] = 100.0 * t_chain * (double)w_tx /
			    (double)per_round * s_tx[i];
			c_batch[i] = 100.0 * t_chain * (double)w_batch /
			    t_batch;
			r_nochain[i] = 100.0 * ((double)batch / (t_batch -
			    t_chain * (double)w_batch)) / f_rate[i];
			o_us[i] = (1.0 / s_batch[i] - 1.0 / f_rate[i]) * 1e6;
			oc_us[i] = t_chain * (double)w_batch / (double)batch *
			    1e6;
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
		seal_fig(n, "one chain verification (1 link)", c_us, rounds,
		    "us");
		seal_fig(n, "chain check, % of one secret_add", c_tx, rounds,
		    "%");
		(void)snprintf(label, sizeof(label), "chain check, %% of one "
		    "secret_add_many of %zu", batch);
		seal_fig(n, label, c_batch, rounds, "%");
		seal_fig(n, "secret_add_many less its chain check, % of floor",
		    r_nochain, rounds, "%");
		seal_fig(n, "secret_add_many: time per secret above the floor",
		    o_us, rounds, "us");
		seal_fig(n, "  of which the chain check (per secret)", oc_us,
		    rounds, "us");
		bench_note("seal", "%zu approvers: chain verifications counted "
		    "in the last round: %lu in %zu secret_add calls, %lu in "
		    "one secret_add_many of %zu", n, w_tx, per_round, w_batch,
		    batch);
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

enum { STEP_REQUEST, STEP_APPROVE, STEP_RELEASE, N_STEPS };
static const char *const step_name[N_STEPS] = {
	"request", "approval (each)", "release"
};

/* One ceremony's times (seconds) and chain verifications, per step;
 * "approval" is the two approvals' sum (divided when printed). */
typedef struct cer_times {
	double	 total, tok, host;
	double	 vault[N_STEPS];	/* wall - token - FIDO client */
	unsigned long walks[N_STEPS];
} cer_times_t;

/* Wall time of a step less its assertions (the token's work and
 * libfido2's; every token operation of a ceremony is one). */
static double
step_vault(double t0, double as0)
{
	return bench_now() - t0 - (assert_seconds - as0);
}

/* One ceremony on secret name. */
static void
one_ceremony(fx_t *f, const char *name, cer_times_t *ct)
{
	uint8_t hash[BG_VAULT_HASH_LEN], *value = NULL;
	size_t len = 0, i;
	int64_t id = 0;
	double t0, s0, as0;
	unsigned long w0;

	memset(ct, 0, sizeof(*ct));
	tok_seconds = 0;
	assert_seconds = 0;
	t0 = bench_now();
	s0 = t0;
	as0 = assert_seconds;
	w0 = chain_walks;
	if (bg_vault_request(f->v, "acme", name, "carol", "disk full on db01",
	    "INC-4711", 900, f->req.tok, PIN, &id) != BG_OK)
		bench_die("request: %s", bg_vault_errmsg(f->v));
	ct->vault[STEP_REQUEST] = step_vault(s0, as0);
	ct->walks[STEP_REQUEST] = chain_walks - w0;
	for (i = 0; i < 2; i++) {
		s0 = bench_now();
		as0 = assert_seconds;
		w0 = chain_walks;
		if (bg_vault_statement(f->v, id, NULL, hash) != BG_OK ||
		    bg_vault_approve(f->v, id, f->appr[i].name, hash,
		    f->appr[i].tok, PIN) != BG_OK)
			bench_die("approve: %s", bg_vault_errmsg(f->v));
		ct->vault[STEP_APPROVE] += step_vault(s0, as0);
		ct->walks[STEP_APPROVE] += chain_walks - w0;
	}
	s0 = bench_now();
	as0 = assert_seconds;
	w0 = chain_walks;
	if (bg_vault_release(f->v, id, "carol", f->req.tok, PIN, &value,
	    &len) != BG_OK)
		bench_die("release: %s", bg_vault_errmsg(f->v));
	ct->vault[STEP_RELEASE] = step_vault(s0, as0);
	ct->walks[STEP_RELEASE] = chain_walks - w0;
	ct->total = bench_now() - t0;
	if (len != sizeof(VALUE) - 1 ||
	    memcmp(value, VALUE, len) != 0) /* public: benchmark fixture */
		bench_die("released value differs");
	sodium_free(value);
	ct->tok = tok_seconds;
	ct->host = assert_seconds - tok_seconds;
}

static void
bench_ceremony(const char *dir)
{
	size_t rounds = bench_rounds(), per = bench_quick() ? 4 : 10;
	size_t i, k, serial = 0, pass, s;
	double tot[2][BENCH_MAX_ROUNDS], tok[2][BENCH_MAX_ROUNDS];
	double vt[2][BENCH_MAX_ROUNDS], host[2][BENCH_MAX_ROUNDS];
	double stepv[N_STEPS][BENCH_MAX_ROUNDS], stepc[N_STEPS][BENCH_MAX_ROUNDS];
	double chain_ms[BENCH_MAX_ROUNDS], chain_all[BENCH_MAX_ROUNDS];
	double chain_pct[BENCH_MAX_ROUNDS], one, sa, sb, sc, sv[N_STEPS];
	double div[N_STEPS] = { 1, 2, 1 };
	unsigned long walks[N_STEPS] = { 0, 0, 0 }, wall_n;
	bench_stat_t st, st_off;
	cer_times_t ct;
	char name[32], label[96];
	fx_t f;

	fx_open(&f, dir, "ceremony.db", 3);
	for (k = 0; k < 2 * rounds * per + 2; k++) {
		(void)snprintf(name, sizeof(name), "s%zu", k);
		if (bg_vault_secret_add(f.v, &by_oper, "acme", name,
		    (const uint8_t *)VALUE, sizeof(VALUE) - 1) != BG_OK)
			bench_die("secret: %s", bg_vault_errmsg(f.v));
	}
	one_ceremony(&f, "s0", &ct);	/* warm up */
	for (s = 0; s < N_STEPS; s++)
		walks[s] = ct.walks[s];
	wall_n = walks[0] + walks[1] + walks[2];
	serial = 1;
	/* pass 0: synchronous=FULL as shipped; pass 1: synchronous=OFF */
	for (pass = 0; pass < 2; pass++) {
		set_sync(f.v, pass == 0);
		for (i = 0; i < rounds; i++) {
			sa = sb = sc = 0;
			memset(sv, 0, sizeof(sv));
			for (k = 0; k < per; k++) {
				(void)snprintf(name, sizeof(name), "s%zu",
				    serial++);
				one_ceremony(&f, name, &ct);
				sa += ct.total;
				sb += ct.tok;
				sc += ct.host;
				for (s = 0; s < N_STEPS; s++) {
					sv[s] += ct.vault[s];
					if (ct.walks[s] != walks[s])
						bench_die("%s: %lu chain "
						    "checks, then %lu",
						    step_name[s], walks[s],
						    ct.walks[s]);
				}
			}
			tot[pass][i] = sa / (double)per * 1e3;
			tok[pass][i] = sb / (double)per * 1e3;
			host[pass][i] = sc / (double)per * 1e3;
			vt[pass][i] = (sa - sb - sc) / (double)per * 1e3;
			if (pass == 1) {
				/* one verification of the ceremony's tenant,
				 * timed alone in the same round */
				one = chain_verify_med(f.v, "acme", 5) * 1e3;
				chain_ms[i] = one;
				chain_all[i] = one * (double)wall_n;
				chain_pct[i] = 100.0 * chain_all[i] /
				    vt[pass][i];
				for (s = 0; s < N_STEPS; s++) {
					stepv[s][i] = sv[s] / (double)per /
					    div[s] * 1e3;
					stepc[s][i] = one * (double)walks[s] /
					    div[s];
				}
			}
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
	for (s = 0; s < N_STEPS; s++) {
		(void)snprintf(label, sizeof(label), "vault time: %s",
		    step_name[s]);
		bench_fig("ceremony", label, bench_stat(stepv[s], rounds),
		    "ms");
		(void)snprintf(label, sizeof(label), "  chain checks in it "
		    "(%g x one)", (double)walks[s] / div[s]);
		bench_fig("ceremony", label, bench_stat(stepc[s], rounds),
		    "ms");
	}
	bench_fig("ceremony", "one chain verification (1 link, 4 members)",
	    bench_stat(chain_ms, rounds), "ms");
	(void)snprintf(label, sizeof(label), "chain checks per ceremony "
	    "(%lu x one)", wall_n);
	bench_fig("ceremony", label, bench_stat(chain_all, rounds), "ms");
	bench_fig("ceremony", "chain checks, % of vault time (fsync excl.)",
	    bench_stat(chain_pct, rounds), "%");
	bench_note("ceremony", "request + 2 approvals + release, %zu per "
	    "round, 2-of(p1,p2,p3), in-process software tokens; chain "
	    "verifications counted per call: request %lu, each approval "
	    "%g, release %lu (the statement the approver is shown is "
	    "part of the approval step)", per, walks[0],
	    (double)walks[1] / 2, walks[2]);
	fx_close(&f);
	(void)unlink(f.path);
}

/* --- chain ------------------------------------------------------------------ */

#define CHAIN_RP	"bench.invalid"

/* One more link on tenant: a settings change (the maximum TTL), which
 * the policy in force approves: p1 (client side) and p2 sign. */
static void
add_link(bg_vault_t *v, const char *tenant, person_t *appr, int64_t ttl)
{
	bg_vault_tenant_opts_t o;

	memset(&o, 0, sizeof(o));
	o.max_ttl = ttl;
	if (bg_vault_tenant_set(v, &by_cust, tenant, &o) != BG_OK)
		bench_die("tenant set %s: %s", tenant, bg_vault_errmsg(v));
	if (sign(v, tenant, &appr[0]))
		bench_die("%s: took effect on one signature", tenant);
	if (!sign(v, tenant, &appr[1]))
		bench_die("%s: the link did not take effect", tenant);
}

/* One signed assertion of a fresh credential of alg, to verify. */
typedef struct sample_sig {
	int	 alg;
	uint8_t	 pk[128];	size_t pk_len;
	uint8_t	 cdh[BG_TOKEN_CDH_LEN];
	uint8_t	 ad[BG_CHAIN_AUTHDATA_MAX];	size_t ad_len;
	uint8_t	 sig[BG_CHAIN_SIG_MAX];		size_t sig_len;
} sample_sig_t;

static bool
sample_make(person_t *p, int alg, sample_sig_t *s)
{
	bg_token_cred_t *cred = NULL;
	bg_token_assertion_t *as = NULL;
	bool ok = false;

	memset(s, 0, sizeof(*s));
	s->alg = alg;
	randombytes_buf(s->cdh, sizeof(s->cdh));
	if (bg_token_enroll(p->tok, CHAIN_RP, p->name, alg, PIN, &cred) !=
	    BG_OK)
		goto out;
	if (cred->pubkey_len > sizeof(s->pk) ||
	    bg_token_assert(p->tok, CHAIN_RP, cred->id, cred->id_len, alg,
	    cred->pubkey, cred->pubkey_len, s->cdh, NULL, PIN, &as) != BG_OK ||
	    as->authdata_len > sizeof(s->ad) || as->sig_len > sizeof(s->sig))
		goto out;
	memcpy(s->pk, cred->pubkey, cred->pubkey_len);
	s->pk_len = cred->pubkey_len;
	memcpy(s->ad, as->authdata, as->authdata_len);
	s->ad_len = as->authdata_len;
	memcpy(s->sig, as->sig, as->sig_len);
	s->sig_len = as->sig_len;
	ok = true;
out:
	bg_token_assertion_free(&as);
	bg_token_cred_free(&cred);
	return ok;
}

/* Seconds per bg_token_verify of s (the call the chain check makes for
 * every signature and enrollment proof), over iters. */
static double
sample_verify(const sample_sig_t *s, size_t iters)
{
	double t0 = bench_now();
	size_t k;

	for (k = 0; k < iters; k++)
		if (bg_token_verify(s->alg, s->pk, s->pk_len, CHAIN_RP, s->cdh,
		    s->ad, s->ad_len, s->sig, s->sig_len, true) != BG_OK)
			bench_die("sample signature does not verify");
	return (bench_now() - t0) / (double)iters;
}

static int64_t
count_of(bg_vault_t *v, const char *sql, const char *tenant)
{
	sqlite3_stmt *st = NULL;
	int64_t n = -1;

	if (sqlite3_prepare_v2(v->db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void
bench_chain(const char *dir)
{
	static const char *const tn[3] = { "l1", "l5", "l20" };
	static const size_t len[3] = { 1, 5, 20 };
	size_t rounds = bench_rounds(), i, k, j, serial = 0;
	size_t per = bench_quick() ? 10 : 20, batch = bench_quick() ? 80 : 240;
	size_t viters = bench_quick() ? 200 : 500;
	double c[3][BENCH_MAX_ROUNDS], ratio[3][BENCH_MAX_ROUNDS];
	double rel[3][BENCH_MAX_ROUNDS], per_link[BENCH_MAX_ROUNDS];
	double es[BENCH_MAX_ROUNDS], ed[BENCH_MAX_ROUNDS];
	double add1[BENCH_MAX_ROUNDS], add20[BENCH_MAX_ROUNDS];
	double many1[BENCH_MAX_ROUNDS], many20[BENCH_MAX_ROUNDS];
	double r_add[BENCH_MAX_ROUNDS], r_many[BENCH_MAX_ROUNDS], t0, vk;
	double setup[3];
	person_t req, appr[3], probe;
	sample_sig_t s_es, s_ed;
	bool have_ed;
	char path[512], name[32], label[96];
	bg_vault_t *v = NULL;
	setup_cost_t cost;

	(void)snprintf(path, sizeof(path), "%s/chain.db", dir);
	v = vault_new(path);
	person_open(&req, "carol");
	for (k = 0; k < 3; k++) {
		(void)snprintf(name, sizeof(name), "p%zu", k + 1);
		person_open(&appr[k], name);
	}
	/* the same people in three tenants: 1, 5 and 20 links */
	for (j = 0; j < 3; j++) {
		memset(&cost, 0, sizeof(cost));
		t0 = bench_now();
		first_link(v, tn[j], &req, appr, 3, &cost);
		for (k = 1; k < len[j]; k++)
			add_link(v, tn[j], appr, k % 2 ? 7200 : 3600);
		setup[j] = bench_now() - t0;
	}
	/* the baseline: one signature verification, same process */
	person_open(&probe, "probe");
	if (!sample_make(&probe, BG_TOKEN_ES256, &s_es))
		bench_die("an ES256 sample signature");
	have_ed = sample_make(&probe, BG_TOKEN_EDDSA, &s_ed);
	for (i = 0; i < rounds; i++) {
		es[i] = sample_verify(&s_es, viters) * 1e6;
		ed[i] = have_ed ? sample_verify(&s_ed, viters) * 1e6 : 0;
		for (j = 0; j < 3; j++) {
			c[j][i] = chain_verify_med(v, tn[j], 9) * 1e3;
			ratio[j][i] = c[j][i] * 1e3 / es[i];
			rel[j][i] = c[j][i] / c[0][i];
		}
		per_link[i] = (c[2][i] - c[0][i]) / 19.0;
		/* sealing on the 20-link tenant against the 1-link one */
		for (j = 0; j < 3; j += 2) {
			t0 = bench_now();
			for (k = 0; k < per; k++) {
				(void)snprintf(name, sizeof(name), "a%zu",
				    serial++);
				if (bg_vault_secret_add(v, &by_oper, tn[j],
				    name, (const uint8_t *)VALUE,
				    sizeof(VALUE) - 1) != BG_OK)
					bench_die("secret add: %s",
					    bg_vault_errmsg(v));
			}
			vk = (double)per / (bench_now() - t0);
			*(j == 0 ? &add1[i] : &add20[i]) = vk;
			t0 = bench_now();
			if (add_batch(v, tn[j], "b", batch, &serial) != BG_OK)
				bench_die("batched add: %s",
				    bg_vault_errmsg(v));
			vk = (double)batch / (bench_now() - t0);
			*(j == 0 ? &many1[i] : &many20[i]) = vk;
		}
		r_add[i] = 100.0 * add20[i] / add1[i];
		r_many[i] = 100.0 * many20[i] / many1[i];
	}
	bench_fig("chain", "baseline: one ES256 signature verification "
	    "(bg_token_verify)", bench_stat(es, rounds), "us");
	if (have_ed)
		bench_fig("chain", "baseline: one EdDSA signature verification "
		    "(bg_token_verify)", bench_stat(ed, rounds), "us");
	for (j = 0; j < 3; j++) {
		(void)snprintf(label, sizeof(label), "one chain verification, "
		    "%zu link%s", len[j], len[j] > 1 ? "s" : "");
		bench_fig("chain", label, bench_stat(c[j], rounds), "ms");
		(void)snprintf(label, sizeof(label), "  %zu link%s / one ES256 "
		    "verification", len[j], len[j] > 1 ? "s" : "");
		bench_fig("chain", label, bench_stat(ratio[j], rounds), "x");
		if (j > 0) {
			(void)snprintf(label, sizeof(label), "  %zu links / 1 "
			    "link", len[j]);
			bench_fig("chain", label, bench_stat(rel[j], rounds),
			    "x");
		}
	}
	bench_fig("chain", "each further link ((20 links - 1 link) / 19)",
	    bench_stat(per_link, rounds), "ms");
	bench_fig("chain", "secret_add on 20 links, % of on 1 link",
	    bench_stat(r_add, rounds), "%");
	(void)snprintf(label, sizeof(label), "secret_add_many of %zu on 20 "
	    "links, %% of on 1 link", batch);
	bench_fig("chain", label, bench_stat(r_many, rounds), "%");
	for (j = 0; j < 3; j++)
		bench_note("chain", "%s: %zu link(s), %lld link signatures "
		    "in all, 4 credentials with their enrollment proofs "
		    "(link 1); made in %.0f ms", tn[j], len[j],
		    (long long)count_of(v, "SELECT count(*) FROM link_sigs "
		    "WHERE tenant = ?", tn[j]), setup[j] * 1e3);
	bench_note("chain", "tenants of requester carol and approvers "
	    "p1 (client), p2 (client), p3 (MSP) under 2-of(p1,p2,p3); links "
	    "2.. change the maximum TTL, signed by p1 and p2; ratios are "
	    "taken per round against the baseline of that round%s",
	    have_ed ? "" : "; no EdDSA baseline (the token refused EdDSA)");
	bg_vault_close(&v);
	(void)unlink(path);
	person_close(&req);
	person_close(&probe);
	for (k = 0; k < 3; k++)
		person_close(&appr[k]);
}

/* --- generation ------------------------------------------------------------ */

#define GEN_CHUNKS	40
#define FULL_TENANTS	10000

/* Least squares y = icpt + slope x over n points (n >= 2; else slope 0,
 * icpt the mean); *maxdevp (may be NULL) the largest |residual|. */
static void
fit_line(const double *x, const double *y, size_t n, double *slopep,
    double *icptp, double *maxdevp)
{
	double sx = 0, sy = 0, sxx = 0, sxy = 0, d, m = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		sx += x[i];
		sy += y[i];
		sxx += x[i] * x[i];
		sxy += x[i] * y[i];
	}
	d = (double)n * sxx - sx * sx;
	*slopep = n >= 2 && d != 0 ? ((double)n * sxy - sx * sy) / d : 0;
	*icptp = n > 0 ? (sy - *slopep * sx) / (double)n : 0;
	for (i = 0; i < n; i++) {
		d = y[i] - (*icptp + *slopep * x[i]);
		if (d < 0)
			d = -d;
		if (d > m)
			m = d;
	}
	if (maxdevp != NULL)
		*maxdevp = m;
}

/* Median of 3 in-process bg_vault_status(v, NULL) runs, in ms. */
static double
status_ms(bg_vault_t *v)
{
	bg_vault_status_item_t *items = NULL;
	bg_vault_check_t check;
	double s[3], t0;
	size_t i, n = 0;

	for (i = 0; i < 3; i++) {
		t0 = bench_now();
		if (bg_vault_status(v, NULL, &items, &n, &check) != BG_OK)
			bench_die("status: %s", bg_vault_errmsg(v));
		s[i] = (bench_now() - t0) * 1e3;
		bg_vault_status_free(&items);
	}
	return bench_stat(s, 3).med;
}

static off_t
file_size(bg_vault_t *v, const char *path)
{
	struct stat sb;

	if (bg_store_checkpoint(v) != BG_OK || stat(path, &sb) != 0)
		bench_die("checkpoint %s", path);
	return sb.st_size;
}

/* p's token state to PATH.NAME, for tokenctl soft serve --state. */
static void
save_state(const char *path, const person_t *p)
{
	char sp[4096];
	uint8_t *blob = NULL;
	size_t blen = 0;

	(void)snprintf(sp, sizeof(sp), "%s.%s", path, p->name);
	(void)unlink(sp);
	if (bg_soft_inproc_state(p->ip, &blob, &blen) != BG_OK ||
	    bg_soft_state_store(sp, blob, blen, true) != BG_OK)
		bench_die("saving the token state of %s to %s", p->name, sp);
	sodium_free(blob);
}

static void
bench_gen(const char *path, size_t nt, size_t ns, size_t na)
{
	bg_vault_t *v = NULL;
	person_t appr[MAX_APPROVERS], carol;
	setup_cost_t cost;
	double *per_t = NULL, pts_x[GEN_CHUNKS + 1], pts_y[GEN_CHUNKS + 1];
	double ch_x[GEN_CHUNKS + 1], ch_set[GEN_CHUNKS + 1];
	double ch_seal[GEN_CHUNKS + 1], cs, css;
	double start, c0, t0, s0, ssec = 0, tsec = 0, budget = 0, tok0;
	double tok_setup = 0, chunk_t, slope, icpt, maxdev = 0, c_one;
	double a, bb, total10k;
	size_t i, k, serial, made = 0, end, chunk, npts = 0;
	off_t growth = 0, setup_bytes = 0, before, s_before;
	const char *idx, *b;
	char tname[32], pname[32];
	bool cut = false;
	bench_stat_t st;
	struct stat sb;

	if (na < 2 || na > MAX_APPROVERS)
		bench_die("approvers: 2..%d", MAX_APPROVERS);
	if (nt == 0 || ns == 0 || ns > BG_VAULT_ADD_MANY_MAX)
		bench_die("tenants >= 1, secrets 1..%d", BG_VAULT_ADD_MANY_MAX);
	if ((b = getenv("BENCH_GEN_BUDGET")) != NULL && b[0] != '\0')
		budget = strtod(b, NULL);
	if ((per_t = calloc(nt, sizeof(*per_t))) == NULL)
		bench_die("calloc");
	memset(&cost, 0, sizeof(cost));
	v = vault_new(path);
	set_sync(v, false);
	idx = getenv("BENCH_NO_V4");
	if (idx != NULL && idx[0] != '\0') {
		if (bg_store_exec(v, BENCH_DROP_V4_SQL) != BG_OK)
			bench_die("dropping the v4 index: %s",
			    bg_vault_errmsg(v));
		bench_note("scale", "without the v4 indexes (BENCH_NO_V4)");
	}
	idx = getenv("BENCH_CRED_INDEX");
	if (idx != NULL && idx[0] != '\0' && strcmp(idx, "0") != 0) {
		if (bg_store_exec(v, BENCH_CRED_INDEX_SQL) != BG_OK)
			bench_die("adding the cred_id index: %s",
			    bg_vault_errmsg(v));
		bench_note("scale", "EXPERIMENT: with an index on "
		    "tokens(cred_id) that the engine does not have "
		    "(BENCH_CRED_INDEX)");
	}
	for (k = 0; k < na; k++) {
		(void)snprintf(pname, sizeof(pname), "p%zu", k + 1);
		person_open(&appr[k], pname);
	}
	/* t00000 alone has a requester: the whole-process ceremony steps
	 * of scripts/bench run there. */
	person_open(&carol, "carol");
	chunk = (nt + GEN_CHUNKS - 1) / GEN_CHUNKS;
	npts = 0;
	start = bench_now();
	/*
	 * In chunks of tenants: first links, then their secrets, then
	 * bg_vault_status in process, so that status is known at every
	 * size and the generation can stop at a chunk boundary when the
	 * budget would be exceeded.
	 */
	while (made < nt) {
		c0 = bench_now();
		end = made + chunk < nt ? made + chunk : nt;
		cs = css = 0;
		s_before = file_size(v, path);
		for (i = made; i < end; i++) {
			(void)snprintf(tname, sizeof(tname), "t%05zu", i);
			tok0 = tok_seconds;
			t0 = bench_now();
			first_link(v, tname, i == 0 ? &carol : NULL, appr,
			    na, &cost);
			per_t[i] = bench_now() - t0;
			cs += per_t[i];
			tok_setup += tok_seconds - tok0;
		}
		tsec += cs;
		before = file_size(v, path);
		setup_bytes += before - s_before;
		for (i = made; i < end; i++) {
			(void)snprintf(tname, sizeof(tname), "t%05zu", i);
			s0 = bench_now();
			serial = 0;
			if (add_batch(v, tname, "s", ns, &serial) != BG_OK)
				bench_die("add: %s", bg_vault_errmsg(v));
			css += bench_now() - s0;
		}
		ssec += css;
		growth += file_size(v, path) - before;
		/* this chunk: mean set-up per tenant (ms) at its middle, and
		 * its sealing rate */
		ch_x[npts] = (double)(made + end) / 2.0;
		ch_set[npts] = cs / (double)(end - made) * 1e3;
		ch_seal[npts] = (double)((end - made) * ns) / css;
		made = end;
		pts_x[npts] = (double)made;
		pts_y[npts++] = status_ms(v);
		chunk_t = bench_now() - c0;
		if (budget > 0 && made < nt &&
		    bench_now() - start + chunk_t > budget) {
			cut = true;
			break;
		}
	}
	c_one = chain_verify_med(v, "t00000", 9) * 1e3;
	set_sync(v, true);
	(void)file_size(v, path);
	bg_vault_close(&v);
	/* Everyone's token, for the whole-process rows of scripts/bench
	 * (tokenctl soft serve --state PATH.NAME; PIN 123456). */
	save_state(path, &oper);
	save_state(path, &carol);
	for (k = 0; k < na; k++)
		save_state(path, &appr[k]);
	person_close(&carol);
	for (k = 0; k < na; k++)
		person_close(&appr[k]);
	if (stat(path, &sb) != 0)
		bench_die("stat %s", path);
	bench_note("scale", "generated %zu tenants x %zu secrets, 2-of-%zu "
	    "policies (p1..p%zu client side, p%zu MSP side); every tenant's "
	    "first link made through the engine: %zu enrollments "
	    "(bg_vault_member_add, a new ES256 credential each), "
	    "bg_vault_policy_set, signed by 2 custodians and %zu client "
	    "approvers (bg_vault_chain_sign); one bg_vault_secret_add_many "
	    "per tenant; synchronous=OFF while generating", made, ns, na,
	    na - 1, na, na, na - 1);
	if (cut)
		bench_note("scale", "STOPPED at %zu of %zu tenants: the "
		    "generation budget (BENCH_GEN_BUDGET=%.0f s) would have "
		    "been exceeded by the next chunk of %zu; figures at %zu "
		    "tenants are extrapolated below", made, nt, budget, chunk,
		    (size_t)FULL_TENANTS);
	bench_fig1("scale", "tenants generated", (double)made, "tenants");
	st = bench_stat(per_t, made);	/* sorts per_t */
	st.med *= 1e3;
	st.lo *= 1e3;
	st.hi *= 1e3;
	bench_fig("scale", "set-up: one tenant's first link (median of "
	    "tenants)", st, "ms");
	bench_fig1("scale", "set-up: enrollments per tenant (member_add)",
	    cost.enroll / (double)made * 1e3, "ms");
	bench_fig1("scale", "set-up: signatures per tenant (chain_sign)",
	    cost.sign / (double)made * 1e3, "ms");
	bench_fig1("scale", "set-up: tenant_add + policy_set per tenant",
	    cost.other / (double)made * 1e3, "ms");
	bench_fig1("scale", "set-up: token time per tenant (inside io)",
	    tok_setup / (double)made * 1e3, "ms");
	bench_fig1("scale", "generation: tenants+members+policy",
	    (double)made / tsec, "tenants/s");
	bench_fig1("scale", "set-up per tenant, first chunk (mean)",
	    ch_set[0], "ms");
	bench_fig1("scale", "set-up per tenant, last chunk (mean)",
	    ch_set[npts - 1], "ms");
	/* per-tenant set-up time grows with the tenants already there:
	 * fitted as a + b x i, the set-up of N tenants is a N + b N^2 / 2 */
	fit_line(ch_x, ch_set, npts, &bb, &a, NULL);
	total10k = (a * FULL_TENANTS + bb * FULL_TENANTS *
	    (double)FULL_TENANTS / 2.0) / 1e3;
	bench_fig1("scale", "set-up per tenant, growth per 1,000 tenants "
	    "(fit)", bb * 1e3, "ms");
	bench_fig1("scale", "set-up of 10,000 tenants, extrapolated (fit)",
	    total10k, "s");
	bench_fig1("scale", "sealing rate, first chunk", ch_seal[0],
	    "secrets/s");
	bench_fig1("scale", "sealing rate, last chunk", ch_seal[npts - 1],
	    "secrets/s");
	bench_fig1("scale", "generation: secrets sealed",
	    (double)(made * ns) / ssec, "secrets/s");
	bench_fig1("scale", "one chain verification (t00000, 1 link)", c_one,
	    "ms");
	bench_fig1("scale", "database size", (double)sb.st_size / 1048576.0,
	    "MiB");
	bench_fig1("scale", "bytes of database per secret version",
	    (double)sb.st_size / (double)(made * ns), "B");
	bench_fig1("scale", "bytes per secret version, marginal",
	    (double)growth / (double)(made * ns), "B");
	bench_fig1("scale", "bytes per tenant's set-up (growth while making "
	    "first links)", (double)setup_bytes / (double)made, "B");
	if (npts >= 2) {
		fit_line(pts_x, pts_y, npts, &slope, &icpt, &maxdev);
		bench_fig1("scale", "bg_vault_status in process, at the "
		    "largest size", pts_y[npts - 1], "ms");
		bench_fig1("scale", "bg_vault_status in process, per tenant "
		    "(fit)", slope * 1e3, "us");
		bench_fig1("scale", "bg_vault_status in process, fit at "
		    "10,000 tenants", icpt + slope * FULL_TENANTS, "ms");
		bench_note("scale", "bg_vault_status in process at %zu sizes "
		    "(tenants:ms): %s%.0f:%.2f .. %.0f:%.2f; straight-line "
		    "fit %.3f ms + %.3f us per tenant, largest deviation "
		    "%.2f ms", npts, "", pts_x[0], pts_y[0], pts_x[npts - 1],
		    pts_y[npts - 1], icpt, slope * 1e3, maxdev);
	}
	/* every fifth chunk and the last, to show the trend */
	for (i = 0; i < npts; i++)
		if (i % 5 == 0 || i + 1 == npts)
			bench_note("scale", "chunk %zu: tenants up to %.0f: "
			    "set-up %.1f ms per tenant, sealing %.0f "
			    "secrets/s, bg_vault_status %.2f ms", i + 1,
			    pts_x[i], ch_set[i], ch_seal[i], pts_y[i]);
	free(per_t);
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
	else if (argc == 3 && strcmp(argv[1], "chain") == 0)
		bench_chain(argv[2]);
	else if (argc == 6 && strcmp(argv[1], "gen") == 0)
		bench_gen(argv[2], strtoul(argv[3], NULL, 10),
		    strtoul(argv[4], NULL, 10), strtoul(argv[5], NULL, 10));
	else
		bench_die("usage: bench_vault seal DIR | ceremony DIR | "
		    "chain DIR | gen PATH TENANTS SECRETS APPROVERS");
	return 0;
}
