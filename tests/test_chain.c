/*
 * Keyset chains: the canonical text and its strict parser, the
 * enrollment statement, the genesis, every signing rule and structural
 * refusal of a later vault link (custodians, quorum, drill/production),
 * every signing rule of a tenant link and the vault link it names, and
 * the attacks the rules exist for (a requester's token under an
 * approver's name, one approver changing the policy alone, one custodian
 * adding his own second token, splicing, replay, a foreign genesis,
 * software tokens, forged signatures).
 *
 * No token is involved: each credential is an Ed25519 key pair made here,
 * and each assertion is made the way an authenticator makes one
 * (authenticator data = SHA-256(rp_id) || flags || counter, signature over
 * authenticator data || clientDataHash), which bg_token_verify() checks.
 * Each credential also carries packed attestation by a test vendor (a
 * chain from scripts/test-ca), and production vault links pin that
 * vendor's root and AAGUID, as a production vault must.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sodium.h>

#include "breakglass/err.h"
#include "breakglass/token.h"
#include "chain.h"

#define RP	"breakglass:0123456789abcdef"
#define VID	"0123456789abcdef0123456789abcdef"
#define VID2	"fedcba9876543210fedcba9876543210"
#define T0	((int64_t)1800000000)
#define YEAR	((int64_t)365 * 86400)
#define POLICY	"2-of(1-of(alice,bob),1-of(mia,nick))"

#define UP	0x01
#define UV	0x04
#define GUID	"0123456789abcdef0123456789abcdef"

/* --- the test vendor: scripts/test-ca ------------------------------------ */
static char ca_dir[64];
static uint8_t ca_aaguid[16];
static EVP_PKEY *ca_leaf_key;
static uint8_t *ca_leaf, *ca_inter, *ca_root;
static size_t ca_leaf_len, ca_inter_len, ca_root_len;

static int
ca_setup(void **state)
{
	char cmd[160], path[128];
	FILE *f;
	size_t i;

	(void)state;
	(void)snprintf(ca_dir, sizeof(ca_dir), "%s/bg-chain-XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(ca_dir) == NULL)
		return -1;
	(void)snprintf(cmd, sizeof(cmd), "scripts/test-ca ca %s " GUID,
	    ca_dir);
	if (system(cmd) != 0)
		return -1;
	for (i = 0; i < 16; i++)
		(void)sscanf(GUID + 2 * i, "%2hhx", &ca_aaguid[i]);
	(void)snprintf(path, sizeof(path), "%s/leaf.key", ca_dir);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	ca_leaf_key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	(void)fclose(f);
#define CERT(name, p, l) do {						\
	(void)snprintf(path, sizeof(path), "%s/" name, ca_dir);	\
	if (bg_attest_cert_read(path, &(p), &(l), NULL, 0) != BG_OK)	\
		return -1;						\
} while (0)
	CERT("leaf.pem", ca_leaf, ca_leaf_len);
	CERT("inter.pem", ca_inter, ca_inter_len);
	CERT("root.pem", ca_root, ca_root_len);
#undef CERT
	return ca_leaf_key != NULL ? 0 : -1;
}

static int
ca_teardown(void **state)
{
	char cmd[160];

	(void)state;
	EVP_PKEY_free(ca_leaf_key);
	free(ca_leaf);
	free(ca_inter);
	free(ca_root);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf %s", ca_dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* The test vendor's root with its AAGUID on the allow-list. */
static bg_attest_trust_t *
vendor_trust(void)
{
	bg_attest_trust_t *t = bg_attest_trust_new();

	assert_non_null(t);
	assert_int_equal(bg_attest_trust_add_root(t, ca_root, ca_root_len),
	    BG_OK);
	assert_int_equal(bg_attest_trust_add_aaguid(t, ca_aaguid), BG_OK);
	return t;
}

/* A production vault link: software tokens refused, the vendor pinned. */
static void
make_production(bg_chain_link_t *l)
{
	l->settings.allow_soft = false;
	bg_attest_trust_free(&l->trust);
	l->trust = vendor_trust();
}

struct cw { uint8_t *b; size_t n, cap; };

static void
cw_head(struct cw *w, uint8_t major, uint64_t v)
{
	uint8_t mt = (uint8_t)(major << 5);

	assert_true(w->n + 9 <= w->cap);
	if (v < 24)
		w->b[w->n++] = (uint8_t)(mt | v);
	else if (v < 256) {
		w->b[w->n++] = mt | 24;
		w->b[w->n++] = (uint8_t)v;
	} else {
		assert_true(v < 65536);
		w->b[w->n++] = mt | 25;
		w->b[w->n++] = (uint8_t)(v >> 8);
		w->b[w->n++] = (uint8_t)v;
	}
}

static void
cw_bytes(struct cw *w, uint8_t major, const void *p, size_t n)
{
	cw_head(w, major, n);
	assert_true(w->n + n <= w->cap);
	memcpy(w->b + w->n, p, n);
	w->n += n;
}

/* Packed attestation of t (an Ed25519 credential) by the test vendor's
 * leaf, with x5c [leaf, intermediate], as a vendor's token makes it. */
static void
attest_tok(bg_chain_token_t *t)
{
	struct cw ad = { t->att_authdata, 0, sizeof(t->att_authdata) };
	struct cw st = { t->att_stmt, 0, sizeof(t->att_stmt) };
	uint8_t msg[BG_ATTEST_AUTHDATA_MAX + 32], sig[128];
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *md;

	crypto_hash_sha256(t->att_cdh, t->cred_id, t->cred_id_len);
	crypto_hash_sha256(ad.b, (const uint8_t *)RP, strlen(RP));
	ad.b[32] = UP | UV | 0x40;
	memset(ad.b + 33, 0, 4);
	memcpy(ad.b + 37, t->aaguid, 16);
	ad.b[53] = (uint8_t)(t->cred_id_len >> 8);
	ad.b[54] = (uint8_t)t->cred_id_len;
	memcpy(ad.b + 55, t->cred_id, t->cred_id_len);
	ad.n = 55 + t->cred_id_len;
	cw_head(&ad, 5, 4);			/* COSE OKP Ed25519 */
	cw_head(&ad, 0, 1); cw_head(&ad, 0, 1);
	cw_head(&ad, 0, 3); cw_head(&ad, 1, 7);
	cw_head(&ad, 1, 0); cw_head(&ad, 0, 6);
	cw_head(&ad, 1, 1); cw_bytes(&ad, 2, t->pubkey, 32);
	t->att_authdata_len = ad.n;
	memcpy(msg, ad.b, ad.n);
	memcpy(msg + ad.n, t->att_cdh, 32);
	assert_non_null(md = EVP_MD_CTX_new());
	assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL,
	    ca_leaf_key), 1);
	assert_int_equal(EVP_DigestSign(md, sig, &siglen, msg, ad.n + 32), 1);
	EVP_MD_CTX_free(md);
	cw_head(&st, 5, 3);
	cw_bytes(&st, 3, "alg", 3); cw_head(&st, 1, 6);
	cw_bytes(&st, 3, "sig", 3); cw_bytes(&st, 2, sig, siglen);
	cw_bytes(&st, 3, "x5c", 3); cw_head(&st, 4, 2);
	cw_bytes(&st, 2, ca_leaf, ca_leaf_len);
	cw_bytes(&st, 2, ca_inter, ca_inter_len);
	t->att_stmt_len = st.n;
}

/* --- credentials made here ---------------------------------------------- */

typedef struct tkey {
	const char	*name;
	uint8_t		 pk[crypto_sign_PUBLICKEYBYTES];
	uint8_t		 sk[crypto_sign_SECRETKEYBYTES];
	uint8_t		 cred[20];
} tkey_t;

static const char *const key_names[] = {
	"carol", "dave", "erin", "alice", "bob", "mia", "nick", "rob", "sam",
	"alice-spare", "rob-spare", "zed", "fay", "gus",
};
#define NKEYS	(sizeof(key_names) / sizeof(key_names[0]))
static tkey_t keys[NKEYS];
static uint32_t sign_count;

static const tkey_t *
K(const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	fail_msg("no key %s", name);
	return NULL;
}

static const tkey_t *
key_by_cred(const uint8_t *id, size_t len)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (len == sizeof(keys[i].cred) &&
		    memcmp(keys[i].cred, id, len) == 0) /* public: test ids */
			return &keys[i];
	return NULL;
}

static void
make_keys(void)
{
	uint8_t seed[32];
	char buf[64];
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		keys[i].name = key_names[i];
		(void)snprintf(buf, sizeof(buf), "seed:%s", key_names[i]);
		crypto_hash_sha256(seed, (const uint8_t *)buf, strlen(buf));
		crypto_sign_seed_keypair(keys[i].pk, keys[i].sk, seed);
		(void)snprintf(buf, sizeof(buf), "cred:%s", key_names[i]);
		crypto_hash_sha256(seed, (const uint8_t *)buf, strlen(buf));
		memcpy(keys[i].cred, seed, sizeof(keys[i].cred));
	}
	sodium_memzero(seed, sizeof(seed));
}

/* An authenticator's assertion over cdh. */
static void
assertion(const tkey_t *k, const char *rp_id, uint8_t flags,
    const uint8_t cdh[32], uint8_t *ad, size_t *adlen, uint8_t *sig,
    size_t *siglen)
{
	uint8_t msg[37 + 32];
	unsigned long long slen;

	crypto_hash_sha256(ad, (const uint8_t *)rp_id, strlen(rp_id));
	ad[32] = flags;
	sign_count++;
	ad[33] = (uint8_t)(sign_count >> 24);
	ad[34] = (uint8_t)(sign_count >> 16);
	ad[35] = (uint8_t)(sign_count >> 8);
	ad[36] = (uint8_t)sign_count;
	*adlen = 37;
	memcpy(msg, ad, 37);
	memcpy(msg + 37, cdh, 32);
	assert_int_equal(crypto_sign_detached(sig, &slen, msg, sizeof(msg),
	    k->sk), 0);
	*siglen = (size_t)slen;
}

static void
mktok(const tkey_t *k, bool custodian, bg_chain_token_t *t)
{
	memset(t, 0, sizeof(*t));
	(void)snprintf(t->label, sizeof(t->label), "%s's key", k->name);
	t->alg = BG_TOKEN_EDDSA;
	memcpy(t->cred_id, k->cred, sizeof(k->cred));
	t->cred_id_len = sizeof(k->cred);
	memcpy(t->pubkey, k->pk, sizeof(k->pk));
	t->pubkey_len = sizeof(k->pk);
	memcpy(t->aaguid, ca_aaguid, sizeof(t->aaguid));
	(void)snprintf(t->fmt, sizeof(t->fmt), "packed");
	if (!custodian)
		crypto_hash_sha256(t->member_pk, k->pk, sizeof(k->pk));
	attest_tok(t);
}

static void
add_member(bg_chain_link_t *l, const char *person, int role, int side,
    const char *keyname)
{
	bg_chain_member_t m;
	bg_chain_token_t t;
	char buf[96];

	memset(&m, 0, sizeof(m));
	(void)snprintf(m.person, sizeof(m.person), "%s", person);
	m.role = role;
	m.side = side;
	if (role != BG_CHAIN_ROLE_CUSTODIAN) {
		m.expires_at = T0 + YEAR;
		(void)snprintf(buf, sizeof(buf), "salt:%s:%d", person, role);
		crypto_hash_sha256(m.salt, (const uint8_t *)buf, strlen(buf));
	}
	mktok(K(keyname), role == BG_CHAIN_ROLE_CUSTODIAN, &t);
	m.n_tokens = 1;
	m.tokens = &t;
	assert_int_equal(bg_chain_member_add(l, &m), BG_OK);
}

static void
add_token(bg_chain_link_t *l, const char *person, int role,
    const char *keyname)
{
	bg_chain_member_t *m = bg_chain_member_find(l, person, role);
	bg_chain_token_t t;

	assert_non_null(m);
	mktok(K(keyname), false, &t);
	assert_int_equal(bg_chain_member_add_token(m, &t), BG_OK);
}

/* The enrollment proof of one token, made with key k. */
static void
enroll_with(const bg_chain_link_t *l, const bg_chain_member_t *m,
    bg_chain_token_t *t, const tkey_t *k)
{
	uint8_t cdh[32];

	assert_int_equal(bg_chain_enroll_cdh(l, m, t, cdh, NULL), BG_OK);
	assertion(k, RP, UP | UV, cdh, t->enroll_authdata,
	    &t->enroll_authdata_len, t->enroll_sig, &t->enroll_sig_len);
}

/* Every token still without a proof gets one from its own key. */
static void
enroll_all(bg_chain_link_t *l)
{
	bg_chain_member_t *m;
	bg_chain_token_t *t;
	size_t i, j;

	for (i = 0; i < l->n_members; i++) {
		m = &l->members[i];
		for (j = 0; j < m->n_tokens; j++) {
			t = &m->tokens[j];
			if (t->enroll_sig_len > 0)
				continue;
			enroll_with(l, m, t, key_by_cred(t->cred_id,
			    t->cred_id_len));
		}
	}
}

static void
sign_as(const bg_chain_link_t *l, const char *person, const tkey_t *k,
    const char *rp_id, uint8_t flags, bg_chain_sig_t *s)
{
	uint8_t cdh[32];

	memset(s, 0, sizeof(*s));
	assert_int_equal(bg_chain_link_cdh(l, cdh), BG_OK);
	(void)snprintf(s->person, sizeof(s->person), "%s", person);
	memcpy(s->cred_id, k->cred, sizeof(k->cred));
	s->cred_id_len = sizeof(k->cred);
	assertion(k, rp_id, flags, cdh, s->authdata, &s->authdata_len, s->sig,
	    &s->sig_len);
}

#define MAXSIGS	12
static bg_chain_sig_t sigs[MAXSIGS];

/* Signatures by the named people, each with their own key; NULL ends. */
static size_t
sign_by(const bg_chain_link_t *l, const char *const *who)
{
	size_t n;

	for (n = 0; who[n] != NULL; n++) {
		assert_true(n < MAXSIGS);
		sign_as(l, who[n], K(who[n]), RP, UP | UV, &sigs[n]);
	}
	return n;
}

