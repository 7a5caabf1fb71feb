/*
 * Re-key by redistribution, the arithmetic alone (vault/policy.h): for
 * generated pairs of policy trees over up to six approvers, a qualified
 * set of the old policy redistributes its shares to the new one without
 * anyone rebuilding the key; afterwards every qualified set of the new
 * policy rebuilds the key and no unqualified set qualifies, also after a
 * second re-key in a row.  Known-answer checks for the coefficients.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "breakglass/err.h"
#include "policy.h"
#include "shamir.h"

#define MAXL	6
#define SL	BG_POLICY_SHARE_LEN

static const char *const names[MAXL] = { "a", "b", "c", "d", "e", "f" };

/* A deterministic stream for the generator (not for keys). */
static uint32_t rs = 0x2545f491;
static uint32_t
rnd(uint32_t n)
{
	rs ^= rs << 13;
	rs ^= rs >> 17;
	rs ^= rs << 5;
	return rs % n;
}

/* A random tree over names[used..used+count) into buf. */
static void
gen(char *buf, size_t cap, size_t *used, size_t count, int depth)
{
	size_t nchild, i, left, take, len;
	size_t sizes[MAXL];
	unsigned k;

	if (count == 1) {
		len = strlen(buf);
		(void)snprintf(buf + len, cap - len, "%s", names[(*used)++]);
		return;
	}
	/* split count names over 2..count children */
	nchild = 2 + (depth > 1 ? count - 2 : rnd((uint32_t)(count - 1)));
	left = count;
	for (i = 0; i < nchild; i++) {
		take = i == nchild - 1 ? left : 1 + rnd((uint32_t)(left -
		    (nchild - i - 1)));
		sizes[i] = take;
		left -= take;
	}
	k = 1 + rnd((uint32_t)nchild);
	len = strlen(buf);
	(void)snprintf(buf + len, cap - len, "%u-of(", k);
	for (i = 0; i < nchild; i++) {
		if (i > 0) {
			len = strlen(buf);
			(void)snprintf(buf + len, cap - len, ",");
		}
		gen(buf, cap, used, sizes[i], depth + 1);
	}
	len = strlen(buf);
	(void)snprintf(buf + len, cap - len, ")");
}

static bg_policy_t *
random_policy(size_t nleaves)
{
	char buf[256] = "";
	size_t used = 0;
	bg_policy_t *p = NULL;

	gen(buf, sizeof(buf), &used, nleaves, 0);
	if (bg_policy_parse(buf, &p, NULL) != BG_OK)
		fail_msg("generated policy does not parse: %s", buf);
	return p;
}

/* have[] from a bit mask over the policy's leaves (by leaf index). */
static void
mask_have(size_t n, unsigned mask, bool *have)
{
	size_t i;

	for (i = 0; i < n; i++)
		have[i] = (mask >> i) & 1u;
}

/*
 * Redistribute: the old shares of a qualified set (the first qualified
 * mask found) become new shares under newp.  No key is ever rebuilt here.
 */
static void
redistribute(const bg_policy_t *oldp, const uint8_t *old_shares,
    const bg_policy_t *newp, uint8_t *new_shares)
{
	size_t no = bg_policy_leaf_count(oldp), nn = bg_policy_leaf_count(newp);
	bool have[MAXL], chosen[MAXL];
	uint8_t coeff[MAXL], u[SL], sub[MAXL * SL];
	unsigned mask;
	size_t i, j;

	for (mask = 1; mask < (1u << no); mask++) {
		mask_have(no, mask, have);
		if (bg_policy_satisfied(oldp, have))
			break;
	}
	assert_true(mask < (1u << no));
	assert_int_equal(bg_policy_coefficients(oldp, have, coeff, chosen),
	    BG_OK);
	memset(new_shares, 0, nn * SL);
	for (i = 0; i < no; i++) {
		if (!chosen[i])
			continue;
		assert_true(coeff[i] != 0);
		/* contributor i: scale, re-split, send sub-share j to j */
		bg_policy_scale(u, coeff[i], old_shares + i * SL);
		assert_int_equal(bg_policy_split(newp, u, sub, NULL, NULL),
		    BG_OK);
		for (j = 0; j < nn; j++)
			bg_policy_share_add(new_shares + j * SL, sub + j * SL);
	}
	/* the chosen set is minimal: dropping any member unqualifies it */
	for (i = 0; i < no; i++) {
		bool less[MAXL];

		if (!chosen[i])
			continue;
		memcpy(less, chosen, sizeof(less));
		less[i] = false;
		assert_false(bg_policy_satisfied(oldp, less));
	}
	sodium_memzero(u, sizeof(u));
	sodium_memzero(sub, sizeof(sub));
}

