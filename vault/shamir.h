/*
 * breakglass vault: Shamir secret sharing over GF(2^8).
 *
 * Field: GF(2^8) with the AES reduction polynomial x^8+x^4+x^3+x+1 (0x11b).
 * Sharing is byte-wise: byte j of the secret is the constant term of its
 * own random polynomial of degree k-1, and share i holds that polynomial
 * evaluated at x = i+1 for every byte.
 *
 * Constant time: the arithmetic on secret bytes (shares, coefficients,
 * the secret) uses no table look-ups and no branches that depend on them.
 * Share x coordinates are public and may steer branches.
 *
 * Every int-returning function returns BG_OK or a negative BG_ERR_* code
 * (include/breakglass/err.h).  Outputs are left zeroed on failure.
 */
#ifndef BG_SHAMIR_H
#define BG_SHAMIR_H

#include <stddef.h>
#include <stdint.h>

#define BG_SHAMIR_MAX_SHARES	255	/* x runs 1..255 */

/*
 * A source of random bytes: fill buf with len bytes.  Used by the splitting
 * functions here and in policy.h; NULL means libsodium's randombytes_buf().
 * Tests pass a deterministic one for known-answer vectors.
 */
typedef void bg_rng_fn(void *ctx, void *buf, size_t len);

/* Field arithmetic, exposed for tests.  Constant time in a and b.
 * bg_gf256_inv(0) is 0 (a^254 of 0). */
uint8_t	bg_gf256_mul(uint8_t a, uint8_t b);
uint8_t	bg_gf256_inv(uint8_t a);

/*
 * Split secret (len bytes, len >= 1) into n shares, any k of which rebuild
 * it: 1 <= k <= n <= 255.  Share i (0-based) has x = i+1 and its len
 * y-bytes at ys_out + i*len; ys_out must hold n*len bytes (the caller's
 * memory: put it in sodium_malloc memory if the shares stay secret).
 *
 * Randomness: exactly one call rng(rng_ctx, buf, (k-1)*len) (none when
 * k == 1); coefficient c (1..k-1) of the polynomial for byte j is
 * buf[(c-1)*len + j].  The coefficients are wiped as soon as the shares
 * are computed.
 *
 * Returns BG_OK; BG_ERR_INVALID_ARG (NULL pointer, len 0, k or n out of
 * range); BG_ERR_NOMEM.  On failure ys_out is zeroed.
 */
int	bg_shamir_split(const uint8_t *secret, size_t len, unsigned k,
	    unsigned n, uint8_t *ys_out, bg_rng_fn *rng, void *rng_ctx);

/*
 * The same with the caller's memory for the coefficients: coef holds
 * (k-1)*len bytes of sodium_malloc memory (NULL when k == 1), so that a
 * caller splitting many times pays for one guarded allocation, not one
 * per split.  coef is wiped before return.  Same results and errors.
 */
int	bg_shamir_split_scratch(const uint8_t *secret, size_t len,
	    unsigned k, unsigned n, uint8_t *ys_out, uint8_t *coef,
	    bg_rng_fn *rng, void *rng_ctx);

/*
 * Rebuild the secret from count shares by Lagrange interpolation at x = 0:
 * share i is (xs[i], ys[i][0..len-1]).  secret_out receives len bytes.
 * Any count >= k shares of one split give the secret; fewer, or shares of
 * different splits, give a wrong value that is not detected here (the AEAD
 * that uses the secret detects it).
 *
 * Returns BG_OK; BG_ERR_INVALID_ARG for a NULL pointer, count 0 or > 255,
 * len 0, an x of 0, or the same x twice.  On failure secret_out is zeroed.
 */
int	bg_shamir_combine(const uint8_t *xs, const uint8_t *const *ys,
	    size_t count, size_t len, uint8_t *secret_out);

/*
 * As bg_shamir_combine(), for shares whose lengths come from storage:
 * ylens[i] is the length of ys[i]; each must equal len, else
 * BG_ERR_INVALID_ARG.
 */
int	bg_shamir_combine_checked(const uint8_t *xs, const uint8_t *const *ys,
	    const size_t *ylens, size_t count, size_t len,
	    uint8_t *secret_out);

#endif /* BG_SHAMIR_H */