#define WHO(...)	((const char *const[]){ __VA_ARGS__, NULL })

/* --- links ---------------------------------------------------------------- */

static bg_chain_link_t *
mk_genesis(const char *vault_id, bool allow_soft)
{
	bg_chain_link_t *g = bg_chain_link_new();

	assert_non_null(g);
	g->scope = BG_CHAIN_VAULT;
	(void)snprintf(g->vault_id, sizeof(g->vault_id), "%s", vault_id);
	(void)snprintf(g->rp_id, sizeof(g->rp_id), "%s", RP);
	g->time = T0;
	(void)snprintf(g->note, sizeof(g->note), "vault created");
	add_member(g, "carol", BG_CHAIN_ROLE_CUSTODIAN, 0, "carol");
	add_member(g, "dave", BG_CHAIN_ROLE_CUSTODIAN, 0, "dave");
	add_member(g, "erin", BG_CHAIN_ROLE_CUSTODIAN, 0, "erin");
	g->settings.allow_soft = allow_soft;
	if (!allow_soft)
		make_production(g);
	g->settings.custodian_quorum = 2;
	enroll_all(g);
	return g;
}

static void
set_tenant_settings(bg_chain_link_t *l, int cosign)
{
	l->settings.max_ttl = 3600;
	l->settings.approval_window = 86400;
	l->settings.rotation_deadline = 86400;
	l->settings.client_cosign = cosign;
}

/* l is made under vault link g: the vault's identity and g's number. */
static void
set_vault(bg_chain_link_t *l, const bg_chain_link_t *g)
{
	if (g->seq == 0)
		assert_int_equal(bg_chain_link_hash(g, l->genesis), BG_OK);
	else
		memcpy(l->genesis, g->genesis, sizeof(l->genesis));
	l->vault_seq = g->seq;
}

/* Tenant's first link without members, proofs or policy. */
static bg_chain_link_t *
mk_bare(const bg_chain_link_t *g, const char *tenant)
{
	bg_chain_link_t *l = bg_chain_link_new();

	assert_non_null(l);
	l->scope = BG_CHAIN_TENANT;
	memcpy(l->vault_id, g->vault_id, sizeof(l->vault_id));
	memcpy(l->rp_id, g->rp_id, sizeof(l->rp_id));
	set_vault(l, g);
	(void)snprintf(l->tenant, sizeof(l->tenant), "%s", tenant);
	l->seq = 1;
	l->time = T0 + 100;
	(void)snprintf(l->note, sizeof(l->note), "tenant %s set up", tenant);
	set_tenant_settings(l, 1);
	return l;
}

/* alice, bob (client), mia, nick (MSP), rob (requester), POLICY. */
static bg_chain_link_t *
mk_first(const bg_chain_link_t *g, const char *tenant, int cosign)
{
	bg_chain_link_t *l = mk_bare(g, tenant);

	add_member(l, "alice", BG_CHAIN_ROLE_APPROVER, BG_CHAIN_SIDE_CLIENT,
	    "alice");
	add_member(l, "bob", BG_CHAIN_ROLE_APPROVER, BG_CHAIN_SIDE_CLIENT,
	    "bob");
	add_member(l, "mia", BG_CHAIN_ROLE_APPROVER, BG_CHAIN_SIDE_MSP, "mia");
	add_member(l, "nick", BG_CHAIN_ROLE_APPROVER, BG_CHAIN_SIDE_MSP,
	    "nick");
	add_member(l, "rob", BG_CHAIN_ROLE_REQUESTER, BG_CHAIN_SIDE_NONE,
	    "rob");
	assert_non_null(l->policy = strdup(POLICY));
	set_tenant_settings(l, cosign);
	enroll_all(l);
	return l;
}

/* The link after prev, keeping its keyset (the caller changes it). */
static bg_chain_link_t *
mk_next(const bg_chain_link_t *prev)
{
	bg_chain_link_t *l = NULL;

	assert_int_equal(bg_chain_link_dup(prev, &l), BG_OK);
	l->seq = prev->seq + 1;
	assert_int_equal(bg_chain_link_hash(prev, l->prev), BG_OK);
	l->time = prev->time + 100;
	(void)snprintf(l->note, sizeof(l->note), "link %llu",
	    (unsigned long long)l->seq);
	return l;
}

static int
check(const bg_chain_link_t *g, const bg_chain_link_t *prev,
    const bg_chain_link_t *next, const char *const *who, char *why,
    size_t whylen)
{
	size_t n = sign_by(next, who);

	return bg_chain_check(g, prev, next, sigs, n, why, whylen);
}

static void
expect(int r, int want, const char *why, const char *needle)
{
	if (r != want || (needle != NULL && strstr(why, needle) == NULL))
		fail_msg("got %d (%s), wanted %d with \"%s\"", r, why, want,
		    needle != NULL ? needle : "");
}

#define CHECK(g, p, n, who, want, needle) do {				\
	char why_[BG_CHAIN_WHY_MAX];					\
	int r_ = check((g), (p), (n), (who), why_, sizeof(why_));	\
	expect(r_, (want), why_, (needle));				\
	if (r_ == BG_OK)						\
		assert_string_equal(why_, "");				\
} while (0)

/* The vault link after prev, keeping its custodians and settings. */
static bg_chain_link_t *
mk_vnext(const bg_chain_link_t *prev)
{
	bg_chain_link_t *l = NULL;

	assert_int_equal(bg_chain_link_dup(prev, &l), BG_OK);
	l->seq = prev->seq + 1;
	assert_int_equal(bg_chain_link_hash(prev, l->prev), BG_OK);
	if (prev->seq == 0)
		memcpy(l->genesis, l->prev, sizeof(l->genesis));
	else
		memcpy(l->genesis, prev->genesis, sizeof(l->genesis));
	l->time = prev->time + 10;
	(void)snprintf(l->note, sizeof(l->note), "vault link %llu",
	    (unsigned long long)l->seq);
	return l;
}

/* A new custodian with their own key and enrollment proof. */
static void
add_custodian(bg_chain_link_t *l, const char *person, const char *keyname)
{
	add_member(l, person, BG_CHAIN_ROLE_CUSTODIAN, 0, keyname);
	enroll_all(l);
}

static int
vcheck(const bg_chain_link_t *prev, const bg_chain_link_t *next,
    const char *const *who, char *why, size_t whylen)
{
	size_t n = sign_by(next, who);

	return bg_chain_check_vault(prev, next, sigs, n, why, whylen);
}

#define VCHECK(p, n, who, want, needle) do {				\
	char why_[BG_CHAIN_WHY_MAX];					\
	int r_ = vcheck((p), (n), (who), why_, sizeof(why_));		\
	expect(r_, (want), why_, (needle));				\
	if (r_ == BG_OK)						\
		assert_string_equal(why_, "");				\
} while (0)

/* --- fixture ---------------------------------------------------------------- */

typedef struct fx {
	bg_chain_link_t	*g;	/* verified genesis */
	bg_chain_link_t	*l1;	/* tenant acme, link 1, verified */
} fx_t;

static int
setup(void **state)
{
	fx_t *f = calloc(1, sizeof(*f));
	char why[BG_CHAIN_WHY_MAX];
	size_t n;

	if (f == NULL)
		return -1;
	f->g = mk_genesis(VID, false);
	n = sign_by(f->g, WHO("carol", "dave", "erin"));
	if (bg_chain_check_genesis(f->g, sigs, n, why, sizeof(why)) != BG_OK)
		return -1;
	f->l1 = mk_first(f->g, "acme", 1);
	n = sign_by(f->l1, WHO("carol", "dave", "alice", "bob"));
	if (bg_chain_check(f->g, NULL, f->l1, sigs, n, why, sizeof(why)) !=
	    BG_OK) {
		fprintf(stderr, "setup: %s\n", why);
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fx_t *f = *state;

	bg_chain_link_free(&f->g);
	bg_chain_link_free(&f->l1);
	free(f);
	return 0;
}

/* --- the assertion format this file relies on ------------------------------ */

static void
test_verify_accepts_our_assertions(void **state)
{
	uint8_t cdh[32], ad[64], sig[64];
	size_t adlen, siglen;
	const tkey_t *k = K("alice");

	(void)state;
	randombytes_buf(cdh, sizeof(cdh));
	assertion(k, RP, UP | UV, cdh, ad, &adlen, sig, &siglen);
	assert_int_equal(bg_token_verify(BG_TOKEN_EDDSA, k->pk, 32, RP, cdh,
	    ad, adlen, sig, siglen, true), BG_OK);
	cdh[0] ^= 1;
	assert_int_equal(bg_token_verify(BG_TOKEN_EDDSA, k->pk, 32, RP, cdh,
	    ad, adlen, sig, siglen, true), BG_ERR_TOKEN_BAD_SIGNATURE);
	cdh[0] ^= 1;
	assertion(k, RP, UP, cdh, ad, &adlen, sig, &siglen);
	assert_int_equal(bg_token_verify(BG_TOKEN_EDDSA, k->pk, 32, RP, cdh,
	    ad, adlen, sig, siglen, true), BG_ERR_TOKEN_NO_UV);
}

/* --- text -------------------------------------------------------------------- */

static void
roundtrip(const bg_chain_link_t *l)
{
	bg_chain_link_t *p = NULL, *d = NULL;
	char *text = NULL, *again = NULL, *dtext = NULL, why[256];
	uint8_t h1[32], h2[32];

	assert_int_equal(bg_chain_link_encode(l, &text), BG_OK);
	assert_int_equal(bg_chain_link_parse(text, &p, why, sizeof(why)),
	    BG_OK);
	assert_string_equal(why, "");
	assert_int_equal(bg_chain_link_encode(p, &again), BG_OK);
	assert_string_equal(text, again);
	assert_int_equal(bg_chain_link_dup(p, &d), BG_OK);
	assert_int_equal(bg_chain_link_encode(d, &dtext), BG_OK);
	assert_string_equal(text, dtext);
	bg_chain_text_hash(text, h1);
	assert_int_equal(bg_chain_link_hash(p, h2), BG_OK);
	assert_memory_equal(h1, h2, 32);
	free(text);
	free(again);
	free(dtext);
	bg_chain_link_free(&p);
	bg_chain_link_free(&d);
	assert_null(p);
}

static void
test_roundtrip(void **state)
{
	fx_t *f = *state;
	bg_chain_link_t *l;
	char *text = NULL;
	uint8_t h[32], want[32];
	crypto_hash_sha256_state st;

	roundtrip(f->g);
	roundtrip(f->l1);
	/* an exception, a label and a note in other scripts */
	l = mk_next(f->l1);
	l->has_exception = true;
	(void)snprintf(l->exception_reason, sizeof(l->exception_reason),
	    "Störung \xe2\x80\x94 Nachtschicht");
	l->exception_expires = T0 + 86400;
	(void)snprintf(l->note, sizeof(l->note), "\xe6\x97\xa5\xe6\x9c\xac "
	    "\"quoted\" \\ back");
	roundtrip(l);

	/* the hash is SHA-256 over the domain line and the text */
	assert_int_equal(bg_chain_link_encode(l, &text), BG_OK);
	assert_non_null(strstr(text, "\"note\":\"\xe6\x97\xa5"));
	assert_int_equal(bg_chain_link_hash(l, h), BG_OK);
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const uint8_t *)"breakglass link v1\n",
	    19);
	crypto_hash_sha256_update(&st, (const uint8_t *)text, strlen(text));
	crypto_hash_sha256_final(&st, want);
	assert_memory_equal(h, want, 32);
	assert_int_equal(strncmp(text, "{\"exception\":{\"expires\":", 24), 0);
	free(text);
	bg_chain_link_free(&l);
}

/* Parse must refuse text; its sentence must be printable ASCII. */
static void
refuse(const char *text, const char *needle)
{
	bg_chain_link_t *l = NULL;
	char why[BG_CHAIN_WHY_MAX];
	size_t i;

	memset(why, 'x', sizeof(why));
	if (bg_chain_link_parse(text, &l, why, sizeof(why)) != BG_ERR_PARSE)
		fail_msg("accepted: %.200s", text);
	assert_null(l);
	for (i = 0; why[i] != '\0'; i++)
		assert_true(why[i] >= 0x20 && why[i] < 0x7f);
	assert_true(i > 0);
	if (needle != NULL && strstr(why, needle) == NULL)
		fail_msg("why \"%s\" lacks \"%s\"", why, needle);
}

/* text with the first `from` replaced by `to` */
static char *
replace(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	size_t n;
	char *out;

	assert_non_null(at);
	n = strlen(text) - strlen(from) + strlen(to) + 1;
	assert_non_null(out = malloc(n));
	(void)snprintf(out, n, "%.*s%s%s", (int)(at - text), text, to,
	    at + strlen(from));
	return out;
}

static void
refuse_replaced(const char *text, const char *from, const char *to,
    const char *needle)
{
	char *t = replace(text, from, to);

	refuse(t, needle);
	free(t);
}

/* text re-dumped after edit() changed its JSON (sorted, compact) */
static char *
json_edit(const char *text, void (*edit)(json_t *))
{
	json_t *root = json_loads(text, 0, NULL);
	char *out;

	assert_non_null(root);
	edit(root);
	assert_non_null(out = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS));
	json_decref(root);
	return out;
}

static void
swap_members(json_t *root)
{
	json_t *m = json_object_get(root, "members");
	json_t *a = json_incref(json_array_get(m, 0));

	assert_int_equal(json_array_remove(m, 0), 0);
	assert_int_equal(json_array_insert_new(m, 1, a), 0);
}

static void
dup_member(json_t *root)
{
	json_t *m = json_object_get(root, "members");

	assert_int_equal(json_array_insert(m, 0, json_array_get(m, 0)), 0);
}

static void
swap_tokens(json_t *root)
{
	json_t *m = json_object_get(root, "members");
	json_t *t = json_object_get(json_array_get(m,
	    json_array_size(m) - 1), "tokens");
	json_t *a = json_incref(json_array_get(t, 0));

	assert_int_equal(json_array_size(t), 2);
	assert_int_equal(json_array_remove(t, 0), 0);
	assert_int_equal(json_array_append_new(t, a), 0);
}

