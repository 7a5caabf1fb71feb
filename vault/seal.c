/*
 * Sealing: membership keys, value AEAD, boxes to X25519 keys, and the
 * canonical associated data every caller binds.
 *
 * Why not crypto_box_seal: sealed boxes take no associated data, and a share
 * must be bound to its record (vault, tenant, secret, version, leaf index,
 * policy hash) so that a share copied onto another row fails to open.  The
 * box here is the same ephemeral-static idea with the AD added: the key
 * hashes the X25519 result together with both public keys (so the key is
 * bound to this recipient and this ephemeral key), and XChaCha20-Poly1305
 * carries the AD with the blob header prepended.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "breakglass/err.h"
#include "seal.h"

#define MEMBER_CTX	"breakglass membership key v1"
#define BOX_CTX		"breakglass box v1"	/* hashed with its NUL */

#define VALUE_HDR_LEN	(1 + BG_SEAL_NONCE_LEN)
#define BOX_HDR_LEN	(1 + BG_SEAL_PK_LEN + BG_SEAL_NONCE_LEN)

/* --- keys -------------------------------------------------------------- */

int
bg_seal_member_keypair(const uint8_t hmac_out[BG_SEAL_HMAC_LEN],
    uint8_t pk[BG_SEAL_PK_LEN], uint8_t *sk)
{
	int r = BG_ERR_INTERNAL;

	if (pk != NULL)
		sodium_memzero(pk, BG_SEAL_PK_LEN);
	if (sk != NULL)
		sodium_memzero(sk, BG_SEAL_SK_LEN);
	if (hmac_out == NULL || pk == NULL || sk == NULL) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	if (crypto_generichash(sk, BG_SEAL_SK_LEN,
	    (const unsigned char *)MEMBER_CTX, sizeof(MEMBER_CTX) - 1,
	    hmac_out, BG_SEAL_HMAC_LEN) != 0 ||
	    crypto_scalarmult_base(pk, sk) != 0) {
		r = BG_ERR_CRYPTO;
		goto out;
	}
	r = BG_OK;
out:
	if (r != BG_OK && pk != NULL && sk != NULL) {
		sodium_memzero(pk, BG_SEAL_PK_LEN);
		sodium_memzero(sk, BG_SEAL_SK_LEN);
	}
	return r;
}

int
bg_seal_keypair(uint8_t pk[BG_SEAL_PK_LEN], uint8_t *sk)
{
	int r = BG_ERR_INTERNAL;

	if (pk == NULL || sk == NULL) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	randombytes_buf(sk, BG_SEAL_SK_LEN);
	if (crypto_scalarmult_base(pk, sk) != 0) {
		r = BG_ERR_CRYPTO;
		goto out;
	}
	r = BG_OK;
out:
	if (r != BG_OK && pk != NULL && sk != NULL) {
		sodium_memzero(pk, BG_SEAL_PK_LEN);
		sodium_memzero(sk, BG_SEAL_SK_LEN);
	}
	return r;
}

int
bg_seal_data_key(uint8_t *key)
{
	if (key == NULL)
		return BG_ERR_INVALID_ARG;
	randombytes_buf(key, BG_SEAL_KEY_LEN);
	return BG_OK;
}

