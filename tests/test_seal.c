/*
 * Sealing: value and box round trips, every flipped byte of blob or AD
 * refused, shares bound to their record, wrong recipients refused,
 * membership key derivation, AD encodings, and the whole seal/open path
 * through a policy tree.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "breakglass/err.h"
#include "policy.h"
#include "seal.h"

static const uint8_t phash_a[32] = { 0xaa, 1, 2, 3 };
static const uint8_t phash_b[32] = { 0xaa, 1, 2, 4 };

static uint8_t *
smalloc(size_t n)
{
	uint8_t *p = sodium_malloc(n);

	assert_non_null(p);
	return p;
}

/* --- membership keys ----------------------------------------------------- */

static void
test_member_keypair(void **state)
{
	uint8_t hmac[32], hmac2[32], pk[32], pk2[32], pk3[32], seed[32];
	uint8_t base_pk[32];
	uint8_t *sk = smalloc(32), *sk2 = smalloc(32), *sk3 = smalloc(32);
	static const char ctx[] = "breakglass membership key v1";

	(void)state;
	randombytes_buf(hmac, sizeof(hmac));
	memcpy(hmac2, hmac, 32);
	hmac2[31] ^= 0x80;

	assert_int_equal(bg_seal_member_keypair(hmac, pk, sk), BG_OK);
	assert_int_equal(bg_seal_member_keypair(hmac, pk2, sk2), BG_OK);
	assert_memory_equal(pk, pk2, 32);		/* deterministic */
	assert_int_equal(sodium_memcmp(sk, sk2, 32), 0);
	assert_int_equal(bg_seal_member_keypair(hmac2, pk3, sk3), BG_OK);
	assert_memory_not_equal(pk, pk3, 32);		/* per hmac output */
	assert_int_not_equal(sodium_memcmp(sk, sk3, 32), 0);

	/* the documented derivation, recomputed from libsodium parts */
	assert_int_equal(crypto_generichash(seed, 32, (const uint8_t *)ctx,
	    sizeof(ctx) - 1, hmac, 32), 0);
	assert_int_equal(sodium_memcmp(seed, sk, 32), 0);
	assert_int_equal(crypto_scalarmult_base(base_pk, seed), 0);
	assert_memory_equal(base_pk, pk, 32);
	sodium_memzero(seed, sizeof(seed));

	assert_int_equal(bg_seal_member_keypair(NULL, pk, sk),
	    BG_ERR_INVALID_ARG);
	assert_true(sodium_is_zero(pk, 32) && sodium_is_zero(sk, 32));
	sodium_free(sk);
	sodium_free(sk2);
	sodium_free(sk3);
}

static void
test_keypair_and_data_key(void **state)
{
	uint8_t pk[32], pk2[32], chk[32];
	uint8_t *sk = smalloc(32), *sk2 = smalloc(32), *k1 = smalloc(32);
	uint8_t *k2 = smalloc(32);

	(void)state;
	assert_int_equal(bg_seal_keypair(pk, sk), BG_OK);
	assert_int_equal(bg_seal_keypair(pk2, sk2), BG_OK);
	assert_memory_not_equal(pk, pk2, 32);
	assert_int_equal(crypto_scalarmult_base(chk, sk), 0);
	assert_memory_equal(chk, pk, 32);
	assert_int_equal(bg_seal_data_key(k1), BG_OK);
	assert_int_equal(bg_seal_data_key(k2), BG_OK);
	assert_int_not_equal(sodium_memcmp(k1, k2, 32), 0);
	assert_int_equal(bg_seal_data_key(NULL), BG_ERR_INVALID_ARG);
	assert_int_equal(bg_seal_keypair(NULL, sk), BG_ERR_INVALID_ARG);
	sodium_free(sk);
	sodium_free(sk2);
	sodium_free(k1);
	sodium_free(k2);
}

/* --- value blobs ---------------------------------------------------------- */

