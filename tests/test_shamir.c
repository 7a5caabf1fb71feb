/*
 * Shamir over GF(2^8): field arithmetic against a naive reference,
 * known-answer vectors, every subset of up to 7 shares, and refusals.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

/*
 * The constant-time check runs the code under valgrind memcheck with the
 * secret bytes marked undefined: any branch on them, or any memory address
 * computed from them (a table look-up), is then reported as an error.
 * ASan and valgrind do not mix, so sanitizer builds cannot run it.
 */
#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define HAVE_MEMCHECK 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

#include "breakglass/err.h"
#include "shamir.h"

/* Carry-less multiply, then reduce by long division with 0x11b. */
static uint8_t
ref_mul(uint8_t a, uint8_t b)
{
	unsigned p = 0;
	int i;

	for (i = 0; i < 8; i++)
		if (b & (1u << i))
			p ^= (unsigned)a << i;
	for (i = 14; i >= 8; i--)
		if (p & (1u << i))
			p ^= 0x11bu << (i - 8);
	return (uint8_t)p;
}

/* Sum of coef[c] * x^c with powers computed from scratch. */
static uint8_t
ref_eval(const uint8_t *coef, unsigned ncoef, uint8_t x)
{
	uint8_t y = 0, pw;
	unsigned c, e;

	for (c = 0; c < ncoef; c++) {
		pw = 1;
		for (e = 0; e < c; e++)
			pw = ref_mul(pw, x);
		y ^= ref_mul(coef[c], pw);
	}
	return y;
}

/* Deterministic rng: a counter seeds randombytes_buf_deterministic. */
struct det_rng {
	uint64_t	 counter;
	size_t		 calls;
	size_t		 last_len;
};

static void
det_rng(void *ctx, void *buf, size_t len)
{
	struct det_rng *d = ctx;
	unsigned char seed[randombytes_SEEDBYTES];

	memset(seed, 0, sizeof(seed));
	memcpy(seed, &d->counter, sizeof(d->counter));
	d->counter++;
	d->calls++;
	d->last_len = len;
	randombytes_buf_deterministic(buf, len, seed);
}

/* Fixed bytes: returns the bytes in ctx in order. */
struct fixed_rng {
	const uint8_t	*bytes;
	size_t		 len;
	size_t		 used;
};

static void
fixed_rng(void *ctx, void *buf, size_t len)
{
	struct fixed_rng *f = ctx;

	assert_true(f->used + len <= f->len);
	memcpy(buf, f->bytes + f->used, len);
	f->used += len;
}

static void
test_mul_all_pairs(void **state)
{
	unsigned a, b, bad = 0;

	(void)state;
	for (a = 0; a < 256; a++)
		for (b = 0; b < 256; b++)
			if (bg_gf256_mul((uint8_t)a, (uint8_t)b) !=
			    ref_mul((uint8_t)a, (uint8_t)b))
				bad++;
	assert_int_equal(bad, 0);
	/* FIPS-197 section 4.2 examples */
	assert_int_equal(bg_gf256_mul(0x57, 0x83), 0xc1);
	assert_int_equal(bg_gf256_mul(0x57, 0x13), 0xfe);
}

static void
test_inv_all(void **state)
{
	unsigned a;

	(void)state;
	assert_int_equal(bg_gf256_inv(0), 0);
	for (a = 1; a < 256; a++)
		assert_int_equal(ref_mul((uint8_t)a,
		    bg_gf256_inv((uint8_t)a)), 1);
	/* FIPS-197 section 5.1.1: {53}^-1 = {ca} */
	assert_int_equal(bg_gf256_inv(0x53), 0xca);
}

/* Vectors worked out by hand: y = 0x42 + 5x; y = 1 + 2x + 3x^2. */
static void
test_known_answers(void **state)
{
	static const uint8_t c1[] = { 0x05 };
	static const uint8_t c2[] = { 0x02, 0x03 };
	static const uint8_t s1[] = { 0x42 }, s2[] = { 0x01 };
	static const uint8_t want1[] = { 0x47, 0x48, 0x4d };
	static const uint8_t want2[] = { 0x00, 0x09, 0x08 };
	struct fixed_rng f;
	uint8_t ys[3];

	(void)state;
	f = (struct fixed_rng){ c1, sizeof(c1), 0 };
	assert_int_equal(bg_shamir_split(s1, 1, 2, 3, ys, fixed_rng, &f),
	    BG_OK);
	assert_memory_equal(ys, want1, 3);
	assert_int_equal(f.used, 1);

	f = (struct fixed_rng){ c2, sizeof(c2), 0 };
	assert_int_equal(bg_shamir_split(s2, 1, 3, 3, ys, fixed_rng, &f),
	    BG_OK);
	assert_memory_equal(ys, want2, 3);
	assert_int_equal(f.used, 2);
}

