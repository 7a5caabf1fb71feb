/*
 * Vetted tokens (attest.h): packed attestation with x5c against a trust
 * store, and the FIDO Metadata Service BLOB.
 *
 * Everything an attacker sends here (authData, attStmt, certificates, the
 * BLOB) is bounded before it is parsed; CBOR through libcbor with
 * definite lengths only, JSON through jansson, X.509 through libcrypto.
 * The trust decision is made from the trust store alone: nothing in the
 * evidence can add a root.
 */
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cbor.h>
#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sodium.h>

#include "breakglass/err.h"
#include "breakglass/token.h"
#include "attest.h"

#define AAGUID_OID	"1.3.6.1.4.1.45724.1.1.4"	/* id-fido-gen-ce-aaguid */
#define COSE_ES256	(-7)
#define COSE_EDDSA	(-8)
#define COSE_RS256	(-257)
#define FLAG_UP		0x01
#define FLAG_UV		0x04
#define FLAG_AT		0x40
#define FLAG_ED		0x80
#define JWS_X5C_MAX	4
#define STMT_SIG_MAX	512	/* RSA-4096 is 512 bytes */

struct bg_mds {
	json_t		*payload;	/* owned */
	uint64_t	 no;
	int64_t		 next_update;
};

static void say(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
say(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

static int
cmp_bytes(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;
	int c = n > 0 ? memcmp(a, b, n) : 0;	/* public: certificates, ids */

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen ? 1 : 0;
}

static void
aaguid_text(const uint8_t a[16], char out[37])
{
	static const char hx[] = "0123456789abcdef";
	size_t i, o = 0;

	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hx[a[i] >> 4];
		out[o++] = hx[a[i] & 15];
	}
	out[o] = '\0';
}

/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (either case) -> 16 bytes. */
static bool
aaguid_parse(const char *s, uint8_t out[16])
{
	size_t i, o = 0;
	int hi = -1, v;

	if (strlen(s) != 36)
		return false;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
			continue;
		}
		if (!isxdigit((unsigned char)s[i]))
			return false;
		v = isdigit((unsigned char)s[i]) ? s[i] - '0' :
		    (tolower((unsigned char)s[i]) - 'a' + 10);
		if (hi < 0)
			hi = v;
		else {
			out[o++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	return o == 16;
}

static X509 *
x509_from(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x;

	if (der == NULL || len == 0 || len > BG_ATTEST_CERT_MAX)
		return NULL;
	if ((x = d2i_X509(NULL, &p, (long)len)) == NULL)
		return NULL;
	if (p != der + len) {		/* trailing bytes */
		X509_free(x);
		return NULL;
	}
	return x;
}

/* --- the trust store as data ------------------------------------------- */

bg_attest_trust_t *
bg_attest_trust_new(void)
{
	return calloc(1, sizeof(bg_attest_trust_t));
}

void
bg_attest_trust_free(bg_attest_trust_t **tp)
{
	bg_attest_trust_t *t;
	size_t i;

	if (tp == NULL || (t = *tp) == NULL)
		return;
	free(t->fido_root);
	free(t->mds);
	for (i = 0; i < t->n_roots && t->roots != NULL; i++)
		free(t->roots[i].der);
	free(t->roots);
	free(t->aaguids);
	free(t);
	*tp = NULL;
}

static int
dup_mem(const void *p, size_t n, uint8_t **outp)
{
	*outp = NULL;
	if (p == NULL || n == 0)
		return BG_OK;
	if ((*outp = malloc(n)) == NULL)
		return BG_ERR_NOMEM;
	memcpy(*outp, p, n);
	return BG_OK;
}

int
bg_attest_trust_dup(const bg_attest_trust_t *t, bg_attest_trust_t **outp)
{
	bg_attest_trust_t *c = NULL;
	size_t i;
	int r = BG_ERR_NOMEM;

	*outp = NULL;
	if (t == NULL)
		return BG_OK;
	if ((c = bg_attest_trust_new()) == NULL)
		goto out;
	if (dup_mem(t->fido_root, t->fido_root_len, &c->fido_root) != BG_OK)
		goto out;
	c->fido_root_len = t->fido_root_len;
	if (t->mds != NULL && (c->mds = strdup(t->mds)) == NULL)
		goto out;
	if (t->n_roots > 0) {
		if ((c->roots = calloc(t->n_roots, sizeof(*c->roots))) == NULL)
			goto out;
		for (i = 0; i < t->n_roots; i++) {
			if (dup_mem(t->roots[i].der, t->roots[i].len,
			    &c->roots[i].der) != BG_OK)
				goto out;
			c->roots[i].len = t->roots[i].len;
			c->n_roots = i + 1;
		}
	}
	if (t->n_aaguids > 0) {
		if ((c->aaguids = calloc(t->n_aaguids, 16)) == NULL)
			goto out;
		memcpy(c->aaguids, t->aaguids, t->n_aaguids * 16);
		c->n_aaguids = t->n_aaguids;
	}
	*outp = c;
	c = NULL;	/* transferred */
	r = BG_OK;
out:
	bg_attest_trust_free(&c);
	return r;
}

void
bg_attest_cert_name(const uint8_t *der, size_t len, char *subject,
    size_t subjectlen, char fpr[17])
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = der;
	uint8_t h[32];
	X509 *x = NULL;
	BIO *b = NULL;
	char *mem = NULL;
	long n;
	size_t i;

	crypto_hash_sha256(h, der, len);
	for (i = 0; i < 8; i++) {
		fpr[2 * i] = hex[h[i] >> 4];
		fpr[2 * i + 1] = hex[h[i] & 15];
	}
	fpr[16] = '\0';
	(void)snprintf(subject, subjectlen, "(not a certificate)");
	if (len > LONG_MAX || (x = d2i_X509(NULL, &p, (long)len)) == NULL ||
	    (b = BIO_new(BIO_s_mem())) == NULL ||
	    X509_NAME_print_ex(b, X509_get_subject_name(x), 0,
	    XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0 ||
	    (n = BIO_get_mem_data(b, &mem)) < 0)
		goto out;
	(void)snprintf(subject, subjectlen, "%.*s", (int)n, mem);
	/* only printable ASCII reaches a terminal */
	for (i = 0; subject[i] != '\0'; i++)
		if ((unsigned char)subject[i] < 0x20 ||
		    (unsigned char)subject[i] > 0x7e)
			subject[i] = '?';
out:
	BIO_free(b);
	X509_free(x);
}

bool
bg_attest_trust_vets(const bg_attest_trust_t *t)
{
	return t != NULL && ((t->mds != NULL && t->fido_root != NULL) ||
	    (t->n_roots > 0 && t->n_aaguids > 0));
}

bool
bg_attest_trust_same(const bg_attest_trust_t *a, const bg_attest_trust_t *b)
{
	size_t i;

	if (a == NULL || b == NULL)
		return a == b;
	if (cmp_bytes(a->fido_root, a->fido_root_len, b->fido_root,
	    b->fido_root_len) != 0 || (a->mds == NULL) != (b->mds == NULL) ||
	    (a->mds != NULL && strcmp(a->mds, b->mds) != 0) ||
	    a->n_roots != b->n_roots || a->n_aaguids != b->n_aaguids)
		return false;
	for (i = 0; i < a->n_roots; i++)
		if (cmp_bytes(a->roots[i].der, a->roots[i].len, b->roots[i].der,
		    b->roots[i].len) != 0)
			return false;
	return a->n_aaguids == 0 ||
	    memcmp(a->aaguids, b->aaguids, a->n_aaguids * 16) == 0; /* public: ids, names */
}

int
bg_attest_trust_add_root(bg_attest_trust_t *t, const uint8_t *der, size_t len)
{
	bg_attest_cert_t *nr;
	X509 *x;
	size_t i, at;
	int c;

	if (t == NULL || der == NULL)
		return BG_ERR_INVALID_ARG;
	if ((x = x509_from(der, len)) == NULL)
		return BG_ERR_PARSE;
	X509_free(x);
	for (at = 0; at < t->n_roots; at++) {
		if ((c = cmp_bytes(t->roots[at].der, t->roots[at].len, der,
		    len)) == 0)
			return BG_ERR_EXISTS;
		if (c > 0)
			break;
	}
	if (t->n_roots >= BG_ATTEST_ROOTS_MAX)
		return BG_ERR_RANGE;
	if ((nr = realloc(t->roots, (t->n_roots + 1) * sizeof(*nr))) == NULL)
		return BG_ERR_NOMEM;
	t->roots = nr;
	for (i = t->n_roots; i > at; i--)
		t->roots[i] = t->roots[i - 1];
	if (dup_mem(der, len, &t->roots[at].der) != BG_OK) {
		for (i = at; i < t->n_roots; i++)
			t->roots[i] = t->roots[i + 1];
		return BG_ERR_NOMEM;
	}
	t->roots[at].len = len;
	t->n_roots++;
	return BG_OK;
}

int
bg_attest_trust_add_aaguid(bg_attest_trust_t *t, const uint8_t aaguid[16])
{
	uint8_t (*na)[16];
	size_t i, at;
	int c;

	if (t == NULL || aaguid == NULL)
		return BG_ERR_INVALID_ARG;
	for (at = 0; at < t->n_aaguids; at++) {
		if ((c = memcmp(t->aaguids[at], aaguid, 16)) == 0) /* public: ids, names */
			return BG_ERR_EXISTS;
		if (c > 0)
			break;
	}
	if (t->n_aaguids >= BG_ATTEST_AAGUIDS_MAX)
		return BG_ERR_RANGE;
	if ((na = realloc(t->aaguids, (t->n_aaguids + 1) * 16)) == NULL)
		return BG_ERR_NOMEM;
	t->aaguids = na;
	for (i = t->n_aaguids; i > at; i--)
		memcpy(t->aaguids[i], t->aaguids[i - 1], 16);
	memcpy(t->aaguids[at], aaguid, 16);
	t->n_aaguids++;
	return BG_OK;
}

static bool
jwt_chars_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' &&
		    *s != '.')
			return false;
	return true;
}

