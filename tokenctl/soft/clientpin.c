/*
 * authenticatorClientPIN (CTAP 2.1) and PIN/UV auth protocols 1 and 2.
 *
 * Protocol 1: shared secret SHA-256(Z.x); AES-256-CBC with a zero IV;
 * authenticate = LEFT(HMAC-SHA-256, 16).  Protocol 2: HKDF-SHA-256 of Z
 * with a zero salt into an HMAC key and an AES key; AES-256-CBC with a
 * random IV sent in front; the full 32-byte HMAC.  Both halves of the
 * 64-byte shared buffer hold the one protocol 1 secret, so the code below
 * is the same for both: HMAC key at 0, AES key at 32.
 *
 * Retries: 8, decremented and persisted before a PIN is compared; 3
 * consecutive mismatches since the last power cycle block PIN use until
 * the next one; the key agreement key is regenerated after a mismatch.
 */
#include <string.h>

#include <cbor.h>
#include <sodium.h>

#include "breakglass/err.h"
#include "soft/soft_int.h"

#define SUB_GET_PIN_RETRIES	0x01
#define SUB_GET_KEY_AGREEMENT	0x02
#define SUB_SET_PIN		0x03
#define SUB_CHANGE_PIN		0x04
#define SUB_GET_PIN_TOKEN	0x05
#define SUB_GET_PUAT_UV		0x06
#define SUB_GET_UV_RETRIES	0x07
#define SUB_GET_PUAT_PIN	0x09

bool
bg_soft_proto_ok(const bg_soft_t *s, int64_t proto)
{
	uint8_t pp = s->opts.pin_protocols;

	if (s->opts.no_pin_uv)
		return false;
	if (proto == 1)
		return pp == 0 || (pp & (1u << 1)) != 0;
	if (proto == 2)
		return pp == 0 || (pp & (1u << 2)) != 0;
	return false;
}

int
bg_soft_pp_regenerate(bg_soft_t *s)
{
	int r = BG_OK;
	uint8_t d[32], x[32], y[32];

	for (size_t i = 0; i < 2; i++) {
		EVP_PKEY *pk = NULL;

		EVP_PKEY_free(s->ka[i]);
		s->ka[i] = NULL;
		if ((r = bg_soft_p256_gen(s, d, &pk, x, y)) != BG_OK)
			break;
		s->ka[i] = pk;
	}
	sodium_memzero(d, sizeof(d));
	return r;
}

void
bg_soft_puat_reset(bg_soft_t *s)
{
	bg_soft_rand(s, s->sec->puat, BG_SOFT_PUAT_LEN);
	s->tok_in_use = false;
	s->tok_used = false;
	s->tok_uv = false;
	s->tok_perms = 0;
	s->tok_proto = 0;
	s->tok_has_rp = false;
	memset(s->tok_rp_hash, 0, sizeof(s->tok_rp_hash));
	s->tok_issued_ms = 0;
}

