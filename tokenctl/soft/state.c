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
 * Version 2 (a token made with an attestation identity, soft_int.h) goes
 * on after the counter:
 *
 *       62    32  attestation key (P-256 scalar)
 *       94    16  AAGUID
 *      110     1  number of certificates, 1..4
 *      111     .  per certificate: length (2, big-endian), DER
 *
 * Anything else is refused.  The blob holds the master key (and the
 * attestation key), so it lives in sodium_malloc memory and on disk with
 * mode 0600 (serve.c).
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
#define OFF_ATTKEY	BG_SOFT_STATE_LEN
#define OFF_AAGUID	(OFF_ATTKEY + 32)
#define OFF_NCERTS	(OFF_AAGUID + BG_SOFT_AAGUID_LEN)
#define OFF_CERTS	(OFF_NCERTS + 1)

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

size_t
bg_soft_state_len(const struct bg_soft_att *att)
{
	size_t n = BG_SOFT_STATE_LEN, i;

	if (att == NULL || !att->on)
		return n;
	n = OFF_CERTS;
	for (i = 0; i < att->n; i++)
		n += 2 + att->len[i];
	return n;
}

void
bg_soft_state_write_att(const struct bg_soft_secrets *sec,
    const struct bg_soft_pstate *ps, const struct bg_soft_att *att,
    uint8_t *out)
{
	size_t o, i;

	bg_soft_state_write(sec, ps, out);
	if (att == NULL || !att->on)
		return;
	out[OFF_VERSION] = BG_SOFT_STATE_VERSION_ATT;
	memcpy(out + OFF_ATTKEY, sec->att_key, 32);
	memcpy(out + OFF_AAGUID, att->aaguid, BG_SOFT_AAGUID_LEN);
	out[OFF_NCERTS] = (uint8_t)att->n;
	o = OFF_CERTS;
	for (i = 0; i < att->n; i++) {
		out[o] = (uint8_t)(att->len[i] >> 8);
		out[o + 1] = (uint8_t)att->len[i];
		memcpy(out + o + 2, att->x5c + att->off[i], att->len[i]);
		o += 2 + att->len[i];
	}
}

/* The attestation identity after a version 2 blob's fixed part. */
static int
read_att(const uint8_t *blob, size_t len, struct bg_soft_secrets *sec,
    struct bg_soft_att *att)
{
	size_t o = OFF_CERTS, i, n, l, used = 0;

	if (len < OFF_CERTS)
		return BG_ERR_PARSE;
	n = blob[OFF_NCERTS];
	if (n < 1 || n > BG_SOFT_ATT_CERTS)
		return BG_ERR_PARSE;
	for (i = 0; i < n; i++) {
		if (len - o < 2)
			return BG_ERR_PARSE;
		l = (size_t)blob[o] << 8 | blob[o + 1];
		o += 2;
		if (l == 0 || l > len - o || l > sizeof(att->x5c) - used)
			return BG_ERR_PARSE;
		att->off[i] = used;
		att->len[i] = l;
		memcpy(att->x5c + used, blob + o, l);
		used += l;
		o += l;
	}
	if (o != len)
		return BG_ERR_PARSE;
	att->n = n;
	memcpy(att->aaguid, blob + OFF_AAGUID, BG_SOFT_AAGUID_LEN);
	memcpy(sec->att_key, blob + OFF_ATTKEY, 32);
	att->on = true;
	return BG_OK;
}

int
bg_soft_state_read(const uint8_t *blob, size_t len,
    struct bg_soft_secrets *sec, struct bg_soft_pstate *ps)
{
	if (blob != NULL && len > OFF_VERSION &&
	    blob[OFF_VERSION] != BG_SOFT_STATE_VERSION)
		return BG_ERR_UNSUPPORTED;
	return bg_soft_state_read_att(blob, len, sec, ps, NULL);
}

int
bg_soft_state_read_att(const uint8_t *blob, size_t len,
    struct bg_soft_secrets *sec, struct bg_soft_pstate *ps,
    struct bg_soft_att *att)
{
	int r = BG_ERR_PARSE;
	uint8_t flags;

	if (blob == NULL || sec == NULL || ps == NULL) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	if (att != NULL)
		memset(att, 0, sizeof(*att));
	if (len < BG_SOFT_STATE_LEN ||
	    memcmp(blob, BG_SOFT_STATE_MAGIC, BG_SOFT_STATE_MAGIC_LEN) != 0) /* public: format tag */
		goto out;
	if (blob[OFF_VERSION] == BG_SOFT_STATE_VERSION_ATT && att != NULL) {
		if ((r = read_att(blob, len, sec, att)) != BG_OK)
			goto out;
		r = BG_ERR_PARSE;
	} else if (blob[OFF_VERSION] != BG_SOFT_STATE_VERSION) {
		r = BG_ERR_UNSUPPORTED;
		goto out;
	} else if (len != BG_SOFT_STATE_LEN)
		goto out;
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