static void
test_value_roundtrip(void **state)
{
	static const size_t lens[] = { 0, 1, 15, 16, 17, 100, 4096 };
	uint8_t *key = smalloc(32), *pt, *out;
	uint8_t *blob;
	bg_seal_ad_t ad;
	size_t i, blen, olen;

	(void)state;
	assert_int_equal(bg_seal_data_key(key), BG_OK);
	assert_int_equal(bg_seal_ad_value(&ad, "v1", "acme", "domain-admin",
	    3, phash_a), BG_OK);
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		pt = smalloc(lens[i] + 1);
		out = smalloc(lens[i] + 1);
		blob = malloc(lens[i] + BG_SEAL_VALUE_OVERHEAD);
		assert_non_null(blob);
		randombytes_buf(pt, lens[i]);
		assert_int_equal(bg_seal_value(key, pt, lens[i], ad.buf, ad.len,
		    blob, lens[i] + BG_SEAL_VALUE_OVERHEAD, &blen), BG_OK);
		assert_int_equal(blen, lens[i] + BG_SEAL_VALUE_OVERHEAD);
		assert_int_equal(blob[0], BG_SEAL_VALUE_V1);
		assert_int_equal(bg_seal_value_open(key, blob, blen, ad.buf,
		    ad.len, out, lens[i], &olen), BG_OK);
		assert_int_equal(olen, lens[i]);
		assert_int_equal(sodium_memcmp(out, pt, lens[i]), 0);
		/* too small a plaintext buffer */
		if (lens[i] > 0)
			assert_int_equal(bg_seal_value_open(key, blob, blen,
			    ad.buf, ad.len, out, lens[i] - 1, &olen),
			    BG_ERR_RANGE);
		/* too small a blob buffer */
		assert_int_equal(bg_seal_value(key, pt, lens[i], ad.buf,
		    ad.len, blob, lens[i] + BG_SEAL_VALUE_OVERHEAD - 1, &blen),
		    BG_ERR_RANGE);
		assert_int_equal(blen, 0);
		sodium_free(pt);
		sodium_free(out);
		free(blob);
	}
	/* no AD at all is allowed (and differs from any AD) */
	{
		uint8_t p1[5] = "hello", o1[5], b1[5 + BG_SEAL_VALUE_OVERHEAD];

		assert_int_equal(bg_seal_value(key, p1, 5, NULL, 0, b1,
		    sizeof(b1), &blen), BG_OK);
		assert_int_equal(bg_seal_value_open(key, b1, blen, NULL, 0, o1,
		    5, &olen), BG_OK);
		assert_memory_equal(o1, p1, 5);
		assert_int_equal(bg_seal_value_open(key, b1, blen, ad.buf,
		    ad.len, o1, 5, &olen), BG_ERR_AUTH);
	}
	/* two seals of one value differ (fresh nonce) */
	{
		uint8_t p1[8] = "password", b1[8 + BG_SEAL_VALUE_OVERHEAD];
		uint8_t b2[sizeof(b1)];

		assert_int_equal(bg_seal_value(key, p1, 8, ad.buf, ad.len, b1,
		    sizeof(b1), &blen), BG_OK);
		assert_int_equal(bg_seal_value(key, p1, 8, ad.buf, ad.len, b2,
		    sizeof(b2), &blen), BG_OK);
		assert_memory_not_equal(b1, b2, sizeof(b1));
	}
	sodium_free(key);
}