static void
version_2(json_t *root)
{
	assert_int_equal(json_object_set_new(root, "v", json_integer(2)), 0);
}

static void
seq_string(json_t *root)
{
	assert_int_equal(json_object_set_new(root, "seq", json_string("2")),
	    0);
}

static void
upper_person(json_t *root)
{
	json_t *m = json_array_get(json_object_get(root, "members"), 0);

	assert_int_equal(json_object_set_new(m, "person",
	    json_string("Alice")), 0);
}

static void
policy_all_of(json_t *root)
{
	assert_int_equal(json_object_set_new(root, "policy",
	    json_string("all-of(1-of(alice,bob),1-of(mia,nick))")), 0);
}

static void
long_note(json_t *root)
{
	char note[BG_CHAIN_REASON_MAX + 2];

	memset(note, 'n', sizeof(note) - 1);
	note[sizeof(note) - 1] = '\0';
	assert_int_equal(json_object_set_new(root, "note", json_string(note)),
	    0);
}

static void
role_custodian(json_t *root)
{
	json_t *m = json_array_get(json_object_get(root, "members"), 0);

	assert_int_equal(json_object_set_new(m, "role",
	    json_string("custodian")), 0);
}

static void
side_for_requester(json_t *root)
{
	json_t *m = json_object_get(root, "members");

	m = json_array_get(m, json_array_size(m) - 1);
	assert_int_equal(json_object_set_new(m, "side", json_string("msp")),
	    0);
}

static void
token_extra_key(json_t *root)
{
	json_t *m = json_array_get(json_object_get(root, "members"), 0);
	json_t *t = json_array_get(json_object_get(m, "tokens"), 0);

	assert_int_equal(json_object_set_new(t, "x5c", json_string("")), 0);
}

static void
short_pubkey(json_t *root)
{
	json_t *m = json_array_get(json_object_get(root, "members"), 0);
	json_t *t = json_array_get(json_object_get(m, "tokens"), 0);

	assert_int_equal(json_object_set_new(t, "pubkey", json_string("00")),
	    0);
}

static void
refuse_edit(const char *text, void (*edit)(json_t *), const char *needle)
{
	char *t = json_edit(text, edit);

	refuse(t, needle);
	free(t);
}

static void
test_parse_rejects(void **state)
{
	fx_t *f = *state;
	bg_chain_link_t *l;
	char *text = NULL, *t, *u, *rob2 = NULL;
	const char *g;
	size_t len, i;

	l = mk_next(f->l1);
	(void)snprintf(l->note, sizeof(l->note), "hello");
	add_token(l, "rob", BG_CHAIN_ROLE_REQUESTER, "rob-spare");
	enroll_all(l);
	assert_int_equal(bg_chain_link_encode(l, &text), BG_OK);
	rob2 = strdup(text);

	/* white space, anywhere */
	t = replace(text, "{", "{ ");
	refuse(t, "canonical");
	free(t);
	t = replace(text, "\"note\":", "\"note\": ");
	refuse(t, "canonical");
	free(t);
	len = strlen(text);
	assert_non_null(t = malloc(len + 2));
	(void)snprintf(t, len + 2, "%s\n", text);
	refuse(t, "canonical");
	free(t);

	/* keys out of order: the same object, exception moved last */
	assert_int_equal(strncmp(text, "{\"exception\":null,", 18), 0);
	assert_non_null(t = malloc(len + 2));
	(void)snprintf(t, len + 2, "{%.*s,\"exception\":null}",
	    (int)(len - 19), text + 18);
	refuse(t, "canonical");
	free(t);

	/* unknown keys, missing keys, duplicate keys */
	t = replace(text, "\"vault_id\":", "\"zz\":1,\"vault_id\":");
	refuse(t, "unknown key");
	free(t);
	len = strlen(text);
	assert_non_null(t = malloc(len + 16));
	(void)snprintf(t, len + 16, "%.*s,\"zz\":1}", (int)(len - 1), text);
	refuse(t, "unknown key");
	free(t);
	refuse_replaced(text, "\"note\":\"hello\",", "", "'note' is missing");
	refuse_replaced(text, "\"note\":\"hello\",",
	    "\"note\":\"hello\",\"note\":\"hello\",", "not valid JSON");
	refuse_edit(text, token_extra_key, "unknown key");

	/* upper-case hex */
	g = strstr(text, "\"genesis\":\"") + 11;
	for (i = 0; i < 64 && !(g[i] >= 'a' && g[i] <= 'f'); i++)
		;
	assert_true(i < 64);
	assert_non_null(t = strdup(text));
	t[(size_t)(g - text) + i] = (char)(g[i] - 'a' + 'A');
	refuse(t, "'genesis' is not lower-case hex");
	free(t);
	refuse_replaced(text, "\"prev\":\"", "\"prev\":\"0", "'prev'");

	/* text that displays other than it reads, or controls */
	refuse_replaced(text, "\"note\":\"hello\"",
	    "\"note\":\"he\xe2\x80\xaello\"", "the note");		/* U+202E */
	refuse_replaced(text, "\"note\":\"hello\"",
	    "\"note\":\"he\xe2\x81\xa6llo\"", "the note");		/* U+2066 */
	refuse_replaced(text, "\"note\":\"hello\"",
	    "\"note\":\"he\xe2\x80\x8fllo\"", "the note");		/* U+200F */
	refuse_replaced(text, "\"note\":\"hello\"",
	    "\"note\":\"he\xd8\x9cllo\"", "the note");		/* U+061C */
	refuse_replaced(text, "\"note\":\"hello\"",
	    "\"note\":\"he\xe2\x80\xa8llo\"", "the note");		/* U+2028 */
	refuse_replaced(text, "\"note\":\"hello\"",
	    "\"note\":\"he\xc2\x9bllo\"", "the note");		/* U+009B */
	refuse_replaced(text, "\"note\":\"hello\"",
	    "\"note\":\"he\\u009bllo\"", "the note");
	refuse_replaced(text, "\"note\":\"hello\"",
	    "\"note\":\"he\\nllo\"", "the note");
	refuse_replaced(text, "\"note\":\"hello\"",
	    "\"note\":\"he\x7fllo\"", "the note");
	refuse_replaced(text, "\"note\":\"hello\"",
	    "\"note\":\"he\xc0\xafllo\"", "not valid JSON");	/* overlong */
	/* an escape where encode writes the character itself */
	refuse_replaced(text, "\"note\":\"hello\"",
	    "\"note\":\"h\\u0065llo\"", "canonical");
	refuse_replaced(text, "\"label\":\"alice's key\"",
	    "\"label\":\"alice\xe2\x80\xaes key\"", "label");

	/* wrong types, versions, values out of range */
	refuse_edit(text, version_2, "version 2");
	refuse_edit(text, seq_string, "'seq' is not an integer");
	refuse_replaced(text, "\"seq\":2,", "\"seq\":2.0,", "'seq'");
	refuse_replaced(text, "\"seq\":2,", "\"seq\":-2,", "'seq'");
	refuse_replaced(text, "\"seq\":2,", "\"seq\":1,", "prev hash");
	refuse_replaced(text, "\"scope\":\"tenant\"", "\"scope\":\"vault\"",
	    NULL);
	refuse_replaced(text, "\"soft\":false", "\"soft\":0", "'soft'");
	refuse_replaced(text, "\"alg\":-8", "\"alg\":-7", "wrong length");
	refuse_edit(text, short_pubkey, "wrong length");
	refuse_edit(text, long_note, "'note' is longer");
	refuse_edit(text, upper_person, "name");
	refuse_edit(text, policy_all_of, "canonical form");
	refuse_edit(text, role_custodian, "custodians");
	refuse_edit(text, side_for_requester, "side");
	refuse_replaced(text, "\"tenant\":\"acme\"", "\"tenant\":\"ACME\"",
	    "tenant name");
	refuse_replaced(text, "\"role\":\"requester\"", "\"role\":\"boss\"",
	    "unknown role");

	/* order and repeats of members and credentials */
	refuse_edit(text, swap_members, "not sorted");
	refuse_edit(text, dup_member, "not sorted");
	refuse_edit(rob2, swap_tokens, "not sorted");

	/* not JSON, or not an object */
	refuse("", "not valid JSON");
	refuse("[]", "not an object");
	refuse("{}", "missing");
	refuse("null", "not valid JSON");

	/* encode refuses what parse would */
	(void)snprintf(l->note, sizeof(l->note), "he\xe2\x80\xaello");
	assert_int_equal(bg_chain_link_encode(l, &u), BG_ERR_INVALID_ARG);
	assert_null(u);
	(void)snprintf(l->note, sizeof(l->note), "he\xc2\x9bllo");
	assert_int_equal(bg_chain_link_encode(l, &u), BG_ERR_INVALID_ARG);
	(void)snprintf(l->note, sizeof(l->note), "ok");
	(void)snprintf(l->members[0].person, sizeof(l->members[0].person),
	    "-alice");
	assert_int_equal(bg_chain_link_encode(l, &u), BG_ERR_INVALID_ARG);

	free(rob2);
	free(text);
	bg_chain_link_free(&l);
}

static void
test_enroll_statement(void **state)
{
	fx_t *f = *state;
	const bg_chain_member_t *m;
	char *text = NULL, want[1024], gh[65], salt[65], id[41], mk[65];
	char pk[2 * BG_CHAIN_PUBKEY_MAX + 1];
	uint8_t cdh[32], h[32];
	size_t i;

	m = bg_chain_member_find(f->l1, "alice", BG_CHAIN_ROLE_APPROVER);
	assert_non_null(m);
	assert_int_equal(bg_chain_enroll_cdh(f->l1, m, &m->tokens[0], cdh,
	    &text), BG_OK);
	for (i = 0; i < 32; i++) {
		(void)snprintf(gh + 2 * i, 3, "%02x", f->l1->genesis[i]);
		(void)snprintf(salt + 2 * i, 3, "%02x", m->salt[i]);
		(void)snprintf(mk + 2 * i, 3, "%02x",
		    m->tokens[0].member_pk[i]);
	}
	for (i = 0; i < 20; i++)
		(void)snprintf(id + 2 * i, 3, "%02x", m->tokens[0].cred_id[i]);
	for (i = 0; i < m->tokens[0].pubkey_len; i++)
		(void)snprintf(pk + 2 * i, 3, "%02x", m->tokens[0].pubkey[i]);
	(void)snprintf(want, sizeof(want), "breakglass enroll v1\n"
	    "vault: %s\ngenesis: %s\ntenant: acme\nperson: alice\n"
	    "role: approver\nside: client\nsalt: %s\ncred-id: %s\n"
	    "cred-key: %d %s\nmember-key: %s\n", VID, gh, salt, id,
	    m->tokens[0].alg, pk, mk);
	assert_string_equal(text, want);
	crypto_hash_sha256(h, (const uint8_t *)text, strlen(text));
	assert_memory_equal(h, cdh, 32);
	free(text);

	/* a custodian's: no tenant, genesis, salt or membership key */
	m = bg_chain_member_find(f->g, "dave", BG_CHAIN_ROLE_CUSTODIAN);
	assert_non_null(m);
	assert_int_equal(bg_chain_enroll_cdh(f->g, m, &m->tokens[0], cdh,
	    &text), BG_OK);
	for (i = 0; i < 20; i++)
		(void)snprintf(id + 2 * i, 3, "%02x", m->tokens[0].cred_id[i]);
	for (i = 0; i < m->tokens[0].pubkey_len; i++)
		(void)snprintf(pk + 2 * i, 3, "%02x", m->tokens[0].pubkey[i]);
	memset(gh, '0', 64);
	gh[64] = '\0';
	(void)snprintf(want, sizeof(want), "breakglass enroll v1\n"
	    "vault: %s\ngenesis: %s\ntenant: -\nperson: dave\n"
	    "role: custodian\nside: none\nsalt: %s\ncred-id: %s\n"
	    "cred-key: %d %s\nmember-key: %s\n", VID, gh, gh, id,
	    m->tokens[0].alg, pk, gh);
	assert_string_equal(text, want);
	free(text);
}

static void
test_member_api(void **state)
{
	fx_t *f = *state;
	bg_chain_link_t *l = NULL;
	bg_chain_member_t m, *pm;
	const bg_chain_member_t *fm;
	const bg_chain_token_t *ft;
	bg_chain_token_t t;
	size_t i;

	assert_int_equal(bg_chain_link_dup(f->l1, &l), BG_OK);
	pm = bg_chain_member_find(l, "alice", BG_CHAIN_ROLE_APPROVER);
	assert_non_null(pm);
	assert_null(bg_chain_member_find(l, "alice",
	    BG_CHAIN_ROLE_REQUESTER));
	memset(&m, 0, sizeof(m));
	(void)snprintf(m.person, sizeof(m.person), "alice");
	m.role = BG_CHAIN_ROLE_APPROVER;
	assert_int_equal(bg_chain_member_add(l, &m), BG_ERR_EXISTS);
	(void)snprintf(m.person, sizeof(m.person), "Alice");
	assert_int_equal(bg_chain_member_add(l, &m), BG_ERR_INVALID_ARG);
	(void)snprintf(m.person, sizeof(m.person), "aaron");
	m.role = BG_CHAIN_ROLE_AUDITOR;
	assert_int_equal(bg_chain_member_add(l, &m), BG_OK);
	assert_string_equal(l->members[0].person, "aaron");	/* sorted */
	for (i = 1; i < l->n_members; i++)
		assert_true(strcmp(l->members[i - 1].person,
		    l->members[i].person) <= 0);
	assert_int_equal(bg_chain_member_remove(l, "aaron",
	    BG_CHAIN_ROLE_AUDITOR), BG_OK);
	assert_int_equal(bg_chain_member_remove(l, "aaron",
	    BG_CHAIN_ROLE_AUDITOR), BG_ERR_NOT_FOUND);

	pm = bg_chain_member_find(l, "rob", BG_CHAIN_ROLE_REQUESTER);
	mktok(K("rob"), false, &t);
	assert_int_equal(bg_chain_member_add_token(pm, &t), BG_ERR_EXISTS);
	for (i = 1; i < BG_CHAIN_MAX_TOKENS; i++) {
		t.cred_id[0] = (uint8_t)i;
		t.cred_id[1] ^= 0x5a;
		assert_int_equal(bg_chain_member_add_token(pm, &t), BG_OK);
	}
	t.cred_id[0] = 0xff;
	assert_int_equal(bg_chain_member_add_token(pm, &t), BG_ERR_RANGE);
	for (i = 1; i < pm->n_tokens; i++)
		assert_true(memcmp(pm->tokens[i - 1].cred_id, /* public: test */
		    pm->tokens[i].cred_id, 20) < 0);

	assert_true(bg_chain_find_cred(f->l1, K("mia")->cred, 20, &fm, &ft));
	assert_string_equal(fm->person, "mia");
	assert_memory_equal(ft->pubkey, K("mia")->pk, 32);
	assert_false(bg_chain_find_cred(f->l1, K("zed")->cred, 20, &fm, &ft));
	assert_null(fm);
	assert_null(ft);
	bg_chain_link_free(&l);
	assert_null(l);
	bg_chain_link_free(&l);
}

