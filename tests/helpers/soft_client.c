/*
 * Platform side of CTAP 2.1 for the software authenticator's unit tests.
 * Deliberately shares no code with tokenctl/soft/: P-256, AES-CBC, HKDF
 * and HMAC come from OpenSSL here (the core uses libsodium for the
 * hashes), so the two sides check each other.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <sodium.h>

#include "soft/soft.h"
#include "soft_client.h"

#define SC_VERIFY_FAILED	0x100

/* --- environment ------------------------------------------------------- */

static void
tok_random(void *ctx, uint8_t *buf, size_t len)
{
	sc_tok_t *t = ctx;
	uint8_t nonce[crypto_stream_chacha20_NONCEBYTES] = { 0 };

	for (size_t i = 0; i < 8 && i < sizeof(nonce); i++)
		nonce[i] = (uint8_t)(t->rnd_calls >> (8 * i));
	t->rnd_calls++;
	crypto_stream_chacha20(buf, len, nonce, t->seed);
}

static int
tok_save(void *ctx, const uint8_t *blob, size_t len)
{
	sc_tok_t *t = ctx;

	if (t->fail_save || len > sizeof(t->state))
		return -1;
	memcpy(t->state, blob, len);
	t->state_len = len;
	t->saves++;
	return 0;
}

static uint64_t
tok_now(void *ctx)
{
	return ((sc_tok_t *)ctx)->now;
}

static int
tok_presence(void *ctx)
{
	sc_tok_t *t = ctx;

	t->presence_calls++;
	return t->presence;
}

static int
tok_load(sc_tok_t *t)
{
	bg_soft_env_t env = {
		.random = tok_random, .save = tok_save, .now_ms = tok_now,
		.presence = tok_presence, .ctx = t,
	};

	return bg_soft_new(&env, &t->opts, t->state, t->state_len, &t->soft);
}

int
sc_tok_open(sc_tok_t *t, uint8_t seed, const bg_soft_opts_t *opts)
{
	uint8_t *blob = NULL;
	size_t len = 0;
	int r;

	memset(t, 0, sizeof(*t));
	if (sodium_init() < 0)
		return -1;
	memset(t->seed, seed, sizeof(t->seed));
	t->now = 1000;
	t->presence = BG_SOFT_UP_GRANTED;
	if (opts != NULL)
		t->opts = *opts;
	if ((r = bg_soft_state_create(tok_random, t, &blob, &len)) != 0)
		return r;
	if (len > sizeof(t->state)) {
		sodium_free(blob);
		return -1;
	}
	memcpy(t->state, blob, len);
	t->state_len = len;
	sodium_free(blob);
	return tok_load(t);
}

int
sc_tok_reopen(sc_tok_t *t)
{
	bg_soft_free(&t->soft);
	return tok_load(t);
}

void
sc_tok_close(sc_tok_t *t)
{
	bg_soft_free(&t->soft);
}

int
sc_raw(sc_tok_t *t, const uint8_t *req, size_t len, uint8_t *resp,
    size_t *resp_len)
{
	if (bg_soft_ctap2(t->soft, req, len, resp, 2048, resp_len) != 0)
		return -1;
	return resp[0];
}

int
sc_cmd(sc_tok_t *t, uint8_t cmd, const cbor_item_t *params,
    cbor_item_t **respp)
{
	unsigned char *buf = NULL;
	size_t buflen = 0, n = 0, rlen = 0;
	uint8_t *req = NULL, resp[2048];
	struct cbor_load_result res;
	int st = -1;

	if (respp != NULL)
		*respp = NULL;
	if (params != NULL && (n = cbor_serialize_alloc(params, &buf, &buflen)) == 0)
		goto out;
	if ((req = malloc(n + 1)) == NULL)
		goto out;
	req[0] = cmd;
	if (n > 0)
		memcpy(req + 1, buf, n);
	if ((st = sc_raw(t, req, n + 1, resp, &rlen)) != 0)
		goto out;
	if (respp != NULL && rlen > 1) {
		*respp = cbor_load(resp + 1, rlen - 1, &res);
		if (*respp == NULL || res.read != rlen - 1)
			st = SC_VERIFY_FAILED;
	}
out:
	free(buf);
	free(req);
	return st;
}