/* Multi-byte vector checked by an independent evaluation. */
static void
test_known_answers_reference(void **state)
{
	enum { LEN = 16, K = 4, N = 9 };
	uint8_t secret[LEN], coefs[(K - 1) * LEN], ys[N * LEN], poly[K];
	struct fixed_rng f;
	unsigned i, j, c;

	(void)state;
	for (j = 0; j < LEN; j++)
		secret[j] = (uint8_t)(0xa0 + j * 7);
	for (j = 0; j < sizeof(coefs); j++)
		coefs[j] = (uint8_t)(j * 31 + 11);
	f = (struct fixed_rng){ coefs, sizeof(coefs), 0 };
	assert_int_equal(bg_shamir_split(secret, LEN, K, N, ys, fixed_rng,
	    &f), BG_OK);
	assert_int_equal(f.used, sizeof(coefs));
	for (i = 0; i < N; i++) {
		for (j = 0; j < LEN; j++) {
			poly[0] = secret[j];
			for (c = 1; c < K; c++)
				poly[c] = coefs[(c - 1) * LEN + j];
			assert_int_equal(ys[i * LEN + j],
			    ref_eval(poly, K, (uint8_t)(i + 1)));
		}
	}
}

static void
test_k1_copies(void **state)
{
	static const uint8_t s[] = { 1, 2, 3, 4 };
	struct det_rng d = { 0, 0, 0 };
	uint8_t ys[3 * 4];

	(void)state;
	assert_int_equal(bg_shamir_split(s, 4, 1, 3, ys, det_rng, &d), BG_OK);
	assert_int_equal(d.calls, 0);	/* no randomness for k = 1 */
	assert_memory_equal(ys, s, 4);
	assert_memory_equal(ys + 4, s, 4);
	assert_memory_equal(ys + 8, s, 4);
}

/* Every subset of n shares (n <= 7): >= k rebuilds, < k does not. */
static void
test_every_subset(void **state)
{
	enum { LEN = 32 };
	struct det_rng d = { 1000, 0, 0 };
	uint8_t secret[LEN], ys[7 * LEN], out[LEN], xs[7];
	const uint8_t *yp[7];
	unsigned n, k, mask, i, cnt;
	unsigned ok = 0, wrong = 0, bad = 0;

	(void)state;
	for (n = 1; n <= 7; n++) {
		for (k = 1; k <= n; k++) {
			det_rng(&d, secret, LEN);
			d.calls = 0;
			assert_int_equal(bg_shamir_split(secret, LEN, k, n, ys,
			    det_rng, &d), BG_OK);
			assert_int_equal(d.calls, k > 1 ? 1 : 0);
			if (k > 1)
				assert_int_equal(d.last_len, (k - 1) * LEN);
			for (mask = 1; mask < (1u << n); mask++) {
				cnt = 0;
				for (i = 0; i < n; i++) {
					if (!(mask & (1u << i)))
						continue;
					xs[cnt] = (uint8_t)(i + 1);
					yp[cnt] = ys + i * LEN;
					cnt++;
				}
				assert_int_equal(bg_shamir_combine(xs, yp, cnt,
				    LEN, out), BG_OK);
				if (cnt >= k) {
					if (sodium_memcmp(out, secret, LEN) == 0)
						ok++;
					else
						bad++;
				} else {
					if (sodium_memcmp(out, secret, LEN) != 0)
						wrong++;
					else
						bad++;
				}
			}
		}
	}
	assert_int_equal(bad, 0);
	assert_true(ok > 0 && wrong > 0);
}

/* The largest split: 255 shares, any 255 (all) or a few with small k. */
static void
test_max_shares(void **state)
{
	enum { LEN = 8 };
	static uint8_t ys[255 * LEN];
	uint8_t secret[LEN] = { 9, 8, 7, 6, 5, 4, 3, 2 }, out[LEN];
	uint8_t xs[255];
	const uint8_t *yp[255];
	unsigned i;

	(void)state;
	assert_int_equal(bg_shamir_split(secret, LEN, 255, 255, ys, NULL,
	    NULL), BG_OK);
	for (i = 0; i < 255; i++) {
		xs[i] = (uint8_t)(255 - i);	/* any order will do */
		yp[i] = ys + (254 - i) * LEN;
	}
	assert_int_equal(bg_shamir_combine(xs, yp, 255, LEN, out), BG_OK);
	assert_memory_equal(out, secret, LEN);
	assert_int_equal(bg_shamir_combine(xs, yp, 254, LEN, out), BG_OK);
	assert_memory_not_equal(out, secret, LEN);
}

