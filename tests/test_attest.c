/*
 * Vetted tokens (vault/attest.c): packed attestation with a real X.509
 * chain made by scripts/test-ca (openssl CLI), and MDS3-style BLOBs
 * signed by a test root.  The authenticator here is a few lines that
 * build authenticator data and an attStmt the way a token does and sign
 * with the test leaf's key; the soft token does the same over CTAPHID in
 * tests/e2e/vetted_tokens.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "breakglass/err.h"
#include "breakglass/token.h"
#include "attest.h"

#define RP	"breakglass:0123456789abcdef"
#define GUID	"0123456789abcdef0123456789abcdef"

static char dir[64];
static uint8_t aaguid[16];

/* --- a little CBOR writer ---------------------------------------------- */
struct w { uint8_t b[8192]; size_t n; };

static void
head(struct w *w, uint8_t major, uint64_t v)
{
	if (v < 24)
		w->b[w->n++] = (uint8_t)((uint64_t)major << 5 | v);
	else if (v < 256) {
		w->b[w->n++] = (uint8_t)(major << 5 | 24);
		w->b[w->n++] = (uint8_t)v;
	} else {
		w->b[w->n++] = (uint8_t)(major << 5 | 25);
		w->b[w->n++] = (uint8_t)(v >> 8);
		w->b[w->n++] = (uint8_t)v;
	}
}
static void
bytes(struct w *w, const uint8_t *p, size_t n)
{
	head(w, 2, n);
	memcpy(w->b + w->n, p, n);
	w->n += n;
}
static void
text(struct w *w, const char *s)
{
	head(w, 3, strlen(s));
	memcpy(w->b + w->n, s, strlen(s));
	w->n += strlen(s);
}

/* --- files made by scripts/test-ca -------------------------------------- */
static uint8_t *
der_of(const char *name, size_t *lenp)
{
	char path[128];
	uint8_t *der = NULL;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(bg_attest_cert_read(path, &der, lenp, NULL, 0), BG_OK);
	return der;
}

static EVP_PKEY *
key_of(const char *name)
{
	char path[128];
	FILE *f;
	EVP_PKEY *k;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "r"));
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	(void)fclose(f);
	assert_non_null(k);
	return k;
}

static char *
blob(int no, const char *next, const char *status, const char *signer)
{
	char cmd[512], *out;
	FILE *p;
	size_t n;

	(void)snprintf(cmd, sizeof(cmd), "scripts/test-ca blob %s %d %s %s %s "
	    "'Test Key 5' %s", dir, no, next, GUID, status, signer);
	assert_non_null(p = popen(cmd, "r"));
	assert_non_null(out = calloc(1, 65536));
	n = fread(out, 1, 65535, p);
	assert_int_equal(pclose(p), 0);
	while (n > 0 && out[n - 1] == '\n')
		out[--n] = '\0';
	return out;
}

/* --- evidence ------------------------------------------------------------ */
struct ev {
	uint8_t	 cred_id[16], pubkey[64], cdh[32];
	uint8_t	 authdata[512]; size_t authdata_len;
	struct w stmt;
	bg_attest_evidence_t e;
};

/* A credential and its packed attestation by leaf (with chain), or self
 * attestation when leaf is NULL. */