/* --- the genesis ------------------------------------------------------------- */

static void
test_genesis(void **state)
{
	fx_t *f = *state;
	bg_chain_link_t *g;
	bg_chain_member_t *m;
	char why[BG_CHAIN_WHY_MAX];
	size_t n;
	int r;

	(void)f;
	g = mk_genesis(VID, false);
	n = sign_by(g, WHO("carol", "dave", "erin"));
	assert_int_equal(bg_chain_check_genesis(g, sigs, n, why, sizeof(why)),
	    BG_OK);
	assert_string_equal(why, "");

	/* one custodian short */
	n = sign_by(g, WHO("carol", "dave"));
	r = bg_chain_check_genesis(g, sigs, n, why, sizeof(why));
	expect(r, BG_ERR_DENIED, why, "needs: a signature by erin "
	    "(custodian named by this genesis)");
	/* erin's signature present but broken: the same */
	n = sign_by(g, WHO("carol", "dave", "erin"));
	sigs[2].sig[5] ^= 1;
	r = bg_chain_check_genesis(g, sigs, n, why, sizeof(why));
	expect(r, BG_ERR_DENIED, why, "a signature by erin");
	/* dave's key signing as erin does not make erin's signature */
	sign_as(g, "erin", K("dave"), RP, UP | UV, &sigs[2]);
	r = bg_chain_check_genesis(g, sigs, n, why, sizeof(why));
	expect(r, BG_ERR_DENIED, why, "a signature by erin");

	/* quorum out of range */
	g->settings.custodian_quorum = 1;
	n = sign_by(g, WHO("carol", "dave", "erin"));
	r = bg_chain_check_genesis(g, sigs, n, why, sizeof(why));
	expect(r, BG_ERR_AUTH, why, "quorum");
	g->settings.custodian_quorum = 4;
	n = sign_by(g, WHO("carol", "dave", "erin"));
	r = bg_chain_check_genesis(g, sigs, n, why, sizeof(why));
	expect(r, BG_ERR_AUTH, why, "quorum");
	g->settings.custodian_quorum = 3;
	n = sign_by(g, WHO("carol", "dave", "erin"));
	assert_int_equal(bg_chain_check_genesis(g, sigs, n, why, sizeof(why)),
	    BG_OK);

	/* a bad enrollment proof */
	m = bg_chain_member_find(g, "dave", BG_CHAIN_ROLE_CUSTODIAN);
	m->tokens[0].enroll_sig[0] ^= 1;
	n = sign_by(g, WHO("carol", "dave", "erin"));
	r = bg_chain_check_genesis(g, sigs, n, why, sizeof(why));
	expect(r, BG_ERR_AUTH, why, "enrollment proof of custodian dave");
	m->tokens[0].enroll_sig[0] ^= 1;

	/* a software token in a vault that refuses them */
	memcpy(m->tokens[0].aaguid, bg_token_soft_aaguid, 16);
	m->tokens[0].soft = true;
	n = sign_by(g, WHO("carol", "dave", "erin"));
	r = bg_chain_check_genesis(g, sigs, n, why, sizeof(why));
	expect(r, BG_ERR_AUTH, why, "of dave is a software token");
	g->settings.allow_soft = true;
	n = sign_by(g, WHO("carol", "dave", "erin"));
	assert_int_equal(bg_chain_check_genesis(g, sigs, n, why, sizeof(why)),
	    BG_OK);
	m->tokens[0].soft = false;	/* hiding it */
	n = sign_by(g, WHO("carol", "dave", "erin"));
	r = bg_chain_check_genesis(g, sigs, n, why, sizeof(why));
	expect(r, BG_ERR_AUTH, why, "not marked");
	bg_chain_link_free(&g);

	/* one credential under two custodians */
	g = mk_genesis(VID, false);
	m = bg_chain_member_find(g, "erin", BG_CHAIN_ROLE_CUSTODIAN);
	mktok(K("dave"), true, &m->tokens[0]);
	enroll_all(g);
	n = sign_by(g, WHO("carol", "dave"));
	sign_as(g, "erin", K("dave"), RP, UP | UV, &sigs[n++]);
	r = bg_chain_check_genesis(g, sigs, n, why, sizeof(why));
	expect(r, BG_ERR_AUTH, why, "under both dave and erin");
	bg_chain_link_free(&g);

	/* a custodian with two credentials; a genesis of one custodian */
	g = mk_genesis(VID, false);
	add_token(g, "carol", BG_CHAIN_ROLE_CUSTODIAN, "zed");
	memset(g->members[0].tokens[1].member_pk, 0, 32);
	enroll_all(g);
	n = sign_by(g, WHO("carol", "dave", "erin"));
	r = bg_chain_check_genesis(g, sigs, n, why, sizeof(why));
	expect(r, BG_ERR_AUTH, why, "exactly one credential");
	bg_chain_link_free(&g);
	g = mk_genesis(VID, false);
	assert_int_equal(bg_chain_member_remove(g, "dave",
	    BG_CHAIN_ROLE_CUSTODIAN), BG_OK);
	assert_int_equal(bg_chain_member_remove(g, "erin",
	    BG_CHAIN_ROLE_CUSTODIAN), BG_OK);
	n = sign_by(g, WHO("carol"));
	r = bg_chain_check_genesis(g, sigs, n, why, sizeof(why));
	expect(r, BG_ERR_AUTH, why, "at least two custodians");
	bg_chain_link_free(&g);

	/* a tenant link is no genesis */
	n = sign_by(f->l1, WHO("carol", "dave", "erin"));
	r = bg_chain_check_genesis(f->l1, sigs, n, why, sizeof(why));
	expect(r, BG_ERR_AUTH, why, NULL);
}

/* --- a tenant's first link ----------------------------------------------------- */

static void
test_first_link(void **state)
{
	fx_t *f = *state;
	bg_chain_link_t *l;
	bg_chain_member_t *m;

	l = mk_first(f->g, "acme", 1);
	CHECK(f->g, NULL, l, WHO("carol", "dave", "alice", "bob"), BG_OK,
	    NULL);
	CHECK(f->g, NULL, l, WHO("erin", "dave", "alice", "bob", "mia"),
	    BG_OK, NULL);
	/* each missing piece, named */
	CHECK(f->g, NULL, l, WHO("carol", "alice", "bob"), BG_ERR_DENIED,
	    "needs: a custodian quorum (1 more of: dave, erin)");
	CHECK(f->g, NULL, l, WHO("carol", "dave", "alice"), BG_ERR_DENIED,
	    "needs: a signature by bob (client approver named by this "
	    "link)");
	CHECK(f->g, NULL, l, WHO("mia", "nick", "rob"), BG_ERR_DENIED,
	    "needs: a custodian quorum (2 more of: carol, dave, erin); a "
	    "signature by alice (client approver named by this link); a "
	    "signature by bob (client approver named by this link)");
	/* an MSP approver or the requester does not stand in for a client */
	CHECK(f->g, NULL, l, WHO("carol", "dave", "alice", "mia", "rob"),
	    BG_ERR_DENIED, "a signature by bob");

	/* an enrollment proof that does not verify */
	m = bg_chain_member_find(l, "alice", BG_CHAIN_ROLE_APPROVER);
	m->tokens[0].enroll_sig[3] ^= 0x20;
	CHECK(f->g, NULL, l, WHO("carol", "dave", "alice", "bob"),
	    BG_ERR_AUTH, "enrollment proof of credential");
	/* made by another credential (rob's) */
	enroll_with(l, m, &m->tokens[0], K("rob"));
	CHECK(f->g, NULL, l, WHO("carol", "dave", "alice", "bob"),
	    BG_ERR_AUTH, "of alice (approver) does not verify");
	/* made for another person's statement */
	enroll_with(l, bg_chain_member_find(l, "bob", BG_CHAIN_ROLE_APPROVER),
	    &m->tokens[0], K("alice"));
	CHECK(f->g, NULL, l, WHO("carol", "dave", "alice", "bob"),
	    BG_ERR_AUTH, "enrollment proof");
	/* without user verification */
	{
		uint8_t cdh[32];

		assert_int_equal(bg_chain_enroll_cdh(l, m, &m->tokens[0], cdh,
		    NULL), BG_OK);
		assertion(K("alice"), RP, UP, cdh, m->tokens[0].enroll_authdata,
		    &m->tokens[0].enroll_authdata_len, m->tokens[0].enroll_sig,
		    &m->tokens[0].enroll_sig_len);
		CHECK(f->g, NULL, l, WHO("carol", "dave", "alice", "bob"),
		    BG_ERR_AUTH, "enrollment proof");
	}
	/* and mended */
	enroll_with(l, m, &m->tokens[0], K("alice"));
	CHECK(f->g, NULL, l, WHO("carol", "dave", "alice", "bob"), BG_OK,
	    NULL);
	/* no proof at all */
	m->tokens[0].enroll_sig_len = 0;
	m->tokens[0].enroll_authdata_len = 0;
	CHECK(f->g, NULL, l, WHO("carol", "dave", "alice", "bob"),
	    BG_ERR_AUTH, "enrollment proof");
	bg_chain_link_free(&l);

	/* structure: a policy naming a non-approver, or one person alone */
	l = mk_first(f->g, "acme", 1);
	free(l->policy);
	l->policy = strdup("2-of(1-of(alice,bob),1-of(mia,rob))");
	CHECK(f->g, NULL, l, WHO("carol", "dave", "alice", "bob"),
	    BG_ERR_AUTH, "names rob, who is not an approver");
	free(l->policy);
	l->policy = strdup("1-of(alice,bob)");
	CHECK(f->g, NULL, l, WHO("carol", "dave", "alice", "bob"),
	    BG_ERR_AUTH, "a single approver");
	free(l->policy);
	l->policy = strdup(POLICY);
	l->settings.max_ttl = 30;
	CHECK(f->g, NULL, l, WHO("carol", "dave", "alice", "bob"),
	    BG_ERR_AUTH, "out of bounds");
	l->settings.max_ttl = 3600;
	l->settings.client_cosign = 0;
	CHECK(f->g, NULL, l, WHO("carol", "dave", "alice", "bob"),
	    BG_ERR_AUTH, "out of bounds");
	l->settings.client_cosign = 1;
	l->settings.allow_soft = true;
	CHECK(f->g, NULL, l, WHO("carol", "dave", "alice", "bob"),
	    BG_ERR_AUTH, "vault settings");
	l->settings.allow_soft = false;
	memset(l->members[0].salt, 0, 32);
	CHECK(f->g, NULL, l, WHO("carol", "dave", "alice", "bob"),
	    BG_ERR_AUTH, "no salt");
	bg_chain_link_free(&l);

	/* a first link with seq 2 or a prev hash */
	l = mk_first(f->g, "acme", 1);
	l->seq = 2;
	l->prev[0] = 1;
	CHECK(f->g, NULL, l, WHO("carol", "dave", "alice", "bob"),
	    BG_ERR_AUTH, "number 1 is due");
	bg_chain_link_free(&l);
}

/* --- attacks ---------------------------------------------------------------------- */

/*
 * The incident DESIGN.md names: a requester enrolls his own token under
 * an approver's name.  Either the credential is one he already holds in
 * the keyset (listed under two people), or a fresh one whose enrollment
 * proof he can make: then alice's existing credential has not signed.
 */
static void
test_requester_token_under_approver(void **state)
{
	fx_t *f = *state;
	bg_chain_link_t *l;
	bg_chain_member_t *m;
	size_t n;
	char why[BG_CHAIN_WHY_MAX];
	int r;

	/* rob's own credential under alice */
	l = mk_next(f->l1);
	add_token(l, "alice", BG_CHAIN_ROLE_APPROVER, "rob");
	m = bg_chain_member_find(l, "alice", BG_CHAIN_ROLE_APPROVER);
	enroll_all(l);		/* rob's key makes the proof: it holds it */
	CHECK(f->g, f->l1, l, WHO("bob", "mia", "alice"), BG_ERR_AUTH,
	    "listed under both alice and rob");
	bg_chain_link_free(&l);

	/* a fresh token rob holds, under alice's name */
	l = mk_next(f->l1);
	add_token(l, "alice", BG_CHAIN_ROLE_APPROVER, "rob-spare");
	enroll_all(l);
	CHECK(f->g, f->l1, l, WHO("bob", "mia"), BG_ERR_DENIED,
	    "needs: a signature by alice with a credential alice already "
	    "holds");
	/* rob signing "as alice" with the new token changes nothing */
	n = sign_by(l, WHO("bob", "mia"));
	sign_as(l, "alice", K("rob-spare"), RP, UP | UV, &sigs[n++]);
	r = bg_chain_check(f->g, f->l1, l, sigs, n, why, sizeof(why));
	expect(r, BG_ERR_DENIED, why, "a signature by alice with a "
	    "credential alice already holds");
	/* nor does the requester himself */
	CHECK(f->g, f->l1, l, WHO("bob", "mia", "rob"), BG_ERR_DENIED,
	    "a signature by alice");
	bg_chain_link_free(&l);

	/* alice adding her own spare: her existing credential signs */
	l = mk_next(f->l1);
	add_token(l, "alice", BG_CHAIN_ROLE_APPROVER, "alice-spare");
	enroll_all(l);
	CHECK(f->g, f->l1, l, WHO("bob", "mia", "alice"), BG_OK, NULL);
	/* and her existing credential alone is not the policy */
	CHECK(f->g, f->l1, l, WHO("alice"), BG_ERR_DENIED,
	    "the policy in force (needs 1 more from: mia, nick)");
	(void)m;
	bg_chain_link_free(&l);

	/* the same for a requester's second credential */
	l = mk_next(f->l1);
	add_token(l, "rob", BG_CHAIN_ROLE_REQUESTER, "rob-spare");
	enroll_all(l);
	CHECK(f->g, f->l1, l, WHO("alice"), BG_ERR_DENIED,
	    "a signature by rob with a credential rob already holds");
	CHECK(f->g, f->l1, l, WHO("alice", "rob"), BG_OK, NULL);
	bg_chain_link_free(&l);
}