/* The AEAD's associated data: the blob header, then the caller's AD. */
static int
join_ad(const uint8_t *hdr, size_t hdrlen, const uint8_t *ad, size_t adlen,
    uint8_t **outp)
{
	int r = BG_ERR_INTERNAL;
	uint8_t *buf = NULL;

	*outp = NULL;
	if (adlen > SIZE_MAX - hdrlen) {
		r = BG_ERR_RANGE;
		goto out;
	}
	if ((buf = malloc(hdrlen + adlen)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	memcpy(buf, hdr, hdrlen);
	if (adlen != 0)
		memcpy(buf + hdrlen, ad, adlen);
	*outp = buf;
	buf = NULL;
	r = BG_OK;
out:
	free(buf);
	return r;
}

/* --- value blobs ------------------------------------------------------- */

int
bg_seal_value(const uint8_t *key, const uint8_t *pt, size_t ptlen,
    const uint8_t *ad, size_t adlen, uint8_t *blob, size_t blob_cap,
    size_t *blob_len)
{
	int r = BG_ERR_INTERNAL;
	uint8_t *aad = NULL;
	unsigned long long clen = 0;

	if (blob_len != NULL)
		*blob_len = 0;
	if (key == NULL || (pt == NULL && ptlen != 0) ||
	    (ad == NULL && adlen != 0) || blob == NULL || blob_len == NULL) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	if (ptlen > BG_SEAL_MAX_PLAINTEXT ||
	    blob_cap < ptlen + BG_SEAL_VALUE_OVERHEAD) {
		r = BG_ERR_RANGE;
		goto out;
	}
	blob[0] = BG_SEAL_VALUE_V1;
	randombytes_buf(blob + 1, BG_SEAL_NONCE_LEN);
	if ((r = join_ad(blob, VALUE_HDR_LEN, ad, adlen, &aad)) != BG_OK)
		goto out;
	if (crypto_aead_xchacha20poly1305_ietf_encrypt(blob + VALUE_HDR_LEN,
	    &clen, pt, ptlen, aad, VALUE_HDR_LEN + adlen, NULL, blob + 1,
	    key) != 0 || clen != ptlen + BG_SEAL_TAG_LEN) {
		r = BG_ERR_CRYPTO;
		goto out;
	}
	*blob_len = VALUE_HDR_LEN + (size_t)clen;
	r = BG_OK;
out:
	free(aad);
	return r;
}

int
bg_seal_value_open(const uint8_t *key, const uint8_t *blob, size_t bloblen,
    const uint8_t *ad, size_t adlen, uint8_t *pt, size_t pt_cap,
    size_t *pt_len)
{
	int r = BG_ERR_INTERNAL;
	uint8_t *aad = NULL;
	unsigned long long mlen = 0;
	size_t want;

	if (pt_len != NULL)
		*pt_len = 0;
	if (pt != NULL && pt_cap != 0)
		sodium_memzero(pt, pt_cap);
	if (key == NULL || blob == NULL || (ad == NULL && adlen != 0) ||
	    (pt == NULL && pt_cap != 0) || pt_len == NULL) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	if (bloblen < BG_SEAL_VALUE_OVERHEAD || blob[0] != BG_SEAL_VALUE_V1 ||
	    bloblen - BG_SEAL_VALUE_OVERHEAD > BG_SEAL_MAX_PLAINTEXT) {
		r = BG_ERR_AUTH;
		goto out;
	}
	want = bloblen - BG_SEAL_VALUE_OVERHEAD;
	if (pt_cap < want || (pt == NULL && want != 0)) {
		r = BG_ERR_RANGE;
		goto out;
	}
	if ((r = join_ad(blob, VALUE_HDR_LEN, ad, adlen, &aad)) != BG_OK)
		goto out;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &mlen, NULL,
	    blob + VALUE_HDR_LEN, bloblen - VALUE_HDR_LEN, aad,
	    VALUE_HDR_LEN + adlen, blob + 1, key) != 0 || mlen != want) {
		r = BG_ERR_AUTH;
		goto out;
	}
	*pt_len = (size_t)mlen;
	r = BG_OK;
out:
	free(aad);
	if (r != BG_OK && pt != NULL && pt_cap != 0)
		sodium_memzero(pt, pt_cap);
	return r;
}

/* --- box blobs --------------------------------------------------------- */

/*
 * key = BLAKE2b-256(BOX_CTX\0 || shared || eph_pk || pk); refuses an
 * all-zero shared point (pk of small order).  work: 64 bytes of guarded
 * memory, shared at work[0..32), key at work[32..64); shared is wiped here.
 */