static void
test_value_tamper(void **state)
{
	uint8_t *key = smalloc(32), *key2 = smalloc(32);
	uint8_t pt[40], out[40], blob[40 + BG_SEAL_VALUE_OVERHEAD];
	uint8_t adbuf[BG_SEAL_AD_MAX];
	bg_seal_ad_t ad;
	size_t blen, olen, i;
	unsigned bit, refused = 0, tries = 0;

	(void)state;
	assert_int_equal(bg_seal_data_key(key), BG_OK);
	assert_int_equal(bg_seal_data_key(key2), BG_OK);
	randombytes_buf(pt, sizeof(pt));
	assert_int_equal(bg_seal_ad_value(&ad, "vault-1", "acme", "s1", 1,
	    phash_a), BG_OK);
	assert_int_equal(bg_seal_value(key, pt, sizeof(pt), ad.buf, ad.len,
	    blob, sizeof(blob), &blen), BG_OK);

	/* every bit of the blob */
	for (i = 0; i < blen; i++) {
		for (bit = 0; bit < 8; bit++) {
			blob[i] ^= (uint8_t)(1u << bit);
			tries++;
			memset(out, 0x77, sizeof(out));
			if (bg_seal_value_open(key, blob, blen, ad.buf, ad.len,
			    out, sizeof(out), &olen) == BG_ERR_AUTH &&
			    olen == 0 && sodium_is_zero(out, sizeof(out)))
				refused++;
			blob[i] ^= (uint8_t)(1u << bit);
		}
	}
	assert_int_equal(refused, tries);
	/* every byte of the AD */
	memcpy(adbuf, ad.buf, ad.len);
	refused = tries = 0;
	for (i = 0; i < ad.len; i++) {
		adbuf[i] ^= 0x01;
		tries++;
		if (bg_seal_value_open(key, blob, blen, adbuf, ad.len, out,
		    sizeof(out), &olen) == BG_ERR_AUTH)
			refused++;
		adbuf[i] ^= 0x01;
	}
	assert_int_equal(refused, tries);
	/* truncated, extended, wrong key, wrong version */
	for (i = 0; i < blen; i++)
		assert_int_equal(bg_seal_value_open(key, blob, i, ad.buf,
		    ad.len, out, sizeof(out), &olen), BG_ERR_AUTH);
	assert_int_equal(bg_seal_value_open(key, blob, blen, ad.buf,
	    ad.len - 1, out, sizeof(out), &olen), BG_ERR_AUTH);
	assert_int_equal(bg_seal_value_open(key2, blob, blen, ad.buf, ad.len,
	    out, sizeof(out), &olen), BG_ERR_AUTH);
	blob[0] = BG_SEAL_BOX_V1;
	assert_int_equal(bg_seal_value_open(key, blob, blen, ad.buf, ad.len,
	    out, sizeof(out), &olen), BG_ERR_AUTH);
	blob[0] = BG_SEAL_VALUE_V1;
	assert_int_equal(bg_seal_value_open(key, blob, blen, ad.buf, ad.len,
	    out, sizeof(out), &olen), BG_OK);
	assert_memory_equal(out, pt, sizeof(pt));
	/* the value's AD binds every field */
	{
		bg_seal_ad_t other[6];
		size_t j;

		assert_int_equal(bg_seal_ad_value(&other[0], "vault-2", "acme",
		    "s1", 1, phash_a), BG_OK);
		assert_int_equal(bg_seal_ad_value(&other[1], "vault-1", "acmf",
		    "s1", 1, phash_a), BG_OK);
		assert_int_equal(bg_seal_ad_value(&other[2], "vault-1", "acme",
		    "s2", 1, phash_a), BG_OK);
		assert_int_equal(bg_seal_ad_value(&other[3], "vault-1", "acme",
		    "s1", 2, phash_a), BG_OK);
		assert_int_equal(bg_seal_ad_value(&other[4], "vault-1", "acme",
		    "s1", 1, phash_b), BG_OK);
		assert_int_equal(bg_seal_ad_share(&other[5], "vault-1", "acme",
		    "s1", 1, 0, phash_a), BG_OK);
		for (j = 0; j < 6; j++)
			assert_int_equal(bg_seal_value_open(key, blob, blen,
			    other[j].buf, other[j].len, out, sizeof(out),
			    &olen), BG_ERR_AUTH);
	}
	sodium_free(key);
	sodium_free(key2);
}

/* --- box blobs ------------------------------------------------------------ */