/*
 * The store hands over the hashes of the stored texts it parsed.  They are
 * used, not trusted blindly past the signatures: a hash that is not the
 * link's makes the signatures (over the real hash), the previous-hash
 * chaining or the vault identity fail.
 */
static void
test_known_hashes(void **state)
{
	fx_t *f = *state;
	bg_chain_link_t *l;
	struct bg_chain_hashes k;
	uint8_t gh[BG_CHAIN_HASH_LEN], ph[BG_CHAIN_HASH_LEN],
	    nh[BG_CHAIN_HASH_LEN], bad[BG_CHAIN_HASH_LEN];
	char why[BG_CHAIN_WHY_MAX];
	size_t n;

	l = mk_next(f->l1);
	l->settings.max_ttl = 7200;
	n = sign_by(l, WHO("bob", "nick"));
	assert_int_equal(bg_chain_link_hash(f->g, gh), BG_OK);
	assert_int_equal(bg_chain_link_hash(f->l1, ph), BG_OK);
	assert_int_equal(bg_chain_link_hash(l, nh), BG_OK);
	k.g = gh;
	k.prev = ph;
	k.next = nh;
	assert_int_equal(bg_chain_check_hashed(f->g, f->l1, l, &k, sigs, n,
	    why, sizeof(why)), BG_OK);

	memcpy(bad, nh, sizeof(bad));
	bad[0] ^= 1;
	k.next = bad;
	assert_int_not_equal(bg_chain_check_hashed(f->g, f->l1, l, &k, sigs,
	    n, why, sizeof(why)), BG_OK);
	k.next = nh;
	memcpy(bad, ph, sizeof(bad));
	bad[31] ^= 1;
	k.prev = bad;
	assert_int_equal(bg_chain_check_hashed(f->g, f->l1, l, &k, sigs, n,
	    why, sizeof(why)), BG_ERR_AUTH);
	k.prev = ph;
	memcpy(bad, gh, sizeof(bad));
	bad[5] ^= 1;
	k.g = bad;
	assert_int_equal(bg_chain_check_hashed(f->g, f->l1, l, &k, sigs, n,
	    why, sizeof(why)), BG_ERR_AUTH);
	bg_chain_link_free(&l);
}

static void
test_policy_change(void **state)
{
	fx_t *f = *state;
	bg_chain_link_t *l, *p;
	char why[BG_CHAIN_WHY_MAX];
	size_t n;

	l = mk_next(f->l1);
	free(l->policy);
	l->policy = strdup("2-of(alice,bob,1-of(mia,nick))");
	CHECK(f->g, f->l1, l, WHO("alice"), BG_ERR_DENIED,
	    "needs: the policy in force (needs 1 more from: mia, nick)");
	CHECK(f->g, f->l1, l, WHO("mia", "nick"), BG_ERR_DENIED,
	    "needs: the policy in force (needs 1 more from: alice, bob); 1 "
	    "client co-signer (of: alice, bob)");
	/* custodians do not stand in for the policy once there is one */
	CHECK(f->g, f->l1, l, WHO("carol", "dave", "erin", "alice"),
	    BG_ERR_DENIED, "the policy in force");
	CHECK(f->g, f->l1, l, WHO("alice", "mia"), BG_OK, NULL);
	bg_chain_link_free(&l);

	/* settings are the approvers' too */
	l = mk_next(f->l1);
	l->settings.max_ttl = 7200;
	CHECK(f->g, f->l1, l, WHO("alice", "bob"), BG_ERR_DENIED,
	    "the policy in force (needs 1 more from: mia, nick)");
	CHECK(f->g, f->l1, l, WHO("bob", "nick"), BG_OK, NULL);
	bg_chain_link_free(&l);

	/* an approver who leaves does not sign off their own removal */
	l = mk_next(f->l1);
	free(l->policy);
	l->policy = strdup("2-of(1-of(alice,bob),mia)");
	assert_int_equal(bg_chain_member_remove(l, "nick",
	    BG_CHAIN_ROLE_APPROVER), BG_OK);
	CHECK(f->g, f->l1, l, WHO("alice", "nick"), BG_ERR_DENIED,
	    "the policy in force (needs 1 more from: mia, nick)");
	CHECK(f->g, f->l1, l, WHO("alice", "mia"), BG_OK, NULL);
	bg_chain_link_free(&l);

	/* an expired approver's signature does not count, even on the link
	 * that renews them */
	p = mk_first(f->g, "acme", 1);
	bg_chain_member_find(p, "mia", BG_CHAIN_ROLE_APPROVER)->expires_at =
	    T0 + 1000;
	n = sign_by(p, WHO("carol", "dave", "alice", "bob"));
	assert_int_equal(bg_chain_check(f->g, NULL, p, sigs, n, why,
	    sizeof(why)), BG_OK);
	l = mk_next(p);
	l->time = T0 + 2000;
	bg_chain_member_find(l, "mia", BG_CHAIN_ROLE_APPROVER)->expires_at =
	    T0 + YEAR;
	CHECK(f->g, p, l, WHO("alice", "mia"), BG_ERR_DENIED,
	    "needs: the policy in force (needs 1 more from: mia, nick)");
	CHECK(f->g, p, l, WHO("alice", "nick"), BG_OK, NULL);
	/* before her expiry she could */
	l->time = T0 + 900;
	CHECK(f->g, p, l, WHO("alice", "mia"), BG_OK, NULL);
	bg_chain_link_free(&l);
	bg_chain_link_free(&p);
}

static void
test_exception(void **state)
{
	fx_t *f = *state;
	bg_chain_link_t *l;

	l = mk_next(f->l1);
	free(l->policy);
	l->policy = strdup("2-of(alice,bob,mia,nick)");	/* mia+nick alone */
	CHECK(f->g, f->l1, l, WHO("alice", "mia"), BG_ERR_DENIED,
	    "needs: an unexpired exception");
	l->has_exception = true;
	(void)snprintf(l->exception_reason, sizeof(l->exception_reason),
	    "client on leave; ticket 4711");
	l->exception_expires = l->time;		/* already over */
	CHECK(f->g, f->l1, l, WHO("alice", "mia"), BG_ERR_DENIED,
	    "an unexpired exception");
	l->exception_expires = l->time + 86400;
	CHECK(f->g, f->l1, l, WHO("alice", "mia"), BG_OK, NULL);
	/* still the approvers' rule, not the MSP's alone */
	CHECK(f->g, f->l1, l, WHO("mia", "nick"), BG_ERR_DENIED,
	    "1 client co-signer (of: alice, bob)");
	bg_chain_link_free(&l);
}

static void
test_client_cosign(void **state)
{
	fx_t *f = *state;
	bg_chain_link_t *l, *p;
	size_t n;
	char why[BG_CHAIN_WHY_MAX];

	/* a new requester: one client approver (client_cosign 1) */
	l = mk_next(f->l1);
	add_member(l, "sam", BG_CHAIN_ROLE_REQUESTER, BG_CHAIN_SIDE_NONE,
	    "sam");
	enroll_all(l);
	CHECK(f->g, f->l1, l, WHO("mia", "nick"), BG_ERR_DENIED,
	    "needs: 1 client co-signer for the grant to sam (of: alice, "
	    "bob)");
	CHECK(f->g, f->l1, l, WHO("carol", "dave", "erin"), BG_ERR_DENIED,
	    "1 client co-signer for the grant to sam");
	CHECK(f->g, f->l1, l, WHO("alice"), BG_OK, NULL);
	CHECK(f->g, f->l1, l, WHO("bob"), BG_OK, NULL);
	bg_chain_link_free(&l);

	/* a longer expiry is a grant too */
	l = mk_next(f->l1);
	bg_chain_member_find(l, "rob", BG_CHAIN_ROLE_REQUESTER)->expires_at +=
	    86400;
	CHECK(f->g, f->l1, l, WHO("mia"), BG_ERR_DENIED,
	    "for the grant to rob");
	CHECK(f->g, f->l1, l, WHO("bob"), BG_OK, NULL);
	bg_chain_link_free(&l);

	/* client_cosign 2 */
	p = mk_first(f->g, "acme", 2);
	n = sign_by(p, WHO("carol", "dave", "alice", "bob"));
	assert_int_equal(bg_chain_check(f->g, NULL, p, sigs, n, why,
	    sizeof(why)), BG_OK);
	l = mk_next(p);
	add_member(l, "sam", BG_CHAIN_ROLE_AUDITOR, BG_CHAIN_SIDE_NONE, "sam");
	enroll_all(l);
	CHECK(f->g, p, l, WHO("alice", "mia"), BG_ERR_DENIED,
	    "needs: 1 more client co-signer for the grant to sam (of: bob)");
	CHECK(f->g, p, l, WHO("mia", "nick"), BG_ERR_DENIED,
	    "needs: 2 client co-signers for the grant to sam (of: alice, "
	    "bob)");
	CHECK(f->g, p, l, WHO("alice", "bob"), BG_OK, NULL);
	/* two signatures of one person count once */
	n = sign_by(l, WHO("alice", "alice"));
	expect(bg_chain_check(f->g, p, l, sigs, n, why, sizeof(why)),
	    BG_ERR_DENIED, why, "1 more client co-signer");
	bg_chain_link_free(&l);
	bg_chain_link_free(&p);
}

static void
test_grantee_not_cosigner(void **state)
{
	fx_t *f = *state;
	bg_chain_link_t *l;

	/* alice, a client approver, made a requester too */
	l = mk_next(f->l1);
	add_member(l, "alice", BG_CHAIN_ROLE_REQUESTER, BG_CHAIN_SIDE_NONE,
	    "alice");
	enroll_all(l);
	CHECK(f->g, f->l1, l, WHO("alice"), BG_ERR_DENIED,
	    "needs: 1 client co-signer for the grant to alice (of: bob)");
	CHECK(f->g, f->l1, l, WHO("alice", "mia"), BG_ERR_DENIED,
	    "for the grant to alice (of: bob)");
	CHECK(f->g, f->l1, l, WHO("bob"), BG_OK, NULL);
	bg_chain_link_free(&l);

	/* ... who then extends her own access */
	l = mk_next(f->l1);
	add_member(l, "alice", BG_CHAIN_ROLE_AUDITOR, BG_CHAIN_SIDE_NONE,
	    "alice");
	add_member(l, "sam", BG_CHAIN_ROLE_REQUESTER, BG_CHAIN_SIDE_NONE,
	    "sam");
	enroll_all(l);
	/* alice counts for sam, not for herself */
	CHECK(f->g, f->l1, l, WHO("alice"), BG_ERR_DENIED,
	    "needs: 1 client co-signer for the grant to alice (of: bob)");
	CHECK(f->g, f->l1, l, WHO("alice", "bob"), BG_OK, NULL);
	bg_chain_link_free(&l);
}

static void
test_removal(void **state)
{
	fx_t *f = *state;
	bg_chain_link_t *l;

	l = mk_next(f->l1);
	assert_int_equal(bg_chain_member_remove(l, "rob",
	    BG_CHAIN_ROLE_REQUESTER), BG_OK);
	CHECK(f->g, f->l1, l, WHO("mia", "rob"), BG_ERR_DENIED,
	    "needs: a client approver's signature for the removal (one of: "
	    "alice, bob)");
	CHECK(f->g, f->l1, l, WHO("alice"), BG_OK, NULL);
	bg_chain_link_free(&l);

	/* a shorter expiry */
	l = mk_next(f->l1);
	bg_chain_member_find(l, "rob", BG_CHAIN_ROLE_REQUESTER)->expires_at =
	    T0 + 1000;
	CHECK(f->g, f->l1, l, WHO("nick"), BG_ERR_DENIED, "for the removal");
	CHECK(f->g, f->l1, l, WHO("bob"), BG_OK, NULL);
	bg_chain_link_free(&l);
}

static void
test_no_change(void **state)
{
	fx_t *f = *state;
	bg_chain_link_t *l;

	l = mk_next(f->l1);
	(void)snprintf(l->note, sizeof(l->note), "nothing really");
	CHECK(f->g, f->l1, l, WHO("carol", "dave", "alice", "bob", "mia"),
	    BG_ERR_STATE, "the link changes nothing");
	bg_chain_link_free(&l);
}

/* Before any policy, approver changes go back to the custodians. */
static void
test_no_policy_yet(void **state)
{
	fx_t *f = *state;
	bg_chain_link_t *p, *l;
	size_t n;
	char why[BG_CHAIN_WHY_MAX];

	p = mk_bare(f->g, "beta");
	add_member(p, "alice", BG_CHAIN_ROLE_APPROVER, BG_CHAIN_SIDE_CLIENT,
	    "alice");
	enroll_all(p);
	n = sign_by(p, WHO("carol", "erin", "alice"));
	assert_int_equal(bg_chain_check(f->g, NULL, p, sigs, n, why,
	    sizeof(why)), BG_OK);
	l = mk_next(p);
	add_member(l, "bob", BG_CHAIN_ROLE_APPROVER, BG_CHAIN_SIDE_CLIENT,
	    "bob");
	add_member(l, "mia", BG_CHAIN_ROLE_APPROVER, BG_CHAIN_SIDE_MSP, "mia");
	l->policy = strdup("2-of(alice,bob,mia)");
	enroll_all(l);
	CHECK(f->g, p, l, WHO("alice", "bob"), BG_ERR_DENIED,
	    "needs: a custodian quorum (2 more of: carol, dave, erin)");
	CHECK(f->g, p, l, WHO("alice", "carol", "dave"), BG_ERR_DENIED,
	    "needs: a signature by bob (client approver named by this link)");
	CHECK(f->g, p, l, WHO("alice", "bob", "carol", "dave"), BG_OK, NULL);
	bg_chain_link_free(&l);
	bg_chain_link_free(&p);
}

