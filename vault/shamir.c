/*
 * Shamir secret sharing over GF(2^8), constant time in the secret data.
 *
 * Why no log/exp tables: a table indexed by a secret byte leaks it through
 * the cache.  Multiplication is shift-and-add where each conditional step is
 * an AND with an all-ones or all-zeros mask; inversion is a fixed chain of
 * multiplications (a^254).  Loops run a fixed number of times.  Only share
 * x coordinates, which are public, decide branches.
 */
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "breakglass/err.h"
#include "shamir.h"

uint8_t
bg_gf256_mul(uint8_t a, uint8_t b)
{
	uint32_t r = 0, x = a, y = b, mask;
	int i;

	for (i = 0; i < 8; i++) {
		mask = 0u - (y & 1u);
		r ^= x & mask;
		y >>= 1;
		/* x *= X, reduced by 0x11b when bit 7 was set */
		mask = 0u - ((x >> 7) & 1u);
		x = ((x << 1) ^ (0x11bu & mask)) & 0xffu;
	}
	return (uint8_t)r;
}

uint8_t
bg_gf256_inv(uint8_t a)
{
	uint8_t sq, r;
	int i;

	/* a^254 = a^2 * a^4 * ... * a^128; the group of units has order 255 */
	sq = bg_gf256_mul(a, a);
	r = sq;
	for (i = 0; i < 6; i++) {
		sq = bg_gf256_mul(sq, sq);
		r = bg_gf256_mul(r, sq);
	}
	return r;
}

static void
default_rng(void *ctx, void *buf, size_t len)
{
	(void)ctx;
	randombytes_buf(buf, len);
}

int
bg_shamir_split(const uint8_t *secret, size_t len, unsigned k, unsigned n,
    uint8_t *ys_out, bg_rng_fn *rng, void *rng_ctx)
{
	int r = BG_ERR_INTERNAL;
	uint8_t *coef = NULL;
	size_t ncoef = 0;

	if (k > 1 && k <= n && len != 0 && len <= SIZE_MAX / (k - 1)) {
		ncoef = (size_t)(k - 1) * len;
		if ((coef = sodium_malloc(ncoef)) == NULL) {
			r = BG_ERR_NOMEM;
			if (ys_out != NULL && n >= 1 &&
			    n <= BG_SHAMIR_MAX_SHARES && len <= SIZE_MAX / n)
				sodium_memzero(ys_out, len * n);
			goto out;
		}
	}
	r = bg_shamir_split_scratch(secret, len, k, n, ys_out, coef, rng,
	    rng_ctx);
out:
	if (coef != NULL)
		sodium_free(coef);
	return r;
}

int
bg_shamir_split_scratch(const uint8_t *secret, size_t len, unsigned k,
    unsigned n, uint8_t *ys_out, uint8_t *coef, bg_rng_fn *rng,
    void *rng_ctx)
{
	int r = BG_ERR_INTERNAL;
	size_t ncoef = 0, i, j;
	unsigned c;
	uint8_t x, y;

	if (secret == NULL || ys_out == NULL || len == 0 || k < 1 || n < k ||
	    n > BG_SHAMIR_MAX_SHARES || len > SIZE_MAX / n ||
	    (k > 1 && coef == NULL)) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	if (rng == NULL)
		rng = default_rng;

	if (k > 1) {
		if (len > SIZE_MAX / (k - 1)) {
			r = BG_ERR_INVALID_ARG;
			goto out;
		}
		ncoef = (size_t)(k - 1) * len;
		rng(rng_ctx, coef, ncoef);
	}

	for (i = 0; i < n; i++) {
		x = (uint8_t)(i + 1);
		for (j = 0; j < len; j++) {
			/* Horner: ((a_{k-1} x + a_{k-2}) x + ...) x + a_0 */
			y = 0;
			for (c = k - 1; c >= 1; c--)
				y = (uint8_t)(bg_gf256_mul(y, x) ^
				    coef[(size_t)(c - 1) * len + j]);
			y = (uint8_t)(bg_gf256_mul(y, x) ^ secret[j]);
			ys_out[i * len + j] = y;
		}
	}
	sodium_memzero(&y, sizeof(y));
	r = BG_OK;
out:
	if (coef != NULL && ncoef != 0)
		sodium_memzero(coef, ncoef);
	if (r != BG_OK && ys_out != NULL && len != 0 && n >= 1 &&
	    n <= BG_SHAMIR_MAX_SHARES && len <= SIZE_MAX / n)
		sodium_memzero(ys_out, len * n);
	return r;
}

int
bg_shamir_combine(const uint8_t *xs, const uint8_t *const *ys, size_t count,
    size_t len, uint8_t *secret_out)
{
	int r = BG_ERR_INTERNAL;
	uint8_t lag, num, den;
	size_t i, j, b;

	if (secret_out != NULL && len != 0)
		sodium_memzero(secret_out, len);
	if (xs == NULL || ys == NULL || secret_out == NULL || count == 0 ||
	    count > BG_SHAMIR_MAX_SHARES || len == 0) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	/* public: x coordinates may steer branches */
	for (i = 0; i < count; i++) {
		if (xs[i] == 0 || ys[i] == NULL) {
			r = BG_ERR_INVALID_ARG;
			goto out;
		}
		for (j = 0; j < i; j++) {
			if (xs[j] == xs[i]) {
				r = BG_ERR_INVALID_ARG;
				goto out;
			}
		}
	}

	for (i = 0; i < count; i++) {
		/* Lagrange basis at 0: prod_{j != i} x_j / (x_j - x_i);
		 * subtraction is XOR in GF(2^8) */
		num = 1;
		den = 1;
		for (j = 0; j < count; j++) {
			if (j == i)
				continue;
			num = bg_gf256_mul(num, xs[j]);
			den = bg_gf256_mul(den, (uint8_t)(xs[j] ^ xs[i]));
		}
		lag = bg_gf256_mul(num, bg_gf256_inv(den));
		for (b = 0; b < len; b++)
			secret_out[b] = (uint8_t)(secret_out[b] ^
			    bg_gf256_mul(lag, ys[i][b]));
	}
	r = BG_OK;
out:
	return r;
}

int
bg_shamir_combine_checked(const uint8_t *xs, const uint8_t *const *ys,
    const size_t *ylens, size_t count, size_t len, uint8_t *secret_out)
{
	int r = BG_ERR_INTERNAL;
	size_t i;

	if (secret_out != NULL && len != 0)
		sodium_memzero(secret_out, len);
	if (ylens == NULL || count > BG_SHAMIR_MAX_SHARES) {
		r = BG_ERR_INVALID_ARG;
		goto out;
	}
	for (i = 0; i < count; i++) {
		if (ylens[i] != len) {
			r = BG_ERR_INVALID_ARG;
			goto out;
		}
	}
	r = bg_shamir_combine(xs, ys, count, len, secret_out);
out:
	return r;
}