static int
box_key(const uint8_t *sk, const uint8_t *peer_pk, const uint8_t *eph_pk,
    const uint8_t *pk, uint8_t *work)
{
	int r = BG_ERR_INTERNAL;
	crypto_generichash_state st;

	if (crypto_scalarmult(work, sk, peer_pk) != 0 ||
	    sodium_is_zero(work, crypto_scalarmult_BYTES)) {
		r = BG_ERR_CRYPTO;
		goto out;
	}
	if (crypto_generichash_init(&st, NULL, 0, BG_SEAL_KEY_LEN) != 0 ||
	    crypto_generichash_update(&st, (const unsigned char *)BOX_CTX,
	    sizeof(BOX_CTX)) != 0 ||
	    crypto_generichash_update(&st, work, 32) != 0 ||
	    crypto_generichash_update(&st, eph_pk, BG_SEAL_PK_LEN) != 0 ||
	    crypto_generichash_update(&st, pk, BG_SEAL_PK_LEN) != 0 ||
	    crypto_generichash_final(&st, work + 32, BG_SEAL_KEY_LEN) != 0) {
		r = BG_ERR_CRYPTO;
		goto out;
	}
	r = BG_OK;
out:
	sodium_memzero(work, 32);
	sodium_memzero(&st, sizeof(st));
	if (r != BG_OK)
		sodium_memzero(work + 32, 32);
	return r;
}

int
bg_seal_eph_init(bg_seal_eph_t *eph)
{
	if (eph == NULL)
		return BG_ERR_INVALID_ARG;
	sodium_memzero(eph, sizeof(*eph));
	randombytes_buf(eph->sk, sizeof(eph->sk));
	if (crypto_scalarmult_base(eph->pk, eph->sk) != 0) {
		sodium_memzero(eph, sizeof(*eph));
		return BG_ERR_CRYPTO;
	}
	return BG_OK;
}

void
bg_seal_eph_clear(bg_seal_eph_t *eph)
{
	if (eph != NULL)
		sodium_memzero(eph, sizeof(*eph));
}

int
bg_seal_box_eph(bg_seal_eph_t *eph, const uint8_t pk[BG_SEAL_PK_LEN],
    const uint8_t *pt, size_t ptlen, const uint8_t *ad, size_t adlen,
    uint8_t *blob, size_t blob_cap, size_t *blob_len)
{
	int r = BG_ERR_INTERNAL;
	uint8_t *aad = NULL;
	unsigned long long clen = 0;

	if (blob_len != NULL)
		*blob_len = 0;
	if (eph == NULL || pk == NULL || (pt == NULL && ptlen != 0) ||
	    (ad == NULL && adlen != 0) || blob == NULL || blob_len == NULL) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	if (ptlen > BG_SEAL_MAX_PLAINTEXT ||
	    blob_cap < ptlen + BG_SEAL_BOX_OVERHEAD) {
		r = BG_ERR_RANGE;
		goto out;
	}
	blob[0] = BG_SEAL_BOX_V1;
	memcpy(blob + 1, eph->pk, BG_SEAL_PK_LEN);
	randombytes_buf(blob + 1 + BG_SEAL_PK_LEN, BG_SEAL_NONCE_LEN);
	if ((r = box_key(eph->sk, pk, eph->pk, pk, eph->work)) != BG_OK)
		goto out;
	if ((r = join_ad(blob, BOX_HDR_LEN, ad, adlen, &aad)) != BG_OK)
		goto out;
	if (crypto_aead_xchacha20poly1305_ietf_encrypt(blob + BOX_HDR_LEN,
	    &clen, pt, ptlen, aad, BOX_HDR_LEN + adlen, NULL,
	    blob + 1 + BG_SEAL_PK_LEN, eph->work + 32) != 0 ||
	    clen != ptlen + BG_SEAL_TAG_LEN) {
		r = BG_ERR_CRYPTO;
		goto out;
	}
	*blob_len = BOX_HDR_LEN + (size_t)clen;
	r = BG_OK;
out:
	if (eph != NULL)
		sodium_memzero(eph->work, sizeof(eph->work));
	free(aad);
	if (r != BG_OK && blob != NULL && blob_cap != 0 &&
	    blob_cap >= BOX_HDR_LEN)
		sodium_memzero(blob, BOX_HDR_LEN);
	return r;
}