static void
test_box_roundtrip_and_tamper(void **state)
{
	uint8_t pk[32], pk2[32], share[32], out[32];
	uint8_t blob[32 + BG_SEAL_BOX_OVERHEAD], adbuf[BG_SEAL_AD_MAX];
	uint8_t *sk = smalloc(32), *sk2 = smalloc(32), hmac[32];
	bg_seal_ad_t ad;
	size_t blen, olen, i;
	unsigned bit, refused = 0, tries = 0;

	(void)state;
	randombytes_buf(hmac, sizeof(hmac));
	assert_int_equal(bg_seal_member_keypair(hmac, pk, sk), BG_OK);
	assert_int_equal(bg_seal_keypair(pk2, sk2), BG_OK);
	randombytes_buf(share, sizeof(share));
	assert_int_equal(bg_seal_ad_share(&ad, "vault-1", "acme", "s1", 1, 2,
	    phash_a), BG_OK);
	assert_int_equal(bg_seal_box(pk, share, 32, ad.buf, ad.len, blob,
	    sizeof(blob), &blen), BG_OK);
	assert_int_equal(blen, sizeof(blob));
	assert_int_equal(blob[0], BG_SEAL_BOX_V1);
	assert_int_equal(bg_seal_box_open(sk, pk, blob, blen, ad.buf, ad.len,
	    out, sizeof(out), &olen), BG_OK);
	assert_int_equal(olen, 32);
	assert_int_equal(sodium_memcmp(out, share, 32), 0);

	for (i = 0; i < blen; i++) {
		for (bit = 0; bit < 8; bit++) {
			blob[i] ^= (uint8_t)(1u << bit);
			tries++;
			memset(out, 0x77, sizeof(out));
			if (bg_seal_box_open(sk, pk, blob, blen, ad.buf, ad.len,
			    out, sizeof(out), &olen) == BG_ERR_AUTH &&
			    olen == 0 && sodium_is_zero(out, sizeof(out)))
				refused++;
			blob[i] ^= (uint8_t)(1u << bit);
		}
	}
	assert_int_equal(refused, tries);
	memcpy(adbuf, ad.buf, ad.len);
	refused = tries = 0;
	for (i = 0; i < ad.len; i++) {
		adbuf[i] ^= 0x40;
		tries++;
		if (bg_seal_box_open(sk, pk, blob, blen, adbuf, ad.len, out,
		    sizeof(out), &olen) == BG_ERR_AUTH)
			refused++;
		adbuf[i] ^= 0x40;
	}
	assert_int_equal(refused, tries);
	for (i = 0; i < blen; i++)
		assert_int_equal(bg_seal_box_open(sk, pk, blob, i, ad.buf,
		    ad.len, out, sizeof(out), &olen), BG_ERR_AUTH);

	/* wrong recipient: other key pair, or right sk with a wrong pk */
	assert_int_equal(bg_seal_box_open(sk2, pk2, blob, blen, ad.buf,
	    ad.len, out, sizeof(out), &olen), BG_ERR_AUTH);
	assert_int_equal(bg_seal_box_open(sk, pk2, blob, blen, ad.buf, ad.len,
	    out, sizeof(out), &olen), BG_ERR_AUTH);
	assert_int_equal(bg_seal_box_open(sk2, pk, blob, blen, ad.buf, ad.len,
	    out, sizeof(out), &olen), BG_ERR_AUTH);
	/* a small-order ephemeral key in the blob is "altered", not a crash */
	memset(blob + 1, 0, 32);
	assert_int_equal(bg_seal_box_open(sk, pk, blob, blen, ad.buf, ad.len,
	    out, sizeof(out), &olen), BG_ERR_AUTH);
	/* a small-order recipient key is refused at seal time */
	memset(pk2, 0, sizeof(pk2));
	assert_int_equal(bg_seal_box(pk2, share, 32, ad.buf, ad.len, blob,
	    sizeof(blob), &blen), BG_ERR_CRYPTO);
	assert_int_equal(blen, 0);
	/* plaintext buffer too small */
	assert_int_equal(bg_seal_box(pk, share, 32, ad.buf, ad.len, blob,
	    sizeof(blob), &blen), BG_OK);
	assert_int_equal(bg_seal_box_open(sk, pk, blob, blen, ad.buf, ad.len,
	    out, 31, &olen), BG_ERR_RANGE);
	sodium_free(sk);
	sodium_free(sk2);
}

/*
 * One ephemeral key for a version's boxes: every box carries the same
 * eph_pk, each opens with its own recipient's key only, and the blob is
 * the same format bg_seal_box writes.
 */