int
bg_attest_trust_validate(const bg_attest_trust_t *t, char *why, size_t whylen)
{
	X509 *x;
	size_t i;

	if (t == NULL)
		return BG_OK;
	if (t->fido_root != NULL) {
		if ((x = x509_from(t->fido_root, t->fido_root_len)) == NULL) {
			say(why, whylen, "the trust store's FIDO root is not "
			    "one DER certificate of at most %d bytes",
			    BG_ATTEST_CERT_MAX);
			return BG_ERR_PARSE;
		}
		X509_free(x);
	}
	if (t->mds != NULL && (t->fido_root == NULL ||
	    strlen(t->mds) > BG_ATTEST_MDS_MAX || !jwt_chars_ok(t->mds))) {
		say(why, whylen, "the trust store's metadata BLOB is not a "
		    "JWS of at most %u bytes, or it has no FIDO root to "
		    "verify it", BG_ATTEST_MDS_MAX);
		return BG_ERR_PARSE;
	}
	if (t->n_roots > BG_ATTEST_ROOTS_MAX ||
	    t->n_aaguids > BG_ATTEST_AAGUIDS_MAX) {
		say(why, whylen, "the trust store holds more than %d roots or "
		    "%d AAGUIDs", BG_ATTEST_ROOTS_MAX, BG_ATTEST_AAGUIDS_MAX);
		return BG_ERR_PARSE;
	}
	for (i = 0; i < t->n_roots; i++) {
		if ((x = x509_from(t->roots[i].der, t->roots[i].len)) ==
		    NULL) {
			say(why, whylen, "the trust store's root %zu is not one "
			    "DER certificate", i);
			return BG_ERR_PARSE;
		}
		X509_free(x);
		if (i > 0 && cmp_bytes(t->roots[i - 1].der,
		    t->roots[i - 1].len, t->roots[i].der, t->roots[i].len) >=
		    0) {
			say(why, whylen, "the trust store's roots are not "
			    "sorted, or one is listed twice");
			return BG_ERR_PARSE;
		}
	}
	for (i = 1; i < t->n_aaguids; i++) {
		if (memcmp(t->aaguids[i - 1], t->aaguids[i], 16) >= 0) { /* public: ids, names */
			say(why, whylen, "the trust store's AAGUIDs are not "
			    "sorted, or one is listed twice");
			return BG_ERR_PARSE;
		}
	}
	if (t->fido_root == NULL && t->mds == NULL && t->n_roots == 0 &&
	    t->n_aaguids == 0) {
		say(why, whylen, "the trust store is empty");
		return BG_ERR_PARSE;
	}
	return BG_OK;
}