int
bg_soft_pp_decapsulate(bg_soft_t *s, int64_t proto, const cbor_item_t *cose,
    uint8_t shared[64])
{
	int st = CTAP1_ERR_INVALID_PARAMETER;
	const cbor_item_t *kty, *crv, *x, *y, *alg;
	int64_t vkty = 0, vcrv = 0, valg = 0;
	EVP_PKEY *peer = NULL;
	uint8_t z[32];

	sodium_memzero(shared, 64);
	if (!bg_soft_proto_ok(s, proto))
		goto out;
	if (cose == NULL || !cbor_isa_map(cose)) {
		st = CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
		goto out;
	}
	kty = bg_soft_cbor_get_int(cose, 1);
	alg = bg_soft_cbor_get_int(cose, 3);
	crv = bg_soft_cbor_get_int(cose, -1);
	x = bg_soft_cbor_get_int(cose, -2);
	y = bg_soft_cbor_get_int(cose, -3);
	if (kty == NULL || crv == NULL || x == NULL || y == NULL)
		goto out;
	if ((st = bg_soft_cbor_int(kty, &vkty)) != CTAP2_OK ||
	    (st = bg_soft_cbor_int(crv, &vcrv)) != CTAP2_OK ||
	    (alg != NULL && (st = bg_soft_cbor_int(alg, &valg)) != CTAP2_OK))
		goto out;
	if (!cbor_isa_bytestring(x) || !cbor_bytestring_is_definite(x) ||
	    !cbor_isa_bytestring(y) || !cbor_bytestring_is_definite(y)) {
		st = CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
		goto out;
	}
	st = CTAP1_ERR_INVALID_PARAMETER;
	if (vkty != 2 || vcrv != 1 || cbor_bytestring_length(x) != 32 ||
	    cbor_bytestring_length(y) != 32)
		goto out;
	/* the point must be on P-256 */
	if (bg_soft_p256_pub(cbor_bytestring_handle(x),
	    cbor_bytestring_handle(y), &peer) != BG_OK)
		goto out;
	if (s->ka[proto - 1] == NULL ||
	    bg_soft_ecdh(s->ka[proto - 1], peer, z) != BG_OK) {
		st = CTAP1_ERR_OTHER;
		goto out;
	}
	if (proto == 1) {
		crypto_hash_sha256(shared, z, sizeof(z));
		memcpy(shared + 32, shared, 32);
	} else {
		bg_soft_hkdf32(z, sizeof(z), "CTAP2 HMAC key", shared);
		bg_soft_hkdf32(z, sizeof(z), "CTAP2 AES key", shared + 32);
	}
	st = CTAP2_OK;
out:
	sodium_memzero(z, sizeof(z));
	EVP_PKEY_free(peer);
	return st;
}

int
bg_soft_pp_encrypt(bg_soft_t *s, int64_t proto, const uint8_t shared[64],
    const uint8_t *pt, size_t len, uint8_t *out, size_t *outlen)
{
	static const uint8_t zero_iv[16];
	size_t off = proto == 2 ? 16 : 0;

	*outlen = 0;
	if (proto == 2)
		bg_soft_rand(s, out, 16);
	if (bg_soft_aes256_cbc(true, shared + 32, proto == 2 ? out : zero_iv,
	    pt, len, out + off) != BG_OK)
		return CTAP1_ERR_OTHER;
	*outlen = len + off;
	return CTAP2_OK;
}

int
bg_soft_pp_decrypt(int64_t proto, const uint8_t shared[64], const uint8_t *ct,
    size_t len, uint8_t *out, size_t *outlen)
{
	static const uint8_t zero_iv[16];
	size_t off = proto == 2 ? 16 : 0;

	*outlen = 0;
	if (len <= off || (len - off) % 16 != 0)
		return CTAP1_ERR_INVALID_LENGTH;
	if (bg_soft_aes256_cbc(false, shared + 32, proto == 2 ? ct : zero_iv,
	    ct + off, len - off, out) != BG_OK)
		return CTAP1_ERR_OTHER;
	*outlen = len - off;
	return CTAP2_OK;
}

bool
bg_soft_pp_verify(int64_t proto, const uint8_t key[32], const uint8_t *m1,
    size_t l1, const uint8_t *m2, size_t l2, const uint8_t *sig, size_t siglen)
{
	uint8_t mac[32];
	size_t n = proto == 1 ? 16 : 32;
	bool ok;

	if ((proto != 1 && proto != 2) || sig == NULL || siglen != n)
		return false;
	bg_soft_hmac(key, 32, m1, l1, m2, l2, mac);
	ok = sodium_memcmp(mac, sig, n) == 0;
	sodium_memzero(mac, sizeof(mac));
	return ok;
}

/* ===================================================================== */

static int
need_proto(const bg_soft_t *s, const cbor_item_t *it, int64_t *proto)
{
	int st;

	if (it == NULL)
		return CTAP2_ERR_MISSING_PARAMETER;
	if ((st = bg_soft_cbor_int(it, proto)) != CTAP2_OK)
		return st;
	return bg_soft_proto_ok(s, *proto) ? CTAP2_OK : CTAP1_ERR_INVALID_PARAMETER;
}

static bool
bytes_ok(const cbor_item_t *it)
{
	return it == NULL || (cbor_isa_bytestring(it) &&
	    cbor_bytestring_is_definite(it));
}

/* Refusals before any PIN comparison. */
static int
pin_usable(const bg_soft_t *s)
{
	if (!s->ps.pin_set)
		return CTAP2_ERR_PIN_NOT_SET;
	if (s->ps.retries == 0)
		return CTAP2_ERR_PIN_BLOCKED;
	if (s->mismatches >= BG_SOFT_MAX_MISMATCH)
		return CTAP2_ERR_PIN_AUTH_BLOCKED;
	return CTAP2_OK;
}

