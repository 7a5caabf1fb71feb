/*
 * The CTAP2 core of the software authenticator: dispatch, getInfo,
 * makeCredential, getAssertion, reset and selection (CTAP 2.1).
 * authenticatorClientPIN lives in clientpin.c, the state blob in state.c.
 *
 * Command handlers return a CTAP status (>= 0) or, for failures outside
 * CTAP (the state could not be saved), a negative BG_ERR_* code.
 *
 * Credentials are not resident: the credential id is an XChaCha20-Poly1305
 * box of {alg, credProtect, flags, private key} under a key derived from the
 * master key, with the RP id hash as associated data, so the token keeps no
 * per-credential state and a credential id for one RP opens for no other.
 */
#include <stdlib.h>
#include <string.h>

#include <cbor.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "breakglass/err.h"
#include "soft/soft_int.h"

/* Labels for keys derived from the master key (HMAC-SHA-256). */
#define LABEL_CRED_WRAP	"breakglass soft v1 credential wrap"
#define LABEL_CR_UV	"breakglass soft v1 hmac-secret CredRandomWithUV"
#define LABEL_CR_NOUV	"breakglass soft v1 hmac-secret CredRandomWithoutUV"

#define FLAG_UP	0x01
#define FLAG_UV	0x04
#define FLAG_AT	0x40
#define FLAG_ED	0x80

/* ===================================================================== */
/* CBOR writer                                                           */

void
bg_cbw_init(bg_cbw_t *w, uint8_t *buf, size_t cap)
{
	w->p = buf;
	w->cap = cap;
	w->len = 0;
	w->err = false;
}

static void
cbw_put(bg_cbw_t *w, const uint8_t *b, size_t n)
{
	if (w->err || n > w->cap - w->len) {
		w->err = true;
		return;
	}
	if (n > 0)
		memcpy(w->p + w->len, b, n);
	w->len += n;
}

static void
cbw_head(bg_cbw_t *w, uint8_t major, uint64_t v)
{
	uint8_t h[9];
	size_t n;

	major = (uint8_t)(major << 5);
	if (v < 24) {
		h[0] = (uint8_t)(major | v);
		n = 1;
	} else if (v <= 0xff) {
		h[0] = major | 24;
		h[1] = (uint8_t)v;
		n = 2;
	} else if (v <= 0xffff) {
		h[0] = major | 25;
		h[1] = (uint8_t)(v >> 8);
		h[2] = (uint8_t)v;
		n = 3;
	} else if (v <= 0xffffffffULL) {
		h[0] = major | 26;
		for (size_t i = 0; i < 4; i++)
			h[1 + i] = (uint8_t)(v >> (24 - 8 * i));
		n = 5;
	} else {
		h[0] = major | 27;
		for (size_t i = 0; i < 8; i++)
			h[1 + i] = (uint8_t)(v >> (56 - 8 * i));
		n = 9;
	}
	cbw_put(w, h, n);
}

void
bg_cbw_uint(bg_cbw_t *w, uint64_t v)
{
	cbw_head(w, 0, v);
}

void
bg_cbw_int(bg_cbw_t *w, int64_t v)
{
	if (v >= 0)
		cbw_head(w, 0, (uint64_t)v);
	else
		cbw_head(w, 1, (uint64_t)(-(v + 1)));
}

void
bg_cbw_bytes(bg_cbw_t *w, const uint8_t *b, size_t n)
{
	cbw_head(w, 2, n);
	cbw_put(w, b, n);
}

void
bg_cbw_text(bg_cbw_t *w, const char *s)
{
	size_t n = strlen(s);

	cbw_head(w, 3, n);
	cbw_put(w, (const uint8_t *)s, n);
}

void
bg_cbw_bool(bg_cbw_t *w, bool v)
{
	uint8_t b = v ? 0xf5 : 0xf4;

	cbw_put(w, &b, 1);
}

void
bg_cbw_map(bg_cbw_t *w, size_t n)
{
	cbw_head(w, 5, n);
}

void
bg_cbw_array(bg_cbw_t *w, size_t n)
{
	cbw_head(w, 4, n);
}

void
bg_cbw_cose_p256(bg_cbw_t *w, int64_t alg, const uint8_t x[32],
    const uint8_t y[32])
{
	/* canonical order: 1, 3, -1, -2, -3 */
	bg_cbw_map(w, 5);
	bg_cbw_uint(w, 1);
	bg_cbw_uint(w, 2);		/* kty: EC2 */
	bg_cbw_uint(w, 3);
	bg_cbw_int(w, alg);
	bg_cbw_int(w, -1);
	bg_cbw_uint(w, 1);		/* crv: P-256 */
	bg_cbw_int(w, -2);
	bg_cbw_bytes(w, x, 32);
	bg_cbw_int(w, -3);
	bg_cbw_bytes(w, y, 32);
}

/* ===================================================================== */
/* CBOR reader                                                           */

/*
 * A strict, bounded walk over the raw bytes before libcbor sees them, so
 * that libcbor never allocates for a length the input cannot back, never
 * recurses deeper than BG_SOFT_CBOR_DEPTH, and never sees indefinite
 * lengths, tags or floats.  Heads must use the shortest form (CTAP2
 * canonical CBOR), which also makes equal map keys equal bytes.
 */
struct cbv {
	const uint8_t	*p;
	size_t		 len;
	size_t		 off;
};

static int
cbv_head(struct cbv *v, uint8_t *major, uint8_t *ai, uint64_t *val)
{
	uint8_t ib;
	size_t n;

	if (v->off >= v->len)
		return CTAP2_ERR_INVALID_CBOR;
	ib = v->p[v->off++];
	*major = (uint8_t)(ib >> 5);
	*ai = ib & 0x1f;
	if (*ai < 24) {
		*val = *ai;
		return CTAP2_OK;
	}
	if (*ai > 27)
		return CTAP2_ERR_INVALID_CBOR;	/* reserved or indefinite */
	n = (size_t)1 << (*ai - 24);
	if (n > v->len - v->off)
		return CTAP2_ERR_INVALID_CBOR;
	*val = 0;
	for (size_t i = 0; i < n; i++)
		*val = (*val << 8) | v->p[v->off++];
	if (*major == 7)
		return CTAP2_OK;	/* floats and simple: judged by caller */
	/* shortest form only */
	if ((n == 1 && *val < 24) || (n == 2 && *val <= 0xff) ||
	    (n == 4 && *val <= 0xffff) || (n == 8 && *val <= 0xffffffffULL))
		return CTAP2_ERR_INVALID_CBOR;
	return CTAP2_OK;
}

static int cbv_item(struct cbv *v, unsigned depth);

static int
cbv_map(struct cbv *v, uint64_t n, unsigned depth)
{
	int st = CTAP2_ERR_INVALID_CBOR;
	size_t *kstart = NULL, *klen = NULL;

	/* every pair needs at least two bytes */
	if (n > (v->len - v->off) / 2)
		goto out;
	if (n > 0 && ((kstart = calloc((size_t)n, sizeof(*kstart))) == NULL ||
	    (klen = calloc((size_t)n, sizeof(*klen))) == NULL)) {
		st = CTAP1_ERR_OTHER;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		uint8_t major;

		if (v->off >= v->len)
			goto out;
		major = (uint8_t)(v->p[v->off] >> 5);
		if (major != 0 && major != 1 && major != 3) {
			/* CTAP map keys are integers or text strings */
			goto out;
		}
		kstart[i] = v->off;
		if ((st = cbv_item(v, depth)) != CTAP2_OK)
			goto out;
		klen[i] = v->off - kstart[i];
		for (size_t j = 0; j < i; j++) {
			const uint8_t *a = v->p + kstart[j], *b = v->p + kstart[i];

			if (klen[j] == klen[i] &&
			    memcmp(a, b, klen[i]) == 0) { /* public: map keys */
				st = CTAP2_ERR_INVALID_CBOR;
				goto out;
			}
		}
		if ((st = cbv_item(v, depth)) != CTAP2_OK)
			goto out;
	}
	st = CTAP2_OK;
out:
	free(kstart);
	free(klen);
	return st;
}

