/*
 * libFuzzer harness for the software authenticator's input: the fuzz input
 * is cut into 64-byte CTAPHID reports (the last one zero-padded) and fed
 * to the framing and the CTAP2 core, exactly as the socket daemon would.
 * Deterministic: randomness from a fixed seed, an in-memory save, a fake
 * clock that advances 7 ms per look, and touch always granted.  Channel 1
 * is allocated by an INIT before the input, so CBOR requests on CID 1 reach
 * the core directly (seeds in tests/fuzz/corpus/soft/).  When the input
 * ends in a partial report, its last byte % 3 picks the advertised PIN
 * protocols (0: both, 1: only 1, 2: only 2).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "breakglass/err.h"
#include "soft/ctaphid.h"
#include "soft/soft.h"

#define SAVED_MAX	65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz {
	uint64_t	 clock;
	uint64_t	 rnd_ctr;
	uint8_t		 saved[SAVED_MAX];
	size_t		 saved_len;
	bg_soft_t	*soft;
	bg_ctaphid_t	*hid;
	unsigned long	 sent;
};

static uint8_t *state0;
static size_t state0_len;

static void
fz_random(void *ctx, uint8_t *buf, size_t len)
{
	static const uint8_t seed[randombytes_SEEDBYTES] = { 0x42 };
	uint8_t s[randombytes_SEEDBYTES];
	uint64_t *ctr = ctx;
	uint64_t c = (*ctr)++;

	/* a different, reproducible stream per call */
	memcpy(s, seed, sizeof(s));
	memcpy(s + sizeof(s) - sizeof(c), &c, sizeof(c));
	randombytes_buf_deterministic(buf, len, s);
}

static void
fz_random_global(void *ctx, uint8_t *buf, size_t len)
{
	static uint64_t ctr;

	(void)ctx;
	fz_random(&ctr, buf, len);
}

static void
fz_random_env(void *ctx, uint8_t *buf, size_t len)
{
	struct fz *f = ctx;

	fz_random(&f->rnd_ctr, buf, len);
}

static int
fz_save(void *ctx, const uint8_t *blob, size_t len)
{
	struct fz *f = ctx;

	if (len > sizeof(f->saved))
		return BG_ERR_RANGE;
	memcpy(f->saved, blob, len);
	f->saved_len = len;
	return 0;
}

static uint64_t
fz_now(void *ctx)
{
	struct fz *f = ctx;

	f->clock += 7;
	return f->clock;
}

static int
fz_presence(void *ctx)
{
	struct fz *f = ctx;

	return bg_ctaphid_presence(f->hid);
}

static int
fz_send(void *ctx, const uint8_t *rep)
{
	struct fz *f = ctx;
	volatile uint8_t acc = 0;
	size_t i;

	/* read every byte, so sanitizers see what goes out */
	for (i = 0; i < BG_CTAPHID_REPORT_LEN; i++)
		acc ^= rep[i];
	(void)acc;
	f->sent++;
	return 0;
}

static int
fz_cbor(void *ctx, const uint8_t *req, size_t len, uint8_t *resp, size_t cap,
    size_t *resp_len)
{
	struct fz *f = ctx;

	return bg_soft_ctap2(f->soft, req, len, resp, cap, resp_len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t init[BG_CTAPHID_REPORT_LEN] = {
		0xff, 0xff, 0xff, 0xff, 0x86, 0x00, 0x08,
		1, 2, 3, 4, 5, 6, 7, 8,
	};
	struct fz f;
	bg_soft_env_t env;
	bg_ctaphid_io_t io;
	bg_soft_opts_t opts;
	uint8_t rep[BG_CTAPHID_REPORT_LEN];
	size_t off, n;

	if (state0 == NULL) {
		if (sodium_init() < 0 ||
		    bg_soft_state_create(fz_random_global, NULL, &state0,
		    &state0_len) != 0)
			abort();
	}
	memset(&f, 0, sizeof(f));
	f.clock = 1000;
	memset(&io, 0, sizeof(io));
	io.send = fz_send;
	io.now_ms = fz_now;
	io.ctx = &f;		/* policy NULL: touch granted */
	memset(&env, 0, sizeof(env));
	env.random = fz_random_env;
	env.save = fz_save;
	env.now_ms = fz_now;
	env.presence = fz_presence;
	env.ctx = &f;
	memset(&opts, 0, sizeof(opts));
	/* a trailing partial report picks the advertised PIN protocols */
	if (size % BG_CTAPHID_REPORT_LEN != 0 && data[size - 1] % 3 != 0)
		opts.pin_protocols = (uint8_t)(1u << (data[size - 1] % 3));
	if (bg_ctaphid_new(&io, fz_cbor, &f, &f.hid) != 0)
		abort();
	if (bg_soft_new(&env, &opts, state0, state0_len, &f.soft) != 0)
		abort();
	(void)bg_ctaphid_input(f.hid, init);
	for (off = 0; off < size; off += n) {
		n = size - off < sizeof(rep) ? size - off : sizeof(rep);
		memset(rep, 0, sizeof(rep));
		memcpy(rep, data + off, n);
		(void)bg_ctaphid_input(f.hid, rep);
		(void)bg_ctaphid_tick(f.hid);
	}
	bg_soft_free(&f.soft);
	bg_ctaphid_free(&f.hid);
	return 0;
}