int
bg_seal_box(const uint8_t pk[BG_SEAL_PK_LEN], const uint8_t *pt,
    size_t ptlen, const uint8_t *ad, size_t adlen, uint8_t *blob,
    size_t blob_cap, size_t *blob_len)
{
	bg_seal_eph_t *eph = NULL;
	int r = BG_ERR_INTERNAL;

	if (blob_len != NULL)
		*blob_len = 0;
	if ((eph = sodium_malloc(sizeof(*eph))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = bg_seal_eph_init(eph)) != BG_OK)
		goto out;
	r = bg_seal_box_eph(eph, pk, pt, ptlen, ad, adlen, blob, blob_cap,
	    blob_len);
out:
	if (eph != NULL) {
		bg_seal_eph_clear(eph);
		sodium_free(eph);
	}
	return r;
}

int
bg_seal_box_open(const uint8_t *sk, const uint8_t pk[BG_SEAL_PK_LEN],
    const uint8_t *blob, size_t bloblen, const uint8_t *ad, size_t adlen,
    uint8_t *pt, size_t pt_cap, size_t *pt_len)
{
	int r = BG_ERR_INTERNAL;
	uint8_t *work = NULL;	/* shared[32] || key[32] */
	uint8_t *aad = NULL;
	unsigned long long mlen = 0;
	size_t want;

	if (pt_len != NULL)
		*pt_len = 0;
	if (pt != NULL && pt_cap != 0)
		sodium_memzero(pt, pt_cap);
	if (sk == NULL || pk == NULL || blob == NULL ||
	    (ad == NULL && adlen != 0) || (pt == NULL && pt_cap != 0) ||
	    pt_len == NULL) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	if (bloblen < BG_SEAL_BOX_OVERHEAD || blob[0] != BG_SEAL_BOX_V1 ||
	    bloblen - BG_SEAL_BOX_OVERHEAD > BG_SEAL_MAX_PLAINTEXT) {
		r = BG_ERR_AUTH;
		goto out;
	}
	want = bloblen - BG_SEAL_BOX_OVERHEAD;
	if (pt_cap < want || (pt == NULL && want != 0)) {
		r = BG_ERR_RANGE;
		goto out;
	}
	if ((work = sodium_malloc(64)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	/* an altered eph_pk of small order is "altered data", not a crash */
	if (box_key(sk, blob + 1, blob + 1, pk, work) != BG_OK) {
		r = BG_ERR_AUTH;
		goto out;
	}
	if ((r = join_ad(blob, BOX_HDR_LEN, ad, adlen, &aad)) != BG_OK)
		goto out;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &mlen, NULL,
	    blob + BOX_HDR_LEN, bloblen - BOX_HDR_LEN, aad,
	    BOX_HDR_LEN + adlen, blob + 1 + BG_SEAL_PK_LEN, work + 32) != 0 ||
	    mlen != want) {
		r = BG_ERR_AUTH;
		goto out;
	}
	*pt_len = (size_t)mlen;
	r = BG_OK;
out:
	if (work != NULL) {
		sodium_memzero(work, 64);
		sodium_free(work);
	}
	free(aad);
	if (r != BG_OK && pt != NULL && pt_cap != 0)
		sodium_memzero(pt, pt_cap);
	return r;
}

/* --- associated data --------------------------------------------------- */

static int
ad_put(bg_seal_ad_t *ad, const void *p, size_t len)
{
	if (len > UINT32_MAX || ad->len > sizeof(ad->buf) ||
	    sizeof(ad->buf) - ad->len < 4 + len)
		return BG_ERR_INVALID_ARG;
	ad->buf[ad->len++] = (uint8_t)(len >> 24);
	ad->buf[ad->len++] = (uint8_t)(len >> 16);
	ad->buf[ad->len++] = (uint8_t)(len >> 8);
	ad->buf[ad->len++] = (uint8_t)len;
	if (len != 0)
		memcpy(ad->buf + ad->len, p, len);
	ad->len += len;
	return BG_OK;
}

