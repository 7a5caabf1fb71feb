/*
 * Physical floors: the libsodium primitives the vault is built from, timed
 * directly in this process.  Every other figure is read against these.
 *
 *   bench_floor        prints fig/note lines (see bench.h)
 */
#include <sodium.h>

#include "bench.h"

enum op {
	OP_X25519, OP_X25519_BASE, OP_SEAL, OP_SEAL_OPEN, OP_SIGN, OP_VERIFY,
	OP_SHA256, OP_BLAKE2B, OP_XCHACHA_1K, OP_XCHACHA_1K_OPEN, OP_COUNT
};

static const struct {
	const char	*label;
	size_t		 iters;		/* per round (full mode) */
	size_t		 bytes;		/* per iteration, for throughput */
} ops[OP_COUNT] = {
	[OP_X25519]		= { "X25519 scalarmult", 4000, 0 },
	[OP_X25519_BASE]	= { "X25519 scalarmult_base", 4000, 0 },
	[OP_SEAL]		= { "sealed box seal (32 B)", 2000, 0 },
	[OP_SEAL_OPEN]		= { "sealed box open (32 B)", 2000, 0 },
	[OP_SIGN]		= { "Ed25519 sign (64 B)", 4000, 0 },
	[OP_VERIFY]		= { "Ed25519 verify (64 B)", 2000, 0 },
	[OP_SHA256]		= { "SHA-256 (1 MiB blocks)", 64, 1u << 20 },
	[OP_BLAKE2B]		= { "BLAKE2b-256 (1 MiB blocks)", 64, 1u << 20 },
	[OP_XCHACHA_1K]		= { "XChaCha20-Poly1305 seal 1 KiB", 40000, 0 },
	[OP_XCHACHA_1K_OPEN]	= { "XChaCha20-Poly1305 open 1 KiB", 40000, 0 },
};

typedef struct ctx {
	uint8_t	 sk[32], pk[32], peer[32], out[32];
	uint8_t	 box_pk[crypto_box_PUBLICKEYBYTES];
	uint8_t	 box_sk[crypto_box_SECRETKEYBYTES];
	uint8_t	 sealed[32 + crypto_box_SEALBYTES], opened[32];
	uint8_t	 sign_pk[crypto_sign_PUBLICKEYBYTES];
	uint8_t	 sign_sk[crypto_sign_SECRETKEYBYTES];
	uint8_t	 msg[64], sig[crypto_sign_BYTES];
	uint8_t	*big;			/* 1 MiB */
	uint8_t	 aead_key[32], nonce[24];
	uint8_t	 pt[1024], ct[1024 + 16];
	volatile uint8_t sink;
} ctx_t;

static void
run_once(ctx_t *c, enum op op)
{
	unsigned long long clen = 0, plen = 0;

	switch (op) {
	case OP_X25519:
		if (crypto_scalarmult(c->out, c->sk, c->peer) != 0)
			bench_die("scalarmult");
		c->peer[0] ^= c->out[0];
		break;
	case OP_X25519_BASE:
		if (crypto_scalarmult_base(c->out, c->sk) != 0)
			bench_die("scalarmult_base");
		c->sk[1] ^= c->out[1];
		break;
	case OP_SEAL:
		if (crypto_box_seal(c->sealed, c->msg, 32, c->box_pk) != 0)
			bench_die("seal");
		break;
	case OP_SEAL_OPEN:
		if (crypto_box_seal_open(c->opened, c->sealed,
		    sizeof(c->sealed), c->box_pk, c->box_sk) != 0)
			bench_die("seal_open");
		break;
	case OP_SIGN:
		(void)crypto_sign_detached(c->sig, NULL, c->msg, sizeof(c->msg),
		    c->sign_sk);
		break;
	case OP_VERIFY:
		if (crypto_sign_verify_detached(c->sig, c->msg, sizeof(c->msg),
		    c->sign_pk) != 0)
			bench_die("verify");
		break;
	case OP_SHA256:
		crypto_hash_sha256(c->out, c->big, 1u << 20);
		break;
	case OP_BLAKE2B:
		(void)crypto_generichash(c->out, 32, c->big, 1u << 20, NULL, 0);
		break;
	case OP_XCHACHA_1K:
		(void)crypto_aead_xchacha20poly1305_ietf_encrypt(c->ct, &clen,
		    c->pt, sizeof(c->pt), NULL, 0, NULL, c->nonce, c->aead_key);
		break;
	case OP_XCHACHA_1K_OPEN:
		if (crypto_aead_xchacha20poly1305_ietf_decrypt(c->pt, &plen,
		    NULL, c->ct, sizeof(c->ct), NULL, 0, c->nonce,
		    c->aead_key) != 0)
			bench_die("aead open");
		break;
	default:
		bench_die("op %d", (int)op);
	}
	c->sink ^= c->out[0];
}

int
main(void)
{
	ctx_t *c = NULL;
	double samples[BENCH_MAX_ROUNDS];
	size_t rounds = bench_rounds(), i, k, iters;
	unsigned long long clen = 0;
	bench_stat_t st;
	double t0, per;
	int op;

	if (sodium_init() < 0)
		bench_die("sodium_init");
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->big = malloc(1u << 20)) == NULL)
		bench_die("out of memory");
	randombytes_buf(c->sk, sizeof(c->sk));
	randombytes_buf(c->big, 1u << 20);
	randombytes_buf(c->msg, sizeof(c->msg));
	randombytes_buf(c->pt, sizeof(c->pt));
	randombytes_buf(c->aead_key, sizeof(c->aead_key));
	randombytes_buf(c->nonce, sizeof(c->nonce));
	if (crypto_scalarmult_base(c->peer, c->sk) != 0 ||
	    crypto_box_keypair(c->box_pk, c->box_sk) != 0 ||
	    crypto_box_seal(c->sealed, c->msg, 32, c->box_pk) != 0 ||
	    crypto_sign_keypair(c->sign_pk, c->sign_sk) != 0 ||
	    crypto_sign_detached(c->sig, NULL, c->msg, sizeof(c->msg),
	    c->sign_sk) != 0 ||
	    crypto_aead_xchacha20poly1305_ietf_encrypt(c->ct, &clen, c->pt,
	    sizeof(c->pt), NULL, 0, NULL, c->nonce, c->aead_key) != 0)
		bench_die("setup");
	bench_note("floor", "libsodium %s, %zu rounds per figure",
	    sodium_version_string(), rounds);
	for (op = 0; op < OP_COUNT; op++) {
		iters = ops[op].iters / (bench_quick() ? 4 : 1);
		if (iters == 0)
			iters = 1;
		for (k = 0; k < 2; k++)		/* warm up */
			run_once(c, (enum op)op);
		for (i = 0; i < rounds; i++) {
			t0 = bench_now();
			for (k = 0; k < iters; k++)
				run_once(c, (enum op)op);
			per = (bench_now() - t0) / (double)iters;
			samples[i] = ops[op].bytes != 0 ?
			    (double)ops[op].bytes / per / 1e6 : per * 1e6;
		}
		st = bench_stat(samples, rounds);
		if (ops[op].bytes != 0) {
			/* Higher is better: report the spread the same way. */
			bench_fig("floor", ops[op].label, st, "MB/s");
		} else
			bench_fig("floor", ops[op].label, st, "us/op");
	}
	free(c->big);
	c->big = NULL;
	sodium_memzero(c, sizeof(*c));
	free(c);
	return 0;
}