/* Compare the encrypted PIN hash; a negative return is a BG_ERR_*. */
static int
check_pin_hash(bg_soft_t *s, int64_t proto, const uint8_t shared[64],
    const cbor_item_t *phe)
{
	int st = CTAP1_ERR_OTHER, r;
	uint8_t hash[32];
	size_t len = cbor_bytestring_length(phe), n = 0;

	if (len != (proto == 2 ? 32u : 16u)) {
		st = CTAP1_ERR_INVALID_PARAMETER;
		goto out;
	}
	/* the try counts before it is judged, and is on disk first */
	s->ps.retries--;
	if ((r = bg_soft_commit(s)) != BG_OK) {
		st = r;
		goto out;
	}
	if ((st = bg_soft_pp_decrypt(proto, shared, cbor_bytestring_handle(phe),
	    len, hash, &n)) != CTAP2_OK)
		goto out;
	if (n != BG_SOFT_PIN_HASH_LEN ||
	    sodium_memcmp(hash, s->sec->pin_hash, BG_SOFT_PIN_HASH_LEN) != 0) {
		s->mismatches++;
		if (bg_soft_pp_regenerate(s) != BG_OK) {
			st = CTAP1_ERR_OTHER;
			goto out;
		}
		if (s->ps.retries == 0)
			st = CTAP2_ERR_PIN_BLOCKED;
		else if (s->mismatches >= BG_SOFT_MAX_MISMATCH)
			st = CTAP2_ERR_PIN_AUTH_BLOCKED;
		else
			st = CTAP2_ERR_PIN_INVALID;
		goto out;
	}
	s->mismatches = 0;
	s->ps.retries = BG_SOFT_MAX_RETRIES;
	if ((r = bg_soft_commit(s)) != BG_OK) {
		st = r;
		goto out;
	}
	st = CTAP2_OK;
out:
	sodium_memzero(hash, sizeof(hash));
	return st;
}

/* Decrypt and judge newPinEnc; hash gets LEFT(SHA-256(PIN), 16). */
static int
new_pin_hash(int64_t proto, const uint8_t shared[64], const cbor_item_t *npe,
    uint8_t hash[BG_SOFT_PIN_HASH_LEN])
{
	int st = CTAP1_ERR_OTHER;
	uint8_t padded[64], full[32];
	size_t len = cbor_bytestring_length(npe), n = 0, pinlen, cp = 0;

	if (len != (proto == 2 ? 80u : 64u)) {
		st = CTAP1_ERR_INVALID_PARAMETER;
		goto out;
	}
	if ((st = bg_soft_pp_decrypt(proto, shared, cbor_bytestring_handle(npe),
	    len, padded, &n)) != CTAP2_OK || n != sizeof(padded)) {
		st = CTAP2_ERR_PIN_AUTH_INVALID;
		goto out;
	}
	st = CTAP2_ERR_PIN_POLICY_VIOLATION;
	for (pinlen = 0; pinlen < sizeof(padded) && padded[pinlen] != 0; pinlen++)
		;
	if (pinlen > BG_SOFT_MAX_PIN_BYTES)
		goto out;
	/* the padding is all zero: no NUL inside the PIN */
	if (!sodium_is_zero(padded + pinlen, sizeof(padded) - pinlen))
		goto out;
	for (size_t i = 0; i < pinlen; i++)
		if ((padded[i] & 0xc0) != 0x80)
			cp++;		/* UTF-8 code points */
	if (cp < BG_SOFT_MIN_PIN_CP)
		goto out;
	crypto_hash_sha256(full, padded, pinlen);
	memcpy(hash, full, BG_SOFT_PIN_HASH_LEN);
	st = CTAP2_OK;
out:
	sodium_memzero(padded, sizeof(padded));
	sodium_memzero(full, sizeof(full));
	return st;
}

