/*
 * libFuzzer harness for token replies reaching the token layer
 * (tokenctl/token.c through libfido2): the fuzz input is the CTAP2 reply
 * (status byte + CBOR) a token sends to one request.
 *
 *   data[0] % 4 picks the operation and the request whose reply is
 *   replaced:  0 getInfo (bg_token_probe, and the getInfo of the open),
 *              1 getAssertion (bg_token_assert with PIN and hmac-secret),
 *              2 makeCredential (bg_token_enroll),
 *              3 clientPIN (any of its replies during bg_token_assert).
 *   data[1..]  the reply, re-framed into CTAPHID reports (so the framing
 *              is always consistent and only the message is fuzzed).
 *
 * Every other request is answered by a real in-process software token
 * (deterministic randomness), enrolled once with an EdDSA credential.
 * Invariants: no crash, no leak, and bg_token_assert() never returns
 * BG_OK unless the signature verifies under the enrolled key over the
 * returned authData and our clientDataHash (checked here independently
 * with libsodium) with the UP and UV flags set and a 32-byte hmac-secret.
 *
 * Seeds in tests/fuzz/corpus/token_reply/ are real replies captured with
 * FUZZ_TOKEN_REPLY_CAPTURE=DIR (the reply passes through and is written to
 * DIR as a seed for its mode).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "breakglass/err.h"
#include "breakglass/token.h"
#include "soft/inproc.h"

#define RP		"fuzz.example"
#define PIN		"1234"
#define HID_CBOR	0x90
#define MSG_CAP		(57 + 128 * 59)	/* largest CTAPHID message */
#define Q_MAX		(MSG_CAP / 59 + 4)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__asan_default_options(void);

/*
 * quarantine: every input opens a token and a software token whose buffers
 * are large, and ASan's default 256 MiB quarantine of freed memory made RSS
 * grow (measured: no growth with the quarantine off, so nothing leaks); a
 * smaller one still catches use-after-free of recent inputs.
 * max_allocation_size_mb: libcbor 0.8 (inside libfido2's reply parsing)
 * allocates what a CBOR array head declares before reading the items, so
 * a reply of a few bytes asks malloc for gigabytes (found by this harness;
 * see docs/security.md).  Such a malloc fails on a real host too; here it
 * returns NULL as it would there, and the layer must fail cleanly.
 */
const char *
__asan_default_options(void)
{
	return "quarantine_size_mb=16:max_allocation_size_mb=256:"
	    "allocator_may_return_null=1";
}

static const uint8_t *reply;		/* the fuzz input's reply */
static size_t reply_len;
static uint8_t target_cmd;		/* CTAP command whose replies we replace */
static const char *capture_dir;
static unsigned capture_n;
static uint8_t capture_mode;

struct relay {
	void	*inner;
	uint8_t	 q[Q_MAX][64];
	size_t	 qhead, qlen;
	uint8_t	 last_cmd;
};

static void
det_random(void *ctx, uint8_t *buf, size_t len)
{
	static const uint8_t seed[randombytes_SEEDBYTES] = { 0x5a };
	uint8_t s[randombytes_SEEDBYTES];
	uint64_t *ctr = ctx, c = (*ctr)++;

	memcpy(s, seed, sizeof(s));
	memcpy(s + sizeof(s) - sizeof(c), &c, sizeof(c));
	randombytes_buf_deterministic(buf, len, s);
}

static void *
relay_open(const char *path)
{
	struct relay *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	if ((r->inner = bg_soft_inproc_io()->open(path)) == NULL) {
		free(r);
		return NULL;
	}
	return r;
}

static void
relay_close(void *h)
{
	struct relay *r = h;

	bg_soft_inproc_io()->close(r->inner);
	free(r);
}

static int
relay_write(void *h, const unsigned char *buf, size_t len)
{
	struct relay *r = h;

	if (len >= 9 && buf[5] == HID_CBOR)
		r->last_cmd = buf[8];
	return bg_soft_inproc_io()->write(r->inner, buf, len);
}

static void
push(struct relay *r, const uint8_t pkt[64])
{
	if (r->qlen < Q_MAX) {
		memcpy(r->q[(r->qhead + r->qlen) % Q_MAX], pkt, 64);
		r->qlen++;
	}
}

static void
capture(const uint8_t *msg, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/mode%u-%u", capture_dir,
	    (unsigned)capture_mode, capture_n++);
	if ((f = fopen(path, "wb")) == NULL)
		return;
	(void)fwrite(&capture_mode, 1, 1, f);
	(void)fwrite(msg, 1, len, f);
	(void)fclose(f);
}

/* Read the real reply (init report pkt), swap in the fuzz reply, frame. */
static int
relay_message(struct relay *r, const uint8_t pkt[64], int ms)
{
	static uint8_t msg[MSG_CAP];
	uint8_t out[64], c[64], seq = 0;
	const uint8_t *m;
	size_t total, have, n, off;

	total = (size_t)pkt[5] << 8 | pkt[6];
	if (total > sizeof(msg))
		return -1;
	have = total < 57 ? total : 57;
	memcpy(msg, pkt + 7, have);
	while (have < total) {
		if (bg_soft_inproc_io()->read(r->inner, c, 64, ms) != 64 ||
		    c[4] != seq)
			return -1;
		seq++;
		n = total - have < 59 ? total - have : 59;
		memcpy(msg + have, c + 5, n);
		have += n;
	}
	if (capture_dir != NULL) {
		capture(msg, total);
		m = msg;
	} else {
		m = reply;
		total = reply_len;
	}
	memset(out, 0, sizeof(out));
	memcpy(out, pkt, 4);
	out[4] = HID_CBOR;
	out[5] = (uint8_t)(total >> 8);
	out[6] = (uint8_t)total;
	n = total < 57 ? total : 57;
	memcpy(out + 7, m, n);
	push(r, out);
	for (off = n, seq = 0; off < total; ) {
		memset(out, 0, sizeof(out));
		memcpy(out, pkt, 4);
		out[4] = seq++;
		n = total - off < 59 ? total - off : 59;
		memcpy(out + 5, m + off, n);
		off += n;
		push(r, out);
	}
	return 0;
}