static int
ad_put_id(bg_seal_ad_t *ad, const char *id)
{
	size_t len;

	if (id == NULL)
		return BG_ERR_INVALID_ARG;
	len = strnlen(id, BG_SEAL_AD_ID_MAX + 1);
	if (len == 0 || len > BG_SEAL_AD_ID_MAX)
		return BG_ERR_INVALID_ARG;
	return ad_put(ad, id, len);
}

static int
ad_put_u64(bg_seal_ad_t *ad, uint64_t v)
{
	uint8_t b[8];
	int i;

	for (i = 7; i >= 0; i--) {
		b[i] = (uint8_t)v;
		v >>= 8;
	}
	return ad_put(ad, b, sizeof(b));
}

static int
ad_begin(bg_seal_ad_t *ad, const char *tag)
{
	if (ad == NULL)
		return BG_ERR_INVALID_ARG;
	ad->len = 0;
	return ad_put(ad, tag, strlen(tag));
}

static int
ad_finish(bg_seal_ad_t *ad, int r)
{
	if (r != BG_OK && ad != NULL) {
		sodium_memzero(ad->buf, sizeof(ad->buf));
		ad->len = 0;
	}
	return r;
}

const uint8_t BG_SEAL_NO_POLICY[32];

int
bg_seal_ad_value(bg_seal_ad_t *ad, const char *vault_id,
    const char *tenant_id, const char *secret_id, uint64_t version,
    const uint8_t policy_hash[32])
{
	int r = BG_ERR_INTERNAL;

	if (policy_hash == NULL) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	if ((r = ad_begin(ad, "breakglass ad value v1")) != BG_OK ||
	    (r = ad_put_id(ad, vault_id)) != BG_OK ||
	    (r = ad_put_id(ad, tenant_id)) != BG_OK ||
	    (r = ad_put_id(ad, secret_id)) != BG_OK ||
	    (r = ad_put_u64(ad, version)) != BG_OK ||
	    (r = ad_put(ad, policy_hash, 32)) != BG_OK)
		goto out;
	r = BG_OK;
out:
	return ad_finish(ad, r);
}

int
bg_seal_ad_share(bg_seal_ad_t *ad, const char *vault_id,
    const char *tenant_id, const char *secret_id, uint64_t version,
    uint64_t leaf_index, const uint8_t policy_hash[32])
{
	int r = BG_ERR_INTERNAL;

	if (policy_hash == NULL) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	if ((r = ad_begin(ad, "breakglass ad share v1")) != BG_OK ||
	    (r = ad_put_id(ad, vault_id)) != BG_OK ||
	    (r = ad_put_id(ad, tenant_id)) != BG_OK ||
	    (r = ad_put_id(ad, secret_id)) != BG_OK ||
	    (r = ad_put_u64(ad, version)) != BG_OK ||
	    (r = ad_put_u64(ad, leaf_index)) != BG_OK ||
	    (r = ad_put(ad, policy_hash, 32)) != BG_OK)
		goto out;
	r = BG_OK;
out:
	return ad_finish(ad, r);
}

int
bg_seal_ad_reqkey(bg_seal_ad_t *ad, const char *vault_id,
    const char *request_id)
{
	int r = BG_ERR_INTERNAL;

	if ((r = ad_begin(ad, "breakglass ad reqkey v1")) != BG_OK ||
	    (r = ad_put_id(ad, vault_id)) != BG_OK ||
	    (r = ad_put_id(ad, request_id)) != BG_OK)
		goto out;
	r = BG_OK;
out:
	return ad_finish(ad, r);
}

int
bg_seal_ad_reshare(bg_seal_ad_t *ad, const char *vault_id,
    const char *request_id, uint64_t leaf_index)
{
	int r = BG_ERR_INTERNAL;

	if ((r = ad_begin(ad, "breakglass ad reshare v1")) != BG_OK ||
	    (r = ad_put_id(ad, vault_id)) != BG_OK ||
	    (r = ad_put_id(ad, request_id)) != BG_OK ||
	    (r = ad_put_u64(ad, leaf_index)) != BG_OK)
		goto out;
	r = BG_OK;
out:
	return ad_finish(ad, r);
}