/* --- CBOR ---------------------------------------------------------------- */

cbor_item_t *
sc_int(int64_t v)
{
	cbor_item_t *it;
	uint64_t u = v >= 0 ? (uint64_t)v : (uint64_t)(-(v + 1));

	if (u <= 0xff)
		it = v >= 0 ? cbor_build_uint8((uint8_t)u) : cbor_build_negint8((uint8_t)u);
	else if (u <= 0xffff)
		it = v >= 0 ? cbor_build_uint16((uint16_t)u) : cbor_build_negint16((uint16_t)u);
	else if (u <= 0xffffffffULL)
		it = v >= 0 ? cbor_build_uint32((uint32_t)u) : cbor_build_negint32((uint32_t)u);
	else
		it = v >= 0 ? cbor_build_uint64(u) : cbor_build_negint64(u);
	return it;
}

cbor_item_t *
sc_bytes(const uint8_t *b, size_t n)
{
	return cbor_build_bytestring(b, n);
}

cbor_item_t *
sc_text(const char *s)
{
	return cbor_build_string(s);
}

void
sc_put(cbor_item_t *m, int64_t k, cbor_item_t *v)
{
	(void)cbor_map_add(m, (struct cbor_pair){ .key = cbor_move(sc_int(k)),
	    .value = cbor_move(v) });
}

void
sc_puts(cbor_item_t *m, const char *k, cbor_item_t *v)
{
	(void)cbor_map_add(m, (struct cbor_pair){ .key = cbor_move(sc_text(k)),
	    .value = cbor_move(v) });
}

cbor_item_t *
sc_get(const cbor_item_t *m, int64_t k)
{
	struct cbor_pair *p;

	if (m == NULL || !cbor_isa_map(m))
		return NULL;
	p = cbor_map_handle(m);
	for (size_t i = 0; i < cbor_map_size(m); i++) {
		if (k >= 0 && cbor_isa_uint(p[i].key) &&
		    cbor_get_int(p[i].key) == (uint64_t)k)
			return p[i].value;
		if (k < 0 && cbor_isa_negint(p[i].key) &&
		    cbor_get_int(p[i].key) == (uint64_t)(-(k + 1)))
			return p[i].value;
	}
	return NULL;
}

cbor_item_t *
sc_gets(const cbor_item_t *m, const char *k)
{
	struct cbor_pair *p;
	size_t n = strlen(k);

	if (m == NULL || !cbor_isa_map(m))
		return NULL;
	p = cbor_map_handle(m);
	for (size_t i = 0; i < cbor_map_size(m); i++)
		if (cbor_isa_string(p[i].key) && cbor_string_length(p[i].key) == n &&
		    memcmp(cbor_string_handle(p[i].key), k, n) == 0) /* public: test keys */
			return p[i].value;
	return NULL;
}

int64_t
sc_uintval(const cbor_item_t *it)
{
	if (it == NULL || !cbor_isa_uint(it))
		return -1;
	return (int64_t)cbor_get_int(it);
}

/* --- crypto -------------------------------------------------------------- */

static EVP_PKEY *
p256_pub(const uint8_t x[32], const uint8_t y[32])
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pk = NULL;
	uint8_t oct[65];

	oct[0] = 4;
	memcpy(oct + 1, x, 32);
	memcpy(oct + 33, y, 32);
	if (bld == NULL ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, oct, 65) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pk = NULL;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return pk;
}