static void
make_ev(struct ev *v, const char *leaf, const char *leafkey,
    const char *chain, const uint8_t ad_aaguid[16])
{
	EVP_PKEY *ck = NULL, *sk;
	EVP_MD_CTX *md;
	uint8_t sig[256], *msg, *d1, *d2 = NULL;
	size_t siglen = sizeof(sig), l1, l2 = 0, xl = 32, yl = 32;
	struct w cose;
	BIGNUM *x = NULL, *y = NULL;

	memset(v, 0, sizeof(*v));
	randombytes_buf(v->cred_id, sizeof(v->cred_id));
	randombytes_buf(v->cdh, sizeof(v->cdh));
	assert_non_null(ck = EVP_EC_gen("P-256"));
	assert_int_equal(EVP_PKEY_get_bn_param(ck, "qx", &x), 1);
	assert_int_equal(EVP_PKEY_get_bn_param(ck, "qy", &y), 1);
	assert_int_equal(BN_bn2binpad(x, v->pubkey, 32), (int)xl);
	assert_int_equal(BN_bn2binpad(y, v->pubkey + 32, 32), (int)yl);
	BN_free(x);
	BN_free(y);
	cose.n = 0;
	head(&cose, 5, 5);
	head(&cose, 0, 1); head(&cose, 0, 2);
	head(&cose, 0, 3); head(&cose, 1, 6);
	head(&cose, 1, 0); head(&cose, 0, 1);
	head(&cose, 1, 1); bytes(&cose, v->pubkey, 32);
	head(&cose, 1, 2); bytes(&cose, v->pubkey + 32, 32);

	crypto_hash_sha256(v->authdata, (const uint8_t *)RP, strlen(RP));
	v->authdata[32] = 0x45;		/* UP | UV | AT */
	memcpy(v->authdata + 37, ad_aaguid, 16);
	v->authdata[54] = sizeof(v->cred_id);
	memcpy(v->authdata + 55, v->cred_id, sizeof(v->cred_id));
	memcpy(v->authdata + 55 + 16, cose.b, cose.n);
	v->authdata_len = 55 + 16 + cose.n;

	sk = leaf != NULL ? key_of(leafkey) : ck;
	assert_non_null(msg = malloc(v->authdata_len + 32));
	memcpy(msg, v->authdata, v->authdata_len);
	memcpy(msg + v->authdata_len, v->cdh, 32);
	assert_non_null(md = EVP_MD_CTX_new());
	assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, sk),
	    1);
	assert_int_equal(EVP_DigestSign(md, sig, &siglen, msg,
	    v->authdata_len + 32), 1);
	EVP_MD_CTX_free(md);
	free(msg);

	head(&v->stmt, 5, leaf != NULL ? 3 : 2);
	text(&v->stmt, "alg"); head(&v->stmt, 1, 6);
	text(&v->stmt, "sig"); bytes(&v->stmt, sig, siglen);
	if (leaf != NULL) {
		d1 = der_of(leaf, &l1);
		if (chain != NULL)
			d2 = der_of(chain, &l2);
		text(&v->stmt, "x5c");
		head(&v->stmt, 4, d2 != NULL ? 2 : 1);
		bytes(&v->stmt, d1, l1);
		if (d2 != NULL)
			bytes(&v->stmt, d2, l2);
		free(d1);
		free(d2);
		EVP_PKEY_free(sk);
	}
	EVP_PKEY_free(ck);
	v->e.rp_id = RP;
	v->e.alg = BG_TOKEN_ES256;
	v->e.cred_id = v->cred_id;
	v->e.cred_id_len = sizeof(v->cred_id);
	v->e.pubkey = v->pubkey;
	v->e.pubkey_len = 64;
	v->e.aaguid = ad_aaguid;
	v->e.fmt = "packed";
	v->e.authdata = v->authdata;
	v->e.authdata_len = v->authdata_len;
	v->e.stmt = v->stmt.b;
	v->e.stmt_len = v->stmt.n;
	v->e.cdh = v->cdh;
}

/* A trust store: vendor root.pem for GUID on the allow-list. */
static bg_attest_trust_t *
store_vendor(void)
{
	bg_attest_trust_t *t = bg_attest_trust_new();
	uint8_t *d;
	size_t l;

	assert_non_null(t);
	d = der_of("root.pem", &l);
	assert_int_equal(bg_attest_trust_add_root(t, d, l), BG_OK);
	assert_int_equal(bg_attest_trust_add_root(t, d, l), BG_ERR_EXISTS);
	free(d);
	assert_int_equal(bg_attest_trust_add_aaguid(t, aaguid), BG_OK);
	assert_int_equal(bg_attest_trust_validate(t, NULL, 0), BG_OK);
	return t;
}

/* A trust store with only a FIDO root and a BLOB. */
static bg_attest_trust_t *
store_mds(const char *jwt)
{
	bg_attest_trust_t *t = bg_attest_trust_new();

	assert_non_null(t);
	t->fido_root = der_of("mds-root.pem", &t->fido_root_len);
	assert_non_null(t->mds = strdup(jwt));
	assert_int_equal(bg_attest_trust_validate(t, NULL, 0), BG_OK);
	return t;
}

static int
verify(const bg_attest_trust_t *t, const struct ev *v, char *why)
{
	char model[BG_ATTEST_MODEL_MAX];

	why[0] = '\0';
	return bg_attest_verify(t, NULL, &v->e, (int64_t)time(NULL), model,
	    sizeof(model), why, 512);
}