int
bg_seal_reqkey_seal(const char *vault_id, const char *key_id,
    const uint8_t *sk, const uint8_t member_pk[BG_SEAL_PK_LEN],
    uint8_t sealed[BG_SEAL_REQKEY_SEALED_LEN])
{
	bg_seal_ad_t ad;
	size_t slen = 0;
	int r = BG_ERR_INTERNAL;

	if ((r = bg_seal_ad_reqkey(&ad, vault_id, key_id)) != BG_OK)
		goto out;
	r = bg_seal_box(member_pk, sk, BG_SEAL_SK_LEN, ad.buf, ad.len, sealed,
	    BG_SEAL_REQKEY_SEALED_LEN, &slen);
	if (r == BG_OK && slen != BG_SEAL_REQKEY_SEALED_LEN)
		r = BG_ERR_INTERNAL;
out:
	return r;
}

int
bg_seal_reqkey_new(const char *vault_id, const char *key_id,
    const uint8_t member_pk[BG_SEAL_PK_LEN], uint8_t pk[BG_SEAL_PK_LEN],
    uint8_t sealed[BG_SEAL_REQKEY_SEALED_LEN])
{
	uint8_t *sk = NULL;
	int r = BG_ERR_INTERNAL;

	if ((sk = sodium_malloc(BG_SEAL_SK_LEN)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = bg_seal_keypair(pk, sk)) != BG_OK)
		goto out;
	r = bg_seal_reqkey_seal(vault_id, key_id, sk, member_pk, sealed);
	sodium_memzero(sk, BG_SEAL_SK_LEN);
out:
	if (sk != NULL)
		sodium_free(sk);
	return r;
}

/* --- sub-shares of a re-key ------------------------------------------------ */

int
bg_seal_ad_subshare(bg_seal_ad_t *ad, const char *vault_id,
    const char *tenant_id, const char *secret_id, uint64_t version,
    uint64_t leaf_index, const uint8_t binding[32], const char *rekey_id,
    const char *contributor)
{
	int r = BG_ERR_INTERNAL;

	if (binding == NULL) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	if ((r = ad_begin(ad, "breakglass ad subshare v1")) != BG_OK ||
	    (r = ad_put_id(ad, vault_id)) != BG_OK ||
	    (r = ad_put_id(ad, tenant_id)) != BG_OK ||
	    (r = ad_put_id(ad, secret_id)) != BG_OK ||
	    (r = ad_put_u64(ad, version)) != BG_OK ||
	    (r = ad_put_u64(ad, leaf_index)) != BG_OK ||
	    (r = ad_put(ad, binding, 32)) != BG_OK ||
	    (r = ad_put_id(ad, rekey_id)) != BG_OK ||
	    (r = ad_put_id(ad, contributor)) != BG_OK)
		goto out;
	r = BG_OK;
out:
	return ad_finish(ad, r);
}

/*
 * The key of a sender-authenticated box: libsodium's crypto_box_beforenm
 * (X25519, then HSalsa20) of one side's secret and the other's public
 * key; both sides derive the same key, so a box that opens came from the
 * holder of the sender key (or the recipient).
 */
static int
sbox_key(const uint8_t *sk, const uint8_t pk[BG_SEAL_PK_LEN], uint8_t *k)
{
	return crypto_box_beforenm(k, pk, sk) == 0 ? BG_OK : BG_ERR_CRYPTO;
}