static int
hkdf(const uint8_t z[32], const char *info, uint8_t out[32])
{
	static const uint8_t salt[32];
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
	size_t len = 32;
	int ok;

	ok = ctx != NULL && EVP_PKEY_derive_init(ctx) == 1 &&
	    EVP_PKEY_CTX_set_hkdf_md(ctx, EVP_sha256()) == 1 &&
	    EVP_PKEY_CTX_set1_hkdf_salt(ctx, salt, 32) == 1 &&
	    EVP_PKEY_CTX_set1_hkdf_key(ctx, z, 32) == 1 &&
	    EVP_PKEY_CTX_add1_hkdf_info(ctx, (const unsigned char *)info,
	    (int)strlen(info)) == 1 &&
	    EVP_PKEY_derive(ctx, out, &len) == 1 && len == 32;
	EVP_PKEY_CTX_free(ctx);
	return ok ? 0 : -1;
}

static int
aes_cbc(int enc, const uint8_t key[32], const uint8_t iv[16],
    const uint8_t *in, size_t len, uint8_t *out)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, f = 0, ok;

	ok = ctx != NULL &&
	    EVP_CipherInit_ex(ctx, EVP_aes_256_cbc(), NULL, key, iv, enc) == 1 &&
	    EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
	    EVP_CipherUpdate(ctx, out, &n, in, (int)len) == 1 &&
	    EVP_CipherFinal_ex(ctx, out + n, &f) == 1;
	EVP_CIPHER_CTX_free(ctx);
	return ok ? 0 : -1;
}

cbor_item_t *
sc_pin_cose(const sc_pin_t *p)
{
	cbor_item_t *m = cbor_new_definite_map(5);

	sc_put(m, 1, sc_int(2));
	sc_put(m, 3, sc_int(-25));
	sc_put(m, -1, sc_int(1));
	sc_put(m, -2, sc_bytes(p->x, 32));
	sc_put(m, -3, sc_bytes(p->y, 32));
	return m;
}

