/*
 * Crypto for the software authenticator.  P-256 (ECDH for the PIN/UV auth
 * protocols, ECDSA for ES256 credentials) and AES-256-CBC come from
 * OpenSSL's libcrypto because CTAP requires them; SHA-256, HMAC-SHA-256 and
 * HKDF (built from HMAC exactly as RFC 5869 says) from libsodium.
 */
#include <limits.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <sodium.h>

#include "breakglass/err.h"
#include "soft/soft_int.h"

static int
p256_fromdata(const BIGNUM *priv, const uint8_t pub[65], EVP_PKEY **pkeyp)
{
	int r = BG_ERR_CRYPTO;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;

	*pkeyp = NULL;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	    "prime256v1", 0) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
	    pub, 65) != 1)
		goto out;
	if (priv != NULL && OSSL_PARAM_BLD_push_BN(bld,
	    OSSL_PKEY_PARAM_PRIV_KEY, priv) != 1)
		goto out;
	if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1)
		goto out;
	if (EVP_PKEY_fromdata(ctx, &pkey, priv != NULL ? EVP_PKEY_KEYPAIR :
	    EVP_PKEY_PUBLIC_KEY, params) != 1) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	*pkeyp = pkey;
	pkey = NULL;
	r = BG_OK;
out:
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);	/* a secure BN's copy is cleared here */
	OSSL_PARAM_BLD_free(bld);
	return r;
}

int
bg_soft_p256_priv(const uint8_t d[32], EVP_PKEY **pkeyp, uint8_t x[32],
    uint8_t y[32])
{
	int r = BG_ERR_CRYPTO;
	EC_GROUP *group = NULL;
	EC_POINT *pub = NULL;
	BIGNUM *priv = NULL;
	BN_CTX *bnctx = NULL;
	uint8_t oct[65];

	*pkeyp = NULL;
	if ((group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1)) == NULL ||
	    (bnctx = BN_CTX_new()) == NULL ||
	    (priv = BN_secure_new()) == NULL ||
	    BN_bin2bn(d, 32, priv) == NULL)
		goto out;
	if (BN_is_zero(priv) || BN_cmp(priv, EC_GROUP_get0_order(group)) >= 0) {
		r = BG_ERR_RANGE;
		goto out;
	}
	if ((pub = EC_POINT_new(group)) == NULL ||
	    EC_POINT_mul(group, pub, priv, NULL, NULL, bnctx) != 1 ||
	    EC_POINT_point2oct(group, pub, POINT_CONVERSION_UNCOMPRESSED,
	    oct, sizeof(oct), bnctx) != sizeof(oct))
		goto out;
	if ((r = p256_fromdata(priv, oct, pkeyp)) != BG_OK)
		goto out;
	memcpy(x, oct + 1, 32);
	memcpy(y, oct + 33, 32);
	r = BG_OK;
out:
	BN_clear_free(priv);
	BN_CTX_free(bnctx);
	EC_POINT_free(pub);
	EC_GROUP_free(group);
	return r;
}

int
bg_soft_p256_pub(const uint8_t x[32], const uint8_t y[32], EVP_PKEY **pkeyp)
{
	int r = BG_ERR_CRYPTO;
	EVP_PKEY *pkey = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	uint8_t oct[65];

	*pkeyp = NULL;
	oct[0] = 0x04;
	memcpy(oct + 1, x, 32);
	memcpy(oct + 33, y, 32);
	if ((r = p256_fromdata(NULL, oct, &pkey)) != BG_OK)
		goto out;
	/* fromdata already decodes the point onto the curve; check anyway. */
	if ((ctx = EVP_PKEY_CTX_new(pkey, NULL)) == NULL) {
		r = BG_ERR_CRYPTO;
		goto out;
	}
	if (EVP_PKEY_public_check(ctx) != 1) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	*pkeyp = pkey;
	pkey = NULL;
	r = BG_OK;
out:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	return r;
}