static int
cbv_item(struct cbv *v, unsigned depth)
{
	int st;
	uint8_t major, ai;
	uint64_t val;

	if ((st = cbv_head(v, &major, &ai, &val)) != CTAP2_OK)
		return st;
	switch (major) {
	case 0:
	case 1:
		return CTAP2_OK;
	case 2:
	case 3:
		if (val > v->len - v->off)
			return CTAP2_ERR_INVALID_CBOR;
		v->off += (size_t)val;
		return CTAP2_OK;
	case 4:
		if (depth + 1 > BG_SOFT_CBOR_DEPTH || val > v->len - v->off)
			return CTAP2_ERR_INVALID_CBOR;
		for (uint64_t i = 0; i < val; i++)
			if ((st = cbv_item(v, depth + 1)) != CTAP2_OK)
				return st;
		return CTAP2_OK;
	case 5:
		if (depth + 1 > BG_SOFT_CBOR_DEPTH)
			return CTAP2_ERR_INVALID_CBOR;
		return cbv_map(v, val, depth + 1);
	case 7:
		/* false, true, null; no undefined, simple values or floats */
		if (ai == 20 || ai == 21 || ai == 22)
			return CTAP2_OK;
		return CTAP2_ERR_INVALID_CBOR;
	default:
		return CTAP2_ERR_INVALID_CBOR;	/* tags */
	}
}

int
bg_soft_cbor_parse_map(const uint8_t *buf, size_t len, cbor_item_t **itemp)
{
	int st = CTAP2_ERR_INVALID_CBOR;
	struct cbv v = { buf, len, 0 };
	struct cbor_load_result res;
	cbor_item_t *item = NULL;

	*itemp = NULL;
	if (len == 0) {
		st = CTAP2_ERR_MISSING_PARAMETER;
		goto out;
	}
	if ((st = cbv_item(&v, 0)) != CTAP2_OK)
		goto out;
	if (v.off != len) {
		st = CTAP2_ERR_INVALID_CBOR;	/* trailing bytes */
		goto out;
	}
	if ((buf[0] >> 5) != 5) {
		st = CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
		goto out;
	}
	memset(&res, 0, sizeof(res));
	if ((item = cbor_load(buf, len, &res)) == NULL ||
	    res.error.code != CBOR_ERR_NONE || res.read != len ||
	    !cbor_isa_map(item) || !cbor_map_is_definite(item)) {
		st = (res.error.code == CBOR_ERR_MEMERROR) ? CTAP1_ERR_OTHER :
		    CTAP2_ERR_INVALID_CBOR;
		goto out;
	}
	*itemp = item;
	item = NULL;
	st = CTAP2_OK;
out:
	if (item != NULL)
		cbor_decref(&item);
	return st;
}

cbor_item_t *
bg_soft_cbor_get_int(const cbor_item_t *m, int64_t k)
{
	struct cbor_pair *pairs;
	size_t n;

	if (m == NULL || !cbor_isa_map(m))
		return NULL;
	pairs = cbor_map_handle(m);
	n = cbor_map_size(m);
	for (size_t i = 0; i < n; i++) {
		const cbor_item_t *key = pairs[i].key;

		if (k >= 0 && cbor_isa_uint(key) &&
		    cbor_get_int(key) == (uint64_t)k)
			return pairs[i].value;
		if (k < 0 && cbor_isa_negint(key) &&
		    cbor_get_int(key) == (uint64_t)(-(k + 1)))
			return pairs[i].value;
	}
	return NULL;
}

bool
bg_soft_cbor_text_eq(const cbor_item_t *it, const char *s)
{
	size_t n = strlen(s);

	return it != NULL && cbor_isa_string(it) &&
	    cbor_string_is_definite(it) && cbor_string_length(it) == n &&
	    (n == 0 || memcmp(cbor_string_handle(it), s, n) == 0); /* public: CBOR key names */
}

cbor_item_t *
bg_soft_cbor_get_text(const cbor_item_t *m, const char *k)
{
	struct cbor_pair *pairs;
	size_t n;

	if (m == NULL || !cbor_isa_map(m))
		return NULL;
	pairs = cbor_map_handle(m);
	n = cbor_map_size(m);
	for (size_t i = 0; i < n; i++)
		if (bg_soft_cbor_text_eq(pairs[i].key, k))
			return pairs[i].value;
	return NULL;
}

int
bg_soft_cbor_int(const cbor_item_t *it, int64_t *vp)
{
	uint64_t u;

	*vp = 0;
	if (it == NULL)
		return CTAP2_ERR_MISSING_PARAMETER;
	if (!cbor_isa_uint(it) && !cbor_isa_negint(it))
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	u = cbor_get_int(it);
	if (u > INT64_MAX)
		return CTAP1_ERR_INVALID_PARAMETER;
	*vp = cbor_isa_uint(it) ? (int64_t)u : -(int64_t)u - 1;
	return CTAP2_OK;
}

static bool
is_bytes(const cbor_item_t *it)
{
	return cbor_isa_bytestring(it) && cbor_bytestring_is_definite(it);
}

static bool
is_text(const cbor_item_t *it)
{
	return cbor_isa_string(it) && cbor_string_is_definite(it);
}

/* An optional member of map m under text key k that, if present, must be
 * text. */
static int
opt_text(const cbor_item_t *m, const char *k)
{
	const cbor_item_t *it = bg_soft_cbor_get_text(m, k);

	return (it == NULL || is_text(it)) ? CTAP2_OK :
	    CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
}

/* ===================================================================== */
/* environment                                                           */

void
bg_soft_rand(bg_soft_t *s, uint8_t *buf, size_t len)
{
	s->env.random(s->env.ctx, buf, len);
}

uint64_t
bg_soft_now(bg_soft_t *s)
{
	return s->env.now_ms(s->env.ctx);
}