int
sc_key_agreement(sc_tok_t *t, int proto, sc_pin_t *p)
{
	cbor_item_t *req = cbor_new_definite_map(2), *resp = NULL, *k;
	EVP_PKEY *mine = NULL, *peer = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	uint8_t oct[65], z[32];
	size_t len = 0, zlen = 32;
	int st;

	memset(p, 0, sizeof(*p));
	p->proto = proto;
	sc_put(req, 1, sc_int(proto));
	sc_put(req, 2, sc_int(2));
	if ((st = sc_cmd(t, 0x06, req, &resp)) != 0)
		goto out;
	st = SC_VERIFY_FAILED;
	k = sc_get(resp, 1);
	if (k == NULL || sc_get(k, 3) == NULL || !cbor_isa_negint(sc_get(k, 3)) ||
	    cbor_get_int(sc_get(k, 3)) != 24 || sc_uintval(sc_get(k, 1)) != 2 ||
	    sc_uintval(sc_get(k, -1)) != 1 ||
	    cbor_bytestring_length(sc_get(k, -2)) != 32 ||
	    cbor_bytestring_length(sc_get(k, -3)) != 32)
		goto out;
	if ((peer = p256_pub(cbor_bytestring_handle(sc_get(k, -2)),
	    cbor_bytestring_handle(sc_get(k, -3)))) == NULL ||
	    (mine = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL ||
	    EVP_PKEY_get_octet_string_param(mine, OSSL_PKEY_PARAM_PUB_KEY, oct,
	    sizeof(oct), &len) != 1 || len != 65 ||
	    (ctx = EVP_PKEY_CTX_new(mine, NULL)) == NULL ||
	    EVP_PKEY_derive_init(ctx) != 1 ||
	    EVP_PKEY_derive_set_peer(ctx, peer) != 1 ||
	    EVP_PKEY_derive(ctx, z, &zlen) != 1 || zlen != 32)
		goto out;
	memcpy(p->x, oct + 1, 32);
	memcpy(p->y, oct + 33, 32);
	if (proto == 1) {
		SHA256(z, 32, p->shared);
		memcpy(p->shared + 32, p->shared, 32);
	} else if (hkdf(z, "CTAP2 HMAC key", p->shared) != 0 ||
	    hkdf(z, "CTAP2 AES key", p->shared + 32) != 0)
		goto out;
	st = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(mine);
	EVP_PKEY_free(peer);
	if (resp != NULL)
		cbor_decref(&resp);
	cbor_decref(&req);
	return st;
}

size_t
sc_encrypt(const sc_pin_t *p, const uint8_t *pt, size_t len, uint8_t *out)
{
	static const uint8_t zero[16];

	if (p->proto == 1)
		return aes_cbc(1, p->shared + 32, zero, pt, len, out) == 0 ? len : 0;
	if (RAND_bytes(out, 16) != 1)
		return 0;
	return aes_cbc(1, p->shared + 32, out, pt, len, out + 16) == 0 ?
	    len + 16 : 0;
}

int
sc_decrypt(const sc_pin_t *p, const uint8_t *ct, size_t len, uint8_t *out,
    size_t *outlen)
{
	static const uint8_t zero[16];
	size_t off = p->proto == 2 ? 16 : 0;

	*outlen = 0;
	if (len < off || (len - off) % 16 != 0)
		return -1;
	if (aes_cbc(0, p->shared + 32, off ? ct : zero, ct + off, len - off,
	    out) != 0)
		return -1;
	*outlen = len - off;
	return 0;
}

size_t
sc_authenticate(int proto, const uint8_t key[32], const uint8_t *m1,
    size_t l1, const uint8_t *m2, size_t l2, uint8_t out[32])
{
	uint8_t *m = malloc(l1 + l2 + 1);
	unsigned int n = 32;

	if (m == NULL)
		return 0;
	if (l1)
		memcpy(m, m1, l1);
	if (l2)
		memcpy(m + l1, m2, l2);
	if (HMAC(EVP_sha256(), key, 32, m, l1 + l2, out, &n) == NULL)
		n = 0;
	free(m);
	return proto == 1 ? 16 : n;
}

/* --- clientPIN ----------------------------------------------------------- */

int
sc_set_pin_padded(sc_tok_t *t, int proto, const uint8_t padded[64])
{
	sc_pin_t p;
	cbor_item_t *req = NULL;
	uint8_t enc[80], auth[32];
	size_t n, an;
	int st;

	if ((st = sc_key_agreement(t, proto, &p)) != 0)
		return st;
	n = sc_encrypt(&p, padded, 64, enc);
	an = sc_authenticate(proto, p.shared, enc, n, NULL, 0, auth);
	req = cbor_new_definite_map(5);
	sc_put(req, 1, sc_int(proto));
	sc_put(req, 2, sc_int(3));
	sc_put(req, 3, sc_pin_cose(&p));
	sc_put(req, 4, sc_bytes(auth, an));
	sc_put(req, 5, sc_bytes(enc, n));
	st = sc_cmd(t, 0x06, req, NULL);
	cbor_decref(&req);
	return st;
}

static void
pad_pin(const char *pin, uint8_t padded[64])
{
	size_t n = strlen(pin);

	memset(padded, 0, 64);
	memcpy(padded, pin, n > 64 ? 64 : n);
}

int
sc_set_pin(sc_tok_t *t, int proto, const char *pin)
{
	uint8_t padded[64];

	pad_pin(pin, padded);
	return sc_set_pin_padded(t, proto, padded);
}

static void
pin_hash_enc(const sc_pin_t *p, const char *pin, uint8_t *enc, size_t *n)
{
	uint8_t h[32];

	SHA256((const uint8_t *)pin, strlen(pin), h);
	*n = sc_encrypt(p, h, 16, enc);
}

int
sc_change_pin(sc_tok_t *t, int proto, const char *cur, const char *pin)
{
	sc_pin_t p;
	cbor_item_t *req;
	uint8_t padded[64], npe[80], phe[32], auth[32];
	size_t nn, pn, an;
	int st;

	if ((st = sc_key_agreement(t, proto, &p)) != 0)
		return st;
	pad_pin(pin, padded);
	nn = sc_encrypt(&p, padded, 64, npe);
	pin_hash_enc(&p, cur, phe, &pn);
	an = sc_authenticate(proto, p.shared, npe, nn, phe, pn, auth);
	req = cbor_new_definite_map(6);
	sc_put(req, 1, sc_int(proto));
	sc_put(req, 2, sc_int(4));
	sc_put(req, 3, sc_pin_cose(&p));
	sc_put(req, 4, sc_bytes(auth, an));
	sc_put(req, 5, sc_bytes(npe, nn));
	sc_put(req, 6, sc_bytes(phe, pn));
	st = sc_cmd(t, 0x06, req, NULL);
	cbor_decref(&req);
	return st;
}

int
sc_get_token(sc_tok_t *t, int proto, const char *pin, uint8_t perms,
    const char *rpid, uint8_t token[32])
{
	sc_pin_t p;
	cbor_item_t *req, *resp = NULL, *enc;
	uint8_t phe[32], dec[64];
	size_t pn, dn = 0;
	int st;

	memset(token, 0, 32);
	if ((st = sc_key_agreement(t, proto, &p)) != 0)
		return st;
	pin_hash_enc(&p, pin, phe, &pn);
	req = cbor_new_definite_map(6);
	sc_put(req, 1, sc_int(proto));
	sc_put(req, 2, sc_int(perms != 0 || rpid != NULL ? 9 : 5));
	sc_put(req, 3, sc_pin_cose(&p));
	sc_put(req, 6, sc_bytes(phe, pn));
	if (perms != 0)
		sc_put(req, 9, sc_int(perms));
	if (rpid != NULL)
		sc_put(req, 10, sc_text(rpid));
	if ((st = sc_cmd(t, 0x06, req, &resp)) != 0)
		goto out;
	st = SC_VERIFY_FAILED;
	enc = sc_get(resp, 2);
	if (enc == NULL || !cbor_isa_bytestring(enc) ||
	    cbor_bytestring_length(enc) != (proto == 2 ? 48u : 32u) ||
	    sc_decrypt(&p, cbor_bytestring_handle(enc),
	    cbor_bytestring_length(enc), dec, &dn) != 0 || dn != 32)
		goto out;
	memcpy(token, dec, 32);
	st = 0;
out:
	if (resp != NULL)
		cbor_decref(&resp);
	cbor_decref(&req);
	return st;
}

int
sc_pin_retries(sc_tok_t *t, int *retries, bool *power_cycle)
{
	cbor_item_t *req = cbor_new_definite_map(1), *resp = NULL;
	int st;

	*retries = -1;
	*power_cycle = false;
	sc_put(req, 2, sc_int(1));
	if ((st = sc_cmd(t, 0x06, req, &resp)) == 0) {
		*retries = (int)sc_uintval(sc_get(resp, 3));
		if (sc_get(resp, 4) == NULL || !cbor_is_bool(sc_get(resp, 4)))
			st = SC_VERIFY_FAILED;
		else
			*power_cycle = cbor_get_bool(sc_get(resp, 4));
	}
	if (resp != NULL)
		cbor_decref(&resp);
	cbor_decref(&req);
	return st;
}

/* --- makeCredential / getAssertion ------------------------------------ */

bool
sc_verify(int alg, const uint8_t *pk, const uint8_t *m, size_t mlen,
    const uint8_t *sig, size_t siglen)
{
	EVP_PKEY *k;
	EVP_MD_CTX *md;
	bool ok = false;

	if (alg == -8)
		return siglen == crypto_sign_BYTES &&
		    crypto_sign_verify_detached(sig, m, mlen, pk) == 0;
	if ((k = p256_pub(pk, pk + 32)) == NULL)
		return false;
	if ((md = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, k) == 1 &&
	    EVP_DigestVerify(md, sig, siglen, m, mlen) == 1)
		ok = true;
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(k);
	return ok;
}

cbor_item_t *
sc_mc_request(const sc_mc_t *a, const uint8_t cdh[32])
{
	cbor_item_t *req = cbor_new_definite_map(9), *rp, *user, *params, *pp;
	static const uint8_t uid[] = { 'u', 's', 'e', 'r', '-', '1' };
	size_t next = 0;

	sc_put(req, 1, sc_bytes(cdh, 32));
	rp = cbor_new_definite_map(2);
	sc_puts(rp, "id", sc_text(a->rpid));
	sc_puts(rp, "name", sc_text("Test RP"));
	sc_put(req, 2, rp);
	user = cbor_new_definite_map(3);
	sc_puts(user, "id", sc_bytes(uid, sizeof(uid)));
	sc_puts(user, "name", sc_text("alice"));
	sc_puts(user, "displayName", sc_text("Alice"));
	sc_put(req, 3, user);
	params = cbor_new_definite_array(1);
	pp = cbor_new_definite_map(2);
	sc_puts(pp, "alg", sc_int(a->alg != 0 ? a->alg : -7));
	sc_puts(pp, "type", sc_text("public-key"));
	(void)cbor_array_push(params, cbor_move(pp));
	sc_put(req, 4, params);
	if (a->excl_id != NULL) {
		cbor_item_t *l = cbor_new_definite_array(1);
		cbor_item_t *d = cbor_new_definite_map(2);

		sc_puts(d, "id", sc_bytes(a->excl_id, a->excl_len));
		sc_puts(d, "type", sc_text("public-key"));
		(void)cbor_array_push(l, cbor_move(d));
		sc_put(req, 5, l);
	}
	if (a->hmac_secret || a->cred_protect != 0) {
		cbor_item_t *e = cbor_new_definite_map(2);

		if (a->cred_protect != 0)
			sc_puts(e, "credProtect", sc_int(a->cred_protect));
		if (a->hmac_secret)
			sc_puts(e, "hmac-secret", cbor_build_bool(true));
		sc_put(req, 6, e);
	}
	if (a->opt_key != NULL) {
		cbor_item_t *o = cbor_new_definite_map(1);

		sc_puts(o, a->opt_key, cbor_build_bool(a->opt_val));
		sc_put(req, 7, o);
	}
	if (a->proto != 0) {
		uint8_t auth[32];
		size_t an = a->token != NULL ?
		    sc_authenticate(a->proto, a->token, cdh, 32, NULL, 0, auth) : 0;

		sc_put(req, 8, sc_bytes(auth, an));
		sc_put(req, 9, sc_int(a->proto));
	}
	(void)next;
	return req;
}

static bool
parse_cose(const uint8_t *b, size_t len, int *alg, uint8_t pk[64], size_t *used)
{
	struct cbor_load_result res;
	cbor_item_t *k = cbor_load(b, len, &res);
	bool ok = false;

	if (k == NULL)
		return false;
	*used = res.read;
	if (sc_get(k, 3) != NULL && cbor_isa_negint(sc_get(k, 3))) {
		*alg = -1 - (int)cbor_get_int(sc_get(k, 3));
		if (*alg == -7 && sc_uintval(sc_get(k, 1)) == 2 &&
		    sc_uintval(sc_get(k, -1)) == 1 &&
		    cbor_bytestring_length(sc_get(k, -2)) == 32 &&
		    cbor_bytestring_length(sc_get(k, -3)) == 32) {
			memcpy(pk, cbor_bytestring_handle(sc_get(k, -2)), 32);
			memcpy(pk + 32, cbor_bytestring_handle(sc_get(k, -3)), 32);
			ok = cbor_map_size(k) == 5;
		} else if (*alg == -8 && sc_uintval(sc_get(k, 1)) == 1 &&
		    sc_uintval(sc_get(k, -1)) == 6 &&
		    cbor_bytestring_length(sc_get(k, -2)) == 32) {
			memcpy(pk, cbor_bytestring_handle(sc_get(k, -2)), 32);
			ok = cbor_map_size(k) == 4;
		}
	}
	cbor_decref(&k);
	return ok;
}

int
sc_make_cred(sc_tok_t *t, const sc_mc_t *a, sc_cred_t *c)
{
	cbor_item_t *req, *resp = NULL, *ad_it, *att, *fmt, *salg, *sig;
	const uint8_t *ad;
	uint8_t rph[32], *m = NULL;
	size_t adlen, idlen, used = 0;
	int st;

	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < 32; i++)
		c->cdh[i] = (uint8_t)(0xc0 + i);
	req = sc_mc_request(a, c->cdh);
	if ((st = sc_cmd(t, 0x01, req, &resp)) != 0)
		goto out;
	st = SC_VERIFY_FAILED;
	fmt = sc_get(resp, 1);
	ad_it = sc_get(resp, 2);
	att = sc_get(resp, 3);
	if (fmt == NULL || !cbor_isa_string(fmt) || cbor_string_length(fmt) != 6 ||
	    memcmp(cbor_string_handle(fmt), "packed", 6) != 0 || /* public: test */
	    ad_it == NULL || !cbor_isa_bytestring(ad_it) || att == NULL)
		goto out;
	ad = cbor_bytestring_handle(ad_it);
	adlen = cbor_bytestring_length(ad_it);
	SHA256((const uint8_t *)a->rpid, strlen(a->rpid), rph);
	if (adlen < 55 || memcmp(ad, rph, 32) != 0 || /* public: test */
	    memcmp(ad + 37, bg_soft_aaguid, 16) != 0) /* public: test */
		goto out;
	c->flags = ad[32];
	c->counter = (uint32_t)ad[33] << 24 | (uint32_t)ad[34] << 16 |
	    (uint32_t)ad[35] << 8 | ad[36];
	idlen = (size_t)ad[53] << 8 | ad[54];
	if (idlen > sizeof(c->id) || 55 + idlen > adlen)
		goto out;
	memcpy(c->id, ad + 55, idlen);
	c->id_len = idlen;
	if (!parse_cose(ad + 55 + idlen, adlen - 55 - idlen, &c->alg, c->pk, &used))
		goto out;
	salg = sc_gets(att, "alg");
	sig = sc_gets(att, "sig");
	if (salg == NULL || !cbor_isa_negint(salg) ||
	    -1 - (int)cbor_get_int(salg) != c->alg || sig == NULL ||
	    cbor_map_size(att) != 2)
		goto out;
	if ((m = malloc(adlen + 32)) == NULL)
		goto out;
	memcpy(m, ad, adlen);
	memcpy(m + adlen, c->cdh, 32);
	if (!sc_verify(c->alg, c->pk, m, adlen + 32, cbor_bytestring_handle(sig),
	    cbor_bytestring_length(sig)))
		goto out;
	st = 0;
out:
	free(m);
	if (resp != NULL)
		cbor_decref(&resp);
	cbor_decref(&req);
	return st;
}