static void
test_refusals(void **state)
{
	uint8_t secret[4] = { 1, 2, 3, 4 }, ys[3 * 4], out[4];
	uint8_t xs[3] = { 1, 2, 3 };
	const uint8_t *yp[3];
	size_t lens[3] = { 4, 4, 4 };

	(void)state;
	assert_int_equal(bg_shamir_split(secret, 4, 2, 3, ys, NULL, NULL),
	    BG_OK);
	yp[0] = ys;
	yp[1] = ys + 4;
	yp[2] = ys + 8;

	/* split arguments */
	assert_int_equal(bg_shamir_split(secret, 4, 0, 3, ys, NULL, NULL),
	    BG_ERR_INVALID_ARG);
	assert_int_equal(bg_shamir_split(secret, 4, 4, 3, ys, NULL, NULL),
	    BG_ERR_INVALID_ARG);
	assert_int_equal(bg_shamir_split(secret, 0, 2, 3, ys, NULL, NULL),
	    BG_ERR_INVALID_ARG);
	assert_int_equal(bg_shamir_split(secret, 4, 2, 256, ys, NULL, NULL),
	    BG_ERR_INVALID_ARG);
	assert_int_equal(bg_shamir_split(NULL, 4, 2, 3, ys, NULL, NULL),
	    BG_ERR_INVALID_ARG);
	assert_int_equal(bg_shamir_split(secret, 4, 2, 3, NULL, NULL, NULL),
	    BG_ERR_INVALID_ARG);
	/* a refused split leaves no share material behind */
	assert_true(sodium_is_zero(ys, sizeof(ys)));
	assert_int_equal(bg_shamir_split(secret, 4, 2, 3, ys, NULL, NULL),
	    BG_OK);

	/* count 0 */
	memset(out, 0xee, sizeof(out));
	assert_int_equal(bg_shamir_combine(xs, yp, 0, 4, out),
	    BG_ERR_INVALID_ARG);
	assert_true(sodium_is_zero(out, sizeof(out)));
	/* x = 0 */
	xs[1] = 0;
	assert_int_equal(bg_shamir_combine(xs, yp, 3, 4, out),
	    BG_ERR_INVALID_ARG);
	/* duplicate x */
	xs[1] = 3;
	assert_int_equal(bg_shamir_combine(xs, yp, 3, 4, out),
	    BG_ERR_INVALID_ARG);
	xs[1] = 2;
	/* len 0, NULL share */
	assert_int_equal(bg_shamir_combine(xs, yp, 3, 0, out),
	    BG_ERR_INVALID_ARG);
	yp[2] = NULL;
	assert_int_equal(bg_shamir_combine(xs, yp, 3, 4, out),
	    BG_ERR_INVALID_ARG);
	yp[2] = ys + 8;
	/* mismatched lengths */
	assert_int_equal(bg_shamir_combine_checked(xs, yp, lens, 3, 4, out),
	    BG_OK);
	assert_memory_equal(out, secret, 4);
	lens[1] = 3;
	assert_int_equal(bg_shamir_combine_checked(xs, yp, lens, 3, 4, out),
	    BG_ERR_INVALID_ARG);
	assert_true(sodium_is_zero(out, sizeof(out)));
	lens[1] = 5;
	assert_int_equal(bg_shamir_combine_checked(xs, yp, lens, 3, 4, out),
	    BG_ERR_INVALID_ARG);
	assert_int_equal(bg_shamir_combine_checked(xs, yp, NULL, 3, 4, out),
	    BG_ERR_INVALID_ARG);
}

/* Shares of two splits of the same secret do not mix. */
static void
test_foreign_shares(void **state)
{
	enum { LEN = 32 };
	uint8_t secret[LEN], a[3 * LEN], b[3 * LEN], out[LEN];
	uint8_t xs[2] = { 1, 2 };
	const uint8_t *yp[2];

	(void)state;
	randombytes_buf(secret, LEN);
	assert_int_equal(bg_shamir_split(secret, LEN, 2, 3, a, NULL, NULL),
	    BG_OK);
	assert_int_equal(bg_shamir_split(secret, LEN, 2, 3, b, NULL, NULL),
	    BG_OK);
	yp[0] = a;
	yp[1] = a + LEN;
	assert_int_equal(bg_shamir_combine(xs, yp, 2, LEN, out), BG_OK);
	assert_memory_equal(out, secret, LEN);
	yp[1] = b + LEN;
	assert_int_equal(bg_shamir_combine(xs, yp, 2, LEN, out), BG_OK);
	assert_memory_not_equal(out, secret, LEN);
	/* right share bytes under the wrong x */
	yp[1] = a + 2 * LEN;
	assert_int_equal(bg_shamir_combine(xs, yp, 2, LEN, out), BG_OK);
	assert_memory_not_equal(out, secret, LEN);
}