/* Every subset of newp's leaves: qualified ones rebuild key, others do
 * not qualify. */
static void
check_all_sets(const bg_policy_t *p, const uint8_t *shares,
    const uint8_t key[SL])
{
	size_t n = bg_policy_leaf_count(p);
	bool have[MAXL];
	uint8_t out[SL];
	unsigned mask;

	for (mask = 0; mask < (1u << n); mask++) {
		mask_have(n, mask, have);
		if (bg_policy_satisfied(p, have)) {
			assert_int_equal(bg_policy_combine(p, have, shares, out),
			    BG_OK);
			assert_memory_equal(out, key, SL);
		} else
			assert_int_equal(bg_policy_combine(p, have, shares,
			    out), BG_ERR_DENIED);
	}
}

static void
test_generated_pairs(void **state)
{
	bg_policy_t *p0 = NULL, *p1 = NULL, *p2 = NULL;
	uint8_t key[SL], s0[MAXL * SL], s1[MAXL * SL], s2[MAXL * SL];
	int round;

	(void)state;
	for (round = 0; round < 300; round++) {
		p0 = random_policy(1 + rnd(MAXL));
		p1 = random_policy(1 + rnd(MAXL));
		p2 = random_policy(1 + rnd(MAXL));
		randombytes_buf(key, sizeof(key));
		assert_int_equal(bg_policy_split(p0, key, s0, NULL, NULL),
		    BG_OK);
		redistribute(p0, s0, p1, s1);
		check_all_sets(p1, s1, key);
		/* a second re-key in a row, from the summed shares */
		redistribute(p1, s1, p2, s2);
		check_all_sets(p2, s2, key);
		bg_policy_free(&p0);
		bg_policy_free(&p1);
		bg_policy_free(&p2);
	}
	sodium_memzero(key, sizeof(key));
}

/* A contributor who sends garbage changes the rebuilt key. */
static void
test_garbage_contributor(void **state)
{
	bg_policy_t *p0 = NULL, *p1 = NULL;
	uint8_t key[SL], s0[4 * SL], s1[4 * SL], out[SL];
	bool have[4] = { true, true, false, false };

	(void)state;
	assert_int_equal(bg_policy_parse("2-of(a,b,c)", &p0, NULL), BG_OK);
	assert_int_equal(bg_policy_parse("all-of(1-of(a,b),1-of(c,d))", &p1,
	    NULL), BG_OK);
	randombytes_buf(key, sizeof(key));
	assert_int_equal(bg_policy_split(p0, key, s0, NULL, NULL), BG_OK);
	redistribute(p0, s0, p1, s1);
	have[2] = true;
	assert_int_equal(bg_policy_combine(p1, have, s1, out), BG_OK);
	assert_memory_equal(out, key, SL);
	s1[0] ^= 1;	/* a's new share carries a flipped bit */
	assert_int_equal(bg_policy_combine(p1, have, s1, out), BG_OK);
	assert_memory_not_equal(out, key, SL);
	bg_policy_free(&p0);
	bg_policy_free(&p1);
}

/* Known answers: 2-of(a,b,c) with a and b: x = 1, 2; lambda_1 = 2/(2^1)
 * = 2/3 and lambda_2 = 1/(1^2) = 1/3 in GF(2^8). */
static void
test_coefficients(void **state)
{
	bg_policy_t *p = NULL;
	bool have[3] = { true, true, true }, chosen[3];
	uint8_t c[3];

	(void)state;
	assert_int_equal(bg_policy_parse("2-of(a,b,c)", &p, NULL), BG_OK);
	assert_int_equal(bg_policy_coefficients(p, have, c, chosen), BG_OK);
	assert_true(chosen[0] && chosen[1] && !chosen[2]);
	assert_int_equal(c[0], bg_gf256_mul(2, bg_gf256_inv(3)));
	assert_int_equal(c[1], bg_gf256_inv(3));
	assert_int_equal(c[2], 0);
	have[0] = false;
	have[1] = false;
	assert_int_equal(bg_policy_coefficients(p, have, c, chosen),
	    BG_ERR_DENIED);
	bg_policy_free(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_coefficients),
		cmocka_unit_test(test_generated_pairs),
		cmocka_unit_test(test_garbage_contributor),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name("redist", tests, NULL, NULL);
}