static void
test_splice(void **state)
{
	fx_t *f = *state;
	bg_chain_link_t *b1, *b2, *a2;
	size_t n;
	char why[BG_CHAIN_WHY_MAX];

	b1 = mk_first(f->g, "beta", 1);
	n = sign_by(b1, WHO("carol", "dave", "alice", "bob"));
	assert_int_equal(bg_chain_check(f->g, NULL, b1, sigs, n, why,
	    sizeof(why)), BG_OK);
	b2 = mk_next(b1);
	add_member(b2, "sam", BG_CHAIN_ROLE_REQUESTER, BG_CHAIN_SIDE_NONE,
	    "sam");
	enroll_all(b2);
	CHECK(f->g, b1, b2, WHO("alice"), BG_OK, NULL);
	/* beta's link offered as the successor of acme's */
	CHECK(f->g, f->l1, b2, WHO("alice"), BG_ERR_AUTH,
	    "the link is for tenant beta, not acme");
	/* beta's first link offered after acme's first */
	CHECK(f->g, f->l1, b1, WHO("carol", "dave", "alice", "bob"),
	    BG_ERR_AUTH, "tenant beta, not acme");
	/* acme's second link relabelled for beta: the prev hash is acme's */
	a2 = mk_next(f->l1);
	add_member(a2, "sam", BG_CHAIN_ROLE_REQUESTER, BG_CHAIN_SIDE_NONE,
	    "sam");
	enroll_all(a2);
	(void)snprintf(a2->tenant, sizeof(a2->tenant), "beta");
	CHECK(f->g, b1, a2, WHO("alice"), BG_ERR_AUTH, "prev hash differs");
	bg_chain_link_free(&a2);
	bg_chain_link_free(&b2);
	bg_chain_link_free(&b1);
}

static void
test_replay(void **state)
{
	fx_t *f = *state;
	bg_chain_link_t *l2, *l3;

	l2 = mk_next(f->l1);
	add_member(l2, "sam", BG_CHAIN_ROLE_REQUESTER, BG_CHAIN_SIDE_NONE,
	    "sam");
	enroll_all(l2);
	CHECK(f->g, f->l1, l2, WHO("alice"), BG_OK, NULL);
	l3 = mk_next(l2);
	assert_int_equal(bg_chain_member_remove(l3, "sam",
	    BG_CHAIN_ROLE_REQUESTER), BG_OK);
	CHECK(f->g, l2, l3, WHO("bob"), BG_OK, NULL);
	/* replaying the grant after its removal */
	CHECK(f->g, l3, l2, WHO("alice"), BG_ERR_AUTH, "number 2 of tenant "
	    "acme; number 4 is due");
	CHECK(f->g, l2, l2, WHO("alice"), BG_ERR_AUTH, "number 3 is due");
	CHECK(f->g, l3, f->l1, WHO("carol", "dave", "alice", "bob"),
	    BG_ERR_AUTH, "number 4 is due");
	/* a first link again, for a tenant that has one */
	CHECK(f->g, l2, f->l1, WHO("carol", "dave", "alice", "bob"),
	    BG_ERR_AUTH, "number 3 is due");
	/* the right number on the wrong parent */
	l2->seq = 4;
	CHECK(f->g, l3, l2, WHO("alice"), BG_ERR_AUTH, "prev hash differs");
	/* time going backwards */
	bg_chain_link_free(&l2);
	l2 = mk_next(f->l1);
	add_member(l2, "sam", BG_CHAIN_ROLE_REQUESTER, BG_CHAIN_SIDE_NONE,
	    "sam");
	enroll_all(l2);
	l2->time = f->l1->time - 1;
	CHECK(f->g, f->l1, l2, WHO("alice"), BG_ERR_AUTH, "dated before");
	bg_chain_link_free(&l3);
	bg_chain_link_free(&l2);
}

static void
test_other_genesis(void **state)
{
	fx_t *f = *state;
	bg_chain_link_t *g2, *l;
	size_t n;
	char why[BG_CHAIN_WHY_MAX];

	g2 = mk_genesis(VID2, false);
	n = sign_by(g2, WHO("carol", "dave", "erin"));
	assert_int_equal(bg_chain_check_genesis(g2, sigs, n, why,
	    sizeof(why)), BG_OK);
	CHECK(g2, NULL, f->l1, WHO("carol", "dave", "alice", "bob"),
	    BG_ERR_AUTH, "belongs to another vault");
	/* the other vault's own link, presented to this one */
	l = mk_first(g2, "acme", 1);
	CHECK(g2, NULL, l, WHO("carol", "dave", "alice", "bob"), BG_OK, NULL);
	CHECK(f->g, NULL, l, WHO("carol", "dave", "alice", "bob"),
	    BG_ERR_AUTH, "another vault");
	/* this genesis hash, another vault id */
	assert_int_equal(bg_chain_link_hash(f->g, l->genesis), BG_OK);
	CHECK(f->g, NULL, l, WHO("carol", "dave", "alice", "bob"),
	    BG_ERR_AUTH, "another vault id");
	bg_chain_link_free(&l);
	/* a prev from the other vault */
	l = mk_first(g2, "acme", 1);
	{
		bg_chain_link_t *n2 = mk_next(l);

		add_member(n2, "sam", BG_CHAIN_ROLE_REQUESTER,
		    BG_CHAIN_SIDE_NONE, "sam");
		enroll_all(n2);
		CHECK(f->g, l, n2, WHO("alice"), BG_ERR_AUTH, NULL);
		bg_chain_link_free(&n2);
	}
	bg_chain_link_free(&l);
	bg_chain_link_free(&g2);
}

static void
test_soft_tokens(void **state)
{
	fx_t *f = *state;
	bg_chain_link_t *gs, *l;
	bg_chain_member_t *m;
	size_t n;
	char why[BG_CHAIN_WHY_MAX];

	l = mk_first(f->g, "acme", 1);
	m = bg_chain_member_find(l, "rob", BG_CHAIN_ROLE_REQUESTER);
	memcpy(m->tokens[0].aaguid, bg_token_soft_aaguid, 16);
	m->tokens[0].soft = true;
	CHECK(f->g, NULL, l, WHO("carol", "dave", "alice", "bob"),
	    BG_ERR_AUTH, "of rob is a software token, and this vault's "
	    "genesis does not allow them");
	m->tokens[0].soft = false;
	CHECK(f->g, NULL, l, WHO("carol", "dave", "alice", "bob"),
	    BG_ERR_AUTH, "of rob is a software token but is not marked");
	bg_chain_link_free(&l);
	/* marked soft with another AAGUID: refused the same */
	l = mk_first(f->g, "acme", 1);
	bg_chain_member_find(l, "mia", BG_CHAIN_ROLE_APPROVER)->tokens[0].soft =
	    true;
	CHECK(f->g, NULL, l, WHO("carol", "dave", "alice", "bob"),
	    BG_ERR_AUTH, "of mia is a software token");
	bg_chain_link_free(&l);

	/* a vault whose genesis allows them */
	gs = mk_genesis(VID, true);
	n = sign_by(gs, WHO("carol", "dave", "erin"));
	assert_int_equal(bg_chain_check_genesis(gs, sigs, n, why,
	    sizeof(why)), BG_OK);
	l = mk_first(gs, "acme", 1);
	m = bg_chain_member_find(l, "rob", BG_CHAIN_ROLE_REQUESTER);
	memcpy(m->tokens[0].aaguid, bg_token_soft_aaguid, 16);
	m->tokens[0].soft = true;
	CHECK(gs, NULL, l, WHO("carol", "dave", "alice", "bob"), BG_OK, NULL);
	bg_chain_link_free(&l);
	bg_chain_link_free(&gs);
}

/* A production vault vets every token: its genesis pins a trust store,
 * and each new credential carries attestation that store vets. */
static void
test_vetted(void **state)
{
	fx_t *f = *state;
	bg_chain_link_t *g, *l, *v;
	bg_chain_member_t *m;
	size_t n;
	char why[BG_CHAIN_WHY_MAX];
	int r;

	/* a production genesis without a trust store */
	g = mk_genesis(VID, false);
	bg_attest_trust_free(&g->trust);
	n = sign_by(g, WHO("carol", "dave", "erin"));
	r = bg_chain_check_genesis(g, sigs, n, why, sizeof(why));
	expect(r, BG_ERR_AUTH, why, "without a trust store that vets");
	/* ... or with one that vets nothing (a root, no AAGUID) */
	g->trust = vendor_trust();
	free(g->trust->aaguids);
	g->trust->aaguids = NULL;
	g->trust->n_aaguids = 0;
	n = sign_by(g, WHO("carol", "dave", "erin"));
	r = bg_chain_check_genesis(g, sigs, n, why, sizeof(why));
	expect(r, BG_ERR_AUTH, why, "without a trust store that vets");
	bg_chain_link_free(&g);
	/* a custodian whose credential the genesis' store does not vet */
	g = mk_genesis(VID, false);
	m = bg_chain_member_find(g, "erin", BG_CHAIN_ROLE_CUSTODIAN);
	m->tokens[0].att_stmt_len = 0;
	m->tokens[0].att_authdata_len = 0;
	memset(m->tokens[0].att_cdh, 0, 32);
	n = sign_by(g, WHO("carol", "dave", "erin"));
	r = bg_chain_check_genesis(g, sigs, n, why, sizeof(why));
	expect(r, BG_ERR_AUTH, why, "of erin carries no attestation");
	bg_chain_link_free(&g);
	/* a later vault link may not drop the trust store */
	v = mk_vnext(f->g);
	bg_attest_trust_free(&v->trust);
	VCHECK(f->g, v, WHO("carol", "dave", "erin"), BG_ERR_AUTH,
	    "without a trust store that vets");
	bg_chain_link_free(&v);

	/* a tenant credential without attestation, or with another model */
	l = mk_first(f->g, "acme", 1);
	m = bg_chain_member_find(l, "rob", BG_CHAIN_ROLE_REQUESTER);
	m->tokens[0].att_stmt_len = 0;
	m->tokens[0].att_authdata_len = 0;
	memset(m->tokens[0].att_cdh, 0, 32);
	CHECK(f->g, NULL, l, WHO("carol", "dave", "alice", "bob"),
	    BG_ERR_AUTH, "of rob carries no attestation");
	bg_chain_link_free(&l);
	l = mk_first(f->g, "acme", 1);
	m = bg_chain_member_find(l, "rob", BG_CHAIN_ROLE_REQUESTER);
	memset(m->tokens[0].aaguid, 0x22, 16);
	attest_tok(&m->tokens[0]);
	m->tokens[0].enroll_sig_len = 0;
	enroll_all(l);
	CHECK(f->g, NULL, l, WHO("carol", "dave", "alice", "bob"),
	    BG_ERR_AUTH, "of rob:");
	bg_chain_link_free(&l);
}

static void
test_invalid_sigs_ignored(void **state)
{
	fx_t *f = *state;
	bg_chain_link_t *l, *other;
	bg_chain_sig_t *s = sigs;
	char why[BG_CHAIN_WHY_MAX];
	size_t n = 0;
	int r;

	l = mk_first(f->g, "acme", 1);
	other = mk_first(f->g, "beta", 1);
	sign_as(l, "carol", K("carol"), RP, UP | UV, &s[n++]);	/* good */
	sign_as(l, "dave", K("dave"), RP, UP | UV, &s[n]);	/* flipped */
	s[n++].sig[10] ^= 0x01;
	sign_as(l, "erin", K("erin"), "breakglass:ffffffffffffffff", UP | UV,
	    &s[n++]);						/* other rp */
	sign_as(l, "alice", K("alice"), RP, UP, &s[n++]);	/* no UV */
	sign_as(other, "bob", K("bob"), RP, UP | UV, &s[n++]);	/* other link */
	sign_as(l, "dave", K("carol"), RP, UP | UV, &s[n++]);	/* wrong key */
	sign_as(l, "erin", K("erin"), RP, UP | UV, &s[n]);	/* mangled */
	s[n].authdata_len = BG_CHAIN_AUTHDATA_MAX + 1;
	s[n++].person[0] = 'e';
	sign_as(l, "bob", K("bob"), RP, UP | UV, &s[n]);	/* unterminated */
	memset(s[n++].person, 'b', sizeof(s->person));
	r = bg_chain_check(f->g, NULL, l, sigs, n, why, sizeof(why));
	expect(r, BG_ERR_DENIED, why, "needs: a custodian quorum (1 more of: "
	    "dave, erin); a signature by alice (client approver named by "
	    "this link); a signature by bob (client approver named by this "
	    "link)");
	/* the valid ones, added to the same bundle, do count */
	sign_as(l, "dave", K("dave"), RP, UP | UV, &s[n++]);
	sign_as(l, "alice", K("alice"), RP, UP | UV, &s[n++]);
	sign_as(l, "bob", K("bob"), RP, UP | UV, &s[n++]);
	r = bg_chain_check(f->g, NULL, l, sigs, n, why, sizeof(why));
	expect(r, BG_OK, why, NULL);
	/* no signatures at all */
	r = bg_chain_check(f->g, NULL, l, NULL, 0, why, sizeof(why));
	expect(r, BG_ERR_DENIED, why, "2 more of: carol, dave, erin");
	assert_int_equal(bg_chain_check(f->g, NULL, l, NULL, 1, why,
	    sizeof(why)), BG_ERR_INVALID_ARG);
	assert_int_equal(bg_chain_check(NULL, NULL, l, NULL, 0, why,
	    sizeof(why)), BG_ERR_INVALID_ARG);
	/* a short why buffer is fine */
	r = bg_chain_check(f->g, NULL, l, NULL, 0, why, 8);
	assert_int_equal(r, BG_ERR_DENIED);
	assert_string_equal(why, "needs: ");
	bg_chain_link_free(&other);
	bg_chain_link_free(&l);
}