int
bg_attest_cert_read(const char *path, uint8_t **derp, size_t *lenp,
    char *why, size_t whylen)
{
	FILE *f = NULL;
	X509 *x = NULL;
	unsigned char *der = NULL;
	uint8_t *out = NULL;
	int n, r = BG_ERR_PARSE;

	*derp = NULL;
	*lenp = 0;
	if ((f = fopen(path, "rb")) == NULL) {
		say(why, whylen, "%s cannot be read", path);
		r = BG_ERR_IO;
		goto out;
	}
	if ((x = PEM_read_X509(f, NULL, NULL, NULL)) == NULL) {
		rewind(f);
		x = d2i_X509_fp(f, NULL);
	}
	if (x == NULL || (n = i2d_X509(x, &der)) <= 0 ||
	    n > BG_ATTEST_CERT_MAX) {
		say(why, whylen, "%s is not an X.509 certificate (PEM or "
		    "DER) of at most %d bytes", path, BG_ATTEST_CERT_MAX);
		goto out;
	}
	if ((out = malloc((size_t)n)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	memcpy(out, der, (size_t)n);
	*derp = out;
	*lenp = (size_t)n;
	out = NULL;	/* transferred */
	r = BG_OK;
out:
	if (f != NULL)
		(void)fclose(f);
	OPENSSL_free(der);
	X509_free(x);
	free(out);
	return r;
}

/* --- X.509 chains ------------------------------------------------------ */

/* Whether leaf (with untrusted intermediates) chains to one of anchors at
 * time at.  Anchors need not be self-signed (an MDS entry may name an
 * intermediate as its root): PARTIAL_CHAIN. */
static bool
chain_ok(X509 *leaf, STACK_OF(X509) *inter, STACK_OF(X509) *anchors,
    int64_t at, const char **errp)
{
	X509_STORE *store = NULL;
	X509_STORE_CTX *ctx = NULL;
	X509_VERIFY_PARAM *vp;
	bool ok = false;
	int i;

	*errp = "no trusted root";
	if ((store = X509_STORE_new()) == NULL ||
	    (ctx = X509_STORE_CTX_new()) == NULL)
		goto out;
	for (i = 0; i < sk_X509_num(anchors); i++)
		if (X509_STORE_add_cert(store, sk_X509_value(anchors, i)) != 1)
			goto out;
	if (X509_STORE_CTX_init(ctx, store, leaf, inter) != 1)
		goto out;
	vp = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_flags(vp, X509_V_FLAG_PARTIAL_CHAIN);
	X509_VERIFY_PARAM_set_time(vp, (time_t)at);
	X509_VERIFY_PARAM_set_depth(vp, JWS_X5C_MAX + 1);
	if (X509_verify_cert(ctx) == 1)
		ok = true;
	else
		*errp = X509_verify_cert_error_string(
		    X509_STORE_CTX_get_error(ctx));
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return ok;
}

static bool
sig_ok(EVP_PKEY *pk, bool sha256, const uint8_t *msg, size_t msglen,
    const uint8_t *sig, size_t siglen)
{
	EVP_MD_CTX *md;
	bool ok = false;

	if ((md = EVP_MD_CTX_new()) == NULL)
		return false;
	if (EVP_DigestVerifyInit(md, NULL, sha256 ? EVP_sha256() : NULL, NULL,
	    pk) == 1 && EVP_DigestVerify(md, sig, siglen, msg, msglen) == 1)
		ok = true;
	EVP_MD_CTX_free(md);
	return ok;
}

static bool
is_p256(EVP_PKEY *pk)
{
	char name[32];
	size_t n = 0;

	return EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC &&
	    EVP_PKEY_get_utf8_string_param(pk, "group", name, sizeof(name),
	    &n) == 1 && strcmp(name, "prime256v1") == 0;
}

/* --- the MDS BLOB ------------------------------------------------------ */

static int
b64_dec(const char *s, size_t slen, int variant, uint8_t **outp,
    size_t *lenp)
{
	uint8_t *out;
	size_t cap = slen / 4 * 3 + 3, n = 0;

	*outp = NULL;
	*lenp = 0;
	if ((out = malloc(cap + 1)) == NULL)
		return BG_ERR_NOMEM;
	if (sodium_base642bin(out, cap, s, slen, NULL, &n, NULL, variant) !=
	    0) {
		free(out);
		return BG_ERR_PARSE;
	}
	out[n] = '\0';		/* JSON parts are read as text */
	*outp = out;
	*lenp = n;
	return BG_OK;
}

/* YYYY-MM-DD -> the end of that day, UTC. */
static bool
date_end(const char *s, int64_t *outp)
{
	struct tm tm;
	int y, mo, d;
	char tail;
	time_t t;

	if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%c", &y, &mo, &d,
	    &tail) != 3 || s[4] != '-' || s[7] != '-' || y < 2000 ||
	    y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31)
		return false;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	if ((t = timegm(&tm)) == (time_t)-1 || tm.tm_mday != d)
		return false;
	*outp = (int64_t)t + 86400 - 1;
	return true;
}