cbor_item_t *
sc_ga_request(const sc_ga_t *a, const uint8_t cdh[32])
{
	cbor_item_t *req = cbor_new_definite_map(7);

	sc_put(req, 1, sc_text(a->rpid));
	sc_put(req, 2, sc_bytes(cdh, 32));
	if (a->cred != NULL) {
		cbor_item_t *l = cbor_new_definite_array(1);
		cbor_item_t *d = cbor_new_definite_map(2);

		sc_puts(d, "id", sc_bytes(a->cred->id, a->cred->id_len));
		sc_puts(d, "type", sc_text("public-key"));
		(void)cbor_array_push(l, cbor_move(d));
		sc_put(req, 3, l);
	}
	if (a->hs != NULL) {
		cbor_item_t *e = cbor_new_definite_map(1);
		cbor_item_t *h = cbor_new_definite_map(4);
		uint8_t enc[80], auth[32];
		size_t n, an;

		n = sc_encrypt(a->hs, a->salts, a->nsalts, enc);
		an = sc_authenticate(a->hs->proto, a->hs->shared, enc, n, NULL, 0,
		    auth);
		if (a->hs_bad_auth)
			auth[0] ^= 1;
		sc_put(h, 1, sc_pin_cose(a->hs));
		sc_put(h, 2, sc_bytes(enc, n));
		sc_put(h, 3, sc_bytes(auth, an));
		if (!a->hs_omit_proto)
			sc_put(h, 4, sc_int(a->hs->proto));
		sc_puts(e, "hmac-secret", h);
		sc_put(req, 4, e);
	}
	if (a->up != -1) {
		cbor_item_t *o = cbor_new_definite_map(1);

		sc_puts(o, "up", cbor_build_bool(a->up == 1));
		sc_put(req, 5, o);
	}
	if (a->proto != 0) {
		uint8_t auth[32];
		size_t an = a->token != NULL ?
		    sc_authenticate(a->proto, a->token, cdh, 32, NULL, 0, auth) : 0;

		sc_put(req, 6, sc_bytes(auth, an));
		sc_put(req, 7, sc_int(a->proto));
	}
	return req;
}