static int
write_key_agreement(bg_soft_t *s, int64_t proto, bg_cbw_t *w)
{
	uint8_t x[32], y[32];

	if (s->ka[proto - 1] == NULL ||
	    bg_soft_p256_xy(s->ka[proto - 1], x, y) != BG_OK)
		return CTAP1_ERR_OTHER;
	bg_cbw_map(w, 1);
	bg_cbw_uint(w, 1);
	bg_cbw_cose_p256(w, COSE_ECDH_ES_HKDF_256, x, y);
	return CTAP2_OK;
}

/* Issue a fresh pinUvAuthToken and write it encrypted. */
static int
issue_token(bg_soft_t *s, int64_t proto, const uint8_t shared[64],
    uint8_t perms, const cbor_item_t *rpid, bg_cbw_t *w)
{
	uint8_t enc[BG_SOFT_PUAT_LEN + 16];
	size_t n = 0;
	int st;

	bg_soft_puat_reset(s);
	s->tok_in_use = true;
	s->tok_uv = true;
	s->tok_perms = perms;
	s->tok_proto = proto;
	s->tok_issued_ms = bg_soft_now(s);
	if (rpid != NULL) {
		crypto_hash_sha256(s->tok_rp_hash, cbor_string_handle(rpid),
		    cbor_string_length(rpid));
		s->tok_has_rp = true;
	}
	if ((st = bg_soft_pp_encrypt(s, proto, shared, s->sec->puat,
	    BG_SOFT_PUAT_LEN, enc, &n)) != CTAP2_OK)
		return st;
	bg_cbw_map(w, 1);
	bg_cbw_uint(w, 2);
	bg_cbw_bytes(w, enc, n);
	sodium_memzero(enc, sizeof(enc));
	return CTAP2_OK;
}