int
bg_seal_sbox(const uint8_t *sender_sk, const uint8_t recipient_pk[32],
    const uint8_t *pt, size_t ptlen, const uint8_t *ad, size_t adlen,
    uint8_t *blob, size_t blob_cap, size_t *blob_len)
{
	uint8_t *k = NULL;
	unsigned long long clen = 0;
	int r = BG_ERR_INTERNAL;

	if (blob_len != NULL)
		*blob_len = 0;
	if (sender_sk == NULL || recipient_pk == NULL || pt == NULL ||
	    blob == NULL || blob_len == NULL || (ad == NULL && adlen != 0)) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	if (ptlen > BG_SEAL_MAX_PLAINTEXT ||
	    blob_cap < ptlen + BG_SEAL_SBOX_OVERHEAD) {
		r = BG_ERR_RANGE;
		goto out;
	}
	if ((k = sodium_malloc(crypto_box_BEFORENMBYTES)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = sbox_key(sender_sk, recipient_pk, k)) != BG_OK)
		goto out;
	blob[0] = BG_SEAL_SBOX_V1;
	randombytes_buf(blob + 1, BG_SEAL_NONCE_LEN);
	if (crypto_aead_xchacha20poly1305_ietf_encrypt(blob + 1 +
	    BG_SEAL_NONCE_LEN, &clen, pt, ptlen, ad, adlen, NULL, blob + 1,
	    k) != 0) {
		r = BG_ERR_CRYPTO;
		goto out;
	}
	*blob_len = 1 + BG_SEAL_NONCE_LEN + (size_t)clen;
	r = BG_OK;
out:
	if (k != NULL)
		sodium_free(k);
	return r;
}

int
bg_seal_sbox_open(const uint8_t *recipient_sk, const uint8_t sender_pk[32],
    const uint8_t *blob, size_t bloblen, const uint8_t *ad, size_t adlen,
    uint8_t *pt, size_t pt_cap, size_t *pt_len)
{
	uint8_t *k = NULL;
	unsigned long long plen = 0;
	int r = BG_ERR_INTERNAL;

	if (pt_len != NULL)
		*pt_len = 0;
	if (recipient_sk == NULL || sender_pk == NULL || blob == NULL ||
	    pt == NULL || pt_len == NULL || (ad == NULL && adlen != 0)) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	if (bloblen < BG_SEAL_SBOX_OVERHEAD || blob[0] != BG_SEAL_SBOX_V1) {
		r = BG_ERR_AUTH;
		goto out;
	}
	if (pt_cap < bloblen - BG_SEAL_SBOX_OVERHEAD) {
		r = BG_ERR_RANGE;
		goto out;
	}
	if ((k = sodium_malloc(crypto_box_BEFORENMBYTES)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((r = sbox_key(recipient_sk, sender_pk, k)) != BG_OK) {
		r = BG_ERR_AUTH;
		goto out;
	}
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &plen, NULL,
	    blob + 1 + BG_SEAL_NONCE_LEN, bloblen - 1 - BG_SEAL_NONCE_LEN, ad,
	    adlen, blob + 1, k) != 0) {
		sodium_memzero(pt, pt_cap);
		r = BG_ERR_AUTH;
		goto out;
	}
	*pt_len = (size_t)plen;
	r = BG_OK;
out:
	if (k != NULL)
		sodium_free(k);
	return r;
}

int
bg_seal_key_commit(const char *vault_id, const char *tenant_id,
    const char *secret_id, uint64_t version, const uint8_t *key,
    uint8_t out[32])
{
	bg_seal_ad_t ctx;
	int r = BG_ERR_INTERNAL;

	if (key == NULL || out == NULL) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	/* BLAKE2b-256 of the version's context, keyed with the data key:
	 * binds the key to this record without revealing anything of it. */
	if ((r = ad_begin(&ctx, "breakglass key commitment v1")) != BG_OK ||
	    (r = ad_put_id(&ctx, vault_id)) != BG_OK ||
	    (r = ad_put_id(&ctx, tenant_id)) != BG_OK ||
	    (r = ad_put_id(&ctx, secret_id)) != BG_OK ||
	    (r = ad_put_u64(&ctx, version)) != BG_OK)
		goto out;
	r = crypto_generichash(out, 32, ctx.buf, ctx.len, key,
	    BG_SEAL_KEY_LEN) == 0 ? BG_OK : BG_ERR_CRYPTO;
out:
	return ad_finish(&ctx, r);
}