int
bg_soft_p256_xy(EVP_PKEY *pkey, uint8_t x[32], uint8_t y[32])
{
	int r = BG_ERR_CRYPTO;
	uint8_t oct[65];
	size_t len = 0;

	if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY,
	    oct, sizeof(oct), &len) != 1 || len != sizeof(oct) || oct[0] != 0x04)
		goto out;
	memcpy(x, oct + 1, 32);
	memcpy(y, oct + 33, 32);
	r = BG_OK;
out:
	return r;
}

int
bg_soft_ecdh(EVP_PKEY *priv, EVP_PKEY *peer, uint8_t z[32])
{
	int r = BG_ERR_CRYPTO;
	EVP_PKEY_CTX *ctx = NULL;
	size_t len = 32;

	if ((ctx = EVP_PKEY_CTX_new(priv, NULL)) == NULL ||
	    EVP_PKEY_derive_init(ctx) != 1 ||
	    EVP_PKEY_derive_set_peer(ctx, peer) != 1 ||
	    EVP_PKEY_derive(ctx, z, &len) != 1 || len != 32) {
		sodium_memzero(z, 32);
		goto out;
	}
	r = BG_OK;
out:
	EVP_PKEY_CTX_free(ctx);
	return r;
}

int
bg_soft_es256_sign(EVP_PKEY *priv, const uint8_t *m, size_t mlen,
    uint8_t sig[72], size_t *siglen)
{
	int r = BG_ERR_CRYPTO;
	EVP_MD_CTX *mctx = NULL;
	size_t len = 72;

	*siglen = 0;
	if ((mctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(mctx, NULL, EVP_sha256(), NULL, priv) != 1 ||
	    EVP_DigestSign(mctx, sig, &len, m, mlen) != 1 || len > 72)
		goto out;
	*siglen = len;
	r = BG_OK;
out:
	EVP_MD_CTX_free(mctx);
	return r;
}

int
bg_soft_aes256_cbc(bool enc, const uint8_t key[32], const uint8_t iv[16],
    const uint8_t *in, size_t len, uint8_t *out)
{
	int r = BG_ERR_CRYPTO;
	EVP_CIPHER_CTX *ctx = NULL;
	int n = 0, fin = 0;

	if (len % 16 != 0 || len > INT_MAX) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_CipherInit_ex(ctx, EVP_aes_256_cbc(), NULL, key, iv,
	    enc ? 1 : 0) != 1 ||
	    EVP_CIPHER_CTX_set_padding(ctx, 0) != 1 ||
	    EVP_CipherUpdate(ctx, out, &n, in, (int)len) != 1 ||
	    EVP_CipherFinal_ex(ctx, out + n, &fin) != 1 ||
	    (size_t)n + (size_t)fin != len)
		goto out;
	r = BG_OK;
out:
	EVP_CIPHER_CTX_free(ctx);	/* cleans the key schedule */
	return r;
}

void
bg_soft_hmac(const uint8_t *key, size_t keylen, const uint8_t *m1, size_t l1,
    const uint8_t *m2, size_t l2, uint8_t out[32])
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, key, keylen);
	if (l1 > 0)
		crypto_auth_hmacsha256_update(&st, m1, l1);
	if (l2 > 0)
		crypto_auth_hmacsha256_update(&st, m2, l2);
	crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(&st, sizeof(st));
}

void
bg_soft_hkdf32(const uint8_t *ikm, size_t ikmlen, const char *info,
    uint8_t out[32])
{
	static const uint8_t zero_salt[32];
	static const uint8_t one = 0x01;
	uint8_t prk[32];
	crypto_auth_hmacsha256_state st;

	/* extract */
	bg_soft_hmac(zero_salt, sizeof(zero_salt), ikm, ikmlen, NULL, 0, prk);
	/* expand, one block: T(1) = HMAC(PRK, info | 0x01) */
	crypto_auth_hmacsha256_init(&st, prk, sizeof(prk));
	sodium_memzero(prk, sizeof(prk));
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)info, strlen(info));
	crypto_auth_hmacsha256_update(&st, &one, 1);
	crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(&st, sizeof(st));
}