int
bg_soft_client_pin(bg_soft_t *s, const cbor_item_t *req, bg_cbw_t *w)
{
	int st = CTAP1_ERR_OTHER, r;
	const cbor_item_t *proto_it = bg_soft_cbor_get_int(req, 1);
	const cbor_item_t *sub_it = bg_soft_cbor_get_int(req, 2);
	const cbor_item_t *ka = bg_soft_cbor_get_int(req, 3);
	const cbor_item_t *pua = bg_soft_cbor_get_int(req, 4);
	const cbor_item_t *npe = bg_soft_cbor_get_int(req, 5);
	const cbor_item_t *phe = bg_soft_cbor_get_int(req, 6);
	const cbor_item_t *perm_it = bg_soft_cbor_get_int(req, 9);
	const cbor_item_t *rpid = bg_soft_cbor_get_int(req, 10);
	int64_t sub = 0, proto = 0, perms = 0;
	uint8_t shared[64], hash[BG_SOFT_PIN_HASH_LEN];

	sodium_memzero(shared, sizeof(shared));
	sodium_memzero(hash, sizeof(hash));
	if (sub_it == NULL) {
		st = CTAP2_ERR_MISSING_PARAMETER;
		goto out;
	}
	if ((st = bg_soft_cbor_int(sub_it, &sub)) != CTAP2_OK)
		goto out;
	if (!bytes_ok(pua) || !bytes_ok(npe) || !bytes_ok(phe) ||
	    (ka != NULL && !cbor_isa_map(ka)) ||
	    (perm_it != NULL && !cbor_isa_uint(perm_it)) ||
	    (rpid != NULL && (!cbor_isa_string(rpid) ||
	    !cbor_string_is_definite(rpid)))) {
		st = CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
		goto out;
	}

	switch (sub) {
	case SUB_GET_PIN_RETRIES:
		bg_cbw_map(w, 2);
		bg_cbw_uint(w, 3);
		bg_cbw_uint(w, s->ps.retries);
		bg_cbw_uint(w, 4);
		bg_cbw_bool(w, s->mismatches >= BG_SOFT_MAX_MISMATCH);
		st = CTAP2_OK;
		break;

	case SUB_GET_KEY_AGREEMENT:
		if ((st = need_proto(s, proto_it, &proto)) != CTAP2_OK)
			break;
		st = write_key_agreement(s, proto, w);
		break;

	case SUB_SET_PIN:
		if (proto_it == NULL || ka == NULL || pua == NULL || npe == NULL) {
			st = CTAP2_ERR_MISSING_PARAMETER;
			break;
		}
		if ((st = need_proto(s, proto_it, &proto)) != CTAP2_OK)
			break;
		if (s->ps.pin_set) {
			st = CTAP2_ERR_PIN_AUTH_INVALID;
			break;
		}
		if ((st = bg_soft_pp_decapsulate(s, proto, ka, shared)) != CTAP2_OK)
			break;
		if (!bg_soft_pp_verify(proto, shared, cbor_bytestring_handle(npe),
		    cbor_bytestring_length(npe), NULL, 0,
		    cbor_bytestring_handle(pua), cbor_bytestring_length(pua))) {
			st = CTAP2_ERR_PIN_AUTH_INVALID;
			break;
		}
		if ((st = new_pin_hash(proto, shared, npe, hash)) != CTAP2_OK)
			break;
		memcpy(s->sec->pin_hash, hash, sizeof(hash));
		s->ps.pin_set = true;
		s->ps.retries = BG_SOFT_MAX_RETRIES;
		if ((r = bg_soft_commit(s)) != BG_OK) {
			st = r;
			break;
		}
		st = CTAP2_OK;
		break;

	case SUB_CHANGE_PIN:
		if (proto_it == NULL || ka == NULL || pua == NULL ||
		    npe == NULL || phe == NULL) {
			st = CTAP2_ERR_MISSING_PARAMETER;
			break;
		}
		if ((st = need_proto(s, proto_it, &proto)) != CTAP2_OK ||
		    (st = pin_usable(s)) != CTAP2_OK ||
		    (st = bg_soft_pp_decapsulate(s, proto, ka, shared)) != CTAP2_OK)
			break;
		if (!bg_soft_pp_verify(proto, shared, cbor_bytestring_handle(npe),
		    cbor_bytestring_length(npe), cbor_bytestring_handle(phe),
		    cbor_bytestring_length(phe), cbor_bytestring_handle(pua),
		    cbor_bytestring_length(pua))) {
			st = CTAP2_ERR_PIN_AUTH_INVALID;
			break;
		}
		if ((st = check_pin_hash(s, proto, shared, phe)) != CTAP2_OK ||
		    (st = new_pin_hash(proto, shared, npe, hash)) != CTAP2_OK)
			break;
		memcpy(s->sec->pin_hash, hash, sizeof(hash));
		if ((r = bg_soft_commit(s)) != BG_OK) {
			st = r;
			break;
		}
		bg_soft_puat_reset(s);
		st = CTAP2_OK;
		break;

	case SUB_GET_PIN_TOKEN:
	case SUB_GET_PUAT_PIN:
		if (proto_it == NULL || ka == NULL || phe == NULL ||
		    (sub == SUB_GET_PUAT_PIN && perm_it == NULL)) {
			st = CTAP2_ERR_MISSING_PARAMETER;
			break;
		}
		if ((st = need_proto(s, proto_it, &proto)) != CTAP2_OK)
			break;
		if (sub == SUB_GET_PIN_TOKEN) {
			if (perm_it != NULL || rpid != NULL) {
				st = CTAP1_ERR_INVALID_PARAMETER;
				break;
			}
			perms = BG_SOFT_PERM_MC | BG_SOFT_PERM_GA;
		} else {
			if ((st = bg_soft_cbor_int(perm_it, &perms)) != CTAP2_OK)
				break;
			if (perms == 0) {
				st = CTAP1_ERR_INVALID_PARAMETER;
				break;
			}
			if ((perms & ~(int64_t)(BG_SOFT_PERM_MC | BG_SOFT_PERM_GA)) != 0) {
				/* cm, be, lbw, acfg and unknown ones */
				st = CTAP2_ERR_UNAUTHORIZED_PERMISSION;
				break;
			}
		}
		if ((st = pin_usable(s)) != CTAP2_OK ||
		    (st = bg_soft_pp_decapsulate(s, proto, ka, shared)) != CTAP2_OK ||
		    (st = check_pin_hash(s, proto, shared, phe)) != CTAP2_OK)
			break;
		st = issue_token(s, proto, shared, (uint8_t)perms, rpid, w);
		break;

	case SUB_GET_PUAT_UV:
	case SUB_GET_UV_RETRIES:
		/* no built-in user verification */
	default:
		st = CTAP2_ERR_INVALID_SUBCOMMAND;
		break;
	}
out:
	sodium_memzero(shared, sizeof(shared));
	sodium_memzero(hash, sizeof(hash));
	return st;
}