static void
test_box_shared_ephemeral(void **state)
{
	uint8_t pk[3][32], share[3][32], out[32];
	uint8_t blob[3][32 + BG_SEAL_BOX_OVERHEAD], *sk[3];
	bg_seal_eph_t *eph = sodium_malloc(sizeof(*eph));
	bg_seal_ad_t ad[3];
	size_t blen, olen, i, j;

	(void)state;
	assert_non_null(eph);
	assert_int_equal(bg_seal_eph_init(eph), BG_OK);
	for (i = 0; i < 3; i++) {
		sk[i] = smalloc(32);
		assert_int_equal(bg_seal_keypair(pk[i], sk[i]), BG_OK);
		randombytes_buf(share[i], 32);
		assert_int_equal(bg_seal_ad_share(&ad[i], "vault-1", "acme",
		    "s1", 1, i, phash_a), BG_OK);
		assert_int_equal(bg_seal_box_eph(eph, pk[i], share[i], 32,
		    ad[i].buf, ad[i].len, blob[i], sizeof(blob[i]), &blen),
		    BG_OK);
		assert_int_equal(blen, sizeof(blob[i]));
		assert_int_equal(blob[i][0], BG_SEAL_BOX_V1);
		assert_int_equal(memcmp(blob[i] + 1, eph->pk, 32), 0); /* public: eph_pk */
		/* the box's X25519 result and key are gone */
		assert_true(sodium_is_zero(eph->work, sizeof(eph->work)));
	}
	/* each box has its own nonce */
	assert_int_not_equal(memcmp(blob[0] + 33, blob[1] + 33, 24), 0); /* public: nonces */
	for (i = 0; i < 3; i++)
		for (j = 0; j < 3; j++) {
			int r = bg_seal_box_open(sk[j], pk[j], blob[i],
			    sizeof(blob[i]), ad[i].buf, ad[i].len, out,
			    sizeof(out), &olen);

			if (i == j) {
				assert_int_equal(r, BG_OK);
				assert_int_equal(sodium_memcmp(out, share[i],
				    32), 0);
			} else
				assert_int_equal(r, BG_ERR_AUTH);
		}
	/* a box moved to another leaf's AD does not open */
	assert_int_equal(bg_seal_box_open(sk[0], pk[0], blob[0],
	    sizeof(blob[0]), ad[1].buf, ad[1].len, out, sizeof(out), &olen),
	    BG_ERR_AUTH);
	bg_seal_eph_clear(eph);
	assert_true(sodium_is_zero((const uint8_t *)eph, sizeof(*eph)));
	assert_int_equal(bg_seal_box_eph(NULL, pk[0], share[0], 32, NULL, 0,
	    blob[0], sizeof(blob[0]), &blen), BG_ERR_INVALID_ARG);
	for (i = 0; i < 3; i++)
		sodium_free(sk[i]);
	sodium_free(eph);
}

/* A share sealed for one record opens for no other. */
static void
test_share_binding(void **state)
{
	struct {
		const char	*vault, *tenant, *secret;
		uint64_t	 version, leaf;
		const uint8_t	*ph;
	} others[] = {
		{ "vault-2", "acme", "s1", 1, 2, phash_a },	/* vault */
		{ "vault-1", "globex", "s1", 1, 2, phash_a },	/* tenant */
		{ "vault-1", "acme", "s2", 1, 2, phash_a },	/* secret */
		{ "vault-1", "acme", "s1", 2, 2, phash_a },	/* version */
		{ "vault-1", "acme", "s1", 1, 1, phash_a },	/* leaf index */
		{ "vault-1", "acme", "s1", 1, 2, phash_b },	/* policy */
		/* shifted field boundaries */
		{ "vault-1a", "cme", "s1", 1, 2, phash_a },
		{ "vault-", "1acme", "s1", 1, 2, phash_a },
	};
	uint8_t pk[32], share[32], out[32], blob[32 + BG_SEAL_BOX_OVERHEAD];
	uint8_t *sk = smalloc(32);
	bg_seal_ad_t ad, o;
	size_t blen, olen, i;

	(void)state;
	assert_int_equal(bg_seal_keypair(pk, sk), BG_OK);
	randombytes_buf(share, sizeof(share));
	assert_int_equal(bg_seal_ad_share(&ad, "vault-1", "acme", "s1", 1, 2,
	    phash_a), BG_OK);
	assert_int_equal(bg_seal_box(pk, share, 32, ad.buf, ad.len, blob,
	    sizeof(blob), &blen), BG_OK);
	for (i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		assert_int_equal(bg_seal_ad_share(&o, others[i].vault,
		    others[i].tenant, others[i].secret, others[i].version,
		    others[i].leaf, others[i].ph), BG_OK);
		assert_false(o.len == ad.len &&
		    memcmp(o.buf, ad.buf, ad.len) == 0); /* public: AD bytes */
		assert_int_equal(bg_seal_box_open(sk, pk, blob, blen, o.buf,
		    o.len, out, sizeof(out), &olen), BG_ERR_AUTH);
	}
	/* the same fields as a value AD, or a re-share AD, do not open it */
	assert_int_equal(bg_seal_ad_value(&o, "vault-1", "acme", "s1", 1,
	    phash_a), BG_OK);
	assert_int_equal(bg_seal_box_open(sk, pk, blob, blen, o.buf, o.len,
	    out, sizeof(out), &olen), BG_ERR_AUTH);
	assert_int_equal(bg_seal_ad_reshare(&o, "vault-1", "acme", 2), BG_OK);
	assert_int_equal(bg_seal_box_open(sk, pk, blob, blen, o.buf, o.len,
	    out, sizeof(out), &olen), BG_ERR_AUTH);
	/* and the original still does */
	assert_int_equal(bg_seal_box_open(sk, pk, blob, blen, ad.buf, ad.len,
	    out, sizeof(out), &olen), BG_OK);
	assert_memory_equal(out, share, 32);
	sodium_free(sk);
}