/* ES256's JWS signature is r || s (RFC 7518 3.4); OpenSSL wants DER. */
static int
jws_es256_der(const uint8_t *rs, size_t len, uint8_t **derp, size_t *dlenp)
{
	ECDSA_SIG *es = NULL;
	BIGNUM *r = NULL, *s = NULL;
	unsigned char *der = NULL;
	int n, rc = BG_ERR_AUTH;

	*derp = NULL;
	*dlenp = 0;
	if (len != 64 || (es = ECDSA_SIG_new()) == NULL ||
	    (r = BN_bin2bn(rs, 32, NULL)) == NULL ||
	    (s = BN_bin2bn(rs + 32, 32, NULL)) == NULL ||
	    ECDSA_SIG_set0(es, r, s) != 1)
		goto out;
	r = s = NULL;	/* taken */
	if ((n = i2d_ECDSA_SIG(es, &der)) <= 0)
		goto out;
	*derp = der;
	*dlenp = (size_t)n;
	der = NULL;
	rc = BG_OK;
out:
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	OPENSSL_free(der);
	return rc;
}

int
bg_mds_parse(const char *jwt, const uint8_t *root, size_t root_len,
    int64_t at, bg_mds_t **mdsp, char *why, size_t whylen)
{
	const char *d1, *d2;
	uint8_t *hdr = NULL, *pay = NULL, *sig = NULL, *der = NULL, *sder = NULL;
	size_t hlen, plen, slen, dlen, sdlen, i;
	json_t *h = NULL, *p = NULL, *x5c, *j;
	json_error_t jerr;
	STACK_OF(X509) *inter = NULL, *anchors = NULL;
	X509 *leaf = NULL, *x = NULL, *rootx = NULL;
	EVP_PKEY *pk;
	const char *alg, *cerr = NULL;
	bg_mds_t *m = NULL;
	bool es256;
	int r = BG_ERR_PARSE;

	*mdsp = NULL;
	if (jwt == NULL || strlen(jwt) > BG_ATTEST_MDS_MAX ||
	    !jwt_chars_ok(jwt) || (d1 = strchr(jwt, '.')) == NULL ||
	    (d2 = strchr(d1 + 1, '.')) == NULL || strchr(d2 + 1, '.') != NULL) {
		say(why, whylen, "the metadata BLOB is not a JWS in compact "
		    "serialization (three base64url parts)");
		goto out;
	}
	if (b64_dec(jwt, (size_t)(d1 - jwt),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING, &hdr, &hlen) != BG_OK ||
	    b64_dec(d1 + 1, (size_t)(d2 - d1 - 1),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING, &pay, &plen) != BG_OK ||
	    b64_dec(d2 + 1, strlen(d2 + 1),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING, &sig, &slen) != BG_OK) {
		say(why, whylen, "the metadata BLOB's parts are not base64url");
		goto out;
	}
	if ((h = json_loadb((const char *)hdr, hlen, JSON_REJECT_DUPLICATES,
	    &jerr)) == NULL || !json_is_object(h) ||
	    (alg = json_string_value(json_object_get(h, "alg"))) == NULL ||
	    !json_is_array(x5c = json_object_get(h, "x5c")) ||
	    json_array_size(x5c) < 1 || json_array_size(x5c) > JWS_X5C_MAX) {
		say(why, whylen, "the metadata BLOB's header has no alg or no "
		    "x5c of 1..%d certificates", JWS_X5C_MAX);
		goto out;
	}
	if (strcmp(alg, "ES256") == 0)
		es256 = true;
	else if (strcmp(alg, "RS256") == 0)
		es256 = false;
	else {
		say(why, whylen, "the metadata BLOB is signed with %.16s; "
		    "only ES256 and RS256 are accepted", alg);
		goto out;
	}
	if ((inter = sk_X509_new_null()) == NULL ||
	    (anchors = sk_X509_new_null()) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < json_array_size(x5c); i++) {
		j = json_array_get(x5c, i);
		free(der);
		der = NULL;
		if (!json_is_string(j) || b64_dec(json_string_value(j),
		    json_string_length(j), sodium_base64_VARIANT_ORIGINAL, &der,
		    &dlen) != BG_OK || (x = x509_from(der, dlen)) == NULL) {
			say(why, whylen, "the metadata BLOB's x5c[%zu] is not "
			    "a base64 DER certificate", i);
			goto out;
		}
		if (i == 0)
			leaf = x;
		else if (sk_X509_push(inter, x) <= 0) {
			X509_free(x);
			r = BG_ERR_NOMEM;
			goto out;
		}
		x = NULL;
	}
	if ((rootx = x509_from(root, root_len)) == NULL ||
	    sk_X509_push(anchors, rootx) <= 0) {
		say(why, whylen, "the pinned FIDO root is not a certificate");
		goto out;
	}
	rootx = NULL;	/* the stack owns it */
	r = BG_ERR_AUTH;
	if (!chain_ok(leaf, inter, anchors, at, &cerr)) {
		say(why, whylen, "the metadata BLOB's signing certificate does "
		    "not chain to the pinned FIDO root (%s)", cerr);
		goto out;
	}
	pk = X509_get0_pubkey(leaf);
	if (pk == NULL || (es256 ? !is_p256(pk) :
	    EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA)) {
		say(why, whylen, "the metadata BLOB's signing key does not "
		    "match its alg %s", alg);
		goto out;
	}
	if (es256) {
		if (jws_es256_der(sig, slen, &sder, &sdlen) != BG_OK)
			sdlen = 0;
	}
	if (!sig_ok(pk, true, (const uint8_t *)jwt, (size_t)(d2 - jwt),
	    es256 ? sder : sig, es256 ? sdlen : slen)) {
		say(why, whylen, "the metadata BLOB's signature does not "
		    "verify (altered, or signed by another key)");
		goto out;
	}
	r = BG_ERR_PARSE;
	if ((p = json_loadb((const char *)pay, plen, JSON_REJECT_DUPLICATES,
	    &jerr)) == NULL || !json_is_object(p)) {
		say(why, whylen, "the metadata BLOB's payload is not a JSON "
		    "object");
		goto out;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	j = json_object_get(p, "no");
	if (!json_is_integer(j) || json_integer_value(j) < 0) {
		say(why, whylen, "the metadata BLOB has no serial number");
		goto out;
	}
	m->no = (uint64_t)json_integer_value(j);
	if (!json_is_string(j = json_object_get(p, "nextUpdate")) ||
	    !date_end(json_string_value(j), &m->next_update)) {
		say(why, whylen, "the metadata BLOB has no nextUpdate date");
		goto out;
	}
	if (!json_is_array(json_object_get(p, "entries"))) {
		say(why, whylen, "the metadata BLOB has no entries");
		goto out;
	}
	m->payload = p;
	p = NULL;
	*mdsp = m;
	m = NULL;	/* transferred */
	r = BG_OK;
out:
	bg_mds_free(&m);
	json_decref(h);
	json_decref(p);
	free(hdr);
	free(pay);
	free(sig);
	free(der);
	OPENSSL_free(sder);
	X509_free(x);
	X509_free(leaf);
	X509_free(rootx);
	sk_X509_pop_free(inter, X509_free);
	sk_X509_pop_free(anchors, X509_free);
	return r;
}

void
bg_mds_free(bg_mds_t **mdsp)
{
	if (mdsp == NULL || *mdsp == NULL)
		return;
	json_decref((*mdsp)->payload);
	free(*mdsp);
	*mdsp = NULL;
}

uint64_t
bg_mds_serial(const bg_mds_t *m)
{
	return m != NULL ? m->no : 0;
}

int64_t
bg_mds_next_update(const bg_mds_t *m)
{
	return m != NULL ? m->next_update : 0;
}

static const json_t *
mds_entry(const bg_mds_t *m, const uint8_t aaguid[16])
{
	const json_t *es = json_object_get(m->payload, "entries"), *e, *a;
	uint8_t g[16];
	size_t i;

	for (i = 0; i < json_array_size(es); i++) {
		e = json_array_get(es, i);
		a = json_object_get(e, "aaguid");
		if (json_is_string(a) && aaguid_parse(json_string_value(a), g)
		    && memcmp(g, aaguid, 16) == 0)	/* public: ids, names */
			return e;
	}
	return NULL;
}

static const char *const bad_status[] = {
	"REVOKED", "ATTESTATION_KEY_COMPROMISE", "USER_VERIFICATION_BYPASS",
	"USER_KEY_REMOTE_COMPROMISE", "USER_KEY_PHYSICAL_COMPROMISE",
};

/* The first refusing status among e's reports, or NULL.  Any report
 * counts, not only the latest: a firmware fix reported after a bypass or
 * a key compromise cannot be told from the attestation. */
static const char *
entry_refused(const json_t *e)
{
	const json_t *rs = json_object_get(e, "statusReports"), *st;
	size_t i, k;

	for (i = 0; i < json_array_size(rs); i++) {
		st = json_object_get(json_array_get(rs, i), "status");
		if (!json_is_string(st))
			continue;
		for (k = 0; k < sizeof(bad_status) / sizeof(bad_status[0]); k++)
			if (strcmp(json_string_value(st), bad_status[k]) == 0)
				return bad_status[k];
	}
	return NULL;
}

/* --- authenticator data and attStmt ------------------------------------ */

static bool
cbor_int_is(const cbor_item_t *i, int64_t v)
{
	if (v >= 0)
		return cbor_isa_uint(i) && cbor_get_int(i) == (uint64_t)v;
	return cbor_isa_negint(i) && cbor_get_int(i) == (uint64_t)(-1 - v);
}

static bool
cbor_bytes(const cbor_item_t *i, const uint8_t **p, size_t *n)
{
	if (!cbor_isa_bytestring(i) || !cbor_bytestring_is_definite(i))
		return false;
	*p = cbor_bytestring_handle(i);
	*n = cbor_bytestring_length(i);
	return true;
}

/* The COSE key's raw public key (ES256 x||y, EdDSA x) equal to pubkey. */
static bool
cose_matches(const cbor_item_t *k, int alg, const uint8_t *pubkey,
    size_t pklen)
{
	struct cbor_pair *pr;
	const uint8_t *x = NULL, *y = NULL, *b;
	size_t n, i, xl = 0, yl = 0;
	bool kty = false, calg = false, crv = false;
	uint8_t raw[64];

	if (!cbor_isa_map(k) || !cbor_map_is_definite(k) ||
	    cbor_map_size(k) > 8)
		return false;
	pr = cbor_map_handle(k);
	for (i = 0; i < cbor_map_size(k); i++) {
		if (cbor_int_is(pr[i].key, 1))
			kty = cbor_int_is(pr[i].value,
			    alg == BG_TOKEN_ES256 ? 2 : 1);
		else if (cbor_int_is(pr[i].key, 3))
			calg = cbor_int_is(pr[i].value,
			    alg == BG_TOKEN_ES256 ? COSE_ES256 : COSE_EDDSA);
		else if (cbor_int_is(pr[i].key, -1))
			crv = cbor_int_is(pr[i].value,
			    alg == BG_TOKEN_ES256 ? 1 : 6);
		else if (cbor_int_is(pr[i].key, -2) &&
		    cbor_bytes(pr[i].value, &b, &n)) {
			x = b;
			xl = n;
		} else if (cbor_int_is(pr[i].key, -3) &&
		    cbor_bytes(pr[i].value, &b, &n)) {
			y = b;
			yl = n;
		}
	}
	if (!kty || !calg || !crv || x == NULL || xl != 32)
		return false;
	if (alg == BG_TOKEN_ES256) {
		if (y == NULL || yl != 32 || pklen != 64)
			return false;
		memcpy(raw, x, 32);
		memcpy(raw + 32, y, 32);
		return memcmp(raw, pubkey, 64) == 0;	/* public: a public key */
	}
	return pklen == 32 && memcmp(x, pubkey, 32) == 0; /* public: a public key */
}

/* authData: rpIdHash, flags UP|UV|AT, AAGUID, credential id and key equal
 * to the record's, nothing after but an extensions map when ED. */
static bool
authdata_ok(const bg_attest_evidence_t *e, uint8_t aaguid[16],
    const char **errp)
{
	const uint8_t *ad = e->authdata;
	size_t len = e->authdata_len, off, idlen;
	uint8_t rph[32];
	struct cbor_load_result res;
	cbor_item_t *k = NULL;
	bool ok = false;

	*errp = "its authenticator data is malformed";
	if (ad == NULL || len < 37 + 18 || len > BG_ATTEST_AUTHDATA_MAX)
		goto out;
	crypto_hash_sha256(rph, (const uint8_t *)e->rp_id, strlen(e->rp_id));
	if (memcmp(rph, ad, 32) != 0) {	/* public: rpIdHash */
		*errp = "it was made for another relying party";
		goto out;
	}
	if ((ad[32] & (FLAG_UP | FLAG_UV | FLAG_AT)) !=
	    (FLAG_UP | FLAG_UV | FLAG_AT)) {
		*errp = "its authenticator data lacks user presence, user "
		    "verification or the credential";
		goto out;
	}
	memcpy(aaguid, ad + 37, 16);
	idlen = (size_t)ad[53] << 8 | ad[54];
	off = 55;
	if (idlen != e->cred_id_len || len - off < idlen ||
	    memcmp(ad + off, e->cred_id, idlen) != 0) {	/* public: id */
		*errp = "its authenticator data names another credential";
		goto out;
	}
	off += idlen;
	k = cbor_load(ad + off, len - off, &res);
	if (k == NULL || res.error.code != CBOR_ERR_NONE ||
	    !cose_matches(k, e->alg, e->pubkey, e->pubkey_len)) {
		*errp = "its authenticator data carries another public key";
		goto out;
	}
	off += res.read;
	cbor_decref(&k);
	if ((ad[32] & FLAG_ED) != 0) {
		k = cbor_load(ad + off, len - off, &res);
		if (k == NULL || res.error.code != CBOR_ERR_NONE ||
		    !cbor_isa_map(k) || res.read != len - off)
			goto out;
	} else if (off != len)
		goto out;
	ok = true;
out:
	if (k != NULL)
		cbor_decref(&k);
	return ok;
}

/* attStmt {alg, sig, x5c}: the algorithm, the signature, the chain. */
static bool
stmt_parse(const bg_attest_evidence_t *e, int64_t *algp, uint8_t *sig,
    size_t *siglenp, STACK_OF(X509) *certs, bool *selfp)
{
	struct cbor_load_result res;
	struct cbor_pair *pr;
	cbor_item_t *m = NULL, *x5c = NULL;
	const uint8_t *b;
	size_t i, n;
	X509 *x;
	bool ok = false, have_alg = false;

	*selfp = false;
	*siglenp = 0;
	if (e->stmt == NULL || e->stmt_len == 0 ||
	    e->stmt_len > BG_ATTEST_STMT_MAX)
		return false;
	m = cbor_load(e->stmt, e->stmt_len, &res);
	if (m == NULL || res.error.code != CBOR_ERR_NONE ||
	    res.read != e->stmt_len || !cbor_isa_map(m) ||
	    !cbor_map_is_definite(m) || cbor_map_size(m) > 3)
		goto out;
	pr = cbor_map_handle(m);
	for (i = 0; i < cbor_map_size(m); i++) {
		if (!cbor_isa_string(pr[i].key) ||
		    !cbor_string_is_definite(pr[i].key))
			goto out;
		n = cbor_string_length(pr[i].key);
		b = cbor_string_handle(pr[i].key);
		if (n == 3 && memcmp(b, "alg", 3) == 0) {	/* public: ids, names */
			if (cbor_isa_negint(pr[i].value) &&
			    cbor_get_int(pr[i].value) < 65536) {
				*algp = -1 - (int64_t)cbor_get_int(pr[i].value);
				have_alg = true;
			}
		} else if (n == 3 && memcmp(b, "sig", 3) == 0) { /* public: ids, names */
			if (!cbor_bytes(pr[i].value, &b, &n) || n == 0 ||
			    n > STMT_SIG_MAX)
				goto out;
			memcpy(sig, b, n);	/* m is freed below */
			*siglenp = n;
		} else if (n == 3 && memcmp(b, "x5c", 3) == 0) { /* public: ids, names */
			x5c = pr[i].value;
		} else
			goto out;
	}
	if (!have_alg || *siglenp == 0)
		goto out;
	if (x5c == NULL) {
		*selfp = true;
		ok = true;
		goto out;
	}
	if (!cbor_isa_array(x5c) || !cbor_array_is_definite(x5c) ||
	    cbor_array_size(x5c) < 1 ||
	    cbor_array_size(x5c) > BG_ATTEST_X5C_MAX)
		goto out;
	for (i = 0; i < cbor_array_size(x5c); i++) {
		if (!cbor_bytes(cbor_array_handle(x5c)[i], &b, &n) ||
		    (x = x509_from(b, n)) == NULL)
			goto out;
		if (sk_X509_push(certs, x) <= 0) {
			X509_free(x);
			goto out;
		}
	}
	ok = true;
out:
	if (m != NULL)
		cbor_decref(&m);
	return ok;
}

/* The leaf's id-fido-gen-ce-aaguid: an OCTET STRING wrapping 16 bytes,
 * not critical.  -1 absent, 0 malformed, 1 present (out filled). */
static int
leaf_aaguid(X509 *leaf, uint8_t out[16])
{
	ASN1_OBJECT *obj;
	X509_EXTENSION *ext;
	const ASN1_OCTET_STRING *os;
	ASN1_OCTET_STRING *inner = NULL;
	const unsigned char *p;
	int idx, rc = 0;

	if ((obj = OBJ_txt2obj(AAGUID_OID, 1)) == NULL)
		return 0;
	idx = X509_get_ext_by_OBJ(leaf, obj, -1);
	if (idx < 0) {
		rc = -1;
		goto out;
	}
	if (X509_get_ext_by_OBJ(leaf, obj, idx) >= 0)	/* twice */
		goto out;
	ext = X509_get_ext(leaf, idx);
	if (X509_EXTENSION_get_critical(ext))
		goto out;
	os = X509_EXTENSION_get_data(ext);
	p = ASN1_STRING_get0_data(os);
	if ((inner = d2i_ASN1_OCTET_STRING(NULL, &p,
	    ASN1_STRING_length(os))) == NULL ||
	    p != ASN1_STRING_get0_data(os) + ASN1_STRING_length(os) ||
	    ASN1_STRING_length(inner) != 16)
		goto out;
	memcpy(out, ASN1_STRING_get0_data(inner), 16);
	rc = 1;
out:
	ASN1_OCTET_STRING_free(inner);
	ASN1_OBJECT_free(obj);
	return rc;
}

static bool
on_allow_list(const bg_attest_trust_t *t, const uint8_t aaguid[16])
{
	size_t i;

	for (i = 0; i < t->n_aaguids; i++)
		if (memcmp(t->aaguids[i], aaguid, 16) == 0)	/* public: ids, names */
			return true;
	return false;
}

/* Push the BLOB entry's attestationRootCertificates onto anchors. */
static bool
entry_roots(const json_t *e, STACK_OF(X509) *anchors)
{
	const json_t *ms = json_object_get(e, "metadataStatement"), *rs, *j;
	uint8_t *der = NULL;
	size_t i, n;
	X509 *x;

	rs = json_object_get(ms, "attestationRootCertificates");
	for (i = 0; i < json_array_size(rs) && i < BG_ATTEST_ROOTS_MAX; i++) {
		j = json_array_get(rs, i);
		if (!json_is_string(j) || b64_dec(json_string_value(j),
		    json_string_length(j), sodium_base64_VARIANT_ORIGINAL, &der,
		    &n) != BG_OK)
			continue;
		x = x509_from(der, n);
		free(der);
		der = NULL;
		if (x == NULL)
			continue;
		if (sk_X509_push(anchors, x) <= 0) {
			X509_free(x);
			return false;
		}
	}
	return true;
}

int
bg_attest_verify(const bg_attest_trust_t *t, const bg_mds_t *mds_in,
    const bg_attest_evidence_t *e, int64_t at, char *model, size_t modellen,
    char *why, size_t whylen)
{
	STACK_OF(X509) *certs = NULL, *inter = NULL, *anchors = NULL;
	bg_mds_t *mds_own = NULL;
	const bg_mds_t *mds = mds_in;
	const json_t *entry = NULL, *d;
	uint8_t sig[STMT_SIG_MAX];
	uint8_t ad_aaguid[16], x_aaguid[16], *msg = NULL;
	char name[BG_ATTEST_MODEL_MAX + 64], gtext[37], mwhy[256];
	const char *err = NULL, *st;
	size_t siglen = 0, i;
	int64_t alg = 0;
	X509 *leaf;
	EVP_PKEY *pk;
	bool self = false, sha256;
	int r = BG_ERR_TOKEN_ATTESTATION, k;

	if (model != NULL && modellen > 0)
		model[0] = '\0';
	if (e == NULL || e->rp_id == NULL || e->aaguid == NULL ||
	    e->cdh == NULL || e->fmt == NULL)
		return BG_ERR_INVALID_ARG;
	aaguid_text(e->aaguid, gtext);
	(void)snprintf(name, sizeof(name), "AAGUID %s", gtext);
	if (t == NULL) {
		say(why, whylen, "the token (%s) is refused: this production "
		    "vault has no trust store (custodians pin one with vault "
		    "custodian trust)", name);
		goto out;
	}
	if (mds == NULL && t->mds != NULL) {
		if (bg_mds_parse(t->mds, t->fido_root, t->fido_root_len, at,
		    &mds_own, mwhy, sizeof(mwhy)) != BG_OK) {
			say(why, whylen, "the token (%s) is refused: the trust "
			    "store's %s", name, mwhy + (strncmp(mwhy, "the ",
			    4) == 0 ? 4 : 0));
			goto out;
		}
		mds = mds_own;
	}
	if (mds != NULL && (entry = mds_entry(mds, e->aaguid)) != NULL) {
		d = json_object_get(json_object_get(entry,
		    "metadataStatement"), "description");
		if (json_is_string(d) && json_string_length(d) > 0 &&
		    json_string_length(d) <= BG_ATTEST_MODEL_MAX) {
			for (i = 0; i < json_string_length(d); i++)
				if ((unsigned char)json_string_value(d)[i] <
				    0x20 || json_string_value(d)[i] == 0x7f)
					break;
			if (i == json_string_length(d))
				(void)snprintf(name, sizeof(name), "%s, AAGUID "
				    "%s", json_string_value(d), gtext);
		}
	}
	if (model != NULL && modellen > 0)
		(void)snprintf(model, modellen, "%s", name);

	if (strcmp(e->fmt, "packed") != 0) {
		say(why, whylen, "the token (%s) is refused: its attestation "
		    "format is '%.31s'; a production vault takes packed "
		    "attestation with a certificate chain", name, e->fmt);
		goto out;
	}
	if ((certs = sk_X509_new_null()) == NULL ||
	    (inter = sk_X509_new_null()) == NULL ||
	    (anchors = sk_X509_new_null()) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if (!stmt_parse(e, &alg, sig, &siglen, certs, &self)) {
		say(why, whylen, "the token (%s) is refused: its attestation "
		    "statement is malformed", name);
		goto out;
	}
	if (self) {
		say(why, whylen, "the token (%s) is refused: it is "
		    "self-attested, which proves no make or model (only a "
		    "drill vault takes such tokens)", name);
		goto out;
	}
	if (!authdata_ok(e, ad_aaguid, &err)) {
		say(why, whylen, "the token (%s) is refused: %s", name, err);
		goto out;
	}
	if (memcmp(ad_aaguid, e->aaguid, 16) != 0) {	/* public: ids, names */
		say(why, whylen, "the token (%s) is refused: its "
		    "authenticator data names another AAGUID than its record",
		    name);
		goto out;
	}
	leaf = sk_X509_value(certs, 0);
	pk = X509_get0_pubkey(leaf);
	sha256 = alg == COSE_ES256 || alg == COSE_RS256;
	if (pk == NULL || !(alg == COSE_ES256 ? is_p256(pk) :
	    alg == COSE_RS256 ? EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA :
	    alg == COSE_EDDSA ? EVP_PKEY_get_base_id(pk) == EVP_PKEY_ED25519 :
	    false)) {
		say(why, whylen, "the token (%s) is refused: its attestation "
		    "algorithm %lld does not match its certificate's key",
		    name, (long long)alg);
		goto out;
	}
	if ((msg = malloc(e->authdata_len + 32)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	memcpy(msg, e->authdata, e->authdata_len);
	memcpy(msg + e->authdata_len, e->cdh, 32);
	if (!sig_ok(pk, sha256, msg, e->authdata_len + 32, sig, siglen)) {
		say(why, whylen, "the token (%s) is refused: its attestation "
		    "signature does not verify", name);
		goto out;
	}
	if (X509_get_version(leaf) != 2 || X509_check_ca(leaf) != 0) {
		say(why, whylen, "the token (%s) is refused: its attestation "
		    "certificate is not a version 3 end-entity certificate",
		    name);
		goto out;
	}
	if ((k = leaf_aaguid(leaf, x_aaguid)) != 1) {
		say(why, whylen, "the token (%s) is refused: its attestation "
		    "certificate %s", name, k < 0 ? "has no AAGUID extension "
		    "(1.3.6.1.4.1.45724.1.1.4)" : "has a malformed or critical "
		    "AAGUID extension");
		goto out;
	}
	if (memcmp(x_aaguid, ad_aaguid, 16) != 0) {	/* public: ids, names */
		aaguid_text(x_aaguid, gtext);
		say(why, whylen, "the token (%s) is refused: its attestation "
		    "certificate is for AAGUID %s, not the one its "
		    "authenticator data names", name, gtext);
		goto out;
	}
	if (t->n_aaguids > 0 && !on_allow_list(t, ad_aaguid)) {
		say(why, whylen, "the token (%s) is refused: its AAGUID is "
		    "not on the vault's allow-list", name);
		goto out;
	}
	if (t->n_aaguids == 0 && entry == NULL) {
		say(why, whylen, "the token (%s) is refused: its AAGUID is "
		    "unknown (not on an allow-list, not in the metadata BLOB)",
		    name);
		goto out;
	}
	if (mds != NULL) {
		if (at > bg_mds_next_update(mds)) {
			say(why, whylen, "the token (%s) is refused: the "
			    "metadata BLOB (no %llu) passed its nextUpdate; "
			    "custodians load a newer one before new tokens "
			    "enroll", name,
			    (unsigned long long)bg_mds_serial(mds));
			goto out;
		}
		if (entry != NULL && (st = entry_refused(entry)) != NULL) {
			say(why, whylen, "the token (%s) is refused: the FIDO "
			    "metadata (no %llu) reports its model %s", name,
			    (unsigned long long)bg_mds_serial(mds), st);
			goto out;
		}
	}
	/* Anchors: vendor roots for an AAGUID on the allow-list, the BLOB
	 * entry's roots for its own AAGUID. */
	if (on_allow_list(t, ad_aaguid)) {
		for (i = 0; i < t->n_roots; i++) {
			X509 *x = x509_from(t->roots[i].der, t->roots[i].len);

			if (x == NULL || sk_X509_push(anchors, x) <= 0) {
				X509_free(x);
				r = BG_ERR_NOMEM;
				goto out;
			}
		}
	}
	if (entry != NULL && !entry_roots(entry, anchors)) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	for (i = 1; i < (size_t)sk_X509_num(certs); i++)
		if (sk_X509_push(inter, sk_X509_value(certs, (int)i)) <= 0) {
			r = BG_ERR_NOMEM;
			goto out;
		}
	if (!chain_ok(leaf, inter, anchors, at, &err)) {
		say(why, whylen, "the token (%s) is refused: its attestation "
		    "certificate does not chain to a root trusted for its "
		    "AAGUID (%s)", name, err);
		goto out;
	}
	r = BG_OK;
out:
	free(msg);
	sk_X509_free(inter);		/* borrowed from certs */
	sk_X509_pop_free(certs, X509_free);
	sk_X509_pop_free(anchors, X509_free);
	bg_mds_free(&mds_own);
	return r;
}