/* --- vault links after the genesis ------------------------------------------ */

/* Removing a custodian: a quorum of the others; they never sign it off. */
static void
test_vault_remove(void **state)
{
	fx_t *f = *state;
	bg_chain_link_t *v;

	v = mk_vnext(f->g);
	assert_int_equal(bg_chain_member_remove(v, "erin",
	    BG_CHAIN_ROLE_CUSTODIAN), BG_OK);
	VCHECK(f->g, v, WHO("carol", "dave"), BG_OK, NULL);
	VCHECK(f->g, v, WHO("carol"), BG_ERR_DENIED,
	    "needs: a custodian quorum (1 more of: dave)");
	/* the custodian removed does not count for her own removal */
	VCHECK(f->g, v, WHO("erin", "carol"), BG_ERR_DENIED,
	    "needs: a custodian quorum (1 more of: dave)");
	VCHECK(f->g, v, WHO("erin"), BG_ERR_DENIED,
	    "needs: a custodian quorum (2 more of: carol, dave)");
	/* nor do tenant members, or signatures that do not verify */
	VCHECK(f->g, v, WHO("alice", "bob", "carol"), BG_ERR_DENIED,
	    "1 more of: dave");
	{
		char why[BG_CHAIN_WHY_MAX];
		size_t n = sign_by(v, WHO("carol", "dave"));

		sigs[1].sig[7] ^= 0x01;
		expect(bg_chain_check_vault(f->g, v, sigs, n, why,
		    sizeof(why)), BG_ERR_DENIED, why, "1 more of: dave");
		/* carol's key signing as dave */
		sign_as(v, "dave", K("carol"), RP, UP | UV, &sigs[1]);
		expect(bg_chain_check_vault(f->g, v, sigs, n, why,
		    sizeof(why)), BG_ERR_DENIED, why, "1 more of: dave");
		/* without user verification */
		sign_as(v, "dave", K("dave"), RP, UP, &sigs[1]);
		expect(bg_chain_check_vault(f->g, v, sigs, n, why,
		    sizeof(why)), BG_ERR_DENIED, why, "1 more of: dave");
		expect(bg_chain_check_vault(f->g, v, NULL, 0, why,
		    sizeof(why)), BG_ERR_DENIED, why, "2 more of: carol, "
		    "dave");
		assert_int_equal(bg_chain_check_vault(f->g, v, NULL, 1, why,
		    sizeof(why)), BG_ERR_INVALID_ARG);
		assert_int_equal(bg_chain_check_vault(NULL, v, NULL, 0, why,
		    sizeof(why)), BG_ERR_INVALID_ARG);
	}
	/* down to one custodian */
	assert_int_equal(bg_chain_member_remove(v, "dave",
	    BG_CHAIN_ROLE_CUSTODIAN), BG_OK);
	VCHECK(f->g, v, WHO("carol", "dave", "erin"), BG_ERR_AUTH,
	    "a vault link names at least two custodians");
	bg_chain_link_free(&v);

	/* a quorum the custodians kept cannot reach: lower it first */
	f->g->settings.custodian_quorum = 3;
	v = mk_vnext(f->g);
	v->settings.custodian_quorum = 2;
	assert_int_equal(bg_chain_member_remove(v, "erin",
	    BG_CHAIN_ROLE_CUSTODIAN), BG_OK);
	VCHECK(f->g, v, WHO("carol", "dave", "erin"), BG_ERR_DENIED,
	    "a custodian quorum of 3, which the 2 custodians this link "
	    "keeps cannot reach");
	bg_chain_link_free(&v);
	f->g->settings.custodian_quorum = 2;
}

/*
 * Adding a custodian: a quorum of the custodians in force.  One
 * custodian cannot add his own second token under a new name: the
 * newcomer's signature does not count, and his own existing key under
 * the new name is one credential under two people.
 */
static void
test_vault_add(void **state)
{
	fx_t *f = *state;
	bg_chain_link_t *v, *v2;
	bg_chain_member_t *m;

	v = mk_vnext(f->g);
	add_custodian(v, "fay", "fay");
	VCHECK(f->g, v, WHO("carol", "dave"), BG_OK, NULL);
	VCHECK(f->g, v, WHO("fay"), BG_ERR_DENIED,
	    "needs: a custodian quorum (2 more of: carol, dave, erin)");
	VCHECK(f->g, v, WHO("carol", "fay"), BG_ERR_DENIED,
	    "needs: a custodian quorum (1 more of: dave, erin)");
	/* the newcomer's enrollment proof */
	m = bg_chain_member_find(v, "fay", BG_CHAIN_ROLE_CUSTODIAN);
	m->tokens[0].enroll_sig[2] ^= 0x10;
	VCHECK(f->g, v, WHO("carol", "dave"), BG_ERR_AUTH,
	    "the enrollment proof of custodian fay does not verify");
	/* made by another key */
	enroll_with(v, m, &m->tokens[0], K("carol"));
	VCHECK(f->g, v, WHO("carol", "dave"), BG_ERR_AUTH,
	    "enrollment proof of custodian fay");
	/* made for the genesis's statement (no vault identity in it) */
	{
		bg_chain_link_t *z = NULL;

		assert_int_equal(bg_chain_link_dup(v, &z), BG_OK);
		memset(z->genesis, 0, sizeof(z->genesis));
		enroll_with(z, m, &m->tokens[0], K("fay"));
		bg_chain_link_free(&z);
	}
	VCHECK(f->g, v, WHO("carol", "dave"), BG_ERR_AUTH,
	    "enrollment proof of custodian fay");
	enroll_with(v, m, &m->tokens[0], K("fay"));
	VCHECK(f->g, v, WHO("carol", "dave"), BG_OK, NULL);
	/* the custodians a link adds count for the next one */
	v2 = mk_vnext(v);
	assert_int_equal(bg_chain_member_remove(v2, "carol",
	    BG_CHAIN_ROLE_CUSTODIAN), BG_OK);
	VCHECK(v, v2, WHO("fay", "erin"), BG_OK, NULL);
	/* ... and its own genesis is the vault's, not the link before */
	assert_int_equal(bg_chain_link_hash(v, v2->genesis), BG_OK);
	VCHECK(v, v2, WHO("fay", "erin"), BG_ERR_AUTH,
	    "belongs to another vault");
	bg_chain_link_free(&v2);
	bg_chain_link_free(&v);

	/* carol's own key under a second name */
	v = mk_vnext(f->g);
	add_custodian(v, "zed", "carol");
	VCHECK(f->g, v, WHO("carol", "zed"), BG_ERR_AUTH,
	    "listed under both carol and zed");
	bg_chain_link_free(&v);
	/* a fresh token of carol's under a second name */
	v = mk_vnext(f->g);
	add_custodian(v, "zed", "zed");
	VCHECK(f->g, v, WHO("carol", "zed"), BG_ERR_DENIED,
	    "needs: a custodian quorum (1 more of: dave, erin)");
	/* zed signing as dave with his own key */
	{
		char why[BG_CHAIN_WHY_MAX];
		size_t n = sign_by(v, WHO("carol"));

		sign_as(v, "dave", K("zed"), RP, UP | UV, &sigs[n++]);
		expect(bg_chain_check_vault(f->g, v, sigs, n, why,
		    sizeof(why)), BG_ERR_DENIED, why, "1 more of: dave, erin");
	}
	/* a tenant approver's key as a new custodian */
	bg_chain_link_free(&v);
	v = mk_vnext(f->g);
	add_custodian(v, "alice", "alice");
	VCHECK(f->g, v, WHO("alice", "carol"), BG_ERR_DENIED,
	    "1 more of: dave, erin");
	VCHECK(f->g, v, WHO("dave", "carol"), BG_OK, NULL);
	bg_chain_link_free(&v);
}

/* The quorum and the drill/production flag: a custodian quorum. */
static void
test_vault_settings(void **state)
{
	fx_t *f = *state;
	bg_chain_link_t *v, *v2, *gs;
	bg_chain_member_t *m;
	size_t n;
	char why[BG_CHAIN_WHY_MAX];

	v = mk_vnext(f->g);
	v->settings.custodian_quorum = 3;
	VCHECK(f->g, v, WHO("carol"), BG_ERR_DENIED,
	    "needs: a custodian quorum (1 more of: dave, erin)");
	VCHECK(f->g, v, WHO("carol", "erin"), BG_OK, NULL);
	/* the next link needs the quorum v sets */
	v2 = mk_vnext(v);
	v2->settings.custodian_quorum = 2;
	VCHECK(v, v2, WHO("carol", "erin"), BG_ERR_DENIED,
	    "needs: a custodian quorum (1 more of: dave)");
	VCHECK(v, v2, WHO("carol", "erin", "dave"), BG_OK, NULL);
	bg_chain_link_free(&v2);
	v->settings.custodian_quorum = 4;
	VCHECK(f->g, v, WHO("carol", "dave", "erin"), BG_ERR_AUTH,
	    "the custodian quorum is 4; it must be 2..3");
	v->settings.custodian_quorum = 1;
	VCHECK(f->g, v, WHO("carol", "dave", "erin"), BG_ERR_AUTH,
	    "the custodian quorum is 1");
	bg_chain_link_free(&v);

	/* production to drill */
	v = mk_vnext(f->g);
	v->settings.allow_soft = true;
	VCHECK(f->g, v, WHO("dave"), BG_ERR_DENIED,
	    "needs: a custodian quorum (1 more of: carol, erin)");
	VCHECK(f->g, v, WHO("dave", "erin"), BG_OK, NULL);
	bg_chain_link_free(&v);
	/* a software token into a production vault */
	v = mk_vnext(f->g);
	add_custodian(v, "fay", "fay");
	m = bg_chain_member_find(v, "fay", BG_CHAIN_ROLE_CUSTODIAN);
	memcpy(m->tokens[0].aaguid, bg_token_soft_aaguid, 16);
	m->tokens[0].soft = true;
	VCHECK(f->g, v, WHO("carol", "dave", "erin"), BG_ERR_AUTH,
	    "of fay is a software token, and vault link 1 does not allow "
	    "them");
	m->tokens[0].soft = false;
	VCHECK(f->g, v, WHO("carol", "dave", "erin"), BG_ERR_AUTH,
	    "is a software token but is not marked");
	bg_chain_link_free(&v);

	/* drill to production */
	gs = mk_genesis(VID, true);
	n = sign_by(gs, WHO("carol", "dave", "erin"));
	assert_int_equal(bg_chain_check_genesis(gs, sigs, n, why,
	    sizeof(why)), BG_OK);
	v = mk_vnext(gs);
	make_production(v);
	VCHECK(gs, v, WHO("carol"), BG_ERR_DENIED,
	    "needs: a custodian quorum (1 more of: dave, erin)");
	VCHECK(gs, v, WHO("carol", "erin"), BG_OK, NULL);
	/* ... refused while a custodian holds a software token */
	m = bg_chain_member_find(v, "dave", BG_CHAIN_ROLE_CUSTODIAN);
	memcpy(m->tokens[0].aaguid, bg_token_soft_aaguid, 16);
	m->tokens[0].soft = true;
	VCHECK(gs, v, WHO("carol", "dave", "erin"), BG_ERR_AUTH,
	    "of dave is a software token, and vault link 1 does not allow");
	bg_chain_link_free(&v);
	bg_chain_link_free(&gs);
}

/* A custodian's new credential: their credential in force signs too. */
static void
test_vault_new_credential(void **state)
{
	fx_t *f = *state;
	bg_chain_link_t *v;
	bg_chain_member_t *m;
	size_t n;
	char why[BG_CHAIN_WHY_MAX];

	v = mk_vnext(f->g);
	m = bg_chain_member_find(v, "carol", BG_CHAIN_ROLE_CUSTODIAN);
	mktok(K("gus"), true, &m->tokens[0]);
	enroll_all(v);
	VCHECK(f->g, v, WHO("dave", "erin"), BG_ERR_DENIED,
	    "needs: a signature by carol with a credential carol already "
	    "holds (for carol's new credential)");
	/* the new credential does not vouch for itself */
	n = sign_by(v, WHO("dave", "erin"));
	sign_as(v, "carol", K("gus"), RP, UP | UV, &sigs[n++]);
	expect(bg_chain_check_vault(f->g, v, sigs, n, why, sizeof(why)),
	    BG_ERR_DENIED, why, "a signature by carol with a credential "
	    "carol already holds");
	VCHECK(f->g, v, WHO("dave", "carol"), BG_OK, NULL);
	bg_chain_link_free(&v);

	/* the same credential id with another signing key */
	v = mk_vnext(f->g);
	m = bg_chain_member_find(v, "carol", BG_CHAIN_ROLE_CUSTODIAN);
	memcpy(m->tokens[0].pubkey, K("gus")->pk, 32);
	m->tokens[0].enroll_sig_len = 0;
	enroll_with(v, m, &m->tokens[0], K("gus"));
	VCHECK(f->g, v, WHO("carol", "dave", "erin"), BG_ERR_AUTH,
	    "another signing key than it had in the previous vault link");
	bg_chain_link_free(&v);

	/* a genesis custodian whose credential changes at all (its label
	 * here) enrolls again: the old proof names no vault identity */
	v = mk_vnext(f->g);
	m = bg_chain_member_find(v, "dave", BG_CHAIN_ROLE_CUSTODIAN);
	(void)snprintf(m->tokens[0].label, sizeof(m->tokens[0].label), "x");
	VCHECK(f->g, v, WHO("carol", "erin"), BG_ERR_AUTH,
	    "enrollment proof of custodian dave");
	bg_chain_link_free(&v);
}