/* --- associated data ------------------------------------------------------ */

static void
test_ad_encoding(void **state)
{
	bg_seal_ad_t a, b;
	char longid[BG_SEAL_AD_ID_MAX + 2];
	static const uint8_t want[] = {
		0, 0, 0, 23, 'b', 'r', 'e', 'a', 'k', 'g', 'l', 'a', 's', 's',
		' ', 'a', 'd', ' ', 'r', 'e', 'q', 'k', 'e', 'y', ' ', 'v', '1',
		0, 0, 0, 1, 'V',
		0, 0, 0, 2, 'r', '7',
	};
	static const uint8_t want_reshare_tail[] = {
		0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 1, 2,
	};

	(void)state;
	/* the documented layout */
	assert_int_equal(bg_seal_ad_reqkey(&a, "V", "r7"), BG_OK);
	assert_int_equal(a.len, sizeof(want));
	assert_memory_equal(a.buf, want, sizeof(want));
	assert_int_equal(bg_seal_ad_reshare(&b, "V", "r7", 0x102), BG_OK);
	assert_int_equal(b.len, 4 + 24 + 5 + 6 + sizeof(want_reshare_tail));
	assert_memory_equal(b.buf + b.len - sizeof(want_reshare_tail),
	    want_reshare_tail, sizeof(want_reshare_tail));
	/* kinds are domain-separated */
	assert_int_equal(bg_seal_ad_reshare(&b, "V", "r7", 0), BG_OK);
	assert_false(a.len == b.len &&
	    memcmp(a.buf, b.buf, a.len) == 0); /* public: AD bytes */

	/* deterministic */
	assert_int_equal(bg_seal_ad_share(&a, "v", "t", "s", 9, 3, phash_a),
	    BG_OK);
	assert_int_equal(bg_seal_ad_share(&b, "v", "t", "s", 9, 3, phash_a),
	    BG_OK);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.buf, b.buf, a.len);

	/* refusals leave len 0 */
	assert_int_equal(bg_seal_ad_value(&a, "", "t", "s", 1, phash_a),
	    BG_ERR_INVALID_ARG);
	assert_int_equal(a.len, 0);
	assert_int_equal(bg_seal_ad_value(&a, "v", NULL, "s", 1, phash_a),
	    BG_ERR_INVALID_ARG);
	assert_int_equal(bg_seal_ad_value(&a, "v", "t", "s", 1, NULL),
	    BG_ERR_INVALID_ARG);
	assert_int_equal(bg_seal_ad_reqkey(NULL, "v", "r"),
	    BG_ERR_INVALID_ARG);
	memset(longid, 'x', sizeof(longid) - 1);
	longid[BG_SEAL_AD_ID_MAX] = '\0';
	assert_int_equal(bg_seal_ad_share(&a, longid, longid, longid, 1, 1,
	    phash_a), BG_OK);	/* the largest AD fits */
	longid[BG_SEAL_AD_ID_MAX] = 'x';
	longid[BG_SEAL_AD_ID_MAX + 1] = '\0';
	assert_int_equal(bg_seal_ad_reqkey(&a, longid, "r"),
	    BG_ERR_INVALID_ARG);
	assert_int_equal(a.len, 0);
}