int
sc_get_assertion(sc_tok_t *t, const sc_ga_t *a, sc_assert_t *out)
{
	cbor_item_t *req, *resp = NULL, *cred, *ad_it, *sig;
	const uint8_t *ad;
	uint8_t cdh[32], rph[32], *m = NULL;
	size_t adlen;
	int st;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < 32; i++)
		cdh[i] = (uint8_t)(0x30 + i);
	req = sc_ga_request(a, cdh);
	if ((st = sc_cmd(t, 0x02, req, &resp)) != 0)
		goto out;
	st = SC_VERIFY_FAILED;
	cred = sc_get(resp, 1);
	ad_it = sc_get(resp, 2);
	sig = sc_get(resp, 3);
	if (cred == NULL || ad_it == NULL || sig == NULL || a->cred == NULL ||
	    cbor_bytestring_length(sc_gets(cred, "id")) != a->cred->id_len ||
	    memcmp(cbor_bytestring_handle(sc_gets(cred, "id")), a->cred->id, a->cred->id_len) != 0) /* public: test */
		goto out;
	ad = cbor_bytestring_handle(ad_it);
	adlen = cbor_bytestring_length(ad_it);
	SHA256((const uint8_t *)a->rpid, strlen(a->rpid), rph);
	if (adlen < 37 || memcmp(ad, rph, 32) != 0) /* public: test */
		goto out;
	out->flags = ad[32];
	out->counter = (uint32_t)ad[33] << 24 | (uint32_t)ad[34] << 16 |
	    (uint32_t)ad[35] << 8 | ad[36];
	if ((m = malloc(adlen + 32)) == NULL)
		goto out;
	memcpy(m, ad, adlen);
	memcpy(m + adlen, cdh, 32);
	if (!sc_verify(a->cred->alg, a->cred->pk, m, adlen + 32,
	    cbor_bytestring_handle(sig), cbor_bytestring_length(sig)))
		goto out;
	if ((out->flags & 0x80) != 0) {
		struct cbor_load_result res;
		cbor_item_t *ext = cbor_load(ad + 37, adlen - 37, &res);
		cbor_item_t *hs = sc_gets(ext, "hmac-secret");
		bool ok = ext != NULL && res.read == adlen - 37 && hs != NULL &&
		    a->hs != NULL && cbor_isa_bytestring(hs) &&
		    cbor_bytestring_length(hs) <= 80 &&
		    sc_decrypt(a->hs, cbor_bytestring_handle(hs),
		    cbor_bytestring_length(hs), out->hmac, &out->hmac_len) == 0;

		if (ext != NULL)
			cbor_decref(&ext);
		if (!ok)
			goto out;
	} else if (adlen != 37)
		goto out;
	st = 0;
out:
	free(m);
	if (resp != NULL)
		cbor_decref(&resp);
	cbor_decref(&req);
	return st;
}