/* Where a vault link may stand, and what it may carry. */
static void
test_vault_structure(void **state)
{
	fx_t *f = *state;
	bg_chain_link_t *v, *v2, *g2;
	bg_chain_member_t *m;
	size_t n;
	char why[BG_CHAIN_WHY_MAX];

	/* a note and a time alone change nothing */
	v = mk_vnext(f->g);
	VCHECK(f->g, v, WHO("carol", "dave", "erin"), BG_ERR_STATE,
	    "the link changes nothing");
	/* the number, the prev hash, the vault, the time */
	assert_int_equal(bg_chain_member_remove(v, "erin",
	    BG_CHAIN_ROLE_CUSTODIAN), BG_OK);
	v->seq = 2;
	VCHECK(f->g, v, WHO("carol", "dave"), BG_ERR_AUTH,
	    "the link is vault link 2; vault link 1 is due");
	v->seq = 1;
	v->prev[0] ^= 1;
	VCHECK(f->g, v, WHO("carol", "dave"), BG_ERR_AUTH,
	    "prev hash differs");
	v->prev[0] ^= 1;
	v->genesis[0] ^= 1;
	VCHECK(f->g, v, WHO("carol", "dave"), BG_ERR_AUTH,
	    "belongs to another vault");
	v->genesis[0] ^= 1;
	(void)snprintf(v->vault_id, sizeof(v->vault_id), "%s", VID2);
	VCHECK(f->g, v, WHO("carol", "dave"), BG_ERR_AUTH,
	    "another vault id or relying party");
	(void)snprintf(v->vault_id, sizeof(v->vault_id), "%s", VID);
	v->time = f->g->time - 1;
	VCHECK(f->g, v, WHO("carol", "dave"), BG_ERR_AUTH, "dated before");
	v->time = f->g->time;
	VCHECK(f->g, v, WHO("carol", "dave"), BG_OK, NULL);
	/* replayed in its own place, or after a later link */
	VCHECK(v, v, WHO("carol", "dave"), BG_ERR_AUTH,
	    "vault link 2 is due");
	VCHECK(v, f->g, WHO("carol", "dave", "erin"), BG_ERR_AUTH, NULL);
	v2 = mk_vnext(v);
	add_custodian(v2, "fay", "fay");
	VCHECK(v, v2, WHO("carol", "dave"), BG_OK, NULL);
	VCHECK(v2, v, WHO("carol", "dave"), BG_ERR_AUTH,
	    "vault link 3 is due");
	/* another vault's link after this vault's */
	g2 = mk_genesis(VID2, false);
	bg_chain_link_free(&v2);
	v2 = mk_vnext(g2);
	assert_int_equal(bg_chain_member_remove(v2, "erin",
	    BG_CHAIN_ROLE_CUSTODIAN), BG_OK);
	VCHECK(g2, v2, WHO("carol", "dave"), BG_OK, NULL);
	VCHECK(f->g, v2, WHO("carol", "dave"), BG_ERR_AUTH,
	    "belongs to another vault");
	bg_chain_link_free(&v2);
	bg_chain_link_free(&g2);
	bg_chain_link_free(&v);

	/* what a vault link may not carry */
	v = mk_vnext(f->g);
	add_custodian(v, "fay", "fay");
	v->settings.max_ttl = 3600;
	VCHECK(f->g, v, WHO("carol", "dave"), BG_ERR_AUTH,
	    "the vault link carries tenant settings");
	v->settings.max_ttl = 0;
	v->policy = strdup("2-of(carol,dave)");
	VCHECK(f->g, v, WHO("carol", "dave"), BG_ERR_AUTH,
	    "tenant settings, a policy or an exception");
	free(v->policy);
	v->policy = NULL;
	/* (malformed: nothing can sign them) */
	v->vault_seq = 1;
	expect(bg_chain_check_vault(f->g, v, NULL, 0, why, sizeof(why)),
	    BG_ERR_AUTH, why, "no tenant and vault_seq 0");
	v->vault_seq = 0;
	memset(v->genesis, 0, sizeof(v->genesis));
	expect(bg_chain_check_vault(f->g, v, NULL, 0, why, sizeof(why)),
	    BG_ERR_AUTH, why, "zero in vault link 0 (the genesis) and only "
	    "there");
	bg_chain_link_free(&v);
	/* a custodian with two credentials, or a salt */
	v = mk_vnext(f->g);
	m = bg_chain_member_find(v, "carol", BG_CHAIN_ROLE_CUSTODIAN);
	{
		bg_chain_token_t t;

		mktok(K("gus"), true, &t);
		assert_int_equal(bg_chain_member_add_token(m, &t), BG_OK);
	}
	enroll_all(v);
	VCHECK(f->g, v, WHO("carol", "dave"), BG_ERR_AUTH,
	    "custodian carol must have exactly one credential");
	bg_chain_link_free(&v);
	v = mk_vnext(f->g);
	m = bg_chain_member_find(v, "carol", BG_CHAIN_ROLE_CUSTODIAN);
	m->salt[0] = 1;
	VCHECK(f->g, v, WHO("carol", "dave"), BG_ERR_AUTH,
	    "carries a salt or a membership key");
	bg_chain_link_free(&v);
	/* one key under two custodians: the same key, another id */
	v = mk_vnext(f->g);
	add_custodian(v, "fay", "fay");
	m = bg_chain_member_find(v, "fay", BG_CHAIN_ROLE_CUSTODIAN);
	memcpy(m->tokens[0].pubkey, K("dave")->pk, 32);
	attest_tok(&m->tokens[0]);
	m->tokens[0].enroll_sig_len = 0;
	enroll_with(v, m, &m->tokens[0], K("dave"));
	VCHECK(f->g, v, WHO("carol", "dave"), BG_ERR_AUTH,
	    "one public key is listed under both dave and fay");
	bg_chain_link_free(&v);
	/* a tenant link is no vault link, and no genesis follows one */
	VCHECK(f->g, f->l1, WHO("carol", "dave"), BG_ERR_AUTH,
	    "not a vault link");
	n = sign_by(f->g, WHO("carol", "dave", "erin"));
	v = mk_vnext(f->g);
	add_custodian(v, "fay", "fay");
	n = sign_by(v, WHO("carol", "dave", "erin", "fay"));
	expect(bg_chain_check_genesis(v, sigs, n, why, sizeof(why)),
	    BG_ERR_AUTH, why, "the genesis is vault link 0; this is vault "
	    "link 1");
	/* and a vault link is no tenant link */
	CHECK(f->g, NULL, v, WHO("carol", "dave"), BG_ERR_AUTH,
	    "not a tenant link");
	bg_chain_link_free(&v);
}

/*
 * A tenant link counts the custodians of the vault link it names: after
 * erin's removal, her signature counts for nothing new; links made
 * before it keep verifying against the vault link they name.
 */
static void
test_tenant_vault_seq(void **state)
{
	fx_t *f = *state;
	bg_chain_link_t *v1, *v2, *l, *l2, *gs;
	bg_chain_member_t *m;
	size_t n;
	char why[BG_CHAIN_WHY_MAX];

	v1 = mk_vnext(f->g);
	assert_int_equal(bg_chain_member_remove(v1, "erin",
	    BG_CHAIN_ROLE_CUSTODIAN), BG_OK);
	VCHECK(f->g, v1, WHO("carol", "dave"), BG_OK, NULL);

	l = mk_first(v1, "beta", 1);
	assert_int_equal(l->vault_seq, 1);
	CHECK(v1, NULL, l, WHO("carol", "dave", "alice", "bob"), BG_OK, NULL);
	CHECK(v1, NULL, l, WHO("erin", "carol", "alice", "bob"),
	    BG_ERR_DENIED, "needs: a custodian quorum (1 more of: dave)");
	/* judged against another vault link than it names */
	CHECK(f->g, NULL, l, WHO("carol", "dave", "alice", "bob"),
	    BG_ERR_AUTH, "made under vault link 1, not vault link 0");
	/* its genesis is the vault's identity, not vault link 1's hash */
	assert_int_equal(bg_chain_link_hash(v1, l->genesis), BG_OK);
	CHECK(v1, NULL, l, WHO("carol", "dave", "alice", "bob"), BG_ERR_AUTH,
	    "belongs to another vault");
	bg_chain_link_free(&l);

	/* a link made under the genesis keeps verifying against it, erin
	 * counting there; its successor names the newer vault link, never
	 * an older one */
	CHECK(f->g, NULL, f->l1, WHO("erin", "carol", "alice", "bob"), BG_OK,
	    NULL);
	l2 = mk_next(f->l1);
	add_member(l2, "sam", BG_CHAIN_ROLE_REQUESTER, BG_CHAIN_SIDE_NONE,
	    "sam");
	enroll_all(l2);
	l2->vault_seq = 1;
	CHECK(v1, f->l1, l2, WHO("alice"), BG_OK, NULL);
	l = mk_next(l2);
	assert_int_equal(bg_chain_member_remove(l, "sam",
	    BG_CHAIN_ROLE_REQUESTER), BG_OK);
	l->vault_seq = 0;
	CHECK(f->g, l2, l, WHO("alice"), BG_ERR_AUTH,
	    "made under vault link 0, older than the previous link's 1");
	bg_chain_link_free(&l);
	bg_chain_link_free(&l2);

	/* a custodian added in vault link 2 counts for tenants under it */
	v2 = mk_vnext(v1);
	add_custodian(v2, "fay", "fay");
	VCHECK(v1, v2, WHO("carol", "dave"), BG_OK, NULL);
	l = mk_first(v2, "gamma", 1);
	CHECK(v2, NULL, l, WHO("fay", "dave", "alice", "bob"), BG_OK, NULL);
	/* ... and a credential under a custodian and a member is refused */
	m = bg_chain_member_find(l, "rob", BG_CHAIN_ROLE_REQUESTER);
	mktok(K("fay"), false, &m->tokens[0]);
	m->tokens[0].enroll_sig_len = 0;
	enroll_all(l);
	CHECK(v2, NULL, l, WHO("fay", "dave", "alice", "bob"), BG_ERR_AUTH,
	    "listed under both fay and rob");
	bg_chain_link_free(&l);
	bg_chain_link_free(&v2);

	/* software tokens are judged by the vault link the link names */
	gs = mk_genesis(VID, true);
	n = sign_by(gs, WHO("carol", "dave", "erin"));
	assert_int_equal(bg_chain_check_genesis(gs, sigs, n, why,
	    sizeof(why)), BG_OK);
	bg_chain_link_free(&v1);
	v1 = mk_vnext(gs);
	make_production(v1);
	VCHECK(gs, v1, WHO("carol", "dave"), BG_OK, NULL);
	l = mk_first(gs, "acme", 1);
	m = bg_chain_member_find(l, "rob", BG_CHAIN_ROLE_REQUESTER);
	memcpy(m->tokens[0].aaguid, bg_token_soft_aaguid, 16);
	m->tokens[0].soft = true;
	CHECK(gs, NULL, l, WHO("carol", "dave", "alice", "bob"), BG_OK, NULL);
	bg_chain_link_free(&l);
	l = mk_first(v1, "acme", 1);
	m = bg_chain_member_find(l, "rob", BG_CHAIN_ROLE_REQUESTER);
	memcpy(m->tokens[0].aaguid, bg_token_soft_aaguid, 16);
	m->tokens[0].soft = true;
	m->tokens[0].enroll_sig_len = 0;
	enroll_all(l);
	CHECK(v1, NULL, l, WHO("carol", "dave", "alice", "bob"), BG_ERR_AUTH,
	    "of rob is a software token, and vault link 1 does not allow "
	    "them");
	bg_chain_link_free(&l);
	bg_chain_link_free(&v1);
	bg_chain_link_free(&gs);
}

/* vault_seq in the text: always there, a number, 0 in vault links. */
static void
test_vault_text(void **state)
{
	fx_t *f = *state;
	bg_chain_link_t *v, *l;
	char *text = NULL;

	v = mk_vnext(f->g);
	add_custodian(v, "fay", "fay");
	roundtrip(v);
	l = mk_first(f->g, "acme", 1);
	l->vault_seq = 7;
	roundtrip(l);
	assert_int_equal(bg_chain_link_encode(l, &text), BG_OK);
	assert_non_null(strstr(text, "\"vault_id\":\"" VID "\","
	    "\"vault_seq\":7}"));
	refuse_replaced(text, "\"vault_seq\":7", "\"vault_seq\":\"7\"",
	    "'vault_seq' is not an integer");
	refuse_replaced(text, "\"vault_seq\":7", "\"vault_seq\":-7",
	    "'vault_seq' is out of range");
	refuse_replaced(text, "\"vault_seq\":7", "\"vault_seq\":7.0",
	    "'vault_seq'");
	refuse_replaced(text, ",\"vault_seq\":7", "", "'vault_seq' is "
	    "missing");
	refuse_replaced(text, "\"vault_seq\":7", "\"vault_seq\":07",
	    "not valid JSON");
	free(text);
	assert_int_equal(bg_chain_link_encode(v, &text), BG_OK);
	refuse_replaced(text, "\"vault_seq\":0", "\"vault_seq\":1",
	    "no tenant and vault_seq 0");
	refuse_replaced(text, "\"seq\":1,", "\"seq\":0,",
	    "zero in vault link 0");
	free(text);
	bg_chain_link_free(&l);
	bg_chain_link_free(&v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verify_accepts_our_assertions),
		cmocka_unit_test_setup_teardown(test_roundtrip, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_parse_rejects, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_enroll_statement, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_member_api, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_genesis, setup, teardown),
		cmocka_unit_test_setup_teardown(test_first_link, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_requester_token_under_approver, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_change, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_known_hashes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_exception, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_client_cosign, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_grantee_not_cosigner,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_removal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_change, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_no_policy_yet, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_splice, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_genesis, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_soft_tokens, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_invalid_sigs_ignored,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_vault_remove, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_vault_add, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_vault_settings, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_vault_new_credential,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_vault_structure, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_tenant_vault_seq, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_vault_text, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_vetted, setup, teardown),
	};

	if (sodium_init() < 0 || bg_token_init() != BG_OK)
		return 1;
	make_keys();
	return cmocka_run_group_tests_name("chain", tests, ca_setup,
	    ca_teardown);
}