/* --- everything together ---------------------------------------------------- */

/*
 * Seal a value under all-of(1-of(alice,bob),1-of(mia)): data key split by
 * the tree, each share boxed to its approver; reopen with alice + mia.
 */
static void
test_policy_seal_flow(void **state)
{
	enum { NL = 3 };
	static const char value[] = "correct horse battery staple";
	bg_policy_t *p = NULL;
	uint8_t *key = smalloc(32), *key2 = smalloc(32);
	uint8_t *shares = smalloc(NL * 32), *opened = smalloc(NL * 32);
	uint8_t *sk[NL], pk[NL][32], hmac[32];
	uint8_t boxes[NL][32 + BG_SEAL_BOX_OVERHEAD];
	uint8_t vblob[sizeof(value) + BG_SEAL_VALUE_OVERHEAD];
	uint8_t out[sizeof(value)], sh[32];
	bool have[NL] = { false, false, false };
	bg_seal_ad_t ad;
	size_t i, blen, vlen, olen;
	char *why = NULL;

	(void)state;
	assert_int_equal(bg_policy_parse("all-of(1-of(alice,bob),1-of(mia))",
	    &p, NULL), BG_OK);
	assert_int_equal(bg_policy_check_dual(p, &why), BG_OK);
	for (i = 0; i < NL; i++) {
		sk[i] = smalloc(32);
		randombytes_buf(hmac, sizeof(hmac));
		assert_int_equal(bg_seal_member_keypair(hmac, pk[i], sk[i]),
		    BG_OK);
	}
	assert_int_equal(bg_seal_data_key(key), BG_OK);
	assert_int_equal(bg_seal_ad_value(&ad, "vault-1", "acme", "dc-admin",
	    1, bg_policy_hash(p)), BG_OK);
	assert_int_equal(bg_seal_value(key, (const uint8_t *)value,
	    sizeof(value), ad.buf, ad.len, vblob, sizeof(vblob), &vlen),
	    BG_OK);
	assert_int_equal(bg_policy_split(p, key, shares, NULL, NULL), BG_OK);
	for (i = 0; i < NL; i++) {
		assert_int_equal(bg_seal_ad_share(&ad, "vault-1", "acme",
		    "dc-admin", 1, i, bg_policy_hash(p)), BG_OK);
		assert_int_equal(bg_seal_box(pk[i], shares + i * 32, 32,
		    ad.buf, ad.len, boxes[i], sizeof(boxes[i]), &blen), BG_OK);
	}
	sodium_memzero(shares, NL * 32);
	sodium_memzero(key, 32);

	/* alice (0) and mia (2) open their own boxes */
	for (i = 0; i < NL; i += 2) {
		assert_int_equal(bg_seal_ad_share(&ad, "vault-1", "acme",
		    "dc-admin", 1, i, bg_policy_hash(p)), BG_OK);
		assert_int_equal(bg_seal_box_open(sk[i], pk[i], boxes[i],
		    sizeof(boxes[i]), ad.buf, ad.len, opened + i * 32, 32,
		    &olen), BG_OK);
		have[i] = true;
	}
	/* mia cannot open alice's box, even with alice's AD */
	assert_int_equal(bg_seal_ad_share(&ad, "vault-1", "acme", "dc-admin",
	    1, 0, bg_policy_hash(p)), BG_OK);
	assert_int_equal(bg_seal_box_open(sk[2], pk[2], boxes[0],
	    sizeof(boxes[0]), ad.buf, ad.len, sh, sizeof(sh), &olen),
	    BG_ERR_AUTH);

	assert_int_equal(bg_policy_combine(p, have, opened, key2), BG_OK);
	assert_int_equal(bg_seal_ad_value(&ad, "vault-1", "acme", "dc-admin",
	    1, bg_policy_hash(p)), BG_OK);
	assert_int_equal(bg_seal_value_open(key2, vblob, vlen, ad.buf, ad.len,
	    out, sizeof(out), &olen), BG_OK);
	assert_int_equal(olen, sizeof(value));
	assert_memory_equal(out, value, sizeof(value));
	/* alice alone is refused before any crypto */
	have[2] = false;
	assert_int_equal(bg_policy_combine(p, have, opened, key2),
	    BG_ERR_DENIED);

	for (i = 0; i < NL; i++)
		sodium_free(sk[i]);
	sodium_free(key);
	sodium_free(key2);
	sodium_free(shares);
	sodium_free(opened);
	bg_policy_free(&p);
}

