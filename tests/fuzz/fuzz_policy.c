/*
 * libFuzzer harness for the policy parser.  Arbitrary bytes, as a
 * NUL-terminated string, go to bg_policy_parse(); whatever parses must have
 * a canonical text that re-parses to itself with the same hash, and must
 * evaluate, explain, split and combine consistently.  Anything refused must
 * carry a message and a position inside the text.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "breakglass/err.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fixed_rng(void *ctx, void *buf, size_t len)
{
	unsigned char seed[randombytes_SEEDBYTES] = { 0 };
	uint32_t *n = ctx;

	memcpy(seed, n, sizeof(*n));
	(*n)++;
	randombytes_buf_deterministic(buf, len, seed);
}

static void
check_subset(const bg_policy_t *p, const bool *have, const uint8_t *shares,
    const uint8_t *key)
{
	uint8_t out[BG_POLICY_KEY_LEN];
	char *s = NULL;
	bool sat;
	int r;

	sat = bg_policy_satisfied(p, have);
	if (bg_policy_missing(p, have, &s) != BG_OK)
		abort();
	if (sat != (strcmp(s, "nothing more is needed") == 0))
		abort();
	free(s);
	r = bg_policy_combine(p, have, shares, out);
	if (sat && (r != BG_OK || sodium_memcmp(out, key, sizeof(out)) != 0))
		abort();
	if (!sat && r != BG_ERR_DENIED)
		abort();
	sodium_memzero(out, sizeof(out));
}

static void
exercise(const bg_policy_t *p, const uint8_t *data, size_t size)
{
	size_t n = bg_policy_leaf_count(p), i, m;
	bool *have = NULL;
	uint8_t *shares = NULL, key[BG_POLICY_KEY_LEN];
	uint32_t ctr = (uint32_t)size;
	char *msg = NULL;
	int r;

	if (n == 0 || n > BG_POLICY_MAX_LEAVES)
		abort();
	for (i = 0; i < n; i++)
		if (bg_policy_leaf_name(p, i) == NULL ||
		    bg_policy_leaf_pos(p, i) == 0)
			abort();
	r = bg_policy_check_dual(p, &msg);
	if ((r == BG_OK) != (bg_policy_min_people(p) >= 2))
		abort();
	if ((r == BG_OK) != (msg == NULL))
		abort();
	free(msg);

	have = calloc(n, sizeof(*have));
	shares = malloc(n * BG_POLICY_SHARE_LEN);
	if (have == NULL || shares == NULL)
		goto out;
	fixed_rng(&ctr, key, sizeof(key));
	if (bg_policy_split(p, key, shares, fixed_rng, &ctr) != BG_OK)
		goto out;

	check_subset(p, have, shares, key);		/* nobody */
	if (bg_policy_satisfied(p, have))
		abort();
	for (i = 0; i < n; i++)
		have[i] = true;
	check_subset(p, have, shares, key);		/* everybody */
	if (!bg_policy_satisfied(p, have))
		abort();
	/* a few subsets picked by the input bytes */
	for (m = 0; m < 4 && m < size; m++) {
		for (i = 0; i < n; i++)
			have[i] = (data[(m * 7 + i) % size] >> (i % 8)) & 1u;
		check_subset(p, have, shares, key);
	}
out:
	sodium_memzero(key, sizeof(key));
	if (shares != NULL)
		sodium_memzero(shares, n * BG_POLICY_SHARE_LEN);
	free(shares);
	free(have);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	bg_policy_t *p = NULL, *q = NULL;
	bg_policy_error_t err;
	char *text;
	int r;

	if (!ready) {
		if (sodium_init() < 0)
			abort();
		ready = true;
	}
	if ((text = malloc(size + 1)) == NULL)
		return 0;
	if (size > 0)
		memcpy(text, data, size);
	text[size] = '\0';

	r = bg_policy_parse(text, &p, &err);
	if (r == BG_OK) {
		if (bg_policy_parse(bg_policy_canonical(p), &q, NULL) != BG_OK)
			abort();
		if (strcmp(bg_policy_canonical(p), bg_policy_canonical(q)) != 0)
			abort();
		if (memcmp(bg_policy_hash(p), bg_policy_hash(q), 32) != 0) /* public: policy hash */
			abort();
		exercise(p, data, size);
	} else if (r == BG_ERR_PARSE) {
		if (err.msg[0] == '\0' || err.pos > strlen(text) + 1)
			abort();
		/* The message may quote the expression: no control bytes. */
		for (const char *c = err.msg; *c != '\0'; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				abort();
	} else if (r != BG_ERR_NOMEM) {
		abort();
	}
	bg_policy_free(&q);
	bg_policy_free(&p);
	free(text);
	return 0;
}