static void
test_good_chain(void **state)
{
	bg_attest_trust_t *t = store_vendor();
	struct ev v;
	char why[512];

	(void)state;
	make_ev(&v, "leaf.pem", "leaf.key", "chain.pem", aaguid);
	{ int vr_ = verify(t, &v, why); if (vr_ != BG_OK) fprintf(stderr, "why: %s\n", why); assert_int_equal(vr_, BG_OK); }
	/* the chain is needed: the leaf alone does not reach the root */
	make_ev(&v, "leaf.pem", "leaf.key", NULL, aaguid);
	assert_int_equal(verify(t, &v, why), BG_ERR_TOKEN_ATTESTATION);
	assert_non_null(strstr(why, "does not chain"));
	bg_attest_trust_free(&t);
}

static void
test_wrong_root(void **state)
{
	bg_attest_trust_t *t = store_vendor();
	struct ev v;
	char why[512];

	(void)state;
	make_ev(&v, "leaf2.pem", "leaf2.key", "chain2.pem", aaguid);
	assert_int_equal(verify(t, &v, why), BG_ERR_TOKEN_ATTESTATION);
	assert_non_null(strstr(why, "does not chain to a root trusted"));
	bg_attest_trust_free(&t);
}

static void
test_aaguid_mismatch(void **state)
{
	bg_attest_trust_t *t = store_vendor();
	uint8_t other[16];
	struct ev v;
	char why[512];

	(void)state;
	/* certificate for ffff..., authData says GUID */
	make_ev(&v, "wrong.pem", "wrong.key", "chain.pem", aaguid);
	assert_int_equal(verify(t, &v, why), BG_ERR_TOKEN_ATTESTATION);
	assert_non_null(strstr(why, "certificate is for AAGUID ffffffff"));
	/* authData and record name an AAGUID off the allow-list */
	memset(other, 0x22, sizeof(other));
	make_ev(&v, "leaf.pem", "leaf.key", "chain.pem", other);
	assert_int_equal(verify(t, &v, why), BG_ERR_TOKEN_ATTESTATION);
	/* the record claims another AAGUID than authData */
	make_ev(&v, "leaf.pem", "leaf.key", "chain.pem", aaguid);
	v.e.aaguid = other;
	assert_int_equal(verify(t, &v, why), BG_ERR_TOKEN_ATTESTATION);
	assert_non_null(strstr(why, "another AAGUID"));
	bg_attest_trust_free(&t);
}

static void
test_self_and_tampered(void **state)
{
	bg_attest_trust_t *t = store_vendor();
	struct ev v;
	char why[512];

	(void)state;
	make_ev(&v, NULL, NULL, NULL, aaguid);
	assert_int_equal(verify(t, &v, why), BG_ERR_TOKEN_ATTESTATION);
	assert_non_null(strstr(why, "self-attested"));
	make_ev(&v, "leaf.pem", "leaf.key", "chain.pem", aaguid);
	v.authdata[v.authdata_len - 1] ^= 1;	/* another public key */
	assert_int_equal(verify(t, &v, why), BG_ERR_TOKEN_ATTESTATION);
	make_ev(&v, "leaf.pem", "leaf.key", "chain.pem", aaguid);
	v.cdh[0] ^= 1;
	assert_int_equal(verify(t, &v, why), BG_ERR_TOKEN_ATTESTATION);
	assert_non_null(strstr(why, "signature does not verify"));
	make_ev(&v, "leaf.pem", "leaf.key", "chain.pem", aaguid);
	v.e.fmt = "none";
	assert_int_equal(verify(t, &v, why), BG_ERR_TOKEN_ATTESTATION);
	/* no trust store at all */
	make_ev(&v, "leaf.pem", "leaf.key", "chain.pem", aaguid);
	assert_int_equal(verify(NULL, &v, why), BG_ERR_TOKEN_ATTESTATION);
	assert_non_null(strstr(why, "no trust store"));
	bg_attest_trust_free(&t);
}