static int
relay_read(void *h, unsigned char *buf, size_t len, int ms)
{
	struct relay *r = h;
	uint8_t pkt[64];
	int n;

	if (r->qlen == 0) {
		n = bg_soft_inproc_io()->read(r->inner, pkt, sizeof(pkt), ms);
		if (n != 64)
			return n;
		if (pkt[4] == HID_CBOR && target_cmd != 0 &&
		    r->last_cmd == target_cmd) {
			if (relay_message(r, pkt, ms) != 0)
				return -1;
		} else {
			push(r, pkt);
		}
	}
	if (r->qlen == 0 || len < 64)
		return -1;
	memcpy(buf, r->q[r->qhead], 64);
	r->qhead = (r->qhead + 1) % Q_MAX;
	r->qlen--;
	return 64;
}

static const bg_token_io_t relay_io = {
	relay_open, relay_close, relay_read, relay_write,
};

/*
 * The token's state just after enrollment, and its credential, made once;
 * every input starts from a fresh token loaded from that state, so that a
 * fuzzed clientPIN reply that costs a PIN retry cannot carry over.
 */
static uint8_t *state0;
static size_t state0_len;
static bg_token_cred_t *cred;
static uint64_t rnd_ctr;

static void
soft_opts(bg_soft_inproc_opts_t *o)
{
	memset(o, 0, sizeof(*o));
	o->random = det_random;
	o->random_ctx = &rnd_ctr;
}

static void
init_once(void)
{
	bg_soft_inproc_opts_t o;
	bg_soft_inproc_t *ip = NULL;
	bg_token_t *tok = NULL;

	if (state0 != NULL)
		return;
	if (bg_token_init() != BG_OK)
		abort();
	capture_dir = getenv("FUZZ_TOKEN_REPLY_CAPTURE");
	soft_opts(&o);
	target_cmd = 0;
	if (bg_soft_inproc_new(&o, NULL, 0, &ip) != 0 ||
	    bg_token_open_io(bg_soft_inproc_path(ip), &relay_io, &tok) !=
	    BG_OK ||
	    bg_token_pin_set(tok, PIN) != BG_OK ||
	    bg_token_enroll(tok, RP, "fuzz", BG_TOKEN_EDDSA, PIN, &cred) !=
	    BG_OK)
		abort();
	bg_token_close(&tok);
	if (bg_soft_inproc_state(ip, &state0, &state0_len) != 0)
		abort();
	bg_soft_inproc_free(&ip);
}

/* The independent check of an accepted assertion. */
static void
check_accepted(const bg_token_assertion_t *a, const uint8_t *cdh)
{
	uint8_t msg[4096];

	if (a->authdata == NULL || a->authdata_len < 37 ||
	    a->authdata_len + 32 > sizeof(msg) || a->sig == NULL ||
	    a->sig_len != crypto_sign_BYTES || a->hmac_secret == NULL ||
	    (a->authdata[32] & 0x05) != 0x05 || a->flags != a->authdata[32])
		abort();
	memcpy(msg, a->authdata, a->authdata_len);
	memcpy(msg + a->authdata_len, cdh, 32);
	if (crypto_sign_verify_detached(a->sig, msg, a->authdata_len + 32,
	    cred->pubkey) != 0)
		abort();	/* accepted with a bad signature */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t cmds[4] = { 0x04, 0x02, 0x01, 0x06 };
	bg_soft_inproc_opts_t o;
	bg_soft_inproc_t *ip = NULL;
	bg_token_t *tok = NULL;
	bg_token_features_t feat;
	bg_token_assertion_t *a = NULL;
	bg_token_cred_t *c = NULL;
	uint8_t cdh[BG_TOKEN_CDH_LEN], salt[BG_TOKEN_SALT_LEN];
	int r;

	init_once();
	if (size < 1 || size - 1 > MSG_CAP)
		return 0;
	capture_mode = data[0] % 4;
	target_cmd = cmds[capture_mode];
	reply = data + 1;
	reply_len = size - 1;
	memset(cdh, 0xcd, sizeof(cdh));
	memset(salt, 0x5a, sizeof(salt));

	soft_opts(&o);
	rnd_ctr = 1000;
	if (bg_soft_inproc_new(&o, state0, state0_len, &ip) != 0)
		abort();
	r = bg_token_open_io(bg_soft_inproc_path(ip), &relay_io, &tok);
	if (r != BG_OK)
		goto out;
	(void)bg_token_set_timeout(tok, 200);
	switch (capture_mode) {
	case 0:
		(void)bg_token_probe(tok, &feat);
		break;
	case 2:
		if (bg_token_enroll(tok, RP, "fuzz2", BG_TOKEN_EDDSA, PIN,
		    &c) == BG_OK && (c->id == NULL || c->pubkey == NULL))
			abort();
		break;
	default:
		r = bg_token_assert(tok, RP, cred->id, cred->id_len, cred->alg,
		    cred->pubkey, cred->pubkey_len, cdh, salt, PIN, &a);
		if (r == BG_OK)
			check_accepted(a, cdh);
		else if (a != NULL)
			abort();	/* output set on failure */
		break;
	}
out:
	target_cmd = 0;
	bg_token_assertion_free(&a);
	bg_token_cred_free(&c);
	bg_token_close(&tok);
	bg_soft_inproc_free(&ip);
	return 0;
}
