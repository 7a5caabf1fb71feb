/*
 * The software token's persistent state blob.
 *
 *   offset  size  field
 *        0     7  magic "BGSOFT\0"
 *        7     1  version (1)
 *        8    32  master key (credential wrapping, hmac-secret CredRandom)
 *       40     1  flags: 0x01 a PIN is set; other bits must be zero
 *       41    16  LEFT(SHA-256(PIN), 16), all zero when no PIN is set
 *       57     1  PIN retries left, 0..8
 *       58     4  signature counter, big-endian
 *
 * Fixed size; anything else is refused.  The blob holds the master key, so
 * it lives in sodium_malloc memory and on disk with mode 0600 (serve.c).
 */
#include <string.h>

#include <sodium.h>

#include "breakglass/err.h"
#include "soft/soft_int.h"

/*
 * The AAGUID every breakglass software token reports.  It was drawn once at
 * random (a version 4 UUID, 7c3e6a1f-52b4-4d9e-a8f0-3b91d5c2e64a) and is
 * fixed: it identifies breakglass software tokens, so a vault can refuse
 * them unless it was created with --allow-soft-tokens.
 */
const uint8_t bg_soft_aaguid[BG_SOFT_AAGUID_LEN] = BG_SOFT_AAGUID_INIT;

#define OFF_VERSION	BG_SOFT_STATE_MAGIC_LEN
#define OFF_MASTER	(OFF_VERSION + 1)
#define OFF_FLAGS	(OFF_MASTER + BG_SOFT_MASTER_LEN)
#define OFF_PINHASH	(OFF_FLAGS + 1)
#define OFF_RETRIES	(OFF_PINHASH + BG_SOFT_PIN_HASH_LEN)
#define OFF_COUNTER	(OFF_RETRIES + 1)

void
bg_soft_state_write(const struct bg_soft_secrets *sec,
    const struct bg_soft_pstate *ps, uint8_t out[BG_SOFT_STATE_LEN])
{
	memcpy(out, BG_SOFT_STATE_MAGIC, BG_SOFT_STATE_MAGIC_LEN);
	out[OFF_VERSION] = BG_SOFT_STATE_VERSION;
	memcpy(out + OFF_MASTER, sec->master, BG_SOFT_MASTER_LEN);
	out[OFF_FLAGS] = ps->pin_set ? BG_SOFT_STATE_F_PIN : 0;
	if (ps->pin_set)
		memcpy(out + OFF_PINHASH, sec->pin_hash, BG_SOFT_PIN_HASH_LEN);
	else
		memset(out + OFF_PINHASH, 0, BG_SOFT_PIN_HASH_LEN);
	out[OFF_RETRIES] = ps->retries;
	out[OFF_COUNTER] = (uint8_t)(ps->counter >> 24);
	out[OFF_COUNTER + 1] = (uint8_t)(ps->counter >> 16);
	out[OFF_COUNTER + 2] = (uint8_t)(ps->counter >> 8);
	out[OFF_COUNTER + 3] = (uint8_t)ps->counter;
}

int
bg_soft_state_read(const uint8_t *blob, size_t len,
    struct bg_soft_secrets *sec, struct bg_soft_pstate *ps)
{
	int r = BG_ERR_PARSE;
	uint8_t flags;

	if (blob == NULL || sec == NULL || ps == NULL) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	if (len != BG_SOFT_STATE_LEN ||
	    memcmp(blob, BG_SOFT_STATE_MAGIC, BG_SOFT_STATE_MAGIC_LEN) != 0) /* public: format tag */
		goto out;
	if (blob[OFF_VERSION] != BG_SOFT_STATE_VERSION) {
		r = BG_ERR_UNSUPPORTED;
		goto out;
	}
	flags = blob[OFF_FLAGS];
	if ((flags & ~BG_SOFT_STATE_F_PIN) != 0)
		goto out;
	if (blob[OFF_RETRIES] > BG_SOFT_MAX_RETRIES)
		goto out;
	if ((flags & BG_SOFT_STATE_F_PIN) == 0 &&
	    !sodium_is_zero(blob + OFF_PINHASH, BG_SOFT_PIN_HASH_LEN))
		goto out;
	memcpy(sec->master, blob + OFF_MASTER, BG_SOFT_MASTER_LEN);
	memcpy(sec->pin_hash, blob + OFF_PINHASH, BG_SOFT_PIN_HASH_LEN);
	ps->pin_set = (flags & BG_SOFT_STATE_F_PIN) != 0;
	ps->retries = blob[OFF_RETRIES];
	ps->counter = (uint32_t)blob[OFF_COUNTER] << 24 |
	    (uint32_t)blob[OFF_COUNTER + 1] << 16 |
	    (uint32_t)blob[OFF_COUNTER + 2] << 8 | (uint32_t)blob[OFF_COUNTER + 3];
	r = BG_OK;
out:
	return r;
}

int
bg_soft_state_create(void (*rnd)(void *, uint8_t *, size_t), void *ctx,
    uint8_t **blobp, size_t *lenp)
{
	int r = BG_ERR_INTERNAL;
	struct bg_soft_secrets *sec = NULL;
	struct bg_soft_pstate ps;
	uint8_t *blob = NULL;

	if (blobp != NULL)
		*blobp = NULL;
	if (lenp != NULL)
		*lenp = 0;
	if (rnd == NULL || blobp == NULL || lenp == NULL) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	if (sodium_init() < 0) {
		r = BG_ERR_CRYPTO;
		goto out;
	}
	if ((sec = sodium_malloc(sizeof(*sec))) == NULL ||
	    (blob = sodium_malloc(BG_SOFT_STATE_LEN)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	sodium_memzero(sec, sizeof(*sec));
	rnd(ctx, sec->master, sizeof(sec->master));
	ps.pin_set = false;
	ps.retries = BG_SOFT_MAX_RETRIES;
	ps.counter = 0;
	bg_soft_state_write(sec, &ps, blob);
	*blobp = blob;
	blob = NULL;
	*lenp = BG_SOFT_STATE_LEN;
	r = BG_OK;
out:
	if (sec != NULL)
		sodium_free(sec);	/* sodium_free wipes */
	if (blob != NULL)
		sodium_free(blob);
	return r;
}