static void
test_mds(void **state)
{
	bg_attest_trust_t *t;
	bg_mds_t *m = NULL;
	uint8_t *root;
	size_t rl;
	struct ev v;
	char why[512], *jwt, *d1;

	(void)state;
	root = der_of("mds-root.pem", &rl);
	jwt = blob(7, "2099-01-01", "FIDO_CERTIFIED", "");
	assert_int_equal(bg_mds_parse(jwt, root, rl, (int64_t)time(NULL), &m,
	    why, sizeof(why)), BG_OK);
	assert_int_equal(bg_mds_serial(m), 7);
	bg_mds_free(&m);
	/* accepted through the BLOB's own root for the AAGUID */
	t = store_mds(jwt);
	make_ev(&v, "leaf.pem", "leaf.key", "chain.pem", aaguid);
	{ int vr_ = verify(t, &v, why); if (vr_ != BG_OK) fprintf(stderr, "why: %s\n", why); assert_int_equal(vr_, BG_OK); }
	bg_attest_trust_free(&t);

	/* tampered: one payload character changed */
	d1 = strchr(jwt, '.');
	d1[5] = d1[5] == 'A' ? 'B' : 'A';
	assert_int_equal(bg_mds_parse(jwt, root, rl, (int64_t)time(NULL), &m,
	    why, sizeof(why)), BG_ERR_AUTH);
	assert_null(m);
	free(jwt);

	/* signed under another root */
	jwt = blob(8, "2099-01-01", "FIDO_CERTIFIED", "2");
	assert_int_equal(bg_mds_parse(jwt, root, rl, (int64_t)time(NULL), &m,
	    why, sizeof(why)), BG_ERR_AUTH);
	assert_non_null(strstr(why, "does not chain to the pinned FIDO root"));
	free(jwt);
	free(root);
}

static void
test_mds_status(void **state)
{
	bg_attest_trust_t *t;
	struct ev v;
	char why[512], *jwt;

	(void)state;
	make_ev(&v, "leaf.pem", "leaf.key", "chain.pem", aaguid);
	jwt = blob(9, "2099-01-01", "REVOKED", "");
	t = store_mds(jwt);
	assert_int_equal(verify(t, &v, why), BG_ERR_TOKEN_ATTESTATION);
	assert_non_null(strstr(why, "Test Key 5"));
	assert_non_null(strstr(why, "REVOKED"));
	bg_attest_trust_free(&t);
	free(jwt);

	jwt = blob(9, "2099-01-01", "USER_VERIFICATION_BYPASS", "");
	t = store_mds(jwt);
	assert_int_equal(verify(t, &v, why), BG_ERR_TOKEN_ATTESTATION);
	assert_non_null(strstr(why, "USER_VERIFICATION_BYPASS"));
	bg_attest_trust_free(&t);
	free(jwt);

	/* nextUpdate passed: new enrollments refused */
	jwt = blob(10, "2020-01-01", "FIDO_CERTIFIED", "");
	t = store_mds(jwt);
	assert_int_equal(verify(t, &v, why), BG_ERR_TOKEN_ATTESTATION);
	assert_non_null(strstr(why, "nextUpdate"));
	bg_attest_trust_free(&t);
	free(jwt);

	/* unknown AAGUID: the BLOB has no entry and there is no allow-list */
	jwt = blob(11, "2099-01-01", "FIDO_CERTIFIED", "");
	t = store_mds(jwt);
	make_ev(&v, "wrong.pem", "wrong.key", "chain.pem",
	    (const uint8_t *)"\xff\xff\xff\xff\xff\xff\xff\xff"
	    "\xff\xff\xff\xff\xff\xff\xff\xff");
	assert_int_equal(verify(t, &v, why), BG_ERR_TOKEN_ATTESTATION);
	assert_non_null(strstr(why, "unknown"));
	bg_attest_trust_free(&t);
	free(jwt);
}

static int
setup(void **state)
{
	char cmd[160];
	size_t i;

	(void)state;
	(void)snprintf(dir, sizeof(dir), "%s/bg-attest-XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL)
		return -1;
	(void)snprintf(cmd, sizeof(cmd), "scripts/test-ca ca %s " GUID, dir);
	if (system(cmd) != 0)
		return -1;
	for (i = 0; i < 16; i++)
		(void)sscanf(GUID + 2 * i, "%2hhx", &aaguid[i]);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[160];

	(void)state;
	(void)snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_chain),
		cmocka_unit_test(test_wrong_root),
		cmocka_unit_test(test_aaguid_mismatch),
		cmocka_unit_test(test_self_and_tampered),
		cmocka_unit_test(test_mds),
		cmocka_unit_test(test_mds_status),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, setup, teardown);
}