/* A request key's private half opens only with the member key and key id,
 * and is the private half of the public key returned beside it. */
static void
test_reqkey_new(void **state)
{
	uint8_t mpk[BG_SEAL_PK_LEN], pk[BG_SEAL_PK_LEN], again[BG_SEAL_PK_LEN];
	uint8_t sealed[BG_SEAL_REQKEY_SEALED_LEN], *msk, *rsk, *other;
	bg_seal_ad_t ad;
	size_t n = 0;

	(void)state;
	assert_non_null(msk = sodium_malloc(BG_SEAL_SK_LEN));
	assert_non_null(rsk = sodium_malloc(BG_SEAL_SK_LEN));
	assert_non_null(other = sodium_malloc(BG_SEAL_SK_LEN));
	assert_int_equal(bg_seal_keypair(mpk, msk), BG_OK);
	assert_int_equal(bg_seal_reqkey_new("vault-1", "7", mpk, pk, sealed),
	    BG_OK);
	assert_int_equal(bg_seal_ad_reqkey(&ad, "vault-1", "7"), BG_OK);
	assert_int_equal(bg_seal_box_open(msk, mpk, sealed, sizeof(sealed),
	    ad.buf, ad.len, rsk, BG_SEAL_SK_LEN, &n), BG_OK);
	assert_int_equal(n, BG_SEAL_SK_LEN);
	assert_int_equal(crypto_scalarmult_base(again, rsk), 0);
	assert_memory_equal(again, pk, sizeof(pk));
	/* another request id, another vault, another member: no */
	assert_int_equal(bg_seal_ad_reqkey(&ad, "vault-1", "8"), BG_OK);
	assert_int_equal(bg_seal_box_open(msk, mpk, sealed, sizeof(sealed),
	    ad.buf, ad.len, rsk, BG_SEAL_SK_LEN, &n), BG_ERR_AUTH);
	assert_int_equal(bg_seal_ad_reqkey(&ad, "vault-2", "7"), BG_OK);
	assert_int_equal(bg_seal_box_open(msk, mpk, sealed, sizeof(sealed),
	    ad.buf, ad.len, rsk, BG_SEAL_SK_LEN, &n), BG_ERR_AUTH);
	assert_int_equal(bg_seal_keypair(again, other), BG_OK);
	assert_int_equal(bg_seal_ad_reqkey(&ad, "vault-1", "7"), BG_OK);
	assert_int_equal(bg_seal_box_open(other, again, sealed, sizeof(sealed),
	    ad.buf, ad.len, rsk, BG_SEAL_SK_LEN, &n), BG_ERR_AUTH);
	sodium_free(other);
	sodium_free(rsk);
	sodium_free(msk);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_member_keypair),
		cmocka_unit_test(test_keypair_and_data_key),
		cmocka_unit_test(test_value_roundtrip),
		cmocka_unit_test(test_value_tamper),
		cmocka_unit_test(test_box_roundtrip_and_tamper),
		cmocka_unit_test(test_share_binding),
		cmocka_unit_test(test_ad_encoding),
		cmocka_unit_test(test_policy_seal_flow),
		cmocka_unit_test(test_reqkey_new),
		cmocka_unit_test(test_box_shared_ephemeral),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name("seal", tests, NULL, NULL);
}