#if defined(HAVE_MEMCHECK) && !defined(UNDER_ASAN)
#define CT_ERROR_EXIT	42

static void
secret_rng(void *ctx, void *buf, size_t len)
{
	(void)ctx;
	randombytes_buf(buf, len);
	VALGRIND_MAKE_MEM_UNDEFINED(buf, len);
}

/* Child side: runs under valgrind, never looks at its results. */
static int
ct_child(const char *mode)
{
	static const uint8_t table[256] = { 1, 2, 3 };
	uint8_t secret[32], ys[5 * 32], out[32], xs[3] = { 1, 3, 5 };
	const uint8_t *yp[3];
	volatile uint8_t sink = 0;
	unsigned i;

	randombytes_buf(secret, sizeof(secret));
	VALGRIND_MAKE_MEM_UNDEFINED(secret, sizeof(secret));
	if (strcmp(mode, "leaky") == 0) {
		/* the positive control: a table look-up by a secret byte */
		sink = table[secret[0]];
		return 0;
	}
	for (i = 0; i < 32; i++) {
		sink ^= bg_gf256_mul(secret[i], secret[(i + 1) % 32]);
		sink ^= bg_gf256_inv(secret[i]);
	}
	if (bg_shamir_split(secret, 32, 3, 5, ys, secret_rng, NULL) != BG_OK)
		return 2;
	yp[0] = ys;
	yp[1] = ys + 2 * 32;
	yp[2] = ys + 4 * 32;
	if (bg_shamir_combine(xs, yp, 3, 32, out) != BG_OK)
		return 3;
	(void)sink;
	return 0;
}

/* Run argv; its exit status (127 if it could not start). */
static int
run(char *const argv[], const char *mode)
{
	pid_t pid;
	int status;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (mode != NULL && setenv("BG_CT_MODE", mode, 1) != 0)
			_exit(126);
		execvp(argv[0], argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/*
 * Run this program under valgrind in mode; its exit status.  valgrind 3.19
 * cannot read clang 14's DWARF 5, so it runs a copy without debug info.
 */
static int
run_ct(const char *mode)
{
	char self[4096], dir[] = "/tmp/bg-ct-XXXXXX", copy[4200];
	ssize_t n;
	int rc;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	assert_true(n > 0);
	self[n] = '\0';
	assert_non_null(mkdtemp(dir));
	assert_true(snprintf(copy, sizeof(copy), "%s/t", dir) <
	    (int)sizeof(copy));
	{
		char oc[] = "objcopy", sd[] = "--strip-debug";
		char vgn[] = "valgrind", q[] = "-q";
		char ee[] = "--error-exitcode=42", lc[] = "--leak-check=no";
		char *strip[] = { oc, sd, self, copy, NULL };
		char *vg[] = { vgn, q, ee, lc, copy, NULL };

		rc = run(strip, NULL);
		if (rc == 0)
			rc = run(vg, mode);
		else
			rc = -rc;
	}
	(void)unlink(copy);
	(void)rmdir(dir);
	return rc;
}

static void
test_constant_time(void **state)
{
	(void)state;
	/* the method sees a secret-indexed look-up ... */
	assert_int_equal(run_ct("leaky"), CT_ERROR_EXIT);
	/* ... and the field arithmetic and Shamir have none, nor branches */
	assert_int_equal(run_ct("clean"), 0);
}
#else
static void
test_constant_time(void **state)
{
	(void)state;
#if defined(UNDER_ASAN)
	print_message("constant-time check needs a build without ASan\n");
#else
	print_message("constant-time check needs valgrind (memcheck.h)\n");
#endif
	skip();
}
#endif

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mul_all_pairs),
		cmocka_unit_test(test_inv_all),
		cmocka_unit_test(test_known_answers),
		cmocka_unit_test(test_known_answers_reference),
		cmocka_unit_test(test_k1_copies),
		cmocka_unit_test(test_every_subset),
		cmocka_unit_test(test_max_shares),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_foreign_shares),
		cmocka_unit_test(test_constant_time),
	};

	if (sodium_init() < 0)
		return 1;
#if defined(HAVE_MEMCHECK) && !defined(UNDER_ASAN)
	if (getenv("BG_CT_MODE") != NULL)
		return ct_child(getenv("BG_CT_MODE"));
#endif
	return cmocka_run_group_tests_name("shamir", tests, NULL, NULL);
}