int
bg_soft_commit(bg_soft_t *s)
{
	int r = BG_ERR_INTERNAL;
	uint8_t *blob = NULL;
	size_t len = bg_soft_state_len(&s->att);

	if ((blob = sodium_malloc(len)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	bg_soft_state_write_att(s->sec, &s->ps, &s->att, blob);
	if (s->env.save(s->env.ctx, blob, len) != 0) {
		r = BG_ERR_IO;
		goto out;
	}
	r = BG_OK;
out:
	if (r != BG_OK)
		s->broken = true;
	if (blob != NULL)
		sodium_free(blob);
	return r;
}

int
bg_soft_presence(bg_soft_t *s)
{
	int up = BG_SOFT_UP_DENIED;

	if (s->presence != NULL)
		up = s->presence(s->presence_ctx);
	switch (up) {
	case BG_SOFT_UP_GRANTED:
		return CTAP2_OK;
	case BG_SOFT_UP_CANCELLED:
		return CTAP2_ERR_KEEPALIVE_CANCEL;
	case BG_SOFT_UP_TIMEOUT:
		return CTAP2_ERR_USER_ACTION_TIMEOUT;
	default:
		return CTAP2_ERR_OPERATION_DENIED;
	}
}

int
bg_soft_p256_gen(bg_soft_t *s, uint8_t d[32], EVP_PKEY **pkeyp, uint8_t x[32],
    uint8_t y[32])
{
	int r = BG_ERR_CRYPTO;

	*pkeyp = NULL;
	/* rejection sampling; a scalar >= n has probability about 2^-32 */
	for (int i = 0; i < 16; i++) {
		bg_soft_rand(s, d, 32);
		r = bg_soft_p256_priv(d, pkeyp, x, y);
		if (r != BG_ERR_RANGE)
			break;
	}
	if (r != BG_OK)
		sodium_memzero(d, 32);
	return r;
}

/* ===================================================================== */
/* life cycle                                                            */

int
bg_soft_new(const bg_soft_env_t *env, const bg_soft_opts_t *opts,
    const uint8_t *blob, size_t len, bg_soft_t **softp)
{
	int r = BG_ERR_INTERNAL;
	bg_soft_t *s = NULL;

	if (softp != NULL)
		*softp = NULL;
	if (env == NULL || env->random == NULL || env->save == NULL ||
	    env->now_ms == NULL || blob == NULL || softp == NULL) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	if (opts != NULL && (opts->pin_protocols & ~((1u << 1) | (1u << 2))) != 0) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	if (sodium_init() < 0) {
		r = BG_ERR_CRYPTO;
		goto out;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->sec = sodium_malloc(sizeof(*s->sec))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	sodium_memzero(s->sec, sizeof(*s->sec));
	s->env = *env;
	s->presence = env->presence;
	s->presence_ctx = env->ctx;
	if (opts != NULL)
		s->opts = *opts;
	if ((r = bg_soft_state_read_att(blob, len, s->sec, &s->ps, &s->att))
	    != BG_OK)
		goto out;
	bg_soft_power_cycle(s);
	if (s->ka[0] == NULL || s->ka[1] == NULL) {
		r = BG_ERR_CRYPTO;
		goto out;
	}
	*softp = s;
	s = NULL;
	r = BG_OK;
out:
	bg_soft_free(&s);
	return r;
}

void
bg_soft_free(bg_soft_t **softp)
{
	bg_soft_t *s;

	if (softp == NULL || (s = *softp) == NULL)
		return;
	EVP_PKEY_free(s->ka[0]);
	EVP_PKEY_free(s->ka[1]);
	if (s->sec != NULL)
		sodium_free(s->sec);
	sodium_memzero(s, sizeof(*s));
	free(s);
	*softp = NULL;
}

void
bg_soft_set_presence(bg_soft_t *soft, int (*presence)(void *), void *ctx)
{
	if (soft == NULL)
		return;
	/* only the presence callback's context changes: random, save and
	 * now_ms keep env.ctx */
	soft->presence = presence;
	soft->presence_ctx = ctx;
}

void
bg_soft_power_cycle(bg_soft_t *soft)
{
	if (soft == NULL)
		return;
	soft->power_on_ms = bg_soft_now(soft);
	soft->mismatches = 0;
	bg_soft_puat_reset(soft);
	(void)bg_soft_pp_regenerate(soft);	/* failure leaves ka NULL */
}

/* ===================================================================== */
/* credentials                                                           */

struct cred {
	uint8_t	 alg;		/* BG_SOFT_CRED_ALG_* */
	uint8_t	 cred_protect;	/* 1..3 */
	uint8_t	 flags;		/* BG_SOFT_CRED_F_* */
	uint8_t	 key[32];	/* P-256 scalar or Ed25519 seed */
};

static void
cred_wrap_key(const bg_soft_t *s, uint8_t k[32])
{
	bg_soft_hmac(s->sec->master, BG_SOFT_MASTER_LEN,
	    (const uint8_t *)LABEL_CRED_WRAP, strlen(LABEL_CRED_WRAP), NULL, 0, k);
}

static void
cred_ad(const uint8_t rp_hash[32], uint8_t ad[33])
{
	ad[0] = BG_SOFT_CRED_VERSION;
	memcpy(ad + 1, rp_hash, 32);
}

static void
cred_wrap(bg_soft_t *s, const struct cred *c, const uint8_t rp_hash[32],
    uint8_t id[BG_SOFT_CRED_ID_LEN])
{
	uint8_t k[32], ad[33], pt[BG_SOFT_CRED_PT_LEN];

	id[0] = BG_SOFT_CRED_VERSION;
	bg_soft_rand(s, id + 1, BG_SOFT_CRED_NONCE_LEN);
	pt[0] = c->alg;
	pt[1] = c->cred_protect;
	pt[2] = c->flags;
	memcpy(pt + 3, c->key, 32);
	cred_ad(rp_hash, ad);
	cred_wrap_key(s, k);
	crypto_aead_xchacha20poly1305_ietf_encrypt(id + 1 + BG_SOFT_CRED_NONCE_LEN,
	    NULL, pt, sizeof(pt), ad, sizeof(ad), NULL, id + 1, k);
	sodium_memzero(k, sizeof(k));
	sodium_memzero(pt, sizeof(pt));
}

/* true if id is a credential of this token for rp_hash; fills *c. */
static bool
cred_unwrap(const bg_soft_t *s, const uint8_t *id, size_t idlen,
    const uint8_t rp_hash[32], struct cred *c)
{
	uint8_t k[32], ad[33], pt[BG_SOFT_CRED_PT_LEN];
	bool ok = false;

	sodium_memzero(c, sizeof(*c));
	if (idlen != BG_SOFT_CRED_ID_LEN || id[0] != BG_SOFT_CRED_VERSION)
		return false;
	cred_ad(rp_hash, ad);
	cred_wrap_key(s, k);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt, NULL, NULL,
	    id + 1 + BG_SOFT_CRED_NONCE_LEN,
	    BG_SOFT_CRED_PT_LEN + BG_SOFT_CRED_TAG_LEN, ad, sizeof(ad),
	    id + 1, k) != 0)
		goto out;
	if ((pt[0] != BG_SOFT_CRED_ALG_ES256 && pt[0] != BG_SOFT_CRED_ALG_EDDSA) ||
	    pt[1] < 1 || pt[1] > 3 || (pt[2] & ~BG_SOFT_CRED_F_HMAC) != 0)
		goto out;
	c->alg = pt[0];
	c->cred_protect = pt[1];
	c->flags = pt[2];
	memcpy(c->key, pt + 3, 32);
	ok = true;
out:
	sodium_memzero(k, sizeof(k));
	sodium_memzero(pt, sizeof(pt));
	return ok;
}

/* Public key of c in COSE form, into w. */
static int
cred_cose(const struct cred *c, bg_cbw_t *w)
{
	int r = BG_ERR_CRYPTO;
	EVP_PKEY *pk = NULL;
	uint8_t x[32], y[32], edpk[crypto_sign_PUBLICKEYBYTES];
	uint8_t *edsk = NULL;

	if (c->alg == BG_SOFT_CRED_ALG_ES256) {
		if ((r = bg_soft_p256_priv(c->key, &pk, x, y)) != BG_OK)
			goto out;
		bg_cbw_cose_p256(w, COSE_ES256, x, y);
	} else {
		if ((edsk = sodium_malloc(crypto_sign_SECRETKEYBYTES)) == NULL) {
			r = BG_ERR_NOMEM;
			goto out;
		}
		crypto_sign_seed_keypair(edpk, edsk, c->key);
		/* canonical order: 1, 3, -1, -2 */
		bg_cbw_map(w, 4);
		bg_cbw_uint(w, 1);
		bg_cbw_uint(w, 1);	/* kty: OKP */
		bg_cbw_uint(w, 3);
		bg_cbw_int(w, COSE_EDDSA);
		bg_cbw_int(w, -1);
		bg_cbw_uint(w, 6);	/* crv: Ed25519 */
		bg_cbw_int(w, -2);
		bg_cbw_bytes(w, edpk, sizeof(edpk));
	}
	r = BG_OK;
out:
	EVP_PKEY_free(pk);
	if (edsk != NULL)
		sodium_free(edsk);
	return r;
}

/* Signature by c over m1 | m2 (authData | clientDataHash). */
static int
cred_sign(const struct cred *c, const uint8_t *m1, size_t l1,
    const uint8_t *m2, size_t l2, uint8_t sig[72], size_t *siglen)
{
	int r = BG_ERR_CRYPTO;
	EVP_PKEY *pk = NULL;
	uint8_t x[32], y[32], edpk[crypto_sign_PUBLICKEYBYTES];
	uint8_t *edsk = NULL, *m = NULL;
	unsigned long long sl = 0;

	*siglen = 0;
	if ((m = malloc(l1 + l2)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	memcpy(m, m1, l1);
	memcpy(m + l1, m2, l2);
	if (c->alg == BG_SOFT_CRED_ALG_ES256) {
		if ((r = bg_soft_p256_priv(c->key, &pk, x, y)) != BG_OK ||
		    (r = bg_soft_es256_sign(pk, m, l1 + l2, sig, siglen)) != BG_OK)
			goto out;
	} else {
		if ((edsk = sodium_malloc(crypto_sign_SECRETKEYBYTES)) == NULL) {
			r = BG_ERR_NOMEM;
			goto out;
		}
		crypto_sign_seed_keypair(edpk, edsk, c->key);
		if (crypto_sign_detached(sig, &sl, m, l1 + l2, edsk) != 0 ||
		    sl != crypto_sign_BYTES) {
			r = BG_ERR_CRYPTO;
			goto out;
		}
		*siglen = (size_t)sl;
	}
	r = BG_OK;
out:
	EVP_PKEY_free(pk);
	if (edsk != NULL)
		sodium_free(edsk);
	free(m);
	return r;
}

/* ===================================================================== */
/* shared request checks                                                 */

static int
up_to_denied(int st)
{
	/* for the zero-length pinUvAuthParam probe: declined or timed out */
	return st == CTAP2_ERR_KEEPALIVE_CANCEL ? st : CTAP2_ERR_OPERATION_DENIED;
}

static bool
pin_uv_supported(const bg_soft_t *s)
{
	return !s->opts.no_pin_uv;
}

/*
 * Steps 1 and 2 of makeCredential and getAssertion: a zero-length
 * pinUvAuthParam asks for a touch and then tells whether a PIN is set;
 * otherwise the protocol must be present and supported.
 * *done is set when the returned status ends the request.
 */
static int
check_pin_uv_param(bg_soft_t *s, const cbor_item_t *param,
    const cbor_item_t *proto_it, int64_t *proto, bool *done)
{
	int st;

	*done = false;
	*proto = 0;
	if (param == NULL)
		return CTAP2_OK;
	*done = true;
	if (!is_bytes(param))
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	if (cbor_bytestring_length(param) == 0 && pin_uv_supported(s)) {
		if ((st = bg_soft_presence(s)) != CTAP2_OK)
			return up_to_denied(st);
		return s->ps.pin_set ? CTAP2_ERR_PIN_INVALID : CTAP2_ERR_PIN_NOT_SET;
	}
	if (proto_it == NULL)
		return CTAP2_ERR_MISSING_PARAMETER;
	if ((st = bg_soft_cbor_int(proto_it, proto)) != CTAP2_OK)
		return st;
	if (!bg_soft_proto_ok(s, *proto))
		return CTAP1_ERR_INVALID_PARAMETER;
	*done = false;
	return CTAP2_OK;
}

/* Verify pinUvAuthParam over clientDataHash with the pinUvAuthToken. */
static int
check_puat(bg_soft_t *s, int64_t proto, const uint8_t cdh[32],
    const cbor_item_t *param, uint8_t perm, const uint8_t rp_hash[32])
{
	uint64_t now = bg_soft_now(s), age;

	if (!s->tok_in_use || s->tok_proto != proto)
		return CTAP2_ERR_PIN_AUTH_INVALID;
	age = now >= s->tok_issued_ms ? now - s->tok_issued_ms : UINT64_MAX;
	if (age > BG_SOFT_PUAT_MAX_MS ||
	    (!s->tok_used && age > BG_SOFT_PUAT_FIRST_USE_MS)) {
		bg_soft_puat_reset(s);		/* stopUsingPinUvAuthToken */
		return CTAP2_ERR_PIN_AUTH_INVALID;
	}
	if (!bg_soft_pp_verify(proto, s->sec->puat, cdh, 32, NULL, 0,
	    cbor_bytestring_handle(param), cbor_bytestring_length(param)))
		return CTAP2_ERR_PIN_AUTH_INVALID;
	if ((s->tok_perms & perm) == 0)
		return CTAP2_ERR_PIN_AUTH_INVALID;
	if (s->tok_has_rp && memcmp(s->tok_rp_hash, rp_hash, 32) != 0) /* public: RP id hashes */
		return CTAP2_ERR_PIN_AUTH_INVALID;
	if (!s->tok_uv)
		return CTAP2_ERR_PIN_AUTH_INVALID;
	s->tok_used = true;
	if (!s->tok_has_rp) {
		memcpy(s->tok_rp_hash, rp_hash, 32);
		s->tok_has_rp = true;
	}
	return CTAP2_OK;
}

/* After user presence was collected for mc/ga. */
static void
puat_consume(bg_soft_t *s)
{
	/* clearUserPresentFlag, clearUserVerifiedFlag,
	 * clearPinUvAuthTokenPermissionsExceptLbw */
	s->tok_uv = false;
	s->tok_perms = 0;
}

/* options map: rk, up, uv as tri-state (-1 absent). */
static int
parse_options(const cbor_item_t *m, int *rk, int *up, int *uv)
{
	struct cbor_pair *pairs;
	size_t n;

	*rk = *up = *uv = -1;
	if (m == NULL)
		return CTAP2_OK;
	if (!cbor_isa_map(m))
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	pairs = cbor_map_handle(m);
	n = cbor_map_size(m);
	for (size_t i = 0; i < n; i++) {
		int *dst = NULL;

		if (!is_text(pairs[i].key))
			return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
		if (bg_soft_cbor_text_eq(pairs[i].key, "rk"))
			dst = rk;
		else if (bg_soft_cbor_text_eq(pairs[i].key, "up"))
			dst = up;
		else if (bg_soft_cbor_text_eq(pairs[i].key, "uv"))
			dst = uv;
		if (dst == NULL)
			continue;	/* options not understood: absent */
		if (!cbor_is_bool(pairs[i].value))
			return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
		*dst = cbor_get_bool(pairs[i].value) ? 1 : 0;
	}
	return CTAP2_OK;
}

/* A list of PublicKeyCredentialDescriptors: validate every element. */
static int
check_cred_list(const cbor_item_t *list)
{
	cbor_item_t **items;
	size_t n;

	if (!cbor_isa_array(list))
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	n = cbor_array_size(list);
	if (n > BG_SOFT_MAX_CRED_LIST)
		return CTAP2_ERR_LIMIT_EXCEEDED;
	items = cbor_array_handle(list);
	for (size_t i = 0; i < n; i++) {
		const cbor_item_t *type, *id, *tr;

		if (!cbor_isa_map(items[i]))
			return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
		type = bg_soft_cbor_get_text(items[i], "type");
		id = bg_soft_cbor_get_text(items[i], "id");
		tr = bg_soft_cbor_get_text(items[i], "transports");
		if (type == NULL || id == NULL)
			return CTAP2_ERR_MISSING_PARAMETER;
		if (!is_text(type) || !is_bytes(id) ||
		    (tr != NULL && !cbor_isa_array(tr)))
			return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	}
	return CTAP2_OK;
}

/* The i-th descriptor's id if its type is "public-key", else NULL. */
static const cbor_item_t *
cred_list_id(const cbor_item_t *list, size_t i)
{
	const cbor_item_t *d = cbor_array_handle(list)[i];

	if (!bg_soft_cbor_text_eq(bg_soft_cbor_get_text(d, "type"), "public-key"))
		return NULL;
	return bg_soft_cbor_get_text(d, "id");
}

static int
rp_id_hash(const cbor_item_t *id, uint8_t h[32])
{
	if (!is_text(id))
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	crypto_hash_sha256(h, cbor_string_handle(id), cbor_string_length(id));
	return CTAP2_OK;
}

static int
get_cdh(const cbor_item_t *it, const uint8_t **cdh)
{
	*cdh = NULL;
	if (it == NULL)
		return CTAP2_ERR_MISSING_PARAMETER;
	if (!is_bytes(it))
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	if (cbor_bytestring_length(it) != 32)
		return CTAP1_ERR_INVALID_LENGTH;
	*cdh = cbor_bytestring_handle(it);
	return CTAP2_OK;
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Next signature counter value, persisted before it is used. */
static int
next_counter(bg_soft_t *s, uint32_t *cnt)
{
	int r;

	if (s->ps.counter == UINT32_MAX)
		return BG_ERR_RANGE;
	s->ps.counter++;
	if ((r = bg_soft_commit(s)) != BG_OK)
		return r;
	*cnt = s->ps.counter;
	return BG_OK;
}

/* ===================================================================== */
/* authenticatorMakeCredential                                           */

static int
validate_rp_user(const cbor_item_t *rp, const cbor_item_t *user)
{
	int st;
	const cbor_item_t *uid;

	if (!cbor_isa_map(rp) || !cbor_isa_map(user))
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	if (bg_soft_cbor_get_text(rp, "id") == NULL)
		return CTAP2_ERR_MISSING_PARAMETER;
	if (!is_text(bg_soft_cbor_get_text(rp, "id")))
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	if ((st = opt_text(rp, "name")) != CTAP2_OK ||
	    (st = opt_text(rp, "icon")) != CTAP2_OK)
		return st;
	if ((uid = bg_soft_cbor_get_text(user, "id")) == NULL)
		return CTAP2_ERR_MISSING_PARAMETER;
	if (!is_bytes(uid))
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	if (cbor_bytestring_length(uid) > 64)
		return CTAP1_ERR_INVALID_LENGTH;
	if ((st = opt_text(user, "name")) != CTAP2_OK ||
	    (st = opt_text(user, "displayName")) != CTAP2_OK ||
	    (st = opt_text(user, "icon")) != CTAP2_OK)
		return st;
	return CTAP2_OK;
}

/* First supported algorithm in the client's order. */
static int
choose_alg(const cbor_item_t *params, uint8_t *alg)
{
	cbor_item_t **items;
	size_t n;
	int st;

	*alg = 0;
	if (!cbor_isa_array(params))
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	items = cbor_array_handle(params);
	n = cbor_array_size(params);
	for (size_t i = 0; i < n; i++) {
		const cbor_item_t *type, *algit;
		int64_t a;

		if (!cbor_isa_map(items[i]))
			return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
		type = bg_soft_cbor_get_text(items[i], "type");
		algit = bg_soft_cbor_get_text(items[i], "alg");
		if (type == NULL || algit == NULL)
			return CTAP2_ERR_MISSING_PARAMETER;
		if (!is_text(type))
			return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
		if ((st = bg_soft_cbor_int(algit, &a)) != CTAP2_OK)
			return st;
		if (*alg != 0 || !bg_soft_cbor_text_eq(type, "public-key"))
			continue;
		if (a == COSE_ES256)
			*alg = BG_SOFT_CRED_ALG_ES256;
		else if (a == COSE_EDDSA)
			*alg = BG_SOFT_CRED_ALG_EDDSA;
	}
	return *alg != 0 ? CTAP2_OK : CTAP2_ERR_UNSUPPORTED_ALGORITHM;
}

static int
cmd_make_credential(bg_soft_t *s, const cbor_item_t *req, bg_cbw_t *w)
{
	int st = CTAP1_ERR_OTHER, r;
	const cbor_item_t *cdh_it = bg_soft_cbor_get_int(req, 1);
	const cbor_item_t *rp = bg_soft_cbor_get_int(req, 2);
	const cbor_item_t *user = bg_soft_cbor_get_int(req, 3);
	const cbor_item_t *params = bg_soft_cbor_get_int(req, 4);
	const cbor_item_t *excl = bg_soft_cbor_get_int(req, 5);
	const cbor_item_t *ext = bg_soft_cbor_get_int(req, 6);
	const cbor_item_t *opts = bg_soft_cbor_get_int(req, 7);
	const cbor_item_t *pin_param = bg_soft_cbor_get_int(req, 8);
	const cbor_item_t *pin_proto = bg_soft_cbor_get_int(req, 9);
	const cbor_item_t *ep = bg_soft_cbor_get_int(req, 10);
	const cbor_item_t *hs_in = NULL, *cp_in = NULL;
	const uint8_t *cdh = NULL;
	uint8_t rp_hash[32], id[BG_SOFT_CRED_ID_LEN], flags = 0;
	uint8_t ad[512], sig[72], x[32], y[32];
	struct cred c, ac;
	int64_t proto = 0, cp_req = 0;
	int rk, up, uv;
	bool done, uv_done = false, want_hmac = false;
	size_t adlen, siglen = 0, n_ext = 0;
	uint32_t cnt = 0;
	EVP_PKEY *pk = NULL;
	bg_cbw_t aw;

	sodium_memzero(&c, sizeof(c));
	sodium_memzero(&ac, sizeof(ac));
	st = check_pin_uv_param(s, pin_param, pin_proto, &proto, &done);
	if (done)
		goto out;
	if (cdh_it == NULL || rp == NULL || user == NULL || params == NULL) {
		st = CTAP2_ERR_MISSING_PARAMETER;
		goto out;
	}
	if ((st = get_cdh(cdh_it, &cdh)) != CTAP2_OK ||
	    (st = validate_rp_user(rp, user)) != CTAP2_OK ||
	    (st = choose_alg(params, &c.alg)) != CTAP2_OK)
		goto out;
	if (excl != NULL && (st = check_cred_list(excl)) != CTAP2_OK)
		goto out;
	if (ext != NULL) {
		if (!cbor_isa_map(ext)) {
			st = CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
			goto out;
		}
		hs_in = bg_soft_cbor_get_text(ext, "hmac-secret");
		/* an authenticator without the extension ignores its input */
		cp_in = s->opts.no_cred_protect ? NULL :
		    bg_soft_cbor_get_text(ext, "credProtect");
		if ((hs_in != NULL && !cbor_is_bool(hs_in)) ||
		    (cp_in != NULL && !cbor_isa_uint(cp_in))) {
			st = CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
			goto out;
		}
		want_hmac = hs_in != NULL && cbor_get_bool(hs_in);
		if (cp_in != NULL && (st = bg_soft_cbor_int(cp_in, &cp_req)) != CTAP2_OK)
			goto out;
		if (cp_req < 1 || cp_req > 3)
			cp_req = 0;	/* a policy we do not know: absent */
	}
	if ((st = parse_options(opts, &rk, &up, &uv)) != CTAP2_OK)
		goto out;
	if (ep != NULL) {
		st = CTAP1_ERR_INVALID_PARAMETER;	/* no enterprise attestation */
		goto out;
	}
	(void)rp_id_hash(bg_soft_cbor_get_text(rp, "id"), rp_hash);

	/* step 5: options */
	if (pin_param != NULL)
		uv = 0;		/* pinUvAuthParam takes precedence */
	if (rk == 1) {
		st = CTAP2_ERR_UNSUPPORTED_OPTION;
		goto out;
	}
	if (up == 0 || uv == 1) {
		/* no built-in UV: INVALID_OPTION, as the spec says for
		 * backwards compatibility */
		st = CTAP2_ERR_INVALID_OPTION;
		goto out;
	}
	/* step 7: a PIN is set, so mc needs a pinUvAuthToken */
	if (s->ps.pin_set && pin_param == NULL) {
		st = CTAP2_ERR_PUAT_REQUIRED;
		goto out;
	}
	/* step 11 */
	if (pin_param != NULL) {
		if ((st = check_puat(s, proto, cdh, pin_param, BG_SOFT_PERM_MC,
		    rp_hash)) != CTAP2_OK)
			goto out;
		uv_done = true;
	}
	/* step 12: excludeList */
	if (excl != NULL) {
		for (size_t i = 0; i < cbor_array_size(excl); i++) {
			const cbor_item_t *eid = cred_list_id(excl, i);
			struct cred ec;

			if (eid == NULL || !cred_unwrap(s, cbor_bytestring_handle(eid),
			    cbor_bytestring_length(eid), rp_hash, &ec))
				continue;
			if (ec.cred_protect == 3 && !uv_done) {
				sodium_memzero(&ec, sizeof(ec));
				continue;
			}
			sodium_memzero(&ec, sizeof(ec));
			/* whether or not the touch comes */
			(void)bg_soft_presence(s);
			st = CTAP2_ERR_CREDENTIAL_EXCLUDED;
			goto out;
		}
	}
	/* step 14: user presence */
	if ((st = bg_soft_presence(s)) != CTAP2_OK)
		goto out;
	flags |= FLAG_UP;
	puat_consume(s);
	if (uv_done)
		flags |= FLAG_UV;

	/* the credential */
	c.cred_protect = cp_req != 0 ? (uint8_t)cp_req : 1;
	c.flags = want_hmac ? BG_SOFT_CRED_F_HMAC : 0;
	if (c.alg == BG_SOFT_CRED_ALG_ES256) {
		if ((r = bg_soft_p256_gen(s, c.key, &pk, x, y)) != BG_OK) {
			st = r;
			goto out;
		}
	} else
		bg_soft_rand(s, c.key, sizeof(c.key));
	cred_wrap(s, &c, rp_hash, id);
	if ((r = next_counter(s, &cnt)) != BG_OK) {
		st = r;
		goto out;
	}

	/* authenticatorData */
	if (want_hmac)
		n_ext++;
	if (cp_req != 0)
		n_ext++;
	flags |= FLAG_AT;
	if (n_ext > 0)
		flags |= FLAG_ED;
	memcpy(ad, rp_hash, 32);
	ad[32] = flags;
	put_be32(ad + 33, cnt);
	memcpy(ad + 37, s->att.on ? s->att.aaguid : bg_soft_aaguid,
	    BG_SOFT_AAGUID_LEN);
	ad[53] = (uint8_t)(BG_SOFT_CRED_ID_LEN >> 8);
	ad[54] = (uint8_t)BG_SOFT_CRED_ID_LEN;
	memcpy(ad + 55, id, BG_SOFT_CRED_ID_LEN);
	adlen = 55 + BG_SOFT_CRED_ID_LEN;
	bg_cbw_init(&aw, ad + adlen, sizeof(ad) - adlen);
	if ((r = cred_cose(&c, &aw)) != BG_OK) {
		st = r;
		goto out;
	}
	if (n_ext > 0) {
		bg_cbw_map(&aw, n_ext);
		if (cp_req != 0) {
			bg_cbw_text(&aw, "credProtect");
			bg_cbw_uint(&aw, (uint64_t)cp_req);
		}
		if (want_hmac) {
			bg_cbw_text(&aw, "hmac-secret");
			bg_cbw_bool(&aw, true);
		}
	}
	if (aw.err) {
		st = CTAP1_ERR_OTHER;
		goto out;
	}
	adlen += aw.len;
	/* packed: by the attestation key with its x5c when the token has
	 * one, else self attestation by the credential key itself */
	ac.alg = BG_SOFT_CRED_ALG_ES256;
	if (s->att.on)
		memcpy(ac.key, s->sec->att_key, sizeof(ac.key));
	if ((r = cred_sign(s->att.on ? &ac : &c, ad, adlen, cdh, 32, sig,
	    &siglen)) != BG_OK) {
		st = r;
		goto out;
	}
	bg_cbw_map(w, 3);
	bg_cbw_uint(w, 1);
	bg_cbw_text(w, "packed");
	bg_cbw_uint(w, 2);
	bg_cbw_bytes(w, ad, adlen);
	bg_cbw_uint(w, 3);
	bg_cbw_map(w, s->att.on ? 3 : 2);
	bg_cbw_text(w, "alg");
	bg_cbw_int(w, s->att.on || c.alg == BG_SOFT_CRED_ALG_ES256 ?
	    COSE_ES256 : COSE_EDDSA);
	bg_cbw_text(w, "sig");
	bg_cbw_bytes(w, sig, siglen);
	if (s->att.on) {
		bg_cbw_text(w, "x5c");
		bg_cbw_array(w, s->att.n);
		for (size_t i = 0; i < s->att.n; i++)
			bg_cbw_bytes(w, s->att.x5c + s->att.off[i],
			    s->att.len[i]);
	}
	st = CTAP2_OK;
out:
	EVP_PKEY_free(pk);
	sodium_memzero(&c, sizeof(c));
	sodium_memzero(&ac, sizeof(ac));
	return st;
}

/* ===================================================================== */
/* authenticatorGetAssertion                                             */

struct hmac_in {
	const cbor_item_t	*ka;
	const uint8_t		*salt_enc;
	size_t			 salt_enc_len;
	const uint8_t		*salt_auth;
	size_t			 salt_auth_len;
	int64_t			 proto;
};

static int
parse_hmac_secret(const bg_soft_t *s, const cbor_item_t *m, struct hmac_in *h)
{
	const cbor_item_t *ka, *se, *sa, *pr;
	int st;

	memset(h, 0, sizeof(*h));
	if (!cbor_isa_map(m))
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	ka = bg_soft_cbor_get_int(m, 1);
	se = bg_soft_cbor_get_int(m, 2);
	sa = bg_soft_cbor_get_int(m, 3);
	pr = bg_soft_cbor_get_int(m, 4);
	if (ka == NULL || se == NULL || sa == NULL)
		return CTAP2_ERR_MISSING_PARAMETER;
	if (!cbor_isa_map(ka) || !is_bytes(se) || !is_bytes(sa))
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	h->proto = 1;
	if (pr != NULL && (st = bg_soft_cbor_int(pr, &h->proto)) != CTAP2_OK)
		return st;
	if (!bg_soft_proto_ok(s, h->proto))
		return CTAP1_ERR_INVALID_PARAMETER;
	h->ka = ka;
	h->salt_enc = cbor_bytestring_handle(se);
	h->salt_enc_len = cbor_bytestring_length(se);
	h->salt_auth = cbor_bytestring_handle(sa);
	h->salt_auth_len = cbor_bytestring_length(sa);
	if (h->salt_enc_len != (h->proto == 2 ? 48u : 32u) &&
	    h->salt_enc_len != (h->proto == 2 ? 80u : 64u))
		return CTAP1_ERR_INVALID_LENGTH;
	return CTAP2_OK;
}

/* hmac-secret output for credential id under CredRandomWith[out]UV. */
static int
hmac_secret(bg_soft_t *s, const struct hmac_in *h, const uint8_t *id,
    size_t idlen, bool uv, uint8_t out[80], size_t *outlen)
{
	int st = CTAP1_ERR_OTHER;
	uint8_t shared[64], salts[64], res[64], k[32], cr[32];
	size_t nsalt = 0;
	const char *label = uv ? LABEL_CR_UV : LABEL_CR_NOUV;

	*outlen = 0;
	if ((st = bg_soft_pp_decapsulate(s, h->proto, h->ka, shared)) != CTAP2_OK)
		goto out;
	if (!bg_soft_pp_verify(h->proto, shared, h->salt_enc, h->salt_enc_len,
	    NULL, 0, h->salt_auth, h->salt_auth_len)) {
		st = CTAP2_ERR_PIN_AUTH_INVALID;
		goto out;
	}
	if ((st = bg_soft_pp_decrypt(h->proto, shared, h->salt_enc,
	    h->salt_enc_len, salts, &nsalt)) != CTAP2_OK)
		goto out;
	if (nsalt != 32 && nsalt != 64) {
		st = CTAP1_ERR_INVALID_LENGTH;
		goto out;
	}
	/* CredRandom = HMAC(HMAC(master, label), credential id) */
	bg_soft_hmac(s->sec->master, BG_SOFT_MASTER_LEN, (const uint8_t *)label,
	    strlen(label), NULL, 0, k);
	bg_soft_hmac(k, sizeof(k), id, idlen, NULL, 0, cr);
	sodium_memzero(k, sizeof(k));
	for (size_t i = 0; i < nsalt; i += 32)
		bg_soft_hmac(cr, sizeof(cr), salts + i, 32, NULL, 0, res + i);
	sodium_memzero(cr, sizeof(cr));
	st = bg_soft_pp_encrypt(s, h->proto, shared, res, nsalt, out, outlen);
out:
	sodium_memzero(shared, sizeof(shared));
	sodium_memzero(salts, sizeof(salts));
	sodium_memzero(res, sizeof(res));
	return st;
}

static int
cmd_get_assertion(bg_soft_t *s, const cbor_item_t *req, bg_cbw_t *w)
{
	int st = CTAP1_ERR_OTHER, r;
	const cbor_item_t *rpid = bg_soft_cbor_get_int(req, 1);
	const cbor_item_t *cdh_it = bg_soft_cbor_get_int(req, 2);
	const cbor_item_t *allow = bg_soft_cbor_get_int(req, 3);
	const cbor_item_t *ext = bg_soft_cbor_get_int(req, 4);
	const cbor_item_t *opts = bg_soft_cbor_get_int(req, 5);
	const cbor_item_t *pin_param = bg_soft_cbor_get_int(req, 6);
	const cbor_item_t *pin_proto = bg_soft_cbor_get_int(req, 7);
	const cbor_item_t *hs = NULL, *cid = NULL;
	const uint8_t *cdh = NULL;
	uint8_t rp_hash[32], ad[160], sig[72], hout[80], flags = 0;
	struct cred c;
	struct hmac_in h;
	int64_t proto = 0;
	int rk, up, uv;
	bool done, uv_done = false, found = false;
	size_t adlen, siglen = 0, houtlen = 0;
	uint32_t cnt = 0;
	bg_cbw_t aw;

	sodium_memzero(&c, sizeof(c));
	st = check_pin_uv_param(s, pin_param, pin_proto, &proto, &done);
	if (done)
		goto out;
	if (rpid == NULL || cdh_it == NULL) {
		st = CTAP2_ERR_MISSING_PARAMETER;
		goto out;
	}
	if ((st = rp_id_hash(rpid, rp_hash)) != CTAP2_OK ||
	    (st = get_cdh(cdh_it, &cdh)) != CTAP2_OK)
		goto out;
	if (allow != NULL && (st = check_cred_list(allow)) != CTAP2_OK)
		goto out;
	if (ext != NULL) {
		if (!cbor_isa_map(ext)) {
			st = CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
			goto out;
		}
		hs = bg_soft_cbor_get_text(ext, "hmac-secret");
		if (hs != NULL && (st = parse_hmac_secret(s, hs, &h)) != CTAP2_OK)
			goto out;
	}
	if ((st = parse_options(opts, &rk, &up, &uv)) != CTAP2_OK)
		goto out;
	if (pin_param != NULL)
		uv = 0;
	if (rk != -1) {
		st = CTAP2_ERR_UNSUPPORTED_OPTION;
		goto out;
	}
	if (uv == 1) {
		st = CTAP2_ERR_INVALID_OPTION;
		goto out;
	}
	if (up == -1)
		up = 1;
	if (pin_param != NULL) {
		if ((st = check_puat(s, proto, cdh, pin_param, BG_SOFT_PERM_GA,
		    rp_hash)) != CTAP2_OK)
			goto out;
		uv_done = true;
	}
	/* locate the credential: the first of ours the policy lets through */
	for (size_t i = 0; allow != NULL && i < cbor_array_size(allow); i++) {
		const cbor_item_t *aid = cred_list_id(allow, i);

		if (aid == NULL || !cred_unwrap(s, cbor_bytestring_handle(aid),
		    cbor_bytestring_length(aid), rp_hash, &c))
			continue;
		/* level 2 needs UV or an allowList: we always have the list */
		if (c.cred_protect == 3 && !uv_done) {
			sodium_memzero(&c, sizeof(c));
			continue;
		}
		cid = aid;
		found = true;
		break;
	}
	if (!found) {
		st = CTAP2_ERR_NO_CREDENTIALS;
		goto out;
	}
	if (hs != NULL && (c.flags & BG_SOFT_CRED_F_HMAC) != 0) {
		if ((st = hmac_secret(s, &h, cbor_bytestring_handle(cid),
		    cbor_bytestring_length(cid), uv_done, hout, &houtlen)) != CTAP2_OK)
			goto out;
	}
	if (up == 1) {
		if ((st = bg_soft_presence(s)) != CTAP2_OK)
			goto out;
		flags |= FLAG_UP;
		puat_consume(s);
	}
	if (uv_done)
		flags |= FLAG_UV;
	if ((r = next_counter(s, &cnt)) != BG_OK) {
		st = r;
		goto out;
	}
	if (houtlen > 0)
		flags |= FLAG_ED;
	memcpy(ad, rp_hash, 32);
	ad[32] = flags;
	put_be32(ad + 33, cnt);
	adlen = 37;
	if (houtlen > 0) {
		bg_cbw_init(&aw, ad + adlen, sizeof(ad) - adlen);
		bg_cbw_map(&aw, 1);
		bg_cbw_text(&aw, "hmac-secret");
		bg_cbw_bytes(&aw, hout, houtlen);
		if (aw.err) {
			st = CTAP1_ERR_OTHER;
			goto out;
		}
		adlen += aw.len;
	}
	if ((r = cred_sign(&c, ad, adlen, cdh, 32, sig, &siglen)) != BG_OK) {
		st = r;
		goto out;
	}
	bg_cbw_map(w, 3);
	bg_cbw_uint(w, 1);
	bg_cbw_map(w, 2);
	bg_cbw_text(w, "id");
	bg_cbw_bytes(w, cbor_bytestring_handle(cid), cbor_bytestring_length(cid));
	bg_cbw_text(w, "type");
	bg_cbw_text(w, "public-key");
	bg_cbw_uint(w, 2);
	bg_cbw_bytes(w, ad, adlen);
	bg_cbw_uint(w, 3);
	bg_cbw_bytes(w, sig, siglen);
	st = CTAP2_OK;
out:
	sodium_memzero(&c, sizeof(c));
	sodium_memzero(hout, sizeof(hout));
	return st;
}

/* ===================================================================== */
/* authenticatorGetInfo, authenticatorReset, authenticatorSelection       */

/* The AAGUID the token reports: its attestation identity's, if any. */
static const uint8_t *
soft_aaguid(const bg_soft_t *s)
{
	return s->att.on ? s->att.aaguid : bg_soft_aaguid;
}

static int
cmd_get_info(bg_soft_t *s, bg_cbw_t *w)
{
	bool pin = pin_uv_supported(s);
	uint8_t pp = s->opts.pin_protocols;
	bool p1 = pp == 0 || (pp & (1u << 1)) != 0;
	bool p2 = pp == 0 || (pp & (1u << 2)) != 0;

	bg_cbw_map(w, pin ? 11 : 9);
	bg_cbw_uint(w, 0x01);			/* versions */
	bg_cbw_array(w, 2);
	bg_cbw_text(w, "FIDO_2_0");
	bg_cbw_text(w, "FIDO_2_1");
	bg_cbw_uint(w, 0x02);			/* extensions */
	bg_cbw_array(w, s->opts.no_cred_protect ? 1 : 2);
	if (!s->opts.no_cred_protect)
		bg_cbw_text(w, "credProtect");
	bg_cbw_text(w, "hmac-secret");
	bg_cbw_uint(w, 0x03);			/* aaguid */
	bg_cbw_bytes(w, soft_aaguid(s), BG_SOFT_AAGUID_LEN);
	bg_cbw_uint(w, 0x04);			/* options */
	bg_cbw_map(w, pin ? 4 : 2);
	bg_cbw_text(w, "rk");
	bg_cbw_bool(w, false);
	bg_cbw_text(w, "up");
	bg_cbw_bool(w, true);
	if (pin) {
		bg_cbw_text(w, "clientPin");
		bg_cbw_bool(w, s->ps.pin_set);
		bg_cbw_text(w, "pinUvAuthToken");
		bg_cbw_bool(w, true);
	}
	bg_cbw_uint(w, 0x05);			/* maxMsgSize */
	bg_cbw_uint(w, BG_SOFT_MAX_MSG);
	if (pin) {
		bg_cbw_uint(w, 0x06);		/* pinUvAuthProtocols */
		bg_cbw_array(w, (size_t)p1 + (size_t)p2);
		if (p2)
			bg_cbw_uint(w, 2);
		if (p1)
			bg_cbw_uint(w, 1);
	}
	bg_cbw_uint(w, 0x07);			/* maxCredentialCountInList */
	bg_cbw_uint(w, BG_SOFT_MAX_CRED_LIST);
	bg_cbw_uint(w, 0x08);			/* maxCredentialIdLength */
	bg_cbw_uint(w, BG_SOFT_MAX_CRED_ID);
	bg_cbw_uint(w, 0x0A);			/* algorithms */
	bg_cbw_array(w, 2);
	bg_cbw_map(w, 2);
	bg_cbw_text(w, "alg");
	bg_cbw_int(w, COSE_ES256);
	bg_cbw_text(w, "type");
	bg_cbw_text(w, "public-key");
	bg_cbw_map(w, 2);
	bg_cbw_text(w, "alg");
	bg_cbw_int(w, COSE_EDDSA);
	bg_cbw_text(w, "type");
	bg_cbw_text(w, "public-key");
	if (pin) {
		bg_cbw_uint(w, 0x0D);		/* minPINLength */
		bg_cbw_uint(w, BG_SOFT_MIN_PIN_CP);
	}
	bg_cbw_uint(w, 0x0E);			/* firmwareVersion */
	bg_cbw_uint(w, 1);
	return CTAP2_OK;
}

static int
cmd_reset(bg_soft_t *s)
{
	int st, r;
	uint64_t now = bg_soft_now(s);

	if (now < s->power_on_ms || now - s->power_on_ms > BG_SOFT_RESET_WINDOW_MS)
		return CTAP2_ERR_NOT_ALLOWED;
	if ((st = bg_soft_presence(s)) != CTAP2_OK)
		return st;
	bg_soft_rand(s, s->sec->master, BG_SOFT_MASTER_LEN);
	sodium_memzero(s->sec->pin_hash, BG_SOFT_PIN_HASH_LEN);
	s->ps.pin_set = false;
	s->ps.retries = BG_SOFT_MAX_RETRIES;
	/* the counter stays: it must never go backwards */
	s->mismatches = 0;
	bg_soft_puat_reset(s);
	if (bg_soft_pp_regenerate(s) != BG_OK)
		return CTAP1_ERR_OTHER;
	if ((r = bg_soft_commit(s)) != BG_OK)
		return r;
	return CTAP2_OK;
}

/* ===================================================================== */
/* dispatch                                                              */

int
bg_soft_ctap2(bg_soft_t *soft, const uint8_t *req, size_t req_len,
    uint8_t *resp, size_t resp_cap, size_t *resp_len)
{
	int r = BG_ERR_INTERNAL, st;
	cbor_item_t *params = NULL;
	bg_cbw_t w;

	if (resp_len != NULL)
		*resp_len = 0;
	if (soft == NULL || (req == NULL && req_len > 0) || resp == NULL ||
	    resp_len == NULL || resp_cap < 1) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	bg_cbw_init(&w, resp + 1, resp_cap - 1);
	if (soft->broken) {
		st = BG_ERR_IO;
	} else if (req_len == 0) {
		st = CTAP1_ERR_INVALID_LENGTH;
	} else if (req_len > BG_SOFT_MAX_MSG) {
		st = CTAP2_ERR_REQUEST_TOO_LARGE;
	} else {
		switch (req[0]) {
		case CTAP_CMD_GET_INFO:
		case CTAP_CMD_RESET:
		case CTAP_CMD_SELECTION:
			if (req_len != 1)
				st = CTAP1_ERR_INVALID_LENGTH;
			else if (req[0] == CTAP_CMD_GET_INFO)
				st = cmd_get_info(soft, &w);
			else if (req[0] == CTAP_CMD_RESET)
				st = cmd_reset(soft);
			else
				st = bg_soft_presence(soft);
			break;
		case CTAP_CMD_MAKE_CREDENTIAL:
		case CTAP_CMD_GET_ASSERTION:
		case CTAP_CMD_CLIENT_PIN:
			if (req[0] == CTAP_CMD_CLIENT_PIN && !pin_uv_supported(soft)) {
				st = CTAP1_ERR_INVALID_COMMAND;
				break;
			}
			if ((st = bg_soft_cbor_parse_map(req + 1, req_len - 1,
			    &params)) != CTAP2_OK)
				break;
			if (req[0] == CTAP_CMD_MAKE_CREDENTIAL)
				st = cmd_make_credential(soft, params, &w);
			else if (req[0] == CTAP_CMD_GET_ASSERTION)
				st = cmd_get_assertion(soft, params, &w);
			else
				st = bg_soft_client_pin(soft, params, &w);
			break;
		default:
			st = CTAP1_ERR_INVALID_COMMAND;
			break;
		}
	}
	if (st < 0) {
		/* outside CTAP: the state could not be kept */
		resp[0] = CTAP1_ERR_OTHER;
		*resp_len = 1;
		r = st;
		goto out;
	}
	if (st == CTAP2_OK && w.err)
		st = CTAP1_ERR_OTHER;
	resp[0] = (uint8_t)st;
	*resp_len = st == CTAP2_OK ? 1 + w.len : 1;
	if (st != CTAP2_OK)
		sodium_memzero(resp + 1, resp_cap - 1);
	r = BG_OK;
out:
	if (params != NULL)
		cbor_decref(&params);
	return r;
}
